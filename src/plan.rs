//! One pass of decide → status → render over a whole snapshot: what `shep render` prints and what
//! the operator applies. Pure except for generating passwords that do not exist yet.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::api::{
    Contour, InformationSystemStatus, IntegrationServiceStatus, PerContour,
    ServiceConnectionStatus, TechWindowStatus,
};
use crate::calendar::Calendar;
use crate::decide::{Decisions, decide};
use crate::render::credentials::{self, Credential};
use crate::render::network_policy::{self, Peers};
use crate::render::{Child, RenderSettings, route};
use crate::route::config::{InactiveSender, SenderEntry};
use crate::snapshot::{Index, Key, Snapshot, display};
use crate::status::{self, Built};

/// Everything the operator would write for a snapshot.
#[derive(Debug)]
pub struct Plan {
    /// The decisions behind it.
    pub decisions: Decisions,
    /// InformationSystem statuses.
    pub systems: BTreeMap<Key, Built<InformationSystemStatus>>,
    /// IntegrationService statuses and children.
    pub services: BTreeMap<Key, (Built<IntegrationServiceStatus>, Vec<Child>)>,
    /// ServiceConnection statuses and children.
    pub connections: BTreeMap<Key, (Built<ServiceConnectionStatus>, Vec<Child>)>,
    /// TechWindow statuses.
    pub windows: BTreeMap<Key, Built<TechWindowStatus>>,
}

/// Whether a plan may issue new passwords.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Issue {
    /// Generate missing or rotated credentials (`shep render`, and the connection's own reconcile,
    /// which owns its credentials Secrets).
    Generate,
    /// Use only credentials that exist (a service's reconcile: the senders file follows the
    /// Secrets the connections' reconciles wrote, so both sides never disagree).
    ExistingOnly,
}

/// The credentials of every connection and contour where they are issued: existing ones kept,
/// missing or rotated ones generated when `issue` allows.
pub fn credentials(
    snap: &Snapshot,
    d: &Decisions,
    issue: Issue,
) -> BTreeMap<(Key, Contour), Credential> {
    let mut out = BTreeMap::new();
    for (k, cd) in &d.connections {
        let Some(conn) = snap.connections.get(k) else {
            continue;
        };
        for (c, issued) in &cd.issued {
            if !issued {
                continue;
            }
            let name = credentials::secret_name(&k.1, *c);
            let existing = snap.secrets.get(&(k.0.clone(), name));
            let rotation = conn.spec.credentials_rotation;
            let cred = match issue {
                Issue::Generate => credentials::resolve(&cd.sender_id, rotation, existing),
                Issue::ExistingOnly => match existing.and_then(credentials::from_secret) {
                    Some(c) if c.sender_id == cd.sender_id && c.rotation == rotation => c,
                    _ => continue,
                },
            };
            out.insert((k.clone(), *c), cred);
        }
    }
    out
}

/// Builds the plan for a snapshot at `now`, generating missing credentials.
pub fn plan(snap: &Snapshot, now: Timestamp, cal: &Calendar, settings: &RenderSettings) -> Plan {
    plan_with(snap, now, cal, settings, Issue::Generate)
}

/// Builds the plan for a snapshot at `now`.
pub fn plan_with(
    snap: &Snapshot,
    now: Timestamp,
    cal: &Calendar,
    settings: &RenderSettings,
    issue: Issue,
) -> Plan {
    let decisions = decide(snap, now, cal);
    let ix = snap.index();
    let creds = credentials(snap, &decisions, issue);

    let mut systems = BTreeMap::new();
    for (k, o) in &snap.systems {
        if let Some(d) = decisions.systems.get(k) {
            systems.insert(k.clone(), status::system_status(o, d, now));
        }
    }

    let mut services = BTreeMap::new();
    for (k, svc) in &snap.services {
        let Some(d) = decisions.services.get(k) else {
            continue;
        };
        let conns = Index::list(&ix.connections_by_service, k);
        let owner = (k.0.clone(), svc.spec.system_ref.name.clone());
        let mut children = Vec::new();
        let mut endpoints = PerContour::default();
        let mut active = PerContour::default();
        for c in Contour::ALL {
            let open: Vec<&Key> = conns
                .iter()
                .filter(|ck| {
                    decisions
                        .connections
                        .get(*ck)
                        .is_some_and(|cd| cd.open_in(c))
                })
                .collect();
            let count = Some(open.len() as u32);
            match c {
                Contour::Test => active.test = count,
                Contour::Production => active.production = count,
            }
            if !d.routes.get(&c).is_some_and(|r| r.deployed()) {
                continue;
            }
            let Some(cfg) = route::config(k, svc, c, &d.breaks) else {
                continue;
            };
            let ep = Some(route::endpoint(k, svc, c));
            match c {
                Contour::Test => endpoints.test = ep,
                Contour::Production => endpoints.production = ep,
            }
            let mut senders = Vec::new();
            let mut peers = Peers::default();
            for ck in &open {
                if let Some(cred) = creds.get(&((*ck).clone(), c)) {
                    senders.push(SenderEntry {
                        sender_id: cred.sender_id.clone(),
                        password_sha256: credentials::password_sha256(&cred.password),
                        connection: display(ck),
                    });
                }
                let Some(conn) = snap.connections.get(*ck) else {
                    continue;
                };
                if let Some(sys) = snap
                    .systems
                    .get(&(ck.0.clone(), conn.spec.system_ref.name.clone()))
                {
                    peers.cidrs.extend(
                        sys.spec
                            .networks
                            .of(c)
                            .iter()
                            .filter_map(|s| network_policy::normalize_cidr(s)),
                    );
                }
                if let Some(a) = conn.spec.contours.get(c) {
                    peers.cidrs.extend(
                        a.source_cidrs
                            .iter()
                            .filter_map(|s| network_policy::normalize_cidr(s)),
                    );
                    if let Some(sel) = &a.namespace_selector {
                        peers.namespace_selectors.push(sel.clone());
                    }
                }
            }
            let owner_cidrs = snap
                .systems
                .get(&owner)
                .map(|s| s.spec.networks.of(c).to_vec())
                .unwrap_or_default();
            children.push(Child::ConfigMap(route::config_map(k, svc, c, &cfg)));
            // The service's other connections: refused here with the reason (DESIGN §4).
            let inactive = conns
                .iter()
                .filter_map(|ck| {
                    let cd = decisions.connections.get(ck)?;
                    if cd.open_in(c) {
                        return None;
                    }
                    Some(InactiveSender {
                        sender_id: cd.sender_id.clone(),
                        connection: display(ck),
                        reason: cd
                            .access
                            .get(&c)
                            .map(|a| a.message.clone())
                            .unwrap_or_default(),
                    })
                })
                .collect();
            children.push(Child::Secret(route::senders_secret(
                k,
                svc,
                c,
                &route::senders_file(senders, inactive),
            )));
            children.push(Child::Deployment(route::deployment(k, svc, c, settings)));
            children.push(Child::Service(route::service(k, svc, c)));
            children.push(Child::NetworkPolicy(network_policy::network_policy(
                k,
                svc,
                c,
                &peers,
                &owner_cidrs,
                settings,
            )));
        }
        let built = status::service_status(svc, d, endpoints, active, now, cal);
        services.insert(k.clone(), (built, children));
    }

    let mut connections = BTreeMap::new();
    for (k, conn) in &snap.connections {
        let Some(d) = decisions.connections.get(k) else {
            continue;
        };
        let mut children = Vec::new();
        let mut names = PerContour::default();
        if let Some(sk) = &d.service
            && let Some(svc) = snap.services.get(sk)
        {
            for c in Contour::ALL {
                let Some(cred) = creds.get(&(k.clone(), c)) else {
                    continue;
                };
                let ep = route::endpoint(sk, svc, c);
                children.push(Child::Secret(credentials::secret(
                    conn, k, &sk.1, c, cred, &ep,
                )));
                let n = Some(credentials::secret_name(&k.1, c));
                match c {
                    Contour::Test => names.test = n,
                    Contour::Production => names.production = n,
                }
            }
        }
        let built = status::connection_status(conn, d, names, now, cal);
        connections.insert(k.clone(), (built, children));
    }

    let mut windows = BTreeMap::new();
    for (k, w) in &snap.windows {
        if let Some(d) = decisions.windows.get(k) {
            windows.insert(k.clone(), status::window_status(w, d, now));
        }
    }

    Plan {
        decisions,
        systems,
        services,
        connections,
        windows,
    }
}
