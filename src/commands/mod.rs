//! The `shep` command line (DESIGN §6). `main.rs` only parses arguments and calls these.

pub mod calendar;
pub mod journal;
pub mod render;

use std::path::Path;

use crate::calendar::Calendar;

/// A command's failure: a message for the user and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong.
    pub message: String,
    /// Process exit code.
    pub code: i32,
}

impl Failure {
    /// A failure with exit code 2 (bad input or usage).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 2,
        }
    }
}

/// Loads the calendar file, or the built-in calendar when none is given.
pub fn load_calendar(path: Option<&Path>) -> Result<Calendar, Failure> {
    match path {
        None => Ok(Calendar::default()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::usage(format!("--calendar {}: {e}", p.display())))?;
            Calendar::from_yaml(&text)
                .map_err(|e| Failure::usage(format!("--calendar {}: {e}", p.display())))
        }
    }
}

/// `shep crds`: every CRD as multi-document YAML.
pub fn crds() -> Result<String, Failure> {
    serde_saphyr::to_string_multiple(&crate::api::crds())
        .map_err(|e| Failure::usage(format!("cannot print CRDs: {e}")))
}
