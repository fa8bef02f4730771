//! The status phase (pure): from a decision and the object's previous status, the new status with
//! its conditions, and the journal entries for what changed (DESIGN §2: conditions say what is true
//! now; the journal says what happened and when).

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;

use crate::api::{
    CommonStatus, Contour, InformationSystem, InformationSystemStatus, IntegrationService,
    IntegrationServiceStatus, JournalEntry, PerContour, ServiceConnection, ServiceConnectionStatus,
    TechWindow, TechWindowStatus, cond,
};
use crate::calendar::{Calendar, show};
use crate::conditions::{Cond, merge};
use crate::decide::{
    Break, ConnectionDecision, RouteState, ServiceDecision, SystemDecision, WindowDecision,
};
use crate::journal::{self, Record};
use crate::lifecycle::{Accepted, Outcome, deadlines};
use crate::policy::Check;

/// Condition types whose changes are journaled.
const JOURNALED: &[&str] = &[
    cond::READY,
    cond::STALLED,
    cond::SUSPENDED,
    cond::DEADLINE_EXCEEDED,
    cond::IN_MAINTENANCE,
    cond::CONTRACT_VALID,
    cond::SECURITY_PROTOCOL_VALID,
    cond::CERTIFICATE_VALID,
    cond::ACCEPTED,
    cond::PUBLISHED,
    cond::APPROVED,
    cond::TEST_ACCESS,
    cond::PRODUCTION_ACCESS,
    cond::CONSENT_SERVICE,
    cond::TEST_ROUTE_READY,
    cond::PRODUCTION_ROUTE_READY,
    cond::ACTIVE,
    cond::AGREED,
    cond::LEAD_TIME_MET,
];

/// A built status and the journal entries it added.
#[derive(Clone, Debug)]
pub struct Built<S> {
    /// The new status.
    pub status: S,
    /// Entries appended to the journal by this reconcile (each also an Event and a log line).
    pub entries: Vec<JournalEntry>,
}

/// The chain root of an object: its uid, or `kind/namespace/name` before it has one (`shep render`
/// of manifests that were never applied).
pub fn chain_root<K: ResourceExt>(kind: &str, o: &K) -> String {
    o.uid().unwrap_or_else(|| {
        format!(
            "{kind}/{}/{}",
            o.namespace().unwrap_or_else(|| "default".into()),
            o.name_any()
        )
    })
}

/// The object a status is built for: its previous status, its chain root and generation.
struct Subject<'a> {
    prior: Option<&'a CommonStatus>,
    prior_phase: Option<&'a str>,
    root: String,
    generation: Option<i64>,
}

/// The decision events accepted from spec (none for kinds without events).
struct Events<'a> {
    accepted: &'a [Accepted],
    total: usize,
    field: &'static str,
}

/// No decision events.
const NO_EVENTS: Events<'static> = Events {
    accepted: &[],
    total: 0,
    field: "spec",
};

/// Builds conditions and journal for a common status.
fn finish(
    subject: Subject<'_>,
    phase: &str,
    desired: Vec<Cond>,
    events: Events<'_>,
    now: Timestamp,
) -> (CommonStatus, Vec<JournalEntry>) {
    let Subject {
        prior,
        prior_phase,
        root,
        generation,
    } = subject;
    let Events {
        accepted,
        total: events_total,
        field,
    } = events;
    let mut common = prior.cloned().unwrap_or_default();
    let prior_conditions: Vec<Condition> = common.conditions.clone();
    let mut records = Vec::new();

    let journaled = common.events_journaled.unwrap_or(0) as usize;
    if events_total < journaled {
        records.push(Record::new(
            "Event",
            "EventsRewritten",
            format!("{field} now has {events_total} event(s) but {journaled} were journaled: recorded decisions were removed or rewritten"),
        ));
    }
    for a in accepted.iter().filter(|a| a.index >= journaled) {
        records.push(Record::new(
            "Event",
            a.event.clone(),
            format!(
                "{field}[{}]: {} by {} at {} ({} -> {})",
                a.index,
                a.event,
                a.by,
                show(a.at),
                a.from,
                a.to
            ),
        ));
    }
    if prior_phase != Some(phase) {
        records.push(Record::new(
            "Phase",
            phase,
            format!("phase {} -> {phase}", prior_phase.unwrap_or("(none)")),
        ));
    }
    for d in &desired {
        if !JOURNALED.contains(&d.type_) {
            continue;
        }
        let before = prior_conditions.iter().find(|c| c.type_ == d.type_);
        let changed = match before {
            // On first sight, only what is not in its normal state is worth an entry.
            None => d.type_ == cond::READY || d.status != normal_status(d.type_),
            Some(c) => {
                c.status != d.status || c.reason != crate::conditions::sanitize_reason(&d.reason)
            }
        };
        if changed {
            records.push(Record::new(
                d.type_,
                crate::conditions::sanitize_reason(&d.reason),
                format!("{}={}: {}", d.type_, d.status, d.message),
            ));
        }
    }
    common.conditions = merge(&prior_conditions, desired, generation, now);
    common.observed_generation = generation;
    let entries = journal::append(&mut common, &root, now, records);
    common.events_journaled = (events_total > 0 || journaled > 0).then_some(accepted.len() as u32);
    (common, entries)
}

/// The status a condition has when nothing is wrong.
fn normal_status(t: &str) -> &'static str {
    match t {
        cond::STALLED
        | cond::SUSPENDED
        | cond::DEADLINE_EXCEEDED
        | cond::IN_MAINTENANCE
        | cond::RECONCILING => "False",
        _ => "True",
    }
}

fn kstatus(ready: Cond, stalled: Option<(String, String)>) -> Vec<Cond> {
    let stalled_cond = match stalled {
        Some((r, m)) => Cond::yes(cond::STALLED, r, m),
        None => Cond::no(cond::STALLED, "Progressing", "no problem blocks progress"),
    };
    vec![
        ready,
        Cond::no(
            cond::RECONCILING,
            "Reconciled",
            "the operator applied the desired state",
        ),
        stalled_cond,
    ]
}

fn suspended_cond(s: Option<&crate::api::Suspension>) -> Cond {
    match s {
        Some(s) => Cond::yes(cond::SUSPENDED, s.reason.clone(), s.message.clone()),
        None => Cond::no(
            cond::SUSPENDED,
            "NotSuspended",
            "no cause of suspension is in force",
        ),
    }
}

fn deadline_cond(
    step: Option<&crate::api::NextStep>,
    exceeded: bool,
    now: Timestamp,
    cal: &Calendar,
) -> Cond {
    match step {
        Some(s) if exceeded => Cond::yes(
            cond::DEADLINE_EXCEEDED,
            "Overdue",
            deadlines::exceeded_message(s, now, cal),
        ),
        Some(s) => match s.due {
            Some(d) => Cond::no(
                cond::DEADLINE_EXCEEDED,
                "WithinDeadline",
                format!("{:?} must {} by {d} ({})", s.party, s.action, s.rule),
            ),
            None => Cond::no(
                cond::DEADLINE_EXCEEDED,
                "NoDeadline",
                format!(
                    "{:?} must {}; the rules set no deadline ({})",
                    s.party, s.action, s.rule
                ),
            ),
        },
        None => Cond::no(
            cond::DEADLINE_EXCEEDED,
            "NoPendingStep",
            "no step is pending",
        ),
    }
}

fn maintenance_cond(m: &[(Contour, Break)]) -> Cond {
    if m.is_empty() {
        return Cond::no(
            cond::IN_MAINTENANCE,
            "NoActiveWindow",
            "no technological break is in progress",
        );
    }
    let parts: Vec<String> = m
        .iter()
        .map(|(c, b)| {
            let until = b.end.map(show).unwrap_or_else(|| "further notice".into());
            format!("{c}: {} {} until {until} ({})", b.kind, b.source, b.reason)
        })
        .collect();
    Cond::yes(
        cond::IN_MAINTENANCE,
        "TechWindowActive",
        format!(
            "technological break in progress (p.48): {}",
            parts.join("; ")
        ),
    )
}

fn stall_of(outcome: &Outcome) -> Option<(String, String)> {
    outcome
        .error
        .as_ref()
        .map(|e| (e.reason.to_string(), e.message.clone()))
}

fn prior_phase(p: Option<&Option<String>>) -> Option<&str> {
    p.and_then(|p| p.as_deref())
}

/// The status of an InformationSystem.
pub fn system_status(
    o: &InformationSystem,
    d: &SystemDecision,
    now: Timestamp,
) -> Built<InformationSystemStatus> {
    let a = &d.assessment;
    let suspended = d.suspension.is_some();
    let phase = if suspended { "Suspended" } else { "Active" };
    let failing: Vec<&str> = [
        (cond::CONTRACT_VALID, &a.contract),
        (cond::SECURITY_PROTOCOL_VALID, &a.protocol),
        (cond::CERTIFICATE_VALID, &a.certificate),
    ]
    .iter()
    .filter(|(_, c)| !c.ok())
    .map(|(t, _)| *t)
    .collect();
    let ready = if suspended {
        Cond::no(
            cond::READY,
            "Suspended",
            "every interaction of the system is suspended",
        )
    } else if failing.is_empty() {
        Cond::yes(
            cond::READY,
            "Ready",
            "contract, IS-security protocol and transport certificate are in order",
        )
    } else {
        Cond::no(
            cond::READY,
            "NotInOrder",
            format!("not in order: {}", failing.join(", ")),
        )
    };
    let mut desired = kstatus(ready, None);
    desired.extend([
        Cond::from_check(cond::CONTRACT_VALID, &a.contract),
        Cond::from_check(cond::SECURITY_PROTOCOL_VALID, &a.protocol),
        Cond::from_check(cond::CERTIFICATE_VALID, &a.certificate),
        suspended_cond(d.suspension.as_ref()),
    ]);
    let prior = o.status.as_ref();
    let (common, entries) = finish(
        Subject {
            prior: prior.map(|s| &s.common),
            prior_phase: prior_phase(prior.map(|s| &s.phase)),
            root: chain_root("InformationSystem", o),
            generation: o.metadata.generation,
        },
        phase,
        desired,
        NO_EVENTS,
        now,
    );
    Built {
        status: InformationSystemStatus {
            phase: Some(phase.into()),
            suspension: d.suspension.clone(),
            certificate_not_after: d.certificate_not_after,
            services: Some(d.services),
            connections: Some(d.connections),
            common,
        },
        entries,
    }
}

fn route_cond(t: &'static str, r: Option<&RouteState>) -> Cond {
    match r {
        Some(RouteState::Deployed) => Cond::yes(
            t,
            "Deployed",
            "the route workload, its Service, NetworkPolicy, config and senders are applied",
        ),
        Some(RouteState::Absent(reason, m)) => Cond::no(t, *reason, m.clone()),
        None => Cond::no(t, "NotDeployed", "no route"),
    }
}

/// The status of an IntegrationService. `endpoints` and `active` are per contour.
pub fn service_status(
    o: &IntegrationService,
    d: &ServiceDecision,
    endpoints: PerContour<String>,
    active: PerContour<u32>,
    now: Timestamp,
    cal: &Calendar,
) -> Built<IntegrationServiceStatus> {
    let lifecycle_phase = d.outcome.stage.phase;
    let phase = if d.decommissioned {
        "Decommissioned"
    } else if d.suspension.is_some() && lifecycle_phase != "Refused" {
        "Suspended"
    } else {
        lifecycle_phase
    };
    let published = d.outcome.stage.access == crate::lifecycle::Access::TestAndProduction;
    let stalled = stall_of(&d.outcome).or_else(|| {
        (!d.accepted.ok()).then(|| (d.accepted.reason.clone(), d.accepted.message.clone()))
    });
    let routes_ok = d
        .routes
        .values()
        .all(|r| r.deployed() || matches!(r, RouteState::Absent("NoBackend", _)));
    let ready = if let Some((_, m)) = &stalled {
        Cond::no(cond::READY, "Stalled", m.clone())
    } else if d.decommissioned {
        Cond::no(
            cond::READY,
            "Decommissioned",
            "the service was switched off for good (p.62)",
        )
    } else if let Some(s) = &d.suspension {
        Cond::no(cond::READY, "Suspended", s.message.clone())
    } else if published && routes_ok {
        Cond::yes(
            cond::READY,
            "Published",
            "published in the registry; routes deployed",
        )
    } else {
        let m = d
            .next_step
            .as_ref()
            .map(|s| format!("waiting for {:?} to {} ({})", s.party, s.action, s.rule))
            .unwrap_or_else(|| "the publication has ended".into());
        Cond::no(cond::READY, lifecycle_phase, m)
    };
    let mut desired = kstatus(ready, stalled);
    desired.extend([
        Cond::from_check(cond::ACCEPTED, &d.accepted),
        Cond::when(
            cond::PUBLISHED,
            published,
            if published {
                "Published"
            } else {
                "NotPublished"
            },
            if published {
                "the passport is published in the registry (p.27, p.30)"
            } else {
                "the passport is not published yet"
            },
        ),
        route_cond(cond::TEST_ROUTE_READY, d.routes.get(&Contour::Test)),
        route_cond(
            cond::PRODUCTION_ROUTE_READY,
            d.routes.get(&Contour::Production),
        ),
        maintenance_cond(&d.in_maintenance),
        suspended_cond(d.suspension.as_ref()),
        deadline_cond(d.next_step.as_ref(), d.deadline_exceeded, now, cal),
    ]);
    if let Some(n) = &d.decommission_notice {
        desired.push(Cond::from_check("DecommissionNotice", n));
    }
    let prior = o.status.as_ref();
    let (common, entries) = finish(
        Subject {
            prior: prior.map(|s| &s.common),
            prior_phase: prior_phase(prior.map(|s| &s.phase)),
            root: chain_root("IntegrationService", o),
            generation: o.metadata.generation,
        },
        phase,
        desired,
        Events {
            accepted: &d.outcome.accepted,
            total: o.spec.publication.events.len(),
            field: "spec.publication.events",
        },
        now,
    );
    let any_endpoint = endpoints.test.is_some() || endpoints.production.is_some();
    Built {
        status: IntegrationServiceStatus {
            phase: Some(phase.into()),
            lifecycle_phase: Some(lifecycle_phase.into()),
            next_step: d.next_step.clone(),
            testing_until: d.testing_until,
            suspension: d.suspension.clone(),
            endpoints: any_endpoint.then_some(endpoints),
            active_connections: Some(active),
            availability: d.availability.clone(),
            common,
        },
        entries,
    }
}

fn access_cond(t: &'static str, c: Option<&Check>) -> Cond {
    match c {
        Some(c) => Cond::from_check(t, c),
        None => Cond::no(t, "NotGranted", "no access"),
    }
}

/// The status of a ServiceConnection. `credentials` names the issued Secrets per contour.
pub fn connection_status(
    o: &ServiceConnection,
    d: &ConnectionDecision,
    credentials: PerContour<String>,
    now: Timestamp,
    cal: &Calendar,
) -> Built<ServiceConnectionStatus> {
    let lifecycle_phase = d.outcome.stage.phase;
    let phase = if d.suspension.is_some() && lifecycle_phase != "Refused" {
        "Suspended"
    } else {
        lifecycle_phase
    };
    let stalled = d
        .reference_error
        .as_ref()
        .map(|(r, m)| (r.to_string(), m.clone()))
        .or_else(|| stall_of(&d.outcome));
    let active = lifecycle_phase == "Active";
    let ready = if let Some((_, m)) = &stalled {
        Cond::no(cond::READY, "Stalled", m.clone())
    } else if let Some(s) = &d.suspension {
        Cond::no(cond::READY, "Suspended", s.message.clone())
    } else if active && d.open_in(Contour::Production) {
        Cond::yes(
            cond::READY,
            "Active",
            "production access granted; credentials issued",
        )
    } else {
        let m = d
            .next_step
            .as_ref()
            .map(|s| format!("waiting for {:?} to {} ({})", s.party, s.action, s.rule))
            .unwrap_or_else(|| "the application has ended".into());
        Cond::no(cond::READY, lifecycle_phase, m)
    };
    let approved_stage = !matches!(
        d.outcome.stage.id,
        "Draft" | "OwnerReview" | "OperatorCheck" | "InitiatorRework" | "Refused"
    );
    let approved = match d.outcome.stage.id {
        "Refused" => Cond::no(cond::APPROVED, "Refused", "the application was refused"),
        _ if approved_stage => Cond::yes(
            cond::APPROVED,
            "Approved",
            if d.state_to_state {
                "approved by the operator; the owner was notified (p.45-3)"
            } else {
                "approved by the owner and the operator (p.34, p.35)"
            },
        ),
        _ => Cond::no(
            cond::APPROVED,
            "Pending",
            "the application is not approved yet",
        ),
    };
    let mut desired = kstatus(ready, stalled);
    desired.extend([
        approved,
        access_cond(cond::TEST_ACCESS, d.access.get(&Contour::Test)),
        access_cond(cond::PRODUCTION_ACCESS, d.access.get(&Contour::Production)),
        Cond::from_check(cond::CONTRACT_VALID, &d.contract),
        Cond::from_check(cond::SECURITY_PROTOCOL_VALID, &d.protocol),
        Cond::from_check(cond::CONSENT_SERVICE, &d.consent),
        maintenance_cond(&d.in_maintenance),
        suspended_cond(d.suspension.as_ref()),
        deadline_cond(d.next_step.as_ref(), d.deadline_exceeded, now, cal),
    ]);
    let prior = o.status.as_ref();
    let (common, entries) = finish(
        Subject {
            prior: prior.map(|s| &s.common),
            prior_phase: prior_phase(prior.map(|s| &s.phase)),
            root: chain_root("ServiceConnection", o),
            generation: o.metadata.generation,
        },
        phase,
        desired,
        Events {
            accepted: &d.outcome.accepted,
            total: o.spec.application.events.len(),
            field: "spec.application.events",
        },
        now,
    );
    let any = credentials.test.is_some() || credentials.production.is_some();
    Built {
        status: ServiceConnectionStatus {
            phase: Some(phase.into()),
            lifecycle_phase: Some(lifecycle_phase.into()),
            next_step: d.next_step.clone(),
            state_to_state: Some(d.state_to_state),
            testing_until: d.testing_until,
            suspension: d.suspension.clone(),
            credentials: any.then_some(credentials),
            sender_id: any.then(|| d.sender_id.clone()),
            common,
        },
        entries,
    }
}

/// The status of a TechWindow.
pub fn window_status(
    o: &TechWindow,
    d: &WindowDecision,
    now: Timestamp,
) -> Built<TechWindowStatus> {
    let a = &d.assessment;
    let stalled = (!d.missing_targets.is_empty()).then(|| {
        (
            "TargetNotFound".to_string(),
            format!("spec.targets: not found: {}", d.missing_targets.join(", ")),
        )
    });
    let ready = if let Some((_, m)) = &stalled {
        Cond::no(cond::READY, "Stalled", m.clone())
    } else if a.agreed.ok() && a.lead_time.ok() {
        Cond::yes(
            cond::READY,
            "Compliant",
            "agreed and announced as p.48 requires",
        )
    } else {
        let mut m = Vec::new();
        if !a.agreed.ok() {
            m.push(a.agreed.message.clone());
        }
        if !a.lead_time.ok() {
            m.push(a.lead_time.message.clone());
        }
        Cond::no(cond::READY, "NotCompliant", m.join("; "))
    };
    let mut desired = kstatus(ready, stalled);
    desired.extend([
        Cond::from_check(cond::AGREED, &a.agreed),
        Cond::from_check(cond::LEAD_TIME_MET, &a.lead_time),
        Cond::from_check(cond::WITHIN_DEFAULT_HOURS, &a.default_hours),
        Cond::when(
            cond::ACTIVE,
            a.active,
            a.phase,
            match a.phase {
                "Scheduled" => format!("starts at {}", show(o.spec.start)),
                "Active" => format!("in progress until {}", show(o.spec.end)),
                _ => format!("ended at {}", show(o.spec.end)),
            },
        ),
    ]);
    let prior = o.status.as_ref();
    let (common, entries) = finish(
        Subject {
            prior: prior.map(|s| &s.common),
            prior_phase: prior_phase(prior.map(|s| &s.phase)),
            root: chain_root("TechWindow", o),
            generation: o.metadata.generation,
        },
        a.phase,
        desired,
        NO_EVENTS,
        now,
    );
    Built {
        status: TechWindowStatus {
            phase: Some(a.phase.into()),
            affected_services: d.targets.iter().map(crate::snapshot::display).collect(),
            earliest_start: a.earliest_start,
            common,
        },
        entries,
    }
}
