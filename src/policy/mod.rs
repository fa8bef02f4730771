//! Pure rules that decide what must be suspended and when services are in maintenance: suspension
//! causes (p.4, p.7, p.8, p.51, p.65, App.6), tech windows (p.48, p.50), and the availability index
//! (App.7).

pub mod availability;
pub mod suspension;
pub mod tech_window;

/// The outcome of one check, as it goes into a condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// `True`, `False` or `Unknown`.
    pub status: &'static str,
    /// Machine-readable reason.
    pub reason: String,
    /// Human-readable message with the rule.
    pub message: String,
}

impl Check {
    /// A check that passed.
    pub fn yes(reason: &str, message: &str) -> Self {
        Self {
            status: "True",
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A check that failed.
    pub fn no(reason: &str, message: &str) -> Self {
        Self {
            status: "False",
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A check that cannot be decided (a reference is missing).
    pub fn unknown(reason: &str, message: &str) -> Self {
        Self {
            status: "Unknown",
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// Whether it passed.
    pub fn ok(&self) -> bool {
        self.status == "True"
    }
}
