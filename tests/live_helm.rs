//! The Helm chart on the real control plane: `helm install`, then `shep operator` running with the
//! token of the chart's ServiceAccount (so exactly the chart's RBAC) through the main scenarios;
//! the API server's audit log shows that it was never refused and which grants it never used;
//! `helm upgrade` with changed values keeps every resource and its journal; `helm uninstall` removes
//! the operator and keeps the CRDs, the resources, their journals and the route children.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::*;
use serde_json::Value;

const CHART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/shep-operator");
const RELEASE: &str = "shep";
const NS: &str = "shep-helm";
/// The chart's full name for this release.
const FULL: &str = "shep-shep-operator";

fn helm_ok(args: &[&str]) -> String {
    let mut a: Vec<&str> = args.to_vec();
    let admin = cluster().admin.to_str().unwrap().to_string();
    a.extend_from_slice(&["--kubeconfig", &admin]);
    let o = helm(&a);
    assert!(
        o.status.success(),
        "helm {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The CRDs are already installed by the test harness (kubectl): hand them to the release, as a
/// user who installed them with kubectl first does (the chart's README).
fn adopt_crds() {
    for crd in [
        "informationsystems",
        "integrationservices",
        "serviceconnections",
        "techwindows",
    ] {
        let name = format!("crd/{crd}.integration.egov.kz");
        kubectl_ok(&[
            "label",
            "--overwrite",
            &name,
            "app.kubernetes.io/managed-by=Helm",
        ]);
        kubectl_ok(&[
            "annotate",
            "--overwrite",
            &name,
            &format!("meta.helm.sh/release-name={RELEASE}"),
            &format!("meta.helm.sh/release-namespace={NS}"),
        ]);
    }
}

/// Every (verb, group/resource[/subresource]) the chart grants the operator.
fn granted() -> BTreeSet<String> {
    let text = helm_ok(&["get", "manifest", RELEASE, "-n", NS]);
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    let mut out = BTreeSet::new();
    for d in docs
        .iter()
        .filter(|d| d["kind"] == "ClusterRole" || d["kind"] == "Role")
    {
        for r in d["rules"].as_array().unwrap() {
            for g in r["apiGroups"].as_array().unwrap() {
                for res in r["resources"].as_array().unwrap() {
                    for v in r["verbs"].as_array().unwrap() {
                        out.insert(format!(
                            "{} {}/{}",
                            v.as_str().unwrap(),
                            g.as_str().unwrap(),
                            res.as_str().unwrap()
                        ));
                    }
                }
            }
        }
    }
    out
}

/// What the chart's ServiceAccount did, from the audit log: (used grants, refused requests).
fn audited() -> (BTreeSet<String>, Vec<String>) {
    let user = format!("system:serviceaccount:{NS}:{FULL}");
    // The current file and the ones the API server rotated (`audit-<time>.log`).
    let dir = cluster().dir.join("logs");
    let mut log =
        std::fs::read_to_string(dir.join("audit.log")).expect("the API server's audit log");
    for f in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = f.file_name().to_string_lossy().to_string();
        if name.starts_with("audit-") && name.ends_with(".log") {
            log.push_str(&std::fs::read_to_string(f.path()).unwrap_or_default());
        }
    }
    let mut used = BTreeSet::new();
    let mut refused = Vec::new();
    for line in log.lines() {
        let Ok(e) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        // Watches are logged when they start (they complete only when they end).
        if e["user"]["username"] != user.as_str()
            || !(e["stage"] == "ResponseComplete" || e["stage"] == "ResponseStarted")
        {
            continue;
        }
        let o = &e["objectRef"];
        if o.is_null() {
            // A non-resource URL (discovery, /version): every authenticated user may read those.
            continue;
        }
        let mut res = o["resource"].as_str().unwrap_or("").to_string();
        if let Some(sub) = o["subresource"].as_str() {
            res = format!("{res}/{sub}");
        }
        let verb = e["verb"].as_str().unwrap_or("");
        let what = format!("{verb} {}/{res}", o["apiGroup"].as_str().unwrap_or(""));
        if e["responseStatus"]["code"] == 403 {
            refused.push(format!(
                "{what} in {}",
                o["namespace"].as_str().unwrap_or("(cluster)")
            ));
        }
        used.insert(what);
    }
    (used, refused)
}

fn uid(kind: &str, ns: &str, name: &str) -> String {
    kubectl_ok(&[
        "get",
        kind,
        "-n",
        ns,
        name,
        "-o",
        "jsonpath={.metadata.uid}",
    ])
}

fn journal_verifies(ns: &str) -> usize {
    let yaml = kubectl_ok(&[
        "get",
        "serviceconnections,integrationservices,informationsystems",
        "-n",
        ns,
        "-o",
        "yaml",
    ]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_shep"))
        .args(["journal", "verify", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "journal verify: {text}");
    text.lines().filter(|l| l.starts_with("ok")).count()
}

#[test]
fn install_run_under_the_chart_rbac_upgrade_and_uninstall() {
    let c = cluster();
    stop_stale_operators();
    // A release an interrupted run left behind.
    let _ = helm(&[
        "uninstall",
        RELEASE,
        "-n",
        NS,
        "--wait",
        "--kubeconfig",
        c.admin.to_str().unwrap(),
    ]);
    adopt_crds();
    // Install, as a gateway cluster's platform team would, with a calendar and a short resync.
    helm_ok(&[
        "install",
        RELEASE,
        CHART,
        "-n",
        NS,
        "--create-namespace",
        "--wait",
        "--timeout",
        "180s",
        "--set",
        "image.repository=registry.example.kz/shep-operator",
        "--set",
        "resyncSeconds=20",
        "--set",
        "leaseSeconds=6",
        "--set",
        "calendar.daysOff={2027-01-08}",
        "--set",
        "calendar.kurbanAit.2027=2027-05-27",
    ]);
    for (kind, name) in [
        ("deployment", FULL),
        ("serviceaccount", FULL),
        ("poddisruptionbudget", FULL),
        ("networkpolicy", FULL),
        ("service", &format!("{FULL}-metrics")),
        ("configmap", &format!("{FULL}-calendar")),
        ("role", &format!("{FULL}-leader-election")),
    ] {
        kubectl_ok(&["get", kind, "-n", NS, name]);
    }
    kubectl_ok(&[
        "get",
        "clusterrole",
        &format!("{FULL}-read"),
        &format!("{FULL}-write"),
    ]);
    let deploy = get_json(&["deployment", "-n", NS, FULL]).unwrap();
    assert_eq!(deploy["spec"]["replicas"], 2);

    // The operator, with exactly the chart's ServiceAccount (its pods are simulated by kwok; this
    // process does the work, with the same arguments and the same Lease).
    let kubeconfig = c.dir.join("helm-operator.kubeconfig");
    write_token_kubeconfig(&c.admin, NS, FULL, &kubeconfig);
    let lease = [
        "--resync-seconds",
        "20",
        "--lease-namespace",
        NS,
        "--lease-name",
        FULL,
    ];
    let op = start_operator_as("helm", &kubeconfig, &lease);

    // The main scenarios: a bank connected in both contours, a revoked protocol, a state body,
    // tech windows; each reaches exactly what `shep render` predicts.
    let mut namespaces = Vec::new();
    for (i, folder) in [
        "02-bank-connected",
        "03-bank-protocol-revoked",
        "05-state-to-state",
        "06-tech-windows",
    ]
    .iter()
    .enumerate()
    {
        let docs = example(folder, &format!("helm{i}"));
        apply(&docs);
        let mut ns: Vec<String> = docs
            .iter()
            .map(|d| d["metadata"]["namespace"].as_str().unwrap().to_string())
            .collect();
        ns.sort();
        ns.dedup();
        eventually(&format!("{folder} under the chart's RBAC"), 180, || {
            compare_with_render(&ns)
        });
        namespaces.extend(ns);
    }
    // Drift correction and orphan cleanup use the delete verb: delete a route child by hand.
    kubectl_ok(&[
        "delete",
        "networkpolicy",
        "-n",
        "helm0-minjust",
        "legal-entity-info-production",
    ]);
    eventually("the NetworkPolicy is restored", 60, || {
        get_json(&[
            "networkpolicy",
            "-n",
            "helm0-minjust",
            "legal-entity-info-production",
        ])
        .ok_or("absent".to_string())
    });
    kubectl_ok(&[
        "delete",
        "serviceconnection",
        "-n",
        "helm1-altyn-bank",
        "legal-entity-info",
    ]);
    // p.51: the operator suspends the ministry's system of scenario 03; its service's routes go
    // (orphan cleanup deletes every kind of route child).
    kubectl_ok(&[
        "patch",
        "informationsystem",
        "-n",
        "helm1-minjust",
        "gbd-ul",
        "--type=merge",
        "-p",
        r#"{"spec":{"operatorSuspension":{"at":"2026-12-01T10:00:00+05:00","by":"operator duty officer","reason":"unfixed technical errors (p.51)"}}}"#,
    ]);
    eventually("the suspended service's routes are removed", 90, || {
        let left = kubectl_ok(&[
            "get",
            "configmaps,secrets,deployments,services,networkpolicies",
            "-n",
            "helm1-minjust",
            "-l",
            "app.kubernetes.io/name=shep-route",
            "-o",
            "name",
        ]);
        if left.trim().is_empty() {
            Ok(())
        } else {
            Err(left)
        }
    });

    // The audit: nothing the operator asked for was refused; what the chart grants and it never used
    // is reported.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let (used, refused) = audited();
    assert!(refused.is_empty(), "the chart's RBAC refused: {refused:#?}");
    let grants = granted();
    let unused: Vec<&String> = grants.iter().filter(|g| !used.contains(*g)).collect();
    let outside: Vec<&String> = used.iter().filter(|u| !grants.contains(*u)).collect();
    let report = format!(
        "granted by the chart: {}\nused by the operator: {}\ngranted but not used in this run:\n{}\n\
         (`create` is authorized by the API server when a server-side apply creates an object; the \
         audit log records that request as `patch`.)\n",
        grants.len(),
        used.len(),
        unused
            .iter()
            .map(|u| format!("  {u}\n"))
            .collect::<String>()
    );
    std::fs::write(format!("{ROOT}/target/helm-rbac-report.txt"), &report).unwrap();
    eprintln!("{report}");
    assert!(
        outside.is_empty(),
        "used without a grant (and not refused?): {outside:?}"
    );
    assert!(
        used.contains("patch integration.egov.kz/serviceconnections/status"),
        "{used:?}"
    );
    assert!(
        used.contains("update coordination.k8s.io/leases"),
        "{used:?}"
    );

    // Upgrade with changed values: the resources and their journals are kept.
    let before = uid("serviceconnection", "helm0-altyn-bank", "legal-entity-info");
    let seq_before: u64 = kubectl_ok(&[
        "get",
        "serviceconnection",
        "-n",
        "helm0-altyn-bank",
        "legal-entity-info",
        "-o",
        "jsonpath={.status.journalHead.seq}",
    ])
    .parse()
    .unwrap();
    let entries = journal_verifies("helm0-altyn-bank");
    helm_ok(&[
        "upgrade",
        RELEASE,
        CHART,
        "-n",
        NS,
        "--reuse-values",
        "--wait",
        "--timeout",
        "180s",
        "--set",
        "replicaCount=1",
        "--set",
        "log.format=text",
        "--set",
        "resyncSeconds=30",
    ]);
    let deploy = get_json(&["deployment", "-n", NS, FULL]).unwrap();
    assert_eq!(deploy["spec"]["replicas"], 1);
    let args = deploy["spec"]["template"]["spec"]["containers"][0]["args"].to_string();
    assert!(
        args.contains("--log-format=text") && args.contains("--resync-seconds=30"),
        "{args}"
    );
    assert!(
        args.contains("--calendar="),
        "reused values keep the calendar: {args}"
    );
    assert!(
        get_json(&["poddisruptionbudget", "-n", NS, FULL]).is_none(),
        "one replica: no PDB"
    );
    assert_eq!(
        uid("serviceconnection", "helm0-altyn-bank", "legal-entity-info"),
        before
    );
    let seq_after: u64 = kubectl_ok(&[
        "get",
        "serviceconnection",
        "-n",
        "helm0-altyn-bank",
        "legal-entity-info",
        "-o",
        "jsonpath={.status.journalHead.seq}",
    ])
    .parse()
    .unwrap();
    assert!(
        seq_after >= seq_before,
        "the journal went back: {seq_before} -> {seq_after}"
    );
    assert_eq!(journal_verifies("helm0-altyn-bank"), entries);
    eventually("still as rendered after the upgrade", 120, || {
        compare_with_render(&namespaces[..2])
    });

    // Uninstall: the operator goes; CRDs, resources, journals and route children stay.
    drop(op);
    helm_ok(&["uninstall", RELEASE, "-n", NS, "--wait"]);
    assert!(get_json(&["deployment", "-n", NS, FULL]).is_none());
    assert!(get_json(&["serviceaccount", "-n", NS, FULL]).is_none());
    assert!(get_json(&["clusterrole", &format!("{FULL}-read")]).is_none());
    kubectl_ok(&["get", "crd", "serviceconnections.integration.egov.kz"]);
    assert_eq!(
        uid("serviceconnection", "helm0-altyn-bank", "legal-entity-info"),
        before
    );
    assert_eq!(journal_verifies("helm0-altyn-bank"), entries);
    kubectl_ok(&[
        "get",
        "secret",
        "-n",
        "helm0-minjust",
        "legal-entity-info-production-senders",
    ]);
    kubectl_ok(&[
        "get",
        "deployment",
        "-n",
        "helm0-minjust",
        "legal-entity-info-production",
    ]);
}
