//! shep-operator: Kazakhstan's e-government integration rules as a Kubernetes operator.
#![warn(missing_docs)]

pub mod api;
pub mod calendar;
pub mod journal;
pub mod lifecycle;
pub mod policy;
pub mod certificate;
pub mod conditions;
pub mod decide;
pub mod snapshot;
pub mod status;
pub mod plan;
pub mod render;
pub mod route;
pub mod manifest;
pub mod commands;
