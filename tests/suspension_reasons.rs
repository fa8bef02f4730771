//! Every suspension reason of DESIGN §2, and the other decisions that need several objects
//! (propagation, deadlines, decommission, duplicate keys, missing references), driven through the
//! whole engine from the bank scenario with one fact changed at a time.

use std::path::PathBuf;

use jiff::Timestamp;
use serde_json::{Value, json};
use shep_operator::calendar::Calendar;
use shep_operator::manifest::{Checker, Loaded};
use shep_operator::plan::{Plan, plan};
use shep_operator::render::{Child, RenderSettings};

const NOW: &str = "2026-12-03T12:00:00+05:00";

fn docs() -> Vec<Value> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/02-bank-connected");
    let mut out = Vec::new();
    for f in ["systems.yaml", "services.yaml", "connections.yaml"] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        out.extend(serde_saphyr::from_multiple::<Value>(&text).unwrap());
    }
    out
}

fn doc<'a>(docs: &'a mut [Value], kind: &str, name: &str) -> &'a mut Value {
    docs.iter_mut()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{kind} {name}"))
}

fn run(docs: Vec<Value>) -> Plan {
    let checker = Checker::new();
    let mut l = Loaded::default();
    for (i, d) in docs.into_iter().enumerate() {
        l.add_value(&format!("doc{i}"), d, &checker);
    }
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    let now: Timestamp = NOW.parse().unwrap();
    plan(
        &l.snapshot,
        now,
        &Calendar::default(),
        &RenderSettings::default(),
    )
}

fn k(ns: &str, n: &str) -> (String, String) {
    (ns.into(), n.into())
}

fn conn(p: &Plan) -> &shep_operator::api::ServiceConnectionStatus {
    &p.connections[&k("altyn-bank", "legal-entity-info")]
        .0
        .status
}

fn svc(p: &Plan) -> &shep_operator::api::IntegrationServiceStatus {
    &p.services[&k("minjust", "legal-entity-info")].0.status
}

fn cond<'a>(
    c: &'a [k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    t: &str,
) -> &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
    c.iter().find(|c| c.type_ == t).unwrap()
}

fn production_senders(p: &Plan) -> usize {
    let kids = &p.services[&k("minjust", "legal-entity-info")].1;
    kids.iter()
        .find_map(|c| match c {
            Child::Secret(s)
                if s.metadata.name.as_deref() == Some("legal-entity-info-production-senders") =>
            {
                let f: shep_operator::route::config::SendersFile =
                    serde_saphyr::from_slice(&s.data.as_ref().unwrap()["senders.yaml"].0).unwrap();
                Some(f.senders.len())
            }
            _ => None,
        })
        .unwrap_or(0)
}

fn assert_suspended(p: &Plan, reason: &str) {
    let c = conn(p);
    assert_eq!(c.phase.as_deref(), Some("Suspended"), "{reason}");
    assert_eq!(
        c.suspension.as_ref().map(|s| s.reason.as_str()),
        Some(reason)
    );
    assert_eq!(cond(&c.common.conditions, "Suspended").reason, reason);
    assert_eq!(
        production_senders(p),
        0,
        "{reason}: the sender must leave the route"
    );
}

#[test]
fn baseline_is_active() {
    let p = run(docs());
    assert_eq!(conn(&p).phase.as_deref(), Some("Active"));
    assert_eq!(production_senders(&p), 1);
}

#[test]
fn operator_suspension_of_the_service_suspends_its_connections() {
    let mut d = docs();
    doc(&mut d, "IntegrationService", "legal-entity-info")["spec"]["operatorSuspension"] = json!({"reason": "backend answers with malformed envelopes for 3 days", "at": "2026-12-02T10:00:00+05:00", "by": "Operator duty desk"});
    let p = run(d);
    assert_eq!(
        svc(&p).suspension.as_ref().unwrap().reason,
        "OperatorSuspension"
    );
    assert_eq!(
        cond(&svc(&p).common.conditions, "ProductionRouteReady").reason,
        "Suspended"
    );
    assert_suspended(&p, "ServiceSuspended");
    assert!(
        conn(&p)
            .suspension
            .as_ref()
            .unwrap()
            .message
            .contains("p.51")
    );
}

#[test]
fn operator_suspension_of_a_connection() {
    let mut d = docs();
    doc(&mut d, "ServiceConnection", "legal-entity-info")["spec"]["operatorSuspension"] = json!({"reason": "resends every message 50 times", "at": "2026-12-02T10:00:00+05:00", "by": "Operator duty desk"});
    assert_suspended(&run(d), "OperatorSuspension");
}

#[test]
fn operator_suspension_of_the_initiator_system() {
    let mut d = docs();
    doc(&mut d, "InformationSystem", "altyn-core")["spec"]["operatorSuspension"] = json!({"reason": "unfixed errors", "at": "2026-12-02T10:00:00+05:00", "by": "Operator duty desk"});
    assert_suspended(&run(d), "SystemSuspended");
}

#[test]
fn revoked_protocol_of_the_owner_suspends_the_service_and_its_connections() {
    let mut d = docs();
    doc(&mut d, "InformationSystem", "gbd-ul")["spec"]["securityProtocols"][0]["revokedAt"] =
        json!("2026-12-03T09:00:00+05:00");
    let p = run(d);
    assert_eq!(svc(&p).phase.as_deref(), Some("Suspended"));
    assert_eq!(
        svc(&p).suspension.as_ref().unwrap().reason,
        "SecurityProtocolRevoked"
    );
    // No route at all while the owner is suspended.
    assert!(p.services[&k("minjust", "legal-entity-info")].1.is_empty());
    assert_suspended(&p, "ServiceSuspended");
}

#[test]
fn art49_object_without_protocol() {
    let mut d = docs();
    doc(&mut d, "InformationSystem", "altyn-core")["spec"]["securityProtocols"] = json!([]);
    assert_suspended(&run(d), "SecurityProtocolMissing");
}

#[test]
fn expired_contract() {
    let mut d = docs();
    doc(&mut d, "InformationSystem", "altyn-core")["spec"]["contract"]["validUntil"] =
        json!("2026-11-30");
    assert_suspended(&run(d), "ContractExpired");
}

#[test]
fn missing_contract() {
    let mut d = docs();
    doc(&mut d, "InformationSystem", "altyn-core")["spec"]
        .as_object_mut()
        .unwrap()
        .remove("contract");
    assert_suspended(&run(d), "ContractMissing");
}

#[test]
fn personal_data_without_the_consent_service() {
    let mut d = docs();
    doc(&mut d, "IntegrationService", "legal-entity-info")["spec"]["personalData"] = json!(true);
    let p = run(d.clone());
    assert_suspended(&p, "ConsentServiceMissing");
    assert_eq!(
        cond(&conn(&p).common.conditions, "ConsentService").status,
        "False"
    );
    doc(&mut d, "ServiceConnection", "legal-entity-info")["spec"]["usesConsentService"] =
        json!(true);
    let p = run(d);
    assert_eq!(conn(&p).phase.as_deref(), Some("Active"));
    assert_eq!(
        cond(&conn(&p).common.conditions, "ConsentService").reason,
        "Used"
    );
}

#[test]
fn expired_pilot_order() {
    let mut d = docs();
    doc(&mut d, "ServiceConnection", "legal-entity-info")["spec"]["pilotOrder"] =
        json!({"number": "PP-12", "validUntil": "2026-12-02"});
    assert_suspended(&run(d.clone()), "PilotOrderExpired");
    doc(&mut d, "ServiceConnection", "legal-entity-info")["spec"]["pilotOrder"]["validUntil"] =
        json!("2026-12-03");
    assert_eq!(conn(&run(d)).phase.as_deref(), Some("Active"));
}

#[test]
fn testing_longer_than_three_months() {
    let mut d = docs();
    let events =
        &mut doc(&mut d, "ServiceConnection", "legal-entity-info")["spec"]["application"]["events"];
    events.as_array_mut().unwrap().truncate(4);
    events[3]["at"] = json!("2026-09-02T10:00:00+05:00");
    events[2]["at"] = json!("2026-09-01T12:00:00+05:00");
    events[1]["at"] = json!("2026-09-01T11:00:00+05:00");
    // Test access on 2 September: testing had to end by 2 December.
    let p = run(d);
    let c = conn(&p);
    assert_eq!(c.lifecycle_phase.as_deref(), Some("Testing"));
    assert_eq!(c.testing_until, Some(jiff::civil::date(2026, 12, 2)));
    assert_eq!(
        c.suspension.as_ref().unwrap().reason,
        "TestingPeriodExpired"
    );
    assert!(c.suspension.as_ref().unwrap().message.contains("p.38"));
}

#[test]
fn expired_transport_certificate() {
    let mut params = rcgen::CertificateParams::new(vec!["altyn".into()]).unwrap();
    params.distinguished_name.push(
        rcgen::DnType::CustomDnType(vec![2, 5, 4, 5]),
        rcgen::DnValue::PrintableString("BIN951240000185".try_into().unwrap()),
    );
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2026, 12, 1);
    let pem = params
        .self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap()
        .pem();
    let mut d = docs();
    doc(&mut d, "Secret", "altyn-core-transport-cert")["stringData"]["tls.crt"] = json!(pem);
    let p = run(d);
    assert_suspended(&p, "CertificateExpired");
    let sys = &p.systems[&k("altyn-bank", "altyn-core")].status;
    assert_eq!(
        cond(&sys.common.conditions, "CertificateValid").reason,
        "CertificateExpired"
    );
}

#[test]
fn certificate_of_another_organization_is_flagged() {
    let mut d = docs();
    let minjust_pem =
        doc(&mut d, "Secret", "gbd-ul-transport-cert")["stringData"]["tls.crt"].clone();
    doc(&mut d, "Secret", "altyn-core-transport-cert")["stringData"]["tls.crt"] = minjust_pem;
    let p = run(d);
    let sys = &p.systems[&k("altyn-bank", "altyn-core")].status;
    assert_eq!(
        cond(&sys.common.conditions, "CertificateValid").reason,
        "SubjectMismatch"
    );
    assert_eq!(cond(&sys.common.conditions, "Ready").status, "False");
}

#[test]
fn a_late_step_sets_deadline_exceeded() {
    let mut d = docs();
    let events =
        &mut doc(&mut d, "ServiceConnection", "legal-entity-info")["spec"]["application"]["events"];
    events.as_array_mut().unwrap().truncate(1);
    // Submitted Friday 27 Nov: the owner had to answer by Tuesday 1 Dec (p.34).
    events[0]["at"] = json!("2026-11-27T10:00:00+05:00");
    let p = run(d);
    let c = conn(&p);
    assert_eq!(c.phase.as_deref(), Some("OwnerReview"));
    let dl = cond(&c.common.conditions, "DeadlineExceeded");
    assert_eq!(dl.status, "True");
    assert!(
        dl.message.contains("2026-12-01") && dl.message.contains("p.34"),
        "{}",
        dl.message
    );
    assert!(
        dl.message.contains("2 working day(s) late"),
        "{}",
        dl.message
    );
    assert!(c.credentials.is_none(), "no credentials before test access");
}

#[test]
fn a_disallowed_event_stalls_with_the_allowed_ones() {
    let mut d = docs();
    let events =
        doc(&mut d, "ServiceConnection", "legal-entity-info")["spec"]["application"]["events"]
            .as_array_mut()
            .unwrap();
    events.truncate(2);
    events.push(json!({"type": "ProductionAccessGranted", "at": "2026-09-05T10:00:00+05:00", "by": "Operator"}));
    let p = run(d);
    let c = conn(&p);
    let st = cond(&c.common.conditions, "Stalled");
    assert_eq!(
        (st.status.as_str(), st.reason.as_str()),
        ("True", "EventNotAllowed")
    );
    assert!(
        st.message.contains("spec.application.events[2]")
            && st
                .message
                .contains("allowed: OperatorApproved, OperatorReturned"),
        "{}",
        st.message
    );
    assert_eq!(c.phase.as_deref(), Some("OperatorCheck"));
}

#[test]
fn permanent_decommission_switches_the_service_off() {
    let mut d = docs();
    doc(&mut d, "IntegrationService", "legal-entity-info")["spec"]["decommission"] = json!({
        "kind": "Permanent", "announcedAt": "2026-11-20T10:00:00+05:00", "effectiveAt": "2026-12-01T00:00:00+05:00",
        "reason": "Replaced by GBDUL_LegalEntityInfo_v2"
    });
    let p = run(d);
    let s = svc(&p);
    assert_eq!(s.phase.as_deref(), Some("Decommissioned"));
    assert_eq!(
        cond(&s.common.conditions, "DecommissionNotice").reason,
        "NoticeTooShort"
    );
    assert!(p.services[&k("minjust", "legal-entity-info")].1.is_empty());
    assert_eq!(
        conn(&p).suspension.as_ref().unwrap().reason,
        "ServiceSuspended"
    );
}

#[test]
fn temporary_decommission_is_a_break_the_route_enforces() {
    let mut d = docs();
    doc(&mut d, "IntegrationService", "legal-entity-info")["spec"]["decommission"] = json!({
        "kind": "Temporary", "announcedAt": "2026-12-03T09:00:00+05:00", "effectiveAt": "2026-12-03T10:00:00+05:00",
        "until": "2026-12-04T10:00:00+05:00", "reason": "Modification of the service"
    });
    let p = run(d);
    assert_eq!(
        cond(&svc(&p).common.conditions, "InMaintenance").status,
        "True"
    );
    assert_eq!(
        cond(&svc(&p).common.conditions, "DecommissionNotice").status,
        "True"
    );
    assert_eq!(conn(&p).phase.as_deref(), Some("Active"));
}

#[test]
fn duplicate_service_key_keeps_the_older_service() {
    let mut d = docs();
    let mut copy = doc(&mut d, "IntegrationService", "legal-entity-info").clone();
    copy["metadata"]["name"] = json!("legal-entity-info-copy");
    copy["metadata"]["creationTimestamp"] = json!("2026-12-01T00:00:00Z");
    doc(&mut d, "IntegrationService", "legal-entity-info")["metadata"]["creationTimestamp"] =
        json!("2026-10-01T00:00:00Z");
    d.push(copy);
    let p = run(d);
    let copy = &p.services[&k("minjust", "legal-entity-info-copy")].0.status;
    assert_eq!(
        cond(&copy.common.conditions, "Accepted").reason,
        "DuplicateServiceKey"
    );
    assert_eq!(cond(&copy.common.conditions, "Stalled").status, "True");
    assert!(
        p.services[&k("minjust", "legal-entity-info-copy")]
            .1
            .is_empty()
    );
    assert_eq!(cond(&svc(&p).common.conditions, "Accepted").status, "True");
}

#[test]
fn a_connection_to_a_missing_service_stalls_and_blocks_nothing_else() {
    let mut d = docs();
    let mut other = doc(&mut d, "ServiceConnection", "legal-entity-info").clone();
    other["metadata"]["name"] = json!("nonexistent");
    other["spec"]["serviceRef"]["name"] = json!("no-such-service");
    d.push(other);
    let p = run(d);
    let c = &p.connections[&k("altyn-bank", "nonexistent")].0.status;
    assert_eq!(
        cond(&c.common.conditions, "Stalled").reason,
        "ServiceNotFound"
    );
    assert!(p.connections[&k("altyn-bank", "nonexistent")].1.is_empty());
    assert_eq!(conn(&p).phase.as_deref(), Some("Active"));
}

#[test]
fn lifting_the_cause_lifts_the_suspension_and_journals_both() {
    // Suspend, then feed the result back with the cause removed.
    let mut d = docs();
    doc(&mut d, "InformationSystem", "altyn-core")["spec"]["securityProtocols"][0]["revokedAt"] =
        json!("2026-12-03T09:00:00+05:00");
    let p = run(d.clone());
    let status = serde_json::to_value(conn(&p)).unwrap();
    let mut d2 = docs();
    doc(&mut d2, "ServiceConnection", "legal-entity-info")["status"] = status;
    let p2 = run(d2);
    let c = conn(&p2);
    assert_eq!(c.phase.as_deref(), Some("Active"));
    assert!(c.suspension.is_none());
    let built = &p2.connections[&k("altyn-bank", "legal-entity-info")].0;
    assert!(
        built
            .entries
            .iter()
            .any(|e| e.type_ == "Suspended" && e.reason == "NotSuspended"),
        "{:?}",
        built.entries
    );
    assert!(
        built
            .entries
            .iter()
            .any(|e| e.type_ == "Phase" && e.message == "phase Suspended -> Active")
    );
    shep_operator::journal::verify(
        &c.common,
        Some("ServiceConnection/altyn-bank/legal-entity-info"),
    )
    .unwrap();
}
