//! One message through a route (DESIGN §4), in order: a free slot, the body within its size and
//! time limits, the envelope of the channel, the service key (and route key), the sender's login
//! and password (p.53.2), the contour's technological breaks (p.48), then forwarding with the
//! password stripped and the gateway's `sessionId` stamped, within the SLA (App.2), and the answer
//! relayed. Every message, answered or refused, gets one journal line and one metrics observation.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{
    CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER,
};
use hyper::{Request, Response, StatusCode};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use super::fault::{ErrorCode, Refusal};
use super::forward::{ForwardError, MESSAGE_ID_HEADER};
use super::journal::MessageRecord;
use super::metrics::Observation;
use super::rest::{self, RestAnswer, RestRequest};
use super::senders::ActiveSender;
use super::server::Route;
use super::soap::{self, BackendAnswer, RequestInfo, SUCCESS_CODE, SyncRequest, clip};
use super::state::Loaded;
use super::window;
use crate::api::Protocol;

/// The channel a message came on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// SOAP `SendMessage` on `/bip-sync-wss-gost/` or `/sync`.
    SoapSync,
    /// App.1 JSON on `/rest`.
    Rest,
    /// SOAP async on `/bip-async` (not served by this release: refused with a clear fault).
    Async,
}

impl Channel {
    /// The journal's and metrics' name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::SoapSync => "soap-sync",
            Channel::Rest => "rest",
            Channel::Async => "soap-async",
        }
    }

    fn soap(self) -> bool {
        self != Channel::Rest
    }

    fn content_type(self) -> &'static str {
        if self.soap() {
            "text/xml; charset=utf-8"
        } else {
            "application/json"
        }
    }
}

/// 32 bytes from the operating system's random source, drawn from a per-thread buffer that is
/// refilled 4 KiB at a time (one system call per 128 messages instead of one per message).
fn random_32(now: Timestamp) -> [u8; 32] {
    thread_local! {
        static POOL: std::cell::RefCell<(Vec<u8>, usize)> = const { std::cell::RefCell::new((Vec::new(), 0)) };
    }
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        let (buf, pos) = &mut *p;
        if *pos + 32 > buf.len() {
            buf.resize(4096, 0);
            if getrandom::fill(buf).is_err() {
                // Without a random source ids cannot be unpredictable; they stay unique by time.
                for (i, c) in buf.chunks_mut(16).enumerate() {
                    c.copy_from_slice(&(now.as_nanosecond() ^ i as i128).to_le_bytes());
                }
            }
            *pos = 0;
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(&buf[*pos..*pos + 32]);
        // Used bytes are not kept.
        buf[*pos..*pos + 32].fill(0);
        *pos += 32;
        out
    })
}

/// Lower-case hex SHA-256 (`hex::encode` goes char by char; this is one pass into a buffer).
fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    let digest = Sha256::digest(data.as_ref());
    let mut out = [0u8; 64];
    let _ = hex::encode_to_slice(digest, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// A random RFC 4122 version 4 UUID, lower-case hex.
fn uuid4(b: &mut [u8]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut hx = [0u8; 32];
    let _ = hex::encode_to_slice(&b[..16], &mut hx);
    let h = std::str::from_utf8(&hx).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// An instant as the wire writes dates: Asia/Almaty local time with milliseconds.
pub fn wire_time(t: Timestamp) -> String {
    t.to_zoned(crate::calendar::almaty())
        .strftime("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

/// What a message became.
struct Done {
    status: StatusCode,
    body: Bytes,
    /// `SCSS001`, the backend's status code, or the error code.
    outcome: String,
    /// The metrics' outcome label.
    metric: &'static str,
    retry_after: Option<u64>,
    close: bool,
}

/// Facts gathered along the way, for the journal.
#[derive(Default)]
struct Facts {
    info: Option<RequestInfo>,
    sender: Option<Arc<str>>,
    connection: Option<Arc<str>>,
    request_sha256: Option<String>,
    backend_seconds: Option<f64>,
}

struct Exchange<'a> {
    route: &'a Route,
    channel: Channel,
    gateway_id: String,
    session_id: String,
    facts: Facts,
}

impl Exchange<'_> {
    fn refuse(&self, r: Refusal) -> Done {
        let date = wire_time(Timestamp::now());
        let body = if self.channel.soap() {
            soap::fault(&r, &date, &self.gateway_id, Some(&self.session_id))
        } else {
            rest::error_body(&r, &date, &self.gateway_id, Some(&self.session_id))
        };
        Done {
            status: r.code.http_status(self.channel.soap()),
            body: Bytes::from(body),
            outcome: r.code.as_str().to_string(),
            metric: r.code.as_str(),
            retry_after: r.retry_after,
            close: matches!(
                r.code,
                ErrorCode::MessageTooLarge | ErrorCode::RequestTimeout
            ),
        }
    }

    async fn read_body(&self, req: Request<Incoming>) -> Result<Bytes, Refusal> {
        let max = self.route.limits.max_body;
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max as u64) {
            return Err(Refusal::new(
                ErrorCode::MessageTooLarge,
                format!(
                    "the message is {} bytes; this route accepts at most {max}",
                    declared.unwrap_or_default()
                ),
            ));
        }
        let t = self.route.limits.body_timeout;
        match tokio::time::timeout(t, Limited::new(req.into_body(), max).collect()).await {
            Err(_) => Err(Refusal::new(
                ErrorCode::RequestTimeout,
                format!("the message was not received within {} s", t.as_secs()),
            )),
            Ok(Err(e))
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                Err(Refusal::new(
                    ErrorCode::MessageTooLarge,
                    format!("the message exceeds {max} bytes, the most this route accepts"),
                ))
            }
            Ok(Err(e)) => Err(Refusal::new(
                ErrorCode::MalformedMessage,
                format!("the message body could not be read: {e}"),
            )),
            Ok(Ok(b)) => Ok(b.to_bytes()),
        }
    }

    /// Checks that apply to every channel once `requestInfo` is read: service, route, sender,
    /// breaks. Returns the authenticated sender.
    fn admit<'l>(
        &mut self,
        loaded: &'l Loaded,
        info: &RequestInfo,
    ) -> Result<&'l ActiveSender, Refusal> {
        let cfg = &loaded.config;
        if info.service_id != cfg.service_key {
            return Err(Refusal::new(
                ErrorCode::UnknownService,
                format!(
                    "serviceId '{}' is not served here: this route serves '{}' in the {} contour",
                    clip(&info.service_id),
                    cfg.service_key,
                    cfg.contour
                ),
            ));
        }
        if let Some(rk) = &cfg.route_key
            && info.route_id.as_deref() != Some(rk.as_str())
        {
            return Err(Refusal::new(
                ErrorCode::UnknownRoute,
                match &info.route_id {
                    None => format!(
                        "requestInfo/routeId is required: service '{}' is routed (App.3)",
                        cfg.service_key
                    ),
                    Some(r) => format!(
                        "routeId '{}' is not the route key of service '{}' (App.3)",
                        clip(r),
                        cfg.service_key
                    ),
                },
            ));
        }
        let sender =
            loaded
                .senders
                .authenticate(&info.sender_id, info.password.as_ref(), cfg.contour)?;
        self.facts.sender = Some(sender.sender_id.clone());
        self.facts.connection = Some(sender.connection.clone());
        let now = Timestamp::now();
        if let Some(w) = window::active(&cfg.windows, now) {
            return Err(window::refusal(w, cfg.contour, now));
        }
        Ok(sender)
    }

    fn backend_error(&self, e: ForwardError) -> Refusal {
        match e {
            ForwardError::Timeout(d) => Refusal::new(
                ErrorCode::BackendTimeout,
                format!(
                    "the backend did not answer within {} s, the service's maximum processing time (App.2)",
                    d.as_secs()
                ),
            ),
            ForwardError::Unreachable(m) => Refusal::new(
                ErrorCode::BackendUnreachable,
                format!("the backend could not be reached: {m}"),
            ),
            ForwardError::TooLarge(n) => Refusal::new(
                ErrorCode::BackendFault,
                format!("the backend's answer exceeds {n} bytes, the most this route relays"),
            ),
            ForwardError::Broken(m) => Refusal::new(
                ErrorCode::BackendFault,
                format!("the exchange with the backend broke off: {m}"),
            ),
        }
    }

    async fn soap(&mut self, loaded: &Loaded, body: &[u8]) -> Result<Done, Refusal> {
        let text = utf8(body)?;
        let parsed = SyncRequest::parse(text);
        let mut req = match parsed {
            Ok(r) => r,
            Err(r) => {
                self.facts.request_sha256 = Some(sha256_hex(body));
                return Err(r);
            }
        };
        let admitted = self.admit(loaded, &req.info).map(|_| ());
        self.facts.info = Some(std::mem::take(&mut req.info));
        if let Err(r) = admitted {
            self.facts.request_sha256 = Some(sha256_hex(req.without_password(text).as_bytes()));
            return Err(r);
        }
        let fwd = req.forward(text, &self.session_id);
        self.facts.request_sha256 = Some(sha256_hex(fwd.as_bytes()));
        let ans = loaded
            .backend
            .send(fwd, "text/xml; charset=utf-8", true, &self.gateway_id)
            .await
            .map_err(|e| self.backend_error(e))?;
        self.facts.backend_seconds = Some(ans.took.as_secs_f64());
        let answer = std::str::from_utf8(&ans.body).map_err(|_| {
            Refusal::new(ErrorCode::BackendFault, "the backend's answer is not UTF-8")
                .with_sub_error(rest::http_sub_error(ans.status.as_u16()))
        })?;
        match soap::read_answer(answer, &self.session_id) {
            Ok(BackendAnswer::Response { status, body }) => Ok(self.relay(status, body)),
            Ok(BackendAnswer::Fault(sub)) => Err(Refusal::new(
                ErrorCode::BackendFault,
                format!(
                    "the backend answered with a fault: {}: {}",
                    sub.code,
                    clip(&sub.message)
                ),
            )
            .with_sub_error(sub)),
            Err(_) if !ans.status.is_success() => Err(Refusal::new(
                ErrorCode::BackendFault,
                format!(
                    "the backend answered HTTP {} without a SOAP envelope",
                    ans.status.as_u16()
                ),
            )
            .with_sub_error(rest::http_sub_error(ans.status.as_u16()))),
            Err(e) => Err(Refusal::new(
                ErrorCode::BackendFault,
                format!("the backend's answer is not a SendMessageResponse: {e}"),
            )),
        }
    }

    async fn rest(&mut self, loaded: &Loaded, body: &[u8]) -> Result<Done, Refusal> {
        let text = utf8(body)?;
        let mut req = match RestRequest::parse(text) {
            Ok(r) => r,
            Err(r) => {
                self.facts.request_sha256 = Some(sha256_hex(body));
                return Err(r);
            }
        };
        let admitted = self.admit(loaded, &req.info).map(|_| ());
        self.facts.info = Some(std::mem::take(&mut req.info));
        if let Err(r) = admitted {
            self.facts.request_sha256 = Some(sha256_hex(req.without_password().as_bytes()));
            return Err(r);
        }
        let fwd = req.forward(&self.session_id);
        self.facts.request_sha256 = Some(sha256_hex(fwd.as_bytes()));
        let ans = loaded
            .backend
            .send(fwd, "application/json", false, &self.gateway_id)
            .await
            .map_err(|e| self.backend_error(e))?;
        self.facts.backend_seconds = Some(ans.took.as_secs_f64());
        let answer = String::from_utf8_lossy(&ans.body);
        match rest::read_answer(ans.status.as_u16(), &answer, &self.session_id) {
            Ok(RestAnswer::Response { status, body }) => Ok(self.relay(status, body)),
            Ok(RestAnswer::Fault(sub)) => Err(Refusal::new(
                ErrorCode::BackendFault,
                format!(
                    "the backend answered with an error: {}: {}",
                    sub.code,
                    clip(&sub.message)
                ),
            )
            .with_sub_error(sub)),
            Err(e) => Err(Refusal::new(ErrorCode::BackendFault, e)),
        }
    }

    fn relay(&self, status: Option<String>, body: String) -> Done {
        let (outcome, metric) = match status {
            Some(s) if s == SUCCESS_CODE => (s, SUCCESS_CODE),
            Some(s) => (s, "BACKEND_STATUS"),
            None => ("NO_STATUS".to_string(), "BACKEND_STATUS"),
        };
        Done {
            status: StatusCode::OK,
            body: Bytes::from(body),
            outcome,
            metric,
            retry_after: None,
            close: false,
        }
    }
}

struct InFlight<'a>(&'a Route);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Handles one message on `channel`: the whole exchange, its journal line and its metrics.
pub async fn message(
    route: &Arc<Route>,
    channel: Channel,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let received = Timestamp::now();
    route.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let _guard = InFlight(route);
    let mut ids = random_32(received);
    let mut ex = Exchange {
        route,
        channel,
        gateway_id: uuid4(&mut ids[..16]),
        session_id: format!("{{{}}}", uuid4(&mut ids[16..])),
        facts: Facts::default(),
    };
    let loaded = route.state.load_full();
    let mut request_bytes = 0;
    let done = match &loaded {
        None => ex.refuse(
            Refusal::new(
                ErrorCode::RouteNotReady,
                "the route has no valid configuration yet",
            )
            .retry_after(5),
        ),
        Some(l) if !served(l, channel) => ex.refuse(not_served(l, channel)),
        Some(l) => {
            let permit = match route.slots.try_acquire() {
                Ok(p) => Some(p),
                Err(_) => tokio::time::timeout(route.limits.queue_timeout, route.slots.acquire())
                    .await
                    .ok()
                    .and_then(Result::ok),
            };
            match permit {
                None => ex.refuse(
                    Refusal::new(
                        ErrorCode::ServerBusy,
                        format!(
                            "the route is handling {} messages, its bound; retry shortly",
                            route.limits.max_in_flight
                        ),
                    )
                    .retry_after(1),
                ),
                Some(_permit) => match ex.read_body(req).await {
                    Err(r) => ex.refuse(r),
                    Ok(body) => {
                        request_bytes = body.len();
                        let r = match channel {
                            Channel::Rest => ex.rest(l, &body).await,
                            _ => ex.soap(l, &body).await,
                        };
                        r.unwrap_or_else(|r| ex.refuse(r))
                    }
                },
            }
        }
    };
    let answered = Timestamp::now();
    let took = started.elapsed();
    let response_sha256 = sha256_hex(&done.body);
    let (service, contour) = loaded
        .as_ref()
        .map_or(("-".to_string(), crate::api::Contour::Test), |l| {
            (l.config.service.clone(), l.config.contour)
        });
    let info = ex.facts.info.as_ref();
    let claimed = info.map(|i| clip(&i.sender_id));
    let client = peer.to_string();
    route
        .journal
        .write(&MessageRecord {
            journal: "message",
            gateway_message_id: &ex.gateway_id,
            session_id: &ex.session_id,
            message_id: info.map(|i| i.message_id.as_str()),
            correlation_id: info.and_then(|i| i.correlation_id.as_deref()),
            service_id: info.map(|i| i.service_id.as_str()),
            service: &service,
            contour,
            channel: channel.as_str(),
            sender: ex.facts.sender.as_deref().or(claimed.as_deref()),
            connection: ex.facts.connection.as_deref(),
            client: &client,
            received: received.to_string(),
            answered: answered.to_string(),
            duration_ms: took.as_secs_f64() * 1000.0,
            backend_ms: ex.facts.backend_seconds.map(|s| s * 1000.0),
            outcome: &done.outcome,
            http_status: done.status.as_u16(),
            request_bytes,
            response_bytes: done.body.len(),
            request_sha256: ex.facts.request_sha256.clone(),
            response_sha256,
        })
        .await;
    route.metrics.observe(&Observation {
        channel: channel.as_str(),
        outcome: done.metric,
        sender: ex.facts.sender.as_ref(),
        seconds: took.as_secs_f64(),
        backend_seconds: ex.facts.backend_seconds,
        request_bytes,
        response_bytes: done.body.len(),
    });
    let mut resp = Response::new(Full::new(done.body));
    *resp.status_mut() = done.status;
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(channel.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&ex.gateway_id) {
        h.insert(HeaderName::from_static(MESSAGE_ID_HEADER), v);
    }
    if let Some(s) = done.retry_after {
        h.insert(RETRY_AFTER, HeaderValue::from(s));
    }
    if done.close {
        h.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

fn served(l: &Loaded, channel: Channel) -> bool {
    matches!(
        (l.config.protocol, l.config.mode, channel),
        (Protocol::Soap, crate::api::Mode::Sync, Channel::SoapSync)
            | (Protocol::Rest, _, Channel::Rest)
    )
}

fn not_served(l: &Loaded, channel: Channel) -> Refusal {
    let serves = match (l.config.protocol, l.config.mode) {
        (Protocol::Rest, _) => "the REST channel on /rest",
        (Protocol::Soap, crate::api::Mode::Sync) => "the SOAP sync channel on /bip-sync-wss-gost/",
        (Protocol::Soap, crate::api::Mode::Async) => {
            "no channel yet: the asynchronous SOAP channel (/bip-async) is not served by this release"
        }
    };
    Refusal::new(
        ErrorCode::ChannelNotServed,
        format!(
            "the {} channel is not served for service '{}': this route serves {serves}",
            channel.as_str(),
            l.config.service_key
        ),
    )
}

/// The message as text: both channels accept UTF-8 only (docs/route.md: the XML and JSON readers
/// are UTF-8, and a message in another encoding is refused rather than guessed at).
fn utf8(body: &[u8]) -> Result<&str, Refusal> {
    std::str::from_utf8(body).map_err(|e| {
        Refusal::new(
            ErrorCode::MalformedMessage,
            format!(
                "the message is not UTF-8 (at byte {}); only UTF-8 is accepted",
                e.valid_up_to()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid4_and_times_are_local() {
        let mut b = [7u8; 16];
        let u = uuid4(&mut b);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        let t: Timestamp = "2026-12-03T07:00:00.5Z".parse().unwrap();
        assert_eq!(wire_time(t), "2026-12-03T12:00:00.500+05:00");
    }
}
