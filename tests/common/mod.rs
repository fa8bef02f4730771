//! The harness of the live tests: the local control plane (kube-apiserver, etcd, controller-manager,
//! scheduler and kwok on loopback, started by tools/cluster-up.sh), the CRDs, the operator's RBAC of
//! deploy/rbac.yaml, and `shep operator` processes running under that ServiceAccount, so that a
//! permission the operator lacks fails the tests.
#![allow(dead_code)]

pub mod route;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

pub struct Cluster {
    /// The admin kubeconfig.
    pub admin: PathBuf,
    /// A kubeconfig with the operator ServiceAccount's token.
    pub operator_kubeconfig: PathBuf,
    /// target/cluster.
    pub dir: PathBuf,
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

pub fn kubectl(args: &[&str]) -> Output {
    run(Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&cluster().admin)
        .args(args))
}

pub fn kubectl_ok(args: &[&str]) -> String {
    let o = kubectl(args);
    assert!(
        o.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn kubectl_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&cluster().admin)
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

pub fn get_json(args: &[&str]) -> Option<Value> {
    let mut a = vec!["get"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-o", "json"]);
    let o = kubectl(&a);
    o.status
        .success()
        .then(|| serde_json::from_slice(&o.stdout).unwrap())
}

/// Starts (or reuses) the local control plane and installs the CRDs and the operator's RBAC.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let up = run(Command::new(format!("{ROOT}/tools/cluster-up.sh")).stderr(Stdio::inherit()));
        assert!(up.status.success(), "cluster-up failed");
        let out = String::from_utf8_lossy(&up.stdout);
        let admin = PathBuf::from(
            out.lines()
                .find_map(|l| l.strip_prefix("export KUBECONFIG="))
                .expect("kubeconfig line"),
        );
        let k = |args: &[&str]| {
            run(Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(&admin)
                .args(args))
        };
        let o = k(&[
            "apply",
            "--server-side",
            "-f",
            &format!("{ROOT}/crds/crds.yaml"),
        ]);
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
        let dir = admin.parent().unwrap().to_path_buf();
        let sa = dir.join("operator.kubeconfig");
        write_token_kubeconfig(&admin, "shep-system", "shep-operator", &sa);
        Cluster {
            admin,
            operator_kubeconfig: sa,
            dir,
        }
    })
}

/// Writes a kubeconfig for `file` that authenticates with a token of ServiceAccount `ns/name`, so a
/// process runs with exactly that account's permissions.
pub fn write_token_kubeconfig(admin: &Path, ns: &str, name: &str, file: &Path) {
    let token = run(Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(admin)
        .args(["create", "token", name, "-n", ns, "--duration=24h"]));
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8_lossy(&token.stdout).trim().to_string();
    let admin_cfg = std::fs::read_to_string(admin).unwrap();
    let server = admin_cfg
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .to_string();
    let ca = admin_cfg
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate-authority: "))
        .unwrap()
        .to_string();
    std::fs::write(
        file,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: {server}, certificate-authority: {ca}}}\nusers:\n- name: {name}\n  user: {{token: {token}}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: {name}}}\ncurrent-context: c\n"
        ),
    )
    .unwrap();
}

/// The Helm binary, built from helm.sh/helm/v4 through the Go module proxy once and cached with the
/// control plane (tools/build-control-plane.sh helm).
pub fn helm_bin() -> &'static Path {
    static HELM: OnceLock<PathBuf> = OnceLock::new();
    HELM.get_or_init(|| {
        let o = run(Command::new(format!("{ROOT}/tools/build-control-plane.sh"))
            .arg("helm")
            .stderr(Stdio::inherit()));
        assert!(o.status.success(), "building helm failed");
        let cache = std::env::var("SHEP_CACHE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                std::env::var("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|_| {
                        PathBuf::from(std::env::var("HOME").unwrap()).join(".cache")
                    })
                    .join("shep-operator")
            });
        cache.join("bin/helm")
    })
}

/// Runs helm with `args` (and the admin kubeconfig when the cluster is up).
pub fn helm(args: &[&str]) -> Output {
    run(Command::new(helm_bin())
        .args(args)
        .env("HELM_CACHE_HOME", format!("{ROOT}/target/helm/cache"))
        .env("HELM_CONFIG_HOME", format!("{ROOT}/target/helm/config"))
        .env("HELM_DATA_HOME", format!("{ROOT}/target/helm/data")))
}

/// A running `shep operator` process; killed when dropped.
pub struct Operator {
    pub child: Child,
    pub health_port: u16,
    pub log: PathBuf,
}

impl Operator {
    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the process with SIGTERM, as Kubernetes does, and waits for it.
    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }

    /// GET on the operator's health endpoint.
    pub fn http(&self, path: &str) -> Option<(u16, String)> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.health_port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(s, "GET {path} HTTP/1.1\r\nhost: localhost\r\n\r\n").ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        let code = out.split_whitespace().nth(1)?.parse().ok()?;
        Some((code, out.split("\r\n\r\n").nth(1).unwrap_or("").to_string()))
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Stops operators a previous test binary left running on the same cluster.
pub fn stop_stale_operators() {
    let pids = cluster().dir.join("pids");
    let kept: Vec<String> = std::fs::read_to_string(&pids)
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            if let Some(pid) = l.strip_prefix("operator ") {
                let _ = Command::new("kill").arg("-9").arg(pid.trim()).status();
                false
            } else {
                true
            }
        })
        .map(str::to_string)
        .collect();
    std::fs::write(
        &pids,
        kept.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
}

/// Starts `shep operator` under the operator's ServiceAccount, with leader election and a short
/// resync for tests.
pub fn start_operator(name: &str) -> Operator {
    start_operator_with(name, &["--resync-seconds", "20"])
}

/// Starts `shep operator` with extra arguments (for example `--resync-seconds N`).
pub fn start_operator_with(name: &str, extra: &[&str]) -> Operator {
    start_operator_as(name, &cluster().operator_kubeconfig, extra)
}

/// Starts `shep operator` with the credentials of `kubeconfig` and extra arguments.
pub fn start_operator_as(name: &str, kubeconfig: &Path, extra: &[&str]) -> Operator {
    let c = cluster();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = c.dir.join(format!("logs/operator-{name}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_shep"))
        .args([
            "operator",
            "--lease-seconds",
            "6",
            "--health-addr",
            &format!("127.0.0.1:{port}"),
        ])
        .args(extra)
        .env("KUBECONFIG", kubeconfig)
        .env("POD_NAME", name)
        .env("SHEP_LOG", "info")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start shep operator");
    // Recorded with the control plane, so that tools/cluster-down.sh stops it too.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(c.dir.join("pids"))
        .unwrap();
    use std::io::Write;
    writeln!(f, "operator {}", child.id()).unwrap();
    Operator {
        child,
        health_port: port,
        log: log_path,
    }
}

/// Example documents with every namespace prefixed and service keys made unique, so scenarios do not
/// collide.
pub fn example(folder: &str, prefix: &str) -> Vec<Value> {
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

pub fn apply(docs: &[Value]) {
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
pub fn eventually<T>(what: &str, secs: u64, mut check: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < Duration::from_secs(secs) {
        match check() {
            Ok(v) => return v,
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let mut logs = String::new();
    if let Ok(rd) = std::fs::read_dir(cluster().dir.join("logs")) {
        for e in rd
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("operator-"))
        {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            logs.push_str(&format!(
                "--- {} (newest first)\n{}\n",
                e.path().display(),
                tail.join("\n")
            ));
        }
    }
    panic!("timed out waiting for {what}: {last}\n{logs}");
}

pub fn status(kind: &str, ns: &str, name: &str) -> Result<Value, String> {
    let v =
        get_json(&[kind, "-n", ns, name]).ok_or_else(|| format!("{kind} {ns}/{name} not found"))?;
    let s = v["status"].clone();
    if s.is_null() || s["observedGeneration"] != v["metadata"]["generation"] {
        return Err(format!("{kind} {ns}/{name}: status not observed yet"));
    }
    Ok(s)
}

/// Waits until the object's observed status has `phase`.
pub fn wait_phase(kind: &str, ns: &str, name: &str, phase: &str, secs: u64) {
    eventually(phase, secs, || {
        let s = status(kind, ns, name)?;
        if s["phase"] == phase {
            Ok(())
        } else {
            Err(format!("phase {}", s["phase"]))
        }
    });
}

pub fn cond(s: &Value, t: &str) -> (String, String) {
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

pub fn senders(ns: &str, name: &str) -> Result<Vec<String>, String> {
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

pub fn ingress_cidrs(ns: &str, name: &str) -> Result<Vec<String>, String> {
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

/// Renders the cluster's own objects of the given namespaces with the library and compares phases,
/// condition statuses and children with what the operator wrote.
pub fn compare_with_render(namespaces: &[String]) -> Result<(), String> {
    let in_scope = |v: &serde_json::Value| {
        namespaces
            .iter()
            .any(|n| v["metadata"]["namespace"] == n.as_str())
    };
    let crs = get_json(&[
        "informationsystems,integrationservices,serviceconnections,techwindows",
        "-A",
    ])
    .ok_or("list")?;
    let secrets = get_json(&["secrets", "-A"]).ok_or("secrets")?;
    let mut loaded = shep_operator::manifest::Loaded::default();
    let checker = shep_operator::manifest::Checker::new();
    let mut observed = Vec::new();
    for item in crs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| in_scope(v))
    {
        if item["status"]["observedGeneration"] != item["metadata"]["generation"] {
            return Err(format!("{} not observed yet", item["metadata"]["name"]));
        }
        let mut v = item.clone();
        v["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        observed.push(v.clone());
        loaded.add_value("cluster", v, &checker);
    }
    for s in secrets["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| in_scope(v))
    {
        loaded.add_value("cluster", s.clone(), &checker);
    }
    if !loaded.errors.is_empty() {
        return Err(format!("{:?}", loaded.errors));
    }
    let p = shep_operator::plan::plan_with(
        &loaded.snapshot,
        jiff::Timestamp::now(),
        &shep_operator::calendar::Calendar::default(),
        &shep_operator::render::RenderSettings::default(),
        shep_operator::plan::Issue::ExistingOnly,
    );
    let docs = shep_operator::commands::render::documents(&loaded.snapshot, &p, true);
    // Statuses: phase and every condition's status.
    for o in &observed {
        let d = docs
            .iter()
            .find(|d| {
                d["kind"] == o["kind"]
                    && d["metadata"]["namespace"] == o["metadata"]["namespace"]
                    && d["metadata"]["name"] == o["metadata"]["name"]
            })
            .ok_or("rendered object missing")?;
        let id = format!(
            "{} {}/{}",
            o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]
        );
        if d["status"]["phase"] != o["status"]["phase"] {
            return Err(format!(
                "{id}: phase {} in the cluster, {} rendered",
                o["status"]["phase"], d["status"]["phase"]
            ));
        }
        for c in d["status"]["conditions"].as_array().unwrap() {
            let t = c["type"].as_str().unwrap();
            if cond(&o["status"], t).0 != c["status"].as_str().unwrap() {
                return Err(format!(
                    "{id}: {t} is {:?} in the cluster, {} rendered",
                    cond(&o["status"], t),
                    c["status"]
                ));
            }
        }
    }
    // Children: the same objects, with the same route configs, senders and policies.
    let rendered: Vec<&serde_json::Value> = docs
        .iter()
        .filter(|d| {
            !d["apiVersion"]
                .as_str()
                .unwrap_or("")
                .starts_with("integration.egov.kz")
        })
        .collect();
    let managed = get_json(&[
        "configmaps,secrets,deployments,services,networkpolicies",
        "-A",
        "-l",
        "app.kubernetes.io/managed-by=shep-operator",
    ])
    .ok_or("children")?;
    let managed: Vec<&serde_json::Value> = managed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| in_scope(v))
        .collect();
    let ids = |v: &[&serde_json::Value]| {
        let mut ids: Vec<String> = v
            .iter()
            .map(|d| {
                format!(
                    "{} {}/{}",
                    d["kind"], d["metadata"]["namespace"], d["metadata"]["name"]
                )
            })
            .collect();
        ids.sort();
        ids
    };
    if ids(&rendered) != ids(&managed) {
        return Err(format!(
            "children differ:\ncluster  {:?}\nrendered {:?}",
            ids(&managed),
            ids(&rendered)
        ));
    }
    for r in &rendered {
        let m = managed
            .iter()
            .find(|m| {
                m["kind"] == r["kind"]
                    && m["metadata"]["namespace"] == r["metadata"]["namespace"]
                    && m["metadata"]["name"] == r["metadata"]["name"]
            })
            .unwrap();
        let same = match r["kind"].as_str().unwrap() {
            "ConfigMap" | "Secret" => r["data"] == m["data"],
            "NetworkPolicy" => r["spec"] == m["spec"],
            "Deployment" => {
                r["spec"]["template"]["spec"]["containers"][0]["args"]
                    == m["spec"]["template"]["spec"]["containers"][0]["args"]
            }
            _ => true,
        };
        if !same {
            return Err(format!(
                "{} {}/{} differs from its rendering",
                r["kind"], r["metadata"]["namespace"], r["metadata"]["name"]
            ));
        }
    }
    Ok(())
}
