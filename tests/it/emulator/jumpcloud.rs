//! The JumpCloud emulator: auth, v1 envelopes with `limit`/`skip`/`sort`, v2 arrays and graph
//! shapes (members, associations, app users through nested groups), faults, generated orgs.

use std::collections::BTreeSet;
use std::path::PathBuf;

use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Value, json};

use super::slack::{is_bot, primary_email};
use super::{assert_key_order, demo, http, read, retry_after};
use crate::support::jumpcloud_emulator::{JumpCloudConfig, JumpCloudEmulator, V2Tail};
use crate::support::slack_emulator::SlackConfig;

const JC_KEY: &str = "jc-emulator-key";
/// A demo group nested inside group `…a01`.
const NESTED: &str = "65a1b2c3d4e5f60718293a06";

/// A JumpCloud emulator plus one client (building a client per request is slow).
struct Jc {
    emu: JumpCloudEmulator,
    http: Client,
}

impl Jc {
    fn start(config: JumpCloudConfig) -> Self {
        Self {
            emu: JumpCloudEmulator::start(config),
            http: http(),
        }
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.http
            .get(format!("{}{path}", self.emu.base_url()))
            .header("x-api-key", JC_KEY)
    }
}

impl std::ops::Deref for Jc {
    type Target = JumpCloudEmulator;

    fn deref(&self) -> &JumpCloudEmulator {
        &self.emu
    }
}

/// Records of every page file in a demo bundle folder.
fn bundle_records(dir: &str) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(demo("jumpcloud").join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            let page: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
            match page {
                Value::Array(items) => items,
                page => page["results"].as_array().unwrap().clone(),
            }
        })
        .collect()
}

#[test]
fn jumpcloud_auth_and_org_header() {
    let emu = Jc::start(JumpCloudConfig::from_bundle(demo("jumpcloud")).unwrap());
    let url = format!("{}/api/systemusers", emu.base_url());
    assert_eq!(
        read(http().get(&url).send().unwrap()),
        (401, json!({"message": "Unauthorized"}))
    );
    let wrong = http().get(&url).header("x-api-key", "nope").send().unwrap();
    assert_eq!(wrong.status(), 401);
    let with_org = emu
        .get("/api/systemusers")
        .header("x-org-id", "5f1e2d3c4b5a69788796a5b4");
    assert_eq!(with_org.send().unwrap().status(), 200);
    let bad_org = emu.get("/api/systemusers").header("x-org-id", "acme");
    assert_eq!(bad_org.send().unwrap().status(), 400);
}

#[test]
fn jumpcloud_v1_lists_page_with_limit_skip_and_sort() {
    let emu = Jc::start(JumpCloudConfig::from_bundle(demo("jumpcloud")).unwrap());
    let raw = bundle_records("systemusers");
    let text = emu.get("/api/systemusers").send().unwrap().text().unwrap();
    assert_key_order(&text, &["totalCount", "results"]);
    let page: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(page["totalCount"], json!(raw.len()));
    assert_eq!(
        page["results"].as_array().unwrap().len(),
        10,
        "default limit 10"
    );
    assert_eq!(
        read(emu.get("/api/systemusers?limit=101").send().unwrap()),
        (
            400,
            json!({"message": "Bad Request: request parameter \"limit\" exceeds maximum value of 100"})
        )
    );
    // Paging with sort=_id returns the stored records unchanged, in id order.
    let mut all = Vec::new();
    let mut skip = 0;
    loop {
        let (_, page) = read(
            emu.get(&format!("/api/systemusers?limit=20&skip={skip}&sort=_id"))
                .send()
                .unwrap(),
        );
        let results = page["results"].as_array().unwrap().clone();
        if results.is_empty() {
            break;
        }
        skip += results.len();
        all.extend(results);
    }
    let mut want = raw.clone();
    want.sort_by(|a, b| a["_id"].as_str().cmp(&b["_id"].as_str()));
    assert_eq!(all, want);
    let (_, desc) = read(
        emu.get("/api/systemusers?limit=1&sort=-_id")
            .send()
            .unwrap(),
    );
    assert_eq!(desc["results"][0], want[want.len() - 1]);

    let (_, apps) = read(emu.get("/api/applications?limit=100").send().unwrap());
    assert_eq!(apps["totalCount"], json!(3));
    let id = apps["results"][0]["_id"].as_str().unwrap();
    let (status, one) = read(emu.get(&format!("/api/applications/{id}")).send().unwrap());
    assert_eq!((status, &one["_id"]), (200, &json!(id)));
}

#[test]
fn jumpcloud_v2_groups_members_associations_and_app_users() {
    let emu = Jc::start(JumpCloudConfig::from_bundle(demo("jumpcloud")).unwrap());
    let groups = bundle_records("usergroups");
    let (_, listed) = read(emu.get("/api/v2/usergroups?limit=100").send().unwrap());
    assert_eq!(
        listed,
        Value::Array(groups.clone()),
        "a bare array of the stored groups"
    );
    let (_, first) = read(emu.get("/api/v2/usergroups?limit=2&skip=1").send().unwrap());
    assert_eq!(first, json!([groups[1], groups[2]]));
    assert_eq!(
        emu.get("/api/v2/usergroups?limit=101")
            .send()
            .unwrap()
            .status(),
        400
    );

    let gid = "65a1b2c3d4e5f60718293a01";
    let (_, members) = read(
        emu.get(&format!("/api/v2/usergroups/{gid}/members?limit=100"))
            .send()
            .unwrap(),
    );
    assert_eq!(
        members,
        Value::Array(bundle_records(&format!("usergroups/{gid}/members")))
    );
    assert_eq!(members[0]["to"]["type"], json!("user"));
    assert_eq!(members[0]["attributes"], Value::Null);
    let assoc_path = format!("/api/v2/usergroups/{gid}/associations?targets=application&limit=100");
    let (_, assocs) = read(emu.get(&assoc_path).send().unwrap());
    assert_eq!(assocs[0]["to"]["type"], json!("application"));
    let missing_targets = format!("/api/v2/usergroups/{gid}/associations");
    assert_eq!(emu.get(&missing_targets).send().unwrap().status(), 400);
    for unknown in [
        "/api/v2/usergroups/ffffffffffffffffffffffff/members",
        "/api/v2/applications/ffffffffffffffffffffffff/users",
    ] {
        assert_eq!(emu.get(unknown).send().unwrap().status(), 404);
    }

    // No users folder in the demo bundle: derived from the groups bound to the app.
    let app = assocs[0]["to"]["id"].as_str().unwrap();
    let (_, users) = read(
        emu.get(&format!("/api/v2/applications/{app}/users?limit=100"))
            .send()
            .unwrap(),
    );
    let users = users.as_array().unwrap();
    assert!(!users.is_empty());
    for u in users {
        assert_eq!(u["type"], json!("user"));
        let path = &u["paths"][0];
        assert_eq!(path[0]["to"]["type"], json!("user_group"));
        assert_eq!(
            path.as_array().unwrap().last().unwrap()["to"],
            json!({"attributes": null, "id": u["id"], "type": "user"})
        );
    }
    // Group 01 holds users and the nested group 06: its users arrive through two groups.
    let find = |id: &str| users.iter().find(|u| u["id"] == json!(id));
    for m in members.as_array().unwrap() {
        if m["to"]["type"] == json!("user") {
            assert!(find(m["to"]["id"].as_str().unwrap()).is_some(), "{m}");
        }
    }
    let nested = format!("/api/v2/usergroups/{NESTED}/members?limit=100");
    let (_, nested) = read(emu.get(&nested).send().unwrap());
    let via = find(nested[0]["to"]["id"].as_str().unwrap()).unwrap();
    let hops: Vec<&Value> = via["paths"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p.as_array().unwrap().len() == 3)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["to"]["id"])
        .collect();
    assert_eq!(hops, [&json!(gid), &json!(NESTED), &nested[0]["to"]["id"]]);
}

#[test]
fn jumpcloud_forced_429_and_5xx() {
    let config = JumpCloudConfig {
        forced_429: 2,
        ..JumpCloudConfig::generated(30, 5, 3)
    };
    let emu = Jc::start(config);
    for _ in 0..2 {
        let resp = emu.get("/api/systemusers").send().unwrap();
        assert_eq!(resp.status(), 429);
        assert_eq!(retry_after(&resp).as_deref(), Some("1"));
    }
    assert_eq!(emu.get("/api/systemusers").send().unwrap().status(), 200);
    emu.set_error_rate(1.0);
    for _ in 0..6 {
        assert!(
            emu.get("/api/v2/usergroups")
                .send()
                .unwrap()
                .status()
                .is_server_error()
        );
    }
    emu.set_error_rate(0.0);
    emu.set_forced_429(1);
    assert_eq!(emu.get("/api/applications").send().unwrap().status(), 429);
    assert_eq!(
        (emu.responses_429(), emu.responses_5xx(), emu.requests()),
        (3, 6, 10)
    );
}

#[test]
fn jumpcloud_and_slack_generated_orgs_share_people() {
    let seed = 21;
    let jc = JumpCloudConfig::generated(300, 6, seed);
    let emu = Jc::start(jc.clone());
    let (_, page) = read(
        emu.get("/api/systemusers?limit=100&skip=200")
            .send()
            .unwrap(),
    );
    assert_eq!(page["totalCount"], json!(300));
    assert_eq!(page["results"].as_array().unwrap().len(), 100);
    let suspended = jc
        .users
        .iter()
        .filter(|u| u["state"] == json!("SUSPENDED"))
        .count();
    assert!(suspended > 5, "{suspended} suspended");
    // Group 3 is bound to both Slack connectors.
    let g3 = jc.usergroups[3]["id"].as_str().unwrap();
    assert_eq!(jc.app_associations[g3].len(), 2);

    let jc_emails: BTreeSet<String> = jc
        .users
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_lowercase())
        .collect();
    let slack = SlackConfig::generated(300, seed);
    let humans: Vec<&Value> = slack.users.iter().filter(|u| !is_bot(u)).collect();
    let shared = humans
        .iter()
        .filter(|u| jc_emails.contains(&primary_email(u)))
        .count();
    assert!(
        shared * 100 >= humans.len() * 95,
        "{shared} of {} shared",
        humans.len()
    );
    assert!(
        shared < humans.len(),
        "some Slack accounts belong to nobody"
    );
}

#[test]
fn jumpcloud_paging_faults_tails_shifts_and_moving_totals() {
    let ids = |page: &Value| -> Vec<String> {
        page.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // Fresh: beyond the records, full pages of new ids at every skip (then, far on, the end).
    let emu = Jc::start(JumpCloudConfig {
        v2_tail: V2Tail::Fresh,
        ..JumpCloudConfig::generated(30, 5, 3)
    });
    let (_, real) = read(emu.get("/api/v2/usergroups?limit=100").send().unwrap());
    assert_eq!(real.as_array().unwrap().len(), 5);
    let (_, a) = read(
        emu.get("/api/v2/usergroups?limit=100&skip=5")
            .send()
            .unwrap(),
    );
    let (_, b) = read(
        emu.get("/api/v2/usergroups?limit=100&skip=105")
            .send()
            .unwrap(),
    );
    let (a, b) = (ids(&a), ids(&b));
    assert_eq!((a.len(), b.len()), (100, 100));
    assert!(a.iter().all(|id| !b.contains(id)), "never seen before");
    let (_, end) = read(
        emu.get("/api/v2/usergroups?limit=100&skip=50005")
            .send()
            .unwrap(),
    );
    assert_eq!(end, json!([]), "the tail ends after 500 pages");

    // Alternating: two pages in turn.
    let emu = Jc::start(JumpCloudConfig {
        v2_tail: V2Tail::Alternating,
        ..JumpCloudConfig::generated(30, 5, 3)
    });
    let page = |skip: usize| {
        let (_, p) = read(
            emu.get(&format!("/api/v2/usergroups?limit=100&skip={skip}"))
                .send()
                .unwrap(),
        );
        ids(&p)
    };
    let (a, b, c) = (page(5), page(105), page(205));
    assert_ne!(a, b);
    assert_eq!(a, c);

    // Shift: a page at skip > 0 starts earlier, so ids repeat across pages.
    let emu = Jc::start(JumpCloudConfig {
        v2_skip_shift: 50,
        ..JumpCloudConfig::generated(30, 150, 3)
    });
    let first = {
        let (_, p) = read(emu.get("/api/v2/usergroups?limit=100").send().unwrap());
        ids(&p)
    };
    let (_, second) = read(
        emu.get("/api/v2/usergroups?limit=100&skip=100")
            .send()
            .unwrap(),
    );
    let second = ids(&second);
    assert_eq!(second.len(), 100);
    assert_eq!(second[..50], first[50..]);

    // v1 totalCount that grows with every request.
    let emu = Jc::start(JumpCloudConfig {
        v1_total_moves: true,
        ..JumpCloudConfig::generated(30, 5, 3)
    });
    let total = || {
        let (_, p) = read(emu.get("/api/systemusers?limit=100").send().unwrap());
        p["totalCount"].as_u64().unwrap()
    };
    let (one, two) = (total(), total());
    assert!(one >= 30 && two > one, "{one} {two}");
}
