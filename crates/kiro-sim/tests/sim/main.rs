//! Integration tests of kiro-sim over HTTP (one binary, so helpers are shared and linking is
//! done once).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions panic on failure by design"
)]

mod auth;
mod chat;
mod common;
mod control;
mod decoder;
mod faults;
mod quota;
mod throughput;
mod triggers;
