//! Test infrastructure shared by integration tests: local emulators of the Slack SCIM API and
//! the JumpCloud API, started in-process on 127.0.0.1 (also runnable as examples).

pub mod jumpcloud_emulator;
pub mod slack_emulator;
