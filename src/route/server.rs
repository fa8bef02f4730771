//! `shep route`: the HTTP server of one route workload (DESIGN §4). It accepts messages on the
//! channel of its service (SOAP sync on `/bip-sync-wss-gost/` and `/sync`, REST on `/rest`),
//! checks, authenticates, forwards and journals each one ([`super::exchange`]), serves the WSDL,
//! `/healthz`, `/readyz` and `/metrics`, reloads its files when they change, and drains in-flight
//! messages on shutdown.
//!
//! It runs one worker thread per core, each with its own single-threaded runtime, listener
//! (`SO_REUSEPORT`) and backend connection pool, as nginx runs worker processes: a message is
//! handled on one thread from accept to answer, with no cross-thread wake-ups.
//!
//! Hardening: a bound on connections (the accept loops wait: backpressure through the listen
//! backlog), a bound on messages in flight (a message that waits too long is refused with
//! `SERVER_BUSY`), header and body read timeouts, and a body size limit checked before reading.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::config::PORT;
use super::exchange::{self, Channel};
use super::journal::Journal;
use super::metrics::{Gauges, RouteMetrics};
use super::state::{self, Files, Loaded, Stamps};
use super::{window, wsdl};

/// The limits of a route process.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The largest message body (and backend answer), bytes.
    pub max_body: usize,
    /// Messages handled at once.
    pub max_in_flight: usize,
    /// How long a message may wait for a free slot before `SERVER_BUSY`.
    pub queue_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// Time to send the request head (also the idle time of a kept-alive connection).
    pub header_timeout: Duration,
    /// Time to send the body.
    pub body_timeout: Duration,
    /// How often the mounted files are checked for changes.
    pub reload_interval: Duration,
    /// How long shutdown waits for messages in flight (default: the SLA's maximum + 1 s).
    pub drain_timeout: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body: 10 * 1024 * 1024,
            max_in_flight: 1024,
            queue_timeout: Duration::from_secs(2),
            max_connections: 4096,
            header_timeout: Duration::from_secs(20),
            body_timeout: Duration::from_secs(30),
            reload_interval: Duration::from_secs(2),
            drain_timeout: None,
        }
    }
}

/// How to run a route.
pub struct Options {
    /// The mounted files.
    pub files: Files,
    /// Listen address (default: the config's, else `0.0.0.0:8080`).
    pub listen: Option<SocketAddr>,
    /// The limits.
    pub limits: Limits,
    /// Where the message journal goes.
    pub journal: Journal,
}

/// The shared state of a route process.
pub struct Route {
    /// The state in use (`None` until a valid config was read).
    pub state: ArcSwapOption<Loaded>,
    /// Metrics.
    pub metrics: RouteMetrics,
    /// The message journal.
    pub journal: Journal,
    /// Limits.
    pub limits: Limits,
    /// Free message slots.
    pub slots: Semaphore,
    draining: AtomicBool,
    last_error: std::sync::Mutex<Option<String>>,
}

impl Route {
    fn gauges(&self) -> Gauges {
        let s = self.state.load();
        Gauges {
            config_valid: s.is_some(),
            senders: s.as_ref().map_or(0, |l| l.senders.len()),
            windows_active: s.as_ref().map_or(0, |l| {
                window::count_active(&l.config.windows, jiff::Timestamp::now())
            }),
        }
    }
}

fn text(status: StatusCode, ctype: &'static str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, hyper::header::HeaderValue::from_static(ctype));
    r
}

/// Whether a path is the sync SOAP channel's (WIRE.md: `/bip-sync-wss-gost/`; also `/sync`).
pub fn is_sync_path(p: &str) -> bool {
    matches!(
        p,
        "/bip-sync-wss-gost/" | "/bip-sync-wss-gost" | "/sync" | "/sync/"
    )
}

async fn handle(
    route: Arc<Route>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let r = match (&method, path.as_str()) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "text/plain", "ok\n"),
        (&Method::GET, "/readyz") => {
            if route.draining.load(Ordering::Relaxed) {
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    "shutting down\n",
                )
            } else if route.state.load().is_some() {
                text(StatusCode::OK, "text/plain", "ok\n")
            } else {
                let why = route
                    .last_error
                    .lock()
                    .ok()
                    .and_then(|e| e.clone())
                    .unwrap_or_else(|| "no configuration yet".into());
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    format!("no valid configuration: {why}\n"),
                )
            }
        }
        (&Method::GET, "/metrics") => text(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            route.metrics.render(&route.gauges()),
        ),
        (&Method::GET, p) if is_sync_path(p) => {
            let host = req.headers().get(HOST).and_then(|h| h.to_str().ok());
            let addr = wsdl::address(host, p);
            let q = req.uri().query().unwrap_or("");
            if q.eq_ignore_ascii_case("wsdl") {
                text(StatusCode::OK, "text/xml; charset=utf-8", wsdl::wsdl(&addr))
            } else if let Some(n) = q.strip_prefix("xsd=") {
                match wsdl::xsd(n, &addr) {
                    Some(x) => text(StatusCode::OK, "text/xml; charset=utf-8", x),
                    None => text(
                        StatusCode::NOT_FOUND,
                        "text/plain",
                        format!(
                            "no schema '{}'; served: {}\n",
                            super::soap::clip(n),
                            wsdl::SCHEMAS.join(", ")
                        ),
                    ),
                }
            } else {
                text(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "text/plain",
                    "POST a SendMessage envelope here; GET ?wsdl for the WSDL\n",
                )
            }
        }
        (&Method::POST, p) if is_sync_path(p) => {
            exchange::message(&route, Channel::SoapSync, peer, req).await
        }
        (&Method::POST, "/rest") => exchange::message(&route, Channel::Rest, peer, req).await,
        (&Method::POST, "/bip-async") => exchange::message(&route, Channel::Async, peer, req).await,
        _ => text(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: the route serves POST /bip-sync-wss-gost/ (and /sync) or POST /rest, GET ?wsdl, /healthz, /readyz, /metrics\n",
        ),
    };
    Ok(r)
}

fn reload(route: &Route, files: &Files, stamps: &mut Stamps) {
    let current = route.state.load_full();
    let now = Stamps::now(files, current.as_ref().map(|l| &l.config));
    if current.is_some() && now == *stamps {
        return;
    }
    let backend_same = now.backend == stamps.backend;
    let changed: Vec<&'static str> = [
        (now.config != stamps.config).then_some("route.yaml"),
        (now.senders != stamps.senders).then_some("senders.yaml"),
        (!backend_same).then_some("backend"),
    ]
    .into_iter()
    .flatten()
    .collect();
    match state::load(
        files,
        route.limits.max_body,
        current.as_deref().map(|l| (l, backend_same)),
    ) {
        Ok(l) => {
            let after = Stamps::now(files, Some(&l.config));
            tracing::info!(
                service = %l.config.service,
                contour = %l.config.contour,
                senders = l.senders.len(),
                windows = l.config.windows.len(),
                changed = ?changed,
                "route configuration loaded"
            );
            for f in &changed {
                route.metrics.reloaded(f, "ok");
            }
            if let Ok(mut e) = route.last_error.lock() {
                *e = None;
            }
            route.state.store(Some(Arc::new(l)));
            *stamps = after;
        }
        Err(e) => {
            let keep = if current.is_some() {
                "the previous configuration stays in use"
            } else {
                "not ready until it is fixed"
            };
            tracing::error!(file = e.file, error = %e.message, "route configuration refused; {keep}");
            route.metrics.reloaded(e.file, "error");
            if let Ok(mut le) = route.last_error.lock() {
                *le = Some(e.to_string());
            }
            // Not retried until a file changes again.
            *stamps = now;
        }
    }
}

/// Binds a listener with `SO_REUSEPORT`, so that every worker accepts on its own socket and the
/// kernel spreads connections over them.
fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    #[cfg(unix)]
    s.set_reuse_port(true)?;
    s.set_tcp_nodelay(true)?;
    s.bind(&addr.into())?;
    s.listen(1024)?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

/// One worker: its own single-threaded runtime and listener; accepts until told to stop, then
/// waits up to the drain time for its connections' messages in flight.
async fn worker(
    route: Arc<Route>,
    listener: std::net::TcpListener,
    connections: Arc<Semaphore>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "worker cannot use its listener");
            return;
        }
    };
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(route.limits.header_timeout)
        .keep_alive(true)
        .max_buf_size(256 * 1024);
    loop {
        let permit = tokio::select! {
            p = connections.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stop.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let r = route.clone();
        let conn = http.serve_connection(
            TokioIo::new(stream),
            service_fn(move |req| handle(r.clone(), peer, req)),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    let drain = route.limits.drain_timeout.unwrap_or_else(|| {
        let sla = route
            .state
            .load()
            .as_ref()
            .map_or(30, |l| u64::from(l.config.sla.max_processing_seconds));
        Duration::from_secs(sla + 1)
    });
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("drain timeout: connections still open are closed");
    }
}

/// Runs a route with `workers` worker threads until `shutdown` completes, then drains: not
/// ready, no new connections, messages in flight finish (within the drain time), the journal is
/// written out.
pub fn serve(
    opts: Options,
    workers: usize,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let Options {
        files,
        listen,
        limits,
        journal,
    } = opts;
    let listen = match listen {
        Some(a) => a,
        None => state::read_config(&files)
            .ok()
            .and_then(|c| c.listen.parse().ok())
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], PORT as u16))),
    };
    let route = Arc::new(Route {
        state: ArcSwapOption::empty(),
        metrics: RouteMetrics::default(),
        journal,
        slots: Semaphore::new(limits.max_in_flight),
        limits: limits.clone(),
        draining: AtomicBool::new(false),
        last_error: std::sync::Mutex::new(None),
    });
    let mut stamps = Stamps::default();
    reload(&route, &files, &mut stamps);
    let first = bind(listen).map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let local = first.local_addr().map_err(|e| e.to_string())?;
    let mut listeners = vec![first];
    for _ in 1..workers.max(1) {
        listeners.push(bind(local).map_err(|e| format!("cannot listen on {local}: {e}"))?);
    }
    tracing::info!(listen = %local, workers = listeners.len(), "route listening");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let mut threads = Vec::new();
    for (i, l) in listeners.into_iter().enumerate() {
        let (route, connections, stop) = (route.clone(), connections.clone(), stop_rx.clone());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a worker runtime: {e}"))?;
        threads.push(
            std::thread::Builder::new()
                .name(format!("shep-route-{i}"))
                .spawn(move || rt.block_on(worker(route, l, connections, stop)))
                .map_err(|e| format!("cannot start a worker thread: {e}"))?,
        );
    }

    // This thread watches the files and waits for the signal.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(async {
        let mut tick = tokio::time::interval(limits.reload_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = tick.tick() => reload(&route, &files, &mut stamps),
                _ = &mut shutdown => break,
            }
        }
    });
    route.draining.store(true, Ordering::Relaxed);
    let in_flight = route.metrics.in_flight.load(Ordering::Relaxed);
    tracing::info!(in_flight, "route draining");
    let _ = stop_tx.send(true);
    for t in threads {
        let _ = t.join();
    }
    match Arc::try_unwrap(route) {
        Ok(mut r) => r.journal.close(),
        Err(r) => drop(r),
    }
    tracing::info!("route stopped");
    Ok(())
}
