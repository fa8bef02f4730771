//! The data plane side by side (`make bench`): the same backend and the same load generator, with
//! (1) the load sent directly to the backend, (2) through nginx as a plain reverse proxy, and (3)
//! through `shep route`, which also parses the envelope, authenticates the sender (SHA-256,
//! constant-time), strips the password, stamps the session, relays and journals every message.
//!
//! The backend is nginx answering a fixed `SendMessageResponse` (so that the proxies, not the
//! backend, are measured); the load generator is wrk with a POST of a field-shaped SendMessage
//! envelope. Rounds are interleaved (direct, nginx, shep, direct, ...) and the median of the rounds is
//! reported. Everything runs on 127.0.0.1. Knobs: SHEP_BENCH_CONNECTIONS (64), SHEP_BENCH_SECONDS
//! (10), SHEP_BENCH_ROUNDS (3), SHEP_BENCH_THREADS (2, wrk's).

#[path = "../tests/common/mod.rs"]
#[allow(unused_imports)]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::route::{Login, envelope, free_port, route_yaml, senders_yaml};

const KEY: &str = "GBD_UL_LegalEntityInfo";

fn env_u(k: &str, d: u64) -> u64 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn which(cmd: &str) -> Option<PathBuf> {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .ok()?;
    let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!p.is_empty()).then(|| PathBuf::from(p))
}

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        std::thread::sleep(Duration::from_millis(300));
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_port(port: u16) {
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn nginx(dir: &Path, name: &str, workers: u32, server: &str) -> Proc {
    let d = dir.join(name);
    std::fs::create_dir_all(d.join("tmp")).unwrap();
    let conf = format!(
        "daemon off;\nmaster_process on;\nworker_processes {workers};\npid {pid};\nerror_log {err} warn;\nevents {{ worker_connections 4096; }}\nhttp {{\n  access_log {acc};\n  client_body_temp_path {tmp}/body;\n  proxy_temp_path {tmp}/proxy;\n  fastcgi_temp_path {tmp}/fcgi;\n  uwsgi_temp_path {tmp}/uwsgi;\n  scgi_temp_path {tmp}/scgi;\n  keepalive_requests 1000000;\n{server}\n}}\n",
        pid = d.join("nginx.pid").display(),
        err = d.join("error.log").display(),
        acc = d.join("access.log").display(),
        tmp = d.join("tmp").display(),
    );
    let path = d.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let child = Command::new(which("nginx").expect("nginx (apt-get install nginx-light)"))
        .args(["-p", d.to_str().unwrap(), "-c", path.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Proc(child)
}

fn vm_hwm_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time (user + system) of a process and its children threads, and of its child processes
/// (nginx's workers), in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = |p: &str| -> u64 {
        std::fs::read_to_string(format!("/proc/{p}/stat"))
            .ok()
            .and_then(|s| {
                let after = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
                Some(after.get(11)?.parse::<u64>().ok()? + after.get(12)?.parse::<u64>().ok()?)
            })
            .unwrap_or(0)
    };
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    stat(&pid.to_string()) + children.split_whitespace().map(stat).sum::<u64>()
}

#[derive(Clone, Copy, Debug, Default)]
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    errors: u64,
    /// CPU of the proxy per request, microseconds.
    cpu_us: f64,
}

fn ms(s: &str) -> f64 {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
    let n: f64 = n.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => f64::NAN,
    }
}

fn wrk(url: &str, script: &Path, conns: u64, secs: u64, threads: u64) -> Run {
    let out = Command::new(which("wrk").expect("wrk (apt-get install wrk)"))
        .args([
            &format!("-t{threads}"),
            &format!("-c{conns}"),
            &format!("-d{secs}s"),
            "--latency",
            "-s",
            script.to_str().unwrap(),
            url,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut r = Run::default();
    for l in text.lines() {
        let t = l.trim();
        if let Some(v) = t.strip_prefix("Requests/sec:") {
            r.rps = v.trim().parse().unwrap_or(0.0);
        } else if let Some(v) = t.strip_prefix("50%") {
            r.p50_ms = ms(v);
        } else if let Some(v) = t.strip_prefix("99%") {
            r.p99_ms = ms(v);
        } else if t.contains("requests in") {
            r.requests = t
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        } else if let Some(v) = t.strip_prefix("Non-2xx or 3xx responses:") {
            r.errors += v.trim().parse::<u64>().unwrap_or(0);
        } else if t.starts_with("Socket errors:") {
            r.errors += t
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    assert!(
        r.rps > 0.0,
        "wrk said:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    r
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let conns = env_u("SHEP_BENCH_CONNECTIONS", 64);
    let secs = env_u("SHEP_BENCH_SECONDS", 10);
    let rounds = env_u("SHEP_BENCH_ROUNDS", 3).max(1);
    let threads = env_u("SHEP_BENCH_THREADS", 2);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/route-bench");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // The backend: nginx answering a fixed SendMessageResponse, one worker.
    let answer = r#"<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><ns2:SendMessageResponse xmlns:ns2="http://bip.bee.kz/SyncChannel/v10/Types"><response><responseInfo><messageId>6f1c1d2e-aaaa-4a4a-9b9b-000000000001</messageId><responseDate>2026-12-03T12:00:01.000+05:00</responseDate><status><code>SCSS001</code><message>Message has been processed successfully</message></status></responseInfo><responseData><data><legalEntity><bin>051140004354</bin><name>Altyn Bank JSC</name><registered>2005-11-14</registered><status>ACTIVE</status></legalEntity></data></responseData></response></ns2:SendMessageResponse></S:Body></S:Envelope>"#;
    let backend_port = free_port();
    let _backend = nginx(
        &dir,
        "backend",
        1,
        &format!(
            "  server {{\n    listen 127.0.0.1:{backend_port};\n    access_log off;\n    location / {{\n      default_type \"text/xml; charset=utf-8\";\n      return 200 '{answer}';\n    }}\n  }}"
        ),
    );
    wait_port(backend_port);

    // nginx as a plain reverse proxy, keep-alive to the backend, access log on (as in production).
    let nginx_port = free_port();
    let _proxy = nginx(
        &dir,
        "proxy",
        2,
        &format!(
            "  upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 256; }}\n  server {{\n    listen 127.0.0.1:{nginx_port};\n    client_max_body_size 10m;\n    location / {{\n      proxy_pass http://backend;\n      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n    }}\n  }}"
        ),
    );
    wait_port(nginx_port);

    // shep route, with its journal written to a file.
    let login = Login::new("altyn-bank.legal-entity-info");
    let rdir = dir.join("route");
    std::fs::create_dir_all(&rdir).unwrap();
    std::fs::write(
        rdir.join("route.yaml"),
        route_yaml(
            KEY,
            "Soap",
            &format!("http://127.0.0.1:{backend_port}/gbd-ul/sync"),
            30,
            "[]",
        ),
    )
    .unwrap();
    std::fs::write(rdir.join("senders.yaml"), senders_yaml(&[&login], &[])).unwrap();
    let route_port = free_port();
    let route = Proc(
        Command::new(env!("CARGO_BIN_EXE_shep"))
            .arg("route")
            .arg("--config")
            .arg(rdir.join("route.yaml"))
            .arg("--senders")
            .arg(rdir.join("senders.yaml"))
            .arg("--journal")
            .arg(rdir.join("journal.log"))
            .args(["--listen", &format!("127.0.0.1:{route_port}")])
            .env("SHEP_LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(rdir.join("route.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_port(route_port);

    // The load: wrk POSTing a SendMessage as clients in the field write it.
    let body = envelope(KEY, &login, "echo");
    let script = dir.join("post.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"text/xml; charset=utf-8\"\nwrk.headers[\"SOAPAction\"] = '\"\"'\nwrk.body = [==[{body}]==]\n"
        ),
    )
    .unwrap();
    let targets = [
        (
            "direct to the backend",
            format!("http://127.0.0.1:{backend_port}/gbd-ul/sync"),
        ),
        (
            "nginx reverse proxy",
            format!("http://127.0.0.1:{nginx_port}/gbd-ul/sync"),
        ),
        (
            "shep route",
            format!("http://127.0.0.1:{route_port}/bip-sync-wss-gost/"),
        ),
    ];
    // Each target answers correctly before it is measured.
    for (name, url) in &targets {
        let out = Command::new("curl")
            .args([
                "-s",
                "-X",
                "POST",
                "-H",
                "Content-Type: text/xml",
                "--data-binary",
                &body,
                url,
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("SCSS001"), "{name} answered: {text}");
        // Warm-up.
        wrk(url, &script, conns, 2, threads);
    }
    let journal_before = std::fs::read_to_string(rdir.join("journal.log"))
        .unwrap_or_default()
        .lines()
        .count();
    let proxies = [None, Some(_proxy.0.id()), Some(route.0.id())];
    let mut results: Vec<Vec<Run>> = vec![Vec::new(); targets.len()];
    for round in 0..rounds {
        for (i, (name, url)) in targets.iter().enumerate() {
            let before = proxies[i].map(cpu_ticks);
            let mut r = wrk(url, &script, conns, secs, threads);
            if let (Some(p), Some(b)) = (proxies[i], before) {
                // Clock ticks are 1/100 s on Linux.
                r.cpu_us = (cpu_ticks(p) - b) as f64 * 10_000.0 / r.requests.max(1) as f64;
            }
            eprintln!(
                "  round {}: {name:<22} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  proxy CPU {:>5.1} us/req  errors {}",
                round + 1,
                r.rps,
                r.p50_ms,
                r.p99_ms,
                r.cpu_us,
                r.errors
            );
            results[i].push(r);
        }
    }
    let rss = vm_hwm_mib(route.0.id());
    // Every message through shep route was journaled once, and all succeeded.
    std::thread::sleep(Duration::from_millis(500));
    let journal = std::fs::read_to_string(rdir.join("journal.log")).unwrap_or_default();
    let lines = journal.lines().count() - journal_before;
    let ok = journal
        .lines()
        .skip(journal_before)
        .filter(|l| l.contains("\"outcome\":\"SCSS001\""))
        .count();
    let shep_requests: u64 = results[2].iter().map(|r| r.requests).sum();

    let med = |i: usize, f: fn(&Run) -> f64| median(results[i].iter().map(f).collect());
    let cpus = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    println!(
        "\nData plane, {conns} connections, wrk -t{threads}, {secs} s x {rounds} rounds (median), {cpus}:\n"
    );
    println!(
        "| path | throughput (req/s) | p50 (ms) | p99 (ms) | proxy CPU per request (us) | errors |\n|---|---|---|---|---|---|"
    );
    for (i, (name, _)) in targets.iter().enumerate() {
        let errors: u64 = results[i].iter().map(|r| r.errors).sum();
        let cpu = if proxies[i].is_some() {
            format!("{:.1}", med(i, |r| r.cpu_us))
        } else {
            "-".into()
        };
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {cpu} | {errors} |",
            med(i, |r| r.rps),
            med(i, |r| r.p50_ms),
            med(i, |r| r.p99_ms)
        );
    }
    println!();
    println!(
        "- shep route / nginx throughput: **{:.2}**",
        med(2, |r| r.rps) / med(1, |r| r.rps)
    );
    println!(
        "- shep route / nginx p99 latency: **{:.2}** (below 1 is better)",
        med(2, |r| r.p99_ms) / med(1, |r| r.p99_ms)
    );
    println!(
        "- shep route / direct throughput: {:.2}",
        med(2, |r| r.rps) / med(0, |r| r.rps)
    );
    println!("- shep route peak RSS: {rss:.1} MiB");
    println!(
        "- shep route journal: {lines} lines for {shep_requests} requests wrk counted, {ok} of them SCSS001"
    );
}
