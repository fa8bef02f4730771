//! Technological breaks (p.48, p.50): lead time, default hours, agreement, and whether a window is
//! active now.

use jiff::Timestamp;
use jiff::civil::{Date, Time};

use super::Check;
use crate::api::{Party, TechWindowSpec, WindowKind};
use crate::calendar::{Calendar, almaty, local_date, start_of_day};

/// p.48: working days between the announcement and the start of a planned break.
pub const LEAD_WORKING_DAYS: u32 = 3;

/// What the rules say of a tech window now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowAssessment {
    /// p.48: agreed with owner, initiator and operator.
    pub agreed: Check,
    /// p.48: announced 3 working days ahead.
    pub lead_time: Check,
    /// p.48: within 21:00-06:00, weekends and holidays.
    pub default_hours: Check,
    /// Whether the break is in progress at `now`.
    pub active: bool,
    /// `Scheduled`, `Active` or `Completed`.
    pub phase: &'static str,
    /// The earliest start that meets the lead time (planned breaks).
    pub earliest_start: Option<Date>,
    /// The next instant at which `active` changes.
    pub next_change: Option<Timestamp>,
}

/// The first instant of `[start, end)` that lies outside the default hours of p.48 (21:00-06:00 on
/// working days, any time on weekends and holidays), if any.
pub fn first_outside_default_hours(
    start: Timestamp,
    end: Timestamp,
    calendar: &Calendar,
) -> Option<Timestamp> {
    let tz = almaty();
    let mut t = start;
    // Each step moves to the next boundary of a day (00:00, 06:00 or 21:00), so a window of at most
    // 31 days takes at most ~100 steps; the bound keeps hostile input cheap.
    for _ in 0..1000 {
        if t >= end {
            return None;
        }
        let z = t.to_zoned(tz.clone());
        let date = z.date();
        let next_day = start_of_day(date.tomorrow().ok()?);
        if !calendar.is_working_day(date) {
            t = next_day;
            continue;
        }
        let time = z.time();
        if time < Time::constant(6, 0, 0, 0) {
            t = date.at(6, 0, 0, 0).to_zoned(tz.clone()).ok()?.timestamp();
        } else if time >= Time::constant(21, 0, 0, 0) {
            t = next_day;
        } else {
            return Some(t);
        }
    }
    None
}

/// Assesses a window. `has_initiators` says whether any connection uses an affected service (then
/// the initiators' agreement is required too).
pub fn assess(
    spec: &TechWindowSpec,
    has_initiators: bool,
    now: Timestamp,
    calendar: &Calendar,
) -> WindowAssessment {
    let active = spec.start <= now && now < spec.end;
    let phase = if now < spec.start {
        "Scheduled"
    } else if active {
        "Active"
    } else {
        "Completed"
    };
    let next_change = if now < spec.start {
        Some(spec.start)
    } else if now < spec.end {
        Some(spec.end)
    } else {
        None
    };

    let (lead_time, earliest_start) = match spec.kind {
        WindowKind::Planned => {
            let earliest =
                calendar.add_working_days(local_date(spec.announced_at), LEAD_WORKING_DAYS);
            let start_day = local_date(spec.start);
            let check = if start_day >= earliest {
                Check::yes(
                    "Announced",
                    &format!(
                        "announced {} working days or more before the start; the earliest start was {earliest} (p.48)",
                        LEAD_WORKING_DAYS
                    ),
                )
            } else {
                let had = calendar.working_days_between(local_date(spec.announced_at), start_day);
                Check::no(
                    "AnnouncedTooLate",
                    &format!(
                        "announced at {} for {}: {had} working day(s) ahead, {LEAD_WORKING_DAYS} required; the earliest allowed start was {earliest} (p.48)",
                        crate::calendar::show(spec.announced_at),
                        crate::calendar::show(spec.start)
                    ),
                )
            };
            (check, Some(earliest))
        }
        WindowKind::Emergency => (
            Check::yes("NotRequired", "emergency works: no lead time applies"),
            None,
        ),
        WindowKind::Reboot => (
            Check::yes(
                "NotRequired",
                "reboot out of technical need: announced with the time of works (p.50)",
            ),
            None,
        ),
    };

    let agreed = match spec.kind {
        WindowKind::Planned => {
            let mut needed = vec![Party::Owner, Party::Operator];
            if has_initiators {
                needed.push(Party::Initiator);
            }
            let missing: Vec<String> = needed
                .iter()
                .filter(|p| {
                    !spec
                        .agreements
                        .iter()
                        .any(|a| a.party == **p && a.at <= spec.start)
                })
                .map(|p| format!("{p:?}"))
                .collect();
            if missing.is_empty() {
                Check::yes(
                    "Agreed",
                    "agreed with the owner, the initiators and the operator (p.48)",
                )
            } else {
                Check::no(
                    "NotAgreed",
                    &format!(
                        "not yet agreed by: {} (p.48: agreed with owner, initiator and operator before the start)",
                        missing.join(", ")
                    ),
                )
            }
        }
        WindowKind::Emergency => Check::yes(
            "NotRequired",
            "emergency works are announced, not agreed ahead",
        ),
        WindowKind::Reboot => Check::yes(
            "NotRequired",
            "a reboot is announced to the other administrators (p.50)",
        ),
    };

    let default_hours = match first_outside_default_hours(spec.start, spec.end, calendar) {
        None => Check::yes(
            "DefaultHours",
            "within 21:00-06:00, weekends and holidays (p.48)",
        ),
        Some(t) => Check::no(
            "OutsideDefaultHours",
            &format!(
                "the break runs into working hours at {} (Asia/Almaty); by default breaks fall at night 21:00-06:00, on weekends and holidays (p.48)",
                t.to_zoned(almaty()).strftime("%Y-%m-%d %H:%M")
            ),
        ),
    };

    WindowAssessment {
        agreed,
        lead_time,
        default_hours,
        active,
        phase,
        earliest_start,
        next_change,
    }
}

/// Hours of `[start, end)` clipped to `[from, to)`.
pub fn overlap(
    start: Timestamp,
    end: Timestamp,
    from: Timestamp,
    to: Timestamp,
) -> Option<(Timestamp, Timestamp)> {
    let s = start.max(from);
    let e = end.min(to);
    (s < e).then_some((s, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{LocalName, Targets, WindowAgreement};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn window(kind: WindowKind, start: &str, end: &str, announced: &str) -> TechWindowSpec {
        TechWindowSpec {
            targets: Targets {
                services: vec![LocalName { name: "svc".into() }],
                system: None,
            },
            contours: vec![crate::api::Contour::Production],
            start: ts(start),
            end: ts(end),
            kind,
            reason: "upgrade".into(),
            announced_at: ts(announced),
            agreements: vec![],
        }
    }

    fn cal() -> Calendar {
        Calendar::default()
    }

    #[test]
    fn p48_lead_time_of_three_working_days() {
        // Announced Monday 7 Dec 2026: the earliest start is Thursday 10 Dec.
        let w = window(
            WindowKind::Planned,
            "2026-12-10T22:00:00+05:00",
            "2026-12-11T02:00:00+05:00",
            "2026-12-07T10:00:00+05:00",
        );
        let a = assess(&w, false, ts("2026-12-07T12:00:00+05:00"), &cal());
        assert!(a.lead_time.ok(), "{:?}", a.lead_time);
        assert_eq!(a.earliest_start, Some(jiff::civil::date(2026, 12, 10)));
        let w = window(
            WindowKind::Planned,
            "2026-12-09T22:00:00+05:00",
            "2026-12-10T02:00:00+05:00",
            "2026-12-07T10:00:00+05:00",
        );
        let a = assess(&w, false, ts("2026-12-07T12:00:00+05:00"), &cal());
        assert_eq!(a.lead_time.reason, "AnnouncedTooLate");
        assert!(
            a.lead_time.message.contains("2 working day(s) ahead"),
            "{}",
            a.lead_time.message
        );
        // Emergency works need no lead time.
        let w = window(
            WindowKind::Emergency,
            "2026-12-07T13:00:00+05:00",
            "2026-12-07T14:00:00+05:00",
            "2026-12-07T12:30:00+05:00",
        );
        assert!(
            assess(&w, false, ts("2026-12-07T12:40:00+05:00"), &cal())
                .lead_time
                .ok()
        );
    }

    #[test]
    fn p48_lead_time_counts_holidays_as_non_working() {
        // Announced Monday 14 Dec 2026: 15 (1), 16 holiday, 17 (2), 18 (3): earliest Friday 18 Dec.
        let w = window(
            WindowKind::Planned,
            "2026-12-17T22:00:00+05:00",
            "2026-12-17T23:00:00+05:00",
            "2026-12-14T10:00:00+05:00",
        );
        let a = assess(&w, false, ts("2026-12-14T12:00:00+05:00"), &cal());
        assert_eq!(a.lead_time.reason, "AnnouncedTooLate");
        assert_eq!(a.earliest_start, Some(jiff::civil::date(2026, 12, 18)));
    }

    #[test]
    fn p48_default_hours() {
        let c = cal();
        // Thursday night 21:00 to Friday 06:00: inside.
        assert_eq!(
            first_outside_default_hours(
                ts("2026-12-10T21:00:00+05:00"),
                ts("2026-12-11T06:00:00+05:00"),
                &c
            ),
            None
        );
        // Until 06:30: outside from 06:00.
        assert_eq!(
            first_outside_default_hours(
                ts("2026-12-10T21:00:00+05:00"),
                ts("2026-12-11T06:30:00+05:00"),
                &c
            ),
            Some(ts("2026-12-11T06:00:00+05:00"))
        );
        // The whole of Saturday and Sunday: inside.
        assert_eq!(
            first_outside_default_hours(
                ts("2026-12-12T00:00:00+05:00"),
                ts("2026-12-14T06:00:00+05:00"),
                &c
            ),
            None
        );
        // Wednesday 16 December (Independence Day) daytime: inside.
        assert_eq!(
            first_outside_default_hours(
                ts("2026-12-16T10:00:00+05:00"),
                ts("2026-12-16T15:00:00+05:00"),
                &c
            ),
            None
        );
        // A Thursday afternoon: outside at once.
        assert_eq!(
            first_outside_default_hours(
                ts("2026-12-10T14:00:00+05:00"),
                ts("2026-12-10T15:00:00+05:00"),
                &c
            ),
            Some(ts("2026-12-10T14:00:00+05:00"))
        );
    }

    #[test]
    fn p48_agreement_of_all_parties() {
        let mut w = window(
            WindowKind::Planned,
            "2026-12-12T01:00:00+05:00",
            "2026-12-12T03:00:00+05:00",
            "2026-12-01T10:00:00+05:00",
        );
        let a = assess(&w, true, ts("2026-12-03T12:00:00+05:00"), &cal());
        assert_eq!(a.agreed.reason, "NotAgreed");
        assert!(
            a.agreed.message.contains("Owner, Operator, Initiator"),
            "{}",
            a.agreed.message
        );
        for p in [Party::Owner, Party::Operator] {
            w.agreements.push(WindowAgreement {
                party: p,
                by: "x".into(),
                at: ts("2026-12-02T10:00:00Z"),
            });
        }
        assert!(
            assess(&w, false, ts("2026-12-03T12:00:00+05:00"), &cal())
                .agreed
                .ok()
        );
        assert!(
            !assess(&w, true, ts("2026-12-03T12:00:00+05:00"), &cal())
                .agreed
                .ok()
        );
    }

    #[test]
    fn active_and_next_change() {
        let w = window(
            WindowKind::Reboot,
            "2026-12-12T01:00:00+05:00",
            "2026-12-12T03:00:00+05:00",
            "2026-12-11T10:00:00+05:00",
        );
        let before = assess(&w, false, ts("2026-12-12T00:00:00+05:00"), &cal());
        assert_eq!(
            (before.phase, before.active, before.next_change),
            ("Scheduled", false, Some(w.start))
        );
        let during = assess(&w, false, ts("2026-12-12T02:00:00+05:00"), &cal());
        assert_eq!(
            (during.phase, during.active, during.next_change),
            ("Active", true, Some(w.end))
        );
        let after = assess(&w, false, ts("2026-12-12T03:00:00+05:00"), &cal());
        assert_eq!(
            (after.phase, after.active, after.next_change),
            ("Completed", false, None)
        );
    }
}
