//! Publication of a service: on the initiator's request (chapter 2 §1, p.10-27), on the owner's own
//! initiative (§2, p.28-31), and actualization of a published service (§5, p.45-8..45-11).

use super::{Access, Limit, Process, Stage, StepSpec, Transition};
use crate::api::{Initiative, Party};

const fn st(
    id: &'static str,
    phase: &'static str,
    party: Party,
    action: &'static str,
    rule: &'static str,
    limit: Limit,
    access: Access,
) -> Stage {
    Stage {
        id,
        phase,
        step: Some(StepSpec {
            party,
            action,
            rule,
            limit,
        }),
        access,
        testing: false,
    }
}

const fn idle(id: &'static str, phase: &'static str, access: Access) -> Stage {
    Stage {
        id,
        phase,
        step: None,
        access,
        testing: false,
    }
}

const fn tr(from: &'static str, event: &'static str, to: &'static str) -> Transition {
    Transition { from, event, to }
}

use Access::{None as NoAccess, Test, TestAndProduction as Both};
use Limit::{Months, None as NoLimit, WorkingDays as Wd};
use Party::{All, Initiator, Integrator, Operator, Owner};

/// Actualization of a published service (p.45-8..45-11): stages shared by both initiatives.
const ACTUALIZATION_STAGES: [Stage; 3] = [
    st(
        "ActualizationCheck",
        "Published",
        Operator,
        "check the actualization application (App.8) and actualize or return it with reasons",
        "p.45-9",
        Wd(3),
        Both,
    ),
    st(
        "ActualizationRework",
        "Published",
        Owner,
        "rework the returned actualization application (App.8)",
        "p.45-9",
        NoLimit,
        Both,
    ),
    st(
        "Actualizing",
        "Published",
        Operator,
        "actualize the service in the registry",
        "p.45-10",
        Wd(10),
        Both,
    ),
];

const ACTUALIZATION_TRANSITIONS: [Transition; 5] = [
    tr("Published", "ActualizationRequested", "ActualizationCheck"),
    tr("ActualizationCheck", "ActualizationApproved", "Actualizing"),
    tr(
        "ActualizationCheck",
        "ActualizationReturned",
        "ActualizationRework",
    ),
    tr("ActualizationRework", "Resubmitted", "ActualizationCheck"),
    tr("Actualizing", "Actualized", "Published"),
];

const REASONED: &[&str] = &[
    "OwnerReturned",
    "Refused",
    "OperatorReturned",
    "TestActReturned",
    "ActualizationReturned",
];

static BY_INITIATOR_STAGES: [Stage; 18] = [
    st(
        "Draft",
        "Draft",
        Initiator,
        "ask the service integrator which owner can provide the data (p.10), or request the service from its owner (p.12)",
        "p.10",
        NoLimit,
        NoAccess,
    ),
    st(
        "IntegratorReview",
        "IntegratorReview",
        Integrator,
        "recommend the owner of an object that can provide the data",
        "p.11",
        Wd(2),
        NoAccess,
    ),
    st(
        "Recommended",
        "Draft",
        Initiator,
        "request creation of the service from the recommended owner",
        "p.12",
        NoLimit,
        NoAccess,
    ),
    st(
        "OwnerReview",
        "OwnerReview",
        Owner,
        "approve the request, return it for rework, or refuse with reasons",
        "p.13",
        Wd(2),
        NoAccess,
    ),
    st(
        "InitiatorRework",
        "Rework",
        Initiator,
        "rework the returned request and resubmit it",
        "p.15",
        Wd(2),
        NoAccess,
    ),
    st(
        "OperatorCheck",
        "OperatorCheck",
        Operator,
        "check the publication application (App.2, App.3) for completeness and correctness",
        "p.17",
        Wd(3),
        NoAccess,
    ),
    st(
        "OwnerRework",
        "Rework",
        Owner,
        "rework the returned application and resubmit it",
        "p.18",
        Wd(2),
        NoAccess,
    ),
    st(
        "AwaitingTestAccess",
        "AwaitingTestAccess",
        Operator,
        "grant test-environment access and connect the initiator in the test environment",
        "p.19",
        Wd(10),
        NoAccess,
    ),
    Stage {
        id: "Testing",
        phase: "Testing",
        step: Some(StepSpec {
            party: All,
            action: "test the integration until a positive result; the owner then forms and signs the act (App.4)",
            rule: "p.21, p.24",
            limit: Months(3),
        }),
        access: Test,
        testing: true,
    },
    st(
        "ActByInitiator",
        "ActApproval",
        Initiator,
        "sign and agree the test-and-commissioning act and send it to the operator",
        "p.25",
        Wd(3),
        Test,
    ),
    st(
        "ActOperatorReview",
        "ActApproval",
        Operator,
        "review the test-and-commissioning act",
        "p.26",
        Wd(3),
        Test,
    ),
    st(
        "ActRework",
        "Rework",
        Owner,
        "rework the returned act and resubmit it",
        "p.27",
        Wd(3),
        Test,
    ),
    st(
        "AwaitingPublication",
        "AwaitingPublication",
        Operator,
        "agree the act, publish the passport in the registry and grant production access",
        "p.27",
        Wd(10),
        Test,
    ),
    idle("Published", "Published", Both),
    idle("Refused", "Refused", NoAccess),
    ACTUALIZATION_STAGES[0],
    ACTUALIZATION_STAGES[1],
    ACTUALIZATION_STAGES[2],
];

static BY_INITIATOR_TRANSITIONS: [Transition; 23] = [
    tr("Draft", "IntegratorRequested", "IntegratorReview"),
    tr("Draft", "Submitted", "OwnerReview"),
    tr("IntegratorReview", "IntegratorRecommended", "Recommended"),
    tr("Recommended", "Submitted", "OwnerReview"),
    tr("OwnerReview", "OwnerApproved", "OperatorCheck"),
    tr("OwnerReview", "OwnerReturned", "InitiatorRework"),
    tr("OwnerReview", "Refused", "Refused"),
    tr("InitiatorRework", "Resubmitted", "OwnerReview"),
    tr("OperatorCheck", "OperatorApproved", "AwaitingTestAccess"),
    tr("OperatorCheck", "OperatorReturned", "OwnerRework"),
    tr("OwnerRework", "Resubmitted", "OperatorCheck"),
    tr("AwaitingTestAccess", "TestAccessGranted", "Testing"),
    tr("Testing", "TestActSignedByOwner", "ActByInitiator"),
    tr(
        "ActByInitiator",
        "TestActSignedByInitiator",
        "ActOperatorReview",
    ),
    tr(
        "ActOperatorReview",
        "TestActApproved",
        "AwaitingPublication",
    ),
    tr("ActOperatorReview", "TestActReturned", "ActRework"),
    tr("ActRework", "Resubmitted", "ActOperatorReview"),
    tr("AwaitingPublication", "Published", "Published"),
    ACTUALIZATION_TRANSITIONS[0],
    ACTUALIZATION_TRANSITIONS[1],
    ACTUALIZATION_TRANSITIONS[2],
    ACTUALIZATION_TRANSITIONS[3],
    ACTUALIZATION_TRANSITIONS[4],
];

/// §1, p.10-27: publication on the initiator's request.
pub static BY_INITIATOR: Process = Process {
    name: "publication on the initiator's request",
    stages: &BY_INITIATOR_STAGES,
    transitions: &BY_INITIATOR_TRANSITIONS,
    reasoned: REASONED,
};

static BY_OWNER_STAGES: [Stage; 8] = [
    st(
        "Draft",
        "Draft",
        Owner,
        "check the registry has no such service, fill App.2 and App.3 with the XSD and samples, accept the conditions and submit",
        "p.28",
        NoLimit,
        NoAccess,
    ),
    st(
        "OperatorCheck",
        "OperatorCheck",
        Operator,
        "check the publication application (App.2, App.3) for completeness and correctness",
        "p.29",
        Wd(3),
        NoAccess,
    ),
    st(
        "OwnerRework",
        "Rework",
        Owner,
        "rework the returned application and resubmit it",
        "p.29",
        NoLimit,
        NoAccess,
    ),
    st(
        "AwaitingPublication",
        "AwaitingPublication",
        Operator,
        "publish the passport in the registry and grant the owner test and production access",
        "p.30",
        Wd(10),
        NoAccess,
    ),
    idle("Published", "Published", Both),
    ACTUALIZATION_STAGES[0],
    ACTUALIZATION_STAGES[1],
    ACTUALIZATION_STAGES[2],
];

static BY_OWNER_TRANSITIONS: [Transition; 10] = [
    tr("Draft", "Submitted", "OperatorCheck"),
    tr("OperatorCheck", "OperatorApproved", "AwaitingPublication"),
    tr("OperatorCheck", "OperatorReturned", "OwnerRework"),
    tr("OwnerRework", "Resubmitted", "OperatorCheck"),
    tr("AwaitingPublication", "Published", "Published"),
    ACTUALIZATION_TRANSITIONS[0],
    ACTUALIZATION_TRANSITIONS[1],
    ACTUALIZATION_TRANSITIONS[2],
    ACTUALIZATION_TRANSITIONS[3],
    ACTUALIZATION_TRANSITIONS[4],
];

/// §2, p.28-31: publication on the owner's own initiative.
pub static BY_OWNER: Process = Process {
    name: "publication on the owner's initiative",
    stages: &BY_OWNER_STAGES,
    transitions: &BY_OWNER_TRANSITIONS,
    reasoned: REASONED,
};

/// The process for an initiative.
pub fn process(initiative: Initiative) -> &'static Process {
    match initiative {
        Initiative::Owner => &BY_OWNER,
        Initiative::Initiator => &BY_INITIATOR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PublicationEventType::{self, *};
    use crate::calendar::Calendar;
    use crate::lifecycle::deadlines::{exceeded, next_step};
    use crate::lifecycle::testutil::{ev, noon};
    use crate::lifecycle::{Outcome, run};
    use jiff::civil::{Date, date};

    fn replay(p: &Process, evs: &[(PublicationEventType, &str)], now: &str) -> Outcome {
        let events: Vec<_> = evs.iter().map(|(t, d)| ev(*t, d)).collect();
        run(
            p,
            &events,
            "spec.publication.events",
            date(2026, 1, 5),
            noon(now),
        )
    }

    fn due_of(o: &Outcome) -> Option<Date> {
        next_step(o, &Calendar::default()).and_then(|s| s.due)
    }

    /// (events so far, expected phase, party, due date) for each deadline row of §1.
    #[test]
    fn every_deadline_of_publication_on_request() {
        // Tuesday 1 Dec 2026 is a holiday? No: 1 December is an ordinary Tuesday since 2022.
        type Row<'a> = (
            &'a [(PublicationEventType, &'a str)],
            &'a str,
            Party,
            Option<Date>,
        );
        let rows: &[Row] = &[
            (&[], "Draft", Initiator, None),
            // p.11: integrator, 2 working days: Tue 1 Dec -> Thu 3 Dec.
            (
                &[(IntegratorRequested, "2026-12-01")],
                "IntegratorReview",
                Integrator,
                Some(date(2026, 12, 3)),
            ),
            (
                &[
                    (IntegratorRequested, "2026-12-01"),
                    (IntegratorRecommended, "2026-12-02"),
                ],
                "Draft",
                Initiator,
                None,
            ),
            // p.13: owner, 2 working days: Thu 3 Dec -> Mon 7 Dec.
            (
                &[(Submitted, "2026-12-03")],
                "OwnerReview",
                Owner,
                Some(date(2026, 12, 7)),
            ),
            // p.15: initiator rework, 2 working days.
            (
                &[(Submitted, "2026-12-03"), (OwnerReturned, "2026-12-04")],
                "Rework",
                Initiator,
                Some(date(2026, 12, 8)),
            ),
            // p.17: operator, 3 working days: Fri 11 Dec -> Thu 17 Dec (16 Dec is a holiday).
            (
                &[(Submitted, "2026-12-09"), (OwnerApproved, "2026-12-11")],
                "OperatorCheck",
                Operator,
                Some(date(2026, 12, 17)),
            ),
            // p.18: owner rework, 2 working days.
            (
                &[
                    (Submitted, "2026-12-01"),
                    (OwnerApproved, "2026-12-02"),
                    (OperatorReturned, "2026-12-03"),
                ],
                "Rework",
                Owner,
                Some(date(2026, 12, 7)),
            ),
            // p.19: operator grants test access, 10 working days.
            (
                &[
                    (Submitted, "2026-12-01"),
                    (OwnerApproved, "2026-12-02"),
                    (OperatorApproved, "2026-12-03"),
                ],
                "AwaitingTestAccess",
                Operator,
                Some(date(2026, 12, 18)),
            ),
            // p.21: testing, at most 3 months.
            (
                &[
                    (Submitted, "2026-09-01"),
                    (OwnerApproved, "2026-09-02"),
                    (OperatorApproved, "2026-09-03"),
                    (TestAccessGranted, "2026-09-10"),
                ],
                "Testing",
                All,
                Some(date(2026, 12, 10)),
            ),
            // p.25: initiator signs the act, 3 working days.
            (
                &[
                    (Submitted, "2026-11-01"),
                    (OwnerApproved, "2026-11-02"),
                    (OperatorApproved, "2026-11-03"),
                    (TestAccessGranted, "2026-11-10"),
                    (TestActSignedByOwner, "2026-12-01"),
                ],
                "ActApproval",
                Initiator,
                Some(date(2026, 12, 4)),
            ),
            // p.26: operator reviews the act, 3 working days.
            (
                &[
                    (Submitted, "2026-11-01"),
                    (OwnerApproved, "2026-11-02"),
                    (OperatorApproved, "2026-11-03"),
                    (TestAccessGranted, "2026-11-10"),
                    (TestActSignedByOwner, "2026-12-01"),
                    (TestActSignedByInitiator, "2026-12-02"),
                ],
                "ActApproval",
                Operator,
                Some(date(2026, 12, 7)),
            ),
            // p.27: owner reworks the act, 3 working days.
            (
                &[
                    (Submitted, "2026-11-01"),
                    (OwnerApproved, "2026-11-02"),
                    (OperatorApproved, "2026-11-03"),
                    (TestAccessGranted, "2026-11-10"),
                    (TestActSignedByOwner, "2026-12-01"),
                    (TestActSignedByInitiator, "2026-12-02"),
                    (TestActReturned, "2026-12-03"),
                ],
                "Rework",
                Owner,
                Some(date(2026, 12, 8)),
            ),
            // p.27: operator publishes, 10 working days.
            (
                &[
                    (Submitted, "2026-11-01"),
                    (OwnerApproved, "2026-11-02"),
                    (OperatorApproved, "2026-11-03"),
                    (TestAccessGranted, "2026-11-10"),
                    (TestActSignedByOwner, "2026-12-01"),
                    (TestActSignedByInitiator, "2026-12-02"),
                    (TestActApproved, "2026-12-03"),
                ],
                "AwaitingPublication",
                Operator,
                Some(date(2026, 12, 18)),
            ),
        ];
        for (evs, phase, party, due) in rows {
            let o = replay(&BY_INITIATOR, evs, "2026-12-20");
            assert!(o.error.is_none(), "{evs:?}: {:?}", o.error);
            assert_eq!(o.stage.phase, *phase, "{evs:?}");
            let step = next_step(&o, &Calendar::default()).unwrap();
            assert_eq!(step.party, *party, "{evs:?}");
            assert_eq!(step.due, *due, "{evs:?}");
        }
    }

    #[test]
    fn published_on_request_has_both_contours() {
        let o = replay(
            &BY_INITIATOR,
            &[
                (Submitted, "2026-11-01"),
                (OwnerApproved, "2026-11-02"),
                (OperatorApproved, "2026-11-03"),
                (TestAccessGranted, "2026-11-10"),
                (TestActSignedByOwner, "2026-12-01"),
                (TestActSignedByInitiator, "2026-12-02"),
                (TestActApproved, "2026-12-03"),
                (Published, "2026-12-03"),
            ],
            "2026-12-03",
        );
        assert_eq!(o.stage.phase, "Published");
        assert_eq!(o.stage.access, Access::TestAndProduction);
        assert_eq!(o.test_access_from, Some(date(2026, 11, 10)));
        assert!(next_step(&o, &Calendar::default()).is_none());
    }

    #[test]
    fn refusal_ends_the_publication() {
        let o = replay(
            &BY_INITIATOR,
            &[
                (Submitted, "2026-12-01"),
                (Refused, "2026-12-02"),
                (Resubmitted, "2026-12-03"),
            ],
            "2026-12-03",
        );
        assert_eq!(o.stage.phase, "Refused");
        let e = o.error.unwrap();
        assert_eq!(e.index, 2);
        assert!(e.message.contains("allowed: none"), "{}", e.message);
    }

    #[test]
    fn every_deadline_of_publication_by_owner() {
        // p.29: operator checks in 3 working days.
        let o = replay(&BY_OWNER, &[(Submitted, "2026-12-01")], "2026-12-03");
        assert_eq!(
            (o.stage.phase, due_of(&o)),
            ("OperatorCheck", Some(date(2026, 12, 4)))
        );
        // p.30: publishes within 10 working days.
        let o = replay(
            &BY_OWNER,
            &[(Submitted, "2026-12-01"), (OperatorApproved, "2026-12-02")],
            "2026-12-03",
        );
        assert_eq!(
            (o.stage.phase, due_of(&o)),
            ("AwaitingPublication", Some(date(2026, 12, 17)))
        );
        // Rework has no deadline in §2.
        let o = replay(
            &BY_OWNER,
            &[(Submitted, "2026-12-01"), (OperatorReturned, "2026-12-02")],
            "2026-12-03",
        );
        assert_eq!((o.stage.phase, due_of(&o)), ("Rework", None));
        let o = replay(
            &BY_OWNER,
            &[
                (Submitted, "2026-12-01"),
                (OperatorApproved, "2026-12-02"),
                (Published, "2026-12-03"),
            ],
            "2026-12-03",
        );
        assert_eq!(o.stage.access, Access::TestAndProduction);
    }

    #[test]
    fn every_deadline_of_service_actualization() {
        let base = [
            (Submitted, "2026-11-01"),
            (OperatorApproved, "2026-11-02"),
            (Published, "2026-11-03"),
        ];
        // p.45-9: 3 working days to check.
        let mut evs = base.to_vec();
        evs.push((ActualizationRequested, "2026-12-01"));
        let o = replay(&BY_OWNER, &evs, "2026-12-03");
        assert_eq!(
            (o.stage.phase, due_of(&o)),
            ("Published", Some(date(2026, 12, 4)))
        );
        // p.45-10: 10 working days to actualize.
        evs.push((ActualizationApproved, "2026-12-02"));
        let o = replay(&BY_OWNER, &evs, "2026-12-03");
        assert_eq!(
            (o.stage.id, due_of(&o)),
            ("Actualizing", Some(date(2026, 12, 17)))
        );
        evs.push((Actualized, "2026-12-03"));
        let o = replay(&BY_OWNER, &evs, "2026-12-03");
        assert_eq!(
            (o.stage.id, o.stage.access),
            ("Published", Access::TestAndProduction)
        );
    }

    #[test]
    fn a_disallowed_event_names_the_allowed_ones() {
        let o = replay(
            &BY_OWNER,
            &[(Submitted, "2026-12-01"), (TestAccessGranted, "2026-12-02")],
            "2026-12-03",
        );
        let e = o.error.unwrap();
        assert_eq!(e.reason, "EventNotAllowed");
        assert!(
            e.message.contains("spec.publication.events[1]"),
            "{}",
            e.message
        );
        assert!(
            e.message
                .contains("allowed: OperatorApproved, OperatorReturned"),
            "{}",
            e.message
        );
        assert_eq!(o.stage.phase, "OperatorCheck");
    }

    #[test]
    fn returns_must_carry_reasons() {
        let mut events = vec![
            ev(Submitted, "2026-12-01"),
            ev(OperatorReturned, "2026-12-02"),
        ];
        events[1].reason = None;
        let o = run(
            &BY_OWNER,
            &events,
            "spec.publication.events",
            date(2026, 12, 1),
            noon("2026-12-03"),
        );
        let e = o.error.unwrap();
        assert_eq!(e.reason, "ReasonRequired");
        assert!(e.message.contains("events[1].reason"), "{}", e.message);
    }

    #[test]
    fn events_out_of_order_or_in_the_future_stall() {
        let o = replay(
            &BY_OWNER,
            &[(Submitted, "2026-12-02"), (OperatorApproved, "2026-12-01")],
            "2026-12-03",
        );
        assert_eq!(o.error.unwrap().reason, "EventOutOfOrder");
        let o = replay(&BY_OWNER, &[(Submitted, "2026-12-05")], "2026-12-03");
        assert_eq!(o.error.unwrap().reason, "EventInFuture");
    }

    #[test]
    fn deadline_exceeded_after_the_due_date_only() {
        let o = replay(&BY_OWNER, &[(Submitted, "2026-12-01")], "2026-12-04");
        let step = next_step(&o, &Calendar::default()).unwrap();
        assert_eq!(step.due, Some(date(2026, 12, 4)));
        assert!(!exceeded(&step, noon("2026-12-04")));
        assert!(!exceeded(
            &step,
            "2026-12-04T23:59:00+05:00".parse().unwrap()
        ));
        assert!(exceeded(
            &step,
            "2026-12-05T00:00:01+05:00".parse().unwrap()
        ));
    }
}
