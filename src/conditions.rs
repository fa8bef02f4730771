//! Condition builders (metav1.Condition with observedGeneration), kstatus-compatible so that Flux and
//! Argo CD health checks work (DESIGN §2).

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::policy::Check;

/// A desired condition before it is merged with what the object had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cond {
    /// Condition type.
    pub type_: &'static str,
    /// `True`, `False` or `Unknown`.
    pub status: &'static str,
    /// CamelCase reason.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
}

impl Cond {
    /// A condition of `type_` from a check.
    pub fn from_check(type_: &'static str, c: &Check) -> Self {
        Self {
            type_,
            status: c.status,
            reason: c.reason.clone(),
            message: c.message.clone(),
        }
    }

    /// A condition that holds.
    pub fn yes(type_: &'static str, reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            type_,
            status: "True",
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A condition that does not hold.
    pub fn no(type_: &'static str, reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            type_,
            status: "False",
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// True or false by `b`.
    pub fn when(
        type_: &'static str,
        b: bool,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        if b {
            Self::yes(type_, reason, message)
        } else {
            Self::no(type_, reason, message)
        }
    }
}

/// Makes a reason valid for metav1.Condition (`^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`).
pub fn sanitize_reason(r: &str) -> String {
    let mut s: String = r
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s.insert(0, 'R');
    }
    s.truncate(1024);
    s
}

/// Merges desired conditions with the previous ones: `lastTransitionTime` moves only when the
/// status changes; every condition carries the observed generation.
pub fn merge(
    prior: &[Condition],
    desired: Vec<Cond>,
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    desired
        .into_iter()
        .map(|d| {
            let before = prior.iter().find(|p| p.type_ == d.type_);
            let last = match before {
                Some(p) if p.status == d.status => p.last_transition_time.clone(),
                _ => Time(now),
            };
            Condition {
                type_: d.type_.to_string(),
                status: d.status.to_string(),
                reason: sanitize_reason(&d.reason),
                message: d.message.chars().take(32768).collect(),
                last_transition_time: last,
                observed_generation: generation,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_time_moves_only_on_status_change() {
        let t0: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        let t1: Timestamp = "2026-12-02T00:00:00Z".parse().unwrap();
        let first = merge(&[], vec![Cond::yes("Ready", "Ok", "fine")], Some(1), t0);
        let same = merge(
            &first,
            vec![Cond::yes("Ready", "Ok", "still fine")],
            Some(2),
            t1,
        );
        assert_eq!(same[0].last_transition_time.0, t0);
        assert_eq!(same[0].observed_generation, Some(2));
        let flipped = merge(&same, vec![Cond::no("Ready", "Broken", "no")], Some(2), t1);
        assert_eq!(flipped[0].last_transition_time.0, t1);
    }

    #[test]
    fn reasons_are_made_valid() {
        assert_eq!(sanitize_reason("Not Granted!"), "NotGranted");
        assert_eq!(sanitize_reason("3x"), "R3x");
        assert_eq!(sanitize_reason(""), "R");
    }
}
