//! An index of every object the decisions need (linkerd-style index-based design): the four kinds
//! and the Secrets they reference, with lookups by reference. The operator builds it from its
//! reflector stores; `shep render` builds it from manifests. Everything downstream is pure.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

use crate::api::{InformationSystem, IntegrationService, ServiceConnection, TechWindow};

/// `(namespace, name)` of an object.
pub type Key = (String, String);

/// The key of an object.
pub fn key_of<K: ResourceExt>(o: &K) -> Key {
    (
        o.namespace().unwrap_or_else(|| "default".into()),
        o.name_any(),
    )
}

/// `namespace/name`.
pub fn display(k: &Key) -> String {
    format!("{}/{}", k.0, k.1)
}

/// Every object the decisions read.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// InformationSystems by key.
    pub systems: BTreeMap<Key, InformationSystem>,
    /// IntegrationServices by key.
    pub services: BTreeMap<Key, IntegrationService>,
    /// ServiceConnections by key.
    pub connections: BTreeMap<Key, ServiceConnection>,
    /// TechWindows by key.
    pub windows: BTreeMap<Key, TechWindow>,
    /// Secrets by key: transport certificates and the credentials the operator issued.
    pub secrets: BTreeMap<Key, Secret>,
}

impl Snapshot {
    /// Adds an InformationSystem.
    pub fn add_system(&mut self, o: InformationSystem) {
        self.systems.insert(key_of(&o), o);
    }
    /// Adds an IntegrationService.
    pub fn add_service(&mut self, o: IntegrationService) {
        self.services.insert(key_of(&o), o);
    }
    /// Adds a ServiceConnection.
    pub fn add_connection(&mut self, o: ServiceConnection) {
        self.connections.insert(key_of(&o), o);
    }
    /// Adds a TechWindow.
    pub fn add_window(&mut self, o: TechWindow) {
        self.windows.insert(key_of(&o), o);
    }
    /// Adds a Secret.
    pub fn add_secret(&mut self, o: Secret) {
        self.secrets.insert(key_of(&o), o);
    }

    /// The owner system of a service.
    pub fn owner_key(&self, service: &Key) -> Option<Key> {
        let s = self.services.get(service)?;
        Some((service.0.clone(), s.spec.system_ref.name.clone()))
    }

    /// The service a connection points at.
    pub fn service_key_of(&self, conn: &Key) -> Option<Key> {
        let c = self.connections.get(conn)?;
        Some((
            c.spec.service_ref.namespace_or(&conn.0).to_string(),
            c.spec.service_ref.name.clone(),
        ))
    }

    /// The initiator system of a connection.
    pub fn initiator_key(&self, conn: &Key) -> Option<Key> {
        let c = self.connections.get(conn)?;
        Some((conn.0.clone(), c.spec.system_ref.name.clone()))
    }

    /// The holder of each service key: the oldest service that uses it (then by namespace/name).
    pub fn service_key_holders(&self) -> BTreeMap<String, Key> {
        let mut by_key: BTreeMap<String, (Option<jiff::Timestamp>, Key)> = BTreeMap::new();
        for (k, s) in &self.services {
            let created = s.metadata.creation_timestamp.as_ref().map(|t| t.0);
            let entry = (created, k.clone());
            by_key
                .entry(s.spec.service_key.clone())
                .and_modify(|cur| {
                    // None (not yet created) sorts after any real time.
                    let older = match (entry.0, cur.0) {
                        (Some(a), Some(b)) => (a, &entry.1) < (b, &cur.1),
                        (Some(_), None) => true,
                        (None, Some(_)) => false,
                        (None, None) => entry.1 < cur.1,
                    };
                    if older {
                        *cur = entry.clone();
                    }
                })
                .or_insert(entry.clone());
        }
        by_key.into_iter().map(|(k, (_, key))| (k, key)).collect()
    }

    /// Builds the lookup index.
    pub fn index(&self) -> Index {
        let mut ix = Index::default();
        for (k, s) in &self.services {
            ix.services_by_system
                .entry((k.0.clone(), s.spec.system_ref.name.clone()))
                .or_default()
                .push(k.clone());
        }
        for k in self.connections.keys() {
            if let Some(svc) = self.service_key_of(k) {
                ix.connections_by_service
                    .entry(svc)
                    .or_default()
                    .push(k.clone());
            }
            if let Some(sys) = self.initiator_key(k) {
                ix.connections_by_system
                    .entry(sys)
                    .or_default()
                    .push(k.clone());
            }
        }
        for (wk, w) in &self.windows {
            let mut targets: Vec<Key> = w
                .spec
                .targets
                .services
                .iter()
                .map(|s| (wk.0.clone(), s.name.clone()))
                .filter(|k| self.services.contains_key(k))
                .collect();
            if let Some(sys) = &w.spec.targets.system
                && let Some(owned) = ix.services_by_system.get(&(wk.0.clone(), sys.name.clone()))
            {
                targets.extend(owned.iter().cloned());
            }
            targets.sort();
            targets.dedup();
            for t in &targets {
                ix.windows_by_service
                    .entry(t.clone())
                    .or_default()
                    .push(wk.clone());
            }
            ix.window_targets.insert(wk.clone(), targets);
        }
        ix.service_key_holders = self.service_key_holders();
        ix
    }
}

/// Lookups computed once per snapshot, so that every decision is a map access.
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// Services by owner system.
    pub services_by_system: BTreeMap<Key, Vec<Key>>,
    /// Connections by the service they point at.
    pub connections_by_service: BTreeMap<Key, Vec<Key>>,
    /// Connections by initiator system.
    pub connections_by_system: BTreeMap<Key, Vec<Key>>,
    /// Windows by the services they affect.
    pub windows_by_service: BTreeMap<Key, Vec<Key>>,
    /// The services each window affects.
    pub window_targets: BTreeMap<Key, Vec<Key>>,
    /// The holder of each service key.
    pub service_key_holders: BTreeMap<String, Key>,
}

impl Index {
    /// A list from one of the maps, empty when absent.
    pub fn list<'a>(map: &'a BTreeMap<Key, Vec<Key>>, k: &Key) -> &'a [Key] {
        map.get(k).map(Vec::as_slice).unwrap_or(&[])
    }
}
