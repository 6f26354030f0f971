//! Self-tests of the Slack SCIM and JumpCloud emulators in `tests/support`, over real HTTP.
//!
//! Each test starts its own emulator on 127.0.0.1:0; limits that would take minutes run on a
//! scaled clock or with tiny buckets so the whole suite stays within a few seconds.

mod jumpcloud;
mod slack;
mod slack_limits;

use std::path::PathBuf;
use std::time::Duration;

use reqwest::blocking::{Client, Response};
use serde_json::Value;

pub(crate) fn http() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

pub(crate) fn demo(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/demo")
        .join(dir)
}

/// Status and JSON body (`Null` when the body is empty or not JSON).
pub(crate) fn read(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub(crate) fn retry_after(resp: &Response) -> Option<String> {
    resp.headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned())
}

/// Byte offsets of `keys` in `text`, which must be increasing.
pub(crate) fn assert_key_order(text: &str, keys: &[&str]) {
    let at: Vec<usize> = keys
        .iter()
        .map(|k| text.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{keys:?} at {at:?}");
}
