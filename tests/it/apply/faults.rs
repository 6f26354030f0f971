//! `apply` and `verify` when Slack or the network misbehave: 429 storms, 5xx, dropped
//! connections, lost answers, bad or revoked tokens, 404s that are not SCIM's, stale reads,
//! answers about another account, and the write limiter over a long run.

use super::*;

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

#[test]
fn a_run_that_stops_after_a_patch_reports_it_even_when_every_other_account_was_unknown() {
    // The first account is unknown; the second is PATCHed, then the token is revoked while it
    // is confirmed. Something may have changed: the run reports (exit 3), it is not refused as
    // "none found ... nothing was changed".
    let emu = emulator(Faults {
        revoke_after_patches: Some(1),
        ..Faults::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let plan = demo_plan(tmp.path());
    edit_plan(&plan, |p| {
        p["actions"][0]["slack_user_id"] = Value::from("W0NW9999999");
    });
    let r = apply(&emu, "v2", &plan, &["--yes", "--format", "json"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(!r.stderr.contains("none of the"), "{r:?}");
    assert_eq!(emu.total_patches(), 1);
    let actions = r.json()["actions"].as_array().unwrap().clone();
    assert_eq!(actions[0]["outcome"], "gone", "{r:?}");
    assert_eq!(actions[1]["outcome"], "unconfirmed", "{r:?}");
}
