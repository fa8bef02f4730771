//! shep-operator: Kazakhstan's e-government integration rules as a Kubernetes operator.
#![warn(missing_docs)]

pub mod api;
pub mod calendar;
pub mod certificate;
pub mod commands;
pub mod conditions;
pub mod controller;
pub mod decide;
pub mod journal;
pub mod lifecycle;
pub mod manifest;
pub mod plan;
pub mod policy;
pub mod prometheus;
pub mod render;
pub mod route;
pub mod snapshot;
pub mod status;
