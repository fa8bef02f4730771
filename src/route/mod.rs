//! The data plane (`shep route`, DESIGN §4): one small async server per route workload, speaking
//! the gateway's wire format (WIRE.md) for one service in one contour.
//!
//! Pure parts: the files it reads ([`config`]), envelopes ([`xml`], [`soap`], [`rest`]), faults
//! ([`fault`]), authentication ([`senders`]), breaks ([`window`]), the WSDL ([`wsdl`]). Edges: the
//! server ([`server`]), one message's exchange ([`exchange`]), the backend ([`forward`]), loading
//! ([`state`]), the journal ([`journal`]) and metrics ([`metrics`]).

pub mod config;
pub mod exchange;
pub mod fault;
pub mod forward;
pub mod journal;
pub mod metrics;
pub mod rest;
pub mod senders;
pub mod server;
pub mod soap;
pub mod state;
pub mod window;
pub mod wsdl;
pub mod xml;
