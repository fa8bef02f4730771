//! The dereference phase: for one object, a [`Snapshot`] of exactly the objects its decisions read,
//! from the reflector stores, plus the transport-certificate Secrets (cached by resourceVersion,
//! read from the API when it changes). The decide, status and render phases then run on it
//! unchanged from `shep render`.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::core::DeserializeGuard;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};

use super::context::{Context, Error};
use crate::api::Contour;
use crate::api::{InformationSystem, IntegrationService, ServiceConnection, TechWindow};
use crate::render::credentials;
use crate::snapshot::{Key, Snapshot, key_of};

/// The well-formed object `key` of a store, cloned.
fn stored<K>(store: &Store<DeserializeGuard<K>>, key: &Key) -> Option<K>
where
    K: Resource<DynamicType = ()> + Clone,
    DeserializeGuard<K>: Resource<DynamicType = ()>,
{
    store
        .get(&ObjectRef::new(&key.1).within(&key.0))
        .and_then(|g| g.0.as_ref().ok().cloned())
}

/// An object's namespace, borrowed (this runs for every object of a store on every event).
pub(super) fn ns_of<K: Resource>(o: &K) -> &str {
    o.meta().namespace.as_deref().unwrap_or_default()
}

/// Whether connection `c` refers to the service `ns/name`, without allocating.
pub(super) fn refers_to(c: &ServiceConnection, ns: &str, name: &str) -> bool {
    c.spec.service_ref.name == name && c.spec.service_ref.namespace_or(ns_of(c)) == ns
}

/// The well-formed objects of a store, by reference: a reconcile clones only what it selects.
fn valid<K>(guards: &[std::sync::Arc<DeserializeGuard<K>>]) -> Vec<&K> {
    guards.iter().filter_map(|g| g.0.as_ref().ok()).collect()
}

/// What a snapshot should contain, gathered before anything is cloned.
#[derive(Default)]
struct Wanted {
    systems: BTreeSet<Key>,
    services: BTreeSet<Key>,
    connections: BTreeSet<Key>,
    windows: BTreeSet<Key>,
}

impl Context {
    fn service_closure(
        &self,
        svc: &IntegrationService,
        w: &mut Wanted,
        services: &[&IntegrationService],
        windows: &[&TechWindow],
    ) {
        let k = key_of(svc);
        w.services.insert(k.clone());
        w.systems
            .insert((k.0.clone(), svc.spec.system_ref.name.clone()));
        // Services with the same key decide which one holds it.
        for other in services
            .iter()
            .filter(|o| o.spec.service_key == svc.spec.service_key)
        {
            w.services.insert(key_of(*other));
        }
        for win in windows.iter().filter(|win| {
            win.meta().namespace.as_deref() == Some(k.0.as_str())
                && (win.spec.targets.services.iter().any(|s| s.name == k.1)
                    || win
                        .spec
                        .targets
                        .system
                        .as_ref()
                        .is_some_and(|s| s.name == svc.spec.system_ref.name))
        }) {
            w.windows.insert(key_of(*win));
        }
    }

    fn add_connection(&self, c: &ServiceConnection, w: &mut Wanted) {
        let k = key_of(c);
        w.systems
            .insert((k.0.clone(), c.spec.system_ref.name.clone()));
        w.connections.insert(k);
    }

    /// Reads an object the store does not have (yet) from the API: a reference that the cache has
    /// not caught up with must not be reported, or journaled, as missing.
    async fn fetch<K>(&self, key: &Key) -> Result<Option<K>, Error>
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), &key.0);
        match api.get_opt(&key.1).await {
            Ok(o) => Ok(o),
            // An object that exists but does not deserialize is as good as missing here.
            Err(kube::Error::SerdeError(_)) => Ok(None),
            Err(source) => Err(Error::Dereference {
                object: format!("{} {}/{}", K::kind(&()), key.0, key.1),
                source,
            }),
        }
    }

    /// Builds the snapshot of the wanted objects: from the stores by key, from the API what the
    /// stores lack, and the systems' certificate Secrets through [`Self::certificate`].
    async fn build(&self, w: Wanted) -> Result<Snapshot, Error> {
        let mut snap = Snapshot::default();
        // Direct lookups by key: a reconcile's cost must not grow with the registry.
        for k in &w.systems {
            if let Some(o) = stored(&self.stores.systems, k) {
                snap.add_system(o);
            }
        }
        for k in &w.services {
            if let Some(o) = stored(&self.stores.services, k) {
                snap.add_service(o);
            }
        }
        for k in &w.connections {
            if let Some(o) = stored(&self.stores.connections, k) {
                snap.add_connection(o);
            }
        }
        for k in &w.windows {
            if let Some(o) = stored(&self.stores.windows, k) {
                snap.add_window(o);
            }
        }
        let missing: Vec<Key> = w
            .systems
            .iter()
            .filter(|k| !snap.systems.contains_key(*k))
            .cloned()
            .collect();
        for k in &missing {
            if let Some(o) = self.fetch::<InformationSystem>(k).await? {
                snap.add_system(o);
            }
        }
        let missing: Vec<Key> = w
            .services
            .iter()
            .filter(|k| !snap.services.contains_key(*k))
            .cloned()
            .collect();
        for k in &missing {
            if let Some(o) = self.fetch::<IntegrationService>(k).await? {
                snap.add_service(o);
            }
        }
        // Issued credentials of the connections in the snapshot, by their names.
        for (ns, conn) in &w.connections {
            for c in Contour::ALL {
                let name = credentials::secret_name(conn, c);
                if let Some(s) = self
                    .stores
                    .credentials
                    .get(&ObjectRef::new(&name).within(ns))
                {
                    snap.add_secret((*s).clone());
                }
            }
        }
        // Transport certificates: the operator watches every Secret's metadata only, and keeps
        // the data of the certificate Secrets systems reference, read from the API the first time
        // and again whenever the metadata shows another resourceVersion.
        let certs: Vec<Key> = snap
            .systems
            .iter()
            .filter_map(|(k, s)| {
                s.spec
                    .transport_certificate
                    .as_ref()
                    .map(|t| (k.0.clone(), t.secret_ref.name.clone()))
            })
            .collect();
        for key in certs {
            if let Some(s) = self.certificate(&key).await? {
                snap.add_secret(s);
            }
        }
        Ok(snap)
    }

    /// A referenced transport-certificate Secret: from the cache when the metadata store shows the
    /// cached resourceVersion, else from the API (and cached). A Secret the API does not have is
    /// missing, and the policy reports the certificate as such (App.3: the transport EDS certificate
    /// is part of the system's registration).
    async fn certificate(&self, key: &Key) -> Result<Option<Secret>, Error> {
        let listed = self
            .stores
            .secret_versions
            .get(&ObjectRef::new(&key.1).within(&key.0))
            .and_then(|m| m.metadata.resource_version.clone());
        if let Some(rv) = &listed {
            let cache = self.certificates.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(s) = cache
                .get(key)
                .filter(|s| s.metadata.resource_version.as_ref() == Some(rv))
            {
                self.metrics.read("certificate", "cache");
                return Ok(Some(s.clone()));
            }
        }
        self.metrics.read("certificate", "api");
        let api: Api<Secret> = Api::namespaced(self.client.clone(), &key.0);
        let got = api
            .get_opt(&key.1)
            .await
            .map_err(|source| Error::Dereference {
                object: format!("Secret {}/{}", key.0, key.1),
                source,
            })?;
        let mut cache = self.certificates.lock().unwrap_or_else(|p| p.into_inner());
        match &got {
            Some(s) => {
                let mut kept = s.clone();
                kept.metadata.managed_fields = None;
                cache.insert(key.clone(), kept);
            }
            None => {
                cache.remove(key);
            }
        }
        Ok(got)
    }

    /// The snapshot an InformationSystem's decisions read.
    pub async fn system_snapshot(&self, key: &Key) -> Result<Snapshot, Error> {
        let services_g = self.stores.services.state();
        let services = valid(&services_g);
        let connections_g = self.stores.connections.state();
        let connections = valid(&connections_g);
        let mut w = Wanted::default();
        w.systems.insert(key.clone());
        for s in services.iter().filter(|s| {
            s.meta().namespace.as_deref() == Some(key.0.as_str()) && s.spec.system_ref.name == key.1
        }) {
            w.services.insert(key_of(*s));
        }
        for c in connections.iter().filter(|c| {
            c.meta().namespace.as_deref() == Some(key.0.as_str()) && c.spec.system_ref.name == key.1
        }) {
            w.connections.insert(key_of(*c));
        }
        self.build(w).await
    }

    /// The snapshot an IntegrationService's decisions, status and route children read.
    pub async fn service_snapshot(&self, svc: &IntegrationService) -> Result<Snapshot, Error> {
        let services_g = self.stores.services.state();
        let services = valid(&services_g);
        let connections_g = self.stores.connections.state();
        let connections = valid(&connections_g);
        let windows_g = self.stores.windows.state();
        let windows = valid(&windows_g);
        let mut w = Wanted::default();
        self.service_closure(svc, &mut w, &services, &windows);
        let k = key_of(svc);
        for c in connections.iter().filter(|c| refers_to(c, &k.0, &k.1)) {
            self.add_connection(c, &mut w);
        }
        self.build(w).await
    }

    /// The snapshot a ServiceConnection's decisions, status and credentials read.
    pub async fn connection_snapshot(&self, conn: &ServiceConnection) -> Result<Snapshot, Error> {
        let services_g = self.stores.services.state();
        let services = valid(&services_g);
        let windows_g = self.stores.windows.state();
        let windows = valid(&windows_g);
        let mut w = Wanted::default();
        self.add_connection(conn, &mut w);
        let own_ns = conn.namespace().unwrap_or_default();
        let svc_key = (
            conn.spec.service_ref.namespace_or(&own_ns).to_string(),
            conn.spec.service_ref.name.clone(),
        );
        let svc = match stored(&self.stores.services, &svc_key) {
            None => self.fetch::<IntegrationService>(&svc_key).await?,
            found => found,
        };
        if let Some(svc) = &svc {
            self.service_closure(svc, &mut w, &services, &windows);
        }
        self.build(w).await
    }

    /// The snapshot a TechWindow's decisions read.
    pub async fn window_snapshot(&self, win: &TechWindow) -> Result<Snapshot, Error> {
        let services_g = self.stores.services.state();
        let services = valid(&services_g);
        let connections_g = self.stores.connections.state();
        let connections = valid(&connections_g);

        let mut w = Wanted::default();
        let k = key_of(win);
        w.windows.insert(k.clone());
        for s in services.iter().filter(|s| {
            s.meta().namespace.as_deref() == Some(k.0.as_str())
                && (win
                    .spec
                    .targets
                    .services
                    .iter()
                    .any(|t| t.name == s.name_any())
                    || win
                        .spec
                        .targets
                        .system
                        .as_ref()
                        .is_some_and(|t| t.name == s.spec.system_ref.name))
        }) {
            let sk = key_of(*s);
            w.services.insert(sk.clone());
            w.systems
                .insert((sk.0.clone(), s.spec.system_ref.name.clone()));
            for c in connections.iter().filter(|c| refers_to(c, &sk.0, &sk.1)) {
                w.connections.insert(key_of(*c));
            }
        }
        if let Some(sys) = &win.spec.targets.system {
            w.systems.insert((k.0.clone(), sys.name.clone()));
        }
        let mut snap = self.build(w).await?;
        snap.add_window((*win).clone());
        Ok(snap)
    }
}
