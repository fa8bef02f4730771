//! The data plane (`shep route`, DESIGN §4). This release defines the files a route workload reads,
//! which the operator renders; the server itself is the subject of its own issue.

pub mod config;
