//! `shep operator` (DESIGN §5): one `Controller` per kind, wired so that a change to any referenced
//! object requeues exactly its dependants. Watches go through `DeserializeGuard`, so one malformed
//! object never stalls the rest.

pub mod apply;
pub mod context;
pub mod dereference;
pub mod freshness;
pub mod health;
pub mod leader;
pub mod metrics;
pub mod reconcile;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::Api;
use kube::core::{DeserializeGuard, PartialObjectMeta};
use kube::runtime::events::Reporter;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Controller, WatchStreamExt, watcher};
use kube::{Client, Resource as _, ResourceExt};

use crate::api::{InformationSystem, IntegrationService, ServiceConnection, TechWindow};
use crate::calendar::Calendar;
use crate::render::{LABEL_CONNECTION, LABEL_MANAGED_BY, LABEL_NAME, RenderSettings};
use context::{Context, Stores};
use dereference::{ns_of, refers_to};

/// How the operator runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The working-day calendar.
    pub calendar: Calendar,
    /// Render settings (route image, metrics namespace).
    pub settings: RenderSettings,
    /// The longest wait between two reconciles of one object (drift correction).
    pub resync: Duration,
    /// Name of this instance, for Events and the Lease.
    pub instance: Option<String>,
    /// Leader election; `None` runs the controllers at once (a single replica).
    pub lease: Option<leader::LeaseConfig>,
    /// Where `/healthz`, `/readyz` and `/metrics` are served.
    pub health_addr: Option<std::net::SocketAddr>,
    /// Only objects of these namespaces are reconciled (their status written, their children
    /// applied); `None` reconciles every namespace. References are still read cluster-wide.
    pub namespaces: Option<std::collections::BTreeSet<String>>,
    /// Reconciles in flight at once, per kind.
    pub concurrency: u16,
}

/// Why the operator stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The API server could not be reached at start.
    #[error("cannot reach the API server: {0}")]
    Connect(#[source] kube::Error),
    /// The health endpoint could not be bound.
    #[error("cannot serve health and metrics on {addr}: {source}")]
    Health {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Runs a reconcile and records its duration and outcome.
async fn timed<F>(
    kind: &'static str,
    ctx: Arc<Context>,
    fut: F,
) -> Result<kube::runtime::controller::Action, context::Error>
where
    F: std::future::Future<Output = Result<kube::runtime::controller::Action, context::Error>>,
{
    let start = std::time::Instant::now();
    let r = fut.await;
    ctx.metrics.observe(
        kind,
        start.elapsed(),
        r.as_ref().err().map(context::Error::phase),
    );
    r
}

fn ok<K>(g: &DeserializeGuard<K>) -> Option<&K> {
    g.0.as_ref().ok()
}

fn valid<K: Clone + kube::Resource>(s: &Store<DeserializeGuard<K>>) -> Vec<Arc<DeserializeGuard<K>>>
where
    K::DynamicType: std::hash::Hash + Eq + Clone,
{
    s.state()
}

/// The namespace/name a connection's serviceRef points at.
fn service_of(c: &ServiceConnection) -> (String, String) {
    let ns = c.namespace().unwrap_or_default();
    (
        c.spec.service_ref.namespace_or(&ns).to_string(),
        c.spec.service_ref.name.clone(),
    )
}

/// Services a window targets, from the services store.
fn window_services(
    w: &TechWindow,
    services: &Store<DeserializeGuard<IntegrationService>>,
) -> Vec<(String, String)> {
    let ns = ns_of(w);
    valid(services)
        .iter()
        .filter_map(|g| ok(g))
        .filter(|s| ns_of(*s) == ns)
        .filter(|s| {
            w.spec
                .targets
                .services
                .iter()
                .any(|t| s.meta().name.as_deref() == Some(t.name.as_str()))
                || w.spec
                    .targets
                    .system
                    .as_ref()
                    .is_some_and(|t| t.name == s.spec.system_ref.name)
        })
        .map(|s| (ns.to_string(), s.name_any()))
        .collect()
}

fn obj_ref<K: kube::Resource<DynamicType = ()>>(
    k: &(String, String),
) -> ObjectRef<DeserializeGuard<K>>
where
    DeserializeGuard<K>: kube::Resource<DynamicType = ()>,
{
    ObjectRef::new(&k.1).within(&k.0)
}

/// Resolves when SIGTERM or SIGINT arrives (the flag is set for every later listener too).
async fn terminated(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

fn listen_for_signals() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("termination signal: draining");
        let _ = tx.send(true);
    });
    rx
}

/// Runs the operator until a termination signal: serves health and metrics; with leader election,
/// waits for the lease, leads until it is lost (then stands by again) and releases it on the way out.
pub async fn run(client: Client, opts: Options) -> Result<(), RunError> {
    let metrics = Arc::new(metrics::Metrics::default());
    if let Some(addr) = opts.health_addr {
        let bound = health::serve(addr, metrics.clone())
            .await
            .map_err(|source| RunError::Health { addr, source })?;
        tracing::info!(%bound, "serving /healthz, /readyz and /metrics");
    }
    let version = client
        .apiserver_version()
        .await
        .map_err(RunError::Connect)?;
    tracing::info!(version = %version.git_version, "connected to the API server");
    metrics
        .ready
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let stop = listen_for_signals();
    loop {
        if let Some(lease) = &opts.lease {
            tokio::select! {
                _ = leader::acquire(&client, lease) => {}
                _ = terminated(stop.clone()) => return Ok(()),
            }
        }
        metrics
            .leader
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let keep_lease = async {
            match &opts.lease {
                Some(l) => leader::keep(&client, l).await,
                None => futures::future::pending::<()>().await,
            }
        };
        let lost = tokio::select! {
            _ = lead(client.clone(), &opts, metrics.clone(), stop.clone()) => false,
            _ = keep_lease => true,
        };
        metrics
            .leader
            .store(false, std::sync::atomic::Ordering::Relaxed);
        if !lost {
            if let Some(lease) = &opts.lease {
                leader::release(&client, lease).await;
            }
            tracing::info!("shep operator stopped");
            return Ok(());
        }
        tracing::warn!("lost the lease: stopped the controllers; standing by to lead again");
    }
}

/// Runs the controllers until `stop` is set (they drain in-flight reconciles first).
async fn lead(
    client: Client,
    opts: &Options,
    metrics: Arc<metrics::Metrics>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let wc = watcher::Config::default().any_semantic();
    let systems_api: Api<DeserializeGuard<InformationSystem>> = Api::all(client.clone());
    let services_api: Api<DeserializeGuard<IntegrationService>> = Api::all(client.clone());
    let connections_api: Api<DeserializeGuard<ServiceConnection>> = Api::all(client.clone());
    let windows_api: Api<DeserializeGuard<TechWindow>> = Api::all(client.clone());
    let credentials_selector =
        format!("{LABEL_MANAGED_BY}=shep-operator,{LABEL_NAME}=shep-credentials");
    let route_selector = format!("{LABEL_MANAGED_BY}=shep-operator,{LABEL_NAME}=shep-route");

    // The issued credentials, shared by every dereference; the same stream triggers the services
    // whose senders files list them.
    let (credentials, writer) = reflector::store::<Secret>();
    let credentials_stream = reflector::reflector(
        writer,
        watcher(
            Api::<Secret>::all(client.clone()),
            watcher::Config::default().labels(&credentials_selector),
        )
        .modify(|s| s.managed_fields_mut().clear()),
    )
    .default_backoff()
    .touched_objects();

    // Every Secret's metadata, never its data: a transport certificate Secret that changes
    // triggers its system, and the dereference rereads it only then.
    let (secret_versions, writer) = reflector::store::<PartialObjectMeta<Secret>>();
    let secret_versions_stream = reflector::reflector(
        writer,
        watcher(
            Api::<PartialObjectMeta<Secret>>::all(client.clone()),
            watcher::Config::default(),
        )
        .modify(|s| s.managed_fields_mut().clear()),
    )
    .default_backoff()
    .touched_objects();

    // The children's metadata: one reflector per kind (and Secret component), whose stream is also
    // the trigger of the owner, so a store has seen a change before the reconcile it triggers.
    fn children_of<K>(
        client: &Client,
        selector: &str,
    ) -> (
        Store<PartialObjectMeta<K>>,
        impl futures::Stream<Item = Result<PartialObjectMeta<K>, watcher::Error>> + Send + 'static,
    )
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug
            + Send
            + Sync
            + 'static,
    {
        let (store, writer) = reflector::store::<PartialObjectMeta<K>>();
        let stream = reflector::reflector(
            writer,
            // An `Api` of `PartialObjectMeta` makes metadata-only requests.
            watcher(
                Api::<PartialObjectMeta<K>>::all(client.clone()),
                watcher::Config::default().labels(selector),
            )
            // The store answers "which resourceVersion, which labels"; managed fields are most
            // of an object's metadata and nobody reads them here.
            .modify(|o| o.managed_fields_mut().clear()),
        )
        .default_backoff()
        .touched_objects();
        (store, stream)
    }
    let (config_maps, config_maps_stream) = children_of::<ConfigMap>(&client, &route_selector);
    let (route_secrets, route_secrets_stream) = children_of::<Secret>(&client, &route_selector);
    let (credential_secrets, credential_secrets_stream) =
        children_of::<Secret>(&client, &credentials_selector);
    let (deployments, deployments_stream) = children_of::<Deployment>(&client, &route_selector);
    let (services_meta, services_stream) = children_of::<Service>(&client, &route_selector);
    let (network_policies, network_policies_stream) =
        children_of::<NetworkPolicy>(&client, &route_selector);
    let children = context::Children {
        config_maps,
        route_secrets,
        credential_secrets,
        deployments,
        services: services_meta,
        network_policies,
        applied: Arc::default(),
    };

    // A bound on reconciles in flight per kind: unbounded, a registry of thousands floods the API
    // server (504s, backoff, a long tail) and holds thousands of snapshots in memory at once.
    let cc = kube::runtime::controller::Config::default().concurrency(opts.concurrency);
    let sys_ctl = Controller::new(systems_api.clone(), wc.clone()).with_config(cc.clone());
    let svc_ctl = Controller::new(services_api.clone(), wc.clone()).with_config(cc.clone());
    let conn_ctl = Controller::new(connections_api.clone(), wc.clone()).with_config(cc.clone());
    let win_ctl = Controller::new(windows_api.clone(), wc.clone()).with_config(cc);
    let stores = Stores {
        systems: sys_ctl.store(),
        services: svc_ctl.store(),
        connections: conn_ctl.store(),
        windows: win_ctl.store(),
        credentials: credentials.clone(),
        secret_versions,
    };

    let reporter = Reporter {
        controller: "shep-operator".into(),
        instance: opts.instance.clone(),
    };
    let ctx = Arc::new(Context {
        client: client.clone(),
        stores: stores.clone(),
        calendar: opts.calendar.clone(),
        settings: opts.settings.clone(),
        reporter,
        resync: opts.resync,
        metrics: metrics.clone(),
        namespaces: opts.namespaces.clone(),
        children,
        events: Arc::new(tokio::sync::Semaphore::new(64)),
        seen: freshness::Seen::default(),
        certificates: std::sync::Mutex::default(),
    });

    // InformationSystem: its certificate Secret, and the services and connections it counts.
    let s1 = stores.clone();
    let sys_ctl = sys_ctl
        .watches_stream(
            secret_versions_stream,
            move |secret: PartialObjectMeta<Secret>| {
                let ns = secret.namespace().unwrap_or_default();
                let name = secret.name_any();
                valid(&s1.systems)
                    .iter()
                    .filter_map(|g| ok(g))
                    .filter(|s| {
                        ns_of(*s) == ns
                            && s.spec
                                .transport_certificate
                                .as_ref()
                                .is_some_and(|t| t.secret_ref.name == name)
                    })
                    .map(|s| obj_ref::<InformationSystem>(&(ns.clone(), s.name_any())))
                    .collect::<Vec<_>>()
            },
        )
        .watches(services_api.clone(), wc.clone(), |g| {
            ok(&g).map(|s| {
                obj_ref::<InformationSystem>(&(
                    s.namespace().unwrap_or_default(),
                    s.spec.system_ref.name.clone(),
                ))
            })
        })
        .watches(connections_api.clone(), wc.clone(), |g| {
            ok(&g).map(|c| {
                obj_ref::<InformationSystem>(&(
                    c.namespace().unwrap_or_default(),
                    c.spec.system_ref.name.clone(),
                ))
            })
        })
        .graceful_shutdown_on(terminated(stop.clone()));

    // IntegrationService: its route children; its connections, their credentials and systems; the
    // owner system; tech windows.
    let (s2, s3, s4) = (stores.clone(), stores.clone(), stores.clone());
    let svc_ctl = svc_ctl
        .owns_stream(config_maps_stream)
        .owns_stream(route_secrets_stream)
        .owns_stream(deployments_stream)
        .owns_stream(services_stream)
        .owns_stream(network_policies_stream)
        .watches(connections_api.clone(), wc.clone(), |g| {
            ok(&g).map(|c| obj_ref::<IntegrationService>(&service_of(c)))
        })
        .watches(systems_api.clone(), wc.clone(), move |g| {
            let Some(sys) = ok(&g) else { return Vec::new() };
            let ns = sys.namespace().unwrap_or_default();
            let name = sys.name_any();
            let mut out: Vec<(String, String)> = valid(&s2.services)
                .iter()
                .filter_map(|g| ok(g))
                .filter(|s| ns_of(*s) == ns && s.spec.system_ref.name == name)
                .map(|s| (ns.clone(), s.name_any()))
                .collect();
            out.extend(
                valid(&s2.connections)
                    .iter()
                    .filter_map(|g| ok(g))
                    .filter(|c| ns_of(*c) == ns && c.spec.system_ref.name == name)
                    .map(service_of),
            );
            out.sort();
            out.dedup();
            out.iter().map(obj_ref::<IntegrationService>).collect()
        })
        .watches(windows_api.clone(), wc.clone(), move |g| {
            ok(&g)
                .map(|w| {
                    window_services(w, &s3.services)
                        .iter()
                        .map(obj_ref::<IntegrationService>)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .watches_stream(credentials_stream, move |secret: Secret| {
            let ns = secret.namespace().unwrap_or_default();
            let conn = secret
                .labels()
                .get(LABEL_CONNECTION)
                .cloned()
                .unwrap_or_default();
            valid(&s4.connections)
                .iter()
                .filter_map(|g| ok(g))
                .filter(|c| {
                    ns_of(*c) == ns
                        && c.meta().name.as_deref().is_some_and(|n| {
                            n == conn
                                || (n.len() > 63 && crate::render::name_with_suffix(n, "") == conn)
                        })
                })
                .map(|c| obj_ref::<IntegrationService>(&service_of(c)))
                .collect::<Vec<_>>()
        })
        .graceful_shutdown_on(terminated(stop.clone()));

    // ServiceConnection: its credentials; its service, the systems on both sides, tech windows.
    let (s5, s6, s7) = (stores.clone(), stores.clone(), stores.clone());
    let conn_ctl = conn_ctl
        .owns_stream(credential_secrets_stream)
        .watches(services_api.clone(), wc.clone(), move |g| {
            let Some(s) = ok(&g) else { return Vec::new() };
            let k = (s.namespace().unwrap_or_default(), s.name_any());
            valid(&s5.connections)
                .iter()
                .filter_map(|g| ok(g))
                .filter(|c| refers_to(c, &k.0, &k.1))
                .map(|c| {
                    obj_ref::<ServiceConnection>(&(c.namespace().unwrap_or_default(), c.name_any()))
                })
                .collect()
        })
        .watches(systems_api.clone(), wc.clone(), move |g| {
            let Some(sys) = ok(&g) else { return Vec::new() };
            let ns = sys.namespace().unwrap_or_default();
            let name = sys.name_any();
            let owned: Vec<(String, String)> = valid(&s6.services)
                .iter()
                .filter_map(|g| ok(g))
                .filter(|s| ns_of(*s) == ns && s.spec.system_ref.name == name)
                .map(|s| (ns.clone(), s.name_any()))
                .collect();
            valid(&s6.connections)
                .iter()
                .filter_map(|g| ok(g))
                .filter(|c| {
                    (ns_of(*c) == ns && c.spec.system_ref.name == name)
                        || owned.iter().any(|(n, m)| refers_to(c, n, m))
                })
                .map(|c| {
                    obj_ref::<ServiceConnection>(&(c.namespace().unwrap_or_default(), c.name_any()))
                })
                .collect()
        })
        .watches(windows_api.clone(), wc.clone(), move |g| {
            let Some(w) = ok(&g) else { return Vec::new() };
            let targets = window_services(w, &s7.services);
            valid(&s7.connections)
                .iter()
                .filter_map(|g| ok(g))
                .filter(|c| targets.iter().any(|(n, m)| refers_to(c, n, m)))
                .map(|c| {
                    obj_ref::<ServiceConnection>(&(c.namespace().unwrap_or_default(), c.name_any()))
                })
                .collect()
        })
        .graceful_shutdown_on(terminated(stop.clone()));

    // TechWindow: the services it targets and whether they have initiators.
    let (s8, s9) = (stores.clone(), stores.clone());
    let win_ctl = win_ctl
        .watches(services_api.clone(), wc.clone(), move |g| {
            let Some(s) = ok(&g) else { return Vec::new() };
            let k = (s.namespace().unwrap_or_default(), s.name_any());
            valid(&s8.windows)
                .iter()
                .filter_map(|g| ok(g))
                .filter(|w| window_services(w, &s8.services).contains(&k))
                .map(|w| obj_ref::<TechWindow>(&(w.namespace().unwrap_or_default(), w.name_any())))
                .collect()
        })
        .watches(connections_api.clone(), wc.clone(), move |g| {
            let Some(c) = ok(&g) else { return Vec::new() };
            let k = service_of(c);
            valid(&s9.windows)
                .iter()
                .filter_map(|g| ok(g))
                .filter(|w| window_services(w, &s9.services).contains(&k))
                .map(|w| obj_ref::<TechWindow>(&(w.namespace().unwrap_or_default(), w.name_any())))
                .collect()
        })
        .graceful_shutdown_on(terminated(stop.clone()));

    fn log<T: std::fmt::Debug, E: std::fmt::Display>(
        kind: &'static str,
    ) -> impl FnMut(Result<T, E>) -> futures::future::Ready<()> {
        move |r| {
            if let Err(e) = r {
                tracing::debug!(kind, error = %e, "reconcile stream");
            }
            futures::future::ready(())
        }
    }

    tracing::info!("shep operator started");
    let systems = sys_ctl
        .run(
            |o, c| timed("InformationSystem", c.clone(), reconcile::system(o, c)),
            reconcile::error_policy,
            ctx.clone(),
        )
        .for_each(log("InformationSystem"));
    let services = svc_ctl
        .run(
            |o, c| timed("IntegrationService", c.clone(), reconcile::service(o, c)),
            reconcile::error_policy,
            ctx.clone(),
        )
        .for_each(log("IntegrationService"));
    let connections = conn_ctl
        .run(
            |o, c| timed("ServiceConnection", c.clone(), reconcile::connection(o, c)),
            reconcile::error_policy,
            ctx.clone(),
        )
        .for_each(log("ServiceConnection"));
    let windows = win_ctl
        .run(
            |o, c| timed("TechWindow", c.clone(), reconcile::window(o, c)),
            reconcile::error_policy,
            ctx.clone(),
        )
        .for_each(log("TechWindow"));
    futures::future::join4(systems, services, connections, windows).await;
}
