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

/// A one-connection-at-a-time HTTP server on 127.0.0.1 that answers every request with
/// `answer(request text)`, written in pieces until the client goes away; stops with the test.
fn hostile(answer: impl Fn(&str, &mut std::net::TcpStream) + Send + 'static) -> String {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            answer(&String::from_utf8_lossy(&request), &mut stream);
        }
    });
    format!("http://{addr}/scim/v2")
}

fn test_client(base: &str, token: &str) -> Client {
    let options = NetOptions {
        per_minute: 6000,
        burst: 100,
        single_per_minute: 6000,
        single_burst: 100,
        writes_per_minute: 6000,
        write_burst: 100,
        timeout: Duration::from_secs(20),
        retry: RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        },
    };
    Client::slack(BaseUrl::parse(base).unwrap(), &Secret::new(token), &options).unwrap()
}

#[tokio::test]
async fn an_endless_body_is_cut_off_not_held_in_memory() {
    let base = hostile(|_, stream| {
        use std::io::Write;
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
        );
        let chunk = vec![b' '; 1 << 20];
        loop {
            let head = format!("{:x}\r\n", chunk.len());
            if stream.write_all(head.as_bytes()).is_err()
                || stream.write_all(&chunk).is_err()
                || stream.write_all(b"\r\n").is_err()
            {
                return;
            }
        }
    });
    let e = test_client(&base, "xoxp-t")
        .get("/Users")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("larger than 64 MiB"), "{e}");
}

#[tokio::test]
async fn a_credential_echoed_in_an_answer_is_blanked() {
    let base = hostile(|request, stream| {
        use std::io::Write;
        let echoed = request.replace(['\r', '\n', '"'], " ");
        let body = format!(
            r#"{{"Errors":{{"description":"bad request; you sent {echoed}","code":400}}}}"#
        );
        let _ = write!(
            stream,
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    let e = test_client(&base, "xoxp-SECRET-123")
        .get("/Users")
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(!text.contains("SECRET"), "{text}");
    assert!(text.contains("Bearer [credential redacted]"), "{text}");
    // Blanked before the quote is cut short, so no half token shows either.
    let base = hostile(|request, stream| {
        use std::io::Write;
        let at = request.find("xoxp-").unwrap();
        let body = format!("{}{}", "x".repeat(193), &request[at..at + 15]);
        let _ = write!(
            stream,
            "HTTP/1.1 500 Oops\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    let e = test_client(&base, "xoxp-SECRET-123")
        .get("/Users")
        .await
        .unwrap_err();
    assert!(!e.to_string().contains("xoxp-"), "{e}");
    // A 200 that quotes it (an echo page) is blanked before anything can quote or save it.
    let base = hostile(|request, stream| {
        use std::io::Write;
        let at = request.find("Bearer").unwrap();
        let body = &request[at..at + 22];
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    let body = test_client(&base, "xoxp-SECRET-123")
        .get("/Users")
        .await
        .unwrap();
    assert_eq!(body, b"Bearer [credential redacted]");
}
