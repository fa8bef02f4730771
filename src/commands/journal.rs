//! `shep journal verify` (DESIGN §6): checks every journal chain in the given resources.

use serde_json::Value;

use super::Failure;
use crate::api::CommonStatus;
use crate::journal;

/// The outcome of verifying one object's chain.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    /// `Kind namespace/name`.
    pub object: String,
    /// `Ok(entries checked)` or the first broken entry.
    pub result: Result<usize, String>,
}

fn objects(v: Value, out: &mut Vec<Value>) {
    match v {
        Value::Array(items) => items.into_iter().for_each(|i| objects(i, out)),
        Value::Object(ref m) if m.get("kind").and_then(Value::as_str) == Some("List") => {
            if let Some(Value::Array(items)) = m.get("items").cloned() {
                items.into_iter().for_each(|i| objects(i, out));
            }
        }
        Value::Object(_) => out.push(v),
        _ => {}
    }
}

/// Verifies the chains of every object in `text` (multi-document YAML or JSON) that has a journal.
pub fn verify_text(text: &str) -> Result<Vec<Verified>, Failure> {
    let trimmed = text.trim_start();
    let values: Vec<Value> = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        vec![
            serde_json::from_str(text)
                .map_err(|e| Failure::usage(format!("not valid JSON: {e}")))?,
        ]
    } else {
        serde_saphyr::from_multiple(text)
            .map_err(|e| Failure::usage(format!("not valid YAML: {e}")))?
    };
    let mut all = Vec::new();
    for v in values {
        objects(v, &mut all);
    }
    let mut out = Vec::new();
    for o in all {
        let Some(status) = o.get("status") else {
            continue;
        };
        if status.get("journal").is_none() && status.get("journalHead").is_none() {
            continue;
        }
        let kind = o.get("kind").and_then(Value::as_str).unwrap_or("?");
        let meta = o.get("metadata");
        let ns = meta
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
            .unwrap_or("default");
        let name = meta
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("?");
        let uid = meta
            .and_then(|m| m.get("uid"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("{kind}/{ns}/{name}"));
        let object = format!("{kind} {ns}/{name}");
        let result = match serde_json::from_value::<CommonStatus>(status.clone()) {
            Err(e) => Err(format!("status is not readable: {e}")),
            Ok(common) => journal::verify(&common, Some(&uid))
                .map(|()| common.journal.len())
                .map_err(|e| e.to_string()),
        };
        out.push(Verified { object, result });
    }
    Ok(out)
}
