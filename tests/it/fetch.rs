//! `fetch slack`, `fetch jumpcloud` and live `audit` against the in-process emulators: paging,
//! snapshots that audit reads back, rate limits, faults, auth failures and secrets.

use std::path::Path;

use serde_json::Value;

use crate::common::{Run, arg, root, run_env};
use crate::support::jumpcloud_emulator::{JumpCloudConfig, JumpCloudEmulator, V2Tail};
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

#[test]
fn jumpcloud_x_total_count_is_checked_live_and_offline() {
    let slack_dir = root().join("fixtures/demo/slack");
    let slack_dir = arg(&slack_dir);
    // Where JumpCloud sends x-total-count, it is saved beside each page and checked.
    let mut config =
        JumpCloudConfig::from_bundle(root().join("fixtures/demo/jumpcloud")).expect("demo bundle");
    config.total_count_header = true;
    let jc = JumpCloudEmulator::start(config.clone());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("jc");
    let r = fetch("jumpcloud", &jc.base_url(), &out, &[], &[JC_KEY]);
    assert_eq!(r.code, 0, "{r:?}");
    let headers = out.join("usergroups/skip-000000.json.headers");
    let text = std::fs::read_to_string(&headers).unwrap();
    assert!(text.starts_with("x-total-count: "), "{text}");
    let r = audit_json(arg(&out), slack_dir);
    assert_eq!(findings_and_summary(&r.json()), expected_demo(), "{r:?}");

    // Offline: a count that moves between pages, or that the records exceed or fall short of,
    // is a problem (exit 2, naming the dump).
    let count: u64 = text.trim().rsplit(' ').next().unwrap().parse().unwrap();
    let dump = |n: u64| format!("HTTP/1.1 200 OK\r\nX-Total-Count: {n}\r\n\r\n");
    let first = out.join("usergroups/skip-000000.json.headers");
    let closing = out.join(format!("usergroups/skip-{count:06}.json.headers"));
    std::fs::write(&closing, dump(count + 5)).unwrap();
    let r = audit_json(arg(&out), slack_dir);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("x-total-count moved"), "{r:?}");
    std::fs::remove_file(&closing).unwrap();
    std::fs::write(&first, dump(count - 1)).unwrap();
    let r = audit_json(arg(&out), slack_dir);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("skip-000000.json.headers"), "{r:?}");
    std::fs::write(&first, dump(count + 1)).unwrap();
    let r = audit_json(arg(&out), slack_dir);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("null association records"), "{r:?}");
    assert!(r.stderr.contains("1 missing"), "{r:?}");

    // Live: a count that keeps moving is read again, then refused, and nothing is saved.
    let mut moving = config.clone();
    moving.total_count_moves = true;
    let jc = JumpCloudEmulator::start(moving);
    let out = tmp.path().join("moving");
    let r = fetch(
        "jumpcloud",
        &jc.base_url(),
        &out,
        &["--max-rereads", "1"],
        &[JC_KEY],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("kept changing"), "{r:?}");
    assert!(r.stderr.contains("x-total-count"), "{r:?}");
    assert!(!out.exists());

    // Live: a steady shortfall (two reads agree) is saved with its counts, and incomplete
    // (a_steady_jumpcloud_shortfall_is_incomplete).
    config.total_count_extra = 1;
    let jc = JumpCloudEmulator::start(config);
    let out = tmp.path().join("short");
    let r = fetch("jumpcloud", &jc.base_url(), &out, &[], &[JC_KEY]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("null association records"), "{r:?}");
    let r = audit_json(arg(&out), slack_dir);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn a_live_read_that_cannot_be_parsed_is_kept_aside_with_save() {
    let slack = demo_slack();
    let mut config =
        JumpCloudConfig::from_bundle(root().join("fixtures/demo/jumpcloud")).expect("demo bundle");
    config.users[0]
        .as_object_mut()
        .unwrap()
        .remove("email")
        .unwrap();
    let jc = JumpCloudEmulator::start(config);
    let tmp = tempfile::tempdir().unwrap();
    let save = tmp.path().join("snap");
    let r = run_env(
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
        &[SLACK_TOKEN, JC_KEY],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("email"), "{r:?}");
    assert!(r.stderr.contains("jumpcloud.unparsed"), "{r:?}");
    let page = save.join("jumpcloud.unparsed/systemusers/skip-000000.json");
    assert!(page.exists(), "{r:?}");
    assert!(!save.join("jumpcloud").exists() && !save.join("slack").exists());
}

fn demo_config() -> JumpCloudConfig {
    JumpCloudConfig::from_bundle(root().join("fixtures/demo/jumpcloud")).expect("demo bundle")
}

#[test]
fn jumpcloud_v2_paging_always_ends() {
    let tmp = tempfile::tempdir().unwrap();
    // Each server pages 500 times before its empty page: a reader that does not stop on its
    // own saves that after hundreds of requests.
    let fast = ["--max-rpm", "1000000"];
    let cases: [(&str, V2Tail, bool, &[(&str, &str)], &str); 3] = [
        // New ids at every skip, no count: the ceiling (lowered by the test knob) stops it.
        (
            "fresh",
            V2Tail::Fresh,
            false,
            &[JC_KEY, ("SCIMDRIFT_TEST_MAX_V2_RECORDS", "1000")],
            "does not page it to an end",
        ),
        // New ids at every skip beyond x-total-count: stopped at the first page beyond it.
        (
            "counted",
            V2Tail::Fresh,
            true,
            &[JC_KEY],
            "more than the 6 records x-total-count counts",
        ),
        // Two bodies in turn: the third page repeats ids of the first.
        (
            "alternating",
            V2Tail::Alternating,
            false,
            &[JC_KEY],
            "appeared twice",
        ),
    ];
    for (name, tail, counted, env, says) in cases {
        let jc = JumpCloudEmulator::start(JumpCloudConfig {
            v2_tail: tail,
            total_count_header: counted,
            ..demo_config()
        });
        let out = tmp.path().join(name);
        let r = fetch("jumpcloud", &jc.base_url(), &out, &fast, env);
        assert_eq!(r.code, 2, "{name}: {r:?}");
        assert!(r.stderr.contains(says), "{name}: {r:?}");
        assert!(r.stderr.contains("nothing was saved"), "{name}: {r:?}");
        assert!(!out.exists(), "{name}");
        assert!(jc.requests() < 60, "{name}: {} requests", jc.requests());
    }
}

#[test]
fn jumpcloud_v2_ids_on_two_pages_are_read_again_then_refused() {
    // skip=0 gives g0–g99, skip=100 gives g50–g149: the listing moved, records may be missing.
    let jc = JumpCloudEmulator::start(JumpCloudConfig {
        v2_skip_shift: 50,
        ..JumpCloudConfig::generated(30, 150, 3)
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("jc");
    let r = fetch("jumpcloud", &jc.base_url(), &out, &[], &[JC_KEY]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("appeared twice"), "{r:?}");
    assert!(r.stderr.contains("reading it again (2 of 2)"), "{r:?}");
    assert!(
        r.stderr
            .contains("kept changing while it was paged (3 attempts)"),
        "{r:?}"
    );
    assert!(!out.exists());

    // Offline: a saved v2 folder with an id on two pages is incomplete too.
    let slack_dir = root().join("fixtures/demo/slack");
    let jc = demo_jumpcloud();
    let good = tmp.path().join("good");
    let r = fetch("jumpcloud", &jc.base_url(), &good, &[], &[JC_KEY]);
    assert_eq!(r.code, 0, "{r:?}");
    let members = good.join("usergroups/65a1b2c3d4e5f60718293a01/members");
    let page: Value =
        serde_json::from_str(&std::fs::read_to_string(members.join("skip-000000.json")).unwrap())
            .unwrap();
    let n = page.as_array().unwrap().len();
    let again = Value::Array(vec![page[0].clone()]);
    std::fs::write(members.join(format!("skip-{n:06}.json")), again.to_string()).unwrap();
    std::fs::write(members.join(format!("skip-{:06}.json", n + 1)), "[]").unwrap();
    let r = audit_json(arg(&good), arg(&slack_dir));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("appear more than once"), "{r:?}");
    let id = page[0]["to"]["id"].as_str().unwrap();
    assert!(r.stderr.contains(id), "{r:?}");
}

#[test]
fn a_steady_jumpcloud_shortfall_is_incomplete() {
    // Every v2 listing counts 247 records more than its pages ever hold, on every read (as
    // `/applications/{id}/users` answering 3 records with x-total-count 250): which users are
    // missing cannot be known, so they must not look unentitled.
    let jc = JumpCloudEmulator::start(JumpCloudConfig {
        total_count_header: true,
        total_count_extra: 247,
        ..demo_config()
    });
    let slack_dir = root().join("fixtures/demo/slack");
    let slack_dir = arg(&slack_dir);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("jc");
    let r = fetch("jumpcloud", &jc.base_url(), &out, &[], &[JC_KEY]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("the listing is incomplete"), "{r:?}");
    assert!(r.stderr.contains("--allow-incomplete"), "{r:?}");
    let r = audit_json(arg(&out), slack_dir);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("x-total-count counts"), "{r:?}");
    assert!(r.stderr.contains("null association records"), "{r:?}");
    assert!(r.stderr.contains("--allow-incomplete"), "{r:?}");
    let r = run_env(
        None,
        &[
            "audit",
            "--format",
            "json",
            "--allow-incomplete",
            "--jumpcloud",
            arg(&out),
            "--slack",
            slack_dir,
        ],
        &[],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.json()["complete"], Value::Bool(false), "{r:?}");
    let plan = tmp.path().join("plan.json");
    let r = run_env(
        None,
        &[
            "plan",
            "--jumpcloud",
            arg(&out),
            "--slack",
            slack_dir,
            "--out",
            arg(&plan),
        ],
        &[],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("x-total-count counts"), "{r:?}");
    assert!(!plan.exists(), "{r:?}");
}

#[test]
fn an_empty_jumpcloud_user_listing_is_never_saved() {
    let jc = JumpCloudEmulator::start(JumpCloudConfig {
        users: Vec::new(),
        ..demo_config()
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("jc");
    let r = fetch("jumpcloud", &jc.base_url(), &out, &[], &[JC_KEY]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no users"), "{r:?}");
    assert!(r.stderr.contains("nothing was saved"), "{r:?}");
    assert!(!out.exists());
}

#[test]
fn jumpcloud_v1_rereads_are_counted_up_to_the_limit() {
    let jc = JumpCloudEmulator::start(JumpCloudConfig {
        v1_total_moves: true,
        ..demo_config()
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("jc");
    let r = fetch("jumpcloud", &jc.base_url(), &out, &[], &[JC_KEY]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("reading it again (2 of 2)"), "{r:?}");
    assert!(!r.stderr.contains("(3 of 2)"), "{r:?}");
    assert!(
        r.stderr
            .contains("kept changing while it was paged (3 attempts)"),
        "{r:?}"
    );
    assert!(!out.exists());
}

#[test]
fn a_jumpcloud_v1_total_count_beyond_any_organisation_is_refused_before_paging() {
    let jc = JumpCloudEmulator::start(demo_config());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("jc");
    // The demo's 42 users against a ceiling lowered to 20 (the real one is 1,000,000).
    let r = fetch(
        "jumpcloud",
        &jc.base_url(),
        &out,
        &[],
        &[JC_KEY, ("SCIMDRIFT_TEST_MAX_V2_RECORDS", "20")],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("totalCount 42 is beyond any real organisation (more than 20)"),
        "{r:?}"
    );
    assert!(!out.exists());
    assert_eq!(jc.requests(), 1, "only the first page was read");
}

/// A generated org behind `faults`, without rate limits (some of these tests would send
/// thousands of requests on the old code).
fn faulty_slack(users: usize, faults: Faults) -> SlackEmulator {
    let mut config = SlackConfig::generated(users, 11);
    config.rate_limits = crate::support::slack_emulator::RateLimits::unlimited();
    config.faults = faults;
    SlackEmulator::start(config)
}

#[test]
fn a_live_page_that_is_not_json_is_named_by_how_it_starts() {
    let slack = faulty_slack(
        250,
        Faults {
            html_page_at: Some(101),
            ..Faults::default()
        },
    );
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
        r.stderr.contains("GET /Users?startIndex=101&count=100"),
        "{r:?}"
    );
    assert!(
        r.stderr
            .contains("not a JSON page: it starts with `<html><body><h1>Sign in</h1></bo…`"),
        "{r:?}"
    );
    assert!(!r.stderr.contains("line 1 column 1"), "{r:?}");
    assert!(!out.exists());
}

#[test]
fn a_huge_total_results_is_refused_before_any_paging() {
    let slack = faulty_slack(
        30,
        Faults {
            claimed_total: Some(1_000_000_000_000),
            ..Faults::default()
        },
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let r = fetch(
        "slack",
        &slack.base_url("v2"),
        &out,
        &["--page-size", "10"],
        &[SLACK_TOKEN],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("totalResults 1000000000000, beyond the 10000000"),
        "{r:?}"
    );
    assert!(r.stderr.contains("nothing was saved"), "{r:?}");
    assert_eq!(slack.requests(), 1, "refused after the first page");
    assert!(!out.exists());
}

#[test]
fn a_total_results_lie_stops_paging_at_the_end_of_the_real_listing() {
    // 300 users end on a full page (the next one is empty), 350 on a short one.
    for users in [300, 350] {
        let slack = faulty_slack(
            users,
            Faults {
                claimed_total: Some(100_000),
                ..Faults::default()
            },
        );
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("s");
        let r = fetch(
            "slack",
            &slack.base_url("v2"),
            &out,
            &[
                "--page-size",
                "100",
                "--concurrency",
                "4",
                "--max-rpm",
                "100000",
            ],
            &[SLACK_TOKEN],
        );
        assert_eq!(r.code, 2, "{users}: {r:?}");
        assert!(
            r.stderr
                .contains("came back empty although totalResults is 100000"),
            "{users}: {r:?}"
        );
        assert!(r.stderr.contains("nothing was saved"), "{users}: {r:?}");
        assert!(!out.exists());
        // Three reads of the 3-4 real pages and the few requests in flight past them; not the
        // 1,000 claimed pages (3,000 requests).
        assert!(
            slack.requests() <= 3 * 16,
            "{users}: {} requests",
            slack.requests()
        );
        // The warning counts the re-reads it announces, never one past them.
        assert!(r.stderr.contains("reading it again (2 of 2)"), "{r:?}");
        assert!(!r.stderr.contains("(3 of 2)"), "{r:?}");
    }
}

#[test]
fn a_page_answering_for_another_start_index_is_never_saved() {
    // Every page says startIndex 1 although it holds the users asked for: `audit` would read
    // the saved pages as overlapping, so fetch must not save them.
    let slack = faulty_slack(
        250,
        Faults {
            echoed_start_index: Some(1),
            ..Faults::default()
        },
    );
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
            .contains("GET /Users?startIndex=101&count=100 was answered with startIndex 1"),
        "{r:?}"
    );
    assert!(r.stderr.contains("nothing was saved"), "{r:?}");
    assert!(!out.exists());
    // A live audit keeps no snapshot of it either.
    let save = tmp.path().join("snap");
    let jc = root().join("fixtures/demo/jumpcloud");
    let r = run_env(
        None,
        &[
            "audit",
            "--slack-url",
            &slack.base_url("v2"),
            "--page-size",
            "100",
            "--jumpcloud",
            arg(&jc),
            "--save",
            arg(&save),
        ],
        &[SLACK_TOKEN],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("answered with startIndex 1"), "{r:?}");
    assert!(!save.join("slack").exists(), "{r:?}");
}
