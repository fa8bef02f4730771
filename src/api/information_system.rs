//! `InformationSystem`: a participant's information system (p.2, p.4, p.8, p.65, App.3, App.5).

use jiff::Timestamp;
use jiff::civil::Date;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{CommonStatus, OperatorSuspension, SecretKeyRef, Suspension};
use super::validation::{bin_rule, cidr_list_rule};

/// An information system (АЖ) that takes part in integration through the gateway: its owner
/// organization, whether it is a state system, its contract with the operator, its IS-security test
/// protocols, its transport certificate and its network addresses per contour.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "integration.egov.kz",
    version = "v1alpha1",
    kind = "InformationSystem",
    plural = "informationsystems",
    shortname = "infosys",
    category = "shep",
    namespaced,
    status = "InformationSystemStatus",
    doc = "A participant's information system (p.2, p.4, p.8, p.65, App.3/App.5).",
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"BIN","type":"string","jsonPath":".spec.organization.bin"}"#,
    printcolumn = r#"{"name":"State","type":"boolean","jsonPath":".spec.state"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct InformationSystemSpec {
    /// The organization that owns the system (App.3, App.5).
    pub organization: Organization,
    /// Whether the system belongs to a state body. State-to-state connections skip the owner's
    /// approval (p.45-3); non-state systems need a contract with the operator (p.4).
    pub state: bool,
    /// Whether the system is an object of art. 49 p.2 of the Law on informatization: then a positive
    /// IS-security test protocol must be attached to every application (p.8).
    #[serde(default)]
    pub article49_object: bool,
    /// The transport EDS certificate issued by the NCA (App.3, App.6). The subject's serial number
    /// must carry the organization's BIN/IIN; its expiry is tracked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport_certificate: Option<TransportCertificate>,
    /// IS-security test protocols (p.8). Revoking the last one in force suspends every interaction of
    /// the system within 1 working day (p.65).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_protocols: Vec<SecurityProtocol>,
    /// The paid contract with the operator, required for a non-state system (p.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<Contract>,
    /// Responsible persons (p.63, p.64: a change is notified within one week).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_persons: Vec<ResponsiblePerson>,
    /// Network addresses per contour: the CIDRs the route NetworkPolicies admit for this system's
    /// connections and allow egress to for its services' backends (App.3, App.5: IP/port per contour).
    #[serde(default)]
    pub networks: Networks,
    /// p.51: the operator suspends every interaction of this system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_suspension: Option<OperatorSuspension>,
}

/// The owner organization (App.3, App.5).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// Full name of the organization.
    #[schemars(length(min = 1, max = 512))]
    pub name: String,
    /// BIN (business) or IIN (individual) identification number: 12 digits with a check digit.
    #[schemars(length(min = 12, max = 12))]
    #[x_kube(validation = bin_rule())]
    pub bin: String,
}

/// A reference to the transport certificate (App.6).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransportCertificate {
    /// The Secret holding the PEM certificate (key `tls.crt` by default). Only the public certificate
    /// is read; the operator never needs the private key.
    pub secret_ref: SecretKeyRef,
}

/// An IS-security test protocol (p.8, p.65).
#[derive(KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("self.validUntil >= self.issued").message("validUntil must not be before issued"))]
pub struct SecurityProtocol {
    /// Protocol number.
    #[schemars(length(min = 1, max = 128))]
    pub id: String,
    /// Date of issue.
    pub issued: Date,
    /// Last day of validity.
    pub valid_until: Date,
    /// When the protocol was revoked (p.65). From then on it is not in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

/// The paid contract with the operator (p.4).
#[derive(KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("!has(self.validUntil) || self.validUntil >= self.signed").message("contract validUntil must not be before signed"))]
pub struct Contract {
    /// Contract number.
    #[schemars(length(min = 1, max = 128))]
    pub number: String,
    /// Date signed.
    pub signed: Date,
    /// Last day of validity; open-ended when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Date>,
}

/// A responsible person (p.63).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResponsiblePerson {
    /// Full name.
    pub name: String,
    /// Role, for example "information security" or "administrator".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// E-mail address (notices go by e-mail, App.7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Network addresses of the system per contour.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Networks {
    /// CIDRs of the system in the test contour.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64), inner(length(max = 49)))]
    #[x_kube(validation = cidr_list_rule())]
    pub test: Vec<String>,
    /// CIDRs of the system in the production contour.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64), inner(length(max = 49)))]
    #[x_kube(validation = cidr_list_rule())]
    pub production: Vec<String>,
}

impl Networks {
    /// The CIDRs of one contour.
    pub fn of(&self, c: super::common::Contour) -> &[String] {
        match c {
            super::common::Contour::Test => &self.test,
            super::common::Contour::Production => &self.production,
        }
    }
}

/// What the operator derived for an information system.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InformationSystemStatus {
    /// `Active` or `Suspended`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The suspension in force, with its legal deadline (p.65).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspension: Option<Suspension>,
    /// Expiry of the transport certificate, read from its Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_not_after: Option<Timestamp>,
    /// How many services this system owns and how many connections it initiates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<u32>,
    /// How many connections this system initiates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<u32>,
    /// Conditions, journal and observed generation.
    #[serde(flatten)]
    pub common: CommonStatus,
}
