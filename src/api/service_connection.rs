//! `ServiceConnection`: an initiator's connection to a published service (p.32-45-7, p.45-12..45-15,
//! App.5, App.7).

use jiff::civil::Date;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    CommonStatus, DecisionEvent, LocalName, NextStep, ObjectRef, OperatorSuspension, PerContour,
    Suspension,
};
use super::validation::cidr_list_rule;

/// An initiator's connection to an integration service: the application (App.5), the contours it
/// uses, and the parties' decisions. The operator issues a login and password per contour (p.53.2).
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "integration.egov.kz",
    version = "v1alpha1",
    kind = "ServiceConnection",
    plural = "serviceconnections",
    shortname = "svcconn",
    category = "shep",
    namespaced,
    status = "ServiceConnectionStatus",
    doc = "An initiator's connection to an integration service (p.32-45-7, App.5, App.7).",
    printcolumn = r#"{"name":"Service","type":"string","jsonPath":".spec.serviceRef.name"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Next","type":"string","jsonPath":".status.nextStep.party","priority":1}"#,
    printcolumn = r#"{"name":"Due","type":"string","jsonPath":".status.nextStep.due"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectionSpec {
    /// The service to connect to (namespace and name of the IntegrationService).
    #[x_kube(validation = kube::core::Rule::new("self == oldSelf").message("serviceRef is immutable: file a new connection for another service"))]
    pub service_ref: ObjectRef,
    /// The initiator's information system (same namespace).
    #[x_kube(validation = kube::core::Rule::new("self == oldSelf").message("systemRef is immutable: file a new connection for another system"))]
    pub system_ref: LocalName,
    /// The basis of the connection (App.5): the document that entitles the initiator.
    pub basis: Basis,
    /// The pilot-project order, when the connection rests on one (App.5); the connection is
    /// suspended when it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pilot_order: Option<PilotOrder>,
    /// Message sending mode (App.5).
    #[serde(default)]
    pub message_mode: MessageMode,
    /// The contours this connection uses and who may reach the route in each.
    #[serde(default)]
    pub contours: PerContour<ContourAccess>,
    /// p.33, App.7: a non-state system providing public services signs the agreement with the
    /// state body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_service_agreement: Option<Agreement>,
    /// p.7, p.45-7: whether the initiator uses the consent service (required for services with
    /// personal data).
    #[serde(default)]
    pub uses_consent_service: bool,
    /// p.51: the operator suspends this connection until its technical errors are fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_suspension: Option<OperatorSuspension>,
    /// Increment to have the operator issue new passwords for every contour (p.53.2).
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub credentials_rotation: i64,
    /// The application process and its decisions (p.32-45), and actualization (p.45-12..45-15).
    #[serde(default)]
    pub application: Application,
}

/// The basis of a connection (App.5).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Basis {
    /// The document: law, order, agreement, with number and date.
    #[schemars(length(min = 1, max = 1000))]
    pub document: String,
    /// Where its file is kept (a document-system reference; never the file itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_ref: Option<String>,
}

/// A pilot-project order (App.5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PilotOrder {
    /// Order number.
    pub number: String,
    /// Last day of validity.
    pub valid_until: Date,
}

/// Message sending mode (App.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum MessageMode {
    /// Synchronous request and answer.
    #[default]
    Sync,
    /// Asynchronous, the gateway pushes messages to the participant.
    AsyncPush,
    /// Asynchronous, the participant pulls messages (`getMessages`).
    AsyncPull,
}

/// Access to the route in one contour.
#[derive(KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContourAccess {
    /// Whether this connection uses the contour.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Extra source CIDRs beyond the initiator system's networks for this contour.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64), inner(length(max = 49)))]
    #[x_kube(validation = cidr_list_rule())]
    pub source_cidrs: Vec<String>,
    /// In-cluster namespaces whose pods may call the route (label selector on namespaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
}

fn yes() -> bool {
    true
}

impl Default for ContourAccess {
    fn default() -> Self {
        Self {
            enabled: true,
            source_cidrs: Vec::new(),
            namespace_selector: None,
        }
    }
}

/// An agreement (App.7).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Agreement {
    /// Agreement number.
    pub number: String,
    /// When it was signed.
    pub signed: Date,
}

/// The application process (p.32-45).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// The parties' decisions, appended in order. The operator derives the phase from them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 500))]
    pub events: Vec<DecisionEvent<ApplicationEventType>>,
}

/// Decisions in a connection (p.32-45, p.45-1..45-7) and its actualization (p.45-12..45-15).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ApplicationEventType {
    /// Initiator filed the application, App.5 (p.32).
    Submitted,
    /// Owner approved (p.34).
    OwnerApproved,
    /// Owner refused, with reasons (p.34).
    Refused,
    /// Operator found the application complete and correct (p.35, p.45-3).
    OperatorApproved,
    /// Operator returned it with reasons (p.35, p.45-3).
    OperatorReturned,
    /// Reworked application or act filed again (p.36, p.45, p.45-4).
    Resubmitted,
    /// Operator granted test-environment access (p.37, p.45-5).
    TestAccessGranted,
    /// Initiator formed and signed the act after a positive test (p.42).
    TestActSignedByInitiator,
    /// Owner agreed and signed the act (p.43).
    TestActSignedByOwner,
    /// Operator returned the act (p.44).
    TestActReturned,
    /// Operator agreed the act (p.45).
    TestActApproved,
    /// Operator granted production access (p.45).
    ProductionAccessGranted,
    /// Initiator filed an actualization application, App.9 (p.45-12).
    ActualizationRequested,
    /// Operator returned it with reasons (p.45-13).
    ActualizationReturned,
    /// Operator approved it (p.45-13).
    ActualizationApproved,
    /// Operator actualized the connection (p.45-14).
    Actualized,
}

/// What the operator derived for a connection.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectionStatus {
    /// The phase (DESIGN §2): `Draft`, `OwnerReview`, `OperatorCheck`, `Rework`,
    /// `AwaitingTestAccess`, `Testing`, `ActApproval`, `AwaitingProductionAccess`, `Active`,
    /// `Suspended`, `Refused`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The phase of the application process alone, also while suspended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_phase: Option<String>,
    /// Who must do what next, and by when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_step: Option<NextStep>,
    /// Whether the state-body path applies (p.45-1..45-7: the owner is only notified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_to_state: Option<bool>,
    /// p.38: the last day of testing (3 months from test access).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub testing_until: Option<Date>,
    /// The suspension in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspension: Option<Suspension>,
    /// The issued credentials per contour: Secret names in this namespace (never their values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<PerContour<String>>,
    /// The sender id issued to this connection (p.53.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_id: Option<String>,
    /// Conditions, journal and observed generation.
    #[serde(flatten)]
    pub common: CommonStatus,
}
