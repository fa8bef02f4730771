//! The apply phase: server-side apply of every desired child with field manager `shep-operator`, and
//! removal of the children the operator made earlier that are no longer desired (apply and orphan
//! cleanup).

use std::collections::BTreeSet;
use std::fmt::Debug;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::context::Error;
use crate::api::FIELD_MANAGER;
use crate::render::Child;

async fn apply_one<K>(client: &Client, kind: &str, obj: &K) -> Result<(), Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Serialize
        + DeserializeOwned
        + Clone
        + Debug,
{
    let ns = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let api: Api<K> = Api::namespaced(client.clone(), &ns);
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(obj),
    )
    .await
    .map(|_| ())
    .map_err(|source| Error::Apply {
        child: format!("{kind} {ns}/{name}"),
        source,
    })
}

/// Server-side applies every child.
pub async fn apply_all(client: &Client, children: &[Child]) -> Result<(), Error> {
    for c in children {
        match c {
            Child::ConfigMap(o) => apply_one(client, "ConfigMap", o).await?,
            Child::Secret(o) => apply_one(client, "Secret", o).await?,
            Child::Deployment(o) => apply_one(client, "Deployment", o).await?,
            Child::Service(o) => apply_one(client, "Service", o).await?,
            Child::NetworkPolicy(o) => apply_one(client, "NetworkPolicy", o).await?,
        }
    }
    Ok(())
}

async fn prune_kind<K>(
    client: &Client,
    kind: &'static str,
    ns: &str,
    selector: &str,
    keep: &BTreeSet<(&'static str, String)>,
) -> Result<usize, Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + DeserializeOwned
        + Clone
        + Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    let list = api
        .list_metadata(&ListParams::default().labels(selector))
        .await
        .map_err(|source| Error::Apply {
            child: format!("{kind} in {ns} ({selector})"),
            source,
        })?;
    let mut removed = 0;
    for o in list.items {
        let name = o.metadata.name.clone().unwrap_or_default();
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
    }
    Ok(removed)
}

/// Deletes children in `ns` that match `selector` and are not among `desired`. `kinds` limits the
/// kinds looked at. Returns how many were removed.
pub async fn prune(
    client: &Client,
    ns: &str,
    selector: &str,
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
    let mut removed = 0;
    for kind in kinds {
        removed += match *kind {
            "ConfigMap" => {
                prune_kind::<ConfigMap>(client, "ConfigMap", ns, selector, &keep).await?
            }
            "Secret" => prune_kind::<Secret>(client, "Secret", ns, selector, &keep).await?,
            "Deployment" => {
                prune_kind::<Deployment>(client, "Deployment", ns, selector, &keep).await?
            }
            "Service" => prune_kind::<Service>(client, "Service", ns, selector, &keep).await?,
            "NetworkPolicy" => {
                prune_kind::<NetworkPolicy>(client, "NetworkPolicy", ns, selector, &keep).await?
            }
            _ => 0,
        };
    }
    Ok(removed)
}
