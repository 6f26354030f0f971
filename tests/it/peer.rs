//! The independent SCIM 2.0 peer: `scim2-server` (`PyPI`, pinned 0.8.3, installed by `.ci/test`).
//! A seeded listing is fetched from it and audited, then a plan is applied to it and verified.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{arg, root, run_env, tree};

/// A scim2-server process on a free loopback port, killed on drop.
struct Peer {
    child: Child,
    port: u16,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> PathBuf {
    std::env::var_os("SCIM2_SERVER_BIN")
        .map(PathBuf::from)
        .or_else(|| {
            let p = root().join("target/scim2-venv/bin/scim2-server");
            p.exists().then_some(p)
        })
        .expect("scim2-server not found: run the tests with .ci/test, which installs scim2-server==0.8.3")
}

impl Peer {
    fn start(token: &str) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(binary())
            .args([
                "--hostname",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--bearer-token",
                token,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start scim2-server");
        let peer = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "scim2-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        peer
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}/v2", self.port)
    }
}

#[test]
fn fetch_and_audit_a_seeded_scim2_server() {
    let token = "peer-token";
    let peer = Peer::start(token);
    let http = reqwest::blocking::Client::new();
    let n = 1050;
    for i in 0..n {
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": format!("user{i}"),
            "externalId": format!("j{i}"),
            "active": i % 50 != 0,
            "emails": [{"value": format!("user{i}@peer.example"), "primary": true}],
        });
        let resp = http
            .post(format!("{}/Users", peer.base()))
            .bearer_auth(token)
            .header("content-type", "application/scim+json")
            .body(user.to_string())
            .send()
            .expect("seed POST");
        assert!(
            resp.status().is_success(),
            "seed user {i}: {}",
            resp.status()
        );
    }
    // JumpCloud: j7, j107, … are missing; j3, j103, … are suspended.
    let results: Vec<_> = (0..n)
        .filter(|i| i % 100 != 7)
        .map(|i| {
            json!({"_id": format!("j{i}"), "email": format!("user{i}@peer.example"),
                   "suspended": i % 100 == 3, "state": if i % 100 == 3 { "SUSPENDED" } else { "ACTIVATED" }})
        })
        .collect();
    let jc = json!({"totalCount": results.len(), "results": results}).to_string();
    let dir = tree(&[("jc.json", &jc)]);
    let out = dir.path().join("snap");
    let r = run_env(
        None,
        &["fetch", "slack", "--url", &peer.base(), "--out", arg(&out)],
        &[("SLACK_SCIM_TOKEN", token)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("saved 1050 Slack user(s)"), "{r:?}");
    let r = run_env(
        None,
        &[
            "audit",
            "--format",
            "json",
            "--jumpcloud",
            arg(&dir.path().join("jc.json")),
            "--slack",
            arg(&out),
        ],
        &[],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let report = r.json();
    assert_eq!(report["inputs"]["slack"]["scim_version"], "v2");
    assert_eq!(report["summary"]["slack_users"], 1050);
    let by_code = &report["summary"]["by_code"];
    assert_eq!(by_code["unknown-active"], 11, "{r:?}");
    assert_eq!(by_code["suspended-but-active"], 11);
    assert_eq!(by_code["inactive-but-entitled"], 21);
    assert_eq!(by_code["legacy-unlinked"], 0);
    assert_eq!(report["findings"][0]["matched_by"], "external-id");

    // Plan, apply and verify end to end against the independent server.
    let plan = dir.path().join("plan.json");
    let jc_path = dir.path().join("jc.json");
    let r = run_env(
        None,
        &[
            "plan",
            "--jumpcloud",
            arg(&jc_path),
            "--slack",
            arg(&out),
            "--out",
            arg(&plan),
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let env = [("SLACK_SCIM_TOKEN", token)];
    let r = run_env(
        None,
        &[
            "apply",
            arg(&plan),
            "--slack-url",
            &peer.base(),
            "--yes",
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["summary"]["deactivated"], 11, "{r:?}");
    let r = run_env(
        None,
        &[
            "verify",
            "--plan",
            arg(&plan),
            "--slack-url",
            &peer.base(),
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["summary"]["deactivated"], 11);
    let r = run_env(
        None,
        &[
            "verify",
            "--jumpcloud",
            arg(&jc_path),
            "--slack-url",
            &peer.base(),
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(r.code, 0, "every suspended user is now inactive: {r:?}");
    // Nobody else changed: a fresh listing has exactly 11 more inactive accounts.
    let after = dir.path().join("after");
    let r = run_env(
        None,
        &[
            "fetch",
            "slack",
            "--url",
            &peer.base(),
            "--out",
            arg(&after),
        ],
        &env,
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = run_env(
        None,
        &[
            "audit",
            "--format",
            "json",
            "--jumpcloud",
            arg(&jc_path),
            "--slack",
            arg(&after),
        ],
        &[],
    );
    assert_eq!(r.json()["summary"]["slack_active"], 1050 - 21 - 11, "{r:?}");
    assert_eq!(r.json()["summary"]["by_code"]["suspended-but-active"], 0);
    assert_eq!(r.json()["summary"]["by_code"]["unknown-active"], 11);

    // A wrong token is refused with the v2 error shape of RFC 7644.
    let r = run_env(
        None,
        &[
            "fetch",
            "slack",
            "--url",
            &peer.base(),
            "--out",
            arg(&dir.path().join("x")),
        ],
        &[("SLACK_SCIM_TOKEN", "wrong")],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("HTTP 401"), "{r:?}");
}

#[test]
fn a_mistyped_base_path_on_a_generic_scim_server_is_refused_before_anything_is_judged() {
    // scim2-server answers a path it does not serve with an ordinary SCIM 404, the same shape as
    // "no such user": the base URL is proved with a listing read first.
    let token = "peer-token";
    let peer = Peer::start(token);
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let r = run_env(
        None,
        &[
            "plan",
            "--jumpcloud",
            "fixtures/demo/jumpcloud",
            "--slack",
            "fixtures/demo/slack",
            "--out",
            arg(&plan),
            "--include",
            "unknown-active",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let env = [("SLACK_SCIM_TOKEN", token)];
    let wrong = format!("http://127.0.0.1:{}/scim/v2", peer.port);
    let apply = |url: &str, yes: bool| {
        let mut args = vec![
            "apply",
            arg(&plan),
            "--slack-url",
            url,
            "--max-changes",
            "10",
            "--format",
            "json",
        ];
        if yes {
            args.push("--yes");
        }
        run_env(None, &args, &env)
    };
    for yes in [false, true] {
        let r = apply(&wrong, yes);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("does not answer as a SCIM API"), "{r:?}");
    }
    let journal = std::fs::read_to_string(dir.path().join("plan.json.journal.jsonl")).unwrap();
    assert!(!journal.contains("\"gone\""), "{journal}");
    assert_eq!(journal.matches("not-attempted").count(), 7, "{journal}");
    let r = run_env(
        None,
        &["verify", "--plan", arg(&plan), "--slack-url", &wrong],
        &env,
    );
    assert_eq!(r.code, 2, "{r:?}");
    // At the right base, the server's own "User '…' not found" means gone; and as the plan
    // came from another organisation's listing, not one of its accounts is there: refused.
    let r = apply(&peer.base(), true);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("none of the 7 account(s) read for the plan exists at"),
        "{r:?}"
    );
    let journal = std::fs::read_to_string(dir.path().join("plan.json.journal.jsonl")).unwrap();
    assert_eq!(journal.matches("\"gone\"").count(), 7, "{journal}");
}
