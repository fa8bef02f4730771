//! Leader election on a `coordination.k8s.io/v1` Lease (DESIGN §5): of the replicas, one runs the
//! controllers; the others wait and take over when the leader's lease is not renewed in time. A
//! leader that cannot renew stops leading (the process exits) rather than risk two leaders; on a
//! graceful shutdown it releases the lease so that another replica takes over at once.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, ObjectMeta, PostParams};
use kube::{Client, ResourceExt};

/// Lease settings.
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Name of the Lease.
    pub name: String,
    /// This replica's identity.
    pub identity: String,
    /// How long a lease lasts without renewal.
    pub duration: Duration,
    /// How often the leader renews.
    pub renew_every: Duration,
}

/// What one attempt found.
#[derive(Debug, PartialEq, Eq)]
pub enum Attempt {
    /// This replica holds the lease now.
    Leading,
    /// Another replica holds a live lease.
    Standby(String),
}

fn micro(t: Timestamp) -> MicroTime {
    MicroTime(t)
}

/// Whether a lease held by someone else has expired at `now`.
pub fn expired(spec: &LeaseSpec, now: Timestamp) -> bool {
    let Some(renew) = spec.renew_time.as_ref().or(spec.acquire_time.as_ref()) else {
        return true;
    };
    let secs = i64::from(spec.lease_duration_seconds.unwrap_or(15));
    renew
        .0
        .checked_add(SignedDuration::from_secs(secs))
        .map(|end| end <= now)
        .unwrap_or(true)
}

/// One attempt to acquire or renew the lease.
pub async fn try_acquire(client: &Client, cfg: &LeaseConfig) -> Result<Attempt, kube::Error> {
    let api: Api<Lease> = Api::namespaced(client.clone(), &cfg.namespace);
    let now = Timestamp::now();
    let secs = i32::try_from(cfg.duration.as_secs()).unwrap_or(15);
    match api.get_opt(&cfg.name).await? {
        None => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(cfg.name.clone()),
                    namespace: Some(cfg.namespace.clone()),
                    ..Default::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(cfg.identity.clone()),
                    lease_duration_seconds: Some(secs),
                    acquire_time: Some(micro(now)),
                    renew_time: Some(micro(now)),
                    lease_transitions: Some(0),
                    ..Default::default()
                }),
            };
            match api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(Attempt::Leading),
                // Someone else created it first.
                Err(kube::Error::Api(e)) if e.code == 409 => {
                    Ok(Attempt::Standby(String::from("?")))
                }
                Err(e) => Err(e),
            }
        }
        Some(mut lease) => {
            let spec = lease.spec.clone().unwrap_or_default();
            let holder = spec.holder_identity.clone().unwrap_or_default();
            let mine = holder == cfg.identity;
            if !mine && !holder.is_empty() && !expired(&spec, now) {
                return Ok(Attempt::Standby(holder));
            }
            let transitions = spec.lease_transitions.unwrap_or(0) + i32::from(!mine);
            lease.spec = Some(LeaseSpec {
                holder_identity: Some(cfg.identity.clone()),
                lease_duration_seconds: Some(secs),
                acquire_time: if mine {
                    spec.acquire_time
                } else {
                    Some(micro(now))
                },
                renew_time: Some(micro(now)),
                lease_transitions: Some(transitions),
                ..Default::default()
            });
            // Replace carries the resourceVersion read above: a concurrent taker makes this fail
            // with 409, and then we are not the leader.
            match api
                .replace(&lease.name_any(), &PostParams::default(), &lease)
                .await
            {
                Ok(_) => Ok(Attempt::Leading),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(Attempt::Standby(holder)),
                Err(e) => Err(e),
            }
        }
    }
}

/// Waits until this replica leads.
pub async fn acquire(client: &Client, cfg: &LeaseConfig) {
    let mut last_holder = String::new();
    loop {
        match try_acquire(client, cfg).await {
            Ok(Attempt::Leading) => {
                tracing::info!(lease = %cfg.name, identity = %cfg.identity, "became leader");
                return;
            }
            Ok(Attempt::Standby(h)) => {
                if h != last_holder {
                    tracing::info!(lease = %cfg.name, leader = %h, "standing by");
                    last_holder = h;
                }
            }
            Err(e) => tracing::warn!(error = %e, "leader election attempt failed"),
        }
        tokio::time::sleep(cfg.renew_every).await;
    }
}

/// Renews the lease until renewal has failed for longer than the lease lasts; then returns (the
/// caller stops leading).
pub async fn keep(client: &Client, cfg: &LeaseConfig) {
    let mut last_ok = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(cfg.renew_every).await;
        match try_acquire(client, cfg).await {
            Ok(Attempt::Leading) => last_ok = tokio::time::Instant::now(),
            Ok(Attempt::Standby(h)) => {
                tracing::error!(leader = %h, "lost the lease to another replica");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not renew the lease");
                if last_ok.elapsed() >= cfg.duration {
                    tracing::error!("lease not renewed within its duration; stepping down");
                    return;
                }
            }
        }
    }
}

/// Gives the lease up, so that a standby replica takes over without waiting for it to expire.
pub async fn release(client: &Client, cfg: &LeaseConfig) {
    let api: Api<Lease> = Api::namespaced(client.clone(), &cfg.namespace);
    if let Ok(Some(mut lease)) = api.get_opt(&cfg.name).await
        && let Some(spec) = lease.spec.as_mut()
        && spec.holder_identity.as_deref() == Some(cfg.identity.as_str())
    {
        spec.holder_identity = None;
        spec.renew_time = None;
        let _ = api.replace(&cfg.name, &PostParams::default(), &lease).await;
        tracing::info!("released the lease");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_expires_after_its_duration_from_the_last_renewal() {
        let t: Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
        let spec = LeaseSpec {
            renew_time: Some(MicroTime(t)),
            lease_duration_seconds: Some(15),
            ..Default::default()
        };
        assert!(!expired(&spec, t + SignedDuration::from_secs(14)));
        assert!(expired(&spec, t + SignedDuration::from_secs(15)));
        assert!(expired(&LeaseSpec::default(), t));
    }
}
