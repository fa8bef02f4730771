//! Whether a reflector store's copy of an object is as new as what this process last saw of it.
//!
//! A reconcile must continue the journal from the newest head (DESIGN §2), and the store may lag
//! behind the operator's own last status write. Reading every object from the API before each
//! reconcile is safe but costs one request per reconcile, and a revocation (p.65) reconciles
//! hundreds of objects at once. So each status write (and each read from the API) records the
//! resourceVersion the API server answered; a store copy with exactly that resourceVersion is the
//! newest the operator knows of and is used as it is. Any other resourceVersion (someone else
//! wrote since, or the store has not caught up) means one read from the API, as before.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Mutex;

/// Object identity: kind, namespace, name.
pub type ObjectKey = (Cow<'static, str>, String, String);

/// The resourceVersion each object had when this process last wrote or read it.
#[derive(Default)]
pub struct Seen(Mutex<HashMap<ObjectKey, String>>);

impl Seen {
    /// Records that `key` was at `resource_version` (from a write's answer or a read).
    pub fn record(&self, key: ObjectKey, resource_version: Option<&str>) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match resource_version {
            Some(rv) => {
                m.insert(key, rv.to_string());
            }
            None => {
                m.remove(&key);
            }
        }
    }

    /// Whether a copy at `resource_version` is the newest this process knows of `key`.
    pub fn is_newest(&self, key: &ObjectKey, resource_version: Option<&str>) -> bool {
        let m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        resource_version.is_some_and(|rv| m.get(key).is_some_and(|seen| seen == rv))
    }

    /// Forgets `key` (the object was deleted).
    pub fn forget(&self, key: &ObjectKey) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }

    /// How many objects are tracked.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ObjectKey {
        ("ServiceConnection".into(), "bank".into(), "c1".into())
    }

    #[test]
    fn only_the_recorded_version_is_newest() {
        let s = Seen::default();
        assert!(!s.is_newest(&key(), Some("10")), "nothing recorded yet");
        s.record(key(), Some("10"));
        assert!(s.is_newest(&key(), Some("10")));
        assert!(!s.is_newest(&key(), Some("9")), "a lagging store copy");
        assert!(
            !s.is_newest(&key(), Some("11")),
            "written by someone else since"
        );
        assert!(!s.is_newest(&key(), None));
        s.record(key(), Some("11"));
        assert!(s.is_newest(&key(), Some("11")));
        assert!(!s.is_newest(&key(), Some("10")));
        s.forget(&key());
        assert!(!s.is_newest(&key(), Some("11")));
        assert!(s.is_empty());
    }

    #[test]
    fn a_write_without_a_version_forgets() {
        let s = Seen::default();
        s.record(key(), Some("3"));
        s.record(key(), None);
        assert!(!s.is_newest(&key(), Some("3")));
    }
}
