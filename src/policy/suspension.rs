//! What must be suspended, and why (DESIGN §2): the causes of suspension of a system, a service and a
//! connection, their precedence, and the suspension record with its legal deadline.

use jiff::Timestamp;
use jiff::civil::Date;

use super::Check;
use crate::api::{
    Contract, InformationSystemSpec, OperatorSuspension, SecurityProtocol, Suspension,
    SuspensionReason,
};
use crate::calendar::{Calendar, end_of_day, local_date, next_day_start, show};

/// One cause of suspension in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cause {
    /// The condition reason.
    pub reason: SuspensionReason,
    /// Why, with the rule.
    pub message: String,
    /// The legal bound by which the suspension must take effect, where the rules set one.
    pub deadline: Option<Timestamp>,
}

impl Cause {
    fn new(reason: SuspensionReason, message: String) -> Self {
        Self {
            reason,
            message,
            deadline: None,
        }
    }
}

/// The facts of a transport certificate, read from its Secret at dereference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateFacts {
    /// The system names no certificate.
    NotGiven,
    /// The Secret or key is not there (or, in `shep render`, not among the inputs).
    NotFound(String),
    /// The Secret holds no readable PEM certificate.
    Unreadable(String),
    /// What the certificate says.
    Read {
        /// End of validity.
        not_after: Timestamp,
        /// The subject's serialNumber attribute (NCA certificates: `IIN…` or `BIN…`).
        subject_serial: Option<String>,
    },
}

/// What the rules say of one information system now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemAssessment {
    /// p.4: the contract with the operator.
    pub contract: Check,
    /// p.8, p.65: the IS-security test protocols.
    pub protocol: Check,
    /// App.6: the transport certificate.
    pub certificate: Check,
    /// Causes that suspend every interaction of the system (as owner and as initiator).
    pub system_causes: Vec<Cause>,
    /// Causes that suspend the system's connections as initiator only (p.4: no contract).
    pub initiator_causes: Vec<Cause>,
    /// When any of these can next change by the clock alone.
    pub next_change: Option<Timestamp>,
}

/// A protocol is in force on a date unless revoked by `now`.
fn in_force(p: &SecurityProtocol, today: Date, now: Timestamp) -> bool {
    p.issued <= today && today <= p.valid_until && p.revoked_at.is_none_or(|r| r > now)
}

/// p.65: the deadline of the suspension after a revocation: the end of the first working day after
/// the day of revocation.
pub fn revocation_deadline(revoked_at: Timestamp, calendar: &Calendar) -> Timestamp {
    end_of_day(calendar.add_working_days(local_date(revoked_at), 1))
}

fn min_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The first instant after `date` ends, if that is still to come.
fn after_day(date: Date, now: Timestamp) -> Option<Timestamp> {
    let t = next_day_start(date);
    (t > now).then_some(t)
}

fn assess_contract(
    state: bool,
    contract: Option<&Contract>,
    today: Date,
    now: Timestamp,
) -> (Check, Option<Cause>, Option<Timestamp>) {
    if state {
        return (
            Check::yes(
                "NotRequired",
                "state system: served without a paid contract (p.4)",
            ),
            None,
            None,
        );
    }
    match contract {
        None => {
            let m = "non-state system without a contract with the operator: its connections are suspended (p.4)".to_string();
            (
                Check::no("ContractMissing", &m),
                Some(Cause::new(SuspensionReason::ContractMissing, m)),
                None,
            )
        }
        Some(c) if c.signed > today => {
            let m = format!(
                "contract {} is in force only from {} (p.4)",
                c.number, c.signed
            );
            let start = crate::calendar::start_of_day(c.signed);
            (
                Check::no("ContractMissing", &m),
                Some(Cause::new(SuspensionReason::ContractMissing, m)),
                (start > now).then_some(start),
            )
        }
        Some(c) => match c.valid_until {
            Some(until) if until < today => {
                let m = format!(
                    "contract {} expired on {until}: the system's connections are suspended (p.4)",
                    c.number
                );
                (
                    Check::no("ContractExpired", &m),
                    Some(Cause::new(SuspensionReason::ContractExpired, m)),
                    None,
                )
            }
            Some(until) => (
                Check::yes(
                    "InForce",
                    &format!(
                        "contract {} signed {}, valid until {until}",
                        c.number, c.signed
                    ),
                ),
                None,
                after_day(until, now),
            ),
            None => (
                Check::yes(
                    "InForce",
                    &format!("contract {} signed {}", c.number, c.signed),
                ),
                None,
                None,
            ),
        },
    }
}

fn assess_protocols(
    spec: &InformationSystemSpec,
    today: Date,
    now: Timestamp,
    calendar: &Calendar,
) -> (Check, Option<Cause>, Option<Timestamp>) {
    let protocols = &spec.security_protocols;
    // The earliest future moment a protocol changes state: its start, its end, or its revocation.
    let mut next = None;
    for p in protocols {
        if p.issued > today {
            next = min_time(next, Some(crate::calendar::start_of_day(p.issued)));
        }
        next = min_time(next, after_day(p.valid_until, now));
        if let Some(r) = p.revoked_at.filter(|r| *r > now) {
            next = min_time(next, Some(r));
        }
    }
    if let Some(p) = protocols
        .iter()
        .filter(|p| in_force(p, today, now))
        .max_by_key(|p| p.valid_until)
    {
        let m = format!(
            "IS-security test protocol {} in force until {}",
            p.id, p.valid_until
        );
        return (Check::yes("InForce", &m), None, next);
    }
    // p.65: the latest revocation that left no protocol in force.
    if let Some((p, r)) = protocols
        .iter()
        .filter_map(|p| p.revoked_at.filter(|r| *r <= now).map(|r| (p, r)))
        .max_by_key(|(_, r)| *r)
    {
        let deadline = revocation_deadline(r, calendar);
        let m = format!(
            "IS-security test protocol {} was revoked at {}: every interaction of the system is suspended within 1 working day, by {} (p.65)",
            p.id,
            show(r),
            show(deadline)
        );
        let cause = Cause {
            reason: SuspensionReason::SecurityProtocolRevoked,
            message: m.clone(),
            deadline: Some(deadline),
        };
        return (Check::no("SecurityProtocolRevoked", &m), Some(cause), next);
    }
    if spec.article49_object {
        let m = match protocols.iter().max_by_key(|p| p.valid_until) {
            Some(p) if p.valid_until < today => format!(
                "object of art. 49 p.2: IS-security test protocol {} expired on {}; a protocol in force is required (p.8)",
                p.id, p.valid_until
            ),
            Some(p) => format!(
                "object of art. 49 p.2: IS-security test protocol {} is in force only from {} (p.8)",
                p.id, p.issued
            ),
            None => "object of art. 49 p.2 without an IS-security test protocol (p.8)".to_string(),
        };
        let cause = Cause::new(SuspensionReason::SecurityProtocolMissing, m.clone());
        return (Check::no("SecurityProtocolMissing", &m), Some(cause), next);
    }
    (
        Check::yes(
            "NotRequired",
            "not an object of art. 49 p.2: no IS-security test protocol is required (p.8)",
        ),
        None,
        next,
    )
}

fn assess_certificate(
    bin: &str,
    facts: &CertificateFacts,
    now: Timestamp,
) -> (Check, Option<Cause>, Option<Timestamp>) {
    match facts {
        CertificateFacts::NotGiven => (
            Check::no(
                "NotProvided",
                "spec.transportCertificate is not set: messages cannot carry a transport signature (p.53, App.6)",
            ),
            None,
            None,
        ),
        CertificateFacts::NotFound(m) => (Check::unknown("SecretNotFound", m), None, None),
        CertificateFacts::Unreadable(m) => (Check::no("Unreadable", m), None, None),
        CertificateFacts::Read {
            not_after,
            subject_serial,
        } => {
            if *not_after <= now {
                let m = format!(
                    "transport certificate expired at {}: the system can sign no message (App.6)",
                    show(*not_after)
                );
                return (
                    Check::no("CertificateExpired", &m),
                    Some(Cause::new(SuspensionReason::CertificateExpired, m)),
                    None,
                );
            }
            match subject_serial {
                Some(s) if s.contains(bin) => (
                    Check::yes(
                        "Valid",
                        &format!(
                            "transport certificate valid until {}; its subject serial number {s} carries the BIN/IIN (App.6)",
                            show(*not_after)
                        ),
                    ),
                    None,
                    Some(*not_after),
                ),
                other => (
                    Check::no(
                        "SubjectMismatch",
                        &format!(
                            "the certificate's subject serial number ({}) does not carry the system's BIN/IIN {bin}: the gateway refuses its signatures (App.6 scenario 2)",
                            other.as_deref().unwrap_or("absent")
                        ),
                    ),
                    None,
                    Some(*not_after),
                ),
            }
        }
    }
}

/// Assesses an information system: contract (p.4), protocols (p.8, p.65), certificate (App.6) and
/// the operator's own suspension (p.51).
pub fn assess_system(
    spec: &InformationSystemSpec,
    cert: &CertificateFacts,
    now: Timestamp,
    calendar: &Calendar,
) -> SystemAssessment {
    let today = local_date(now);
    let (contract, contract_cause, n1) =
        assess_contract(spec.state, spec.contract.as_ref(), today, now);
    let (protocol, protocol_cause, n2) = assess_protocols(spec, today, now, calendar);
    let (certificate, cert_cause, n3) = assess_certificate(&spec.organization.bin, cert, now);
    let mut system_causes: Vec<Cause> = protocol_cause.into_iter().chain(cert_cause).collect();
    if let Some(s) = &spec.operator_suspension {
        system_causes.push(operator_cause(s, "the information system"));
    }
    system_causes.sort_by_key(|c| c.reason);
    SystemAssessment {
        contract,
        protocol,
        certificate,
        system_causes,
        initiator_causes: contract_cause.into_iter().collect(),
        next_change: min_time(min_time(n1, n2), n3),
    }
}

/// p.51: the operator's suspension as a cause.
pub fn operator_cause(s: &OperatorSuspension, what: &str) -> Cause {
    Cause::new(
        SuspensionReason::OperatorSuspension,
        format!(
            "the operator suspended {what} at {} ({}): {} (p.51)",
            show(s.at),
            s.by,
            s.reason
        ),
    )
}

/// The causes a system's own suspension passes to what depends on it: its services and the
/// connections it initiates. The operator's suspension of the system becomes `SystemSuspended`;
/// the other causes keep their reason (p.65: "all interactions of that object").
pub fn inherited_from_system(system: &str, causes: &[Cause]) -> Vec<Cause> {
    causes
        .iter()
        .map(|c| match c.reason {
            SuspensionReason::OperatorSuspension => Cause {
                reason: SuspensionReason::SystemSuspended,
                message: format!("information system {system}: {}", c.message),
                deadline: c.deadline,
            },
            _ => Cause {
                reason: c.reason,
                message: format!("information system {system}: {}", c.message),
                deadline: c.deadline,
            },
        })
        .collect()
}

/// The cause a suspended service passes to its connections.
pub fn inherited_from_service(service: &str, s: &Suspension) -> Cause {
    Cause {
        reason: SuspensionReason::ServiceSuspended,
        message: format!(
            "service {service} is suspended ({}): {}",
            s.reason, s.message
        ),
        deadline: s.deadline,
    }
}

/// The suspension record for the causes in force, continuing `prior` while the object stays
/// suspended. `since` is when the operator put it into effect; `metDeadline` proves the bound.
pub fn record(causes: &[Cause], prior: Option<&Suspension>, now: Timestamp) -> Option<Suspension> {
    let mut sorted: Vec<&Cause> = causes.iter().collect();
    sorted.sort_by_key(|c| c.reason);
    let primary = sorted.first()?;
    let since = prior.map(|p| p.since).unwrap_or(now);
    let deadline = sorted.iter().filter_map(|c| c.deadline).min();
    Some(Suspension {
        reason: primary.reason.as_str().to_string(),
        message: sorted
            .iter()
            .map(|c| format!("{}: {}", c.reason.as_str(), c.message))
            .collect::<Vec<_>>()
            .join("; "),
        since,
        deadline,
        met_deadline: deadline.map(|d| since <= d),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Networks, Organization};
    use jiff::civil::date;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn sys(state: bool) -> InformationSystemSpec {
        InformationSystemSpec {
            organization: Organization {
                name: "Bank".into(),
                bin: "990340001236".into(),
            },
            state,
            article49_object: false,
            transport_certificate: None,
            security_protocols: vec![],
            contract: None,
            responsible_persons: vec![],
            networks: Networks::default(),
            operator_suspension: None,
        }
    }

    fn protocol(id: &str, revoked: Option<&str>) -> SecurityProtocol {
        SecurityProtocol {
            id: id.into(),
            issued: date(2026, 1, 10),
            valid_until: date(2027, 1, 10),
            revoked_at: revoked.map(ts),
        }
    }

    fn cal() -> Calendar {
        Calendar::default()
    }

    const NOW: &str = "2026-12-03T12:00:00+05:00";

    #[test]
    fn p4_non_state_without_contract_suspends_connections() {
        let a = assess_system(&sys(false), &CertificateFacts::NotGiven, ts(NOW), &cal());
        assert_eq!(a.contract.reason, "ContractMissing");
        assert_eq!(
            a.initiator_causes[0].reason,
            SuspensionReason::ContractMissing
        );
        assert!(a.system_causes.is_empty());
    }

    #[test]
    fn p4_expired_contract() {
        let mut s = sys(false);
        s.contract = Some(Contract {
            number: "C-1".into(),
            signed: date(2025, 1, 1),
            valid_until: Some(date(2026, 12, 2)),
        });
        let a = assess_system(&s, &CertificateFacts::NotGiven, ts(NOW), &cal());
        assert_eq!(
            a.initiator_causes[0].reason,
            SuspensionReason::ContractExpired
        );
        // The day of expiry itself is still in force.
        s.contract.as_mut().unwrap().valid_until = Some(date(2026, 12, 3));
        let a = assess_system(&s, &CertificateFacts::NotGiven, ts(NOW), &cal());
        assert!(a.initiator_causes.is_empty());
        assert_eq!(a.next_change, Some(ts("2026-12-04T00:00:00+05:00")));
    }

    #[test]
    fn p4_state_systems_need_no_contract() {
        let a = assess_system(&sys(true), &CertificateFacts::NotGiven, ts(NOW), &cal());
        assert!(a.contract.ok());
        assert!(a.initiator_causes.is_empty());
    }

    #[test]
    fn p65_revocation_suspends_with_one_working_day_deadline() {
        let mut s = sys(true);
        // Revoked on Friday 4 Dec 2026 at 15:00: the deadline is the end of Monday 7 Dec.
        s.security_protocols = vec![protocol("IB-1", Some("2026-12-04T15:00:00+05:00"))];
        let a = assess_system(
            &s,
            &CertificateFacts::NotGiven,
            ts("2026-12-04T16:00:00+05:00"),
            &cal(),
        );
        let c = &a.system_causes[0];
        assert_eq!(c.reason, SuspensionReason::SecurityProtocolRevoked);
        assert_eq!(c.deadline, Some(ts("2026-12-07T23:59:59+05:00")));
        assert!(c.message.contains("p.65"));
        // Before the revocation instant it is still in force, and the revocation is the next change.
        let a = assess_system(
            &s,
            &CertificateFacts::NotGiven,
            ts("2026-12-04T14:00:00+05:00"),
            &cal(),
        );
        assert!(a.system_causes.is_empty());
        assert_eq!(a.next_change, Some(ts("2026-12-04T15:00:00+05:00")));
    }

    #[test]
    fn p65_a_second_protocol_in_force_keeps_the_system_running() {
        let mut s = sys(false);
        s.security_protocols = vec![
            protocol("IB-1", Some("2026-12-01T10:00:00+05:00")),
            protocol("IB-2", None),
        ];
        let a = assess_system(&s, &CertificateFacts::NotGiven, ts(NOW), &cal());
        assert!(a.protocol.ok());
        assert!(a.system_causes.is_empty());
    }

    #[test]
    fn p8_article49_object_needs_a_protocol() {
        let mut s = sys(true);
        s.article49_object = true;
        let a = assess_system(&s, &CertificateFacts::NotGiven, ts(NOW), &cal());
        assert_eq!(
            a.system_causes[0].reason,
            SuspensionReason::SecurityProtocolMissing
        );
        s.security_protocols = vec![SecurityProtocol {
            valid_until: date(2026, 6, 1),
            ..protocol("IB-old", None)
        }];
        let a = assess_system(&s, &CertificateFacts::NotGiven, ts(NOW), &cal());
        assert!(a.system_causes[0].message.contains("expired on 2026-06-01"));
        s.article49_object = false;
        let a = assess_system(&s, &CertificateFacts::NotGiven, ts(NOW), &cal());
        assert!(a.system_causes.is_empty());
    }

    #[test]
    fn certificate_expiry_and_subject_mismatch() {
        let s = sys(true);
        let expired = CertificateFacts::Read {
            not_after: ts("2026-12-01T00:00:00Z"),
            subject_serial: Some("BIN990340001236".into()),
        };
        let a = assess_system(&s, &expired, ts(NOW), &cal());
        assert_eq!(
            a.system_causes[0].reason,
            SuspensionReason::CertificateExpired
        );
        let other = CertificateFacts::Read {
            not_after: ts("2027-12-01T00:00:00Z"),
            subject_serial: Some("BIN123456789012".into()),
        };
        let a = assess_system(&s, &other, ts(NOW), &cal());
        assert_eq!(a.certificate.reason, "SubjectMismatch");
        assert!(a.system_causes.is_empty());
        let good = CertificateFacts::Read {
            not_after: ts("2027-12-01T00:00:00Z"),
            subject_serial: Some("BIN990340001236".into()),
        };
        let a = assess_system(&s, &good, ts(NOW), &cal());
        assert!(a.certificate.ok());
        assert_eq!(a.next_change, Some(ts("2027-12-01T00:00:00Z")));
    }

    #[test]
    fn p51_operator_suspension_of_a_system_passes_as_system_suspended() {
        let mut s = sys(true);
        s.operator_suspension = Some(OperatorSuspension {
            reason: "errors not fixed".into(),
            at: ts("2026-12-01T10:00:00Z"),
            by: "Operator".into(),
        });
        let a = assess_system(&s, &CertificateFacts::NotGiven, ts(NOW), &cal());
        assert_eq!(
            a.system_causes[0].reason,
            SuspensionReason::OperatorSuspension
        );
        let inherited = inherited_from_system("ns/bank", &a.system_causes);
        assert_eq!(inherited[0].reason, SuspensionReason::SystemSuspended);
    }

    #[test]
    fn record_keeps_since_and_proves_the_deadline() {
        let cause = Cause {
            reason: SuspensionReason::SecurityProtocolRevoked,
            message: "revoked".into(),
            deadline: Some(ts("2026-12-07T18:59:59Z")),
        };
        let r = record(
            std::slice::from_ref(&cause),
            None,
            ts("2026-12-04T11:00:00Z"),
        )
        .unwrap();
        assert_eq!(r.met_deadline, Some(true));
        let again = record(
            std::slice::from_ref(&cause),
            Some(&r),
            ts("2026-12-09T11:00:00Z"),
        )
        .unwrap();
        assert_eq!(again.since, r.since);
        assert_eq!(again.met_deadline, Some(true));
        // Acting late is recorded as late.
        let late = record(&[cause], None, ts("2026-12-08T11:00:00Z")).unwrap();
        assert_eq!(late.met_deadline, Some(false));
        assert!(record(&[], Some(&r), ts(NOW)).is_none());
    }

    #[test]
    fn precedence_picks_the_primary_reason() {
        let causes = vec![
            Cause::new(SuspensionReason::ContractMissing, "no contract".into()),
            Cause::new(SuspensionReason::SecurityProtocolRevoked, "revoked".into()),
        ];
        let r = record(&causes, None, ts(NOW)).unwrap();
        assert_eq!(r.reason, "SecurityProtocolRevoked");
        assert!(r.message.contains("ContractMissing: no contract"));
    }
}
