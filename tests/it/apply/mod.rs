//! `plan`, `apply` and `verify` against the Slack emulator: the safety rules of DESIGN §7, failure
//! paths first. Every test checks that exactly the intended accounts end inactive, that no one
//! else changed, and that no confirmed account was PATCHed twice. Here: plans, guards and the
//! rules each action is judged by; `faults`: what Slack and the network do wrong; `journal`:
//! crashes, resumes and the journal itself.

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
fn a_token_of_another_organisation_is_refused_and_does_not_block_the_right_one() {
    // Slack never deletes accounts, and one URL serves every organisation (the token picks
    // it): when every account read answers "no such user", the token is another organisation's.
    // Each used to be recorded `gone` (final) with exit 0, and the run with the right token then
    // skipped them all as done.
    const OTHER: (&str, &str) = ("SLACK_SCIM_TOKEN", "xoxp-another-org");
    let mut config = demo_config();
    config.other_org_token = Some(OTHER.1.to_owned());
    let emu = SlackEmulator::start(config);
    let before = active_map(&emu);
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    let journal = tmp.path().join("plan.json.journal.jsonl");
    let url = emu.base_url("v2");
    let run = |args: &[&str], token: (&'static str, &'static str)| {
        let mut all = args.to_vec();
        all.extend(["--slack-url", url.as_str()]);
        if args[0] == "apply" {
            all.extend(["--max-changes", "10"]);
        }
        run_env(None, &all, &[token])
    };
    let refused = |r: &Run, what: &str| {
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains(what), "{r:?}");
        assert!(r.stderr.contains("another organisation's"), "{r:?}");
    };
    // One account unknown among others that exist (still active: previews without an outcome)
    // is that account's `gone`.
    let one_gone = tmp.path().join("one-gone.json");
    std::fs::copy(&plan, &one_gone).unwrap();
    edit_plan(&one_gone, |p| {
        p["actions"][0]["slack_user_id"] = Value::from("W0NW9999999");
    });
    let r = run(&["apply", arg(&one_gone), "--format", "json"], TOKEN);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["actions"][0]["outcome"], "gone", "{r:?}");
    assert_eq!(r.json()["actions"][1]["outcome"], Value::Null, "{r:?}");
    for yes in [&[][..], &["--yes"][..]] {
        let mut args = vec!["apply", arg(&plan)];
        args.extend_from_slice(yes);
        refused(
            &run(&args, OTHER),
            "none of the 7 account(s) read for the plan exists",
        );
    }
    assert_eq!(emu.total_patches(), 0);
    // verify says so too, instead of "nothing is still active".
    refused(
        &run(&["verify", "--plan", arg(&plan)], OTHER),
        "none of the 7 account(s) of the plan exists",
    );
    refused(
        &run(&["verify", "--journal", arg(&journal)], OTHER),
        "none of the 7 account(s) the journal names exists",
    );
    // A run with the right token that stops after 3 PATCHes (the token revoked), resumed with
    // the other organisation's: the accounts done before do not hide the unknown ones.
    emu.set_faults(Faults {
        revoke_after_patches: Some(3),
        ..Faults::default()
    });
    let r = run(&["apply", arg(&plan), "--yes"], TOKEN);
    assert_eq!(r.code, 3, "{r:?}");
    // Two deactivated; the third PATCH landed but its confirmation met the revoked token.
    let (outcomes, _) = journal_outcomes(&journal);
    assert_eq!(
        outcomes.values().filter(|o| *o == "deactivated").count(),
        2,
        "{outcomes:?}"
    );
    emu.set_faults(Faults::default());
    refused(
        &run(&["apply", arg(&plan), "--yes"], OTHER),
        "none of the 5 account(s) read for the plan exists",
    );
    // The same journal with the right token: every account left is read again and done.
    let r = run(&["apply", arg(&plan), "--yes", "--format", "json"], TOKEN);
    assert_eq!(r.code, 0, "{r:?}");
    assert_only(&emu, &before, &TARGETS, 1);
}

mod faults;
mod journal;
