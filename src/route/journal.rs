//! The message journal of a route (DESIGN §4, App.2 "journal format"): one JSON line per message
//! with its ids, sender, service, contour, times, outcome, sizes and the SHA-256 of what was
//! forwarded and answered. Never the password, never the body.
//!
//! Lines are appended to a bounded in-memory buffer that one writer thread empties at least every
//! 20 ms, so a slow disk or pipe slows the route down (backpressure) instead of losing lines, and
//! the async workers never block on I/O.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;

use crate::api::Contour;

/// One journaled message.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRecord<'a> {
    /// Always `message`: tells journal lines from log lines in one stream.
    pub journal: &'static str,
    /// The gateway's id of this message (also the `x-shep-message-id` header).
    pub gateway_message_id: &'a str,
    /// The gateway's session id stamped into the message (`{guid}`).
    pub session_id: &'a str,
    /// The sender's `messageId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<&'a str>,
    /// The sender's `correlationId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<&'a str>,
    /// The `serviceId` the sender asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<&'a str>,
    /// `namespace/name` of the IntegrationService.
    pub service: &'a str,
    /// The contour.
    pub contour: Contour,
    /// `soap-sync` or `rest`.
    pub channel: &'static str,
    /// The sender's login, once it is read from the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<&'a str>,
    /// The ServiceConnection of an authenticated sender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<&'a str>,
    /// The peer address.
    pub client: &'a str,
    /// When the message arrived (RFC 3339, UTC).
    pub received: String,
    /// When the answer left.
    pub answered: String,
    /// Total time in the route, milliseconds.
    pub duration_ms: f64,
    /// Time in the backend, milliseconds, when forwarded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_ms: Option<f64>,
    /// `SCSS001`, the backend's other status code, or the route's error code.
    pub outcome: &'a str,
    /// The HTTP status sent back.
    pub http_status: u16,
    /// Bytes received.
    pub request_bytes: usize,
    /// Bytes answered.
    pub response_bytes: usize,
    /// SHA-256 of the message without its password (what the backend received, when forwarded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_sha256: Option<String>,
    /// SHA-256 of the answer.
    pub response_sha256: String,
}

/// The journal's writer.
pub struct Journal {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    buf: Mutex<Vec<u8>>,
    wake: Condvar,
    closed: AtomicBool,
}

/// How long lines wait in memory before they are written, at most.
const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// Above this many buffered bytes the writer is woken at once, and above twice this, writers wait.
const HIGH_WATER: usize = 4 * 1024 * 1024;

impl Journal {
    /// A journal that writes to `out` (standard output, or a file). Lines are buffered and
    /// written by one thread at least every 20 ms: a message never waits for the disk, and a busy
    /// route wakes the writer thread dozens, not thousands, of times a second.
    pub fn new(mut out: Box<dyn Write + Send>) -> Journal {
        let shared = Arc::new(Shared {
            buf: Mutex::new(Vec::with_capacity(1024 * 1024)),
            wake: Condvar::new(),
            closed: AtomicBool::new(false),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("shep-journal".into())
            .spawn(move || {
                let mut spare = Vec::with_capacity(1024 * 1024);
                loop {
                    let closed = {
                        let mut g = s.buf.lock().unwrap_or_else(|p| p.into_inner());
                        if g.len() < HIGH_WATER && !s.closed.load(Ordering::Acquire) {
                            g = s
                                .wake
                                .wait_timeout(g, FLUSH_EVERY)
                                .unwrap_or_else(|p| p.into_inner())
                                .0;
                        }
                        std::mem::swap(&mut *g, &mut spare);
                        s.closed.load(Ordering::Acquire) && spare.is_empty()
                    };
                    if !spare.is_empty() {
                        let _ = out.write_all(&spare);
                        let _ = out.flush();
                        spare.clear();
                    }
                    if closed {
                        break;
                    }
                }
            })
            .ok();
        Journal { shared, thread }
    }

    /// A journal to standard output.
    pub fn stdout() -> Journal {
        Journal::new(Box::new(std::io::stdout()))
    }

    /// Queues one record; waits only while the writer is far behind (backpressure).
    pub async fn write(&self, rec: &MessageRecord<'_>) {
        let mut line = serde_json::to_vec(rec).unwrap_or_default();
        line.push(b'\n');
        loop {
            {
                let mut g = self.shared.buf.lock().unwrap_or_else(|p| p.into_inner());
                if g.len() < 2 * HIGH_WATER || self.thread.is_none() {
                    g.extend_from_slice(&line);
                    let full = g.len() >= HIGH_WATER;
                    drop(g);
                    if full {
                        self.shared.wake.notify_one();
                    }
                    return;
                }
            }
            self.shared.wake.notify_one();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Writes everything queued and stops the writer.
    pub fn close(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn every_record_is_one_json_line_and_close_flushes() {
        let sink = Sink::default();
        let mut j = Journal::new(Box::new(sink.clone()));
        for i in 0..100 {
            let id = format!("g{i}");
            j.write(&MessageRecord {
                journal: "message",
                gateway_message_id: &id,
                session_id: "{s}",
                message_id: Some("m"),
                correlation_id: None,
                service_id: Some("S"),
                service: "ns/s",
                contour: Contour::Test,
                channel: "soap-sync",
                sender: Some("a.b"),
                connection: Some("a/b"),
                client: "127.0.0.1:1",
                received: "t".into(),
                answered: "t".into(),
                duration_ms: 1.0,
                backend_ms: None,
                outcome: "SCSS001",
                http_status: 200,
                request_bytes: 1,
                response_bytes: 2,
                request_sha256: None,
                response_sha256: "h".into(),
            })
            .await;
        }
        j.close();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 100);
        let v: serde_json::Value = serde_json::from_str(lines[99]).unwrap();
        assert_eq!(v["gatewayMessageId"], "g99");
        assert_eq!(v["contour"], "test");
        assert!(v.get("correlationId").is_none());
    }
}
