//! Prometheus metrics of the operator (DESIGN §5): reconciles, errors by phase, durations,
//! suspensions, deadlines exceeded, windows active, journal entries, leadership. Exposed as the text
//! format on `/metrics` by [`super::health`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::prometheus::Histogram;
use crate::snapshot::Key;

/// Upper bounds of the reconcile-duration histogram, seconds.
static BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Inner {
    reconciles: BTreeMap<&'static str, u64>,
    errors: BTreeMap<(&'static str, &'static str), u64>,
    durations: BTreeMap<&'static str, Histogram>,
    journal_entries: BTreeMap<&'static str, u64>,
    suspended: BTreeMap<(&'static str, Key), bool>,
    overdue: BTreeMap<(&'static str, Key), bool>,
    windows_active: BTreeMap<Key, bool>,
    reads: BTreeMap<(&'static str, &'static str), u64>,
}

/// The operator's metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    /// Whether this replica leads.
    pub leader: AtomicBool,
    /// Whether this replica reached the API server.
    pub ready: AtomicBool,
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    /// Records one reconcile of `kind`, its duration and, on failure, the phase that failed.
    pub fn observe(&self, kind: &'static str, took: Duration, failed_phase: Option<&'static str>) {
        self.with(|m| {
            *m.reconciles.entry(kind).or_default() += 1;
            if let Some(p) = failed_phase {
                *m.errors.entry((kind, p)).or_default() += 1;
            }
            m.durations
                .entry(kind)
                .or_insert_with(|| Histogram::new(&BUCKETS))
                .observe(took.as_secs_f64());
        });
    }

    /// Records what an object's status says now (`None` when it was deleted).
    pub fn set_state(&self, kind: &'static str, key: &Key, state: Option<(bool, bool)>) {
        self.with(|m| match state {
            Some((suspended, overdue)) => {
                m.suspended.insert((kind, key.clone()), suspended);
                m.overdue.insert((kind, key.clone()), overdue);
            }
            None => {
                m.suspended.remove(&(kind, key.clone()));
                m.overdue.remove(&(kind, key.clone()));
            }
        });
    }

    /// Records whether a window is active (`None` when it was deleted).
    pub fn set_window(&self, key: &Key, active: Option<bool>) {
        self.with(|m| match active {
            Some(a) => {
                m.windows_active.insert(key.clone(), a);
            }
            None => {
                m.windows_active.remove(key);
            }
        });
    }

    /// Counts journal entries written.
    pub fn journaled(&self, kind: &'static str, n: usize) {
        if n > 0 {
            self.with(|m| *m.journal_entries.entry(kind).or_default() += n as u64);
        }
    }

    /// Counts one read of a reconciled object or a referenced certificate (`what`), served from
    /// the operator's cache (`from = "cache"`) or from the API server (`"api"`).
    pub fn read(&self, what: &'static str, from: &'static str) {
        self.with(|m| *m.reads.entry((what, from)).or_default() += 1);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let leader = u8::from(self.leader.load(Ordering::Relaxed));
        self.with(|m| {
            let _ = writeln!(o, "# HELP shep_leader Whether this replica leads (1) or stands by (0).\n# TYPE shep_leader gauge\nshep_leader {leader}");
            let _ = writeln!(o, "# HELP shep_reconciles_total Reconciles by kind.\n# TYPE shep_reconciles_total counter");
            for (k, v) in &m.reconciles {
                let _ = writeln!(o, "shep_reconciles_total{{kind=\"{k}\"}} {v}");
            }
            let _ = writeln!(o, "# HELP shep_reconcile_errors_total Failed reconciles by kind and phase.\n# TYPE shep_reconcile_errors_total counter");
            for ((k, p), v) in &m.errors {
                let _ = writeln!(o, "shep_reconcile_errors_total{{kind=\"{k}\",phase=\"{p}\"}} {v}");
            }
            let _ = writeln!(o, "# HELP shep_reconcile_duration_seconds Reconcile duration by kind.\n# TYPE shep_reconcile_duration_seconds histogram");
            for (k, h) in &m.durations {
                h.write(&mut o, "shep_reconcile_duration_seconds", &format!("kind=\"{k}\""));
            }
            let count = |map: &BTreeMap<(&'static str, Key), bool>| {
                let mut c: BTreeMap<&'static str, u64> = BTreeMap::new();
                for ((k, _), v) in map {
                    *c.entry(k).or_default() += u64::from(*v);
                }
                c
            };
            let _ = writeln!(o, "# HELP shep_suspended Objects suspended now, by kind.\n# TYPE shep_suspended gauge");
            for (k, v) in count(&m.suspended) {
                let _ = writeln!(o, "shep_suspended{{kind=\"{k}\"}} {v}");
            }
            let _ = writeln!(o, "# HELP shep_deadlines_exceeded Objects whose pending step is past its deadline, by kind.\n# TYPE shep_deadlines_exceeded gauge");
            for (k, v) in count(&m.overdue) {
                let _ = writeln!(o, "shep_deadlines_exceeded{{kind=\"{k}\"}} {v}");
            }
            let active = m.windows_active.values().filter(|a| **a).count();
            let _ = writeln!(o, "# HELP shep_windows_active Technological breaks in progress.\n# TYPE shep_windows_active gauge\nshep_windows_active {active}");
            let _ = writeln!(o, "# HELP shep_journal_entries_total Journal entries written, by kind.\n# TYPE shep_journal_entries_total counter");
            for (k, v) in &m.journal_entries {
                let _ = writeln!(o, "shep_journal_entries_total{{kind=\"{k}\"}} {v}");
            }
            let _ = writeln!(o, "# HELP shep_reads_total Reads of reconciled objects and referenced certificates, from the operator's cache or the API server.\n# TYPE shep_reads_total counter");
            for ((w, f), v) in &m.reads {
                let _ = writeln!(o, "shep_reads_total{{what=\"{w}\",from=\"{f}\"}} {v}");
            }
        });
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_counts_and_buckets() {
        let m = Metrics::default();
        m.observe("ServiceConnection", Duration::from_millis(30), None);
        m.observe(
            "ServiceConnection",
            Duration::from_millis(300),
            Some("Apply"),
        );
        m.set_state(
            "ServiceConnection",
            &("a".into(), "b".into()),
            Some((true, false)),
        );
        m.set_state(
            "ServiceConnection",
            &("a".into(), "c".into()),
            Some((true, true)),
        );
        m.set_window(&("a".into(), "w".into()), Some(true));
        m.read("object", "cache");
        m.read("object", "cache");
        m.read("certificate", "api");
        let t = m.render();
        assert!(
            t.contains("shep_reads_total{what=\"object\",from=\"cache\"} 2"),
            "{t}"
        );
        assert!(t.contains("shep_reads_total{what=\"certificate\",from=\"api\"} 1"));
        assert!(
            t.contains("shep_reconciles_total{kind=\"ServiceConnection\"} 2"),
            "{t}"
        );
        assert!(
            t.contains("shep_reconcile_errors_total{kind=\"ServiceConnection\",phase=\"Apply\"} 1")
        );
        assert!(t.contains(
            "shep_reconcile_duration_seconds_bucket{kind=\"ServiceConnection\",le=\"0.05\"} 1"
        ));
        assert!(t.contains(
            "shep_reconcile_duration_seconds_bucket{kind=\"ServiceConnection\",le=\"0.5\"} 2"
        ));
        assert!(t.contains("shep_suspended{kind=\"ServiceConnection\"} 2"));
        assert!(t.contains("shep_deadlines_exceeded{kind=\"ServiceConnection\"} 1"));
        assert!(t.contains("shep_windows_active 1"));
        m.set_state("ServiceConnection", &("a".into(), "c".into()), None);
        assert!(
            m.render()
                .contains("shep_suspended{kind=\"ServiceConnection\"} 1")
        );
    }
}
