//! `plan`, `apply` and `verify` against the Slack emulator: the safety rules of DESIGN §7, failure
//! paths first. Every test checks that exactly the intended accounts end inactive, that no one
//! else changed, and that no confirmed account was PATCHed twice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Run, arg, root, run_env};
use crate::support::slack_emulator::{Faults, SlackConfig, SlackEmulator};

const TOKEN: (&str, &str) = ("SLACK_SCIM_TOKEN", "xoxp-emulator");
/// What the demo plan deactivates (with `--include unknown-active`).
const TARGETS: [&str; 7] = [
    "W0NW0000001",
    "W0NW0000002",
    "W0NW0000003",
    "W0NW0000004",
    "W0NW0000005",
    "W0NW0000201",
    "W0NW0000202",
];

/// The demo organisation's Slack, as the emulator's starting point.
fn demo_config() -> SlackConfig {
    SlackConfig::from_pages_dir(root().join("fixtures/demo/slack")).unwrap()
}

fn emulator(faults: Faults) -> SlackEmulator {
    let mut config = demo_config();
    config.primary_owner_id = Some("W0NW0000019".to_owned());
    // Slack's limits, ten times faster, so Retry-After waits stay short.
    config.time_scale = 10.0;
    config.faults = faults;
    SlackEmulator::start(config)
}

fn active_map(emu: &SlackEmulator) -> BTreeMap<String, bool> {
    emu.user_ids()
        .into_iter()
        .map(|id| {
            let active = emu.user(&id).unwrap()["active"].as_bool().unwrap_or(true);
            (id, active)
        })
        .collect()
}

/// Writes the demo plan (7 actions) into `dir` and returns its path.
fn demo_plan(dir: &Path) -> PathBuf {
    let out = dir.join("plan.json");
    let r = run_env(
        None,
        &[
            "plan",
            "--jumpcloud",
            "fixtures/demo/jumpcloud",
            "--slack",
            "fixtures/demo/slack",
            "--out",
            arg(&out),
            "--include",
            "unknown-active",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let plan = r.json();
    let ids: Vec<&str> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slack_user_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, TARGETS);
    out
}

fn edit_plan(path: &Path, f: impl FnOnce(&mut Value)) {
    let mut plan: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    f(&mut plan);
    std::fs::write(path, plan.to_string()).unwrap();
}

fn apply(emu: &SlackEmulator, version: &str, plan: &Path, extra: &[&str]) -> Run {
    let url = emu.base_url(version);
    let mut args = vec!["apply", arg(plan), "--slack-url", &url];
    if !extra.contains(&"--max-changes") {
        args.extend(["--max-changes", "10"]);
    }
    args.extend_from_slice(extra);
    run_env(None, &args, &[TOKEN])
}

/// Exactly `targets` went inactive; nobody else changed; each target PATCHed at most `max`.
fn assert_only(emu: &SlackEmulator, before: &BTreeMap<String, bool>, targets: &[&str], max: u32) {
    let after = active_map(emu);
    for (id, was) in before {
        let now = after[id];
        if targets.contains(&id.as_str()) {
            assert!(!now, "{id} should be inactive");
            assert!(
                emu.patch_count(id) <= max,
                "{id} PATCHed {} times",
                emu.patch_count(id)
            );
        } else {
            assert_eq!(now, *was, "{id} must not change");
            assert_eq!(emu.patch_count(id), 0, "{id} must not be PATCHed");
        }
    }
}

#[test]
fn dry_run_then_apply_then_verify_v1_and_v2() {
    for version in ["v1", "v2"] {
        let emu = emulator(Faults::default());
        let before = active_map(&emu);
        let tmp = tempfile::tempdir().unwrap();
        let plan = demo_plan(tmp.path());

        let r = apply(&emu, version, &plan, &[]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("7 would-deactivate"), "{r:?}");
        assert_eq!(emu.total_patches(), 0, "a dry run sends no PATCH");
        assert!(!tmp.path().join("plan.json.journal.jsonl").exists());

        let url = emu.base_url(version);
        let verify = |extra: &[&str]| {
            let mut args = vec!["verify", "--slack-url", url.as_str(), "--format", "json"];
            args.extend_from_slice(extra);
            run_env(None, &args, &[TOKEN])
        };
        let r = verify(&["--jumpcloud", "fixtures/demo/jumpcloud"]);
        assert_eq!(r.code, 1, "alice, bob and carol are still active: {r:?}");
        assert_eq!(r.json()["summary"]["still-active"], 3);

        let r = apply(&emu, version, &plan, &["--yes", "--format", "json"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()["summary"]["deactivated"], 7, "{r:?}");
        assert_only(&emu, &before, &TARGETS, 1);
        for id in TARGETS {
            assert_eq!(emu.patch_count(id), 1);
        }

        let journal = tmp.path().join("plan.json.journal.jsonl");
        let r = verify(&["--journal", arg(&journal)]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()["summary"]["deactivated"], 7);
        let r = verify(&["--plan", arg(&plan)]);
        assert_eq!(r.code, 0, "{r:?}");
        let r = verify(&["--jumpcloud", "fixtures/demo/jumpcloud"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()["summary"]["deactivated"], 5);
        assert_eq!(r.json()["summary"]["not-found"], 2);
        let emails = tmp.path().join("emails.txt");
        std::fs::write(&emails, "# offboarded today\nALICE.WONG@northwind.example\npaul.smith@northwind.example\nnobody@x.io\n").unwrap();
        let r = verify(&["--emails", arg(&emails)]);
        assert_eq!(r.code, 1, "paul is active: {r:?}");
        assert_eq!(r.json()["summary"]["still-active"], 1);
        assert_eq!(r.json()["summary"]["not-found"], 1);
        // A line that is no address is an error naming it, not a `not-found`.
        std::fs::write(&emails, "alice.wong@northwind.example\nnot an email\n").unwrap();
        let r = verify(&["--emails", arg(&emails)]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(
            r.stderr
                .contains("emails.txt: line 2: `not an email` is not an email address"),
            "{r:?}"
        );

        // A re-run with the same journal PATCHes no one again.
        let r = apply(&emu, version, &plan, &["--yes"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("done in an earlier run"), "{r:?}");
        for id in TARGETS {
            assert_eq!(emu.patch_count(id), 1);
        }
    }
}

#[test]
fn guards_refuse_before_any_write() {
    let emu = emulator(Faults::default());
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let url = emu.base_url("v2");
    let r = run_env(
        None,
        &["apply", arg(&plan), "--slack-url", &url, "--yes"],
        &[TOKEN],
    );
    assert_eq!(r.code, 2, "7 > 10% of 38 active: {r:?}");
    assert!(
        r.stderr
            .contains("more than 3 allowed (default: 25 accounts and 10% of 38 active)"),
        "{r:?}"
    );
    let r = apply(&emu, "v2", &plan, &["--yes", "--max-changes", "15%"]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = apply(&emu, "v2", &plan, &["--yes", "--max-changes", "6"]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = apply(&emu, "v2", &plan, &["--yes", "--max-changes", "18%"]);
    assert_eq!(r.code, 2, "18% of 38 is 6: {r:?}");
    assert_eq!(emu.total_patches(), 0);
    // The boundary: a plan exactly at the limit runs (on its own emulator and journal).
    for limit in ["7", "19%"] {
        let emu = emulator(Faults::default());
        let journal = tmp.path().join(format!("j-{limit}"));
        let r = apply(
            &emu,
            "v2",
            &plan,
            &["--yes", "--max-changes", limit, "--journal", arg(&journal)],
        );
        assert_eq!(r.code, 0, "7 actions, limit {limit}: {r:?}");
        assert_eq!(emu.total_patches(), 7);
    }

    // Plan age runs on the real clock, whatever SOURCE_DATE_EPOCH says.
    let at = |hours: i64| {
        (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(hours))
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    edit_plan(&plan, |p| p["created_at"] = Value::from(at(-48)));
    let r = apply(&emu, "v2", &plan, &["--yes", "--max-plan-age", "30d"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("is in the future"), "{r:?}");
    edit_plan(&plan, |p| p["created_at"] = Value::from(at(48)));
    let r = apply(&emu, "v2", &plan, &["--yes"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("more than --max-plan-age 24h"), "{r:?}");
    let r = apply(&emu, "v2", &plan, &["--yes", "--max-plan-age", "3d"]);
    assert_eq!(emu.total_patches(), 7);
    assert_eq!(
        r.code, 0,
        "an older plan with a wider age limit runs: {r:?}"
    );

    let tmp2 = tempfile::tempdir().unwrap();
    let plan2 = demo_plan(tmp2.path());
    edit_plan(&plan2, |p| p["complete"] = Value::Bool(false));
    let r = apply(&emu, "v2", &plan2, &["--yes"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("made from incomplete inputs"), "{r:?}");

    let r = run_env(
        None,
        &["apply", "Cargo.toml", "--slack-url", &url, "--yes"],
        &[TOKEN],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a scimdrift plan"), "{r:?}");
    let r = run_env(
        None,
        &[
            "apply",
            arg(&plan),
            "--slack-url",
            "http://slack.example/scim/v2",
            "--yes",
        ],
        &[TOKEN],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("refusing plain http://"), "{r:?}");
}

#[test]
fn incomplete_inputs_never_become_a_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let slack = tmp.path().join("slack");
    std::fs::create_dir(&slack).unwrap();
    // Only the first demo page: users 21–46 missing.
    std::fs::copy(
        root().join("fixtures/demo/slack/users-start-000001.json"),
        slack.join("p1.json"),
    )
    .unwrap();
    let out = tmp.path().join("plan.json");
    let r = run_env(
        None,
        &[
            "plan",
            "--jumpcloud",
            "fixtures/demo/jumpcloud",
            "--slack",
            arg(&slack),
            "--out",
            arg(&out),
        ],
        &[],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("Slack listing is incomplete"), "{r:?}");
    // plan has no --allow-incomplete: the message does not offer it.
    assert!(
        r.stderr.contains("rerun the export (plans") && !r.stderr.contains("--allow-incomplete"),
        "{r:?}"
    );
    assert!(!out.exists());
    let r = run_env(
        None,
        &[
            "plan",
            "--jumpcloud",
            "fixtures/demo/jumpcloud",
            "--slack",
            arg(&slack),
            "--out",
            arg(&out),
            "--allow-incomplete",
        ],
        &[],
    );
    assert_eq!(r.code, 2, "plan has no --allow-incomplete: {r:?}");
    assert!(
        r.stderr
            .contains("unexpected argument '--allow-incomplete'"),
        "{r:?}"
    );
    assert!(!out.exists());
}

#[test]
fn skips_by_rule_and_refusals() {
    let emu = emulator(Faults::default());
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    edit_plan(&plan, |p| {
        let actions = p["actions"].as_array_mut().unwrap();
        let template = actions[0].clone();
        // Changed since plan: the expected email differs from Slack's.
        actions[1]["expected"]["emails"] = serde_json::json!(["someone.else@northwind.example"]);
        // Changed since plan: renamed in Slack (the expected userName differs).
        actions[3]["expected"]["userName"] = Value::from("renamed.since.plan");
        // Gone: no such account.
        let mut gone = template.clone();
        gone["slack_user_id"] = Value::from("W0NW9999999");
        // Already inactive (oscar).
        let mut inactive = template.clone();
        inactive["slack_user_id"] = Value::from("W0NW0000013");
        inactive["expected"]["emails"] = serde_json::json!(["oscar.diaz@northwind.example"]);
        // A bot and the primary owner: Slack refuses both.
        let mut bot = template.clone();
        bot["slack_user_id"] = Value::from("B0NW0000001");
        bot["expected"]["userName"] = Value::from("deploybot");
        bot["expected"]["emails"] = serde_json::json!(["botuser-t0nw-a0001@slack-bots.com"]);
        let mut owner = template;
        owner["slack_user_id"] = Value::from("W0NW0000019");
        owner["expected"]["userName"] = Value::from("uma.rao");
        owner["expected"]["emails"] = serde_json::json!(["uma.rao@northwind.example"]);
        actions.extend([gone, inactive, bot, owner]);
    });
    // The dry run says what --yes will do, the bot's refusal included.
    let r = apply(
        &emu,
        "v2",
        &plan,
        &["--format", "json", "--max-changes", "20"],
    );
    let preview: BTreeMap<String, String> = r.json()["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let id = a["slack_user_id"].as_str().unwrap().to_owned();
            (
                id,
                a["outcome"]
                    .as_str()
                    .unwrap_or("would-deactivate")
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(preview["B0NW0000001"], "refused", "{r:?}");
    assert_eq!(preview["W0NW9999999"], "gone");
    assert_eq!(preview["W0NW0000001"], "would-deactivate");
    assert_eq!(preview["W0NW0000002"], "changed-since-plan");
    assert_eq!(preview["W0NW0000004"], "changed-since-plan");
    assert_eq!(emu.total_patches(), 0);
    let r = apply(
        &emu,
        "v2",
        &plan,
        &["--yes", "--format", "json", "--max-changes", "20"],
    );
    assert_eq!(r.code, 3, "refusals make the run fail: {r:?}");
    let report = r.json();
    let outcome = |id: &str| -> (String, Option<String>) {
        let rec = report["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["slack_user_id"] == id)
            .unwrap();
        (
            rec["outcome"].as_str().unwrap().to_owned(),
            rec["slack_error"].as_str().map(str::to_owned),
        )
    };
    assert_eq!(outcome("W0NW0000002").0, "changed-since-plan");
    assert_eq!(outcome("W0NW0000004").0, "changed-since-plan");
    assert_eq!(outcome("W0NW9999999").0, "gone");
    assert_eq!(outcome("W0NW0000013").0, "already-inactive");
    assert_eq!(outcome("B0NW0000001"), ("refused".into(), None));
    assert_eq!(
        emu.patch_count("B0NW0000001"),
        0,
        "no PATCH is ever sent to a bot"
    );
    assert_eq!(
        outcome("W0NW0000019"),
        (
            "refused".into(),
            Some("cannot_disable_primary_owner".into())
        )
    );
    let deactivated: Vec<&str> = TARGETS
        .iter()
        .copied()
        .filter(|id| !["W0NW0000002", "W0NW0000004"].contains(id))
        .collect();
    let after = active_map(&emu);
    assert!(
        after["W0NW0000002"] && after["W0NW0000004"],
        "changed accounts are left alone"
    );
    assert!(after["B0NW0000001"] && after["W0NW0000019"]);
    for id in &deactivated {
        assert!(!after[*id]);
    }
    for (id, was) in &before {
        if !deactivated.contains(&id.as_str()) {
            assert_eq!(after[id], *was, "{id}");
        }
    }
    assert_eq!(emu.patch_count("W0NW0000002"), 0);
    assert_eq!(emu.patch_count("W0NW0000004"), 0);
    assert_eq!(emu.patch_count("W0NW0000013"), 0);
}

#[test]
fn survives_429_storms_5xx_and_dropped_connections() {
    let emu = emulator(Faults {
        forced_429: 12,
        ..Faults::default()
    });
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let r = apply(&emu, "v2", &plan, &["--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(emu.responses_429() >= 12);
    assert_only(&emu, &before, &TARGETS, 1);

    let emu = emulator(Faults {
        error_rate: 0.2,
        drop_rate: 0.1,
        write_lands_on_fault: true,
        ..Faults::default()
    });
    let before = active_map(&emu);
    let r = apply(
        &emu,
        "v1",
        &plan,
        &[
            "--yes",
            "--max-retries",
            "12",
            "--journal",
            arg(&tmp.path().join("j2")),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        emu.responses_5xx() + emu.dropped() > 0,
        "faults were injected"
    );
    // A PATCH that landed behind a 5xx is confirmed by a re-read, never sent again.
    assert_only(&emu, &before, &TARGETS, 1);
}

#[test]
fn stale_reads_are_confirmed_late_or_left_unconfirmed_then_resumed() {
    let emu = emulator(Faults {
        stale_reads_after_patch: Duration::from_millis(1500),
        ..Faults::default()
    });
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let r = apply(&emu, "v2", &plan, &["--yes", "--confirm-timeout", "0s"]);
    assert_eq!(r.code, 3, "nothing confirmed within 0 s: {r:?}");
    assert!(r.stdout.contains("unconfirmed"), "{r:?}");
    std::thread::sleep(Duration::from_millis(1600));
    let r = apply(&emu, "v2", &plan, &["--yes"]);
    assert_eq!(r.code, 0, "the re-run reads them inactive: {r:?}");
    assert!(r.stdout.contains("already inactive"), "{r:?}");
    assert_only(&emu, &before, &TARGETS, 1);

    let emu = emulator(Faults {
        stale_reads_after_patch: Duration::from_millis(400),
        ..Faults::default()
    });
    let before = active_map(&emu);
    let r = apply(
        &emu,
        "v2",
        &plan,
        &["--yes", "--journal", arg(&tmp.path().join("j2"))],
    );
    assert_eq!(r.code, 0, "polling outlasts the stale window: {r:?}");
    assert_only(&emu, &before, &TARGETS, 1);
}

#[test]
fn killed_mid_run_then_resumed_with_its_journal() {
    let emu = emulator(Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let journal = tmp.path().join("run.jsonl");
    let url = emu.base_url("v2");
    let mut child = Command::new(env!("CARGO_BIN_EXE_scimdrift"))
        .args([
            "apply",
            arg(&plan),
            "--slack-url",
            &url,
            "--max-changes",
            "10",
            "--yes",
            "--journal",
            arg(&journal),
        ])
        .env("SLACK_SCIM_TOKEN", "xoxp-emulator")
        .env("SOURCE_DATE_EPOCH", "1764000000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while emu.total_patches() < 3 {
        assert!(Instant::now() < deadline, "apply made no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let partial = std::fs::read_to_string(&journal).unwrap();
    assert!(partial.contains("\"patching\""), "{partial}");
    assert!(emu.total_patches() < 7, "killed before the end");

    let r = apply(&emu, "v2", &plan, &["--yes", "--journal", arg(&journal)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_only(&emu, &before, &TARGETS, 1);
    for id in TARGETS {
        assert_eq!(emu.patch_count(id), 1, "{id} PATCHed twice");
    }
}

#[test]
fn bad_token_stops_before_any_write_and_never_leaks() {
    let emu = emulator(Faults::default());
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let canary = "xoxp-canary-77d1e0";
    let url = emu.base_url("v2");
    let r = run_env(
        None,
        &[
            "apply",
            arg(&plan),
            "--slack-url",
            &url,
            "--max-changes",
            "10",
            "--yes",
            "-vvv",
        ],
        &[("SLACK_SCIM_TOKEN", canary)],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("refused the credentials"), "{r:?}");
    assert_eq!(emu.total_patches(), 0);
    let journal = std::fs::read_to_string(tmp.path().join("plan.json.journal.jsonl")).unwrap();
    assert_eq!(journal.matches("not-attempted").count(), 7, "{journal}");
    for text in [
        &r.stdout,
        &r.stderr,
        &journal,
        &std::fs::read_to_string(&plan).unwrap(),
    ] {
        assert!(!text.contains(canary));
    }
    // With the right token and -vvv, the token is still nowhere.
    let token_file = tmp.path().join("t");
    std::fs::write(&token_file, "xoxp-emulator").unwrap();
    let r = run_env(
        None,
        &[
            "apply",
            arg(&plan),
            "--slack-url",
            &url,
            "--max-changes",
            "10",
            "--yes",
            "-vvv",
            "--token-file",
            arg(&token_file),
            "--journal",
            arg(&tmp.path().join("j2")),
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("PATCH /Users/W0NW0000001 -> 200"),
        "{r:?}"
    );
    let journal = std::fs::read_to_string(tmp.path().join("j2")).unwrap();
    for text in [&r.stdout, &r.stderr, &journal] {
        assert!(!text.contains("xoxp-emulator"));
    }
}

#[test]
fn each_action_reads_its_account_once_and_confirms_through_the_listing() {
    // Slack allows 300/min on GET /Users/{id} against 180/min on PATCH: a second single read per
    // action would cap writes at ~83% of their limit (issue 6), so confirmations use the listing.
    for version in ["v1", "v2"] {
        let emu = emulator(Faults::default());
        let before = active_map(&emu);
        let tmp = tempfile::tempdir().unwrap();
        let plan = demo_plan(tmp.path());
        let r = apply(&emu, version, &plan, &["--yes", "--format", "json"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()["summary"]["deactivated"], 7, "{r:?}");
        assert_only(&emu, &before, &TARGETS, 1);
        let log = emu.request_log();
        for id in TARGETS {
            let single = log
                .iter()
                .filter(|l| l.starts_with("GET ") && l.ends_with(&format!("/Users/{id}")))
                .count();
            assert_eq!(single, 1, "{version} {id}: {log:#?}");
        }
        let listed = log
            .iter()
            .filter(|l| l.starts_with("GET ") && l.contains("/Users?filter=userName"))
            .count();
        assert_eq!(listed, TARGETS.len(), "{version}: {log:#?}");
    }
}

/// The last outcome of each account in a journal, and every outcome word it holds.
fn journal_outcomes(path: &Path) -> (BTreeMap<String, String>, Vec<String>) {
    let mut last = BTreeMap::new();
    let mut all = Vec::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        if let (Some(id), Some(o)) = (r["slack_user_id"].as_str(), r["outcome"].as_str()) {
            last.insert(id.to_owned(), o.to_owned());
            all.push(o.to_owned());
        }
    }
    (last, all)
}

#[test]
fn a_404_that_is_not_scims_stops_the_run_and_marks_no_one_gone() {
    let emu = emulator(Faults::default());
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let journal = tmp.path().join("plan.json.journal.jsonl");
    // A mistyped base URL: the server answers 404 `bad_endpoint` for every path under it.
    let wrong = emu.base_url("v2").replace("/scim/v2", "/proxy/scim/v2");
    let args = [
        "apply",
        arg(&plan),
        "--slack-url",
        &wrong,
        "--max-changes",
        "10",
    ];
    let dry = run_env(None, &args, &[TOKEN]);
    assert_eq!(dry.code, 2, "{dry:?}");
    assert!(
        dry.stderr.contains("does not answer as a SCIM API"),
        "{dry:?}"
    );
    let r = run_env(None, &[&args[..], &["--yes"]].concat(), &[TOKEN]);
    assert_eq!(r.code, 2, "nothing was written: {r:?}");
    assert!(r.stderr.contains("pass the SCIM base URL"), "{r:?}");
    assert_eq!(emu.total_patches(), 0);
    let (_, all) = journal_outcomes(&journal);
    assert_eq!(all, vec!["not-attempted"; 7], "no account is recorded gone");
    // The right URL, the same journal: every target is deactivated.
    let r = apply(&emu, "v2", &plan, &["--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_only(&emu, &before, &TARGETS, 1);
    // A journal that holds outcomes against one endpoint is never used for another.
    let r = run_env(None, &[&args[..], &["--yes"]].concat(), &[TOKEN]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("records a run against"), "{r:?}");
}

#[test]
fn a_patch_whose_answer_and_rereads_are_lost_is_unconfirmed_and_never_resent() {
    // The PATCH lands, its answer is a 502, and every read after it a 503.
    let emu = emulator(Faults {
        lost_write_then_outage: true,
        ..Faults::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    edit_plan(&plan, |p| p["actions"].as_array_mut().unwrap().truncate(1));
    let id = TARGETS[0];
    let r = apply(
        &emu,
        "v2",
        &plan,
        &["--yes", "--max-retries", "1", "--format", "json"],
    );
    assert_eq!(r.code, 3, "{r:?}");
    let action = &r.json()["actions"][0];
    assert_eq!(action["outcome"], "unconfirmed", "{r:?}");
    assert!(
        action["message"]
            .as_str()
            .unwrap()
            .contains("re-read failed too"),
        "{r:?}"
    );
    assert_eq!(emu.patch_count(id), 1, "no second PATCH without a re-read");
    assert_eq!(emu.user(id).unwrap()["active"], false, "it had landed");
    // Once Slack answers again, a re-run reads it first and sends nothing.
    emu.set_faults(Faults::default());
    let r = apply(&emu, "v2", &plan, &["--yes", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["actions"][0]["outcome"], "already-inactive");
    assert_eq!(emu.patch_count(id), 1);
}

#[test]
fn a_token_that_cannot_write_stops_at_the_first_patch_and_changes_no_one() {
    let mut config = demo_config();
    config.read_only_token = Some("xoxp-read-only".to_owned());
    let emu = SlackEmulator::start(config);
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let journal = tmp.path().join("plan.json.journal.jsonl");
    let url = emu.base_url("v1");
    let args = [
        "apply",
        arg(&plan),
        "--slack-url",
        &url,
        "--max-changes",
        "10",
        "--yes",
    ];
    let r = run_env(None, &args, &[("SLACK_SCIM_TOKEN", "xoxp-read-only")]);
    assert_eq!(r.code, 2, "a refused PATCH writes nothing: {r:?}");
    assert!(r.stderr.contains("permission_denied"), "{r:?}");
    assert_eq!(emu.total_patches(), 0);
    assert_only(&emu, &before, &[], 0);
    let (last, _) = journal_outcomes(&journal);
    assert_eq!(last[TARGETS[0]], "failed", "refused, not unconfirmed");
    for id in &TARGETS[1..] {
        assert_eq!(last[*id], "not-attempted");
    }
    // With a token that can write, the same journal resumes and does them all.
    let r = run_env(None, &args, &[TOKEN]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_only(&emu, &before, &TARGETS, 1);
}

#[test]
fn slack_unreachable_is_exit_2_and_nothing_final() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    // A port with nobody listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/scim/v2");
    let r = run_env(
        None,
        &[
            "apply",
            arg(&plan),
            "--slack-url",
            &url,
            "--max-changes",
            "10",
            "--max-retries",
            "1",
            "--yes",
        ],
        &[TOKEN],
    );
    assert_eq!(r.code, 2, "{r:?}");
    let (_, all) = journal_outcomes(&tmp.path().join("plan.json.journal.jsonl"));
    assert_eq!(all, vec!["not-attempted"; 7]);
}

#[test]
fn one_account_that_cannot_be_read_fails_alone() {
    let broken = TARGETS[0];
    let emu = emulator(Faults {
        broken_user: Some(broken.to_owned()),
        ..Faults::default()
    });
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let r = apply(
        &emu,
        "v2",
        &plan,
        &["--yes", "--max-retries", "1", "--format", "json"],
    );
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(r.json()["actions"][0]["outcome"], "failed", "{r:?}");
    assert_eq!(
        r.json()["summary"]["deactivated"],
        6,
        "the others go on: {r:?}"
    );
    let after = active_map(&emu);
    assert!(after[broken]);
    assert_eq!(emu.total_patches(), 6);
    assert_only(
        &emu,
        &before.into_iter().filter(|(id, _)| id != broken).collect(),
        &TARGETS[1..],
        1,
    );
}

#[test]
fn an_owner_the_token_may_not_touch_stops_the_run_as_refused_and_no_such_user_under_400_is_gone() {
    let owner = TARGETS[1];
    for version in ["v1", "v2"] {
        let mut config = demo_config();
        config.owner_ids = vec![owner.to_owned()];
        // Slack documents `no_such_user`, not its status.
        config.no_such_user_status = 400;
        let emu = SlackEmulator::start(config);
        let before = active_map(&emu);
        let tmp = tempfile::tempdir().unwrap();
        let plan = demo_plan(tmp.path());
        edit_plan(&plan, |p| {
            let actions = p["actions"].as_array_mut().unwrap();
            let mut gone = actions[0].clone();
            gone["slack_user_id"] = Value::from("W0NW9999999");
            actions.push(gone);
        });
        // DESIGN §7: a 403 stops the run at once, here after TARGETS[0]; the owner is recorded
        // refused (final), so the re-run skips it and does the rest.
        let r = apply(&emu, version, &plan, &["--yes", "--format", "json"]);
        assert_eq!(r.code, 3, "{r:?}");
        assert!(r.stderr.contains("stopping the run"), "{r:?}");
        let owner_record = r.json()["actions"][1].clone();
        assert_eq!(owner_record["outcome"], "refused", "{r:?}");
        assert_eq!(owner_record["slack_error"], "cannot_modify_owner", "{r:?}");
        assert_eq!(r.json()["summary"]["deactivated"], 1, "{r:?}");
        assert_eq!(r.json()["summary"]["not-attempted"], 6, "{r:?}");
        let r = apply(&emu, version, &plan, &["--yes", "--format", "json"]);
        assert_eq!(r.code, 3, "a refusal fails the run: {r:?}");
        let report = r.json();
        let outcome = |id: &str| {
            let a = report["actions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["slack_user_id"] == id)
                .unwrap();
            (a["outcome"].clone(), a["slack_error"].clone())
        };
        assert_eq!(outcome(owner).0, "refused", "skipped as done: {r:?}");
        assert_eq!(outcome("W0NW9999999").0, "gone", "{r:?}");
        assert_eq!(report["summary"]["deactivated"], 6, "the others go on");
        let targets: Vec<&str> = TARGETS.iter().copied().filter(|t| *t != owner).collect();
        let before_but_owner = before.into_iter().filter(|(id, _)| id != owner).collect();
        assert_only(&emu, &before_but_owner, &targets, 1);
        assert!(active_map(&emu)[owner]);

        // The owner first in a fresh plan: the run stops at once, yet it ran (a final
        // refusal): exit 3 with its report, not exit 2 without one.
        let tmp2 = tempfile::tempdir().unwrap();
        let first = demo_plan(tmp2.path());
        edit_plan(&first, |p| {
            let actions = p["actions"].as_array_mut().unwrap();
            actions.swap(0, 1);
        });
        let r = apply(&emu, version, &first, &["--yes", "--format", "json"]);
        assert_eq!(r.code, 3, "{r:?}");
        assert_eq!(r.json()["actions"][0]["outcome"], "refused", "{r:?}");
        assert_eq!(r.json()["summary"]["not-attempted"], 6, "{r:?}");

        let url = emu.base_url(version);
        let r = run_env(
            None,
            &[
                "verify",
                "--slack-url",
                &url,
                "--plan",
                arg(&plan),
                "--format",
                "json",
            ],
            &[TOKEN],
        );
        assert_eq!(r.code, 1, "the owner is still active: {r:?}");
        assert_eq!(r.json()["summary"]["not-found"], 1, "{r:?}");
        assert_eq!(r.json()["summary"]["still-active"], 1, "{r:?}");
    }
}

#[test]
fn a_v2_listing_that_ignores_the_filter_is_dropped_for_single_reads() {
    let mut config = demo_config();
    config.v2_ignores_filter = true;
    let emu = SlackEmulator::start(config);
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let r = apply(&emu, "v2", &plan, &["--yes", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["summary"]["deactivated"], 7, "{r:?}");
    assert_only(&emu, &before, &TARGETS, 1);
    let listed = emu
        .request_log()
        .iter()
        .filter(|l| l.starts_with("GET ") && l.contains("/Users?filter=userName"))
        .count();
    // The first confirmation finds the filter ignored; the rest read by id alone.
    assert_eq!(listed, 1, "{:#?}", emu.request_log());
}

/// For every account, the request log never shows a second PATCH without a read of that
/// account in between (a PATCH whose answer was lost is re-read before it is ever resent).
fn assert_reread_before_resend(log: &[String]) {
    for id in TARGETS {
        let mut patched = false;
        for line in log.iter().filter(|l| l.contains(&format!("/Users/{id}"))) {
            if line.starts_with("PATCH ") {
                assert!(!patched, "{id} PATCHed again without a re-read: {log:#?}");
                patched = true;
            } else if line.starts_with("GET ") {
                patched = false;
            }
        }
    }
}

#[test]
fn faults_on_the_patch_itself_are_reread_before_any_resend() {
    // 429s on PATCHes: the server processed none of them, so each is resent after the wait,
    // and every account is PATCHed (processed) once.
    let emu = emulator(Faults {
        writes_only: true,
        forced_429: 4,
        ..Faults::default()
    });
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let r = apply(&emu, "v1", &plan, &["--yes", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(emu.responses_429(), 4, "{:#?}", emu.request_log());
    assert_eq!(
        r.json()["actions"][0]["patches"],
        5,
        "four 429s, then the one: {r:?}"
    );
    assert_only(&emu, &before, &TARGETS, 1);

    // 5xx and dropped connections on writes only: once where a faulted PATCH still lands (its
    // answer lost), once where it does not.
    for lands in [true, false] {
        let emu = emulator(Faults {
            writes_only: true,
            error_rate: 0.3,
            drop_rate: 0.2,
            write_lands_on_fault: lands,
            ..Faults::default()
        });
        let before = active_map(&emu);
        let tmp = tempfile::tempdir().unwrap();
        let plan = demo_plan(tmp.path());
        let r = apply(
            &emu,
            "v1",
            &plan,
            &["--yes", "--max-retries", "12", "--format", "json"],
        );
        assert_eq!(r.code, 0, "lands={lands}: {r:?}");
        assert_eq!(r.json()["summary"]["deactivated"], 7, "{r:?}");
        let log = emu.request_log();
        // Faults hit writes only: every 5xx and drop was a PATCH's.
        assert!(
            emu.responses_5xx() + emu.dropped() > 0,
            "lands={lands}: PATCHes met faults: {log:#?}"
        );
        let sent = log.iter().filter(|l| l.starts_with("PATCH ")).count();
        if lands {
            assert_eq!(sent, 7, "a PATCH that landed is never resent: {log:#?}");
        } else {
            assert!(sent > 7, "lost PATCHes were resent: {log:#?}");
        }
        // Processed PATCHes: exactly one per account either way (a landed one is never resent;
        // one that did not land is resent once the re-read shows it active).
        assert_only(&emu, &before, &TARGETS, 1);
        for id in TARGETS {
            assert_eq!(emu.patch_count(id), 1, "lands={lands} {id}");
        }
        assert_reread_before_resend(&log);
        assert_eq!(emu.total_deletes(), 0, "never DELETE");
        assert!(
            log.iter()
                .all(|l| l.starts_with("GET ") || l.starts_with("PATCH ")),
            "only GET and PATCH: {log:#?}"
        );
    }
}

#[test]
fn a_token_revoked_mid_run_stops_it_at_once() {
    let emu = emulator(Faults {
        revoke_after_patches: Some(2),
        ..Faults::default()
    });
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    // v1: Slack answers a bad token with 401 there.
    let r = apply(&emu, "v1", &plan, &["--yes", "--format", "json"]);
    assert_eq!(r.code, 3, "two PATCHes landed: {r:?}");
    assert!(r.stderr.contains("refused the credentials"), "{r:?}");
    assert!(r.stderr.contains("401"), "{r:?}");
    assert_eq!(emu.total_patches(), 2, "no PATCH after the 401");
    let (last, _) = journal_outcomes(&tmp.path().join("plan.json.journal.jsonl"));
    assert_eq!(last[TARGETS[0]], "deactivated");
    // Its PATCH landed, but the confirming read met the 401.
    assert_eq!(last[TARGETS[1]], "unconfirmed");
    for id in &TARGETS[2..] {
        assert_eq!(last[*id], "not-attempted", "{id}");
    }
    assert_only(&emu, &before, &TARGETS[..2], 1);
}

#[test]
fn a_journal_that_cannot_be_written_means_no_patch() {
    let emu = emulator(Faults::default());
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let journal = tmp.path().join("no-such-dir/j.jsonl");
    let r = apply(&emu, "v2", &plan, &["--yes", "--journal", arg(&journal)]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no-such-dir"), "{r:?}");
    assert_eq!(emu.total_patches(), 0);
    assert_only(&emu, &before, &[], 0);
}

#[test]
fn a_patch_answered_204_is_accepted() {
    let mut config = demo_config();
    config.patch_204 = true;
    let emu = SlackEmulator::start(config);
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let r = apply(&emu, "v2", &plan, &["--yes", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["summary"]["deactivated"], 7, "{r:?}");
    assert_eq!(emu.status_count(204), 7, "{:#?}", emu.request_log());
    assert_only(&emu, &before, &TARGETS, 1);
}

#[test]
fn a_retry_after_given_as_an_http_date_is_waited_out_on_reads_and_writes() {
    let mut config = demo_config();
    config.time_scale = 10.0;
    config.retry_after_dates = true;
    // The dry run's first read meets a dated 429.
    config.faults.forced_429 = 1;
    let emu = SlackEmulator::start(config);
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let r = apply(&emu, "v2", &plan, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(emu.responses_429(), 1);
    // Then two on the PATCHes.
    emu.set_faults(Faults {
        forced_429: 2,
        writes_only: true,
        ..Faults::default()
    });
    let r = apply(&emu, "v2", &plan, &["--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(emu.responses_429(), 3);
    assert_eq!(
        emu.early_requests(),
        0,
        "a request came before the date the 429 gave: {:#?}",
        emu.request_log()
    );
    assert_only(&emu, &before, &TARGETS, 1);
}

/// A JumpCloud users page for the people of `emu` (bots and `owner` left out), with the first
/// `suspend` active ones suspended; returns the page and the suspended accounts' ids.
fn suspend_some(emu: &SlackEmulator, owner: &str, suspend: usize) -> (Value, Vec<String>) {
    let mut results = Vec::new();
    let mut picked = Vec::new();
    for (i, id) in emu.user_ids().into_iter().enumerate() {
        let user = emu.user(&id).unwrap();
        let email = user["emails"][0]["value"].as_str().unwrap_or_default();
        if email.is_empty() || email.ends_with("@slack-bots.com") || id == owner {
            continue;
        }
        let active = user["active"].as_bool().unwrap_or(true);
        let suspended = active && picked.len() < suspend;
        if suspended {
            picked.push(id.clone());
        }
        results.push(serde_json::json!({
            "_id": format!("jc{i:05}"), "email": email, "suspended": suspended,
            "state": if suspended { "SUSPENDED" } else { "ACTIVATED" },
        }));
    }
    let page = serde_json::json!({"totalCount": results.len(), "results": results});
    (page, picked)
}

#[test]
fn the_limiter_keeps_a_long_run_under_slacks_write_limit() {
    // Slack's limits ten times faster: PATCH /Users/{id} 1,800/min, burst 20.
    let config = || {
        let mut config = SlackConfig::generated(100, 12);
        config.time_scale = 10.0;
        config
    };
    let owner = config().primary_owner_id.unwrap();
    let emu = SlackEmulator::start(config());
    let (page, targets) = suspend_some(&emu, &owner, 60);
    assert_eq!(targets.len(), 60);
    let tmp = tempfile::tempdir().unwrap();
    let jc = tmp.path().join("jc.json");
    std::fs::write(&jc, page.to_string()).unwrap();
    let plan = tmp.path().join("plan.json");
    let url = emu.base_url("v2");
    let r = run_env(
        None,
        &[
            "plan",
            "--jumpcloud",
            arg(&jc),
            "--slack-url",
            &url,
            "--out",
            arg(&plan),
        ],
        &[TOKEN],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
    let run = |emu: &SlackEmulator, writes_per_minute: &str, journal: &str| {
        let before = active_map(emu);
        let r = apply(
            emu,
            "v2",
            &plan,
            &[
                "--yes",
                "--max-changes",
                "60",
                // 80% of the scaled limit: the client's bucket starts full as Slack's does,
                // and loopback jitter must not make a request look early.
                "--max-writes-per-minute",
                writes_per_minute,
                "--max-reads-per-minute",
                "2800",
                "--max-rpm",
                "9000",
                "--journal",
                arg(&tmp.path().join(journal)),
            ],
        );
        assert_eq!(r.code, 0, "{r:?}");
        assert_only(emu, &before, &targets, 1);
        assert_eq!(emu.total_patches(), 60);
    };
    // 60 writes, three times the burst, under the limiter: Slack never answers 429.
    run(&emu, "1440", "j1");
    assert_eq!(emu.responses_429(), 0, "{:#?}", emu.request_log());
    // The same run with the limiter far above Slack's limit meets 429s (and still completes):
    // the quiet run above was the limiter's doing.
    let emu = SlackEmulator::start(config());
    run(&emu, "100000", "j2");
    assert!(emu.responses_429() > 0);
}

/// `verify --journal` against `emu`: its JSON report.
fn verify_journal(emu: &SlackEmulator, journal: &Path) -> Run {
    let url = emu.base_url("v2");
    run_env(
        None,
        &[
            "verify",
            "--slack-url",
            &url,
            "--journal",
            arg(journal),
            "--format",
            "json",
        ],
        &[TOKEN],
    )
}

#[test]
fn a_last_record_without_its_newline_is_kept_not_cut() {
    let emu = emulator(Faults::default());
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let j1 = tmp.path().join("j1.jsonl");
    let r = apply(&emu, "v2", &plan, &["--yes", "--journal", arg(&j1)]);
    assert_eq!(r.code, 0, "{r:?}");
    // The last record, whole, but without its newline (an editor, a copy that dropped it).
    let j3 = tmp.path().join("j3.jsonl");
    let mut bytes = std::fs::read(&j1).unwrap();
    assert_eq!(bytes.pop(), Some(b'\n'));
    std::fs::write(&j3, &bytes).unwrap();
    let (last, _) = journal_outcomes(&j3);
    assert_eq!(last[TARGETS[6]], "deactivated");

    let r = apply(&emu, "v2", &plan, &["--yes", "--journal", arg(&j3)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        !r.stderr.contains("torn"),
        "a whole record is no torn write: {r:?}"
    );
    assert_eq!(
        r.stdout.matches("done in an earlier run").count(),
        7,
        "{r:?}"
    );
    assert_only(&emu, &before, &TARGETS, 1);
    // Nothing of the audit trail was lost: the old bytes are all there, and every line of the
    // file is a record of its own.
    let after = std::fs::read(&j3).unwrap();
    assert!(after.starts_with(&bytes), "the journal was rewritten");
    let (last, all) = journal_outcomes(&j3);
    assert_eq!(all.iter().filter(|o| *o == "deactivated").count(), 7);
    for id in TARGETS {
        assert_eq!(last[id], "deactivated", "{id}");
    }
    let r = verify_journal(&emu, &j3);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["summary"]["deactivated"], 7, "{r:?}");
}

#[test]
fn a_bad_last_line_that_ends_in_a_newline_is_corruption_not_a_torn_write() {
    let emu = emulator(Faults::default());
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let journal = tmp.path().join("j.jsonl");
    let r = apply(&emu, "v2", &plan, &["--yes", "--journal", arg(&journal)]);
    assert_eq!(r.code, 0, "{r:?}");
    // start, then a patching and an outcome record per target.
    let lines = std::fs::read_to_string(&journal).unwrap().lines().count();
    assert_eq!(lines, 15);
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes.extend_from_slice(b"garbage, not json\n");
    std::fs::write(&journal, &bytes).unwrap();

    let requests = emu.requests();
    let r = apply(&emu, "v2", &plan, &["--yes", "--journal", arg(&journal)]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(&format!(
            "journal {} line 16 is not a journal record",
            journal.display()
        )),
        "{r:?}"
    );
    assert!(!r.stderr.contains("torn"), "{r:?}");
    assert_eq!(
        emu.requests(),
        requests,
        "no request before the journal is read"
    );
    assert_eq!(std::fs::read(&journal).unwrap(), bytes, "nothing appended");
    let r = verify_journal(&emu, &journal);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("line 16 is not a journal record"),
        "{r:?}"
    );

    // Without its newline, the same line is a torn write: cut, with a warning.
    bytes.pop();
    std::fs::write(&journal, &bytes).unwrap();
    let r = apply(&emu, "v2", &plan, &["--yes", "--journal", arg(&journal)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("ignoring a torn last line"), "{r:?}");
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(!text.contains("garbage"), "{text}");
    let r = verify_journal(&emu, &journal);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["summary"]["deactivated"], 7, "{r:?}");
}

#[test]
fn hand_edited_plans_are_refused_naming_the_file_and_the_action() {
    let emu = emulator(Faults::default());
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let original = std::fs::read(&plan).unwrap();
    let name = plan.display().to_string();
    let url = emu.base_url("v2");
    let refused = |what: &str, expected: &str| {
        for extra in [&[][..], &["--yes"][..]] {
            let r = apply(&emu, "v2", &plan, extra);
            assert_eq!(r.code, 2, "{what} {extra:?}: {r:?}");
            assert!(r.stderr.contains(expected), "{what} {extra:?}: {r:?}");
        }
        let r = run_env(
            None,
            &["verify", "--slack-url", &url, "--plan", arg(&plan)],
            &[TOKEN],
        );
        assert_eq!(r.code, 2, "{what}: {r:?}");
        assert!(r.stderr.contains(expected), "{what}: {r:?}");
        std::fs::write(&plan, &original).unwrap();
    };

    edit_plan(&plan, |p| {
        p["actions"][3]["slack_user_id"] = Value::from("../Groups");
    });
    refused(
        "a bad id",
        &format!("{name}: actions[3]: `../Groups` is not a SCIM user id"),
    );
    // The same account twice: previewed twice, counted twice by --max-changes.
    edit_plan(&plan, |p| {
        let actions = p["actions"].as_array_mut().unwrap();
        let again = actions[1].clone();
        actions.insert(4, again);
    });
    refused(
        "a repeated account",
        &format!("{name}: actions[4]: W0NW0000002 is already actions[1]"),
    );
    // A plan whose age is unknown cannot pass the --max-plan-age guard.
    edit_plan(&plan, |p| p["created_at"] = Value::from("yesterday"));
    refused(
        "an unreadable created_at",
        &format!("{name}: created_at: `yesterday` is not an RFC 3339 time"),
    );
    assert_eq!(emu.requests(), 0, "nothing was sent for a refused plan");
    assert_only(&emu, &before, &[], 0);

    // A BOM (a Windows editor's save) is accepted, as the inputs' loaders accept it.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&original);
    std::fs::write(&plan, &bom).unwrap();
    let r = apply(&emu, "v2", &plan, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("7 would-deactivate"), "{r:?}");
    let r = apply(&emu, "v2", &plan, &["--yes", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["summary"]["deactivated"], 7, "{r:?}");
    assert_only(&emu, &before, &TARGETS, 1);
}

#[test]
fn changed_since_plan_messages_show_plain_values() {
    let emu = emulator(Faults::default());
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    edit_plan(&plan, |p| {
        p["actions"][3]["expected"]["userName"] = Value::from("dave.CHANGED");
        p["actions"][4]["expected"]["userName"] = Value::Null;
    });
    let expected = [
        (
            "W0NW0000004",
            "userName changed from dave.CHANGED to dave.kim",
        ),
        ("W0NW0000005", "userName changed from (none) to erin.cho"),
    ];
    let messages = |report: &Value| -> BTreeMap<String, String> {
        report["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["slack_user_id"].as_str().unwrap().to_owned(),
                    a["message"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    let r = apply(&emu, "v2", &plan, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let preview = messages(&r.json());
    for (id, message) in expected {
        assert_eq!(preview[id], message, "{r:?}");
    }
    let r = apply(&emu, "v2", &plan, &["--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains("Some("), "{r:?}");
    assert!(r.stdout.contains("dave.CHANGED to dave.kim"), "{r:?}");
    let journal = std::fs::read_to_string(tmp.path().join("plan.json.journal.jsonl")).unwrap();
    let recorded: BTreeMap<String, String> = journal
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["outcome"] == "changed-since-plan")
        .map(|r| {
            (
                r["slack_user_id"].as_str().unwrap().to_owned(),
                r["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(recorded.len(), 2, "{journal}");
    for (id, message) in expected {
        assert_eq!(recorded[id], message, "{journal}");
    }
}

#[test]
fn bad_guard_values_are_usage_errors_before_anything_is_sent_dry_run_or_not() {
    let emu = emulator(Faults::default());
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let journal = tmp.path().join("j.jsonl");
    for yes in [false, true] {
        for (flag, value, says) in [
            // A bare number was read as hours: 3600 meant 150 days.
            ("--max-plan-age", "3600", "needs a unit"),
            ("--max-plan-age", "xyz", "is not a duration"),
            ("--confirm-timeout", "10", "needs a unit"),
            ("--max-changes", "abc", "neither a number nor a percentage"),
        ] {
            let mut extra = vec![flag, value, "--journal", arg(&journal)];
            if yes {
                extra.push("--yes");
            }
            let r = apply(&emu, "v2", &plan, &extra);
            assert_eq!(r.code, 2, "{flag} {value}, --yes {yes}: {r:?}");
            assert!(r.stderr.contains(&format!("{flag}: ")), "{r:?}");
            assert!(r.stderr.contains(says), "{r:?}");
        }
    }
    // --output never lands on the plan or the journal (default or given).
    let default_journal = tmp.path().join("plan.json.journal.jsonl");
    for (output, extra) in [
        (journal.clone(), vec!["--journal", arg(&journal)]),
        (default_journal.clone(), vec![]),
        (plan.clone(), vec![]),
    ] {
        let mut args = vec!["--yes", "--output", arg(&output)];
        args.extend(extra);
        let r = apply(&emu, "v2", &plan, &args);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("land inside the input"), "{r:?}");
    }
    let url = emu.base_url("v2");
    let r = run_env(
        None,
        &[
            "verify",
            "--plan",
            arg(&plan),
            "--slack-url",
            &url,
            "--output",
            arg(&plan),
        ],
        &[TOKEN],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("land inside the input"), "{r:?}");
    assert_eq!(emu.requests(), 0, "{:#?}", emu.request_log());
    assert!(
        !journal.exists() && !default_journal.exists(),
        "no journal is started"
    );
    // A limit from the config is named as the config's.
    let config = tmp.path().join("scimdrift.toml");
    std::fs::write(&config, "max_changes = \"5%\"\n").unwrap();
    let url = emu.base_url("v2");
    let r = run_env(
        None,
        &[
            "apply",
            arg(&plan),
            "--slack-url",
            &url,
            "--yes",
            "--config",
            arg(&config),
        ],
        &[TOKEN],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("(max_changes (config) 5% of 38 active)"),
        "{r:?}"
    );
}

#[test]
fn an_answer_about_another_account_stops_the_run_and_verify() {
    // GET /Users/W0NW0000001 answers oscar (already inactive): trusted, alice would be skipped
    // as already-inactive and verify would call her deactivated.
    let emu = emulator(Faults {
        misdirected_user: Some(("W0NW0000001".to_owned(), "W0NW0000013".to_owned())),
        ..Faults::default()
    });
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    for extra in [&[][..], &["--yes"][..]] {
        let r = apply(&emu, "v2", &plan, extra);
        assert_eq!(r.code, 2, "{extra:?}: {r:?}");
        assert!(
            r.stderr
                .contains("answered GET /Users/W0NW0000001 with account W0NW0000013"),
            "{r:?}"
        );
    }
    assert_eq!(emu.total_patches(), 0);
    assert_only(&emu, &before, &[], 0);
    let url = emu.base_url("v2");
    let r = run_env(
        None,
        &["verify", "--plan", arg(&plan), "--slack-url", &url],
        &[TOKEN],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("with account W0NW0000013"), "{r:?}");
}

#[test]
fn a_second_apply_on_a_journal_in_use_is_refused() {
    let emu = emulator(Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let journal = tmp.path().join("run.jsonl");
    let url = emu.base_url("v2");
    let first = Command::new(env!("CARGO_BIN_EXE_scimdrift"))
        .args(["apply", arg(&plan), "--slack-url", &url])
        .args(["--max-changes", "10", "--yes", "--journal", arg(&journal)])
        .env(TOKEN.0, TOKEN.1)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while emu.total_patches() < 1 {
        assert!(Instant::now() < deadline, "apply made no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Both would re-read and PATCH the same accounts, and record them twice.
    let r = apply(&emu, "v2", &plan, &["--yes", "--journal", arg(&journal)]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("in use"), "{r:?}");
    assert!(first.wait_with_output().unwrap().status.success());
    assert_only(&emu, &before, &TARGETS, 1);
    let (outcomes, all) = journal_outcomes(&journal);
    assert_eq!(outcomes.len(), TARGETS.len());
    assert_eq!(all.len(), TARGETS.len(), "one outcome per account: {all:?}");
}

#[test]
fn verify_of_a_journal_cut_after_a_patching_record_checks_that_account() {
    let emu = emulator(Faults::default());
    let tmp = tempfile::tempdir().unwrap();
    let journal = tmp.path().join("run.jsonl");
    // As a kill -9 between the PATCH and its outcome leaves it (here the PATCH never left).
    let lines = [
        serde_json::json!({"ts": "2026-01-01T00:00:00Z", "event": "start", "plan_sha256": "0"}),
        serde_json::json!({"ts": "2026-01-01T00:00:01Z", "event": "patching",
            "slack_user_id": TARGETS[0]}),
    ];
    std::fs::write(&journal, format!("{}\n{}\n", lines[0], lines[1])).unwrap();
    let r = verify_journal(&emu, &journal);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains(TARGETS[0]), "{r:?}");
    assert!(r.stdout.contains("still-active"), "{r:?}");
}

#[test]
fn endless_429s_on_patches_stop_the_run() {
    let emu = emulator(Faults {
        forced_429: 1000,
        writes_only: true,
        ..Faults::default()
    });
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let journal = tmp.path().join("run.jsonl");
    let r = apply(&emu, "v2", &plan, &["--yes", "--journal", arg(&journal)]);
    // No PATCH was accepted: the run could not run.
    assert_eq!(r.code, 2, "{r:?}");
    assert!(emu.responses_429() <= 32, "{} 429s", emu.responses_429());
    let (outcomes, _) = journal_outcomes(&journal);
    assert_eq!(outcomes[TARGETS[0]], "failed");
    for id in &TARGETS[1..] {
        assert_eq!(outcomes[*id], "not-attempted", "{id}");
    }
    assert_only(&emu, &before, &[], 0);
}

#[test]
fn a_patch_answered_200_that_leaves_the_account_active_is_unconfirmed_not_deactivated() {
    let emu = emulator(Faults {
        patch_ignored: true,
        ..Faults::default()
    });
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let journal = tmp.path().join("run.jsonl");
    let r = apply(
        &emu,
        "v2",
        &plan,
        &[
            "--yes",
            "--confirm-timeout",
            "1s",
            "--journal",
            arg(&journal),
        ],
    );
    assert_eq!(r.code, 3, "{r:?}");
    let (outcomes, _) = journal_outcomes(&journal);
    for id in TARGETS {
        assert_eq!(outcomes[id], "unconfirmed", "{id}");
        assert_eq!(emu.patch_count(id), 1, "{id}");
    }
    assert_eq!(active_map(&emu), before, "nothing landed");
    let r = verify_journal(&emu, &journal);
    assert_eq!(r.code, 1, "{r:?}");
}

#[test]
fn a_token_of_another_organisation_is_refused_and_does_not_block_the_right_one() {
    // Slack never deletes accounts: when every account of a plan answers "no such user", the
    // token opens another organisation. Each used to be recorded `gone` (final) with exit 0,
    // and the run with the right token then skipped them all as done.
    let other = SlackEmulator::start(SlackConfig::generated(20, 3));
    let right = emulator(Faults::default());
    let before = active_map(&right);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let journal = tmp.path().join("plan.json.journal.jsonl");
    for extra in [&[][..], &["--yes"][..]] {
        let r = apply(&other, "v2", &plan, extra);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(
            r.stderr
                .contains("none of the 7 account(s) of the plan exists at"),
            "{r:?}"
        );
        assert!(r.stderr.contains("another organisation"), "{r:?}");
    }
    assert_eq!(other.total_patches(), 0);
    // verify says so too, instead of "nothing is still active".
    for r in [
        run_env(
            None,
            &[
                "verify",
                "--plan",
                arg(&plan),
                "--slack-url",
                &other.base_url("v2"),
            ],
            &[TOKEN],
        ),
        verify_journal(&other, &journal),
    ] {
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("none of the 7 account(s)"), "{r:?}");
    }
    // The same journal with the right organisation: every account is read again and done.
    let r = apply(&right, "v2", &plan, &["--yes", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["summary"]["deactivated"], 7, "{r:?}");
    assert_only(&right, &before, &TARGETS, 1);
}

#[test]
fn slack_unreachable_while_confirming_stops_the_run_at_once() {
    // The first PATCH lands and is answered, then nothing answers: the confirming reads must
    // stop the run (as any read does), not go on reading until --confirm-timeout and leave the
    // last account of a plan with no stop at all.
    let emu = emulator(Faults {
        unreachable_after_patches: Some(1),
        ..Faults::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let r = apply(
        &emu,
        "v2",
        &plan,
        &[
            "--yes",
            "--format",
            "json",
            "--max-retries",
            "1",
            "--confirm-timeout",
            "5s",
        ],
    );
    assert_eq!(r.code, 3, "a PATCH was accepted: {r:?}");
    let actions = r.json()["actions"].as_array().unwrap().clone();
    assert_eq!(actions[0]["outcome"], "unconfirmed", "{r:?}");
    let message = actions[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("stopped:") && message.contains("GET /Users/W0NW0000001 failed"),
        "{message}"
    );
    assert!(
        actions[1..].iter().all(|a| a["outcome"] == "not-attempted"),
        "{r:?}"
    );
    assert_eq!(emu.total_patches(), 1);
}
