//! The live operator against a real control plane: each scenario uses its own namespaces, so they
//! run in parallel against one operator (see tests/common for the harness).

mod common;

use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::*;
use serde_json::json;

/// The operator all scenarios of this binary share.
fn env() {
    static OPERATOR: OnceLock<std::sync::Mutex<Operator>> = OnceLock::new();
    OPERATOR.get_or_init(|| {
        stop_stale_operators();
        std::sync::Mutex::new(start_operator("live"))
    });
}

fn apply(docs: &[serde_json::Value]) {
    env();
    common::apply(docs);
}

#[test]
fn cel_rules_are_enforced_by_the_api_server() {
    env();
    let mut docs = example("01-owner-published-sync-soap", "cel");
    kubectl(&["create", "namespace", "cel-minjust"]);
    // A BIN with a wrong check digit.
    let sys = docs
        .iter_mut()
        .find(|d| d["kind"] == "InformationSystem")
        .unwrap();
    sys["spec"]["organization"]["bin"] = json!("990340005125");
    let o = kubectl_stdin(
        &["apply", "--server-side", "-f", "-"],
        &serde_saphyr::to_string(sys).unwrap(),
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("spec.organization.bin") && err.contains("check digit"),
        "{err}"
    );
    // A service that p.3 excludes.
    let svc = docs
        .iter_mut()
        .find(|d| d["kind"] == "IntegrationService")
        .unwrap();
    svc["spec"]["exclusions"] = json!({"stateSecrets": true});
    let o = kubectl_stdin(
        &["apply", "--server-side", "-f", "-"],
        &serde_saphyr::to_string(svc).unwrap(),
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("p.3") && err.contains("state secrets"),
        "{err}"
    );
    // serviceKey is immutable.
    svc["spec"].as_object_mut().unwrap().remove("exclusions");
    let o = kubectl_stdin(
        &["apply", "--server-side", "-f", "-"],
        &serde_saphyr::to_string(svc).unwrap(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    svc["spec"]["serviceKey"] = json!("Renamed_Key");
    let o = kubectl_stdin(
        &["apply", "--server-side", "-f", "-"],
        &serde_saphyr::to_string(svc).unwrap(),
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("serviceKey is immutable"));
}

#[test]
fn bank_becomes_active_with_routes_and_credentials() {
    let p = "live-a";
    apply(&example("02-bank-connected", p));
    let (svc_ns, bank_ns) = (format!("{p}-minjust"), format!("{p}-altyn-bank"));
    let s = eventually("connection Active and Ready", 90, || {
        let s = status("serviceconnection", &bank_ns, "legal-entity-info")?;
        if s["phase"] != "Active" || cond(&s, "Ready").0 != "True" {
            return Err(format!(
                "phase {} ready {:?}",
                s["phase"],
                cond(&s, "Ready")
            ));
        }
        Ok(s)
    });
    assert_eq!(s["senderId"], json!(format!("{bank_ns}.legal-entity-info")));
    // The same password in the credentials Secret and, hashed, in the route's senders.
    let senders_prod = eventually("sender in production route", 60, || {
        let v = senders(&svc_ns, "legal-entity-info-production-senders")?;
        if v.len() == 1 {
            Ok(v)
        } else {
            Err(format!("senders {v:?}"))
        }
    });
    let cred = get_json(&[
        "secret",
        "-n",
        &bank_ns,
        "legal-entity-info-production-credentials",
    ])
    .expect("credentials");
    assert!(cred["data"]["password"].is_string());
    assert!(senders_prod[0].starts_with(&format!("{bank_ns}.legal-entity-info:")));
    assert_eq!(
        ingress_cidrs(&svc_ns, "legal-entity-info-production").unwrap(),
        vec!["203.0.113.16/28"]
    );
    let svc = eventually("service Published", 60, || {
        status("integrationservice", &svc_ns, "legal-entity-info")
    });
    assert_eq!(svc["phase"], "Published");
    // The journal chain verifies, and each entry is also an Event.
    let obj = get_json(&["serviceconnection", "-n", &bank_ns, "legal-entity-info"]).unwrap();
    let verify = Command::new(env!("CARGO_BIN_EXE_shep"))
        .args(["journal", "verify", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        verify
            .stdin
            .as_ref()
            .unwrap()
            .write_all(obj.to_string().as_bytes())
            .unwrap();
    }
    let out = verify.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let events = kubectl_ok(&["get", "events.events.k8s.io", "-n", &bank_ns, "-o", "json"]);
    assert!(
        events.contains("ProductionAccessGranted"),
        "journal entries are published as Events"
    );
}

#[test]
fn revocation_suspends_every_interaction_and_restoring_lifts_it() {
    let p = "live-r";
    apply(&example("02-bank-connected", p));
    let (svc_ns, bank_ns) = (format!("{p}-minjust"), format!("{p}-altyn-bank"));
    let before = eventually("sender present", 90, || {
        let v = senders(&svc_ns, "legal-entity-info-production-senders")?;
        if v.len() == 1 {
            Ok(v)
        } else {
            Err(format!("{v:?}"))
        }
    });
    let now = jiff::Timestamp::now().to_string();
    kubectl_ok(&[
        "patch",
        "informationsystem",
        "-n",
        &bank_ns,
        "altyn-core",
        "--type=json",
        "-p",
        &format!(
            r#"[{{"op":"add","path":"/spec/securityProtocols/0/revokedAt","value":"{now}"}}]"#
        ),
    ]);
    let s = eventually("SecurityProtocolRevoked", 60, || {
        let s = status("serviceconnection", &bank_ns, "legal-entity-info")?;
        if s["suspension"]["reason"] != "SecurityProtocolRevoked" {
            return Err(format!("suspension {}", s["suspension"]));
        }
        Ok(s)
    });
    assert_eq!(s["phase"], "Suspended");
    assert_eq!(s["suspension"]["metDeadline"], true);
    assert!(s["suspension"]["deadline"].is_string());
    eventually("sender removed from both routes", 60, || {
        for c in ["test", "production"] {
            let v = senders(&svc_ns, &format!("legal-entity-info-{c}-senders"))?;
            if !v.is_empty() {
                return Err(format!("{c}: {v:?}"));
            }
            let cidrs = ingress_cidrs(&svc_ns, &format!("legal-entity-info-{c}"))?;
            if !cidrs.is_empty() {
                return Err(format!("{c} cidrs {cidrs:?}"));
            }
        }
        Ok(())
    });
    let sys = status("informationsystem", &bank_ns, "altyn-core").unwrap();
    assert_eq!(sys["phase"], "Suspended");
    // Restoring the protocol lifts the suspension, with the same login and password.
    kubectl_ok(&[
        "patch",
        "informationsystem",
        "-n",
        &bank_ns,
        "altyn-core",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/spec/securityProtocols/0/revokedAt"}]"#,
    ]);
    let after = eventually("sender restored", 60, || {
        let v = senders(&svc_ns, "legal-entity-info-production-senders")?;
        if v.len() == 1 {
            Ok(v)
        } else {
            Err(format!("{v:?}"))
        }
    });
    assert_eq!(before, after);
    let s = eventually("Active again", 60, || {
        let s = status("serviceconnection", &bank_ns, "legal-entity-info")?;
        if s["phase"] != "Active" {
            Err(format!("phase {}", s["phase"]))
        } else {
            Ok(s)
        }
    });
    let journal = s["journal"].to_string();
    assert!(journal.contains("phase Suspended -> Active"), "{journal}");
}

/// A PEM certificate for Altyn Bank's BIN that expired on 1 December 2026.
fn expired_certificate() -> String {
    let mut params = rcgen::CertificateParams::new(vec!["altyn".into()]).unwrap();
    params.distinguished_name.push(
        rcgen::DnType::CustomDnType(vec![2, 5, 4, 5]),
        rcgen::DnValue::PrintableString("BIN951240000185".try_into().unwrap()),
    );
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2026, 12, 1);
    params
        .self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap()
        .pem()
}

/// The certificate Secret is watched by its metadata only and its data cached by
/// resourceVersion: replacing the PEM must still reach the decisions, both ways.
#[test]
fn an_expired_certificate_in_its_secret_suspends_and_renewing_lifts_it() {
    let p = "live-x";
    apply(&example("02-bank-connected", p));
    let (svc_ns, bank_ns) = (format!("{p}-minjust"), format!("{p}-altyn-bank"));
    wait_phase(
        "serviceconnection",
        &bank_ns,
        "legal-entity-info",
        "Active",
        90,
    );
    let secret = |pem: &str| {
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "altyn-core-transport-cert", "namespace": bank_ns},
            "type": "Opaque",
            "stringData": {"tls.crt": pem},
        })
    };
    let original = example("02-bank-connected", p)
        .into_iter()
        .find(|d| d["kind"] == "Secret" && d["metadata"]["name"] == "altyn-core-transport-cert")
        .unwrap()["stringData"]["tls.crt"]
        .as_str()
        .unwrap()
        .to_string();
    common::apply(&[secret(&expired_certificate())]);
    eventually("CertificateExpired", 60, || {
        let s = status("serviceconnection", &bank_ns, "legal-entity-info")?;
        if s["suspension"]["reason"] != "CertificateExpired" {
            return Err(format!("suspension {}", s["suspension"]));
        }
        let v = senders(&svc_ns, "legal-entity-info-production-senders")?;
        if !v.is_empty() {
            return Err(format!("senders {v:?}"));
        }
        Ok(())
    });
    eventually("CertificateValid=False on the system", 30, || {
        let sys = status("informationsystem", &bank_ns, "altyn-core")?;
        match cond(&sys, "CertificateValid") {
            (s, r) if s == "False" && r == "CertificateExpired" => Ok(()),
            other => Err(format!("CertificateValid {other:?}")),
        }
    });
    common::apply(&[secret(&original)]);
    eventually("Active again with the renewed certificate", 60, || {
        let s = status("serviceconnection", &bank_ns, "legal-entity-info")?;
        if s["phase"] != "Active" {
            return Err(format!("phase {}", s["phase"]));
        }
        let v = senders(&svc_ns, "legal-entity-info-production-senders")?;
        if v.len() != 1 {
            return Err(format!("senders {v:?}"));
        }
        Ok(())
    });
}

#[test]
fn removing_the_contract_suspends_with_contract_missing() {
    let p = "live-c";
    apply(&example("02-bank-connected", p));
    let bank_ns = format!("{p}-altyn-bank");
    wait_phase(
        "serviceconnection",
        &bank_ns,
        "legal-entity-info",
        "Active",
        90,
    );
    kubectl_ok(&[
        "patch",
        "informationsystem",
        "-n",
        &bank_ns,
        "altyn-core",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/spec/contract"}]"#,
    ]);
    eventually("ContractMissing", 60, || {
        let s = status("serviceconnection", &bank_ns, "legal-entity-info")?;
        if s["suspension"]["reason"] == "ContractMissing" {
            Ok(())
        } else {
            Err(format!("{}", s["suspension"]))
        }
    });
}

#[test]
fn an_active_tech_window_puts_service_and_connection_in_maintenance() {
    let p = "live-w";
    apply(&example("02-bank-connected", p));
    let (svc_ns, bank_ns) = (format!("{p}-minjust"), format!("{p}-altyn-bank"));
    wait_phase(
        "serviceconnection",
        &bank_ns,
        "legal-entity-info",
        "Active",
        90,
    );
    let start = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3);
    let end = start + jiff::SignedDuration::from_secs(3600);
    let w = json!({
        "apiVersion": "integration.egov.kz/v1alpha1", "kind": "TechWindow",
        "metadata": {"name": "failover", "namespace": svc_ns},
        "spec": {"targets": {"services": [{"name": "legal-entity-info"}]}, "contours": ["production"],
                 "start": start.to_string(), "end": end.to_string(), "kind": "Emergency",
                 "reason": "Database failover", "announcedAt": jiff::Timestamp::now().to_string()}
    });
    apply(&[w]);
    eventually(
        "InMaintenance on the service and the connection",
        60,
        || {
            let s = status("integrationservice", &svc_ns, "legal-entity-info")?;
            let c = status("serviceconnection", &bank_ns, "legal-entity-info")?;
            if cond(&s, "InMaintenance").0 == "True" && cond(&c, "InMaintenance").0 == "True" {
                Ok(())
            } else {
                Err("not yet".into())
            }
        },
    );
    let cm = get_json(&["configmap", "-n", &svc_ns, "legal-entity-info-production"]).unwrap();
    assert!(
        cm["data"]["route.yaml"]
            .as_str()
            .unwrap()
            .contains(&format!("{svc_ns}/failover"))
    );
    let w = status("techwindow", &svc_ns, "failover").unwrap();
    assert_eq!(w["phase"], "Active");
}

#[test]
fn children_are_restored_and_credentials_go_with_their_connection() {
    let p = "live-d";
    apply(&example("02-bank-connected", p));
    let (svc_ns, bank_ns) = (format!("{p}-minjust"), format!("{p}-altyn-bank"));
    eventually("deployment exists", 90, || {
        get_json(&["deployment", "-n", &svc_ns, "legal-entity-info-production"])
            .ok_or("missing".to_string())
    });
    let uid_before = get_json(&["deployment", "-n", &svc_ns, "legal-entity-info-production"])
        .unwrap()["metadata"]["uid"]
        .clone();
    kubectl_ok(&[
        "delete",
        "deployment",
        "-n",
        &svc_ns,
        "legal-entity-info-production",
        "--wait=true",
    ]);
    eventually("deployment restored", 60, || {
        let d = get_json(&["deployment", "-n", &svc_ns, "legal-entity-info-production"])
            .ok_or("missing")?;
        if d["metadata"]["uid"] != uid_before {
            Ok(())
        } else {
            Err("old".into())
        }
    });
    kubectl_ok(&[
        "patch",
        "configmap",
        "-n",
        &svc_ns,
        "legal-entity-info-production",
        "--type=merge",
        "-p",
        r#"{"data":{"route.yaml":"tampered"}}"#,
    ]);
    eventually("config restored", 60, || {
        let c = get_json(&["configmap", "-n", &svc_ns, "legal-entity-info-production"])
            .ok_or("missing")?;
        if c["data"]["route.yaml"]
            .as_str()
            .unwrap_or("")
            .contains("serviceKey")
        {
            Ok(())
        } else {
            Err("tampered".into())
        }
    });
    kubectl_ok(&[
        "delete",
        "serviceconnection",
        "-n",
        &bank_ns,
        "legal-entity-info",
    ]);
    eventually("credentials removed and sender gone", 90, || {
        if get_json(&[
            "secret",
            "-n",
            &bank_ns,
            "legal-entity-info-production-credentials",
        ])
        .is_some()
        {
            return Err("credentials still there".into());
        }
        let v = senders(&svc_ns, "legal-entity-info-production-senders")?;
        if v.is_empty() {
            Ok(())
        } else {
            Err(format!("{v:?}"))
        }
    });
}

#[test]
fn every_example_reaches_what_shep_render_predicts() {
    for (i, folder) in [
        "01-owner-published-sync-soap",
        "02-bank-connected",
        "03-bank-protocol-revoked",
        "04-connection-without-contract",
        "05-state-to-state",
        "06-tech-windows",
    ]
    .iter()
    .enumerate()
    {
        let prefix = format!("ex{i}");
        let docs = example(folder, &prefix);
        apply(&docs);
        let mut namespaces: Vec<String> = docs
            .iter()
            .map(|d| d["metadata"]["namespace"].as_str().unwrap().to_string())
            .collect();
        namespaces.sort();
        namespaces.dedup();
        eventually(&format!("{folder} matches its rendering"), 120, || {
            compare_with_render(&namespaces)
        });
    }
}
