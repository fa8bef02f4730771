//! What every reconcile shares: the client, the reflector stores of the four kinds and of the issued
//! credentials, the calendar, the render settings, and the errors of each phase.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::Client;
use kube::core::DeserializeGuard;
use kube::core::PartialObjectMeta;
use kube::runtime::events::Reporter;
use kube::runtime::reflector::Store;

use crate::api::{InformationSystem, IntegrationService, ServiceConnection, TechWindow};
use crate::calendar::Calendar;
use crate::render::RenderSettings;

/// The reflector stores every dereference reads from.
#[derive(Clone)]
pub struct Stores {
    /// InformationSystems.
    pub systems: Store<DeserializeGuard<InformationSystem>>,
    /// IntegrationServices.
    pub services: Store<DeserializeGuard<IntegrationService>>,
    /// ServiceConnections.
    pub connections: Store<DeserializeGuard<ServiceConnection>>,
    /// TechWindows.
    pub windows: Store<DeserializeGuard<TechWindow>>,
    /// The credential Secrets the operator issued (label-selected).
    pub credentials: Store<Secret>,
    /// Every Secret's metadata (no data): which transport certificates changed.
    pub secret_versions: Store<PartialObjectMeta<Secret>>,
}

/// What one child was last applied as: a digest of the desired object and the resourceVersion
/// the API server answered.
pub type AppliedAt = (u64, String);

/// A child: kind, namespace, name.
pub type ChildKey = (&'static str, String, String);

/// What was last applied to each child.
pub type Applied = Arc<std::sync::Mutex<std::collections::HashMap<ChildKey, AppliedAt>>>;

/// The children the operator applies, as metadata-only reflector stores (label-selected: the
/// operator's own), and what it last applied to each. A child whose desired form and
/// resourceVersion are both unchanged since the last apply is not sent again; any change by anyone
/// bumps the resourceVersion, so drift is still corrected. The same reflector streams trigger the
/// owners' reconciles, so a store has seen a change before the reconcile it triggers runs.
#[derive(Clone)]
pub struct Children {
    /// Route ConfigMaps.
    pub config_maps: Store<PartialObjectMeta<ConfigMap>>,
    /// Route senders Secrets.
    pub route_secrets: Store<PartialObjectMeta<Secret>>,
    /// Credentials Secrets.
    pub credential_secrets: Store<PartialObjectMeta<Secret>>,
    /// Route Deployments.
    pub deployments: Store<PartialObjectMeta<Deployment>>,
    /// Route Services.
    pub services: Store<PartialObjectMeta<Service>>,
    /// Route NetworkPolicies.
    pub network_policies: Store<PartialObjectMeta<NetworkPolicy>>,
    /// `(kind, namespace, name)` → what was last applied.
    pub applied: Applied,
}

/// Shared state of the controllers.
pub struct Context {
    /// The API client.
    pub client: Client,
    /// Reflector stores.
    pub stores: Stores,
    /// The working-day calendar.
    pub calendar: Calendar,
    /// Installation settings of rendering.
    pub settings: RenderSettings,
    /// Who publishes Events.
    pub reporter: Reporter,
    /// The longest a reconcile waits before looking again (drift correction).
    pub resync: std::time::Duration,
    /// Prometheus metrics.
    pub metrics: Arc<super::metrics::Metrics>,
    /// The namespaces whose objects are reconciled (`None`: every namespace).
    pub namespaces: Option<std::collections::BTreeSet<String>>,
    /// The operator's children, as the API server has them.
    pub children: Children,
    /// Objects whose journal entries are being published as Events at once.
    pub events: Arc<tokio::sync::Semaphore>,
    /// The resourceVersion of each reconciled object when this process last wrote or read it.
    pub seen: super::freshness::Seen,
    /// The transport-certificate Secrets systems reference, as last read from the API.
    pub certificates: std::sync::Mutex<std::collections::HashMap<crate::snapshot::Key, Secret>>,
}

impl Context {
    /// Whether objects of namespace `ns` are reconciled here (`--watch-namespaces`).
    pub fn reconciles(&self, ns: &str) -> bool {
        self.namespaces.as_ref().is_none_or(|n| n.contains(ns))
    }
}

/// Shared context handle.
pub type Ctx = Arc<Context>;

/// The errors of a reconcile, one variant per phase (only dereference, apply and status touch the
/// API; decide and render are pure and cannot fail).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading referenced objects failed.
    #[error("dereference {object}: {source}")]
    Dereference {
        /// The object being reconciled.
        object: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
    /// Applying or cleaning up a child failed.
    #[error("apply {child}: {source}")]
    Apply {
        /// `Kind namespace/name` of the child.
        child: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
    /// Writing status failed.
    #[error("status of {object}: {source}")]
    Status {
        /// The object.
        object: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
    /// The object does not deserialize (it was stored under an older schema or edited around it).
    #[error("{object} is malformed: {message}")]
    Malformed {
        /// The object.
        object: String,
        /// The deserialization error.
        message: String,
    },
}

impl Error {
    /// A short CamelCase name of the phase, for metrics and Events.
    pub fn phase(&self) -> &'static str {
        match self {
            Error::Dereference { .. } => "Dereference",
            Error::Apply { .. } => "Apply",
            Error::Status { .. } => "Status",
            Error::Malformed { .. } => "Malformed",
        }
    }
}
