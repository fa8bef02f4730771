//! One reconcile per kind: dereference (read references) → decide → render (pure, through
//! [`plan_with`]) → apply (server-side apply and orphan cleanup) → status (server-side apply of the
//! status and the journal, each new entry also an Event and a log line). Requeues at the next moment a
//! decision can change.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::core::DeserializeGuard;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::apply::{apply_all, prune};
use super::context::{Ctx, Error};
use super::freshness::ObjectKey;
use crate::api::{
    FIELD_MANAGER, InformationSystem, IntegrationService, JournalEntry, ServiceConnection,
    TechWindow,
};
use crate::plan::{Issue, plan_with};
use crate::render::{LABEL_CONNECTION, LABEL_MANAGED_BY, LABEL_NAME, LABEL_SERVICE};
use crate::snapshot::key_of;

/// Kinds of the route children of a service.
const ROUTE_KINDS: &[&str] = &[
    "ConfigMap",
    "Secret",
    "Deployment",
    "Service",
    "NetworkPolicy",
];

fn requeue(next: Option<Timestamp>, now: Timestamp, resync: Duration) -> Action {
    let wait = next
        .and_then(|t| {
            let d = t.as_nanosecond() - now.as_nanosecond();
            (d > 0).then(|| Duration::from_nanos(u64::try_from(d).unwrap_or(u64::MAX)))
        })
        .map(|d| d + Duration::from_millis(500))
        .unwrap_or(resync)
        .min(resync);
    Action::requeue(wait)
}

/// Writes the status with server-side apply, unless it is unchanged, and records the
/// resourceVersion the object is at afterwards ([`Seen`](super::freshness::Seen)).
async fn write_status<K, S>(
    ctx: &Ctx,
    api: &Api<K>,
    obj: &K,
    current: Option<&S>,
    status: &S,
) -> Result<(), Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize + PartialEq,
{
    let key = seen_key(obj);
    if current == Some(status) {
        ctx.seen.record(key, obj.meta().resource_version.as_deref());
        return Ok(());
    }
    let body = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    match api
        .patch_status(
            &obj.name_any(),
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&body),
        )
        .await
    {
        Ok(written) => {
            ctx.seen
                .record(key, written.meta().resource_version.as_deref());
            Ok(())
        }
        // Deleted while it was being reconciled: nothing left to write.
        Err(kube::Error::Api(e)) if e.code == 404 => {
            ctx.seen.forget(&key);
            Ok(())
        }
        Err(source) => {
            ctx.seen.forget(&key);
            Err(Error::Status {
                object: format!("{} {}/{}", key.0, key.1, key.2),
                source,
            })
        }
    }
}

/// The key under which [`Seen`](super::freshness::Seen) tracks an object.
fn seen_key<K: Resource<DynamicType = ()>>(obj: &K) -> ObjectKey {
    (
        K::kind(&()),
        obj.meta().namespace.clone().unwrap_or_default(),
        obj.meta().name.clone().unwrap_or_default(),
    )
}

fn warning(e: &JournalEntry) -> bool {
    e.message.starts_with("Suspended=True")
        || e.message.starts_with("DeadlineExceeded=True")
        || e.message.starts_with("Stalled=True")
        || e.message.starts_with("Ready=False")
}

/// Publishes new journal entries, so that the chain survives outside the object (DESIGN §2): each one a structured log line now, in order, and an Event
/// published in the background (in order, per object), so that a reconcile does not wait for one API
/// request per entry. At most [`Context::events`] objects' Events are in flight; beyond that the
/// reconcile waits (backpressure). The journal in status is the record; a lost Event is reported.
async fn publish<K: Resource<DynamicType = ()>>(ctx: &Ctx, obj: &K, entries: &[JournalEntry]) {
    if entries.is_empty() {
        return;
    }
    let reference = obj.object_ref(&());
    let mut events = Vec::with_capacity(entries.len());
    for e in entries {
        tracing::info!(
            target: "journal",
            kind = %K::kind(&()),
            namespace = %obj.meta().namespace.clone().unwrap_or_default(),
            name = %obj.meta().name.clone().unwrap_or_default(),
            seq = e.seq,
            hash = %e.hash,
            entry_type = %e.type_,
            reason = %e.reason,
            message = %e.message,
            "journal entry"
        );
        events.push(Event {
            type_: if warning(e) {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: e.reason.chars().take(128).collect(),
            note: Some(
                format!("#{} {}: {}", e.seq, e.type_, e.message)
                    .chars()
                    .take(1000)
                    .collect(),
            ),
            action: e.type_.chars().take(128).collect(),
            secondary: None,
        });
    }
    let Ok(permit) = ctx.events.clone().acquire_owned().await else {
        return;
    };
    let recorder = Recorder::new(ctx.client.clone(), ctx.reporter.clone());
    tokio::spawn(async move {
        for ev in events {
            if let Err(err) = recorder.publish(&ev, &reference).await {
                tracing::warn!(error = %err, "could not publish journal entry as an Event");
            }
        }
        drop(permit);
    });
}

/// Reports a malformed object as a Warning Event and waits for it to change: one bad object never
/// blocks the others, and never loops.
async fn malformed<K: Resource<DynamicType = ()>>(
    ctx: &Ctx,
    invalid: &kube::core::error_boundary::InvalidObject,
) -> Result<Action, Error> {
    let name = invalid.metadata.name.clone().unwrap_or_default();
    let ns = invalid.metadata.namespace.clone().unwrap_or_default();
    if !ctx.reconciles(&ns) {
        return Ok(Action::await_change());
    }
    tracing::warn!(kind = %K::kind(&()), namespace = %ns, name = %name, error = %invalid.error, "malformed object");
    let reference = k8s_openapi::api::core::v1::ObjectReference {
        api_version: Some(K::api_version(&()).to_string()),
        kind: Some(K::kind(&()).to_string()),
        name: Some(name),
        namespace: Some(ns),
        uid: invalid.metadata.uid.clone(),
        ..Default::default()
    };
    let recorder = Recorder::new(ctx.client.clone(), ctx.reporter.clone());
    let _ = recorder
        .publish(
            &Event {
                type_: EventType::Warning,
                reason: "Malformed".into(),
                note: Some(
                    format!("the operator cannot read this object: {}", invalid.error)
                        .chars()
                        .take(1000)
                        .collect(),
                ),
                action: "Reconcile".into(),
                secondary: None,
            },
            &reference,
        )
        .await;
    Ok(Action::await_change())
}

/// The newest version of the object: the store's copy when it is at the resourceVersion this
/// process last wrote or read (the journal must continue from the newest head, and the store may
/// lag behind the last status write), else read from the API.
async fn newest<K>(ctx: &Ctx, api: &Api<K>, stored: &K) -> Result<Option<K>, Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let key = seen_key(stored);
    if ctx
        .seen
        .is_newest(&key, stored.meta().resource_version.as_deref())
    {
        ctx.metrics.read("object", "cache");
        return Ok(Some(stored.clone()));
    }
    ctx.metrics.read("object", "api");
    let got = api
        .get_opt(&key.2)
        .await
        .map_err(|source| Error::Dereference {
            object: format!("{} {}/{}", key.0, key.1, key.2),
            source,
        })?;
    match &got {
        Some(o) => ctx.seen.record(key, o.meta().resource_version.as_deref()),
        None => ctx.seen.forget(&key),
    }
    Ok(got)
}

/// Reconciles an InformationSystem.
pub async fn system(
    obj: Arc<DeserializeGuard<InformationSystem>>,
    ctx: Ctx,
) -> Result<Action, Error> {
    let o = match &obj.0 {
        Ok(o) => o,
        Err(invalid) => return malformed::<InformationSystem>(&ctx, invalid).await,
    };
    let key = key_of(o);
    if !ctx.reconciles(&key.0) {
        return Ok(Action::await_change());
    }
    let api: Api<InformationSystem> = Api::namespaced(ctx.client.clone(), &key.0);
    let Some(o) = newest(&ctx, &api, o).await? else {
        return Ok(Action::await_change());
    };
    let mut snap = ctx.system_snapshot(&key).await?;
    snap.add_system(o.clone());
    let now = Timestamp::now();
    let p = plan_with(
        &snap,
        now,
        &ctx.calendar,
        &ctx.settings,
        Issue::ExistingOnly,
    );
    let (Some(built), Some(d)) = (p.systems.get(&key), p.decisions.systems.get(&key)) else {
        return Ok(Action::requeue(ctx.resync));
    };
    write_status(&ctx, &api, &o, o.status.as_ref(), &built.status).await?;
    publish(&ctx, &o, &built.entries).await;
    ctx.metrics.set_state(
        "InformationSystem",
        &key,
        Some((d.suspension.is_some(), false)),
    );
    ctx.metrics
        .journaled("InformationSystem", built.entries.len());
    Ok(requeue(d.assessment.next_change, now, ctx.resync))
}

/// Reconciles an IntegrationService: its route children per contour, and its status.
pub async fn service(
    obj: Arc<DeserializeGuard<IntegrationService>>,
    ctx: Ctx,
) -> Result<Action, Error> {
    let o = match &obj.0 {
        Ok(o) => o,
        Err(invalid) => return malformed::<IntegrationService>(&ctx, invalid).await,
    };
    let key = key_of(o);
    if !ctx.reconciles(&key.0) {
        return Ok(Action::await_change());
    }
    let api: Api<IntegrationService> = Api::namespaced(ctx.client.clone(), &key.0);
    let Some(o) = newest(&ctx, &api, o).await? else {
        return Ok(Action::await_change());
    };
    let mut snap = ctx.service_snapshot(&o).await?;
    snap.add_service(o.clone());
    let now = Timestamp::now();
    let p = plan_with(
        &snap,
        now,
        &ctx.calendar,
        &ctx.settings,
        Issue::ExistingOnly,
    );
    let (Some((built, children)), Some(d)) = (p.services.get(&key), p.decisions.services.get(&key))
    else {
        return Ok(Action::requeue(ctx.resync));
    };
    apply_all(&ctx, children).await?;
    let selector = [
        (LABEL_MANAGED_BY, FIELD_MANAGER.to_string()),
        (LABEL_NAME, crate::render::route::COMPONENT.to_string()),
        (LABEL_SERVICE, crate::render::name_with_suffix(&key.1, "")),
    ];
    prune(&ctx, &key.0, &selector, children, ROUTE_KINDS).await?;
    write_status(&ctx, &api, &o, o.status.as_ref(), &built.status).await?;
    publish(&ctx, &o, &built.entries).await;
    ctx.metrics.set_state(
        "IntegrationService",
        &key,
        Some((d.suspension.is_some(), d.deadline_exceeded)),
    );
    ctx.metrics
        .journaled("IntegrationService", built.entries.len());
    Ok(requeue(d.next_change, now, ctx.resync))
}

/// Reconciles a ServiceConnection: its credentials Secrets per contour, and its status.
pub async fn connection(
    obj: Arc<DeserializeGuard<ServiceConnection>>,
    ctx: Ctx,
) -> Result<Action, Error> {
    let o = match &obj.0 {
        Ok(o) => o,
        Err(invalid) => return malformed::<ServiceConnection>(&ctx, invalid).await,
    };
    let key = key_of(o);
    if !ctx.reconciles(&key.0) {
        return Ok(Action::await_change());
    }
    let api: Api<ServiceConnection> = Api::namespaced(ctx.client.clone(), &key.0);
    let Some(o) = newest(&ctx, &api, o).await? else {
        return Ok(Action::await_change());
    };
    let mut snap = ctx.connection_snapshot(&o).await?;
    snap.add_connection(o.clone());
    let now = Timestamp::now();
    let p = plan_with(&snap, now, &ctx.calendar, &ctx.settings, Issue::Generate);
    let (Some((built, children)), Some(d)) =
        (p.connections.get(&key), p.decisions.connections.get(&key))
    else {
        return Ok(Action::requeue(ctx.resync));
    };
    apply_all(&ctx, children).await?;
    let selector = [
        (LABEL_MANAGED_BY, FIELD_MANAGER.to_string()),
        (
            LABEL_NAME,
            crate::render::credentials::COMPONENT.to_string(),
        ),
        (
            LABEL_CONNECTION,
            crate::render::name_with_suffix(&key.1, ""),
        ),
    ];
    prune(&ctx, &key.0, &selector, children, &["Secret"]).await?;
    write_status(&ctx, &api, &o, o.status.as_ref(), &built.status).await?;
    publish(&ctx, &o, &built.entries).await;
    ctx.metrics.set_state(
        "ServiceConnection",
        &key,
        Some((d.suspension.is_some(), d.deadline_exceeded)),
    );
    ctx.metrics
        .journaled("ServiceConnection", built.entries.len());
    Ok(requeue(d.next_change, now, ctx.resync))
}

/// Reconciles a TechWindow.
pub async fn window(obj: Arc<DeserializeGuard<TechWindow>>, ctx: Ctx) -> Result<Action, Error> {
    let o = match &obj.0 {
        Ok(o) => o,
        Err(invalid) => return malformed::<TechWindow>(&ctx, invalid).await,
    };
    let key = key_of(o);
    if !ctx.reconciles(&key.0) {
        return Ok(Action::await_change());
    }
    let api: Api<TechWindow> = Api::namespaced(ctx.client.clone(), &key.0);
    let Some(o) = newest(&ctx, &api, o).await? else {
        return Ok(Action::await_change());
    };
    let snap = ctx.window_snapshot(&o).await?;
    let now = Timestamp::now();
    let p = plan_with(
        &snap,
        now,
        &ctx.calendar,
        &ctx.settings,
        Issue::ExistingOnly,
    );
    let (Some(built), Some(d)) = (p.windows.get(&key), p.decisions.windows.get(&key)) else {
        return Ok(Action::requeue(ctx.resync));
    };
    write_status(&ctx, &api, &o, o.status.as_ref(), &built.status).await?;
    publish(&ctx, &o, &built.entries).await;
    ctx.metrics.set_window(&key, Some(d.assessment.active));
    ctx.metrics.journaled("TechWindow", built.entries.len());
    Ok(requeue(d.assessment.next_change, now, ctx.resync))
}

/// On error: log it and try again soon; the error's phase says where it happened.
pub fn error_policy<K>(_obj: Arc<K>, err: &Error, _ctx: Ctx) -> Action {
    tracing::warn!(phase = err.phase(), error = %err, "reconcile failed; retrying");
    Action::requeue(Duration::from_secs(5))
}
