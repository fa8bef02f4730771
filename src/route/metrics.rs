//! Prometheus metrics of a route (DESIGN §4): messages by channel, outcome and sender, latency
//! histograms of the whole exchange and of the backend, bytes, messages in flight, breaks in
//! progress, senders, and configuration reloads.
//!
//! The `sender` label only ever holds the login of a sender in the senders file (or `-`), so a
//! caller cannot grow the label set by inventing sender ids.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::prometheus::{Histogram, header, label};

static LATENCY: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0,
];

#[derive(Default)]
struct Inner {
    messages: HashMap<(&'static str, &'static str, Arc<str>), u64>,
    duration: BTreeMap<&'static str, Histogram>,
    backend: Option<Histogram>,
    request_bytes: u64,
    response_bytes: u64,
    reloads: BTreeMap<(&'static str, &'static str), u64>,
}

/// What the metrics read from the route's current state at scrape time.
pub struct Gauges {
    /// 1 when a valid configuration is in use.
    pub config_valid: bool,
    /// Senders allowed in this contour.
    pub senders: usize,
    /// Breaks in progress now.
    pub windows_active: usize,
}

/// The metrics of one route process.
#[derive(Default)]
pub struct RouteMetrics {
    inner: Mutex<Inner>,
    /// Messages being handled now.
    pub in_flight: AtomicI64,
}

/// One finished message, as the metrics see it.
pub struct Observation<'a> {
    /// `soap-sync` or `rest`.
    pub channel: &'static str,
    /// `SCSS001`, `BACKEND_STATUS` (the backend answered another status code) or an error code.
    pub outcome: &'static str,
    /// A sender from the senders file, or `None`.
    pub sender: Option<&'a Arc<str>>,
    /// Seconds in the route.
    pub seconds: f64,
    /// Seconds in the backend, when forwarded.
    pub backend_seconds: Option<f64>,
    /// Bytes in.
    pub request_bytes: usize,
    /// Bytes out.
    pub response_bytes: usize,
}

impl RouteMetrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    /// Records one message.
    pub fn observe(&self, o: &Observation<'_>) {
        static NONE: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
        let sender = o
            .sender
            .cloned()
            .unwrap_or_else(|| NONE.get_or_init(|| Arc::from("-")).clone());
        self.with(|m| {
            *m.messages
                .entry((o.channel, o.outcome, sender))
                .or_default() += 1;
            m.duration
                .entry(o.channel)
                .or_insert_with(|| Histogram::new(&LATENCY))
                .observe(o.seconds);
            if let Some(b) = o.backend_seconds {
                m.backend
                    .get_or_insert_with(|| Histogram::new(&LATENCY))
                    .observe(b);
            }
            m.request_bytes += o.request_bytes as u64;
            m.response_bytes += o.response_bytes as u64;
        });
    }

    /// Records a reload attempt of `file` (`route.yaml`, `senders.yaml`), `ok` or `error`.
    pub fn reloaded(&self, file: &'static str, result: &'static str) {
        self.with(|m| *m.reloads.entry((file, result)).or_default() += 1);
    }

    /// The text exposition.
    pub fn render(&self, g: &Gauges) -> String {
        let mut o = String::with_capacity(4096);
        use std::fmt::Write as _;
        self.with(|m| {
            header(&mut o, "shep_route_messages_total", "counter", "Messages by channel, outcome (SCSS001, BACKEND_STATUS or the error code) and sender.");
            let mut rows: Vec<_> = m.messages.iter().collect();
            rows.sort_by(|a, b| a.0.cmp(b.0));
            for ((ch, outcome, sender), n) in rows {
                let _ = writeln!(o, "shep_route_messages_total{{channel=\"{ch}\",outcome=\"{outcome}\",sender=\"{}\"}} {n}", label(sender));
            }
            header(&mut o, "shep_route_message_duration_seconds", "histogram", "Time from a message's arrival to its answer, by channel.");
            for (ch, h) in &m.duration {
                h.write(&mut o, "shep_route_message_duration_seconds", &format!("channel=\"{ch}\""));
            }
            header(&mut o, "shep_route_backend_duration_seconds", "histogram", "Time the backend took to answer a forwarded message.");
            m.backend
                .clone()
                .unwrap_or_else(|| Histogram::new(&LATENCY))
                .write(&mut o, "shep_route_backend_duration_seconds", "");
            header(&mut o, "shep_route_request_bytes_total", "counter", "Bytes of messages received.");
            let _ = writeln!(o, "shep_route_request_bytes_total {}", m.request_bytes);
            header(&mut o, "shep_route_response_bytes_total", "counter", "Bytes of answers sent.");
            let _ = writeln!(o, "shep_route_response_bytes_total {}", m.response_bytes);
            header(&mut o, "shep_route_config_reloads_total", "counter", "Reloads of the mounted files by file and result.");
            for ((f, r), n) in &m.reloads {
                let _ = writeln!(o, "shep_route_config_reloads_total{{file=\"{f}\",result=\"{r}\"}} {n}");
            }
        });
        header(
            &mut o,
            "shep_route_in_flight",
            "gauge",
            "Messages being handled now.",
        );
        let _ = writeln!(
            o,
            "shep_route_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        header(
            &mut o,
            "shep_route_windows_active",
            "gauge",
            "Technological breaks of this contour in progress (p.48).",
        );
        let _ = writeln!(o, "shep_route_windows_active {}", g.windows_active);
        header(
            &mut o,
            "shep_route_senders",
            "gauge",
            "Senders allowed in this contour (p.53.2).",
        );
        let _ = writeln!(o, "shep_route_senders {}", g.senders);
        header(
            &mut o,
            "shep_route_config_valid",
            "gauge",
            "1 when the route serves with a valid configuration.",
        );
        let _ = writeln!(o, "shep_route_config_valid {}", u8::from(g.config_valid));
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_outcome_and_known_sender_only() {
        let m = RouteMetrics::default();
        let s: Arc<str> = Arc::from("bank.conn");
        for (outcome, sender) in [
            ("SCSS001", Some(&s)),
            ("SCSS001", Some(&s)),
            ("AUTHENTICATION_FAILED", None),
        ] {
            m.observe(&Observation {
                channel: "soap-sync",
                outcome,
                sender,
                seconds: 0.002,
                backend_seconds: sender.map(|_| 0.001),
                request_bytes: 10,
                response_bytes: 20,
            });
        }
        m.reloaded("senders.yaml", "ok");
        let t = m.render(&Gauges {
            config_valid: true,
            senders: 1,
            windows_active: 0,
        });
        assert!(t.contains("shep_route_messages_total{channel=\"soap-sync\",outcome=\"SCSS001\",sender=\"bank.conn\"} 2"), "{t}");
        assert!(t.contains("shep_route_messages_total{channel=\"soap-sync\",outcome=\"AUTHENTICATION_FAILED\",sender=\"-\"} 1"));
        assert!(t.contains("shep_route_backend_duration_seconds_count 2"));
        assert!(t.contains(
            "shep_route_message_duration_seconds_bucket{channel=\"soap-sync\",le=\"0.0025\"} 3"
        ));
        assert!(t.contains("shep_route_request_bytes_total 30"));
        assert!(
            t.contains("shep_route_config_reloads_total{file=\"senders.yaml\",result=\"ok\"} 1")
        );
        assert!(t.contains("shep_route_config_valid 1"));
    }
}
