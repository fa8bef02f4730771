//! The live operator on the local control plane (`make bench`): (a) from an empty operator, reconcile
//! a registry of systems, services and connections to Ready, side by side with `kubectl apply
//! --server-side` of the same child objects rendered by the library; (b) the time from a protocol's
//! revocation to the last affected status, senders Secret and NetworkPolicy for a system with 500
//! connections; (c) the same for a tech window's start over a service with 500 connections.
//! Scale with SHEP_BENCH_SYSTEMS (default 1000; 5 connections each) and SHEP_BENCH_HUB (default 500).

#[path = "../tests/common/mod.rs"]
#[allow(unused_imports)]
mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

fn env_usize(k: &str, d: usize) -> usize {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn template(kind: &str, name: &str) -> Value {
    example("02-bank-connected", "t")
        .into_iter()
        .find(|d| d["kind"] == kind && (name.is_empty() || d["metadata"]["name"] == name))
        .unwrap()
}

/// The registry: `n` systems each owning one service and initiating 5 connections; system 0 of the
/// hub also initiates `hub` connections (b); service `popular` has `hub` connections (c).
fn registry(prefix: &str, n: usize, hub: usize) -> Vec<Value> {
    let sys = template("InformationSystem", "altyn-core");
    let svc = template("IntegrationService", "");
    let conn = template("ServiceConnection", "");
    let cert = template("Secret", "altyn-core-transport-cert");
    let ns = |i: usize| format!("{prefix}-{i:04}");
    let mut docs = Vec::new();
    for i in 0..n {
        docs.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns(i)}}));
        let mut c = cert.clone();
        c["metadata"]["namespace"] = json!(ns(i));
        docs.push(c);
        let mut s = sys.clone();
        s["metadata"] = json!({"name": "core", "namespace": ns(i)});
        s["spec"]["transportCertificate"]["secretRef"]["name"] = json!("altyn-core-transport-cert");
        s["spec"]["networks"]["production"] = json!([format!("198.18.{}.{}/32", i / 250, i % 250)]);
        docs.push(s);
        let mut v = svc.clone();
        v["metadata"] = json!({"name": "svc", "namespace": ns(i)});
        v["spec"]["serviceKey"] = json!(format!("{prefix}_{i:04}"));
        v["spec"]["systemRef"]["name"] = json!("core");
        v["spec"]["route"]["replicas"] = json!(0);
        docs.push(v);
        for j in 0..5 {
            let target = if j == 4 && i < hub {
                0
            } else {
                (i * 7 + j * 131 + 1) % n
            };
            let mut c = conn.clone();
            c["metadata"] = json!({"name": format!("to-{target:04}-{j}"), "namespace": ns(i)});
            c["spec"]["serviceRef"] = json!({"namespace": ns(target), "name": "svc"});
            c["spec"]["systemRef"]["name"] = json!("core");
            docs.push(c);
        }
    }
    // The hub: one more system initiating `hub` connections, to `hub` different services.
    let hub_ns = format!("{prefix}-hub");
    docs.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": hub_ns}}));
    let mut c = cert.clone();
    c["metadata"]["namespace"] = json!(hub_ns);
    docs.push(c);
    let mut s = sys.clone();
    s["metadata"] = json!({"name": "core", "namespace": hub_ns});
    docs.push(s);
    for t in 0..hub.min(n) {
        let mut c = conn.clone();
        c["metadata"] = json!({"name": format!("to-{t:04}"), "namespace": hub_ns});
        c["spec"]["serviceRef"] = json!({"namespace": ns(t), "name": "svc"});
        c["spec"]["systemRef"]["name"] = json!("core");
        docs.push(c);
    }
    docs
}

/// `kubectl apply --server-side` of `docs` (namespaces first, not timed), as two kubectl processes
/// in parallel over the two halves: kubectl spends about 30 ms of CPU per object itself, so one
/// process would measure kubectl's client more than the API server. Returns the time of the two.
fn apply_file(docs: &[Value], what: &str) -> Duration {
    let (ns, rest): (Vec<&Value>, Vec<&Value>) =
        docs.iter().partition(|d| d["kind"] == "Namespace");
    let write = |items: &[&Value], p: &std::path::Path| {
        std::fs::write(p, serde_saphyr::to_string_multiple(items).unwrap()).unwrap()
    };
    let nsp = cluster().dir.join(format!("bench-{what}-ns.yaml"));
    write(&ns, &nsp);
    kubectl_ok(&["apply", "--server-side", "-f", nsp.to_str().unwrap()]);
    let half = rest.len().div_ceil(2);
    let parts: Vec<std::path::PathBuf> = rest
        .chunks(half.max(1))
        .enumerate()
        .map(|(i, c)| {
            let p = cluster().dir.join(format!("bench-{what}-{i}.yaml"));
            write(c, &p);
            p
        })
        .collect();
    let t = Instant::now();
    let children: Vec<_> = parts
        .iter()
        .map(|p| {
            std::process::Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(&cluster().admin)
                .args(["apply", "--server-side", "--force-conflicts", "-f"])
                .arg(p)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    t.elapsed()
}

fn ready_counts(prefix: &str) -> (usize, usize, usize) {
    let out = kubectl_ok(&[
        "get",
        "serviceconnections,integrationservices",
        "-A",
        "-o",
        r#"jsonpath={range .items[*]}{.kind} {.metadata.namespace} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}"#,
    ]);
    let mut conns = 0;
    let mut ready_conns = 0;
    let mut ready_svcs = 0;
    for l in out.lines().filter(|l| {
        l.split(' ')
            .nth(1)
            .is_some_and(|ns| ns.starts_with(&format!("{prefix}-")))
    }) {
        let parts: Vec<&str> = l.split(' ').collect();
        if parts[0] == "ServiceConnection" {
            conns += 1;
            ready_conns += usize::from(parts.get(2) == Some(&"True"));
        } else {
            ready_svcs += usize::from(parts.get(2) == Some(&"True"));
        }
    }
    (conns, ready_conns, ready_svcs)
}

fn vm_hwm_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// CPU seconds (user + system) a process has used, and those of its waited-for children, from
/// `/proc/<pid>/stat` (clock ticks of 1/100 s).
fn cpu_secs(pid: u32) -> (f64, f64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let f: Vec<f64> = s
        .rsplit_once(')')
        .map(|x| x.1)
        .unwrap_or("")
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    let at = |i: usize| f.get(i).copied().unwrap_or(0.0) / 100.0;
    (at(11) + at(12), at(13) + at(14))
}

/// CPU seconds used so far by each control-plane process, the operator and the benchmark's
/// kubectl processes (its children).
fn cpu_now(operator: Option<u32>) -> std::collections::BTreeMap<String, f64> {
    let mut m = std::collections::BTreeMap::new();
    let pids = std::fs::read_to_string(cluster().dir.join("pids")).unwrap_or_default();
    for l in pids.lines() {
        if let Some((name, pid)) = l.split_once(' ')
            && name != "operator"
            && let Ok(pid) = pid.trim().parse()
        {
            *m.entry(name.to_string()).or_default() += cpu_secs(pid).0;
        }
    }
    m.insert("kubectl".into(), cpu_secs(std::process::id()).1);
    if let Some(pid) = operator {
        m.insert("operator".into(), cpu_secs(pid).0);
    }
    m
}

/// Prints the CPU seconds each process used between two [`cpu_now`] readings.
fn print_cpu(
    what: &str,
    wall: Duration,
    before: &std::collections::BTreeMap<String, f64>,
    after: &std::collections::BTreeMap<String, f64>,
) {
    let mut parts: Vec<String> = after
        .iter()
        .map(|(k, v)| (k, v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, d)| *d >= 0.5)
        .map(|(k, d)| format!("{k} {d:.0} s"))
        .collect();
    parts.sort();
    println!(
        "    CPU during {what} ({:.0} s wall, {:.0} CPU-s on 2 cores): {}",
        wall.as_secs_f64(),
        2.0 * wall.as_secs_f64(),
        parts.join(", ")
    );
}

/// What the operator did so far, from its own metrics: reconciles by kind, and reads served from
/// its caches or the API server.
fn print_work(op: &Operator) {
    if let Some((200, m)) = op.http("/metrics") {
        for l in m
            .lines()
            .filter(|l| l.starts_with("shep_reconciles_total") || l.starts_with("shep_reads_total"))
        {
            println!("    {l}");
        }
    }
}

fn main() {
    let n = env_usize("SHEP_BENCH_SYSTEMS", 1000);
    let hub = env_usize("SHEP_BENCH_HUB", 500).min(n);
    let total_conns = n * 5 + hub;
    println!(
        "operator benchmark: {n} systems + hub, {n} services, {total_conns} connections (route replicas 0)"
    );
    cluster();
    stop_stale_operators();

    // Setup: the registry, with no operator running.
    let docs = registry("bench", n, hub);
    let t_setup = apply_file(&docs, "registry");
    println!(
        "setup: kubectl apply of {} custom resources and Secrets: {:.1} s",
        docs.len(),
        t_setup.as_secs_f64()
    );

    // Baseline first, with no operator running: the same children, rendered by the library, applied
    // by kubectl alone into other namespaces.
    let base = registry("base", n, hub);
    let mut loaded = shep_operator::manifest::Loaded::default();
    let checker = shep_operator::manifest::Checker::new();
    for (i, d) in base.iter().filter(|d| d["kind"] != "Namespace").enumerate() {
        loaded.add_value(&format!("base{i}"), d.clone(), &checker);
    }
    let p = shep_operator::plan::plan(
        &loaded.snapshot,
        jiff::Timestamp::now(),
        &shep_operator::calendar::Calendar::default(),
        &shep_operator::render::RenderSettings::default(),
    );
    let mut children: Vec<Value> = base
        .iter()
        .filter(|d| d["kind"] == "Namespace")
        .cloned()
        .collect();
    for (_, kids) in p.services.values() {
        children.extend(kids.iter().map(|k| k.to_value()));
    }
    for (_, kids) in p.connections.values() {
        children.extend(kids.iter().map(|k| k.to_value()));
    }
    let n_children = children.len() - base.iter().filter(|d| d["kind"] == "Namespace").count();
    let cpu0 = cpu_now(None);
    let t_kubectl = apply_file(&children, "children");
    let cpu1 = cpu_now(None);
    // (a) an empty operator reconciles everything to Ready.
    let t0 = Instant::now();
    let mut op = start_operator_with("bench", &["--resync-seconds", "300"]);
    let pid = op.child.id();
    loop {
        std::thread::sleep(Duration::from_secs(3));
        let last = ready_counts("bench");
        eprintln!(
            "  {:>5.0} s: {}/{} connections Ready, {}/{} services Ready",
            t0.elapsed().as_secs_f64(),
            last.1,
            last.0,
            last.2,
            n
        );
        if last.0 == total_conns && last.1 == total_conns && last.2 == n {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(3600),
            "not settled within an hour: {last:?}"
        );
    }
    let t_op = t0.elapsed();
    let rss_a = vm_hwm_mib(pid);
    let cpu2 = cpu_now(Some(pid));
    let mut cpu1_op = cpu1.clone();
    cpu1_op.insert("operator".into(), 0.0);

    println!("| (a) {total_conns} connections and {n} services to Ready | value |\n|---|---|");
    println!(
        "| shep operator, from start to the last Ready | {:.1} s |",
        t_op.as_secs_f64()
    );
    println!(
        "| kubectl apply --server-side of the same {n_children} children alone | {:.1} s |",
        t_kubectl.as_secs_f64()
    );
    println!(
        "| ratio operator / kubectl | {:.2} |",
        t_op.as_secs_f64() / t_kubectl.as_secs_f64()
    );
    println!("| operator peak RSS | {rss_a:.0} MiB |");
    print_cpu("kubectl apply of the children", t_kubectl, &cpu0, &cpu1);
    print_cpu("the operator's reconcile to Ready", t_op, &cpu1_op, &cpu2);
    print_work(&op);

    // (b) revocation reaction for the hub's `hub` connections.
    let hub_ns = "bench-hub";
    let hub_sender = |c: &str| format!("{hub_ns}.{c}");
    let t0 = Instant::now();
    let now = jiff::Timestamp::now().to_string();
    kubectl_ok(&[
        "patch",
        "informationsystem",
        "-n",
        hub_ns,
        "core",
        "--type=json",
        "-p",
        &format!(
            r#"[{{"op":"add","path":"/spec/securityProtocols/0/revokedAt","value":"{now}"}}]"#
        ),
    ]);
    loop {
        let out = kubectl_ok(&[
            "get",
            "serviceconnections",
            "-n",
            hub_ns,
            "-o",
            "jsonpath={range .items[*]}{.status.suspension.reason}{\"\\n\"}{end}",
        ]);
        let suspended = out
            .lines()
            .filter(|l| *l == "SecurityProtocolRevoked")
            .count();
        // A poll that fails (the API server is busy) is simply repeated.
        let Some(secrets) = get_json(&["secrets", "-A", "-l", "app.kubernetes.io/name=shep-route"])
        else {
            std::thread::sleep(Duration::from_millis(500));
            continue;
        };
        let mut still = 0;
        for s in secrets["items"].as_array().unwrap() {
            if let Some(b) = s["data"]["senders.yaml"].as_str() {
                use base64::Engine as _;
                let text =
                    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b).unwrap())
                        .unwrap();
                // Only the allowed senders: suspended ones are listed as inactive, by design.
                let f: shep_operator::route::config::SendersFile =
                    serde_saphyr::from_str(&text).unwrap();
                let prefix = hub_sender("to-");
                still += f
                    .senders
                    .iter()
                    .filter(|e| e.sender_id.starts_with(&prefix))
                    .count();
            }
        }
        let policies = kubectl_ok(&[
            "get",
            "networkpolicies",
            "-A",
            "-o",
            "jsonpath={range .items[*]}{.metadata.namespace} {.spec.ingress[*].from[*].ipBlock.cidr}{\"\\n\"}{end}",
        ]);
        let hub_cidr = "203.0.113.16/28";
        // Only the operator's namespaces: the kubectl baseline's copies are static.
        let cidr_left = policies
            .lines()
            .filter(|l| l.starts_with("bench-") && l.contains(hub_cidr))
            .count();
        if suspended == hub && still == 0 && cidr_left == 0 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(1800),
            "revocation not done: {suspended} suspended, {still} senders, {cidr_left} policies"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let t_revoke = t0.elapsed();
    println!(
        "| (b) revocation of a system with {hub} connections | {:.1} s to the last status, senders Secret and NetworkPolicy |",
        t_revoke.as_secs_f64()
    );

    // (c) a tech window's start over the service with `hub` connections (bench-0000/svc).
    let start = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(15);
    let w = json!({
        "apiVersion": "integration.egov.kz/v1alpha1", "kind": "TechWindow",
        "metadata": {"name": "bench-window", "namespace": "bench-0000"},
        "spec": {"targets": {"services": [{"name": "svc"}]}, "contours": ["test", "production"],
                 "start": start.to_string(), "end": (start + jiff::SignedDuration::from_secs(3600)).to_string(),
                 "kind": "Emergency", "reason": "benchmark", "announcedAt": jiff::Timestamp::now().to_string()}
    });
    let o = kubectl_stdin(&["apply", "--server-side", "-f", "-"], &w.to_string());
    assert!(o.status.success());
    while jiff::Timestamp::now() < start {
        std::thread::sleep(Duration::from_millis(50));
    }
    let t0 = Instant::now();
    let affected: BTreeSet<String> = {
        let out = kubectl_ok(&[
            "get",
            "serviceconnections",
            "-A",
            "-o",
            "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {.spec.serviceRef.namespace}{\"\\n\"}{end}",
        ]);
        out.lines()
            .filter(|l| l.ends_with(" bench-0000"))
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect()
    };
    loop {
        let out = kubectl_ok(&[
            "get",
            "serviceconnections",
            "-A",
            "-o",
            r#"jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {.status.conditions[?(@.type=="InMaintenance")].status} {.status.phase}{"\n"}{end}"#,
        ]);
        let pending = out
            .lines()
            .filter(|l| affected.contains(l.split(' ').next().unwrap()))
            .filter(|l| !l.ends_with(" Suspended") && l.split(' ').nth(1) != Some("True"))
            .count();
        let svc = kubectl_ok(&[
            "get",
            "integrationservice",
            "-n",
            "bench-0000",
            "svc",
            "-o",
            r#"jsonpath={.status.conditions[?(@.type=="InMaintenance")].status}"#,
        ]);
        if pending == 0 && svc == "True" {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(1800),
            "window not reflected: {pending} pending"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let t_window = t0.elapsed();
    println!(
        "| (c) a tech window's start over a service with {} connections | {:.1} s to the last InMaintenance status |",
        affected.len(),
        t_window.as_secs_f64()
    );
    println!(
        "| operator peak RSS at the end | {:.0} MiB |",
        vm_hwm_mib(pid)
    );
    print_work(&op);
    op.terminate();
}
