//! Pure state machines of the approval processes (chapter 2 of the rules).
//!
//! Each process is a table of stages (public phase + the step it waits for, with its deadline) and of
//! transitions allowed by the parties' decision events. [`run`] replays the events recorded in spec
//! and returns where the process stands; an event the table does not allow at that point stops the
//! replay with a message that names the allowed events (the object is then `Stalled`).

pub mod connection;
pub mod deadlines;
pub mod publication;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use crate::api::{DecisionEvent, Party};
use crate::calendar::local_date;

/// How long a step may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// The rules set no deadline.
    None,
    /// N working days from the day the step opened (the opening day not counted).
    WorkingDays(u32),
    /// N calendar months from the day the step opened (testing: p.21, p.38).
    Months(i32),
}

/// The step a stage waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepSpec {
    /// Who must act.
    pub party: Party,
    /// What they must do.
    pub action: &'static str,
    /// The paragraph that sets it.
    pub rule: &'static str,
    /// Its deadline.
    pub limit: Limit,
}

/// Which contours a stage has access to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No access yet (or no longer: refused).
    None,
    /// The test contour (test access granted).
    Test,
    /// Both contours (published, or production access granted).
    TestAndProduction,
}

impl Access {
    /// Whether this access includes a contour.
    pub fn includes(self, c: crate::api::Contour) -> bool {
        match self {
            Access::None => false,
            Access::Test => c == crate::api::Contour::Test,
            Access::TestAndProduction => true,
        }
    }
}

/// One stage of a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stage {
    /// Internal name, unique within the process.
    pub id: &'static str,
    /// The public phase (DESIGN §2).
    pub phase: &'static str,
    /// The step it waits for; `None` for a final or idle stage.
    pub step: Option<StepSpec>,
    /// Which contours are open in this stage.
    pub access: Access,
    /// Whether this is the testing stage whose limit, when passed, suspends (p.21, p.38).
    pub testing: bool,
}

/// A transition allowed by one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// From this stage.
    pub from: &'static str,
    /// On this event type.
    pub event: &'static str,
    /// To this stage.
    pub to: &'static str,
}

/// A process: its stages (the first is the initial one) and transitions.
#[derive(Debug)]
pub struct Process {
    /// Name, for messages.
    pub name: &'static str,
    /// Stages; the first is where a process without events stands.
    pub stages: &'static [Stage],
    /// Allowed transitions.
    pub transitions: &'static [Transition],
    /// Event types that must carry a reason (returns and refusals).
    pub reasoned: &'static [&'static str],
}

impl Process {
    /// The stage with this id.
    pub fn stage(&self, id: &str) -> &'static Stage {
        self.stages
            .iter()
            .find(|s| s.id == id)
            .unwrap_or(&self.stages[0])
    }

    /// The event types allowed from a stage, in table order.
    pub fn allowed(&self, from: &str) -> Vec<&'static str> {
        self.transitions
            .iter()
            .filter(|t| t.from == from)
            .map(|t| t.event)
            .collect()
    }
}

/// One accepted event, as replayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// Index in spec.
    pub index: usize,
    /// Event type.
    pub event: String,
    /// Who recorded it.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// Stage before.
    pub from: &'static str,
    /// Stage after.
    pub to: &'static str,
}

/// Why the replay stopped before the end of the events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventError {
    /// Index of the offending event.
    pub index: usize,
    /// Short machine-readable reason.
    pub reason: &'static str,
    /// A message that names the field and what is allowed.
    pub message: String,
}

/// Where a process stands after replaying its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The current stage.
    pub stage: &'static Stage,
    /// The local date the current stage opened (the date of the event that entered it, or the
    /// object's creation date for the initial stage).
    pub opened: Date,
    /// Every accepted event, in order.
    pub accepted: Vec<Accepted>,
    /// The first event that could not be accepted.
    pub error: Option<EventError>,
    /// The local date test access was granted, when it was.
    pub test_access_from: Option<Date>,
}

/// The serialized name of an event type.
pub fn event_name<E: Serialize>(e: &E) -> String {
    match serde_json::to_value(e) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::from("?"),
    }
}

/// Replays `events` through `process`. `field` is the spec path of the events list, for messages;
/// `created` is the date the process is considered open from when no event has been recorded.
pub fn run<E: Serialize>(
    process: &Process,
    events: &[DecisionEvent<E>],
    field: &str,
    created: Date,
    now: Timestamp,
) -> Outcome {
    let mut stage = &process.stages[0];
    let mut opened = created;
    let mut accepted = Vec::new();
    let mut error = None;
    let mut test_access_from = None;
    let mut last_at: Option<Timestamp> = None;
    for (index, e) in events.iter().enumerate() {
        let name = event_name(&e.type_);
        if e.at > now {
            error = Some(EventError {
                index,
                reason: "EventInFuture",
                message: format!(
                    "{field}[{index}] ({name}) is dated {}, after now ({}); record decisions once taken",
                    crate::calendar::show(e.at),
                    crate::calendar::show(now)
                ),
            });
            break;
        }
        if let Some(prev) = last_at
            && e.at < prev
        {
            error = Some(EventError {
                index,
                reason: "EventOutOfOrder",
                message: format!(
                    "{field}[{index}] ({name}) at {} is earlier than the event before it ({}); events are appended in the order they happened",
                    crate::calendar::show(e.at),
                    crate::calendar::show(prev)
                ),
            });
            break;
        }
        if e.by.trim().is_empty() {
            error = Some(EventError {
                index,
                reason: "EventWithoutAuthor",
                message: format!(
                    "{field}[{index}].by: say who decided ({name}); every document is EDS-certified by an authorized person (p.8)"
                ),
            });
            break;
        }
        let Some(t) = process
            .transitions
            .iter()
            .find(|t| t.from == stage.id && t.event == name)
        else {
            let allowed = process.allowed(stage.id);
            let allowed = if allowed.is_empty() {
                "none: the process has ended".to_string()
            } else {
                allowed.join(", ")
            };
            error = Some(EventError {
                index,
                reason: "EventNotAllowed",
                message: format!(
                    "{field}[{index}]: {name} is not allowed in phase {} ({} process, stage {}); allowed: {allowed}",
                    stage.phase, process.name, stage.id
                ),
            });
            break;
        };
        if process.reasoned.contains(&t.event)
            && e.reason.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            let rule = stage.step.map(|s| s.rule).unwrap_or("p.13");
            error = Some(EventError {
                index,
                reason: "ReasonRequired",
                message: format!("{field}[{index}].reason: {name} must state its reasons ({rule})"),
            });
            break;
        }
        let to = process.stage(t.to);
        let date = local_date(e.at);
        if to.testing {
            test_access_from = Some(date);
        }
        accepted.push(Accepted {
            index,
            event: name,
            by: e.by.clone(),
            at: e.at,
            from: stage.id,
            to: to.id,
        });
        stage = to;
        opened = date;
        last_at = Some(e.at);
    }
    Outcome {
        stage,
        opened,
        accepted,
        error,
        test_access_from,
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers shared by the process tests.
    use super::*;

    /// An event of type `t` on local date `d` at 11:00 Almaty.
    pub fn ev<E>(t: E, d: &str) -> DecisionEvent<E> {
        DecisionEvent {
            type_: t,
            at: format!("{d}T11:00:00+05:00").parse().unwrap(),
            by: "Tester".into(),
            reason: Some("reasons stated".into()),
            signature: None,
        }
    }

    /// A timestamp at noon Almaty of a date.
    pub fn noon(d: &str) -> Timestamp {
        format!("{d}T12:00:00+05:00").parse().unwrap()
    }
}
