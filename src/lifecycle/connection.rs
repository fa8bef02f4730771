//! Connection of an initiator to a published service (chapter 2 §3, p.32-45), the state-body path
//! (§4, p.45-1..45-7), and actualization of a connection (§6, p.45-12..45-15).

use super::{Access, Limit, Process, Stage, StepSpec, Transition};
use crate::api::Party;

use Access::{None as NoAccess, Test, TestAndProduction as Both};
use Limit::{Months, None as NoLimit, WorkingDays as Wd};
use Party::{All, Initiator, Operator, Owner};

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

const fn testing(rule: &'static str) -> Stage {
    Stage {
        id: "Testing",
        phase: "Testing",
        step: Some(StepSpec {
            party: All,
            action: "test the integration until a positive result; the initiator then forms and signs the act (App.4)",
            rule,
            limit: Months(3),
        }),
        access: Test,
        testing: true,
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

const REASONED: &[&str] = &[
    "Refused",
    "OperatorReturned",
    "TestActReturned",
    "ActualizationReturned",
];

/// The stages from test access on, shared by both paths (p.45-6 applies p.38-45 to state bodies).
const AFTER_TEST_ACCESS: [Stage; 9] = [
    st(
        "ActByOwner",
        "ActApproval",
        Owner,
        "agree and sign the test-and-commissioning act and send it to the operator",
        "p.43",
        Wd(3),
        Test,
    ),
    st(
        "ActOperatorReview",
        "ActApproval",
        Operator,
        "review the test-and-commissioning act",
        "p.44",
        Wd(3),
        Test,
    ),
    st(
        "ActRework",
        "Rework",
        Initiator,
        "rework the returned act and resubmit it",
        "p.45",
        Wd(3),
        Test,
    ),
    st(
        "AwaitingProductionAccess",
        "AwaitingProductionAccess",
        Operator,
        "agree the act and grant production access",
        "p.45",
        Wd(10),
        Test,
    ),
    idle("Active", "Active", Both),
    idle("Refused", "Refused", NoAccess),
    st(
        "ActualizationCheck",
        "Active",
        Operator,
        "check the actualization application (App.9) and actualize or return it with reasons",
        "p.45-13",
        Wd(3),
        Both,
    ),
    st(
        "ActualizationRework",
        "Active",
        Initiator,
        "rework the returned actualization application (App.9)",
        "p.45-13",
        NoLimit,
        Both,
    ),
    st(
        "Actualizing",
        "Active",
        Operator,
        "actualize the connection",
        "p.45-14",
        Wd(10),
        Both,
    ),
];

const AFTER_TEST_ACCESS_TRANSITIONS: [Transition; 12] = [
    tr("Testing", "TestActSignedByInitiator", "ActByOwner"),
    tr("ActByOwner", "TestActSignedByOwner", "ActOperatorReview"),
    tr(
        "ActOperatorReview",
        "TestActApproved",
        "AwaitingProductionAccess",
    ),
    tr("ActOperatorReview", "TestActReturned", "ActRework"),
    tr("ActRework", "Resubmitted", "ActOperatorReview"),
    tr(
        "AwaitingProductionAccess",
        "ProductionAccessGranted",
        "Active",
    ),
    tr("Active", "ActualizationRequested", "ActualizationCheck"),
    tr("ActualizationCheck", "ActualizationApproved", "Actualizing"),
    tr(
        "ActualizationCheck",
        "ActualizationReturned",
        "ActualizationRework",
    ),
    tr("ActualizationRework", "Resubmitted", "ActualizationCheck"),
    tr("Actualizing", "Actualized", "Active"),
    tr("AwaitingTestAccess", "TestAccessGranted", "Testing"),
];

static STANDARD_STAGES: [Stage; 15] = [
    st(
        "Draft",
        "Draft",
        Initiator,
        "find the service in the registry, file the connection application (App.5) and accept the conditions",
        "p.32",
        NoLimit,
        NoAccess,
    ),
    st(
        "OwnerReview",
        "OwnerReview",
        Owner,
        "answer the connection application; a refusal states its reasons",
        "p.34",
        Wd(2),
        NoAccess,
    ),
    st(
        "OperatorCheck",
        "OperatorCheck",
        Operator,
        "check the application for completeness and correctness",
        "p.35",
        Wd(3),
        NoAccess,
    ),
    st(
        "InitiatorRework",
        "Rework",
        Initiator,
        "rework the returned application and resubmit it",
        "p.36",
        Wd(3),
        NoAccess,
    ),
    st(
        "AwaitingTestAccess",
        "AwaitingTestAccess",
        Operator,
        "grant test-environment access",
        "p.37",
        Wd(10),
        NoAccess,
    ),
    testing("p.38, p.42"),
    AFTER_TEST_ACCESS[0],
    AFTER_TEST_ACCESS[1],
    AFTER_TEST_ACCESS[2],
    AFTER_TEST_ACCESS[3],
    AFTER_TEST_ACCESS[4],
    AFTER_TEST_ACCESS[5],
    AFTER_TEST_ACCESS[6],
    AFTER_TEST_ACCESS[7],
    AFTER_TEST_ACCESS[8],
];

static STANDARD_TRANSITIONS: [Transition; 18] = [
    tr("Draft", "Submitted", "OwnerReview"),
    tr("OwnerReview", "OwnerApproved", "OperatorCheck"),
    tr("OwnerReview", "Refused", "Refused"),
    tr("OperatorCheck", "OperatorApproved", "AwaitingTestAccess"),
    tr("OperatorCheck", "OperatorReturned", "InitiatorRework"),
    tr("InitiatorRework", "Resubmitted", "OperatorCheck"),
    AFTER_TEST_ACCESS_TRANSITIONS[0],
    AFTER_TEST_ACCESS_TRANSITIONS[1],
    AFTER_TEST_ACCESS_TRANSITIONS[2],
    AFTER_TEST_ACCESS_TRANSITIONS[3],
    AFTER_TEST_ACCESS_TRANSITIONS[4],
    AFTER_TEST_ACCESS_TRANSITIONS[5],
    AFTER_TEST_ACCESS_TRANSITIONS[6],
    AFTER_TEST_ACCESS_TRANSITIONS[7],
    AFTER_TEST_ACCESS_TRANSITIONS[8],
    AFTER_TEST_ACCESS_TRANSITIONS[9],
    AFTER_TEST_ACCESS_TRANSITIONS[10],
    AFTER_TEST_ACCESS_TRANSITIONS[11],
];

/// §3, p.32-45: connection to a service.
pub static STANDARD: Process = Process {
    name: "connection",
    stages: &STANDARD_STAGES,
    transitions: &STANDARD_TRANSITIONS,
    reasoned: REASONED,
};

static STATE_STAGES: [Stage; 14] = [
    st(
        "Draft",
        "Draft",
        Initiator,
        "find the service in the registry and file the connection application (App.5); the owner is only notified",
        "p.45-2",
        NoLimit,
        NoAccess,
    ),
    st(
        "OperatorCheck",
        "OperatorCheck",
        Operator,
        "check the application for completeness and correctness (the owner is only notified)",
        "p.45-3",
        Wd(3),
        NoAccess,
    ),
    st(
        "InitiatorRework",
        "Rework",
        Initiator,
        "rework the returned application and resubmit it",
        "p.45-4",
        Wd(3),
        NoAccess,
    ),
    st(
        "AwaitingTestAccess",
        "AwaitingTestAccess",
        Operator,
        "grant test-environment access",
        "p.45-5",
        Wd(10),
        NoAccess,
    ),
    testing("p.45-6, p.38, p.42"),
    AFTER_TEST_ACCESS[0],
    AFTER_TEST_ACCESS[1],
    AFTER_TEST_ACCESS[2],
    AFTER_TEST_ACCESS[3],
    AFTER_TEST_ACCESS[4],
    AFTER_TEST_ACCESS[5],
    AFTER_TEST_ACCESS[6],
    AFTER_TEST_ACCESS[7],
    AFTER_TEST_ACCESS[8],
];

static STATE_TRANSITIONS: [Transition; 16] = [
    tr("Draft", "Submitted", "OperatorCheck"),
    tr("OperatorCheck", "OperatorApproved", "AwaitingTestAccess"),
    tr("OperatorCheck", "OperatorReturned", "InitiatorRework"),
    tr("InitiatorRework", "Resubmitted", "OperatorCheck"),
    AFTER_TEST_ACCESS_TRANSITIONS[0],
    AFTER_TEST_ACCESS_TRANSITIONS[1],
    AFTER_TEST_ACCESS_TRANSITIONS[2],
    AFTER_TEST_ACCESS_TRANSITIONS[3],
    AFTER_TEST_ACCESS_TRANSITIONS[4],
    AFTER_TEST_ACCESS_TRANSITIONS[5],
    AFTER_TEST_ACCESS_TRANSITIONS[6],
    AFTER_TEST_ACCESS_TRANSITIONS[7],
    AFTER_TEST_ACCESS_TRANSITIONS[8],
    AFTER_TEST_ACCESS_TRANSITIONS[9],
    AFTER_TEST_ACCESS_TRANSITIONS[10],
    AFTER_TEST_ACCESS_TRANSITIONS[11],
];

/// §4, p.45-1..45-7: a state body's system connecting to a state body's service. The owner's
/// approval is skipped; the owner is only notified.
pub static STATE_TO_STATE: Process = Process {
    name: "state-body connection",
    stages: &STATE_STAGES,
    transitions: &STATE_TRANSITIONS,
    reasoned: REASONED,
};

/// The process for a connection: the state-body path when both systems are state systems.
pub fn process(state_to_state: bool) -> &'static Process {
    if state_to_state {
        &STATE_TO_STATE
    } else {
        &STANDARD
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApplicationEventType::{self, *};
    use crate::calendar::Calendar;
    use crate::lifecycle::deadlines::next_step;
    use crate::lifecycle::testutil::{ev, noon};
    use crate::lifecycle::{Outcome, run};
    use jiff::civil::{Date, date};

    fn replay(p: &Process, evs: &[(ApplicationEventType, &str)]) -> Outcome {
        let events: Vec<_> = evs.iter().map(|(t, d)| ev(*t, d)).collect();
        run(
            p,
            &events,
            "spec.application.events",
            date(2026, 1, 5),
            noon("2026-12-03"),
        )
    }

    fn check(
        p: &Process,
        evs: &[(ApplicationEventType, &str)],
        phase: &str,
        party: Party,
        due: Option<Date>,
    ) {
        let o = replay(p, evs);
        assert!(o.error.is_none(), "{evs:?}: {:?}", o.error);
        assert_eq!(o.stage.phase, phase, "{evs:?}");
        let s = next_step(&o, &Calendar::default()).unwrap();
        assert_eq!((s.party, s.due), (party, due), "{evs:?}");
    }

    const TO_TESTING: [(ApplicationEventType, &str); 4] = [
        (Submitted, "2026-09-01"),
        (OwnerApproved, "2026-09-02"),
        (OperatorApproved, "2026-09-03"),
        (TestAccessGranted, "2026-09-30"),
    ];

    fn with(
        extra: &[(ApplicationEventType, &'static str)],
    ) -> Vec<(ApplicationEventType, &'static str)> {
        let mut v = TO_TESTING.to_vec();
        v.extend_from_slice(extra);
        v
    }

    #[test]
    fn every_deadline_of_a_connection() {
        let p = &STANDARD;
        check(p, &[], "Draft", Initiator, None);
        // p.34: owner answers in 2 working days: Tue 1 Dec -> Thu 3 Dec.
        check(
            p,
            &[(Submitted, "2026-12-01")],
            "OwnerReview",
            Owner,
            Some(date(2026, 12, 3)),
        );
        // p.35: operator checks in 3 working days: Wed 2 Dec -> Mon 7 Dec.
        check(
            p,
            &[(Submitted, "2026-12-01"), (OwnerApproved, "2026-12-02")],
            "OperatorCheck",
            Operator,
            Some(date(2026, 12, 7)),
        );
        // p.36: initiator reworks in 3 working days: Thu 3 Dec -> Tue 8 Dec.
        check(
            p,
            &[
                (Submitted, "2026-12-01"),
                (OwnerApproved, "2026-12-02"),
                (OperatorReturned, "2026-12-03"),
            ],
            "Rework",
            Initiator,
            Some(date(2026, 12, 8)),
        );
        // p.37: test access in 10 working days: Thu 3 Dec -> Fri 18 Dec (16 Dec off).
        check(
            p,
            &[
                (Submitted, "2026-12-01"),
                (OwnerApproved, "2026-12-02"),
                (OperatorApproved, "2026-12-03"),
            ],
            "AwaitingTestAccess",
            Operator,
            Some(date(2026, 12, 18)),
        );
        // p.38: testing at most 3 months: 30 Sep -> 30 Dec.
        check(p, &TO_TESTING, "Testing", All, Some(date(2026, 12, 30)));
        // p.43: owner signs the act in 3 working days.
        check(
            p,
            &with(&[(TestActSignedByInitiator, "2026-12-01")]),
            "ActApproval",
            Owner,
            Some(date(2026, 12, 4)),
        );
        // p.44: operator reviews in 3 working days.
        check(
            p,
            &with(&[
                (TestActSignedByInitiator, "2026-12-01"),
                (TestActSignedByOwner, "2026-12-02"),
            ]),
            "ActApproval",
            Operator,
            Some(date(2026, 12, 7)),
        );
        // p.45: initiator reworks the act in 3 working days.
        check(
            p,
            &with(&[
                (TestActSignedByInitiator, "2026-12-01"),
                (TestActSignedByOwner, "2026-12-02"),
                (TestActReturned, "2026-12-03"),
            ]),
            "Rework",
            Initiator,
            Some(date(2026, 12, 8)),
        );
        // p.45: production access in 10 working days.
        check(
            p,
            &with(&[
                (TestActSignedByInitiator, "2026-12-01"),
                (TestActSignedByOwner, "2026-12-02"),
                (TestActApproved, "2026-12-03"),
            ]),
            "AwaitingProductionAccess",
            Operator,
            Some(date(2026, 12, 18)),
        );
    }

    #[test]
    fn active_after_production_access() {
        let o = replay(
            &STANDARD,
            &with(&[
                (TestActSignedByInitiator, "2026-12-01"),
                (TestActSignedByOwner, "2026-12-02"),
                (TestActApproved, "2026-12-02"),
                (ProductionAccessGranted, "2026-12-03"),
            ]),
        );
        assert_eq!(o.stage.phase, "Active");
        assert_eq!(o.stage.access, Access::TestAndProduction);
        assert_eq!(o.test_access_from, Some(date(2026, 9, 30)));
    }

    #[test]
    fn every_deadline_of_connection_actualization() {
        let active = with(&[
            (TestActSignedByInitiator, "2026-11-01"),
            (TestActSignedByOwner, "2026-11-02"),
            (TestActApproved, "2026-11-02"),
            (ProductionAccessGranted, "2026-11-03"),
        ]);
        let mut evs = active.clone();
        evs.push((ActualizationRequested, "2026-12-01"));
        // p.45-13: 3 working days to check; the connection stays Active meanwhile.
        check(&STANDARD, &evs, "Active", Operator, Some(date(2026, 12, 4)));
        evs.push((ActualizationApproved, "2026-12-02"));
        // p.45-14: 10 working days to actualize.
        check(
            &STANDARD,
            &evs,
            "Active",
            Operator,
            Some(date(2026, 12, 17)),
        );
        let mut ret = active;
        ret.push((ActualizationRequested, "2026-12-01"));
        ret.push((ActualizationReturned, "2026-12-02"));
        check(&STANDARD, &ret, "Active", Initiator, None);
    }

    #[test]
    fn state_bodies_skip_the_owner() {
        let p = &STATE_TO_STATE;
        // p.45-3: operator checks in 3 working days straight after submission.
        check(
            p,
            &[(Submitted, "2026-12-01")],
            "OperatorCheck",
            Operator,
            Some(date(2026, 12, 4)),
        );
        // p.45-4: initiator reworks in 3 working days.
        check(
            p,
            &[(Submitted, "2026-12-01"), (OperatorReturned, "2026-12-02")],
            "Rework",
            Initiator,
            Some(date(2026, 12, 7)),
        );
        // p.45-5: test access in 10 working days.
        check(
            p,
            &[(Submitted, "2026-12-01"), (OperatorApproved, "2026-12-02")],
            "AwaitingTestAccess",
            Operator,
            Some(date(2026, 12, 17)),
        );
        // p.45-6: testing at most 3 months, then p.38-45.
        check(
            p,
            &[
                (Submitted, "2026-09-01"),
                (OperatorApproved, "2026-09-02"),
                (TestAccessGranted, "2026-09-03"),
            ],
            "Testing",
            All,
            Some(date(2026, 12, 3)),
        );
        // The owner's approval is not a step of this path.
        let o = replay(
            p,
            &[(Submitted, "2026-12-01"), (OwnerApproved, "2026-12-02")],
        );
        let e = o.error.unwrap();
        assert!(
            e.message
                .contains("allowed: OperatorApproved, OperatorReturned"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_refused_connection_accepts_nothing_more() {
        let o = replay(
            &STANDARD,
            &[
                (Submitted, "2026-12-01"),
                (Refused, "2026-12-02"),
                (OwnerApproved, "2026-12-03"),
            ],
        );
        assert_eq!(o.stage.phase, "Refused");
        assert_eq!(o.error.unwrap().index, 2);
    }
}
