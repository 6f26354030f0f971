//! The Slack emulator's rate limits (token buckets on a scaled clock, the per-user write lock)
//! and injected faults (5xx, latency, forced 429, dropped connections, stale reads, churn).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;

use super::slack::{Slack, cast, patch_op, primary_email, v1_error, v2_error};
use super::{read, retry_after};
use crate::support::slack_emulator::{Faults, Limit, RateLimits, SlackConfig};

/// Sends requests until the first 429 (at most `max`); returns how many passed before it.
fn until_429(
    max: usize,
    mut send: impl FnMut(usize) -> reqwest::blocking::Response,
) -> (usize, reqwest::blocking::Response) {
    for i in 0..max {
        let resp = send(i);
        match resp.status().as_u16() {
            200 => {}
            429 => return (i, resp),
            other => panic!("request {i}: status {other}"),
        }
    }
    panic!("no 429 within {max} requests");
}

#[test]
fn slack_per_user_write_bucket_answers_429_with_retry_after() {
    let config = SlackConfig::generated(20, 8);
    let (_, _, id) = cast(&config);
    let s = Slack::start(config);
    // PATCH /Users/{id}: burst 20, then 3 a second (a slow machine may earn one more token).
    let (passed, resp) = until_429(25, |i| {
        s.patch("v2", &id, &patch_op("active", &json!(i % 2 == 0)))
            .send()
            .unwrap()
    });
    assert!(
        (20..=21).contains(&passed),
        "{passed} PATCHes before the 429"
    );
    assert_eq!(retry_after(&resp).as_deref(), Some("1"));
    assert_eq!(read(resp), (429, v2_error("too_many_requests", 429)));
    assert_eq!(s.emu.responses_429(), 1);
    assert_eq!(s.emu.patch_count(&id), u32::try_from(passed).unwrap());
}

#[test]
fn slack_read_buckets_run_on_the_scaled_clock() {
    // 3 a minute on a clock 60 times faster: one token every 1/3 s real.
    let tiny = Limit {
        per_min: 3.0,
        burst: 5.0,
    };
    let config = SlackConfig {
        rate_limits: RateLimits {
            org_reads: tiny,
            ..RateLimits::default()
        },
        time_scale: 60.0,
        ..SlackConfig::generated(5, 9)
    };
    let s = Slack::start(config);
    let (passed, resp) = until_429(10, |_| s.get("v1", "/Users").send().unwrap());
    assert!((5..=6).contains(&passed), "{passed} reads before the 429");
    // A token frees within 20 Slack seconds = 1/3 s real: rounds to 0.
    assert_eq!(retry_after(&resp).as_deref(), Some("0"));
    assert_eq!(read(resp), (429, v1_error("too_many_requests", 429)));
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(s.get("v1", "/Users").send().unwrap().status(), 200);

    // GET /Users/{id} has its own bucket on top of the org reads.
    s.emu.set_rate_limits(RateLimits {
        // One token per 1200 Slack seconds = 20 s real at time scale 60.
        user_get: Limit {
            per_min: 0.05,
            burst: 2.0,
        },
        ..RateLimits::default()
    });
    let id = s.emu.user_ids()[0].clone();
    let (passed, resp) = until_429(5, |_| s.get("v2", &format!("/Users/{id}")).send().unwrap());
    assert_eq!(passed, 2);
    let wait: u64 = retry_after(&resp).unwrap().parse().unwrap();
    assert!((19..=20).contains(&wait), "Retry-After {wait}");
    assert_eq!(s.get("v2", "/Users").send().unwrap().status(), 200);
}

#[test]
fn slack_concurrent_writes_to_one_user_meet_the_lock() {
    let config = SlackConfig {
        faults: Faults {
            latency: Duration::from_millis(600),
            ..Faults::default()
        },
        ..SlackConfig::generated(10, 10)
    };
    let (_, _, id) = cast(&config);
    let s = Slack::start(config);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let first = scope.spawn(|| s.deactivate("v2", &id).0);
        std::thread::sleep(Duration::from_millis(150));
        let second = scope.spawn(|| s.deactivate("v2", &id).0);
        vec![first.join().unwrap(), second.join().unwrap()]
    });
    assert_eq!(statuses, [200, 429]);
    assert_eq!(s.emu.patch_count(&id), 1);
}

#[test]
fn slack_faults_5xx_latency_forced_429_and_counters() {
    let s = Slack::start(SlackConfig::generated(10, 11));
    s.emu.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let mut seen = BTreeSet::new();
    for _ in 0..12 {
        let resp = s.get("v2", "/Users").send().unwrap();
        let status = resp.status().as_u16();
        if status != 500 {
            assert_eq!(resp.headers()["content-type"], "text/html");
        }
        seen.insert(status);
    }
    assert!(seen.iter().all(|s| [500, 502, 503].contains(s)), "{seen:?}");
    assert_eq!(s.emu.responses_5xx(), 12);

    s.emu.set_faults(Faults {
        forced_429: 2,
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    let started = Instant::now();
    let statuses: Vec<u16> = (0..3)
        .map(|_| {
            let resp = s.get("v1", "/Users").send().unwrap();
            if resp.status() == 429 {
                assert!(retry_after(&resp).is_some());
            }
            resp.status().as_u16()
        })
        .collect();
    assert_eq!(statuses, [429, 429, 200]);
    assert!(started.elapsed() >= Duration::from_millis(450));
    assert_eq!(s.emu.responses_429(), 2);
    assert_eq!(s.emu.requests(), 15);
}

#[test]
fn slack_retry_after_as_an_http_date_and_early_requests() {
    let mut config = SlackConfig::generated(10, 11);
    config.retry_after_dates = true;
    config.faults.forced_429 = 1;
    let s = Slack::start(config);
    let resp = s.get("v2", "/Users").send().unwrap();
    assert_eq!(resp.status(), 429);
    let date = retry_after(&resp).unwrap();
    assert!(date.ends_with(" GMT"), "{date}");
    let until = jiff::fmt::rfc2822::parse(&date).unwrap().timestamp();
    let ahead = until.duration_since(jiff::Timestamp::now());
    assert!(
        ahead > jiff::SignedDuration::from_millis(500)
            && ahead <= jiff::SignedDuration::from_secs(3),
        "{date}: {ahead:?} ahead"
    );
    // Asking again at once is early; the answer is no longer a 429 (one was armed).
    assert_eq!(s.get("v2", "/Users").send().unwrap().status(), 200);
    assert_eq!(s.emu.early_requests(), 1);
}

#[test]
fn slack_dropped_connections_are_transport_errors() {
    let config = SlackConfig {
        faults: Faults {
            drop_rate: 1.0,
            ..Faults::default()
        },
        ..SlackConfig::generated(10, 12)
    };
    let (_, _, id) = cast(&config);
    let s = Slack::start(config);
    let err = s.get("v2", "/Users").send().unwrap_err();
    assert!(err.is_request() && err.status().is_none(), "{err:?}");
    assert!(
        s.patch("v2", &id, &patch_op("active", &json!(false)))
            .send()
            .is_err()
    );
    assert_eq!(s.emu.dropped(), 2);
    assert_eq!(
        s.emu.user(&id).unwrap()["active"],
        json!(true),
        "dropped before applying"
    );

    // The write lands, then the answer is lost.
    s.emu.set_faults(Faults {
        drop_rate: 1.0,
        write_lands_on_fault: true,
        ..Faults::default()
    });
    assert!(
        s.patch("v2", &id, &patch_op("active", &json!(false)))
            .send()
            .is_err()
    );
    assert_eq!(s.emu.user(&id).unwrap()["active"], json!(false));
    assert_eq!(s.emu.patch_count(&id), 1);
    s.emu.set_faults(Faults::default());
    assert_eq!(s.get("v2", "/Users").send().unwrap().status(), 200);
}

#[test]
fn slack_reads_stay_stale_after_a_patch() {
    let config = SlackConfig {
        faults: Faults {
            stale_reads_after_patch: Duration::from_millis(800),
            ..Faults::default()
        },
        ..SlackConfig::generated(15, 13)
    };
    let (_, _, id) = cast(&config);
    let s = Slack::start(config);
    let (status, user) = s.deactivate("v2", &id);
    assert_eq!((status, &user["active"]), (200, &json!(false)));
    assert_eq!(s.emu.user(&id).unwrap()["active"], json!(false));
    let get = || read(s.get("v2", &format!("/Users/{id}")).send().unwrap()).1;
    assert_eq!(get()["active"], json!(true), "stale right after the PATCH");
    let email = primary_email(&get());
    let (_, page) = read(
        s.get("v1", &format!("/Users?filter=email eq \"{email}\""))
            .send()
            .unwrap(),
    );
    assert_eq!(page["Resources"][0]["active"], json!(true));
    std::thread::sleep(Duration::from_millis(850));
    assert_eq!(get()["active"], json!(false));
}

#[test]
fn slack_churn_moves_total_results_between_pages() {
    let config = SlackConfig {
        faults: Faults {
            churn_during_paging: 3,
            ..Faults::default()
        },
        ..SlackConfig::generated(60, 14)
    };
    let s = Slack::start(config);
    let total = |start: usize| {
        let (_, page) = read(
            s.get("v2", &format!("/Users?startIndex={start}&count=10"))
                .send()
                .unwrap(),
        );
        page["totalResults"].as_u64().unwrap()
    };
    assert_eq!(total(1), 60, "the first page sees no churn");
    let mut last = 60;
    for start in [11, 21, 31] {
        let now = total(start);
        assert_eq!(now.abs_diff(last), 3, "page at {start}");
        last = now;
    }
    assert_eq!(s.emu.user_count() as u64, last);
}
