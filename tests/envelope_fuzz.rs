//! Fuzzing the route's envelope parsers (issue: "no panics on any input"): the seeds of
//! tests/corpus/envelopes, mutated (byte edits, splices, truncations, repeats) and fed to every
//! parser of the data plane. Nothing may panic, and what parses keeps its invariants: a forwarded
//! request carries no password, stamps the session once, and reads back as a request.

use std::path::PathBuf;

use proptest::prelude::*;
use shep_operator::route::fault::ErrorCode;
use shep_operator::route::rest::{self, RestRequest};
use shep_operator::route::soap::{self, SyncRequest};

fn corpus() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/envelopes");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml" || e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

#[derive(Clone, Debug)]
enum Edit {
    Replace(usize, char),
    Insert(usize, String),
    Delete(usize, usize),
    Truncate(usize),
    Repeat(usize, usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let token = prop_oneof![
        Just("<".to_string()),
        Just(">".to_string()),
        Just("&".to_string()),
        Just("&lol;".to_string()),
        Just("&#0;".to_string()),
        Just("<!DOCTYPE a>".to_string()),
        Just("<![CDATA[".to_string()),
        Just("</requestInfo>".to_string()),
        Just("<password>x</password>".to_string()),
        Just("<sessionId/>".to_string()),
        Just("<sessionId>{a}</sessionId>".to_string()),
        Just("<sender><senderId>x</senderId></sender>".to_string()),
        Just("xmlns:v10=\"urn:other\"".to_string()),
        Just("\"".to_string()),
        Just("\\u0000".to_string()),
        "[\\PC]{0,8}",
    ];
    prop_oneof![
        (any::<usize>(), any::<char>()).prop_map(|(i, c)| Edit::Replace(i, c)),
        (any::<usize>(), token).prop_map(|(i, t)| Edit::Insert(i, t)),
        (any::<usize>(), 0usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), 1usize..40, 1usize..6).prop_map(|(i, n, k)| Edit::Repeat(i, n, k)),
    ]
}

fn boundary(s: &str, i: usize) -> usize {
    let mut i = if s.is_empty() { 0 } else { i % (s.len() + 1) };
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(mut s: String, edits: &[Edit]) -> String {
    for e in edits {
        match e {
            Edit::Replace(i, c) => {
                let a = boundary(&s, *i);
                let b = s[a..].chars().next().map_or(a, |ch| a + ch.len_utf8());
                s.replace_range(a..b, &c.to_string());
            }
            Edit::Insert(i, t) => {
                let a = boundary(&s, *i);
                s.insert_str(a, t);
            }
            Edit::Delete(i, n) => {
                let a = boundary(&s, *i);
                let b = boundary(&s, a + n);
                if b >= a {
                    s.replace_range(a..b, "");
                }
            }
            Edit::Truncate(i) => {
                let a = boundary(&s, *i);
                s.truncate(a);
            }
            Edit::Repeat(i, n, k) => {
                let a = boundary(&s, *i);
                let b = boundary(&s, a + n);
                if b > a {
                    let piece = s[a..b].repeat(*k);
                    s.insert_str(b, &piece);
                }
            }
        }
    }
    s
}

fn check(doc: &str) {
    // The SOAP request parser: refusals are always MALFORMED_MESSAGE; what parses forwards cleanly.
    match SyncRequest::parse(doc) {
        Err(r) => assert_eq!(r.code, ErrorCode::MalformedMessage, "{}", r.message),
        Ok(req) => {
            let sid = "{11111111-2222-4333-8444-555555555555}";
            let fwd = req.forward(doc, sid);
            let again = SyncRequest::parse(&fwd).unwrap_or_else(|e| {
                panic!("forwarded message does not parse: {}\n{fwd}", e.message)
            });
            assert_eq!(again.info.password, None, "{fwd}");
            assert_eq!(again.info.session_id.as_deref(), Some(sid));
            assert_eq!(again.info.message_id, req.info.message_id);
            assert_eq!(fwd.matches(sid).count(), 1);
            let _ = req.without_password(doc);
        }
    }
    let _ = soap::read_answer(doc, "{s}");
    if let Ok(mut r) = RestRequest::parse(doc) {
        let fwd = r.forward("{s}");
        let again = RestRequest::parse(&fwd).expect("forwarded REST request parses");
        assert_eq!(again.info.password, None);
        assert_eq!(again.info.session_id.as_deref(), Some("{s}"));
    }
    for status in [200, 500] {
        let _ = rest::read_answer(status, doc, "{s}");
    }
}

#[test]
fn every_seed_behaves() {
    let seeds = corpus();
    assert!(seeds.len() >= 9, "the corpus went missing");
    for s in &seeds {
        check(s);
    }
    // The seeds that are requests parse; the hostile ones are refused.
    assert!(
        SyncRequest::parse(
            &seeds
                .iter()
                .find(|s| s.contains("chain-1"))
                .unwrap()
                .clone()
        )
        .is_ok()
    );
    for s in seeds.iter().filter(|s| s.contains("DOCTYPE")) {
        assert!(
            SyncRequest::parse(s)
                .unwrap_err()
                .message
                .contains("DOCTYPE")
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_envelopes_never_panic(seed in 0usize..64, edits in prop::collection::vec(edit(), 1..8)) {
        let seeds = corpus();
        let doc = apply(seeds[seed % seeds.len()].clone(), &edits);
        check(&doc);
    }

    #[test]
    fn arbitrary_text_never_panics(doc in "\\PC{0,400}") {
        check(&doc);
    }
}
