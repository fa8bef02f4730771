//! `IntegrationService`: a service registry entry and its passport (p.3, p.10-31, p.62, App.2, App.3).

use jiff::Timestamp;
use jiff::civil::Date;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    CommonStatus, DecisionEvent, LocalName, NextStep, ObjectRef, OperatorSuspension, PerContour,
    SecretKeyRef, Suspension,
};
use super::validation::{backend_url_rule, immutable_rule};

/// A service of the registry (сервистер тізілімі): its key, owner system, passport (App.2/App.3),
/// backends per contour, SLA, and the publication decisions of the parties.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "integration.egov.kz",
    version = "v1alpha1",
    kind = "IntegrationService",
    plural = "integrationservices",
    shortname = "intsvc",
    category = "shep",
    namespaced,
    status = "IntegrationServiceStatus",
    doc = "An integration service of the registry and its passport (p.3, p.10-31, App.2/App.3).",
    printcolumn = r#"{"name":"Key","type":"string","jsonPath":".spec.serviceKey"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Mode","type":"string","jsonPath":".spec.mode"}"#,
    printcolumn = r#"{"name":"Next","type":"string","jsonPath":".status.nextStep.party","priority":1}"#,
    printcolumn = r#"{"name":"Due","type":"string","jsonPath":".status.nextStep.due"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationServiceSpec {
    /// The service key (сервис кілті): the registry identifier that callers send as `serviceId`.
    /// Immutable; unique in the cluster (the older service keeps a duplicate key).
    #[schemars(length(min = 3, max = 100))]
    #[x_kube(validation = kube::core::Rule::new("self.matches('^[A-Za-z][A-Za-z0-9_.-]*$')").message("serviceKey must start with a letter and hold only letters, digits, '_', '.', '-'"))]
    #[x_kube(validation = immutable_rule("serviceKey"))]
    pub service_key: String,
    /// The owner's information system (same namespace).
    pub system_ref: LocalName,
    /// The service name in Kazakh and Russian (App.2).
    pub names: Texts,
    /// The purpose of the service in Kazakh and Russian (App.2).
    pub purposes: Texts,
    /// Interaction mode (App.2): synchronous or asynchronous.
    pub mode: Mode,
    /// Protocol: SOAP (the gateway's envelope) or REST (App.1 JSON envelope; p.53: HTTPS plus user
    /// authentication instead of the transport signature).
    pub protocol: Protocol,
    /// Where the passport is published: SHEP, VSHEP or both (App.3).
    #[serde(default)]
    pub publish_on: PublishOn,
    /// Whether the service carries personal data: then connections must use the consent service
    /// (p.7, p.45-7).
    #[serde(default)]
    pub personal_data: bool,
    /// Additional routing of messages by route key (App.3 "routing", `routeId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<Routing>,
    /// The owner's backend per contour (App.3: request URL for test and production).
    pub backends: PerContour<Backend>,
    /// Service-level agreement (App.2 table 1/2); defaults are the rules' figures.
    #[serde(default)]
    pub sla: Sla,
    /// XSD and request/response samples (p.14, App.3), as ConfigMap references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schemas: Option<Schemas>,
    /// Settings of the route workload the operator deploys per contour.
    #[serde(default)]
    pub route: RouteSettings,
    /// p.3: what may not be integrated through the gateway. A service that falls under any of these
    /// is refused at admission.
    #[serde(default)]
    pub exclusions: Exclusions,
    /// p.62: a notice of temporary or permanent disconnection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decommission: Option<Decommission>,
    /// p.51: the operator disconnects the service until its technical errors are fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_suspension: Option<OperatorSuspension>,
    /// The publication process and its decisions (p.10-31), and actualization (p.45-8..45-11).
    #[serde(default)]
    pub publication: Publication,
}

/// A text in both official languages of the passport (App.2).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Texts {
    /// In Kazakh.
    #[schemars(length(min = 1, max = 2000))]
    pub kk: String,
    /// In Russian.
    #[schemars(length(min = 1, max = 2000))]
    pub ru: String,
}

/// Interaction mode (App.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Mode {
    /// Synchronous: the answer comes in the same exchange (App.2 table 1).
    Sync,
    /// Asynchronous: the answer comes later (App.2 table 2).
    Async,
}

/// Message protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Protocol {
    /// SOAP 1.1 envelope of the gateway (WIRE.md).
    Soap,
    /// JSON envelope of App.1.
    Rest,
}

/// Where the passport is published (App.3).
#[derive(KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("self.shep || self.vshep").message("publishOn: the service must be published on SHEP, VSHEP or both"))]
pub struct PublishOn {
    /// On SHEP (the gateway inside the state transport environment).
    #[serde(default = "yes")]
    pub shep: bool,
    /// On VSHEP (the external gateway, for systems outside the state transport environment).
    #[serde(default)]
    pub vshep: bool,
}

fn yes() -> bool {
    true
}

impl Default for PublishOn {
    fn default() -> Self {
        Self {
            shep: true,
            vshep: false,
        }
    }
}

/// Additional routing (App.3).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Routing {
    /// The route key (бағыт кілті) callers send as `routeId`.
    #[schemars(length(min = 1, max = 100))]
    pub route_key: String,
}

/// The owner's backend in one contour (App.3).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backend {
    /// The request URL (http or https).
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = backend_url_rule())]
    pub url: String,
    /// Authorization on the service side (App.3): a Secret with `username` and `password` keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_secret_ref: Option<SecretKeyRef>,
    /// The CA bundle that signs the backend's TLS certificate (App.3: SSL certificate issued by the
    /// NCA), in a Secret (key `ca.crt` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_secret_ref: Option<SecretKeyRef>,
}

/// App.2: the interaction requirements. Defaults are the rules' figures for a synchronous service.
#[derive(KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("self.averageProcessingSeconds <= self.maxProcessingSeconds").message("sla.averageProcessingSeconds must not exceed sla.maxProcessingSeconds (App.2)"))]
#[x_kube(validation = kube::core::Rule::new("self.nominalPerHour <= self.peakPerHour").message("sla.nominalPerHour must not exceed sla.peakPerHour (App.2)"))]
pub struct Sla {
    /// Maximum processing time of one request, seconds (App.2 table 1: 30). The route's backend
    /// timeout.
    #[serde(default = "d_max")]
    #[schemars(range(min = 1, max = 600))]
    pub max_processing_seconds: u32,
    /// Average processing time, seconds (App.2 table 1: 10).
    #[serde(default = "d_avg")]
    #[schemars(range(min = 1, max = 600))]
    pub average_processing_seconds: u32,
    /// Peak load, requests per hour (App.2: 2000).
    #[serde(default = "d_peak")]
    #[schemars(range(min = 1, max = 100000000))]
    pub peak_per_hour: u32,
    /// Nominal load, requests per hour (App.2: 360).
    #[serde(default = "d_nominal")]
    #[schemars(range(min = 1, max = 100000000))]
    pub nominal_per_hour: u32,
    /// Recovery time after a failure, hours (App.2: 3).
    #[serde(default = "d_recovery")]
    #[schemars(range(min = 1, max = 720))]
    pub recovery_hours: u32,
    /// Answer time of an asynchronous service, seconds (App.2 table 2: set per service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub async_answer_seconds: Option<u32>,
}

fn d_max() -> u32 {
    30
}
fn d_avg() -> u32 {
    10
}
fn d_peak() -> u32 {
    2000
}
fn d_nominal() -> u32 {
    360
}
fn d_recovery() -> u32 {
    3
}

impl Default for Sla {
    fn default() -> Self {
        Self {
            max_processing_seconds: d_max(),
            average_processing_seconds: d_avg(),
            peak_per_hour: d_peak(),
            nominal_per_hour: d_nominal(),
            recovery_hours: d_recovery(),
            async_answer_seconds: None,
        }
    }
}

/// XSD and samples (p.14, App.3) in ConfigMaps of the same namespace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Schemas {
    /// ConfigMap key holding the XSD of the payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xsd: Option<ConfigMapKeyRef>,
    /// ConfigMap key holding a request sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_sample: Option<ConfigMapKeyRef>,
    /// ConfigMap key holding a response sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_sample: Option<ConfigMapKeyRef>,
}

/// A key of a ConfigMap in the same namespace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConfigMapKeyRef {
    /// ConfigMap name.
    pub name: String,
    /// Key.
    pub key: String,
}

/// Settings of the route workload (DESIGN §3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouteSettings {
    /// Replicas of the route Deployment per contour.
    #[serde(default = "d_replicas")]
    #[schemars(range(min = 0, max = 50))]
    pub replicas: i32,
    /// Container resources of the route (Kubernetes ResourceRequirements).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<k8s_openapi::api::core::v1::ResourceRequirements>,
}

fn d_replicas() -> i32 {
    2
}

impl Default for RouteSettings {
    fn default() -> Self {
        Self {
            replicas: d_replicas(),
            resources: None,
        }
    }
}

/// p.3: categories that may not be integrated through SHEP/VSHEP. Each is refused at admission.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exclusions {
    /// A service of a certification authority.
    #[serde(default)]
    #[x_kube(validation = kube::core::Rule::new("!self").message("p.3: services of certification authorities are not integrated through the gateway"))]
    pub certification_authority: bool,
    /// An object holding state secrets.
    #[serde(default)]
    #[x_kube(validation = kube::core::Rule::new("!self").message("p.3: objects holding state secrets are not integrated through the gateway"))]
    pub state_secrets: bool,
    /// Information marked "for official use".
    #[serde(default)]
    #[x_kube(validation = kube::core::Rule::new("!self").message("p.3: objects with information marked 'for official use' are not integrated through the gateway"))]
    pub for_official_use: bool,
    /// An object of the e-government analytics platform.
    #[serde(default)]
    #[x_kube(validation = kube::core::Rule::new("!self").message("p.3: objects of the e-government analytics platform are not integrated through the gateway"))]
    pub analytics_platform: bool,
    /// A tax or customs administration object.
    #[serde(default)]
    #[x_kube(validation = kube::core::Rule::new("!self").message("p.3: tax and customs administration objects are not integrated through the gateway"))]
    pub tax_or_customs: bool,
    /// An open-data service (open data, open budgets, open legal acts).
    #[serde(default)]
    #[x_kube(validation = kube::core::Rule::new("!self").message("p.3: open-data services (open data, open budgets, open legal acts) are not integrated through the gateway"))]
    pub open_data: bool,
}

/// p.62: disconnection of a service.
#[derive(KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("!has(self.until) || self.until > self.effectiveAt").message("decommission.until must be after effectiveAt"))]
pub struct Decommission {
    /// Temporary (modification of the service) or permanent (work stops).
    pub kind: DecommissionKind,
    /// When the owner notified the authorized body and all users (p.62).
    pub announced_at: Timestamp,
    /// When the service goes off. p.62: a temporary disconnection is notified within 3 working days
    /// of it; a permanent one at least 1 month before.
    pub effective_at: Timestamp,
    /// For a temporary disconnection, when the service comes back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// Why.
    pub reason: String,
}

/// Kind of disconnection (p.62).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DecommissionKind {
    /// The service or its object is being modified.
    Temporary,
    /// The service is switched off for good: at least 1 month's notice.
    Permanent,
}

/// Who started the publication (chapter 2 §1 or §2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Initiative {
    /// §2, p.28-31: the owner publishes on its own initiative.
    #[default]
    Owner,
    /// §1, p.10-27: an initiator asked for the service.
    Initiator,
}

/// The publication process (p.10-31) and actualization (p.45-8..45-11).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Publication {
    /// Who started the publication.
    #[serde(default)]
    pub initiative: Initiative,
    /// For an initiator-requested service: the initiator's system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiator_ref: Option<ObjectRef>,
    /// The parties' decisions, appended in order. The operator derives the phase from them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 500))]
    pub events: Vec<DecisionEvent<PublicationEventType>>,
}

/// Decisions in the publication of a service (p.10-31) and its actualization (p.45-8..45-11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PublicationEventType {
    /// Initiator asked the service integrator which owner can provide the data (p.10).
    IntegratorRequested,
    /// Service integrator recommended an owner (p.11).
    IntegratorRecommended,
    /// The application was filed: by the initiator to the owner (p.12) or by the owner (p.28).
    Submitted,
    /// Owner approved and filed App.2/App.3 (p.13, p.14).
    OwnerApproved,
    /// Owner returned the request for rework (p.13).
    OwnerReturned,
    /// Owner refused, with reasons (p.13, p.16).
    Refused,
    /// Reworked application filed again (p.15, p.18, p.27).
    Resubmitted,
    /// Operator found the application complete and correct (p.17, p.29).
    OperatorApproved,
    /// Operator returned the application with reasons (p.17, p.29).
    OperatorReturned,
    /// Operator granted test-environment access (p.19).
    TestAccessGranted,
    /// Owner formed and signed the test-and-commissioning act (p.24).
    TestActSignedByOwner,
    /// Initiator signed and agreed the act (p.25).
    TestActSignedByInitiator,
    /// Operator returned the act (p.26).
    TestActReturned,
    /// Operator agreed the act (p.27).
    TestActApproved,
    /// Operator published the passport and granted production access (p.27, p.30).
    Published,
    /// Owner filed an actualization application, App.8 (p.45-8).
    ActualizationRequested,
    /// Operator returned the actualization application with reasons (p.45-9).
    ActualizationReturned,
    /// Operator approved the actualization application (p.45-9).
    ActualizationApproved,
    /// Operator actualized the service (p.45-10).
    Actualized,
}

/// What the operator derived for a service.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationServiceStatus {
    /// The phase (DESIGN §2): `Draft`, `IntegratorReview`, `OwnerReview`, `OperatorCheck`, `Rework`,
    /// `AwaitingTestAccess`, `Testing`, `ActApproval`, `AwaitingPublication`, `Published`,
    /// `Suspended`, `Decommissioned`, `Refused`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The phase of the publication process alone, also while suspended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_phase: Option<String>,
    /// Who must do what next, and by when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_step: Option<NextStep>,
    /// p.21: the last day of testing (3 months from test access).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub testing_until: Option<Date>,
    /// The suspension in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspension: Option<Suspension>,
    /// Route endpoints per contour (in-cluster URLs), where the route exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<PerContour<String>>,
    /// Connections active per contour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_connections: Option<PerContour<u32>>,
    /// App.7 availability index of the production contour, this month and last month.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub availability: Vec<AvailabilityIndex>,
    /// Conditions, journal and observed generation.
    #[serde(flatten)]
    pub common: CommonStatus,
}

/// App.7: `I = (T - P) / T * 100 %` for one month.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvailabilityIndex {
    /// The month, `YYYY-MM` (Asia/Almaty).
    pub month: String,
    /// T: hours of possible availability in the month (24/7/365), up to now for the current month.
    pub period_hours: String,
    /// P: hours of unavailability (technological breaks and suspensions).
    pub downtime_hours: String,
    /// I, percent, two decimals.
    pub index: String,
}
