//! `fetch slack`, `fetch jumpcloud` and live `audit` against the in-process emulators: paging,
//! snapshots that audit reads back, rate limits, faults, auth failures and secrets.

use std::path::Path;

use serde_json::Value;

use crate::common::{Run, arg, root, run_env};
use crate::support::jumpcloud_emulator::{JumpCloudConfig, JumpCloudEmulator};
use crate::support::slack_emulator::{Faults, SlackConfig, SlackEmulator};

const SLACK_TOKEN: (&str, &str) = ("SLACK_SCIM_TOKEN", "xoxp-emulator");
const JC_KEY: (&str, &str) = ("JUMPCLOUD_API_KEY", "jc-emulator-key");

fn demo_slack() -> SlackEmulator {
    SlackEmulator::start(
        SlackConfig::from_pages_dir(root().join("fixtures/demo/slack")).expect("demo pages"),
    )
}

fn demo_jumpcloud() -> JumpCloudEmulator {
    JumpCloudEmulator::start(
        JumpCloudConfig::from_bundle(root().join("fixtures/demo/jumpcloud")).expect("demo bundle"),
    )
}

fn fetch(kind: &str, url: &str, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut args = vec!["fetch", kind, "--url", url, "--out", arg(out)];
    args.extend_from_slice(extra);
    run_env(None, &args, env)
}

/// The demo's pinned report without what depends on where the data was read from.
fn findings_and_summary(report: &Value) -> (Value, Value) {
    (report["findings"].clone(), report["summary"].clone())
}

fn expected_demo() -> (Value, Value) {
    let text = std::fs::read_to_string(root().join("fixtures/demo/expected-report.json"))
        .expect("expected report");
    findings_and_summary(&serde_json::from_str(&text).expect("json"))
}

fn audit_json(jumpcloud: &str, slack: &str) -> Run {
    run_env(
        None,
        &[
            "audit",
            "--format",
            "json",
            "--jumpcloud",
            jumpcloud,
            "--slack",
            slack,
        ],
        &[],
    )
}

#[test]
fn fetched_snapshots_audit_like_the_seed_files_v1_and_v2() {
    let slack = demo_slack();
    let jc = demo_jumpcloud();
    let tmp = tempfile::tempdir().unwrap();
    let jc_out = tmp.path().join("jc");
    let r = fetch("jumpcloud", &jc.base_url(), &jc_out, &[], &[JC_KEY]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.is_empty(), "fetch prints nothing on stdout: {r:?}");
    assert!(
        r.stderr
            .contains("saved 42 JumpCloud user(s), 6 group(s), 3 application(s)"),
        "{r:?}"
    );
    for version in ["v1", "v2"] {
        let out = tmp.path().join(format!("slack-{version}"));
        let r = fetch("slack", &slack.base_url(version), &out, &[], &[SLACK_TOKEN]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stderr.contains("saved 46 Slack user(s)"), "{r:?}");
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap())
                .unwrap();
        assert_eq!(manifest["scim_version"], version);
        assert_eq!(manifest["counts"]["users"], 46);
        assert!(!manifest["base_url"].as_str().unwrap().contains("xoxp"));
        for file in manifest["files"].as_array().unwrap() {
            let bytes = std::fs::read(out.join(file["path"].as_str().unwrap())).unwrap();
            assert_eq!(file["bytes"], bytes.len());
            assert_eq!(file["sha256"].as_str().unwrap().len(), 64);
        }
        let r = audit_json(arg(&jc_out), arg(&out));
        assert_eq!(r.code, 1, "{r:?}");
        let report = r.json();
        assert_eq!(findings_and_summary(&report), expected_demo(), "{version}");
        assert_eq!(report["inputs"]["slack"]["scim_version"], version);
        assert_eq!(report["complete"], true);
    }
}

#[test]
fn live_audit_reads_both_apis_and_saves_the_snapshot() {
    let slack = demo_slack();
    let jc = demo_jumpcloud();
    let tmp = tempfile::tempdir().unwrap();
    let save = tmp.path().join("snap");
    let r = run_env(
        None,
        &[
            "audit",
            "--format",
            "json",
            "--slack-url",
            &slack.base_url("v2"),
            "--jumpcloud-url",
            &jc.base_url(),
            "--save",
            arg(&save),
        ],
        &[SLACK_TOKEN, JC_KEY],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let report = r.json();
    assert_eq!(findings_and_summary(&report), expected_demo());
    assert_eq!(report["inputs"]["slack"]["paths"][0], slack.base_url("v2"));
    assert_eq!(report["inputs"]["jumpcloud"]["paths"][0], jc.base_url());
    let again = audit_json(arg(&save.join("jumpcloud")), arg(&save.join("slack")));
    assert_eq!(
        findings_and_summary(&again.json()),
        expected_demo(),
        "{again:?}"
    );
}

#[test]
fn pages_of_1000_are_fetched_concurrently_and_counted() {
    let slack = SlackEmulator::start(SlackConfig::generated(2500, 7));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let r = fetch(
        "slack",
        &slack.base_url("v2"),
        &out,
        &["--no-groups", "-v"],
        &[SLACK_TOKEN],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(slack.requests(), 3, "three pages of 1000: {r:?}");
    assert!(
        r.stderr
            .contains("GET /Users?startIndex=1&count=1000 -> 200"),
        "{r:?}"
    );
    assert!(
        r.stderr
            .contains("GET /Users?startIndex=2001&count=1000 -> 200"),
        "{r:?}"
    );
    let pages: Vec<_> = std::fs::read_dir(out.join("users")).unwrap().collect();
    assert_eq!(pages.len(), 3);
    assert!(!out.join("groups").exists());
    let r = run_env(
        None,
        &[
            "fetch",
            "slack",
            "--url",
            &slack.base_url("v2"),
            "--out",
            arg(&out),
        ],
        &[SLACK_TOKEN],
    );
    assert_eq!(r.code, 2, "an existing, non-empty output is refused: {r:?}");
    assert!(r.stderr.contains("not empty"), "{r:?}");
}

#[test]
fn rate_limits_5xx_and_dropped_connections_are_survived() {
    let slack = SlackEmulator::start(SlackConfig::generated(1200, 3));
    let tmp = tempfile::tempdir().unwrap();
    slack.set_faults(Faults {
        forced_429: 2,
        ..Faults::default()
    });
    let r = fetch(
        "slack",
        &slack.base_url("v2"),
        &tmp.path().join("a"),
        &["--page-size", "200"],
        &[SLACK_TOKEN],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(slack.responses_429(), 2);
    assert!(r.stderr.contains("2 rate-limited (429)"), "{r:?}");

    // Half the requests fail: with 16 retries a page fails about once in 130,000 runs.
    slack.set_faults(Faults {
        error_rate: 0.3,
        drop_rate: 0.2,
        ..Faults::default()
    });
    let r = fetch(
        "slack",
        &slack.base_url("v1"),
        &tmp.path().join("b"),
        &["--page-size", "100", "--max-retries", "16"],
        &[SLACK_TOKEN],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        slack.responses_5xx() + slack.dropped() > 0,
        "faults were injected"
    );
    let a = audit_json(
        arg(&root().join("fixtures/demo/jumpcloud")),
        arg(&tmp.path().join("b")),
    );
    assert_eq!(a.json()["summary"]["slack_users"], 1200, "{a:?}");

    slack.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let out = tmp.path().join("c");
    let r = fetch("slack", &slack.base_url("v2"), &out, &[], &[SLACK_TOKEN]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("failed after 6 attempts"), "{r:?}");
    assert!(!out.exists(), "nothing saved on failure");
}

#[test]
fn a_listing_that_keeps_changing_is_never_saved() {
    let slack = SlackEmulator::start(SlackConfig::generated(300, 5));
    slack.set_faults(Faults {
        churn_during_paging: 2,
        ..Faults::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let r = fetch(
        "slack",
        &slack.base_url("v2"),
        &out,
        &["--page-size", "100"],
        &[SLACK_TOKEN],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("kept changing while it was paged (3 attempts)"),
        "{r:?}"
    );
    assert!(r.stderr.contains("nothing was saved"), "{r:?}");
    assert!(!out.exists());
}

#[test]
fn bad_credentials_name_the_likely_cause() {
    let slack = demo_slack();
    let jc = demo_jumpcloud();
    let tmp = tempfile::tempdir().unwrap();
    let bad = [("SLACK_SCIM_TOKEN", "xoxp-wrong")];
    let r = fetch(
        "slack",
        &slack.base_url("v1"),
        &tmp.path().join("a"),
        &[],
        &bad,
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("Slack SCIM refused the credentials: HTTP 401 (invalid_authentication)"),
        "{r:?}"
    );
    assert!(r.stderr.contains("`admin` scope"), "{r:?}");
    let r = fetch(
        "slack",
        &slack.base_url("v2"),
        &tmp.path().join("b"),
        &[],
        &bad,
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("HTTP 400 (unsupported_version)"), "{r:?}");
    assert!(r.stderr.contains("org, not a workspace"), "{r:?}");
    let r = fetch(
        "slack",
        &slack.base_url("v2"),
        &tmp.path().join("c"),
        &[],
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("no Slack SCIM token: set SLACK_SCIM_TOKEN or pass --token-file FILE"),
        "{r:?}"
    );
    let r = fetch(
        "jumpcloud",
        &jc.base_url(),
        &tmp.path().join("d"),
        &[],
        &[("JUMPCLOUD_API_KEY", "nope")],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("JumpCloud refused the credentials: HTTP 401"),
        "{r:?}"
    );
    assert!(r.stderr.contains("--org-id"), "{r:?}");
    for dir in ["a", "b", "c", "d"] {
        assert!(!tmp.path().join(dir).exists());
    }
    let r = fetch(
        "slack",
        "http://scim.example/scim/v2",
        &tmp.path().join("e"),
        &[],
        &[SLACK_TOKEN],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("refusing plain http://"), "{r:?}");
    let r = fetch(
        "slack",
        &slack.base_url("v2").replace("/v2", "/latest"),
        &tmp.path().join("f"),
        &[],
        &[SLACK_TOKEN],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("pass --scim-version"), "{r:?}");
}

#[test]
fn the_token_never_leaks() {
    let canary = "xoxp-canary-5f3a9b1c";
    let slack = SlackEmulator::start(SlackConfig {
        token: canary.to_owned(),
        ..SlackConfig::from_pages_dir(root().join("fixtures/demo/slack")).unwrap()
    });
    let tmp = tempfile::tempdir().unwrap();
    let token_file = tmp.path().join("token");
    std::fs::write(&token_file, format!("{canary}\n")).unwrap();
    let out = tmp.path().join("snap");
    let r = fetch(
        "slack",
        &slack.base_url("v2"),
        &out,
        &["--token-file", arg(&token_file), "-vvv"],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        !r.stdout.contains(canary) && !r.stderr.contains(canary),
        "{r:?}"
    );
    assert!(r.stderr.contains("GET /Users"), "-vvv logs requests: {r:?}");
    for entry in walk(&out) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
        assert!(
            !text.contains(canary),
            "{} holds the token",
            entry.display()
        );
    }
    // A failing run shows the error, not the token.
    let r = fetch(
        "slack",
        &slack.base_url("v2"),
        &tmp.path().join("x"),
        &["-vvv"],
        &[("SLACK_SCIM_TOKEN", "xoxp-other-canary")],
    );
    assert_eq!(r.code, 2);
    assert!(!r.stderr.contains("xoxp-other-canary"), "{r:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn redirects_are_never_followed() {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    // A second server that must never see a request (nor the API key).
    let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let target = format!(
        "http://127.0.0.1:{}/steal",
        elsewhere.local_addr().unwrap().port()
    );
    let redirector = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!(
        "http://127.0.0.1:{}",
        redirector.local_addr().unwrap().port()
    );
    std::thread::spawn(move || {
        for stream in redirector.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let r = fetch(
        "jumpcloud",
        &base,
        &tmp.path().join("j"),
        &[],
        &[("JUMPCLOUD_API_KEY", "canary-key")],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("HTTP 307"), "{r:?}");
    assert!(
        elsewhere.accept().is_err(),
        "the redirect target was contacted"
    );
}

#[test]
fn jumpcloud_429_and_5xx_are_retried() {
    let jc = demo_jumpcloud();
    jc.set_forced_429(2);
    jc.set_error_rate(0.2);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("jc");
    let r = fetch(
        "jumpcloud",
        &jc.base_url(),
        &out,
        &["--slack-app", "5e0f1a2b3c4d5e6f7a8b9c0e"],
        &[JC_KEY],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(jc.responses_429(), 2);
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["slack_app_ids"][0], "5e0f1a2b3c4d5e6f7a8b9c0e");
    assert!(
        out.join("applications/5e0f1a2b3c4d5e6f7a8b9c0e/users/skip-000000.json")
            .exists()
    );
    // The manifest's slack_app_ids scope the audit to that connector.
    let r = audit_json(arg(&out), arg(&root().join("fixtures/demo/slack")));
    assert!(
        r.json()["summary"]["by_code"]["unentitled-but-active"]
            .as_u64()
            .unwrap()
            > 2,
        "{r:?}"
    );
}

#[test]
fn a_live_audit_reads_the_users_of_the_configured_connectors() {
    // The Labs connector is renamed, so only the config says it is Slack; erin is assigned to it
    // directly, not through a group.
    let mut config =
        JumpCloudConfig::from_bundle(root().join("fixtures/demo/jumpcloud")).expect("demo bundle");
    let labs = "5e0f1a2b3c4d5e6f7a8b9c0e";
    for app in &mut config.applications {
        if app["_id"] == labs {
            app["name"] = Value::from("chat");
            app["displayLabel"] = Value::from("Labs Chat");
            app["displayName"] = Value::from("Labs Chat");
            app["ssoUrl"] = Value::from("https://sso.jumpcloud.com/saml2/labs-chat");
            app["config"]["acsUrl"]["value"] = Value::from("https://chat.northwind.example/sso");
        }
    }
    config.app_users.insert(
        labs.to_owned(),
        vec![serde_json::json!({"id": "64b0c1d2e3f4a5b6c7d80005", "type": "user", "paths": []})],
    );
    let jc = JumpCloudEmulator::start(config);
    let slack = demo_slack();
    let tmp = tempfile::tempdir().unwrap();
    let toml = tmp.path().join("scimdrift.toml");
    std::fs::write(
        &toml,
        format!("slack_app_ids = [\"5e0f1a2b3c4d5e6f7a8b9c0d\", \"{labs}\"]\n"),
    )
    .unwrap();
    let r = run_env(
        None,
        &[
            "audit",
            "--format",
            "json",
            "--config",
            arg(&toml),
            "--slack-url",
            &slack.base_url("v2"),
            "--jumpcloud-url",
            &jc.base_url(),
        ],
        &[SLACK_TOKEN, JC_KEY],
    );
    let unentitled: Vec<String> = r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "unentitled-but-active")
        .map(|f| f["slack_user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        unentitled,
        ["W0NW0000004"],
        "erin is entitled through Labs: {r:?}"
    );
}

#[test]
fn listings_that_cannot_be_checked_or_named_are_never_saved() {
    // A JumpCloud group id that would name a folder outside the snapshot.
    let mut config =
        JumpCloudConfig::from_bundle(root().join("fixtures/demo/jumpcloud")).expect("demo bundle");
    config.usergroups[0]["id"] = Value::from("../../escaped");
    let jc = JumpCloudEmulator::start(config);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a/b/out");
    let r = fetch("jumpcloud", &jc.base_url(), &out, &[], &[JC_KEY]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("is not an id"), "{r:?}");
    assert!(!out.exists() && !tmp.path().join("a/escaped").exists());
    // A base URL with credentials is refused without echoing them; a query string is refused.
    let r = fetch(
        "slack",
        "https://admin:hunter2@api.slack.com/scim/v2",
        &out,
        &[],
        &[SLACK_TOKEN],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(!r.stderr.contains("hunter2"), "{r:?}");
    let r = fetch(
        "slack",
        "https://api.slack.com/scim/v2?token=x",
        &out,
        &[],
        &[SLACK_TOKEN],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no query string"), "{r:?}");
}

#[test]
fn a_live_audit_saves_nothing_unless_both_reads_succeed() {
    let slack = demo_slack();
    let jc = demo_jumpcloud();
    let tmp = tempfile::tempdir().unwrap();
    let save = tmp.path().join("snap");
    let live = |key: &str| {
        run_env(
            None,
            &[
                "audit",
                "--slack-url",
                &slack.base_url("v2"),
                "--jumpcloud-url",
                &jc.base_url(),
                "--save",
                arg(&save),
            ],
            &[SLACK_TOKEN, ("JUMPCLOUD_API_KEY", key)],
        )
    };
    let r = live("wrong-key");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(!save.join("slack").exists(), "no half snapshot: {r:?}");
    // The same --save then works once both sides can be read.
    let r = live(JC_KEY.1);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(save.join("slack/manifest.json").exists());
    assert!(save.join("jumpcloud/manifest.json").exists());
}

#[test]
fn a_live_audit_with_slack_app_still_sees_every_connector() {
    let slack = demo_slack();
    let jc = demo_jumpcloud();
    let codes = |args: &[&str]| -> Vec<String> {
        let r = run_env(
            None,
            &[
                &[
                    "audit",
                    "--format",
                    "json",
                    "--slack-app",
                    "5e0f1a2b3c4d5e6f7a8b9c0d",
                ][..],
                args,
            ]
            .concat(),
            &[SLACK_TOKEN, JC_KEY],
        );
        r.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_owned())
            .collect()
    };
    let live = codes(&[
        "--slack-url",
        &slack.base_url("v2"),
        "--jumpcloud-url",
        &jc.base_url(),
    ]);
    let files = codes(&[
        "--slack",
        "fixtures/demo/slack",
        "--jumpcloud",
        "fixtures/demo/jumpcloud",
    ]);
    assert!(
        live.iter().any(|c| c == "multi-connector-group"),
        "{live:?}"
    );
    assert_eq!(live, files);
}

mod hostile_slack;
mod jumpcloud;
