//! What every reconcile shares: the client, the reflector stores of the four kinds and of the issued
//! credentials, the calendar, the render settings, and the errors of each phase.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::core::DeserializeGuard;
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
