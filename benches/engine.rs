//! Engine throughput: decide + status + render (`plan`) over a synthetic registry of 1,000 systems,
//! 1,000 services and 5,000 connections, side by side with the cost of merely serializing the same
//! output to JSON (what any operator pays to send it to the API server). Prints a table; see
//! docs/BENCHMARKS.md. Run with `make bench`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::{Value, json};
use shep_operator::calendar::Calendar;
use shep_operator::decide::decide;
use shep_operator::manifest::{Checker, Loaded};
use shep_operator::plan::plan;
use shep_operator::render::RenderSettings;

const SYSTEMS: usize = 1000;
const CONNECTIONS_PER_SYSTEM: usize = 5;

fn template(kind: &str) -> Value {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/02-bank-connected");
    for f in ["systems.yaml", "services.yaml", "connections.yaml"] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        for d in serde_saphyr::from_multiple::<Value>(&text).unwrap() {
            if d["kind"] == kind
                && (kind != "InformationSystem" || d["metadata"]["name"] == "altyn-core")
            {
                return d;
            }
        }
    }
    panic!("{kind}");
}

fn registry() -> Loaded {
    let sys = template("InformationSystem");
    let svc = template("IntegrationService");
    let conn = template("ServiceConnection");
    let cert = template("Secret");
    let checker = Checker::new();
    let mut l = Loaded::default();
    for i in 0..SYSTEMS {
        let ns = format!("org-{i:04}");
        let mut c = cert.clone();
        c["metadata"] = json!({"name": "altyn-core-transport-cert", "namespace": ns});
        l.add_value("bench", c, &checker);
        let mut s = sys.clone();
        s["metadata"] = json!({"name": "core", "namespace": ns});
        s["spec"]["networks"]["production"] = json!([format!("10.{}.{}.0/24", i / 256, i % 256)]);
        l.add_value("bench", s, &checker);
        let mut v = svc.clone();
        v["metadata"] = json!({"name": "svc", "namespace": ns});
        v["spec"]["serviceKey"] = json!(format!("Svc_{i:04}"));
        v["spec"]["systemRef"]["name"] = json!("core");
        l.add_value("bench", v, &checker);
        for j in 0..CONNECTIONS_PER_SYSTEM {
            let target = (i * 7 + j * 131 + 1) % SYSTEMS;
            let mut c = conn.clone();
            c["metadata"] = json!({"name": format!("to-{target:04}"), "namespace": ns});
            c["spec"]["serviceRef"] =
                json!({"namespace": format!("org-{target:04}"), "name": "svc"});
            c["spec"]["systemRef"]["name"] = json!("core");
            l.add_value("bench", c, &checker);
        }
    }
    assert!(
        l.errors.is_empty(),
        "{:?}",
        &l.errors[..l.errors.len().min(3)]
    );
    l
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    let t = Instant::now();
    let loaded = registry();
    let load_time = t.elapsed();
    let snap = &loaded.snapshot;
    let objects = snap.systems.len() + snap.services.len() + snap.connections.len();
    let now: Timestamp = "2026-12-03T12:00:00+05:00".parse().unwrap();
    let cal = Calendar::default();
    let settings = RenderSettings::default();
    let runs = 5;

    let mut decide_t = Vec::new();
    let mut plan_t = Vec::new();
    let mut ser_t = Vec::new();
    let mut children = 0;
    for _ in 0..runs {
        let t = Instant::now();
        black_box(decide(snap, now, &cal));
        decide_t.push(t.elapsed());

        let t = Instant::now();
        let p = black_box(plan(snap, now, &cal, &settings));
        plan_t.push(t.elapsed());

        // The baseline: serializing exactly what the plan produced (statuses and children).
        let t = Instant::now();
        let mut bytes = 0usize;
        for (b, kids) in p.services.values() {
            bytes += serde_json::to_vec(&b.status).unwrap().len();
            for k in kids {
                bytes += serde_json::to_vec(&k.to_value()).unwrap().len();
            }
        }
        for (b, kids) in p.connections.values() {
            bytes += serde_json::to_vec(&b.status).unwrap().len();
            for k in kids {
                bytes += serde_json::to_vec(&k.to_value()).unwrap().len();
            }
        }
        for b in p.systems.values() {
            bytes += serde_json::to_vec(&b.status).unwrap().len();
        }
        black_box(bytes);
        ser_t.push(t.elapsed());
        children = p.services.values().map(|(_, k)| k.len()).sum::<usize>()
            + p.connections.values().map(|(_, k)| k.len()).sum::<usize>();
    }
    let (d, p, s) = (median(decide_t), median(plan_t), median(ser_t));
    println!(
        "engine benchmark: {} systems, {} services, {} connections ({objects} objects), {children} children",
        snap.systems.len(),
        snap.services.len(),
        snap.connections.len()
    );
    println!(
        "load + CEL-check of the manifests: {:.0} ms",
        load_time.as_secs_f64() * 1000.0
    );
    println!("| step (median of {runs}) | time | per object |");
    println!("|---|---|---|");
    println!(
        "| decide (lifecycle + policy) | {:.1} ms | {:.1} µs |",
        d.as_secs_f64() * 1e3,
        d.as_secs_f64() * 1e6 / objects as f64
    );
    println!(
        "| plan (decide + status + render) | {:.1} ms | {:.1} µs |",
        p.as_secs_f64() * 1e3,
        p.as_secs_f64() * 1e6 / objects as f64
    );
    println!(
        "| baseline: serialize the plan's output to JSON | {:.1} ms | {:.1} µs |",
        s.as_secs_f64() * 1e3,
        s.as_secs_f64() * 1e6 / objects as f64
    );
    println!(
        "ratio plan / serialize-only: {:.2}",
        p.as_secs_f64() / s.as_secs_f64()
    );
    println!(
        "peak RSS of the benchmark process: {:.0} MiB",
        peak_rss_mib()
    );
}
