//! Deadlines of steps: the due date in working days (or months) from the day a step opened, whether
//! it is exceeded, and when that can next change.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};

use super::{Limit, Outcome};
use crate::api::NextStep;
use crate::calendar::{Calendar, local_date, next_day_start};

/// The last local date on which a step opened on `opened` may be done.
pub fn due(limit: Limit, opened: Date, calendar: &Calendar) -> Option<Date> {
    match limit {
        Limit::None => None,
        Limit::WorkingDays(n) => Some(calendar.add_working_days(opened, n)),
        // "At most 3 months": the same day number three months on (clamped to the month's end).
        Limit::Months(n) => opened.checked_add(n.months()).ok(),
    }
}

/// The step the process waits for, with its due date.
pub fn next_step(outcome: &Outcome, calendar: &Calendar) -> Option<NextStep> {
    let step = outcome.stage.step?;
    Some(NextStep {
        party: step.party,
        action: step.action.to_string(),
        rule: step.rule.to_string(),
        opened: outcome.opened,
        due: due(step.limit, outcome.opened, calendar),
    })
}

/// Whether a step is past its due date at `now` (the whole due date counts, in Asia/Almaty).
pub fn exceeded(step: &NextStep, now: Timestamp) -> bool {
    step.due.is_some_and(|d| local_date(now) > d)
}

/// The instant at which [`exceeded`] turns true, if it has not yet.
pub fn exceeds_at(step: &NextStep, now: Timestamp) -> Option<Timestamp> {
    let d = step.due?;
    let at = next_day_start(d);
    (at > now).then_some(at)
}

/// A message that says who is late with what.
pub fn exceeded_message(step: &NextStep, now: Timestamp, calendar: &Calendar) -> String {
    let today = local_date(now);
    let due = step.due.unwrap_or(today);
    let late = calendar.working_days_between(due, today);
    format!(
        "{:?} had to {} by {} ({}; opened {}); {} working day(s) late on {}",
        step.party, step.action, due, step.rule, step.opened, late, today
    )
}
