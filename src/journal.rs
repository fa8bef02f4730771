//! The official journal of each resource: an append-only, hash-chained list of entries (DESIGN §2,
//! p.53: journaling of all events).
//!
//! `hash = sha256(previous hash ‖ canonical entry)`, hex-encoded. The first previous hash is the
//! object's uid. `status.journal` keeps the newest [`MAX_KEPT`] entries; `status.journalBase` is the
//! point just before the oldest kept one, so that what is kept verifies on its own, and
//! `status.journalHead` is the newest point. Every entry is also published as an Event and a log
//! line, so the whole chain survives outside the object.

use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::api::{CommonStatus, JournalEntry, JournalPoint};

/// How many entries `status.journal` keeps.
pub const MAX_KEPT: usize = 50;

/// A new entry before it is chained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Entry type: `Event`, `Phase`, or a condition type.
    pub type_: String,
    /// Machine-readable reason.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
}

impl Record {
    /// A new record.
    pub fn new(
        type_: impl Into<String>,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            type_: type_.into(),
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// The canonical form of an entry that its hash covers: JSON of the fields in this fixed order.
#[derive(Serialize)]
struct Canonical<'a> {
    seq: u64,
    at: String,
    #[serde(rename = "type")]
    type_: &'a str,
    reason: &'a str,
    message: &'a str,
}

/// The hash of an entry chained after `prev`.
pub fn entry_hash(
    prev: &str,
    seq: u64,
    at: Timestamp,
    type_: &str,
    reason: &str,
    message: &str,
) -> String {
    let canonical = Canonical {
        seq,
        at: at.to_string(),
        type_,
        reason,
        message,
    };
    let json = serde_json::to_vec(&canonical).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(&json);
    hex::encode(h.finalize())
}

/// The chain root of an object: its uid.
pub fn root(uid: &str) -> JournalPoint {
    JournalPoint {
        seq: 0,
        hash: uid.to_string(),
    }
}

/// Appends records to the journal of a status, chaining from its head (or from `uid` for a new
/// chain), and truncates to [`MAX_KEPT`] while moving the base forward. Returns the new entries.
pub fn append(
    status: &mut CommonStatus,
    uid: &str,
    at: Timestamp,
    records: Vec<Record>,
) -> Vec<JournalEntry> {
    let mut head = status.journal_head.clone().unwrap_or_else(|| root(uid));
    if status.journal_base.is_none() {
        status.journal_base = Some(root(uid));
    }
    let mut added = Vec::with_capacity(records.len());
    for r in records {
        let seq = head.seq + 1;
        let hash = entry_hash(&head.hash, seq, at, &r.type_, &r.reason, &r.message);
        let e = JournalEntry {
            seq,
            at,
            type_: r.type_,
            reason: r.reason,
            message: r.message,
            hash: hash.clone(),
        };
        head = JournalPoint { seq, hash };
        status.journal.push(e.clone());
        added.push(e);
    }
    if status.journal.len() > MAX_KEPT {
        let drop = status.journal.len() - MAX_KEPT;
        let last_dropped = &status.journal[drop - 1];
        status.journal_base = Some(JournalPoint {
            seq: last_dropped.seq,
            hash: last_dropped.hash.clone(),
        });
        status.journal.drain(..drop);
    }
    if !added.is_empty() || status.journal_head.is_some() {
        status.journal_head = Some(head);
    }
    added
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// An entry's sequence number does not follow its predecessor's.
    #[error("journal entry seq {seq}: expected seq {expected}")]
    Sequence {
        /// The entry's seq.
        seq: u64,
        /// What it should have been.
        expected: u64,
    },
    /// An entry's hash is not the hash of its content chained after its predecessor.
    #[error(
        "journal entry seq {seq}: hash does not match its content and predecessor (tampered or reordered)"
    )]
    Hash {
        /// The entry's seq.
        seq: u64,
    },
    /// The head does not point at the newest entry.
    #[error("journalHead (seq {seq}) does not match the newest entry")]
    Head {
        /// The head's seq.
        seq: u64,
    },
    /// There are entries but no base to chain them from.
    #[error("journal has entries but neither journalBase nor a uid to start from")]
    NoBase,
}

/// Verifies the kept entries of a status against its base (or `uid` when there is no base) and head.
pub fn verify(status: &CommonStatus, uid: Option<&str>) -> Result<(), ChainError> {
    let mut prev = match (&status.journal_base, uid) {
        (Some(b), _) => b.clone(),
        (None, Some(uid)) => root(uid),
        (None, None) if status.journal.is_empty() => return Ok(()),
        (None, None) => return Err(ChainError::NoBase),
    };
    for e in &status.journal {
        if e.seq != prev.seq + 1 {
            return Err(ChainError::Sequence {
                seq: e.seq,
                expected: prev.seq + 1,
            });
        }
        let h = entry_hash(&prev.hash, e.seq, e.at, &e.type_, &e.reason, &e.message);
        if h != e.hash {
            return Err(ChainError::Hash { seq: e.seq });
        }
        prev = JournalPoint {
            seq: e.seq,
            hash: e.hash.clone(),
        };
    }
    if let Some(head) = &status.journal_head
        && (head.seq != prev.seq || head.hash != prev.hash)
    {
        return Err(ChainError::Head { seq: head.seq });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn chain(n: usize) -> CommonStatus {
        let mut st = CommonStatus::default();
        for i in 0..n {
            append(
                &mut st,
                "uid-1",
                ts("2026-12-03T10:00:00Z"),
                vec![Record::new("Phase", "OwnerReview", format!("entry {i}"))],
            );
        }
        st
    }

    #[test]
    fn a_fresh_chain_verifies() {
        let st = chain(3);
        assert_eq!(st.journal.len(), 3);
        assert_eq!(st.journal_head.as_ref().unwrap().seq, 3);
        verify(&st, Some("uid-1")).unwrap();
    }

    #[test]
    fn the_first_hash_chains_from_the_uid() {
        let st = chain(1);
        let e = &st.journal[0];
        assert_eq!(
            e.hash,
            entry_hash("uid-1", 1, e.at, &e.type_, &e.reason, &e.message)
        );
        // The same content under another uid hashes differently.
        assert_ne!(
            e.hash,
            entry_hash("uid-2", 1, e.at, &e.type_, &e.reason, &e.message)
        );
    }

    #[test]
    fn truncation_keeps_a_verifiable_tail() {
        let st = chain(MAX_KEPT + 7);
        assert_eq!(st.journal.len(), MAX_KEPT);
        assert_eq!(st.journal[0].seq, 8);
        assert_eq!(st.journal_base.as_ref().unwrap().seq, 7);
        verify(&st, None).unwrap();
    }

    #[test]
    fn tampering_with_a_message_is_detected() {
        let mut st = chain(5);
        st.journal[2].message = "nothing happened".into();
        assert_eq!(verify(&st, None), Err(ChainError::Hash { seq: 3 }));
    }

    #[test]
    fn tampering_with_time_or_reason_is_detected() {
        let mut st = chain(4);
        st.journal[1].at = ts("2026-12-04T10:00:00Z");
        assert_eq!(verify(&st, None), Err(ChainError::Hash { seq: 2 }));
        let mut st = chain(4);
        st.journal[3].reason = "Other".into();
        assert_eq!(verify(&st, None), Err(ChainError::Hash { seq: 4 }));
    }

    #[test]
    fn rehashing_one_entry_breaks_the_next() {
        let mut st = chain(4);
        let prev = st.journal[0].hash.clone();
        let e = &mut st.journal[1];
        e.message = "forged".into();
        e.hash = entry_hash(&prev, e.seq, e.at, &e.type_, &e.reason, &e.message);
        assert_eq!(verify(&st, None), Err(ChainError::Hash { seq: 3 }));
    }

    #[test]
    fn removing_or_reordering_entries_is_detected() {
        let mut st = chain(4);
        st.journal.remove(1);
        assert_eq!(
            verify(&st, None),
            Err(ChainError::Sequence {
                seq: 3,
                expected: 2
            })
        );
        let mut st = chain(4);
        st.journal.swap(1, 2);
        assert!(verify(&st, None).is_err());
    }

    #[test]
    fn dropping_the_newest_entry_is_detected_by_the_head() {
        let mut st = chain(4);
        st.journal.pop();
        assert_eq!(verify(&st, None), Err(ChainError::Head { seq: 4 }));
    }

    #[test]
    fn a_forged_base_is_detected() {
        let mut st = chain(3);
        st.journal_base = Some(JournalPoint {
            seq: 0,
            hash: "uid-forged".into(),
        });
        assert_eq!(verify(&st, None), Err(ChainError::Hash { seq: 1 }));
    }
}
