//! A hostile or broken Slack SCIM server: pages that are not JSON, totals that lie, pages
//! answering for another `startIndex`. Nothing it serves may be saved or audited.

use super::{SLACK_TOKEN, fetch};
use crate::common::{Run, arg, root, run_env};
use crate::support::slack_emulator::{Faults, SlackConfig, SlackEmulator};

/// A generated org behind `faults`, without rate limits (some of these tests would send
/// thousands of requests on the old code).
fn faulty_slack(users: usize, faults: Faults) -> SlackEmulator {
    let mut config = SlackConfig::generated(users, 11);
    config.rate_limits = crate::support::slack_emulator::RateLimits::unlimited();
    config.faults = faults;
    SlackEmulator::start(config)
}

/// `fetch slack` of `slack`'s v2 listing with `extra` flags, which must be refused (exit 2)
/// with every one of `says` in its message, and nothing written.
fn refused(slack: &SlackEmulator, extra: &[&str], says: &[&str]) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let r = fetch("slack", &slack.base_url("v2"), &out, extra, &[SLACK_TOKEN]);
    assert_eq!(r.code, 2, "{r:?}");
    for text in says {
        assert!(r.stderr.contains(text), "{text}: {r:?}");
    }
    assert!(!out.exists());
    r
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
    let r = refused(
        &slack,
        &["--page-size", "100"],
        &[
            "GET /Users?startIndex=101&count=100",
            "not a JSON page: it starts with `<html><body><h1>Sign in</h1></bo…`",
        ],
    );
    assert!(!r.stderr.contains("line 1 column 1"), "{r:?}");
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
    refused(
        &slack,
        &["--page-size", "10"],
        &[
            "totalResults 1000000000000, beyond the 10000000",
            "nothing was saved",
        ],
    );
    assert_eq!(slack.requests(), 1, "refused after the first page");
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
        let r = refused(
            &slack,
            &[
                "--page-size",
                "100",
                "--concurrency",
                "4",
                "--max-rpm",
                "100000",
            ],
            &[
                "came back empty although totalResults is 100000",
                "nothing was saved",
            ],
        );
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
    refused(
        &slack,
        &["--page-size", "100"],
        &[
            "GET /Users?startIndex=101&count=100 was answered with startIndex 1",
            "nothing was saved",
        ],
    );
    // A live audit keeps no snapshot of it either.
    let tmp = tempfile::tempdir().unwrap();
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
