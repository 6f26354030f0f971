//! The integration tests: one crate that runs the real `scimdrift` binary.

// Test helpers panic on purpose when a fixture is not what it should be.
#![allow(clippy::unwrap_used, clippy::type_complexity, unreachable_pub)]

mod common;
mod org;

mod apply;
mod audit_codes;
mod audit_exit;
mod bad_input;
mod demo;
mod emulator;
mod fetch;
mod peer;
mod reporting;
mod shapes;

#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;
