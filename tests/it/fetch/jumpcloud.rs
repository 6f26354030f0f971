//! `fetch jumpcloud` and live JumpCloud reads: `x-total-count`, v2 paging that must end,
//! repeated ids, shortfalls, empty listings and v1 counts beyond any organisation.

use serde_json::Value;

use super::{
    JC_KEY, SLACK_TOKEN, audit_json, demo_jumpcloud, demo_slack, expected_demo, fetch,
    findings_and_summary,
};
use crate::common::{arg, root, run_env};
use crate::support::jumpcloud_emulator::{JumpCloudConfig, JumpCloudEmulator, V2Tail};

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
