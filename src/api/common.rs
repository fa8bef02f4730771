//! Types shared by the four kinds: contours, references, decision events, next steps, suspensions,
//! the journal, and condition names (DESIGN §2).

use jiff::Timestamp;
use jiff::civil::Date;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The API group of every kind.
pub const GROUP: &str = "integration.egov.kz";
/// The API version of every kind.
pub const VERSION: &str = "v1alpha1";
/// The field manager of every server-side apply the operator makes.
pub const FIELD_MANAGER: &str = "shep-operator";

/// p.2: a contour of interaction. Each service has a test and a production environment.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Contour {
    /// The test environment (p.19, p.37: access is granted for testing).
    Test,
    /// The production environment (p.27, p.45: access after the test act is agreed).
    Production,
}

impl Contour {
    /// Both contours, test first.
    pub const ALL: [Contour; 2] = [Contour::Test, Contour::Production];

    /// The lower-case name used in object names and labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Contour::Test => "test",
            Contour::Production => "production",
        }
    }
}

impl std::fmt::Display for Contour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A per-contour pair of values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PerContour<T> {
    /// The value for the test contour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<T>,
    /// The value for the production contour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production: Option<T>,
}

impl<T> PerContour<T> {
    /// The value for one contour.
    pub fn get(&self, c: Contour) -> Option<&T> {
        match c {
            Contour::Test => self.test.as_ref(),
            Contour::Production => self.production.as_ref(),
        }
    }
}

/// A reference to an object of a known kind by name, optionally in another namespace.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct ObjectRef {
    /// Namespace of the referenced object; the referring object's namespace when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the referenced object.
    pub name: String,
}

impl ObjectRef {
    /// The namespace this reference points into, given the referring object's namespace.
    pub fn namespace_or<'a>(&'a self, own: &'a str) -> &'a str {
        self.namespace.as_deref().unwrap_or(own)
    }
}

/// A reference to an object of a known kind in the referring object's namespace.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct LocalName {
    /// Name of the referenced object, in the same namespace.
    pub name: String,
}

/// A reference to a key of a Secret in the referring object's namespace. Secret values never go into
/// spec: only references do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SecretKeyRef {
    /// Name of the Secret, in the same namespace.
    pub name: String,
    /// Key within the Secret; a kind-specific default when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A party of the rules: who must act in a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Party {
    /// The initiator of the integration service (p.2): its owner consumes the service.
    Initiator,
    /// The service owner (p.2).
    Owner,
    /// The operator of the e-government infrastructure (p.2).
    Operator,
    /// The service integrator (p.2, p.11).
    Integrator,
    /// Owner, initiator and operator together (testing, p.21, p.38).
    All,
}

/// A recorded decision of one party, appended to `spec.*.events` (DESIGN §2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionEvent<T> {
    /// What was decided.
    #[serde(rename = "type")]
    pub type_: T,
    /// When it was decided (RFC 3339). Deadlines count from the local (Asia/Almaty) date.
    pub at: Timestamp,
    /// Who decided: the person or organization, as in the signed document.
    pub by: String,
    /// Reasons, required by the rules for returns and refusals (p.13, p.17, p.34, p.35).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Reference to the EDS signature of the document (p.8: every application is EDS-certified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// p.51: the operator's own suspension of a service or connection whose technical errors are not
/// fixed promptly (or of a whole information system).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperatorSuspension {
    /// Why (the unfixed technical errors).
    pub reason: String,
    /// When the operator decided.
    pub at: Timestamp,
    /// Who decided, on the operator's side.
    pub by: String,
}

/// The step the object waits for: who must do what, and by when (DESIGN §2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NextStep {
    /// Who must act.
    pub party: Party,
    /// What they must do.
    pub action: String,
    /// The paragraph of the rules that sets the step and its deadline.
    pub rule: String,
    /// The local date the step opened (the event that opened it).
    pub opened: Date,
    /// The last local date on which the step may be done; absent where the rules set no deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Date>,
}

/// A suspension in force (DESIGN §2): the reason, when it took effect, and the legal bound.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Suspension {
    /// The primary reason (a `Suspended` condition reason).
    pub reason: String,
    /// Every cause in force, primary first, each with its rule.
    pub message: String,
    /// When the operator put the suspension into effect.
    pub since: Timestamp,
    /// The legal bound by which it had to take effect (p.65: revocation + 1 working day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Timestamp>,
    /// Whether `since` is within `deadline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_deadline: Option<bool>,
}

/// One entry of the hash-chained journal (DESIGN §2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// When the operator recorded it.
    pub at: Timestamp,
    /// What kind of entry: `Event` (a decision accepted from spec), `Phase`, a condition type, ...
    #[serde(rename = "type")]
    pub type_: String,
    /// Machine-readable reason.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// `sha256(previous hash ‖ canonical entry)`, hex; the first previous hash is the object's uid.
    pub hash: String,
}

/// A point of the chain: a sequence number and the hash of the entry at it (DESIGN §2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JournalPoint {
    /// Sequence number (0 for the start of the chain).
    pub seq: u64,
    /// Hash at that point (the object's uid at seq 0).
    pub hash: String,
}

/// Fields every status carries: observed generation, conditions and the journal.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommonStatus {
    /// The `metadata.generation` this status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// What is true now (metav1.Condition).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The newest journal entries (bounded); the chain continues across truncation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub journal: Vec<JournalEntry>,
    /// The newest entry of the chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal_head: Option<JournalPoint>,
    /// The point just before the oldest entry kept in `journal` (seq 0 and the uid when none were
    /// dropped), so that the kept entries can be verified on their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal_base: Option<JournalPoint>,
    /// How many of the spec's decision events have been accepted into the journal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_journaled: Option<u32>,
}

/// Condition types and reasons (DESIGN §2).
pub mod cond {
    /// kstatus: the object reached what it is for.
    pub const READY: &str = "Ready";
    /// kstatus: the controller is working towards the desired state.
    pub const RECONCILING: &str = "Reconciling";
    /// kstatus: progress is impossible until the spec or a reference changes.
    pub const STALLED: &str = "Stalled";
    /// A contract with the operator is in force (p.4).
    pub const CONTRACT_VALID: &str = "ContractValid";
    /// An IS-security test protocol is in force (p.8, p.65).
    pub const SECURITY_PROTOCOL_VALID: &str = "SecurityProtocolValid";
    /// The transport certificate is valid and carries the BIN/IIN (App.6).
    pub const CERTIFICATE_VALID: &str = "CertificateValid";
    /// Interactions are suspended.
    pub const SUSPENDED: &str = "Suspended";
    /// The registry accepts the service (unique key, p.3 exclusions).
    pub const ACCEPTED: &str = "Accepted";
    /// The passport is published in the registry (p.27, p.30).
    pub const PUBLISHED: &str = "Published";
    /// The test route is deployed.
    pub const TEST_ROUTE_READY: &str = "TestRouteReady";
    /// The production route is deployed.
    pub const PRODUCTION_ROUTE_READY: &str = "ProductionRouteReady";
    /// A technological break is in progress (p.48).
    pub const IN_MAINTENANCE: &str = "InMaintenance";
    /// A step is past its deadline in working days.
    pub const DEADLINE_EXCEEDED: &str = "DeadlineExceeded";
    /// The connection application is approved.
    pub const APPROVED: &str = "Approved";
    /// Test access is granted and in force.
    pub const TEST_ACCESS: &str = "TestAccess";
    /// Production access is granted and in force.
    pub const PRODUCTION_ACCESS: &str = "ProductionAccess";
    /// The consent service is used where the service carries personal data (p.7, p.45-7).
    pub const CONSENT_SERVICE: &str = "ConsentService";
    /// The tech window is agreed by owner, initiator and operator (p.48).
    pub const AGREED: &str = "Agreed";
    /// The tech window was announced 3 working days ahead (p.48).
    pub const LEAD_TIME_MET: &str = "LeadTimeMet";
    /// The tech window lies in the default hours: 21:00-06:00, weekends and holidays (p.48).
    pub const WITHIN_DEFAULT_HOURS: &str = "WithinDefaultHours";
    /// The tech window is in progress now.
    pub const ACTIVE: &str = "Active";
}

/// Reasons of `Suspended=True` (DESIGN §2), in order of precedence: the first in force is primary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SuspensionReason {
    /// p.65: the system's IS-security test protocol was revoked.
    SecurityProtocolRevoked,
    /// p.8: an art. 49 p.2 object has no IS-security test protocol in force.
    SecurityProtocolMissing,
    /// App.6: the transport certificate has expired; no message can be signed.
    CertificateExpired,
    /// p.51: the whole information system is suspended by the operator.
    SystemSuspended,
    /// p.51: the operator suspended this service or connection.
    OperatorSuspension,
    /// p.4: a non-state initiator has no contract with the operator.
    ContractMissing,
    /// p.4: a non-state initiator's contract has expired.
    ContractExpired,
    /// The service this connection uses is suspended.
    ServiceSuspended,
    /// p.7, p.45-7: a personal-data service used without the consent service.
    ConsentServiceMissing,
    /// App.5: the pilot-project order that is the connection's basis has expired.
    PilotOrderExpired,
    /// p.21, p.38: testing took longer than 3 months.
    TestingPeriodExpired,
}

impl SuspensionReason {
    /// The condition reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SecurityProtocolRevoked => "SecurityProtocolRevoked",
            Self::SecurityProtocolMissing => "SecurityProtocolMissing",
            Self::CertificateExpired => "CertificateExpired",
            Self::SystemSuspended => "SystemSuspended",
            Self::OperatorSuspension => "OperatorSuspension",
            Self::ContractMissing => "ContractMissing",
            Self::ContractExpired => "ContractExpired",
            Self::ServiceSuspended => "ServiceSuspended",
            Self::ConsentServiceMissing => "ConsentServiceMissing",
            Self::PilotOrderExpired => "PilotOrderExpired",
            Self::TestingPeriodExpired => "TestingPeriodExpired",
        }
    }
}
