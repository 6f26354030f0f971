//! The apply journal: a run killed and resumed, a journal that cannot be written, torn and
//! corrupt last lines, a journal in use, and `verify --journal` after a crash.

use super::*;

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
fn verify_of_a_journal_that_does_not_exist_is_an_error_not_a_clean_check() {
    let emu = emulator(Faults::default());
    let tmp = tempfile::tempdir().unwrap();
    let r = verify_journal(&emu, &tmp.path().join("typo.jsonl"));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("typo.jsonl"), "{r:?}");
}
