//! The live operator against a real control plane (kube-apiserver + etcd + controller-manager +
//! scheduler + kwok on loopback, started by tools/cluster-up.sh). The operator runs as a process under
//! the ServiceAccount and ClusterRole of deploy/rbac.yaml, so a permission it lacks fails these tests.
//! Each scenario uses its own namespaces, so they run in parallel against one operator.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

struct Env {
    admin: PathBuf,
    _operator: Mutex<Child>,
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn kubectl(args: &[&str]) -> Output {
    let env = env();
    run(Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&env.admin)
        .args(args))
}

fn kubectl_ok(args: &[&str]) -> String {
    let o = kubectl(args);
    assert!(
        o.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn kubectl_stdin(args: &[&str], input: &str) -> Output {
    let env = env();
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&env.admin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn get_json(args: &[&str]) -> Option<Value> {
    let mut a = vec!["get"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-o", "json"]);
    let o = kubectl(&a);
    o.status
        .success()
        .then(|| serde_json::from_slice(&o.stdout).unwrap())
}

/// Starts (or reuses) the local control plane, installs the CRDs and RBAC, and starts one operator
/// under the ServiceAccount of deploy/rbac.yaml.
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let up = run(Command::new(format!("{ROOT}/tools/cluster-up.sh")).stderr(Stdio::inherit()));
        assert!(up.status.success(), "cluster-up failed");
        let out = String::from_utf8_lossy(&up.stdout);
        let admin = PathBuf::from(out.lines().find_map(|l| l.strip_prefix("export KUBECONFIG=")).expect("kubeconfig line"));
        let k = |args: &[&str]| run(Command::new("kubectl").arg("--kubeconfig").arg(&admin).args(args));
        let o = k(&["apply", "--server-side", "-f", &format!("{ROOT}/crds/crds.yaml")]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = k(&[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/informationsystems.integration.egov.kz",
            "crd/integrationservices.integration.egov.kz",
            "crd/serviceconnections.integration.egov.kz",
            "crd/techwindows.integration.egov.kz",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        k(&["create", "namespace", "shep-system"]);
        let o = k(&["apply", "-f", &format!("{ROOT}/deploy/rbac.yaml")]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let token = k(&["create", "token", "shep-operator", "-n", "shep-system", "--duration=24h"]);
        assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
        let token = String::from_utf8_lossy(&token.stdout).trim().to_string();
        let admin_cfg = std::fs::read_to_string(&admin).unwrap();
        let server = admin_cfg.lines().find_map(|l| l.trim().strip_prefix("server: ")).unwrap().to_string();
        let ca = admin_cfg.lines().find_map(|l| l.trim().strip_prefix("certificate-authority: ")).unwrap().to_string();
        let dir = admin.parent().unwrap().to_path_buf();
        let sa = dir.join("operator.kubeconfig");
        std::fs::write(
            &sa,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: {server}, certificate-authority: {ca}}}\nusers:\n- name: shep-operator\n  user: {{token: {token}}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: shep-operator}}\ncurrent-context: c\n"
            ),
        )
        .unwrap();
        // A previous run's operator (same cluster reused) must not run beside this one.
        let pids = dir.join("pids");
        let kept: Vec<String> = std::fs::read_to_string(&pids)
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                if let Some(pid) = l.strip_prefix("operator ") {
                    let _ = Command::new("kill").arg(pid.trim()).status();
                    false
                } else {
                    true
                }
            })
            .map(str::to_string)
            .collect();
        std::fs::write(&pids, kept.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
        let log = std::fs::File::create(dir.join("logs/operator.log")).unwrap();
        let operator = Command::new(env!("CARGO_BIN_EXE_shep"))
            .args(["operator", "--resync-seconds", "20"])
            .env("KUBECONFIG", &sa)
            .env("SHEP_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start shep operator");
        // Recorded with the control plane, so that tools/cluster-down.sh stops it too.
        let mut f = std::fs::OpenOptions::new().append(true).open(&pids).unwrap();
        use std::io::Write;
        writeln!(f, "operator {}", operator.id()).unwrap();
        Env {
            admin,
            _operator: Mutex::new(operator),
        }
    })
}

/// Example documents with every namespace prefixed and service keys made unique, so scenarios do not
/// collide.
fn example(folder: &str, prefix: &str) -> Vec<Value> {
    let dir = Path::new(ROOT).join("examples").join(folder);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        for mut d in serde_saphyr::from_multiple::<Value>(&text).unwrap() {
            let ns = d["metadata"]["namespace"].as_str().unwrap().to_string();
            d["metadata"]["namespace"] = json!(format!("{prefix}-{ns}"));
            if let Some(n) = d["spec"]["serviceRef"]["namespace"]
                .as_str()
                .map(str::to_string)
            {
                d["spec"]["serviceRef"]["namespace"] = json!(format!("{prefix}-{n}"));
            }
            if let Some(k) = d["spec"]["serviceKey"].as_str().map(str::to_string) {
                d["spec"]["serviceKey"] = json!(format!("{k}_{}", prefix.replace('-', "_")));
            }
            docs.push(d);
        }
    }
    docs
}

fn apply(docs: &[Value]) {
    let mut namespaces: Vec<String> = docs
        .iter()
        .map(|d| d["metadata"]["namespace"].as_str().unwrap().to_string())
        .collect();
    namespaces.sort();
    namespaces.dedup();
    for ns in namespaces {
        kubectl(&["create", "namespace", &ns]);
    }
    let yaml = serde_saphyr::to_string_multiple(docs).unwrap();
    let o = kubectl_stdin(&["apply", "--server-side", "-f", "-"], &yaml);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Polls `check` until it returns `Some`, or fails after `secs` with the last observation.
fn eventually<T>(what: &str, secs: u64, mut check: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < Duration::from_secs(secs) {
        match check() {
            Ok(v) => return v,
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let log = std::fs::read_to_string(env().admin.parent().unwrap().join("logs/operator.log"))
        .unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(30).collect();
    panic!(
        "timed out waiting for {what}: {last}\noperator log (newest first):\n{}",
        tail.join("\n")
    );
}

fn status(kind: &str, ns: &str, name: &str) -> Result<Value, String> {
    let v =
        get_json(&[kind, "-n", ns, name]).ok_or_else(|| format!("{kind} {ns}/{name} not found"))?;
    let s = v["status"].clone();
    if s.is_null() || s["observedGeneration"] != v["metadata"]["generation"] {
        return Err(format!("{kind} {ns}/{name}: status not observed yet"));
    }
    Ok(s)
}

fn cond(s: &Value, t: &str) -> (String, String) {
    let c = s["conditions"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["type"] == t))
        .cloned()
        .unwrap_or(Value::Null);
    (
        c["status"].as_str().unwrap_or("").to_string(),
        c["reason"].as_str().unwrap_or("").to_string(),
    )
}

fn senders(ns: &str, name: &str) -> Result<Vec<String>, String> {
    let v = get_json(&["secret", "-n", ns, name])
        .ok_or_else(|| format!("secret {ns}/{name} missing"))?;
    let b64 = v["data"]["senders.yaml"]
        .as_str()
        .ok_or("no senders.yaml")?;
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let file: shep_operator::route::config::SendersFile =
        serde_saphyr::from_str(&text).map_err(|e| e.to_string())?;
    Ok(file
        .senders
        .into_iter()
        .map(|s| format!("{}:{}", s.sender_id, s.password_sha256))
        .collect())
}

fn ingress_cidrs(ns: &str, name: &str) -> Result<Vec<String>, String> {
    let v = get_json(&["networkpolicy", "-n", ns, name])
        .ok_or_else(|| format!("networkpolicy {ns}/{name} missing"))?;
    let mut out = Vec::new();
    for r in v["spec"]["ingress"].as_array().cloned().unwrap_or_default() {
        for p in r["from"].as_array().cloned().unwrap_or_default() {
            if let Some(c) = p["ipBlock"]["cidr"].as_str() {
                out.push(c.to_string());
            }
        }
    }
    Ok(out)
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

#[test]
fn removing_the_contract_suspends_with_contract_missing() {
    let p = "live-c";
    apply(&example("02-bank-connected", p));
    let bank_ns = format!("{p}-altyn-bank");
    eventually("Active", 90, || {
        let s = status("serviceconnection", &bank_ns, "legal-entity-info")?;
        if s["phase"] == "Active" {
            Ok(())
        } else {
            Err(format!("phase {}", s["phase"]))
        }
    });
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
    eventually("Active", 90, || {
        let s = status("serviceconnection", &bank_ns, "legal-entity-info")?;
        if s["phase"] == "Active" {
            Ok(())
        } else {
            Err(format!("phase {}", s["phase"]))
        }
    });
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
