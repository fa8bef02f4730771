//! Property tests: no input makes the engine panic, and the pure rules keep their invariants.

use std::path::PathBuf;

use jiff::Timestamp;
use jiff::civil::Date;
use proptest::prelude::*;
use serde_json::{Value, json};
use shep_operator::api::{ApplicationEventType, DecisionEvent};
use shep_operator::calendar::Calendar;
use shep_operator::lifecycle;
use shep_operator::manifest::{Checker, Loaded};
use shep_operator::plan::plan;
use shep_operator::render::RenderSettings;

/// Every document of every example, as JSON.
fn example_docs() -> Vec<Value> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for d in dirs.into_iter().filter(|d| d.is_dir()) {
        let mut files: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
        {
            let text = std::fs::read_to_string(f).unwrap();
            let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
            out.extend(docs);
        }
    }
    out
}

/// Paths (as key lists) to every node of a value.
fn paths(v: &Value, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, v)| {
            let mut p = prefix.clone();
            p.push(k.clone());
            paths(v, p, out)
        }),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| {
            let mut p = prefix.clone();
            p.push(i.to_string());
            paths(v, p, out)
        }),
        _ => {}
    }
}

fn node_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut cur = v;
    for k in path {
        cur = match cur {
            Value::Object(m) => m.get_mut(k)?,
            Value::Array(a) => a.get_mut(k.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-zA-Z0-9 ._:/+-]{0,40}".prop_map(Value::from),
        prop_oneof![
            Just("2026-12-03T12:00:00+05:00"),
            Just("2026-02-30"),
            Just("9999-12-31T23:59:59Z"),
            Just("1900-01-01"),
            Just("-1"),
            Just("Submitted"),
            Just("TestAccessGranted"),
            Just("ProductionAccessGranted"),
            Just("OwnerApproved"),
            Just("Published"),
            Just("test"),
            Just("production"),
            Just("http://[::1]:99999/"),
            Just("10.0.0.0/33"),
            Just("990340005124"),
            Just("\u{0}\u{202e}ʼ"),
        ]
        .prop_map(Value::from),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    arb_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

thread_local! {
    /// The CEL rules compiled once per test thread.
    static CHECKER: Checker = Checker::new();
}

fn now() -> Timestamp {
    "2026-12-03T12:00:00+05:00".parse().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    /// Random mutations of realistic manifests never make loading, deciding, building statuses,
    /// rendering or printing panic.
    #[test]
    fn mutated_manifests_never_panic(
        mutations in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), arb_value(), any::<bool>()), 1..8),
        clock in 0i64..(400 * 86_400),
    ) {
        let mut docs = example_docs();
        for (doc_ix, path_ix, value, delete) in mutations {
            let d = doc_ix.index(docs.len());
            let mut ps = Vec::new();
            paths(&docs[d], Vec::new(), &mut ps);
            let p = ps[path_ix.index(ps.len())].clone();
            if delete && !p.is_empty() {
                let (last, parent) = p.split_last().unwrap();
                if let Some(Value::Object(m)) = node_mut(&mut docs[d], parent) {
                    m.remove(last);
                    continue;
                }
            }
            if let Some(n) = node_mut(&mut docs[d], &p) {
                *n = value;
            }
        }
        let mut l = Loaded::default();
        CHECKER.with(|checker| {
            for (i, d) in docs.into_iter().enumerate() {
                l.add_value(&format!("doc{i}"), d, checker);
            }
        });
        let at = Timestamp::from_second(now().as_second() - 200 * 86_400 + clock).unwrap();
        let p = plan(&l.snapshot, at, &Calendar::default(), &RenderSettings::default());
        let docs = shep_operator::commands::render::documents(&l.snapshot, &p, false);
        let _ = serde_saphyr::to_string_multiple(&docs);
        let _ = shep_operator::commands::render::summary(&p);
    }

    /// Random documents of the right kinds never panic either.
    #[test]
    fn random_documents_never_panic(spec in arb_value(), kind in prop::sample::select(vec!["InformationSystem", "IntegrationService", "ServiceConnection", "TechWindow", "Secret"])) {
        let api = if kind == "Secret" { "v1" } else { "integration.egov.kz/v1alpha1" };
        let doc = json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x", "namespace": "ns"}, "spec": spec.clone(), "data": spec});
        let mut l = Loaded::default();
        CHECKER.with(|c| l.add_value("doc", doc, c));
        let p = plan(&l.snapshot, now(), &Calendar::default(), &RenderSettings::default());
        let _ = shep_operator::commands::render::summary(&p);
    }

    /// Any sequence of decisions replays without panic; accepted events are a prefix, and the
    /// stage reached is one of the process's stages.
    #[test]
    fn any_event_sequence_replays(
        events in prop::collection::vec((0usize..16, 0i64..2_000_000, any::<bool>()), 0..20),
        state in any::<bool>(),
    ) {
        let types = [
            ApplicationEventType::Submitted, ApplicationEventType::OwnerApproved, ApplicationEventType::Refused,
            ApplicationEventType::OperatorApproved, ApplicationEventType::OperatorReturned, ApplicationEventType::Resubmitted,
            ApplicationEventType::TestAccessGranted, ApplicationEventType::TestActSignedByInitiator, ApplicationEventType::TestActSignedByOwner,
            ApplicationEventType::TestActReturned, ApplicationEventType::TestActApproved, ApplicationEventType::ProductionAccessGranted,
            ApplicationEventType::ActualizationRequested, ApplicationEventType::ActualizationReturned, ApplicationEventType::ActualizationApproved,
            ApplicationEventType::Actualized,
        ];
        let mut t = Timestamp::from_second(1_780_000_000).unwrap();
        let evs: Vec<DecisionEvent<ApplicationEventType>> = events.iter().map(|(i, dt, reason)| {
            t = Timestamp::from_second(t.as_second() + dt).unwrap();
            DecisionEvent { type_: types[*i], at: t, by: "x".into(), reason: reason.then(|| "because".into()), signature: None }
        }).collect();
        let process = lifecycle::connection::process(state);
        let o = lifecycle::run(process, &evs, "spec.application.events", Date::constant(2026, 1, 1), Timestamp::from_second(1_900_000_000).unwrap());
        for (i, a) in o.accepted.iter().enumerate() {
            prop_assert_eq!(a.index, i);
        }
        prop_assert!(process.stages.iter().any(|s| s.id == o.stage.id));
        if let Some(e) = &o.error {
            prop_assert_eq!(e.index, o.accepted.len());
        } else {
            prop_assert_eq!(o.accepted.len(), evs.len());
        }
    }

    /// N working days after any date is a working day, and exactly N working days lie between.
    #[test]
    fn working_day_arithmetic(day in 0i32..(365 * 30), n in 1u32..40) {
        let cal = Calendar::default();
        let from = Date::constant(2015, 1, 1).checked_add(jiff::Span::new().days(day)).unwrap();
        let to = cal.add_working_days(from, n);
        prop_assert!(cal.is_working_day(to));
        prop_assert_eq!(cal.working_days_between(from, to), n);
    }

    /// The BIN/IIN rule the API server runs (CEL) agrees with the engine's check.
    #[test]
    fn cel_bin_rule_matches_rust(digits in "[0-9]{12}", junk in "[0-9a-z]{0,13}", pick in any::<bool>()) {
        let bin = if pick { digits } else { junk };
        let doc = json!({
            "apiVersion": "integration.egov.kz/v1alpha1", "kind": "InformationSystem",
            "metadata": {"name": "x", "namespace": "ns"},
            "spec": {"organization": {"name": "Org", "bin": bin}, "state": true}
        });
        let errors = CHECKER.with(|c| c.cel_errors("InformationSystem", &doc, None));
        let cel_ok = !errors.iter().any(|e| e.contains("spec.organization.bin"));
        prop_assert_eq!(cel_ok, shep_operator::api::validation::is_valid_bin(&bin), "{} {:?}", bin, errors);
    }
}
