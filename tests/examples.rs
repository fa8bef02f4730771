//! Every example scenario, rendered at a fixed clock, reaches the statuses and children the rules
//! say it should.

use std::path::PathBuf;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use serde_json::Value;
use shep_operator::calendar::Calendar;
use shep_operator::manifest::{Checker, Loaded};
use shep_operator::plan::{Plan, plan};
use shep_operator::render::{Child, RenderSettings};
use shep_operator::route::config::{RouteConfig, SendersFile};
use shep_operator::snapshot::Snapshot;

const NOW: &str = "2026-12-03T12:00:00+05:00";

fn load(folder: &str) -> (Snapshot, Plan) {
    let mut l = Loaded::default();
    l.add_paths(
        &[PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(folder)],
        &Checker::new(),
    );
    assert!(l.errors.is_empty(), "{folder}: {:?}", l.errors);
    let now: Timestamp = NOW.parse().unwrap();
    let p = plan(
        &l.snapshot,
        now,
        &Calendar::default(),
        &RenderSettings::default(),
    );
    (l.snapshot, p)
}

fn key(ns: &str, name: &str) -> (String, String) {
    (ns.to_string(), name.to_string())
}

fn cond<'a>(
    c: &'a [k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    t: &str,
) -> &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
    c.iter()
        .find(|c| c.type_ == t)
        .unwrap_or_else(|| panic!("no condition {t}"))
}

fn children(p: &Plan) -> Vec<Child> {
    p.services
        .values()
        .flat_map(|(_, c)| c.clone())
        .chain(p.connections.values().flat_map(|(_, c)| c.clone()))
        .collect()
}

fn find(p: &Plan, kind: &str, ns: &str, name: &str) -> Child {
    children(p)
        .into_iter()
        .find(|c| c.id() == (kind, ns.to_string(), name.to_string()))
        .unwrap_or_else(|| panic!("no {kind} {ns}/{name}"))
}

fn secret_data(s: &Secret, k: &str) -> String {
    String::from_utf8(s.data.as_ref().unwrap()[k].0.clone()).unwrap()
}

fn senders(p: &Plan, contour: &str) -> SendersFile {
    let Child::Secret(s) = find(
        p,
        "Secret",
        "minjust",
        &format!("legal-entity-info-{contour}-senders"),
    ) else {
        unreachable!()
    };
    serde_saphyr::from_str(&secret_data(&s, "senders.yaml")).unwrap()
}

fn route_config(p: &Plan, contour: &str) -> RouteConfig {
    let Child::ConfigMap(c) = find(
        p,
        "ConfigMap",
        "minjust",
        &format!("legal-entity-info-{contour}"),
    ) else {
        unreachable!()
    };
    serde_saphyr::from_str(&c.data.unwrap()["route.yaml"]).unwrap()
}

fn ingress_cidrs(p: &Plan, contour: &str) -> Vec<String> {
    let v = find(
        p,
        "NetworkPolicy",
        "minjust",
        &format!("legal-entity-info-{contour}"),
    )
    .to_value();
    let mut out = Vec::new();
    for rule in v["spec"]["ingress"].as_array().unwrap() {
        for peer in rule["from"].as_array().unwrap() {
            if let Some(c) = peer["ipBlock"]["cidr"].as_str() {
                out.push(c.to_string());
            }
        }
    }
    out
}

#[test]
fn owner_published_sync_soap_service_gets_both_routes() {
    let (_, p) = load("01-owner-published-sync-soap");
    let (b, kids) = &p.services[&key("minjust", "legal-entity-info")];
    assert_eq!(b.status.phase.as_deref(), Some("Published"));
    let c = &b.status.common.conditions;
    assert_eq!(cond(c, "Ready").status, "True");
    assert_eq!(cond(c, "TestRouteReady").status, "True");
    assert_eq!(cond(c, "ProductionRouteReady").status, "True");
    assert_eq!(cond(c, "Published").status, "True");
    assert_eq!(kids.len(), 10);
    let ep = b.status.endpoints.as_ref().unwrap();
    assert_eq!(
        ep.production.as_deref(),
        Some("http://legal-entity-info-production.minjust.svc:80/bip-sync-wss-gost/")
    );
    // No connection: the senders are empty and only the metrics scraper may reach the route.
    assert!(senders(&p, "production").senders.is_empty());
    assert!(ingress_cidrs(&p, "production").is_empty());
    // The route workload is hardened.
    let d = find(&p, "Deployment", "minjust", "legal-entity-info-production").to_value();
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let ctr = &pod["containers"][0];
    assert_eq!(ctr["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(ctr["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(ctr["securityContext"]["capabilities"]["drop"][0], "ALL");
    assert_eq!(ctr["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(
        d["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "shep-operator"
    );
    assert_eq!(
        d["metadata"]["labels"]["integration.egov.kz/contour"],
        "production"
    );
    let cfg = route_config(&p, "production");
    assert_eq!(cfg.service_key, "GBDUL_LegalEntityInfo");
    assert_eq!(cfg.backend.timeout_seconds, 30);
    // App.7: no downtime this month.
    assert_eq!(b.status.availability.last().unwrap().index, "100.00");
}

#[test]
fn bank_with_contract_is_active_in_both_contours() {
    let (_, p) = load("02-bank-connected");
    let (b, kids) = &p.connections[&key("altyn-bank", "legal-entity-info")];
    assert_eq!(b.status.phase.as_deref(), Some("Active"));
    let c = &b.status.common.conditions;
    assert_eq!(cond(c, "Ready").status, "True");
    assert_eq!(cond(c, "TestAccess").status, "True");
    assert_eq!(cond(c, "ProductionAccess").status, "True");
    assert_eq!(cond(c, "ContractValid").status, "True");
    assert_eq!(
        b.status.sender_id.as_deref(),
        Some("altyn-bank.legal-entity-info")
    );
    assert_eq!(kids.len(), 2);
    for contour in ["test", "production"] {
        let Child::Secret(s) = find(
            &p,
            "Secret",
            "altyn-bank",
            &format!("legal-entity-info-{contour}-credentials"),
        ) else {
            unreachable!()
        };
        let password = secret_data(&s, "password");
        assert_eq!(password.len(), 32);
        assert_eq!(
            secret_data(&s, "endpoint"),
            format!("http://legal-entity-info-{contour}.minjust.svc:80/bip-sync-wss-gost/")
        );
        // The route's senders hold exactly this login with the hash of this password.
        let sf = senders(&p, contour);
        assert_eq!(sf.senders.len(), 1);
        assert_eq!(sf.senders[0].sender_id, "altyn-bank.legal-entity-info");
        assert_eq!(
            sf.senders[0].password_sha256,
            shep_operator::render::credentials::password_sha256(&password)
        );
    }
    assert_eq!(ingress_cidrs(&p, "test"), vec!["198.51.100.0/28"]);
    assert_eq!(ingress_cidrs(&p, "production"), vec!["203.0.113.16/28"]);
    let svc = &p.services[&key("minjust", "legal-entity-info")].0.status;
    assert_eq!(svc.active_connections.as_ref().unwrap().production, Some(1));
}

#[test]
fn revoked_protocol_suspends_every_interaction_within_one_working_day() {
    let (_, p) = load("03-bank-protocol-revoked");
    let sys = &p.systems[&key("altyn-bank", "altyn-core")].status;
    assert_eq!(sys.phase.as_deref(), Some("Suspended"));
    let (b, _) = &p.connections[&key("altyn-bank", "legal-entity-info")];
    assert_eq!(b.status.phase.as_deref(), Some("Suspended"));
    assert_eq!(
        cond(&b.status.common.conditions, "Suspended").reason,
        "SecurityProtocolRevoked"
    );
    let s = b.status.suspension.as_ref().unwrap();
    assert_eq!(s.reason, "SecurityProtocolRevoked");
    // Revoked Wednesday 2 Dec 17:30: the deadline is the end of Thursday 3 Dec (p.65).
    assert_eq!(
        s.deadline,
        Some("2026-12-03T23:59:59+05:00".parse().unwrap())
    );
    assert_eq!(s.met_deadline, Some(true));
    // The bank's sender and networks are gone from both routes; its credentials are kept.
    for contour in ["test", "production"] {
        assert!(senders(&p, contour).senders.is_empty(), "{contour}");
        assert!(ingress_cidrs(&p, contour).is_empty(), "{contour}");
    }
    assert!(b.status.credentials.is_some());
    let c = &b.status.common.conditions;
    assert_eq!(cond(c, "ProductionAccess").status, "False");
    assert_eq!(
        cond(c, "SecurityProtocolValid").reason,
        "SecurityProtocolRevoked"
    );
}

#[test]
fn connection_without_contract_is_suspended() {
    let (_, p) = load("04-connection-without-contract");
    let (b, _) = &p.connections[&key("tulpar-insurance", "legal-entity-info")];
    assert_eq!(b.status.phase.as_deref(), Some("Suspended"));
    assert_eq!(b.status.lifecycle_phase.as_deref(), Some("Active"));
    assert_eq!(
        b.status.suspension.as_ref().unwrap().reason,
        "ContractMissing"
    );
    assert!(
        b.status
            .suspension
            .as_ref()
            .unwrap()
            .message
            .contains("p.4")
    );
    assert!(senders(&p, "production").senders.is_empty());
    let sys = &p.systems[&key("tulpar-insurance", "tulpar-policy")].status;
    assert_eq!(
        cond(&sys.common.conditions, "ContractValid").reason,
        "ContractMissing"
    );
    // A missing contract suspends the system's connections, not the system (p.4).
    assert_eq!(sys.phase.as_deref(), Some("Active"));
}

#[test]
fn state_body_connects_without_owner_approval() {
    let (_, p) = load("05-state-to-state");
    let (b, kids) = &p.connections[&key("enbek", "legal-entity-info")];
    assert_eq!(b.status.state_to_state, Some(true));
    assert_eq!(b.status.phase.as_deref(), Some("Testing"));
    let step = b.status.next_step.as_ref().unwrap();
    assert_eq!(step.due, Some(jiff::civil::date(2027, 3, 2)));
    assert!(step.rule.contains("p.45-6"));
    assert_eq!(b.status.testing_until, Some(jiff::civil::date(2027, 3, 2)));
    assert!(
        b.status
            .common
            .journal
            .iter()
            .all(|e| e.reason != "OwnerApproved")
    );
    assert!(
        cond(&b.status.common.conditions, "Approved")
            .message
            .contains("p.45-3")
    );
    // Only the test contour is open: one credential Secret, one test sender.
    assert_eq!(kids.len(), 1);
    assert_eq!(senders(&p, "test").senders.len(), 1);
    assert!(senders(&p, "production").senders.is_empty());
}

#[test]
fn tech_windows_are_checked_and_enforced() {
    let (_, p) = load("06-tech-windows");
    let w = |n: &str| p.windows[&key("minjust", n)].status.clone();
    let planned = w("db-upgrade-2026-12");
    assert_eq!(planned.phase.as_deref(), Some("Scheduled"));
    assert_eq!(
        cond(&planned.common.conditions, "LeadTimeMet").status,
        "True"
    );
    assert_eq!(cond(&planned.common.conditions, "Agreed").status, "True");
    assert_eq!(
        cond(&planned.common.conditions, "WithinDefaultHours").status,
        "True"
    );
    let late = w("cert-rotation-late");
    assert_eq!(
        cond(&late.common.conditions, "LeadTimeMet").reason,
        "AnnouncedTooLate"
    );
    assert_eq!(cond(&late.common.conditions, "Agreed").status, "False");
    assert_eq!(cond(&late.common.conditions, "Ready").status, "False");
    assert_eq!(
        late.affected_services,
        vec!["minjust/legal-entity-info".to_string()]
    );
    let emergency = w("emergency-db-failover");
    assert_eq!(emergency.phase.as_deref(), Some("Active"));
    assert_eq!(
        cond(&emergency.common.conditions, "WithinDefaultHours").status,
        "False"
    );
    // The active break puts the service and the connection in maintenance.
    let svc = &p.services[&key("minjust", "legal-entity-info")].0.status;
    assert_eq!(cond(&svc.common.conditions, "InMaintenance").status, "True");
    let conn = &p.connections[&key("altyn-bank", "legal-entity-info")]
        .0
        .status;
    assert_eq!(
        cond(&conn.common.conditions, "InMaintenance").status,
        "True"
    );
    // The production route carries all three breaks; the test route only the planned one.
    let prod: Vec<String> = route_config(&p, "production")
        .windows
        .iter()
        .map(|w| w.source.clone())
        .collect();
    assert_eq!(
        prod,
        vec![
            "minjust/emergency-db-failover",
            "minjust/cert-rotation-late",
            "minjust/db-upgrade-2026-12"
        ]
    );
    let test: Vec<String> = route_config(&p, "test")
        .windows
        .iter()
        .map(|w| w.source.clone())
        .collect();
    assert_eq!(test, vec!["minjust/db-upgrade-2026-12"]);
    // App.7: the emergency break since 11:30 counts as downtime this month.
    let idx = svc.availability.last().unwrap();
    assert_eq!(idx.month, "2026-12");
    assert_eq!(idx.downtime_hours, "0.50");
}

#[test]
fn journals_of_every_example_verify() {
    for folder in [
        "01-owner-published-sync-soap",
        "02-bank-connected",
        "03-bank-protocol-revoked",
        "04-connection-without-contract",
        "05-state-to-state",
        "06-tech-windows",
    ] {
        let (snap, p) = load(folder);
        let docs = shep_operator::commands::render::documents(&snap, &p, false);
        let yaml = serde_saphyr::to_string_multiple(&docs).unwrap();
        let results = shep_operator::commands::journal::verify_text(&yaml).unwrap();
        assert!(!results.is_empty());
        for r in results {
            assert!(r.result.is_ok(), "{folder}: {}: {:?}", r.object, r.result);
        }
        // Passwords are hidden in the preview.
        for d in &docs {
            if d["kind"] == "Secret"
                && d["metadata"]["labels"]["app.kubernetes.io/name"] == "shep-credentials"
            {
                assert_eq!(
                    d["metadata"]["annotations"]["integration.egov.kz/redacted"],
                    Value::from("password")
                );
            }
        }
    }
}

#[test]
fn rendering_twice_continues_the_journal_and_keeps_credentials() {
    // Feed the first render's output (statuses and credential Secrets) back in, as the operator's
    // next reconcile would see the cluster: nothing changes, nothing is journaled twice.
    let (snap, p) = load("02-bank-connected");
    let docs = shep_operator::commands::render::documents(&snap, &p, true);
    let yaml = serde_saphyr::to_string_multiple(&docs).unwrap();
    let mut l = Loaded::default();
    l.add_text("round-trip", &yaml, &Checker::new());
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    let later: Timestamp = "2026-12-03T12:05:00+05:00".parse().unwrap();
    let p2 = plan(
        &l.snapshot,
        later,
        &Calendar::default(),
        &RenderSettings::default(),
    );
    let k = key("altyn-bank", "legal-entity-info");
    let (b1, _) = &p.connections[&k];
    let (b2, _) = &p2.connections[&k];
    assert!(b2.entries.is_empty(), "{:?}", b2.entries);
    assert_eq!(b1.status.common.journal_head, b2.status.common.journal_head);
    assert_eq!(senders(&p, "production"), senders(&p2, "production"));
}
