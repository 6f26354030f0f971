//! Unit tests of mod.

use super::*;
use std::sync::atomic::AtomicUsize;

#[test]
fn only_a_scim_error_says_a_resource_is_missing() {
    // Slack's two shapes, and a generic SCIM 2.0 server's.
    assert!(is_scim_not_found(
        404,
        br#"{"Errors":{"description":"no_such_user","code":404}}"#
    ));
    assert!(is_scim_not_found(
        404,
        br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"no_such_user","status":404}"#
    ));
    assert!(is_scim_not_found(
        404,
        br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"Resource 2819c223 not found"}"#
    ));
    // Slack documents `no_such_user`/`unknown_user`, not their status.
    assert!(is_scim_not_found(
        400,
        br#"{"Errors":{"description":"no_such_user","code":400}}"#
    ));
    assert!(is_scim_not_found(
        400,
        br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"unknown_user","status":400}"#
    ));
    // Any other 4xx is not "gone", nor is a 5xx that says so.
    assert!(!is_scim_not_found(
        400,
        br#"{"Errors":{"description":"invalid_query","code":400}}"#
    ));
    assert!(!is_scim_not_found(
        500,
        br#"{"Errors":{"description":"no_such_user","code":500}}"#
    ));
    assert!(!is_scim_not_found(400, br#"{"message":"no_such_user"}"#));
    // A wrong endpoint, a proxy's or web server's page, an empty body: not about the user.
    assert!(!is_scim_not_found(
        404,
        br#"{"Errors":{"description":"bad_endpoint","code":404}}"#
    ));
    assert!(!is_scim_not_found(
        404,
        br#"{"Errors":{"description":"bad_endpoint (no such route)","code":404}}"#
    ));
    assert!(!is_scim_not_found(
        404,
        b"<html><body>404 Not Found</body></html>"
    ));
    assert!(!is_scim_not_found(404, br#"{"message":"Not Found"}"#));
    assert!(!is_scim_not_found(404, b""));
}

/// Jobs that sleep `ms[i]` and return `i`, counting how many run at once and how many began.
fn jobs(
    ms: &[u64],
    fail_at: Option<usize>,
    running: &Arc<AtomicUsize>,
    peak: &Arc<AtomicUsize>,
    begun: &Arc<AtomicUsize>,
) -> Vec<impl Future<Output = Result<usize, Error>> + Send + 'static> {
    ms.iter()
        .enumerate()
        .map(|(i, &ms)| {
            let (running, peak, begun) = (running.clone(), peak.clone(), begun.clone());
            async move {
                begun.fetch_add(1, Ordering::SeqCst);
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                if fail_at == Some(i) {
                    return Err(Error::BadUrl {
                        url: format!("job {i}"),
                        problem: "failed".to_owned(),
                    });
                }
                Ok(i)
            }
        })
        .collect()
}

fn counters() -> [Arc<AtomicUsize>; 3] {
    std::array::from_fn(|_| Arc::new(AtomicUsize::new(0)))
}

#[tokio::test(start_paused = true)]
async fn bounded_keeps_order_and_its_limit() {
    let [running, peak, begun] = counters();
    // Later jobs finish first.
    let ms: Vec<u64> = (0..10).rev().map(|i| 10 + i * 7).collect();
    let out = bounded(3, jobs(&ms, None, &running, &peak, &begun))
        .await
        .unwrap();
    assert_eq!(out, (0..10).collect::<Vec<_>>());
    assert_eq!(peak.load(Ordering::SeqCst), 3);
    assert_eq!(begun.load(Ordering::SeqCst), 10);
    let none: Vec<std::future::Ready<Result<usize, Error>>> = Vec::new();
    assert!(bounded(4, none).await.unwrap().is_empty());
    let [running, peak, begun] = counters();
    let out = bounded(0, jobs(&[5, 5], None, &running, &peak, &begun)).await;
    assert_eq!(out.unwrap(), [0, 1]);
    assert_eq!(peak.load(Ordering::SeqCst), 1, "a concurrency of 0 is 1");
}

#[tokio::test(start_paused = true)]
async fn bounded_stops_at_the_first_error() {
    let [running, peak, begun] = counters();
    let ms = vec![10; 20];
    let out = bounded(2, jobs(&ms, Some(3), &running, &peak, &begun)).await;
    assert!(
        matches!(&out, Err(Error::BadUrl { url, .. }) if url == "job 3"),
        "{out:?}"
    );
    // Jobs 0-3 ran (two at a time); job 3's error stopped the rest.
    assert!(begun.load(Ordering::SeqCst) <= 5, "{begun:?}");
}

#[test]
fn base_urls_https_or_loopback_http() {
    assert!(BaseUrl::parse("https://api.slack.com/scim/v2/").is_ok());
    assert_eq!(
        BaseUrl::parse("https://api.slack.com/scim/v2/")
            .unwrap()
            .last_segment(),
        Some("v2")
    );
    assert!(BaseUrl::parse("http://127.0.0.1:8080/scim/v1").is_ok());
    assert!(BaseUrl::parse("http://localhost:1/v2").is_ok());
    assert!(BaseUrl::parse("http://[::1]:1/v2").is_ok());
    assert!(matches!(
        BaseUrl::parse("http://scim.example/v2"),
        Err(Error::Insecure { .. })
    ));
    assert!(matches!(
        BaseUrl::parse("http://10.0.0.1/v2"),
        Err(Error::Insecure { .. })
    ));
    assert!(BaseUrl::parse("ftp://x/v2").is_err());
    assert!(BaseUrl::parse("https://user:pw@x/v2").is_err());
    assert!(BaseUrl::parse("not a url").is_err());
}

#[test]
fn error_details_from_both_slack_shapes_and_jumpcloud() {
    assert_eq!(
        body_detail(br#"{"Errors":{"description":"invalid_authentication","code":401}}"#),
        "(invalid_authentication)"
    );
    assert_eq!(
        body_detail(br#"{"schemas":[],"detail":"no_such_user","status":404}"#),
        "(no_such_user)"
    );
    assert_eq!(
        body_detail(br#"{"message":"Unauthorized"}"#),
        "(Unauthorized)"
    );
    assert_eq!(body_detail(b""), "");
    assert_eq!(body_detail("é".repeat(300).as_bytes()).chars().count(), 103);
}
