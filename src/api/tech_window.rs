//! `TechWindow`: a technological break (p.48, p.50, p.62, App.7).

use jiff::Timestamp;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{CommonStatus, Contour, LocalName, Party};

/// A technological break in the work of services: announced and agreed with owner, initiator and
/// operator 3 working days ahead, by default at night 21:00-06:00, on weekends and holidays (p.48).
/// While it is active, the routes of the services it targets refuse messages with a fault that says
/// until when.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "integration.egov.kz",
    version = "v1alpha1",
    kind = "TechWindow",
    plural = "techwindows",
    shortname = "techwin",
    category = "shep",
    namespaced,
    status = "TechWindowStatus",
    doc = "A technological break (p.48, p.50, App.7).",
    printcolumn = r#"{"name":"Kind","type":"string","jsonPath":".spec.kind"}"#,
    printcolumn = r#"{"name":"Start","type":"string","jsonPath":".spec.start"}"#,
    printcolumn = r#"{"name":"End","type":"string","jsonPath":".spec.end"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(validation = kube::core::Rule::new("self.end > self.start").message("end must be after start"))]
#[x_kube(validation = kube::core::Rule::new("self.end - self.start <= duration('744h')").message("a tech window may last at most 31 days (744h); announce a decommission (p.62) for longer breaks"))]
#[x_kube(validation = kube::core::Rule::new("size(self.targets.services) > 0 || has(self.targets.system)").message("targets must name at least one service or a system"))]
#[serde(rename_all = "camelCase")]
pub struct TechWindowSpec {
    /// What the break affects: services of this namespace, or every service of one system.
    pub targets: Targets,
    /// The contours affected.
    #[schemars(length(min = 1, max = 2))]
    #[x_kube(validation = kube::core::Rule::new("self.all(c, self.exists_one(d, d == c))").message("contours must not repeat"))]
    pub contours: Vec<Contour>,
    /// When the break starts (RFC 3339).
    pub start: Timestamp,
    /// When the break ends (RFC 3339).
    pub end: Timestamp,
    /// Planned (p.48: agreed 3 working days ahead), Emergency (unplanned works, no lead time), or
    /// Reboot (p.50: announced to the other administrators with the time of works).
    pub kind: WindowKind,
    /// Why.
    #[schemars(length(min = 1, max = 2000))]
    pub reason: String,
    /// When the break was announced to the other parties (p.48, p.50).
    pub announced_at: Timestamp,
    /// The agreements of the parties (p.48).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub agreements: Vec<WindowAgreement>,
}

/// The targets of a break.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Targets {
    /// IntegrationServices of this namespace.
    #[serde(default)]
    #[schemars(length(max = 500))]
    pub services: Vec<LocalName>,
    /// An InformationSystem of this namespace: every service it owns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<LocalName>,
}

/// Kind of break.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum WindowKind {
    /// p.48: announced and agreed 3 working days before it starts.
    Planned,
    /// Unplanned works after a fault (App.7 counts them as downtime); no lead time.
    Emergency,
    /// p.50: a reboot out of technical need, announced with the time of works.
    Reboot,
}

/// One party's agreement (p.48).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WindowAgreement {
    /// Owner, Initiator or Operator.
    pub party: Party,
    /// Who agreed.
    pub by: String,
    /// When.
    pub at: Timestamp,
}

/// What the operator derived for a tech window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TechWindowStatus {
    /// `Scheduled`, `Active` or `Completed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The services affected, `namespace/name`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected_services: Vec<String>,
    /// The earliest start that met the lead time of p.48 (3 working days after the announcement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest_start: Option<jiff::civil::Date>,
    /// Conditions, journal and observed generation.
    #[serde(flatten)]
    pub common: CommonStatus,
}
