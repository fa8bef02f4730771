//! shep-operator: Kazakhstan's e-government integration rules as a Kubernetes operator.
#![warn(missing_docs)]

pub mod api;
pub mod calendar;
pub mod journal;
pub mod lifecycle;
pub mod policy;
