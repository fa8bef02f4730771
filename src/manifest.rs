//! Reading manifests for `shep render` (DESIGN §6): files or folders of multi-document YAML (or
//! JSON). Every custom resource is checked against the same CEL rules the API server enforces and
//! against its typed schema; each problem names the file, the document, the object and the field.
//! One bad document never stops the others.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kube::core::cel::{CompiledSchema, Validator, compile_schema};
use serde_json::Value;

use crate::api::{
    GROUP, InformationSystem, IntegrationService, ServiceConnection, TechWindow, VERSION,
};
use crate::snapshot::Snapshot;

/// A problem with one document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    /// `file#document` (documents count from 1).
    pub origin: String,
    /// `Kind namespace/name`, when known.
    pub object: Option<String>,
    /// What is wrong, naming the field and the rule.
    pub message: String,
}

impl std::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.object {
            Some(o) => write!(f, "{}: {o}: {}", self.origin, self.message),
            None => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

/// What was read.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The objects, indexed.
    pub snapshot: Snapshot,
    /// Problems, in input order.
    pub errors: Vec<ManifestError>,
    /// Documents of other kinds that were passed over (`Kind namespace/name`).
    pub skipped: Vec<String>,
}

/// Checks custom resources against the CRDs' CEL rules, compiled once.
pub struct Checker {
    validator: Validator,
    schemas: BTreeMap<&'static str, (Value, CompiledSchema)>,
}

impl Default for Checker {
    fn default() -> Self {
        Self::new()
    }
}

impl Checker {
    /// Compiles the CEL rules of every CRD.
    pub fn new() -> Self {
        let mut schemas = BTreeMap::new();
        for crd in crate::api::crds() {
            let kind: &'static str = match crd.spec.names.kind.as_str() {
                "InformationSystem" => "InformationSystem",
                "IntegrationService" => "IntegrationService",
                "ServiceConnection" => "ServiceConnection",
                "TechWindow" => "TechWindow",
                _ => continue,
            };
            let schema = crd
                .spec
                .versions
                .first()
                .and_then(|v| v.schema.as_ref())
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .and_then(|s| serde_json::to_value(s).ok())
                .unwrap_or(Value::Null);
            let compiled = compile_schema(&schema);
            schemas.insert(kind, (schema, compiled));
        }
        Self {
            validator: Validator::new(),
            schemas,
        }
    }

    /// The CEL violations of an object of `kind` (empty when it passes). `old` enables transition
    /// rules such as immutability.
    pub fn cel_errors(&self, kind: &str, object: &Value, old: Option<&Value>) -> Vec<String> {
        let Some((_, compiled)) = self.schemas.get(kind) else {
            return Vec::new();
        };
        match self.validator.validate_compiled(compiled, object, old) {
            Ok(()) => Vec::new(),
            Err(errs) => errs.as_slice().iter().map(|e| e.to_string()).collect(),
        }
    }
}

fn typed<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, String> {
    serde_path_to_error::deserialize::<_, T>(v).map_err(|e| {
        let path = e.path().to_string();
        if path == "." || path.is_empty() {
            e.inner().to_string()
        } else {
            format!("{path}: {}", e.inner())
        }
    })
}

/// Splits a YAML stream into documents at `---` lines (keeping each document's own text, so that
/// one that does not parse does not stop the rest).
fn split_documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        let t = line.trim_end();
        if t == "---" || t.starts_with("--- ") || t == "..." {
            docs.push(String::new());
            continue;
        }
        let last = docs.last_mut().expect("at least one document");
        last.push_str(line);
        last.push('\n');
    }
    docs
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

impl Loaded {
    /// Reads one document's value.
    pub fn add_value(&mut self, origin: &str, mut v: Value, checker: &Checker) {
        if v.is_null() {
            return;
        }
        let err = |object: Option<String>, message: String| ManifestError {
            origin: origin.to_string(),
            object,
            message,
        };
        if !v.is_object() {
            self.errors.push(err(
                None,
                "a manifest must be a mapping with apiVersion, kind and metadata".into(),
            ));
            return;
        }
        // A List of objects, as `kubectl get -o yaml` prints.
        if v.get("kind").and_then(Value::as_str) == Some("List") {
            if let Some(items) = v
                .get_mut("items")
                .and_then(Value::as_array_mut)
                .map(std::mem::take)
            {
                for (i, item) in items.into_iter().enumerate() {
                    self.add_value(&format!("{origin}.items[{i}]"), item, checker);
                }
            }
            return;
        }
        let api_version = v
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let kind = v
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if api_version.is_empty() || kind.is_empty() {
            self.errors
                .push(err(None, "apiVersion and kind are required".into()));
            return;
        }
        let meta = v.get_mut("metadata").and_then(Value::as_object_mut);
        let Some(meta) = meta else {
            self.errors
                .push(err(Some(kind), "metadata is required".into()));
            return;
        };
        let name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !meta.contains_key("namespace") {
            meta.insert("namespace".into(), Value::String("default".into()));
        }
        let ns = meta
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        let label = format!("{kind} {ns}/{name}");
        let (group, _) = api_version
            .split_once('/')
            .unwrap_or(("", api_version.as_str()));
        if group == GROUP {
            if api_version != format!("{GROUP}/{VERSION}") {
                self.errors.push(err(
                    Some(label),
                    format!("apiVersion {api_version} is not served; use {GROUP}/{VERSION}"),
                ));
                return;
            }
            if !is_dns_label(&ns) {
                self.errors.push(err(
                    Some(label),
                    "metadata.namespace must be a DNS-1123 label".into(),
                ));
                return;
            }
            if !is_dns_subdomain(&name) {
                self.errors.push(err(Some(label), "metadata.name is required and must be a DNS-1123 subdomain (lower-case letters, digits, '-', '.')".into()));
                return;
            }
            let cel = checker.cel_errors(&kind, &v, None);
            if !cel.is_empty() {
                for m in cel {
                    self.errors.push(err(Some(label.clone()), m));
                }
                return;
            }
            let added = match kind.as_str() {
                "InformationSystem" => typed::<InformationSystem>(v)
                    .map(|o| self.insert_unique(&label, origin, o, |s| &mut s.systems)),
                "IntegrationService" => typed::<IntegrationService>(v)
                    .map(|o| self.insert_unique(&label, origin, o, |s| &mut s.services)),
                "ServiceConnection" => typed::<ServiceConnection>(v)
                    .map(|o| self.insert_unique(&label, origin, o, |s| &mut s.connections)),
                "TechWindow" => typed::<TechWindow>(v)
                    .map(|o| self.insert_unique(&label, origin, o, |s| &mut s.windows)),
                other => Err(format!("kind {other} is not served by {GROUP}/{VERSION}")),
            };
            if let Err(m) = added {
                self.errors.push(err(Some(label), m));
            }
        } else if api_version == "v1" && kind == "Secret" {
            match typed::<k8s_openapi::api::core::v1::Secret>(v) {
                Ok(s) => self.insert_unique(&label, origin, s, |s| &mut s.secrets),
                Err(m) => self.errors.push(err(Some(label), m)),
            }
        } else {
            self.skipped.push(label);
        }
    }

    fn insert_unique<K: kube::ResourceExt>(
        &mut self,
        label: &str,
        origin: &str,
        o: K,
        map: impl Fn(&mut Snapshot) -> &mut BTreeMap<crate::snapshot::Key, K>,
    ) {
        let key = crate::snapshot::key_of(&o);
        match map(&mut self.snapshot).entry(key) {
            std::collections::btree_map::Entry::Occupied(_) => self.errors.push(ManifestError {
                origin: origin.to_string(),
                object: Some(label.to_string()),
                message: "defined more than once; the first definition is kept".into(),
            }),
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(o);
            }
        }
    }

    /// Reads a stream of YAML or JSON documents.
    pub fn add_text(&mut self, origin: &str, text: &str, checker: &Checker) {
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Array(items)) => {
                    for (i, v) in items.into_iter().enumerate() {
                        self.add_value(&format!("{origin}[{i}]"), v, checker);
                    }
                }
                Ok(v) => self.add_value(origin, v, checker),
                Err(e) => self.errors.push(ManifestError {
                    origin: origin.into(),
                    object: None,
                    message: format!("not valid JSON: {e}"),
                }),
            }
            return;
        }
        for (i, doc) in split_documents(text).into_iter().enumerate() {
            if doc
                .lines()
                .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
            {
                continue;
            }
            let here = format!("{origin}#{}", i + 1);
            match serde_saphyr::from_str::<Value>(&doc) {
                Ok(v) => self.add_value(&here, v, checker),
                Err(e) => self.errors.push(ManifestError {
                    origin: here,
                    object: None,
                    message: format!(
                        "not valid YAML: {}",
                        e.to_string().lines().next().unwrap_or("parse error")
                    ),
                }),
            }
        }
    }

    /// Reads files and folders (recursively, `.yaml`, `.yml` and `.json`, in name order).
    pub fn add_paths(&mut self, paths: &[PathBuf], checker: &Checker) {
        for p in paths {
            self.add_path(p, checker);
        }
    }

    fn add_path(&mut self, p: &Path, checker: &Checker) {
        let origin = p.display().to_string();
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = match std::fs::read_dir(p) {
                Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(e) => {
                    self.errors.push(ManifestError {
                        origin,
                        object: None,
                        message: format!("cannot read folder: {e}"),
                    });
                    return;
                }
            };
            entries.sort();
            for e in entries {
                let is_manifest = e.is_dir()
                    || e.extension()
                        .and_then(|x| x.to_str())
                        .is_some_and(|x| matches!(x, "yaml" | "yml" | "json"));
                if is_manifest {
                    self.add_path(&e, checker);
                }
            }
            return;
        }
        match std::fs::read_to_string(p) {
            Ok(text) => self.add_text(&origin, &text, checker),
            Err(e) => self.errors.push(ManifestError {
                origin,
                object: None,
                message: format!("cannot read file: {e}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Loaded {
        let mut l = Loaded::default();
        l.add_text("t.yaml", text, &Checker::new());
        l
    }

    const SYSTEM: &str = r#"
apiVersion: integration.egov.kz/v1alpha1
kind: InformationSystem
metadata: {name: bank-is, namespace: bank}
spec:
  organization: {name: Bank, bin: "BIN"}
  state: false
"#;

    #[test]
    fn a_bad_bin_is_refused_naming_the_field_and_rule() {
        let l = load(&SYSTEM.replace("BIN", "123456789012"));
        assert_eq!(l.errors.len(), 1, "{:?}", l.errors);
        let e = l.errors[0].to_string();
        assert!(e.contains("spec.organization.bin"), "{e}");
        assert!(e.contains("check digit"), "{e}");
        let ok = crate::api::validation::complete_bin("99034000123").unwrap();
        let l = load(&SYSTEM.replace("BIN", &ok));
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        assert_eq!(l.snapshot.systems.len(), 1);
    }

    #[test]
    fn a_type_error_names_the_path() {
        let ok = crate::api::validation::complete_bin("99034000123").unwrap();
        let l = load(
            &SYSTEM
                .replace("BIN", &ok)
                .replace("state: false", "state: maybe"),
        );
        let e = l.errors[0].to_string();
        assert!(e.contains("spec.state") || e.contains("state"), "{e}");
    }

    #[test]
    fn one_bad_document_does_not_stop_the_others() {
        let ok = crate::api::validation::complete_bin("99034000123").unwrap();
        let good = SYSTEM.replace("BIN", &ok);
        let text = format!(
            "{good}\n---\nkind: [unclosed\n---\n{}",
            good.replace("bank-is", "other-is")
        );
        let l = load(&text);
        assert_eq!(l.errors.len(), 1, "{:?}", l.errors);
        assert!(l.errors[0].origin.ends_with("#2"));
        assert_eq!(l.snapshot.systems.len(), 2);
    }

    #[test]
    fn p3_exclusions_are_refused() {
        let text = r#"
apiVersion: integration.egov.kz/v1alpha1
kind: IntegrationService
metadata: {name: open-budget, namespace: minfin}
spec:
  serviceKey: OpenBudget
  systemRef: {name: minfin-is}
  names: {kk: a, ru: b}
  purposes: {kk: a, ru: b}
  mode: Sync
  protocol: Rest
  backends: {test: {url: "https://budget.example/api"}}
  exclusions: {openData: true}
"#;
        let l = load(text);
        assert_eq!(l.errors.len(), 1, "{:?}", l.errors);
        assert!(l.errors[0].message.contains("p.3"), "{}", l.errors[0]);
        assert!(
            l.errors[0].message.contains("spec.exclusions.openData"),
            "{}",
            l.errors[0]
        );
    }

    #[test]
    fn backend_urls_must_be_http() {
        let text = r#"
apiVersion: integration.egov.kz/v1alpha1
kind: IntegrationService
metadata: {name: s, namespace: ns}
spec:
  serviceKey: Svc
  systemRef: {name: x}
  names: {kk: a, ru: b}
  purposes: {kk: a, ru: b}
  mode: Sync
  protocol: Soap
  backends: {test: {url: "ftp://files.example/x"}}
"#;
        let l = load(text);
        assert!(
            l.errors
                .iter()
                .any(|e| e.message.contains("spec.backends.test.url")),
            "{:?}",
            l.errors
        );
    }

    #[test]
    fn window_end_must_follow_start() {
        let text = r#"
apiVersion: integration.egov.kz/v1alpha1
kind: TechWindow
metadata: {name: w, namespace: ns}
spec:
  targets: {services: [{name: s}]}
  contours: [production]
  start: "2026-12-12T01:00:00+05:00"
  end: "2026-12-12T00:00:00+05:00"
  kind: Planned
  reason: upgrade
  announcedAt: "2026-12-01T10:00:00+05:00"
"#;
        let l = load(text);
        assert!(
            l.errors
                .iter()
                .any(|e| e.message.contains("end must be after start")),
            "{:?}",
            l.errors
        );
    }

    #[test]
    fn unknown_event_types_are_refused() {
        let text = r#"
apiVersion: integration.egov.kz/v1alpha1
kind: ServiceConnection
metadata: {name: c, namespace: ns}
spec:
  serviceRef: {namespace: m, name: s}
  systemRef: {name: x}
  basis: {document: "Law 418-V"}
  application:
    events:
    - {type: Approved, at: "2026-12-01T10:00:00Z", by: someone}
"#;
        let l = load(text);
        let e = l.errors[0].to_string();
        assert!(e.contains("spec.application.events[0].type"), "{e}");
        assert!(e.contains("OwnerApproved"), "{e}");
    }

    #[test]
    fn other_kinds_are_skipped_and_duplicates_reported() {
        let ok = crate::api::validation::complete_bin("99034000123").unwrap();
        let good = SYSTEM.replace("BIN", &ok);
        let l = load(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\n---\n{good}\n---\n{good}"
        ));
        assert_eq!(l.skipped, vec!["ConfigMap default/x".to_string()]);
        assert_eq!(l.errors.len(), 1);
        assert!(l.errors[0].message.contains("more than once"));
    }
}
