//! The files a route workload reads (DESIGN §3, §4): `route.yaml` from the ConfigMap `S-C` and
//! `senders.yaml` from the Secret `S-C-senders`. The operator writes them; the route reloads them
//! when they change.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::api::{Contour, Mode, Protocol, Sla};

/// Key of the route config in its ConfigMap.
pub const ROUTE_FILE: &str = "route.yaml";
/// Key of the senders file in its Secret.
pub const SENDERS_FILE: &str = "senders.yaml";
/// Where the route config is mounted.
pub const ROUTE_DIR: &str = "/etc/shep/route";
/// Where the senders file is mounted.
pub const SENDERS_DIR: &str = "/etc/shep/senders";
/// Where the backend's authorization Secret is mounted (App.3: authorization on the service side).
pub const BACKEND_AUTH_DIR: &str = "/etc/shep/backend-auth";
/// Where the backend's CA bundle is mounted.
pub const BACKEND_CA_DIR: &str = "/etc/shep/backend-ca";
/// The port the route listens on.
pub const PORT: i32 = 8080;

/// `route.yaml`: everything one route workload needs to know.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteConfig {
    /// The service key callers must send as `serviceId`.
    pub service_key: String,
    /// `namespace/name` of the IntegrationService.
    pub service: String,
    /// The contour this route serves.
    pub contour: Contour,
    /// Interaction mode.
    pub mode: Mode,
    /// Protocol.
    pub protocol: Protocol,
    /// The route key callers send as `routeId`, when routing is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_key: Option<String>,
    /// The owner's backend.
    pub backend: BackendConfig,
    /// The SLA of App.2 (the backend timeout is `maxProcessingSeconds`).
    pub sla: Sla,
    /// Technological breaks the route enforces by its own clock (p.48), active or to come.
    #[serde(default)]
    pub windows: Vec<WindowConfig>,
    /// Listen address.
    pub listen: String,
}

/// The backend of a route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendConfig {
    /// Request URL.
    pub url: String,
    /// Timeout, seconds (App.2 maximum processing time).
    pub timeout_seconds: u32,
    /// Directory with `username` and `password` files for the backend, when it authorizes callers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_dir: Option<String>,
    /// CA bundle file for the backend's TLS certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
}

/// A break the route enforces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WindowConfig {
    /// `namespace/name` of the TechWindow, or `decommission`.
    pub source: String,
    /// Planned, Emergency, Reboot or Decommission.
    pub kind: String,
    /// Start.
    pub start: Timestamp,
    /// End; absent for an open-ended temporary disconnection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
    /// Why, told to callers in the fault.
    pub reason: String,
}

/// `senders.yaml`: who may send in this contour (p.53.2: operator-issued login and password).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendersFile {
    /// Allowed senders, sorted by sender id.
    #[serde(default)]
    pub senders: Vec<SenderEntry>,
    /// Connections to this service that are not open in this contour (suspended, not yet granted
    /// access, refused), without any password: the route tells such a sender exactly why it is
    /// refused instead of a bare authentication failure. Sorted by sender id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inactive: Vec<InactiveSender>,
}

/// A sender of this service that may not send in this contour, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InactiveSender {
    /// The login (`senderId`).
    pub sender_id: String,
    /// `namespace/name` of the ServiceConnection.
    pub connection: String,
    /// Why it is not active here: a suspension reason (`SecurityProtocolRevoked`, ...) or the
    /// lifecycle phase it waits in.
    pub reason: String,
}

/// One allowed sender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SenderEntry {
    /// The login (`senderId`).
    pub sender_id: String,
    /// Hex SHA-256 of the password. Passwords are 32 random characters, so no salt is needed.
    pub password_sha256: String,
    /// `namespace/name` of the ServiceConnection it was issued to.
    pub connection: String,
}
