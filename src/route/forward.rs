//! Forwarding to the owner's backend (App.3: the request URL of the contour, authorization on the
//! service side, the NCA-issued TLS certificate), bounded by the SLA's maximum processing time
//! (App.2). Connections to the backend are kept alive in a pool per worker thread: a message takes
//! an idle connection of its own thread (no lock, no cross-thread wake-up) or opens one.

use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper::header::HOST;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use tower_service::Service as _;

use super::config::BackendConfig;

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// Header carrying the gateway's message id to the backend and back to the sender.
pub const MESSAGE_ID_HEADER: &str = "x-shep-message-id";

/// Idle connections are not reused after this long (backends close theirs after 60 s or more).
const IDLE_FOR: Duration = Duration::from_secs(30);
/// Idle connections kept per backend and worker.
const MAX_IDLE: usize = 512;

type Sender = SendRequest<Full<Bytes>>;
/// Idle connections with the time each became idle.
type Pool = Vec<(Sender, Instant)>;

/// The backend of a route, ready to send. Each worker thread keeps its own connection pool to it
/// (see [`Backend::connection`]), so a message never waits for another thread's connection.
pub struct Backend {
    id: u64,
    connector: Connector,
    uri: Uri,
    /// The request target (path and query) and `Host` of the URL.
    path: Uri,
    host: HeaderValue,
    /// `Basic ...` when the backend authorizes callers (never logged).
    authorization: Option<HeaderValue>,
    timeout: Duration,
    max_answer: usize,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend")
            .field("uri", &self.uri)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why forwarding failed.
#[derive(Debug)]
pub enum ForwardError {
    /// No answer within the SLA.
    Timeout(Duration),
    /// The connection failed.
    Unreachable(String),
    /// The answer was larger than the limit.
    TooLarge(usize),
    /// The answer broke off.
    Broken(String),
}

/// The backend's answer.
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// Its content type.
    pub content_type: Option<HeaderValue>,
    /// The body.
    pub body: Bytes,
    /// How long the backend took.
    pub took: Duration,
}

fn read_trimmed(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p)
        .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
        .map_err(|e| format!("{}: {e}", p.display()))
}

impl Backend {
    /// Prepares the backend of a route config: parses the URL, reads the CA bundle and the
    /// authorization files. `max_answer` bounds the answer's size.
    pub fn new(cfg: &BackendConfig, max_answer: usize) -> Result<Backend, String> {
        let uri: Uri = cfg
            .url
            .parse()
            .map_err(|e| format!("backend.url '{}': {e}", cfg.url))?;
        match uri.scheme_str() {
            Some("http") | Some("https") => {}
            _ => {
                return Err(format!(
                    "backend.url '{}': only http and https are served",
                    cfg.url
                ));
            }
        }
        let mut roots = rustls::RootCertStore::empty();
        if let Some(ca) = &cfg.ca_file {
            use rustls_pki_types::pem::PemObject as _;
            let certs = rustls_pki_types::CertificateDer::pem_file_iter(ca)
                .map_err(|e| format!("backend.caFile {ca}: {e}"))?;
            for c in certs {
                let c = c.map_err(|e| format!("backend.caFile {ca}: {e}"))?;
                roots
                    .add(c)
                    .map_err(|e| format!("backend.caFile {ca}: {e}"))?;
            }
            if roots.is_empty() {
                return Err(format!("backend.caFile {ca}: no certificate in it"));
            }
        } else if uri.scheme_str() == Some("https") {
            let found = rustls_native_certs::load_native_certs();
            for c in found.certs {
                let _ = roots.add(c);
            }
            if roots.is_empty() {
                return Err(format!(
                    "backend.url '{}' is https, but there is no caFile and no system CA certificate",
                    cfg.url
                ));
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        http.set_keepalive(Some(Duration::from_secs(60)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let authorization = match &cfg.auth_dir {
            None => None,
            Some(d) => {
                let dir = Path::new(d);
                let user = read_trimmed(&dir.join("username"))?;
                let pass = read_trimmed(&dir.join("password"))?;
                let mut v = HeaderValue::from_str(&format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
                ))
                .map_err(|_| {
                    format!(
                        "backend.authDir {d}: the username or password is not a valid header value"
                    )
                })?;
                v.set_sensitive(true);
                Some(v)
            }
        };
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let path: Uri = uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .parse()
            .map_err(|e| format!("backend.url '{}': {e}", cfg.url))?;
        let host = HeaderValue::from_str(uri.authority().map_or("", |a| a.as_str()))
            .map_err(|e| format!("backend.url '{}': {e}", cfg.url))?;
        Ok(Backend {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            connector,
            uri,
            path,
            host,
            authorization,
            timeout: Duration::from_secs(u64::from(cfg.timeout_seconds.max(1))),
            max_answer,
        })
    }

    /// An idle connection of this thread's pool, or a new one.
    async fn connection(&self) -> Result<Sender, ForwardError> {
        let idle = POOLS.with(|p| {
            let mut p = p.borrow_mut();
            let pool = p.iter_mut().find(|(id, _)| *id == self.id)?;
            while let Some((s, since)) = pool.1.pop() {
                if s.is_ready() && since.elapsed() < IDLE_FOR {
                    return Some(s);
                }
            }
            None
        });
        if let Some(s) = idle {
            return Ok(s);
        }
        let mut connector = self.connector.clone();
        let io = connector
            .call(self.uri.clone())
            .await
            .map_err(|e| ForwardError::Unreachable(chain(&*e)))?;
        let (sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| ForwardError::Unreachable(chain(&e)))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// Returns a connection whose exchange completed to this thread's pool.
    fn give_back(&self, s: Sender) {
        POOLS.with(|p| {
            let mut p = p.borrow_mut();
            if !p.iter().any(|(id, _)| *id == self.id) {
                // The two most recent backends' pools are kept: a reload drops older ones.
                if p.len() >= 2 {
                    p.remove(0);
                }
                p.push((self.id, Vec::new()));
            }
            if let Some((_, pool)) = p.iter_mut().find(|(id, _)| *id == self.id)
                && pool.len() < MAX_IDLE
            {
                pool.push((s, Instant::now()));
            }
        });
    }

    /// The SLA timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends one message and reads the whole answer, within the SLA timeout.
    pub async fn send(
        &self,
        body: String,
        content_type: &'static str,
        soap_action: bool,
        gateway_message_id: &str,
    ) -> Result<Answer, ForwardError> {
        let started = Instant::now();
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(self.path.clone())
            .header(HOST, self.host.clone())
            .header(CONTENT_TYPE, content_type);
        if soap_action {
            req = req.header("soapaction", "\"\"");
        }
        if let Ok(v) = HeaderValue::from_str(gateway_message_id) {
            req = req.header(HeaderName::from_static(MESSAGE_ID_HEADER), v);
        }
        if let Some(a) = &self.authorization {
            req = req.header(AUTHORIZATION, a.clone());
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| ForwardError::Broken(e.to_string()))?;
        let work = async {
            let mut sender = self.connection().await?;
            let resp = sender
                .send_request(req)
                .await
                .map_err(|e| ForwardError::Broken(chain(&e)))?;
            let status = resp.status();
            let content_type = resp.headers().get(CONTENT_TYPE).cloned();
            let body = Limited::new(resp.into_body(), self.max_answer)
                .collect()
                .await
                .map_err(|e| {
                    if e.downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some()
                    {
                        ForwardError::TooLarge(self.max_answer)
                    } else {
                        ForwardError::Broken(e.to_string())
                    }
                })?
                .to_bytes();
            self.give_back(sender);
            Ok(Answer {
                status,
                content_type,
                body,
                took: started.elapsed(),
            })
        };
        match tokio::time::timeout(self.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(ForwardError::Timeout(self.timeout)),
        }
    }
}

thread_local! {
    /// Per worker thread: `(backend id, idle connections with the time they became idle)`.
    static POOLS: RefCell<Vec<(u64, Pool)>> = const { RefCell::new(Vec::new()) };
}

/// An error and its sources, as one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg = format!("{msg}: {s}");
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_urls_and_missing_files_are_named() {
        let cfg = |url: &str| BackendConfig {
            url: url.into(),
            timeout_seconds: 30,
            auth_dir: None,
            ca_file: None,
        };
        assert!(
            Backend::new(&cfg("ftp://x/"), 1)
                .unwrap_err()
                .contains("only http")
        );
        let mut c = cfg("http://127.0.0.1:1/");
        c.auth_dir = Some("/nonexistent".into());
        assert!(
            Backend::new(&c, 1)
                .unwrap_err()
                .contains("/nonexistent/username")
        );
        let mut c = cfg("https://127.0.0.1:1/");
        c.ca_file = Some("/nonexistent/ca.crt".into());
        assert!(Backend::new(&c, 1).unwrap_err().contains("backend.caFile"));
    }
}
