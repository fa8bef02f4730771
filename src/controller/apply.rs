//! The apply phase: server-side apply of every desired child with field manager `shep-operator`, and
//! removal of the children the operator made earlier that are no longer desired (apply and orphan
//! cleanup).
//!
//! Both read the children's metadata stores ([`Children`]): a child whose desired form and
//! resourceVersion are unchanged since the operator last applied it is not sent again (a service
//! is reconciled each time one of its connections changes; re-sending its ten children each time
//! is most of the load an unchanged registry would put on the API server), and orphans are found in
//! the store instead of by a list request per kind. A child changed or deleted by anyone has another
//! resourceVersion, or none, and is applied again.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};

use futures::FutureExt as _;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::context::{Children, Context, Error};
use crate::api::FIELD_MANAGER;
use crate::render::{Child, LABEL_NAME, credentials};

/// A digest of a desired child (what it would send).
fn digest(c: &Child) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_vec(&c.to_value())
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

/// The store that holds a child's kind (and, for Secrets, its component).
enum Which<'a> {
    ConfigMap(&'a Store<PartialObjectMeta<ConfigMap>>),
    Secret(&'a Store<PartialObjectMeta<Secret>>),
    Deployment(&'a Store<PartialObjectMeta<Deployment>>),
    Service(&'a Store<PartialObjectMeta<Service>>),
    NetworkPolicy(&'a Store<PartialObjectMeta<NetworkPolicy>>),
}

fn rv_in<K>(store: &Store<PartialObjectMeta<K>>, ns: &str, name: &str) -> Option<String>
where
    K: Resource<DynamicType = ()> + Clone,
{
    store
        .get(&ObjectRef::new(name).within(ns))
        .and_then(|o| o.metadata.resource_version.clone())
}

impl Children {
    fn secrets_of(&self, component: Option<&str>) -> &Store<PartialObjectMeta<Secret>> {
        if component == Some(credentials::COMPONENT) {
            &self.credential_secrets
        } else {
            &self.route_secrets
        }
    }

    fn store_of(&self, c: &Child) -> Which<'_> {
        match c {
            Child::ConfigMap(_) => Which::ConfigMap(&self.config_maps),
            Child::Secret(s) => {
                Which::Secret(self.secrets_of(s.labels().get(LABEL_NAME).map(String::as_str)))
            }
            Child::Deployment(_) => Which::Deployment(&self.deployments),
            Child::Service(_) => Which::Service(&self.services),
            Child::NetworkPolicy(_) => Which::NetworkPolicy(&self.network_policies),
        }
    }

    /// The resourceVersion the API server has for a child, as far as its store knows.
    fn current(&self, c: &Child) -> Option<String> {
        let (_, ns, name) = c.id();
        match self.store_of(c) {
            Which::ConfigMap(s) => rv_in(s, &ns, &name),
            Which::Secret(s) => rv_in(s, &ns, &name),
            Which::Deployment(s) => rv_in(s, &ns, &name),
            Which::Service(s) => rv_in(s, &ns, &name),
            Which::NetworkPolicy(s) => rv_in(s, &ns, &name),
        }
    }
}

async fn apply_one<K>(ctx: &Context, kind: &str, obj: &K) -> Result<Option<String>, Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Serialize
        + DeserializeOwned
        + Clone
        + Debug,
{
    let ns = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &ns);
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(obj),
    )
    .await
    .map(|o| o.meta().resource_version.clone())
    .map_err(|source| Error::Apply {
        child: format!("{kind} {ns}/{name}"),
        source,
    })
}

/// Server-side applies every child that is not already as desired. Returns how many were sent.
pub async fn apply_all(ctx: &Context, children: &[Child]) -> Result<usize, Error> {
    let mut sent = 0;
    for c in children {
        let (kind, ns, name) = c.id();
        let key = (kind, ns, name);
        let want = digest(c);
        let current = ctx.children.current(c);
        let unchanged = {
            let applied = ctx
                .children
                .applied
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            applied
                .get(&key)
                .is_some_and(|(d, rv)| *d == want && current.as_deref() == Some(rv.as_str()))
        };
        if unchanged {
            continue;
        }
        let rv = match c {
            Child::ConfigMap(o) => apply_one(ctx, "ConfigMap", o).await?,
            Child::Secret(o) => apply_one(ctx, "Secret", o).await?,
            Child::Deployment(o) => apply_one(ctx, "Deployment", o).await?,
            Child::Service(o) => apply_one(ctx, "Service", o).await?,
            Child::NetworkPolicy(o) => apply_one(ctx, "NetworkPolicy", o).await?,
        };
        sent += 1;
        let mut applied = ctx
            .children
            .applied
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match rv {
            Some(rv) => {
                applied.insert(key, (want, rv));
            }
            None => {
                applied.remove(&key);
            }
        }
    }
    Ok(sent)
}

/// The names of a kind's children in `ns` that carry every label of `selector`: from the store once
/// it has listed, else from the API.
async fn existing<K>(
    ctx: &Context,
    store: &Store<PartialObjectMeta<K>>,
    kind: &'static str,
    ns: &str,
    selector: &[(&str, String)],
) -> Result<Vec<String>, Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + DeserializeOwned
        + Clone
        + Debug,
{
    let matches = |labels: &std::collections::BTreeMap<String, String>| {
        selector
            .iter()
            .all(|(k, v)| labels.get(*k).is_some_and(|l| l == v))
    };
    if store
        .wait_until_ready()
        .now_or_never()
        .is_some_and(|r| r.is_ok())
    {
        return Ok(store
            .state_filter(|o| {
                o.metadata.namespace.as_deref() == Some(ns)
                    && o.metadata.labels.as_ref().is_some_and(&matches)
            })
            .iter()
            .filter_map(|o| o.metadata.name.clone())
            .collect());
    }
    let label_selector = selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let api: Api<K> = Api::namespaced(ctx.client.clone(), ns);
    let list = api
        .list_metadata(&ListParams::default().labels(&label_selector))
        .await
        .map_err(|source| Error::Apply {
            child: format!("{kind} in {ns} ({label_selector})"),
            source,
        })?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|o| o.metadata.name)
        .collect())
}

async fn prune_kind<K>(
    ctx: &Context,
    store: &Store<PartialObjectMeta<K>>,
    kind: &'static str,
    ns: &str,
    selector: &[(&str, String)],
    keep: &BTreeSet<(&'static str, String)>,
) -> Result<usize, Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + DeserializeOwned
        + Clone
        + Debug,
{
    let api: Api<K> = Api::namespaced(ctx.client.clone(), ns);
    let mut removed = 0;
    for name in existing(ctx, store, kind, ns, selector).await? {
        if keep.contains(&(kind, name.clone())) {
            continue;
        }
        match api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => removed += 1,
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(source) => {
                return Err(Error::Apply {
                    child: format!("{kind} {ns}/{name}"),
                    source,
                });
            }
        }
        ctx.children
            .applied
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(kind, ns.to_string(), name));
    }
    Ok(removed)
}

/// Deletes children in `ns` that carry every label of `selector` and are not among `desired`.
/// `kinds` limits the kinds looked at. Returns how many were removed.
pub async fn prune(
    ctx: &Context,
    ns: &str,
    selector: &[(&str, String)],
    desired: &[Child],
    kinds: &[&'static str],
) -> Result<usize, Error> {
    let keep: BTreeSet<(&'static str, String)> = desired
        .iter()
        .map(|c| {
            let (k, _, n) = c.id();
            (k, n)
        })
        .collect();
    let component = selector
        .iter()
        .find(|(k, _)| *k == LABEL_NAME)
        .map(|(_, v)| v.as_str());
    let ch = &ctx.children;
    let mut removed = 0;
    for kind in kinds {
        removed += match *kind {
            "ConfigMap" => {
                prune_kind(ctx, &ch.config_maps, "ConfigMap", ns, selector, &keep).await?
            }
            "Secret" => {
                prune_kind(ctx, ch.secrets_of(component), "Secret", ns, selector, &keep).await?
            }
            "Deployment" => {
                prune_kind(ctx, &ch.deployments, "Deployment", ns, selector, &keep).await?
            }
            "Service" => prune_kind(ctx, &ch.services, "Service", ns, selector, &keep).await?,
            "NetworkPolicy" => {
                prune_kind(
                    ctx,
                    &ch.network_policies,
                    "NetworkPolicy",
                    ns,
                    selector,
                    &keep,
                )
                .await?
            }
            _ => 0,
        };
    }
    Ok(removed)
}
