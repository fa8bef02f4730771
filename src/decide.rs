//! The decide phase (pure): from a [`Snapshot`], the calendar and the clock, what the rules say of
//! every object: its lifecycle stage and next step, deadlines, suspension, maintenance, and which
//! contours each route and connection is open in. The operator and `shep render` both call
//! [`decide`]; statuses and child objects are built from its result.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};

use crate::api::{
    Contour, DecommissionKind, InformationSystem, IntegrationService, NextStep, ServiceConnection,
    Suspension, SuspensionReason, WindowKind,
};
use crate::calendar::{Calendar, local_date, next_day_start, show};
use crate::certificate;
use crate::lifecycle::{self, Access, Outcome, deadlines};
use crate::policy::Check;
use crate::policy::availability::index_for_month;
use crate::policy::suspension::{
    self, Cause, CertificateFacts, SystemAssessment, inherited_from_service, inherited_from_system,
    operator_cause,
};
use crate::policy::tech_window::{self, WindowAssessment};
use crate::snapshot::{Index, Key, Snapshot, display};

/// What the rules say of an information system.
#[derive(Clone, Debug)]
pub struct SystemDecision {
    /// Contract, protocol and certificate checks, and the causes of suspension.
    pub assessment: SystemAssessment,
    /// The suspension in force on the system itself.
    pub suspension: Option<Suspension>,
    /// Services it owns.
    pub services: u32,
    /// Connections it initiates.
    pub connections: u32,
    /// Expiry of its transport certificate, when read.
    pub certificate_not_after: Option<Timestamp>,
}

/// A tech window (or temporary disconnection) in force or to come, as a route enforces it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Break {
    /// `namespace/name` of the TechWindow, or `decommission` for p.62.
    pub source: String,
    /// Planned, Emergency, Reboot, or Decommission.
    pub kind: String,
    /// Contours affected.
    pub contours: Vec<Contour>,
    /// Start.
    pub start: Timestamp,
    /// End; open-ended for a temporary disconnection without `until`.
    pub end: Option<Timestamp>,
    /// Why.
    pub reason: String,
}

impl Break {
    fn active(&self, now: Timestamp) -> bool {
        self.start <= now && self.end.is_none_or(|e| now < e)
    }
}

/// Whether a route exists in a contour, and why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteState {
    /// The route is deployed.
    Deployed,
    /// It is not, for this reason (reason, message).
    Absent(&'static str, String),
}

impl RouteState {
    /// Whether the route is deployed.
    pub fn deployed(&self) -> bool {
        matches!(self, RouteState::Deployed)
    }
}

/// What the rules say of a service.
#[derive(Clone, Debug)]
pub struct ServiceDecision {
    /// The registry accepts it: unique key and owner system found.
    pub accepted: Check,
    /// Where publication stands.
    pub outcome: Outcome,
    /// The step it waits for.
    pub next_step: Option<NextStep>,
    /// Whether that step is past due.
    pub deadline_exceeded: bool,
    /// p.21: last day of testing, while testing.
    pub testing_until: Option<Date>,
    /// Causes of suspension in force.
    pub causes: Vec<Cause>,
    /// The suspension record.
    pub suspension: Option<Suspension>,
    /// p.62: permanently decommissioned.
    pub decommissioned: bool,
    /// p.62: whether the decommission notice met its term (when there is one).
    pub decommission_notice: Option<Check>,
    /// The route in each contour.
    pub routes: BTreeMap<Contour, RouteState>,
    /// Breaks the routes enforce (active or to come).
    pub breaks: Vec<Break>,
    /// Contours in maintenance now, with the break.
    pub in_maintenance: Vec<(Contour, Break)>,
    /// App.7 indexes, last month and this month.
    pub availability: Vec<crate::api::AvailabilityIndex>,
    /// The next instant a decision may change by the clock alone.
    pub next_change: Option<Timestamp>,
}

/// What the rules say of a connection.
#[derive(Clone, Debug)]
pub struct ConnectionDecision {
    /// The service it points at, when found.
    pub service: Option<Key>,
    /// Problems with references (reason, message): service or system not found.
    pub reference_error: Option<(&'static str, String)>,
    /// §4 applies: both systems are state systems.
    pub state_to_state: bool,
    /// Where the application stands.
    pub outcome: Outcome,
    /// The step it waits for.
    pub next_step: Option<NextStep>,
    /// Whether that step is past due.
    pub deadline_exceeded: bool,
    /// p.38: last day of testing, while testing.
    pub testing_until: Option<Date>,
    /// Causes of suspension in force.
    pub causes: Vec<Cause>,
    /// The suspension record.
    pub suspension: Option<Suspension>,
    /// The initiator's contract (p.4), as a check.
    pub contract: Check,
    /// The initiator's protocols (p.8, p.65), as a check.
    pub protocol: Check,
    /// p.7, p.45-7: the consent service.
    pub consent: Check,
    /// Whether the connection is open in each contour.
    pub access: BTreeMap<Contour, Check>,
    /// Contours where access was granted and is used: credentials are issued and kept there, also
    /// while suspended, so that lifting a suspension restores the same login.
    pub issued: BTreeMap<Contour, bool>,
    /// The service's contours in maintenance now.
    pub in_maintenance: Vec<(Contour, Break)>,
    /// The issued sender id (p.53.2).
    pub sender_id: String,
    /// The next instant a decision may change by the clock alone.
    pub next_change: Option<Timestamp>,
}

impl ConnectionDecision {
    /// Whether the connection is open in a contour.
    pub fn open_in(&self, c: Contour) -> bool {
        self.access.get(&c).is_some_and(Check::ok)
    }
}

/// What the rules say of a tech window.
#[derive(Clone, Debug)]
pub struct WindowDecision {
    /// Lead time, agreement, hours, activity.
    pub assessment: WindowAssessment,
    /// Services affected.
    pub targets: Vec<Key>,
    /// Targets named but not found.
    pub missing_targets: Vec<String>,
}

/// Every decision of a snapshot.
#[derive(Clone, Debug, Default)]
pub struct Decisions {
    /// By system key.
    pub systems: BTreeMap<Key, SystemDecision>,
    /// By service key.
    pub services: BTreeMap<Key, ServiceDecision>,
    /// By connection key.
    pub connections: BTreeMap<Key, ConnectionDecision>,
    /// By window key.
    pub windows: BTreeMap<Key, WindowDecision>,
}

fn min_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The sender id issued to a connection (p.53.2): unique in the cluster, stable for its life.
pub fn sender_id(conn: &Key) -> String {
    format!("{}.{}", conn.0, conn.1)
}

fn created_date(meta: &kube::api::ObjectMeta, now: Timestamp) -> Date {
    local_date(meta.creation_timestamp.as_ref().map(|t| t.0).unwrap_or(now))
}

fn decide_system(
    k: &Key,
    sys: &InformationSystem,
    snap: &Snapshot,
    ix: &Index,
    now: Timestamp,
    cal: &Calendar,
) -> SystemDecision {
    let cert = match &sys.spec.transport_certificate {
        None => CertificateFacts::NotGiven,
        Some(tc) => {
            let key = tc
                .secret_ref
                .key
                .as_deref()
                .unwrap_or(certificate::DEFAULT_KEY);
            let sk = (k.0.clone(), tc.secret_ref.name.clone());
            certificate::from_secret(snap.secrets.get(&sk), &tc.secret_ref.name, key)
        }
    };
    let certificate_not_after = match &cert {
        CertificateFacts::Read { not_after, .. } => Some(*not_after),
        _ => None,
    };
    let assessment = suspension::assess_system(&sys.spec, &cert, now, cal);
    let prior = sys.status.as_ref().and_then(|s| s.suspension.as_ref());
    let suspension = suspension::record(&assessment.system_causes, prior, now);
    SystemDecision {
        suspension,
        services: Index::list(&ix.services_by_system, k).len() as u32,
        connections: Index::list(&ix.connections_by_system, k).len() as u32,
        certificate_not_after,
        assessment,
    }
}

fn testing_state(
    outcome: &Outcome,
    now: Timestamp,
    rule: &str,
    what: &str,
) -> (Option<Date>, Option<Cause>, Option<Timestamp>) {
    let today = local_date(now);
    if !outcome.stage.testing {
        return (None, None, None);
    }
    let until = outcome
        .test_access_from
        .and_then(|d| d.checked_add(3.months()).ok());
    match until {
        Some(u) if today > u => (
            Some(u),
            Some(Cause {
                reason: SuspensionReason::TestingPeriodExpired,
                message: format!(
                    "testing of the {what} began {} and had to end by {u}: at most 3 months ({rule})",
                    outcome.test_access_from.unwrap_or(u)
                ),
                deadline: None,
            }),
            None,
        ),
        Some(u) => (Some(u), None, Some(next_day_start(u))),
        None => (None, None, None),
    }
}

fn decommission_state(
    svc: &IntegrationService,
    now: Timestamp,
    cal: &Calendar,
) -> (bool, Option<Check>, Option<Break>, Option<Timestamp>) {
    let Some(d) = &svc.spec.decommission else {
        return (false, None, None, None);
    };
    let notice = match d.kind {
        DecommissionKind::Permanent => {
            let earliest = d
                .announced_at
                .to_zoned(crate::calendar::almaty())
                .checked_add(1.month())
                .map(|z| z.timestamp())
                .unwrap_or(d.announced_at);
            if d.effective_at >= earliest {
                Check::yes(
                    "NoticeMet",
                    &format!(
                        "permanent disconnection at {} announced at {}: at least 1 month ahead (p.62)",
                        show(d.effective_at),
                        show(d.announced_at)
                    ),
                )
            } else {
                Check::no(
                    "NoticeTooShort",
                    &format!(
                        "permanent disconnection at {} announced at {}: p.62 requires at least 1 month's notice (not before {})",
                        show(d.effective_at),
                        show(d.announced_at),
                        show(earliest)
                    ),
                )
            }
        }
        DecommissionKind::Temporary => {
            let latest = cal.add_working_days(local_date(d.effective_at), 3);
            if local_date(d.announced_at) <= latest {
                Check::yes(
                    "NoticeMet",
                    &format!(
                        "temporary disconnection at {} notified at {}: within 3 working days (p.62)",
                        show(d.effective_at),
                        show(d.announced_at)
                    ),
                )
            } else {
                Check::no(
                    "NoticeLate",
                    &format!(
                        "temporary disconnection at {} notified at {}: p.62 requires notice within 3 working days (by {latest})",
                        show(d.effective_at),
                        show(d.announced_at)
                    ),
                )
            }
        }
    };
    match d.kind {
        DecommissionKind::Permanent => {
            let effective = d.effective_at <= now;
            (
                effective,
                Some(notice),
                None,
                (!effective).then_some(d.effective_at),
            )
        }
        DecommissionKind::Temporary => {
            let b = Break {
                source: "decommission".into(),
                kind: "Decommission".into(),
                contours: Contour::ALL.to_vec(),
                start: d.effective_at,
                end: d.until,
                reason: format!("temporary disconnection (p.62): {}", d.reason),
            };
            let next = if now < d.effective_at {
                Some(d.effective_at)
            } else {
                d.until.filter(|u| *u > now)
            };
            (false, Some(notice), Some(b), next)
        }
    }
}

fn window_break(wk: &Key, w: &crate::api::TechWindow) -> Break {
    Break {
        source: display(wk),
        kind: match w.spec.kind {
            WindowKind::Planned => "Planned",
            WindowKind::Emergency => "Emergency",
            WindowKind::Reboot => "Reboot",
        }
        .into(),
        contours: w.spec.contours.clone(),
        start: w.spec.start,
        end: Some(w.spec.end),
        reason: w.spec.reason.clone(),
    }
}

#[allow(clippy::too_many_arguments)]
fn decide_service(
    k: &Key,
    svc: &IntegrationService,
    snap: &Snapshot,
    ix: &Index,
    systems: &BTreeMap<Key, SystemDecision>,
    now: Timestamp,
    cal: &Calendar,
) -> ServiceDecision {
    let today = local_date(now);
    let owner = (k.0.clone(), svc.spec.system_ref.name.clone());
    let holder = ix.service_key_holders.get(&svc.spec.service_key);
    let accepted = if !snap.systems.contains_key(&owner) {
        Check::no(
            "SystemNotFound",
            &format!(
                "spec.systemRef: InformationSystem {} not found",
                display(&owner)
            ),
        )
    } else if holder.is_some_and(|h| h != k) {
        Check::no(
            "DuplicateServiceKey",
            &format!(
                "spec.serviceKey {} is already registered by {}: a service key is unique in the registry",
                svc.spec.service_key,
                display(holder.unwrap_or(k))
            ),
        )
    } else {
        Check::yes(
            "Registered",
            &format!("service key {} registered", svc.spec.service_key),
        )
    };
    let process = lifecycle::publication::process(svc.spec.publication.initiative);
    let outcome = lifecycle::run(
        process,
        &svc.spec.publication.events,
        "spec.publication.events",
        created_date(&svc.metadata, now),
        now,
    );
    let next_step = deadlines::next_step(&outcome, cal);
    let deadline_exceeded = next_step
        .as_ref()
        .is_some_and(|s| deadlines::exceeded(s, now));
    let mut next_change = next_step
        .as_ref()
        .and_then(|s| deadlines::exceeds_at(s, now));

    let mut causes = Vec::new();
    if let Some(sd) = systems.get(&owner) {
        causes.extend(inherited_from_system(
            &display(&owner),
            &sd.assessment.system_causes,
        ));
        next_change = min_time(next_change, sd.assessment.next_change);
    }
    if let Some(s) = &svc.spec.operator_suspension {
        causes.push(operator_cause(s, "the service"));
    }
    let (testing_until, testing_cause, testing_next) =
        testing_state(&outcome, now, "p.21", "service");
    causes.extend(testing_cause);
    next_change = min_time(next_change, testing_next);
    let prior = svc.status.as_ref().and_then(|s| s.suspension.as_ref());
    let suspension = suspension::record(&causes, prior, now);

    let (decommissioned, decommission_notice, decommission_break, dnext) =
        decommission_state(svc, now, cal);
    next_change = min_time(next_change, dnext);

    let mut breaks: Vec<Break> = Vec::new();
    for wk in Index::list(&ix.windows_by_service, k) {
        if let Some(w) = snap.windows.get(wk)
            && w.spec.end > now
        {
            breaks.push(window_break(wk, w));
            next_change = min_time(
                next_change,
                Some(if w.spec.start > now {
                    w.spec.start
                } else {
                    w.spec.end
                }),
            );
        }
    }
    breaks.extend(decommission_break.filter(|b| b.end.is_none_or(|e| e > now)));
    breaks.sort_by(|a, b| (a.start, &a.source).cmp(&(b.start, &b.source)));
    let in_maintenance: Vec<(Contour, Break)> = breaks
        .iter()
        .filter(|b| b.active(now))
        .flat_map(|b| b.contours.iter().map(move |c| (*c, b.clone())))
        .collect();

    let mut routes = BTreeMap::new();
    for c in Contour::ALL {
        let granted = outcome.stage.access.includes(c);
        let state = if !accepted.ok() {
            RouteState::Absent("NotAccepted", accepted.message.clone())
        } else if decommissioned {
            RouteState::Absent(
                "Decommissioned",
                "the service was switched off (p.62)".into(),
            )
        } else if !granted {
            let m = match c {
                Contour::Test => "test access is not granted yet (p.19, p.30)",
                Contour::Production => "the service is not published yet (p.27, p.30)",
            };
            RouteState::Absent("NotGranted", m.into())
        } else if let Some(s) = &suspension {
            RouteState::Absent("Suspended", format!("suspended: {}", s.reason))
        } else if svc.spec.backends.get(c).is_none() {
            RouteState::Absent("NoBackend", format!("spec.backends.{c} is not set"))
        } else {
            RouteState::Deployed
        };
        routes.insert(c, state);
    }

    // App.7: downtime of the production contour, from breaks that touch it and the suspension.
    let mut downtime: Vec<(Timestamp, Timestamp)> = Vec::new();
    for wk in Index::list(&ix.windows_by_service, k) {
        if let Some(w) = snap.windows.get(wk)
            && w.spec.contours.contains(&Contour::Production)
        {
            downtime.push((w.spec.start, w.spec.end));
        }
    }
    if let Some(s) = &suspension {
        downtime.push((s.since, now));
    }
    let availability = if outcome.stage.access == Access::TestAndProduction {
        let this_month = today.first_of_month();
        let last_month = this_month.checked_sub(1.month()).unwrap_or(this_month);
        [last_month, this_month]
            .iter()
            .filter_map(|m| index_for_month(*m, &downtime, now))
            .collect()
    } else {
        Vec::new()
    };

    ServiceDecision {
        accepted,
        outcome,
        next_step,
        deadline_exceeded,
        testing_until,
        causes,
        suspension,
        decommissioned,
        decommission_notice,
        routes,
        breaks,
        in_maintenance,
        availability,
        next_change,
    }
}

fn decide_connection(
    k: &Key,
    conn: &ServiceConnection,
    snap: &Snapshot,
    systems: &BTreeMap<Key, SystemDecision>,
    services: &BTreeMap<Key, ServiceDecision>,
    now: Timestamp,
    cal: &Calendar,
) -> ConnectionDecision {
    let today = local_date(now);
    let svc_key = (
        conn.spec.service_ref.namespace_or(&k.0).to_string(),
        conn.spec.service_ref.name.clone(),
    );
    let init_key = (k.0.clone(), conn.spec.system_ref.name.clone());
    let svc = snap.services.get(&svc_key);
    let initiator = snap.systems.get(&init_key);
    let owner_state = svc
        .and_then(|s| {
            snap.systems
                .get(&(svc_key.0.clone(), s.spec.system_ref.name.clone()))
        })
        .map(|o| o.spec.state);
    let state_to_state = initiator.is_some_and(|i| i.spec.state) && owner_state == Some(true);
    let reference_error = if svc.is_none() {
        Some((
            "ServiceNotFound",
            format!(
                "spec.serviceRef: IntegrationService {} not found",
                display(&svc_key)
            ),
        ))
    } else if initiator.is_none() {
        Some((
            "SystemNotFound",
            format!(
                "spec.systemRef: InformationSystem {} not found",
                display(&init_key)
            ),
        ))
    } else {
        None
    };
    let process = lifecycle::connection::process(state_to_state);
    let outcome = lifecycle::run(
        process,
        &conn.spec.application.events,
        "spec.application.events",
        created_date(&conn.metadata, now),
        now,
    );
    let next_step = deadlines::next_step(&outcome, cal);
    let deadline_exceeded = next_step
        .as_ref()
        .is_some_and(|s| deadlines::exceeded(s, now));
    let mut next_change = next_step
        .as_ref()
        .and_then(|s| deadlines::exceeds_at(s, now));

    let mut causes = Vec::new();
    let (contract, protocol) = match systems.get(&init_key) {
        Some(sd) => {
            causes.extend(inherited_from_system(
                &display(&init_key),
                &sd.assessment.system_causes,
            ));
            causes.extend(sd.assessment.initiator_causes.iter().map(|c| Cause {
                message: format!("initiator {}: {}", display(&init_key), c.message),
                ..c.clone()
            }));
            next_change = min_time(next_change, sd.assessment.next_change);
            (
                sd.assessment.contract.clone(),
                sd.assessment.protocol.clone(),
            )
        }
        None => (
            Check::unknown(
                "SystemNotFound",
                "the initiator's information system was not found",
            ),
            Check::unknown(
                "SystemNotFound",
                "the initiator's information system was not found",
            ),
        ),
    };
    let svc_decision = services.get(&svc_key);
    if let Some(sd) = svc_decision {
        if let Some(sus) = &sd.suspension {
            causes.push(inherited_from_service(&display(&svc_key), sus));
        } else if sd.decommissioned {
            causes.push(Cause {
                reason: SuspensionReason::ServiceSuspended,
                message: format!(
                    "service {} was switched off for good (p.62)",
                    display(&svc_key)
                ),
                deadline: None,
            });
        }
        next_change = min_time(next_change, sd.next_change);
    }
    let consent = match svc {
        Some(s) if s.spec.personal_data && !conn.spec.uses_consent_service => {
            let m = "the service carries personal data and the initiator does not use the consent service (p.7, p.45-7)";
            causes.push(Cause {
                reason: SuspensionReason::ConsentServiceMissing,
                message: m.into(),
                deadline: None,
            });
            Check::no("ConsentServiceMissing", m)
        }
        Some(s) if s.spec.personal_data => Check::yes(
            "Used",
            "personal data is accessed through the consent service (p.45-7)",
        ),
        Some(_) => Check::yes("NotRequired", "the service carries no personal data"),
        None => Check::unknown("ServiceNotFound", "the service was not found"),
    };
    if let Some(po) = &conn.spec.pilot_order {
        if po.valid_until < today {
            causes.push(Cause {
                reason: SuspensionReason::PilotOrderExpired,
                message: format!(
                    "pilot-project order {} expired on {} (App.5)",
                    po.number, po.valid_until
                ),
                deadline: None,
            });
        } else {
            next_change = min_time(next_change, Some(next_day_start(po.valid_until)));
        }
    }
    if let Some(s) = &conn.spec.operator_suspension {
        causes.push(operator_cause(s, "the connection"));
    }
    let (testing_until, testing_cause, testing_next) =
        testing_state(&outcome, now, "p.38", "connection");
    causes.extend(testing_cause);
    next_change = min_time(next_change, testing_next);
    let prior = conn.status.as_ref().and_then(|s| s.suspension.as_ref());
    let suspension = suspension::record(&causes, prior, now);

    let mut access = BTreeMap::new();
    let mut issued = BTreeMap::new();
    for c in Contour::ALL {
        let granted = outcome.stage.access.includes(c);
        let enabled = conn.spec.contours.get(c).is_none_or(|a| a.enabled);
        let route = svc_decision.and_then(|sd| sd.routes.get(&c));
        issued.insert(c, reference_error.is_none() && enabled && granted);
        let check = if let Some((reason, m)) = &reference_error {
            Check::no(reason, m)
        } else if !enabled {
            Check::no("NotUsed", &format!("spec.contours.{c}.enabled is false"))
        } else if !granted {
            let m = match c {
                Contour::Test => "test access is not granted yet (p.37, p.45-5)",
                Contour::Production => "production access is not granted yet (p.45)",
            };
            Check::no("NotGranted", m)
        } else if let Some(s) = &suspension {
            Check::no("Suspended", &format!("suspended: {}", s.reason))
        } else if let Some(RouteState::Absent(r, m)) = route {
            Check::no(
                "RouteAbsent",
                &format!("the service has no {c} route ({r}): {m}"),
            )
        } else {
            Check::yes(
                "Granted",
                &format!("the connection may send messages in the {c} contour"),
            )
        };
        access.insert(c, check);
    }
    let in_maintenance = svc_decision
        .map(|sd| {
            sd.in_maintenance
                .iter()
                .filter(|(c, _)| access.get(c).is_some_and(Check::ok))
                .cloned()
                .collect()
        })
        .unwrap_or_default();

    ConnectionDecision {
        service: svc.map(|_| svc_key),
        reference_error,
        state_to_state,
        outcome,
        next_step,
        deadline_exceeded,
        testing_until,
        causes,
        suspension,
        contract,
        protocol,
        consent,
        access,
        issued,
        in_maintenance,
        sender_id: sender_id(k),
        next_change,
    }
}

/// Decides every object of the snapshot at `now`.
pub fn decide(snap: &Snapshot, now: Timestamp, cal: &Calendar) -> Decisions {
    let ix = snap.index();
    let mut d = Decisions::default();
    for (k, s) in &snap.systems {
        d.systems
            .insert(k.clone(), decide_system(k, s, snap, &ix, now, cal));
    }
    for (k, s) in &snap.services {
        let sd = decide_service(k, s, snap, &ix, &d.systems, now, cal);
        d.services.insert(k.clone(), sd);
    }
    for (k, c) in &snap.connections {
        let cd = decide_connection(k, c, snap, &d.systems, &d.services, now, cal);
        d.connections.insert(k.clone(), cd);
    }
    for (wk, w) in &snap.windows {
        let targets = Index::list(&ix.window_targets, wk).to_vec();
        let has_initiators = targets
            .iter()
            .any(|t| !Index::list(&ix.connections_by_service, t).is_empty());
        let missing_targets = w
            .spec
            .targets
            .services
            .iter()
            .filter(|s| !snap.services.contains_key(&(wk.0.clone(), s.name.clone())))
            .map(|s| format!("IntegrationService {}/{}", wk.0, s.name))
            .chain(
                w.spec
                    .targets
                    .system
                    .iter()
                    .filter(|s| !snap.systems.contains_key(&(wk.0.clone(), s.name.clone())))
                    .map(|s| format!("InformationSystem {}/{}", wk.0, s.name)),
            )
            .collect();
        d.windows.insert(
            wk.clone(),
            WindowDecision {
                assessment: tech_window::assess(&w.spec, has_initiators, now, cal),
                targets,
                missing_targets,
            },
        );
    }
    d
}
