//! The GitOps health checks of the chart (charts/shep-operator/files/gitops): the Argo CD Lua script
//! run by a real Lua 5.1 interpreter (Argo CD runs them on gopher-lua, Lua 5.1), and Flux's
//! healthCheckExprs run by a CEL interpreter, on statuses that the engine itself computes for the
//! examples (`shep render`), plus the edge cases: no status yet, an old generation, a stalled object.

use std::process::Command;

use mlua::{Lua, LuaSerdeExt};
use serde_json::{Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const NOW: &str = "2026-12-03T12:00:00+05:00";

/// `shep render` of manifests, each object as the API server would store it after the operator
/// wrote its status (generation 1, observed).
fn render(paths: &[&str]) -> Vec<Value> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shep"));
    cmd.arg("render");
    for p in paths {
        cmd.args(["-f", p]);
    }
    let out = cmd.args(["--now", NOW]).output().unwrap();
    let mut docs: Vec<Value> =
        serde_saphyr::from_multiple(&String::from_utf8_lossy(&out.stdout)).unwrap();
    for d in &mut docs {
        if d.get("status").is_some() {
            d["metadata"]["generation"] = json!(1);
            d["status"]["observedGeneration"] = json!(1);
        }
    }
    docs
}

fn example(folder: &str, kind: &str, name: &str) -> Value {
    render(&[&format!("{ROOT}/examples/{folder}")])
        .into_iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{folder}: no {kind} {name}"))
}

/// Argo CD: the script's `hs.status` and `hs.message` for `obj`.
fn argo(obj: &Value) -> (String, String) {
    let script = std::fs::read_to_string(format!(
        "{ROOT}/charts/shep-operator/files/gitops/argocd-health.lua"
    ))
    .unwrap();
    let lua = Lua::new();
    let opts = mlua::SerializeOptions::new()
        .serialize_none_to_null(false)
        .serialize_unit_to_null(false);
    lua.globals()
        .set("obj", lua.to_value_with(obj, opts).unwrap())
        .unwrap();
    let hs: mlua::Table = lua.load(&script).eval().unwrap();
    (hs.get("status").unwrap(), hs.get("message").unwrap())
}

/// Flux: which of the kind's expressions hold, in Flux's order (inProgress, failed, current).
fn flux(obj: &Value) -> &'static str {
    let text = std::fs::read_to_string(format!(
        "{ROOT}/charts/shep-operator/files/gitops/flux-health-check-exprs.yaml"
    ))
    .unwrap();
    let exprs: Vec<Value> = serde_saphyr::from_str(&text).unwrap();
    let e = exprs
        .iter()
        .find(|e| e["kind"] == obj["kind"])
        .expect("an expression for every kind");
    let mut ctx = cel::Context::default();
    for k in ["metadata", "spec", "status"] {
        if let Some(v) = obj.get(k) {
            ctx.add_variable(k, v.clone()).unwrap();
        }
    }
    for (name, verdict) in [
        ("inProgress", "InProgress"),
        ("failed", "Failed"),
        ("current", "Current"),
    ] {
        let program = cel::Program::compile(e[name].as_str().unwrap())
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        if program.execute(&ctx).unwrap() == cel::Value::Bool(true) {
            return verdict;
        }
    }
    "Unknown"
}

#[test]
fn ready_objects_are_healthy() {
    for (folder, kind, name) in [
        (
            "02-bank-connected",
            "ServiceConnection",
            "legal-entity-info",
        ),
        (
            "02-bank-connected",
            "IntegrationService",
            "legal-entity-info",
        ),
        ("02-bank-connected", "InformationSystem", "altyn-core"),
        ("06-tech-windows", "TechWindow", "db-upgrade-2026-12"),
    ] {
        let o = example(folder, kind, name);
        assert_eq!(argo(&o).0, "Healthy", "{folder} {kind} {name}");
        assert_eq!(flux(&o), "Current", "{folder} {kind} {name}");
    }
}

#[test]
fn a_revoked_protocol_is_suspended_with_its_rule() {
    let o = example(
        "03-bank-protocol-revoked",
        "ServiceConnection",
        "legal-entity-info",
    );
    let (status, message) = argo(&o);
    assert_eq!(status, "Suspended");
    assert!(message.contains("p.65"), "{message}");
    // For Flux a suspension the rules mandate is the object's current state, not a failed sync.
    assert_eq!(flux(&o), "Current");
    let sys = example(
        "03-bank-protocol-revoked",
        "InformationSystem",
        "altyn-core",
    );
    assert_eq!(argo(&sys).0, "Suspended");
}

#[test]
fn a_break_in_progress_and_a_pending_step_are_progressing() {
    let o = example("06-tech-windows", "IntegrationService", "legal-entity-info");
    let (status, message) = argo(&o);
    assert_eq!(status, "Progressing");
    assert!(message.contains("p.48"), "{message}");
    assert_eq!(flux(&o), "InProgress");
    // A late break is enforced but not ready: progressing, with the rule in the message.
    let late = example("06-tech-windows", "TechWindow", "cert-rotation-late");
    let (status, message) = argo(&late);
    assert_eq!(status, "Progressing");
    assert!(message.contains("p.48"), "{message}");
}

#[test]
fn no_status_an_old_generation_and_a_stall() {
    let mut o = example(
        "02-bank-connected",
        "ServiceConnection",
        "legal-entity-info",
    );
    let mut fresh = o.clone();
    fresh.as_object_mut().unwrap().remove("status");
    assert_eq!(argo(&fresh).0, "Progressing");
    o["metadata"]["generation"] = json!(5);
    o["status"]["observedGeneration"] = json!(4);
    assert_eq!(
        argo(&o),
        (
            "Progressing".into(),
            "Waiting for shep-operator to reconcile generation 5".into()
        )
    );
    assert_eq!(flux(&o), "InProgress");

    // An event the rules do not allow at that point stalls the connection.
    let dir = std::path::Path::new(ROOT).join("target/gitops-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let base = format!("{ROOT}/examples/02-bank-connected");
    let conn = std::fs::read_to_string(format!("{base}/connections.yaml")).unwrap();
    let mut docs: Vec<Value> = serde_saphyr::from_multiple(&conn).unwrap();
    let c = docs
        .iter_mut()
        .find(|d| d["kind"] == "ServiceConnection")
        .unwrap();
    let events = c["spec"]["application"]["events"].as_array_mut().unwrap();
    events.insert(1, json!({"type": "ProductionAccessGranted", "at": "2026-10-01T10:00:00+05:00", "by": "operator"}));
    std::fs::write(
        dir.join("connections.yaml"),
        serde_saphyr::to_string_multiple(&docs).unwrap(),
    )
    .unwrap();
    let stalled = render(&[
        &format!("{base}/systems.yaml"),
        &format!("{base}/services.yaml"),
        dir.join("connections.yaml").to_str().unwrap(),
    ])
    .into_iter()
    .find(|d| d["kind"] == "ServiceConnection")
    .unwrap();
    let (status, message) = argo(&stalled);
    assert_eq!(status, "Degraded", "{message}");
    assert!(message.contains("ProductionAccessGranted"), "{message}");
    assert_eq!(flux(&stalled), "Failed");
}
