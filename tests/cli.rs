//! The `shep` command-line contract (DESIGN §6), run as a process.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn shep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shep"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run shep")
}

fn shep_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shep"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run shep");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn calendar_commands() {
    let o = shep(&[
        "calendar",
        "add-working-days",
        "--from",
        "2026-12-11",
        "--days",
        "10",
    ]);
    assert!(o.status.success());
    assert_eq!(text(&o.stdout), "2026-12-28\n");
    let o = shep(&["calendar", "is-working-day", "2026-12-16"]);
    assert_eq!(text(&o.stdout), "false\n");
    let o = shep(&["calendar", "is-working-day", "2026-12-17"]);
    assert_eq!(text(&o.stdout), "true\n");
    let o = shep(&["calendar", "is-working-day", "17.12.2026"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("YYYY-MM-DD"));
}

#[test]
fn calendar_file_moves_days() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("cal.yaml");
    std::fs::write(&f, "daysOff: [2026-12-17]\nworkingDays: [2026-12-19]\n").unwrap();
    let f = f.to_str().unwrap();
    let o = shep(&["calendar", "is-working-day", "2026-12-17", "--calendar", f]);
    assert_eq!(text(&o.stdout), "false\n");
    let o = shep(&[
        "calendar",
        "add-working-days",
        "--from",
        "2026-12-15",
        "--days",
        "2",
        "--calendar",
        f,
    ]);
    assert_eq!(text(&o.stdout), "2026-12-19\n");
    std::fs::write(dir.path().join("bad.yaml"), "daysOf: []\n").unwrap();
    let o = shep(&[
        "calendar",
        "is-working-day",
        "2026-12-17",
        "--calendar",
        dir.path().join("bad.yaml").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("daysOf"), "{}", text(&o.stderr));
}

#[test]
fn crds_match_the_committed_folder() {
    let o = shep(&["crds"]);
    assert!(o.status.success());
    let printed = text(&o.stdout);
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/crds/crds.yaml"))
        .expect("crds/crds.yaml is committed");
    assert!(
        printed == committed,
        "crds/ drifted from the code: run `make crds` and commit"
    );
    for kind in [
        "InformationSystem",
        "IntegrationService",
        "ServiceConnection",
        "TechWindow",
    ] {
        assert!(printed.contains(&format!("kind: {kind}")), "{kind}");
    }
    assert!(printed.contains("x-kubernetes-validations"));
    assert!(printed.contains("- shep"), "category shep");
}

#[test]
fn render_is_deterministic_and_verifiable() {
    let args = [
        "render",
        "-f",
        "examples/06-tech-windows",
        "--now",
        "2026-12-03T12:00:00+05:00",
    ];
    let a = shep(&args);
    let b = shep(&args);
    assert!(a.status.success(), "{}", text(&a.stderr));
    assert!(
        text(&a.stdout) == text(&b.stdout),
        "hidden passwords make the preview deterministic"
    );
    let v = shep_stdin(&["journal", "verify"], &text(&a.stdout));
    assert!(v.status.success(), "{}{}", text(&v.stdout), text(&v.stderr));
    assert!(text(&v.stdout).contains("ok      ServiceConnection altyn-bank/legal-entity-info"));
}

#[test]
fn journal_verify_names_the_tampered_entry() {
    let a = shep(&[
        "render",
        "-f",
        "examples/03-bank-protocol-revoked",
        "--now",
        "2026-12-03T12:00:00+05:00",
    ]);
    let out = text(&a.stdout);
    let tampered = out.replacen("phase (none) -> Suspended", "phase (none) -> Active", 1);
    assert_ne!(out, tampered);
    let v = shep_stdin(&["journal", "verify", "-f", "-"], &tampered);
    assert_eq!(v.status.code(), Some(1));
    let s = text(&v.stdout);
    assert!(
        s.contains("BROKEN") && s.contains("hash does not match"),
        "{s}"
    );
    let none = shep_stdin(
        &["journal", "verify"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    );
    assert_eq!(none.status.code(), Some(2));
}

#[test]
fn render_refuses_bad_manifests_but_renders_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/01-owner-published-sync-soap/systems.yaml"
    ))
    .unwrap();
    let svc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/01-owner-published-sync-soap/services.yaml"
    ))
    .unwrap();
    let bad = svc
        .replace("name: legal-entity-info", "name: excluded")
        .replace(
            "serviceKey: GBDUL_LegalEntityInfo",
            "serviceKey: Tax_Declarations\n  exclusions: {taxOrCustoms: true}",
        );
    std::fs::write(
        dir.path().join("a.yaml"),
        format!("{good}---\n{svc}---\n{bad}"),
    )
    .unwrap();
    let o = shep(&[
        "render",
        "-f",
        dir.path().to_str().unwrap(),
        "--now",
        "2026-12-03T12:00:00+05:00",
        "-o",
        "summary",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("IntegrationService minjust/excluded"), "{err}");
    assert!(
        err.contains("spec.exclusions.taxOrCustoms") && err.contains("p.3"),
        "{err}"
    );
    assert!(text(&o.stdout).contains("minjust/legal-entity-info"));
    let missing = shep(&["render", "-f", "/nonexistent/dir"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("/nonexistent/dir"));
    let badnow = shep(&["render", "-f", "examples", "--now", "yesterday"]);
    assert_eq!(badnow.status.code(), Some(2));
    assert!(text(&badnow.stderr).contains("--now"));
}

#[test]
fn show_secrets_reveals_matching_passwords() {
    let o = shep(&[
        "render",
        "-f",
        "examples/02-bank-connected",
        "--now",
        "2026-12-03T12:00:00+05:00",
        "--show-secrets",
    ]);
    assert!(o.status.success());
    assert!(!text(&o.stdout).contains("integration.egov.kz/redacted"));
}
