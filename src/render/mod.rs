//! The render phase (pure): the child objects the operator applies for each service and contour and
//! for each connection (DESIGN §3), built from decisions. `shep render` prints exactly these.

pub mod credentials;
pub mod network_policy;
pub mod route;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::ResourceExt;
use sha2::{Digest, Sha256};

use crate::api::{Contour, FIELD_MANAGER};

/// Settings of rendering that come from the operator's installation, not from the resources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderSettings {
    /// The image that runs `shep route`.
    pub route_image: String,
    /// The namespace of the metrics scraper admitted by route NetworkPolicies.
    pub metrics_namespace: String,
    /// The namespace of cluster DNS.
    pub dns_namespace: String,
}

impl Default for RenderSettings {
    fn default() -> Self {
        Self {
            route_image: format!("shep-operator:{}", env!("CARGO_PKG_VERSION")),
            metrics_namespace: "monitoring".into(),
            dns_namespace: "kube-system".into(),
        }
    }
}

/// One child object.
// A handful of children per object, built once per reconcile: boxing would only add indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Child {
    /// Route config.
    ConfigMap(ConfigMap),
    /// Senders or credentials.
    Secret(Secret),
    /// Route workload.
    Deployment(Deployment),
    /// Route endpoint.
    Service(Service),
    /// Route isolation.
    NetworkPolicy(NetworkPolicy),
}

impl Child {
    /// Kind, namespace and name, for sorting and messages.
    pub fn id(&self) -> (&'static str, String, String) {
        fn id<K: ResourceExt>(kind: &'static str, o: &K) -> (&'static str, String, String) {
            (kind, o.namespace().unwrap_or_default(), o.name_any())
        }
        match self {
            Child::ConfigMap(o) => id("ConfigMap", o),
            Child::Secret(o) => id("Secret", o),
            Child::Deployment(o) => id("Deployment", o),
            Child::Service(o) => id("Service", o),
            Child::NetworkPolicy(o) => id("NetworkPolicy", o),
        }
    }

    /// The object as JSON, with apiVersion and kind.
    pub fn to_value(&self) -> serde_json::Value {
        let v = match self {
            Child::ConfigMap(o) => serde_json::to_value(o),
            Child::Secret(o) => serde_json::to_value(o),
            Child::Deployment(o) => serde_json::to_value(o),
            Child::Service(o) => serde_json::to_value(o),
            Child::NetworkPolicy(o) => serde_json::to_value(o),
        };
        v.unwrap_or(serde_json::Value::Null)
    }
}

/// Label: the component (`shep-route`, `shep-credentials`).
pub const LABEL_NAME: &str = "app.kubernetes.io/name";
/// Label: the instance (the child's name).
pub const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
/// Label: who manages it.
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Label: the service name.
pub const LABEL_SERVICE: &str = "integration.egov.kz/service";
/// Label: the contour.
pub const LABEL_CONTOUR: &str = "integration.egov.kz/contour";
/// Label: the connection name (credentials).
pub const LABEL_CONNECTION: &str = "integration.egov.kz/connection";

/// The labels every child carries.
pub fn labels(
    component: &str,
    instance: &str,
    service: &str,
    contour: Contour,
) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_NAME.to_string(), component.to_string()),
        (LABEL_INSTANCE.to_string(), instance.to_string()),
        (LABEL_MANAGED_BY.to_string(), FIELD_MANAGER.to_string()),
        (LABEL_SERVICE.to_string(), truncate_label(service)),
        (LABEL_CONTOUR.to_string(), contour.as_str().to_string()),
    ])
}

fn truncate_label(v: &str) -> String {
    if v.len() <= 63 {
        v.to_string()
    } else {
        name_with_suffix(v, "")
    }
}

/// `base-suffix`, kept within 63 characters (a DNS-1123 label) by shortening `base` and adding a
/// digest of it, so that distinct long names stay distinct.
pub fn name_with_suffix(base: &str, suffix: &str) -> String {
    let full = if suffix.is_empty() {
        base.to_string()
    } else {
        format!("{base}-{suffix}")
    };
    if full.len() <= 63 {
        return full;
    }
    let digest = hex::encode(Sha256::digest(base.as_bytes()));
    let keep = 63 - suffix.len() - usize::from(!suffix.is_empty()) - 9;
    let mut short: String = base.chars().take(keep).collect();
    while short.ends_with('-') {
        short.pop();
    }
    if suffix.is_empty() {
        format!("{short}-{}", &digest[..8])
    } else {
        format!("{short}-{}-{suffix}", &digest[..8])
    }
}

/// An owner reference to a custom resource, when it has a uid (objects read from a cluster always
/// do; manifests given to `shep render` may not).
pub fn owner_ref<K: kube::Resource<DynamicType = ()>>(o: &K) -> Option<Vec<OwnerReference>> {
    let uid = o.meta().uid.clone()?;
    Some(vec![OwnerReference {
        api_version: K::api_version(&()).to_string(),
        kind: K::kind(&()).to_string(),
        name: o.meta().name.clone().unwrap_or_default(),
        uid,
        controller: Some(true),
        block_owner_deletion: Some(true),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_stay_valid_and_distinct() {
        let a = name_with_suffix(&"a".repeat(60), "production");
        let b = name_with_suffix(&format!("{}b", "a".repeat(59)), "production");
        assert!(a.len() <= 63 && b.len() <= 63, "{a} {b}");
        assert!(a.ends_with("-production"));
        assert_ne!(a, b);
        assert_eq!(name_with_suffix("egov-pay", "test"), "egov-pay-test");
    }
}
