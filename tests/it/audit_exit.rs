//! Exit codes (DESIGN §6), `--fail-on`, `--exit-zero`, config precedence, and the report's shape.

use serde_json::json;

use crate::common::{Run, run_in, tree};
use crate::org::{jc, jc_v1_pages, sl, slack_pages};

/// A directory with `jc.json`, `slack.json` and optionally `scimdrift.toml`.
fn org_dir(config: Option<&str>, slack: &[crate::org::Sl]) -> tempfile::TempDir {
    let users = vec![jc("a1", "a@x.io"), jc("a2", "b@x.io")];
    let jc_page = jc_v1_pages(&users, 100).remove(0).1;
    let slack_page = slack_pages(slack, 100, true).remove(0).1;
    let mut files = vec![
        ("jc.json", jc_page.as_str()),
        ("slack.json", slack_page.as_str()),
    ];
    if let Some(c) = config {
        files.push(("scimdrift.toml", c));
    }
    tree(&files)
}

fn audit(dir: &tempfile::TempDir, extra: &[&str]) -> Run {
    let mut args = vec!["audit", "--jumpcloud", "jc.json", "--slack", "slack.json"];
    args.extend_from_slice(extra);
    run_in(Some(dir.path()), &args)
}

#[test]
fn clean_org_exits_0_with_an_all_clear() {
    let dir = org_dir(
        None,
        &[
            sl("U1", "a@x.io", true, "a1"),
            sl("U2", "b@x.io", true, "a2"),
        ],
    );
    let r = audit(&dir, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with("No drift: 2 Slack account(s)"),
        "{r:?}"
    );
    assert!(r.stderr.contains("scimdrift: 0 finding(s)"), "{r:?}");
    let r = audit(&dir, &["--format", "json"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.json()["findings"], json!([]));
}

#[test]
fn errors_exit_1_unless_exit_zero() {
    let dir = org_dir(None, &[sl("U9", "ghost@x.io", true, "")]);
    assert_eq!(audit(&dir, &[]).code, 1);
    let r = audit(&dir, &["--exit-zero", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.codes(), vec!["unknown-active"]);
}

#[test]
fn fail_on_threshold_from_flag_and_config() {
    // Only a warning (legacy-unlinked: U2 has no externalId while U1 has one) and an info.
    let slack = [sl("U1", "a@x.io", true, "a1"), sl("U2", "b@x.io", true, "")];
    let dir = org_dir(None, &slack);
    assert_eq!(audit(&dir, &[]).code, 0);
    assert_eq!(audit(&dir, &["--fail-on", "warning"]).code, 1);
    assert_eq!(audit(&dir, &["--fail-on", "info"]).code, 1);
    assert_eq!(audit(&dir, &["--fail-on", "error"]).code, 0);

    let dir = org_dir(Some("fail_on = \"warning\"\n"), &slack);
    assert_eq!(audit(&dir, &[]).code, 1);
    assert_eq!(
        audit(&dir, &["--fail-on", "error"]).code,
        0,
        "flag beats config"
    );

    let inactive = [
        sl("U1", "a@x.io", true, "a1"),
        sl("U2", "b@x.io", false, "a2"),
    ];
    let dir = org_dir(None, &inactive);
    let r = audit(&dir, &["--format", "json"]);
    assert_eq!(r.codes(), vec!["inactive-but-entitled"]);
    assert_eq!(r.code, 0);
    assert_eq!(audit(&dir, &["--fail-on", "warning"]).code, 0);
    assert_eq!(audit(&dir, &["--fail-on", "info"]).code, 1);
}

#[test]
fn severity_override_in_config() {
    let slack = [sl("U1", "a@x.io", true, "a1"), sl("U2", "b@x.io", true, "")];
    let dir = org_dir(Some("[severity]\nlegacy-unlinked = \"error\"\n"), &slack);
    let r = audit(&dir, &["--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.json()["findings"][0]["severity"], "error");
    assert_eq!(r.json()["summary"]["by_severity"]["error"], 1);
}

#[test]
fn usage_and_config_errors_exit_2_with_nothing_on_stdout() {
    let dir = org_dir(None, &[sl("U1", "a@x.io", true, "a1")]);
    let r = run_in(Some(dir.path()), &["audit", "--jumpcloud", "jc.json"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.is_empty());
    let r = audit(&dir, &["--fail-on", "fatal"]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = audit(&dir, &["--format", "yaml"]);
    assert_eq!(r.code, 2, "{r:?}");

    let dir = org_dir(
        Some("fail_on = \"error\"\nslack_apps = []\n"),
        &[sl("U1", "a@x.io", true, "a1")],
    );
    let r = audit(&dir, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.starts_with("error: invalid config scimdrift.toml"),
        "{r:?}"
    );
    assert!(r.stderr.contains("unknown field `slack_apps`"), "{r:?}");
    assert!(r.stderr.contains("line 2"), "{r:?}");
    let r = audit(&dir, &["--config", "missing.toml"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("cannot read config missing.toml"),
        "{r:?}"
    );
}

#[test]
fn json_has_every_key_on_every_finding_and_is_deterministic() {
    let slack = [
        sl("U1", "a@x.io", true, "a1"),
        sl("U2", "b@x.io", true, ""),
        sl("U3", "ghost@x.io", true, ""),
        sl("U4", "ghost@x.io", false, ""),
    ];
    let dir = org_dir(None, &slack);
    let a = audit(&dir, &["--format", "json"]);
    let b = audit(&dir, &["--format", "json"]);
    assert_eq!(a.stdout, b.stdout);
    let report = a.json();
    for key in [
        "schema_version",
        "tool",
        "generated_at",
        "complete",
        "inputs",
        "summary",
        "notices",
        "findings",
    ] {
        assert!(report.get(key).is_some(), "missing {key}");
    }
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["tool"]["name"], "scimdrift");
    assert_eq!(report["generated_at"], "2025-11-24T16:00:00Z");
    let keys = [
        "code",
        "severity",
        "message",
        "slack_user_id",
        "slack_user_ids",
        "jumpcloud_user_id",
        "jumpcloud_user_ids",
        "jumpcloud_group_id",
        "application_ids",
        "email",
        "matched_by",
        "reason",
        "remediation",
        "suppressed",
    ];
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3, "{a:?}");
    for f in findings {
        let obj = f.as_object().unwrap();
        assert_eq!(obj.len(), keys.len(), "{f}");
        for k in keys {
            assert!(obj.contains_key(k), "{k} missing in {f}");
        }
        assert!(!f["slack_user_ids"].is_null() && !f["application_ids"].is_null());
    }
    let sha = report["inputs"]["slack"]["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    assert_eq!(report["summary"]["by_code"]["unknown-active"], 1);
    assert_eq!(report["summary"]["by_code"]["stale-exception"], 0);
    assert_eq!(report["summary"]["suppressed"], 0);
}

#[test]
fn streams_colour_and_quiet() {
    let dir = org_dir(None, &[sl("U9", "ghost@x.io", true, "")]);
    let r = audit(&dir, &[]);
    assert!(r.stdout.contains("| error    | unknown-active |"), "{r:?}");
    assert!(
        !r.stdout.contains('\u{1b}'),
        "no colour when not a terminal"
    );
    assert!(!r.stdout.contains("scimdrift:"), "summary goes to stderr");
    assert!(r.stderr.contains("1 error"), "{r:?}");
    let r = audit(&dir, &["--color", "always"]);
    assert!(r.stdout.contains('\u{1b}'), "{r:?}");
    let r = audit(&dir, &["-q"]);
    assert!(r.stderr.is_empty(), "{r:?}");
    assert_eq!(r.code, 1);
}
