//! Failures of the live operator against a real control plane: two replicas elect one leader and the
//! other takes over when it dies; a crash in the middle of a batch loses nothing; an API-server
//! restart is survived without manual action. These scenarios kill processes, so they run one at a
//! time.

mod common;

use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

static SERIAL: Mutex<()> = Mutex::new(());

fn lease_holder() -> String {
    get_json(&["lease", "-n", "shep-system", "shep-operator"])
        .and_then(|l| l["spec"]["holderIdentity"].as_str().map(str::to_string))
        .unwrap_or_default()
}

fn leader_metric(op: &Operator) -> Option<String> {
    let (code, body) = op.http("/metrics")?;
    (code == 200).then(|| {
        body.lines()
            .find(|l| l.starts_with("shep_leader "))
            .unwrap_or("")
            .to_string()
    })
}

fn verify_journal(kind: &str, ns: &str, name: &str) {
    let obj = get_json(&[kind, "-n", ns, name]).expect("object");
    let child = Command::new(env!("CARGO_BIN_EXE_shep"))
        .args(["journal", "verify", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .as_ref()
            .unwrap()
            .write_all(obj.to_string().as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{kind} {ns}/{name}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The bank scenario plus `extra` more connections of the bank to the same service.
fn batch(prefix: &str, extra: usize) -> Vec<Value> {
    let mut docs = example("02-bank-connected", prefix);
    let conn = docs
        .iter()
        .find(|d| d["kind"] == "ServiceConnection")
        .unwrap()
        .clone();
    for i in 0..extra {
        let mut c = conn.clone();
        c["metadata"]["name"] = json!(format!("conn-{i:03}"));
        docs.push(c);
    }
    docs
}

#[test]
fn two_replicas_elect_one_leader_and_a_crash_mid_batch_loses_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    cluster();
    stop_stale_operators();
    let mut a = start_operator("replica-a");
    eventually("replica-a leads", 60, || {
        let h = lease_holder();
        if h.starts_with("replica-a") {
            Ok(())
        } else {
            Err(format!("holder {h:?}"))
        }
    });
    let b = start_operator("replica-b");
    eventually("both replicas serve health", 30, || {
        match (a.http("/readyz"), b.http("/readyz")) {
            (Some((200, _)), Some((200, _))) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    assert_eq!(leader_metric(&a).as_deref(), Some("shep_leader 1"));
    assert_eq!(
        leader_metric(&b).as_deref(),
        Some("shep_leader 0"),
        "the second replica stands by"
    );

    // A batch of 40 connections; the leader is killed while it works through them.
    let p = "fo-batch";
    apply(&batch(p, 40));
    std::thread::sleep(Duration::from_millis(1500));
    a.kill();
    let (svc_ns, bank_ns) = (format!("{p}-minjust"), format!("{p}-altyn-bank"));
    eventually("replica-b takes over", 60, || {
        let h = lease_holder();
        if h.starts_with("replica-b") {
            Ok(())
        } else {
            Err(format!("holder {h:?}"))
        }
    });
    assert_eq!(leader_metric(&b).as_deref(), Some("shep_leader 1"));
    let names: Vec<String> = std::iter::once("legal-entity-info".to_string())
        .chain((0..40).map(|i| format!("conn-{i:03}")))
        .collect();
    eventually(
        "every connection Active with its sender in the route",
        180,
        || {
            for n in &names {
                let s = status("serviceconnection", &bank_ns, n)?;
                if s["phase"] != "Active" || cond(&s, "Ready").0 != "True" {
                    return Err(format!(
                        "{n}: phase {} ready {:?}",
                        s["phase"],
                        cond(&s, "Ready")
                    ));
                }
            }
            let v = senders(&svc_ns, "legal-entity-info-production-senders")?;
            if v.len() == names.len() {
                Ok(())
            } else {
                Err(format!("{} senders", v.len()))
            }
        },
    );
    // Nothing was journaled twice or lost: each connection's 8 decisions appear once, in a chain
    // that verifies.
    for n in &names {
        verify_journal("serviceconnection", &bank_ns, n);
        let s = status("serviceconnection", &bank_ns, n).unwrap();
        let events = s["journal"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "Event")
            .count();
        assert_eq!(events, 8, "{n}");
        assert_eq!(s["eventsJournaled"], 8);
    }
    drop(b);
}

#[test]
fn an_api_server_restart_is_survived() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    cluster();
    stop_stale_operators();
    let op = start_operator("restart");
    let p = "fo-restart";
    apply(&batch(p, 0));
    let bank_ns = format!("{p}-altyn-bank");
    wait_phase(
        "serviceconnection",
        &bank_ns,
        "legal-entity-info",
        "Active",
        90,
    );
    let o = Command::new(format!("{ROOT}/tools/cluster-restart.sh"))
        .arg("kube-apiserver")
        .env("SHEP_RESTART_PAUSE", "8")
        .status()
        .unwrap();
    assert!(o.success());
    eventually("API server back", 60, || {
        if kubectl(&["get", "--raw=/readyz"]).status.success() {
            Ok(())
        } else {
            Err("not ready".into())
        }
    });
    // A change after the restart is acted on without touching the operator.
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
    eventually("suspended after the restart", 120, || {
        let s = status("serviceconnection", &bank_ns, "legal-entity-info")?;
        if s["suspension"]["reason"] == "SecurityProtocolRevoked" {
            Ok(())
        } else {
            Err(format!("{}", s["suspension"]))
        }
    });
    assert!(op.http("/healthz").is_some_and(|(c, _)| c == 200));
}

#[test]
fn a_malformed_object_does_not_stop_the_others() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    cluster();
    stop_stale_operators();
    let p = "fo-malformed";
    let bank_ns = format!("{p}-altyn-bank");
    // An object stored under an older, looser schema: loosen the CRD, store a connection without
    // `basis` and `systemRef`, then restore the real CRD. The object stays in etcd as it was.
    let mut crd = get_json(&["crd", "serviceconnections.integration.egov.kz"]).unwrap();
    for k in ["status", "metadata"] {
        crd.as_object_mut().unwrap().remove(k);
    }
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"] =
        json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
    crd["metadata"] = json!({"name": "serviceconnections.integration.egov.kz"});
    let o = kubectl_stdin(
        &["apply", "--server-side", "--force-conflicts", "-f", "-"],
        &crd.to_string(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    kubectl(&["create", "namespace", &bank_ns]);
    let bad = json!({
        "apiVersion": "integration.egov.kz/v1alpha1", "kind": "ServiceConnection",
        "metadata": {"name": "malformed", "namespace": bank_ns},
        "spec": {"serviceRef": {"name": "legal-entity-info"}, "application": {"events": "not a list"}}
    });
    eventually("the loose schema is served", 30, || {
        let o = kubectl_stdin(&["apply", "--server-side", "-f", "-"], &bad.to_string());
        if o.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&o.stderr).into_owned())
        }
    });
    let o = kubectl(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        &format!("{ROOT}/crds/crds.yaml"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        get_json(&["serviceconnection", "-n", &bank_ns, "malformed"]).is_some(),
        "the malformed object is stored"
    );

    let _op = start_operator("malformed");
    apply(&batch(p, 0));
    eventually(
        "the well-formed connection beside it is reconciled",
        90,
        || {
            let s = status("serviceconnection", &bank_ns, "legal-entity-info")?;
            if s["phase"] == "Active" {
                Ok(())
            } else {
                Err(format!("phase {}", s["phase"]))
            }
        },
    );
    eventually("a Warning event names the malformed object", 60, || {
        let ev = kubectl_ok(&[
            "get",
            "events.events.k8s.io",
            "-n",
            &bank_ns,
            "--field-selector",
            "regarding.name=malformed",
            "-o",
            "json",
        ]);
        if ev.contains("Malformed") {
            Ok(())
        } else {
            Err("no event yet".into())
        }
    });
    kubectl(&["delete", "serviceconnection", "-n", &bank_ns, "malformed"]);
}
