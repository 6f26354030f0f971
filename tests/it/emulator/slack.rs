//! The Slack emulator's SCIM surface: auth quirks, list envelopes and paging, filters, single
//! reads, PATCH/DELETE rules per version, groups, and seeding from saved pages.

use std::collections::BTreeSet;

use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Value, json};

use super::{assert_key_order, demo, http, read};
use crate::support::slack_emulator::{SlackConfig, SlackEmulator};

const TOKEN: &str = "xoxp-emulator";
const V1_CORE: &str = "urn:scim:schemas:core:1.0";
const V2_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const V2_LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const V2_ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const V2_PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A Slack emulator plus a client that knows its URLs and token.
pub(crate) struct Slack {
    pub(crate) emu: SlackEmulator,
    pub(crate) http: Client,
}

impl Slack {
    pub(crate) fn start(config: SlackConfig) -> Self {
        Self {
            emu: SlackEmulator::start(config),
            http: http(),
        }
    }

    pub(crate) fn url(&self, version: &str, path: &str) -> String {
        format!("{}{path}", self.emu.base_url(version))
    }

    pub(crate) fn get(&self, version: &str, path: &str) -> RequestBuilder {
        self.http.get(self.url(version, path)).bearer_auth(TOKEN)
    }

    pub(crate) fn patch(&self, version: &str, id: &str, body: &Value) -> RequestBuilder {
        self.http
            .patch(self.url(version, &format!("/Users/{id}")))
            .bearer_auth(TOKEN)
            .json(body)
    }

    pub(crate) fn deactivate(&self, version: &str, id: &str) -> (u16, Value) {
        let body = match version {
            "v1" => json!({"schemas": [V1_CORE], "active": false}),
            _ => patch_op("active", &json!(false)),
        };
        read(self.patch(version, id, &body).send().unwrap())
    }
}

pub(crate) fn patch_op(path: &str, value: &Value) -> Value {
    json!({
        "schemas": [V2_PATCH_OP],
        "Operations": [{"op": "replace", "path": path, "value": value}],
    })
}

pub(crate) fn v1_error(description: &str, code: u16) -> Value {
    json!({"Errors": {"description": description, "code": code}})
}

pub(crate) fn v2_error(detail: &str, status: u16) -> Value {
    json!({"schemas": [V2_ERROR], "detail": detail, "status": status})
}

pub(crate) fn primary_email(user: &Value) -> String {
    user["emails"][0]["value"].as_str().unwrap().to_owned()
}

pub(crate) fn is_bot(user: &Value) -> bool {
    primary_email(user).ends_with("@slack-bots.com")
}

/// Ids of a generated org's primary owner, first bot and first active non-owner human.
pub(crate) fn cast(config: &SlackConfig) -> (String, String, String) {
    let owner = config.primary_owner_id.clone().unwrap();
    let id = |u: &Value| u["id"].as_str().unwrap().to_owned();
    let bot = config.users.iter().find(|u| is_bot(u)).map(id).unwrap();
    let human = config
        .users
        .iter()
        .find(|u| !is_bot(u) && u["active"] == json!(true) && u["id"] != json!(owner))
        .map(id)
        .unwrap();
    (owner, bot, human)
}

#[test]
fn slack_auth_follows_slack_quirks_per_version() {
    let s = Slack::start(SlackConfig::generated(12, 1));
    let url = s.url("v1", "/Users");
    assert_eq!(
        read(s.http.get(&url).send().unwrap()),
        (401, v1_error("missing_authentication", 401))
    );
    let wrong = s.http.get(&url).bearer_auth("xoxp-wrong").send().unwrap();
    assert_eq!(read(wrong), (401, v1_error("invalid_authentication", 401)));
    // v2 answers a bad token with 400 unsupported_version in the v1-style body.
    let v2 = s.http.get(s.url("v2", "/Users")).bearer_auth("nope");
    assert_eq!(
        read(v2.send().unwrap()),
        (400, v1_error("unsupported_version", 400))
    );
    assert_eq!(s.get("v2", "/Users").send().unwrap().status(), 200);
    assert_eq!(s.emu.requests(), 4);
}

#[test]
fn slack_v1_list_envelope_paging_and_resources() {
    let s = Slack::start(SlackConfig::generated(25, 7));
    let resp = s.get("v1", "/Users").send().unwrap();
    assert_eq!(
        resp.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let text = resp.text().unwrap();
    assert_key_order(
        &text,
        &[
            "totalResults",
            "itemsPerPage",
            "startIndex",
            "schemas",
            "Resources",
        ],
    );
    let page: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(page["schemas"], json!([V1_CORE]));
    assert_eq!(
        (
            &page["totalResults"],
            &page["itemsPerPage"],
            &page["startIndex"]
        ),
        (&json!(25), &json!(10), &json!(1)),
        "default count is 10"
    );
    let user = page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| !is_bot(u))
        .unwrap();
    let id = user["id"].as_str().unwrap();
    assert!(
        user["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(V1_CORE))
    );
    assert!(user["urn:scim:schemas:extension:enterprise:1.0"].is_object());
    assert_eq!(
        user["meta"]["location"],
        json!(format!("{}/Users/{id}", s.emu.base_url("v1")))
    );

    let (_, tail) = read(s.get("v1", "/Users?startIndex=21&count=10").send().unwrap());
    assert_eq!(
        (&tail["itemsPerPage"], &tail["startIndex"]),
        (&json!(5), &json!(21))
    );
    let (_, past) = read(s.get("v1", "/Users?startIndex=40").send().unwrap());
    assert_eq!(past["itemsPerPage"], json!(0));
    assert_eq!(past["Resources"], json!([]));
    let (_, zero) = read(s.get("v1", "/Users?startIndex=0&count=2").send().unwrap());
    assert_eq!(zero["startIndex"], json!(1));

    // Offsets are item offsets: paging by 7 yields every user once, in id order.
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let (_, page) = read(
            s.get("v1", &format!("/Users?startIndex={start}&count=7"))
                .send()
                .unwrap(),
        );
        let items = page["Resources"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        seen.extend(items.iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        start += items.len();
    }
    assert_eq!(seen, s.emu.user_ids());
}

#[test]
fn slack_v2_list_envelope_and_count_cap() {
    let s = Slack::start(SlackConfig::generated(1205, 3));
    let text = s
        .get("v2", "/Users?count=5000")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_key_order(
        &text,
        &[
            "schemas",
            "Resources",
            "totalResults",
            "itemsPerPage",
            "startIndex",
        ],
    );
    let page: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(page["schemas"], json!([V2_LIST]));
    assert_eq!(page["itemsPerPage"], json!(1000), "count is capped at 1000");
    assert_eq!(page["totalResults"], json!(1205));
    let first = &page["Resources"][0];
    assert_eq!(first["schemas"][0], json!(V2_USER));
    assert!(
        first["meta"]["location"]
            .as_str()
            .unwrap()
            .contains("/scim/v2/Users/")
    );
    let (_, rest) = read(
        s.get("v2", "/Users?startIndex=1001&count=1000")
            .send()
            .unwrap(),
    );
    assert_eq!(rest["itemsPerPage"], json!(205));
    // Deactivated users stay listed.
    let inactive = page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["active"] == json!(false))
        .count();
    assert!(inactive > 10, "{inactive} deactivated users listed");
}

#[test]
fn slack_filters_email_and_username_only() {
    let config = SlackConfig::generated(40, 2);
    let (_, _, human) = cast(&config);
    let user = config
        .users
        .iter()
        .find(|u| u["id"] == json!(human))
        .unwrap();
    let email = primary_email(user);
    let name = user["userName"].as_str().unwrap().to_owned();
    let s = Slack::start(config);
    for version in ["v1", "v2"] {
        let q = format!("/Users?filter=email eq \"{}\"", email.to_uppercase());
        let (status, page) = read(s.get(version, &q).send().unwrap());
        assert_eq!(status, 200);
        assert_eq!(page["totalResults"], json!(1));
        assert_eq!(page["Resources"][0]["id"], json!(human));
        let q = format!("/Users?filter=userName Eq \"{name}\"");
        let (_, page) = read(s.get(version, &q).send().unwrap());
        assert_eq!(page["Resources"][0]["id"], json!(human));
        let (_, none) = read(
            s.get(version, "/Users?filter=email eq \"nobody@example.com\"")
                .send()
                .unwrap(),
        );
        assert_eq!(
            (&none["totalResults"], &none["Resources"]),
            (&json!(0), &json!([]))
        );
    }
    let (status, body) = read(s.get("v1", "/Users?filter=title eq \"x\"").send().unwrap());
    assert_eq!(status, 400);
    assert!(
        body["Errors"]["description"]
            .as_str()
            .unwrap()
            .starts_with("invalid_query")
    );
    let (status, body) = read(s.get("v2", "/Users?filter=email co \"x\"").send().unwrap());
    assert_eq!((status, &body["status"]), (400, &json!(400)));
    assert_eq!(body["schemas"], json!([V2_ERROR]));
    let (status, body) = read(s.get("v2", "/Users?filter=email eq bob").send().unwrap());
    assert_eq!((status, body), (400, v2_error("incomplete_filter", 400)));
}

#[test]
fn slack_get_user_and_unknown_user_per_version() {
    let s = Slack::start(SlackConfig::generated(12, 3));
    let id = s.emu.user_ids()[4].clone();
    let (status, user) = read(s.get("v1", &format!("/Users/{id}")).send().unwrap());
    assert_eq!((status, &user["id"]), (200, &json!(id)));
    assert_eq!(user["schemas"][0], json!(V1_CORE));
    assert_eq!(
        read(s.get("v1", "/Users/WNOSUCHUSER").send().unwrap()),
        (404, v1_error("no_such_user", 404))
    );
    assert_eq!(
        read(s.get("v2", "/Users/WNOSUCHUSER").send().unwrap()),
        (404, v2_error("no_such_user", 404))
    );
    assert_eq!(s.emu.user(&id).unwrap()["schemas"][0], json!(V2_USER));
}

#[test]
fn slack_v1_patch_only_active_with_schemas() {
    let config = SlackConfig::generated(30, 3);
    let (_, _, id) = cast(&config);
    let s = Slack::start(config);
    let (status, body) = read(
        s.patch("v1", &id, &json!({"active": false}))
            .send()
            .unwrap(),
    );
    assert_eq!(
        (status, body),
        (400, v1_error("missing_schema_element", 400))
    );
    let touch_more = json!({"schemas": [V1_CORE], "active": false, "title": "x"});
    let (status, body) = read(s.patch("v1", &id, &touch_more).send().unwrap());
    assert_eq!(status, 400);
    assert!(
        body["Errors"]["description"]
            .as_str()
            .unwrap()
            .contains("only `active`")
    );
    assert_eq!(s.emu.user(&id).unwrap()["active"], json!(true));

    let (status, user) = s.deactivate("v1", &id);
    assert_eq!((status, &user["active"]), (200, &json!(false)));
    assert_eq!(user["schemas"][0], json!(V1_CORE));
    assert_eq!(user["userName"], s.emu.user(&id).unwrap()["userName"]);
    assert_eq!(s.emu.user(&id).unwrap()["active"], json!(false));
    assert_eq!((s.emu.patch_count(&id), s.emu.total_patches()), (3, 3));
    // Still listed, now inactive.
    let (_, page) = read(s.get("v1", "/Users?count=100").send().unwrap());
    let listed = page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == json!(id))
        .unwrap();
    assert_eq!(listed["active"], json!(false));
}

#[test]
fn slack_v2_patchop_refusals_and_success() {
    let config = SlackConfig::generated(30, 4);
    let (owner, bot, id) = cast(&config);
    let s = Slack::start(config);
    let bad = [
        (
            patch_op("displayName", &json!("x")),
            "invalid_request_payload",
        ),
        (
            patch_op("active", &json!("false")),
            "invalid_attribute_format",
        ),
        (
            json!({"schemas": [V2_PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]}),
            "invalid_request_payload",
        ),
        (
            json!({"schemas": [V2_PATCH_OP], "Operations": [{"op": "remove", "path": "active"}]}),
            "invalid_request_payload",
        ),
        (
            json!({"schemas": [V1_CORE], "active": false}),
            "missing_schema_element",
        ),
    ];
    for (body, code) in &bad {
        let (status, err) = read(s.patch("v2", &id, body).send().unwrap());
        assert_eq!(status, 400, "{body}");
        assert_eq!(err["schemas"], json!([V2_ERROR]));
        assert!(err["detail"].as_str().unwrap().starts_with(code), "{err}");
    }
    assert_eq!(s.emu.user(&id).unwrap()["active"], json!(true));
    assert_eq!(
        s.deactivate("v2", &bot),
        (400, v2_error("cannot_disable_bot_user_with_scim", 400))
    );
    assert_eq!(
        s.deactivate("v2", &owner),
        (400, v2_error("cannot_disable_primary_owner", 400))
    );
    assert_eq!(s.emu.user(&bot).unwrap()["active"], json!(true));
    assert_eq!(s.emu.user(&owner).unwrap()["active"], json!(true));

    let (status, user) = s.deactivate("v2", &id);
    assert_eq!(status, 200);
    assert_eq!(
        (&user["id"], &user["active"], &user["schemas"][0]),
        (&json!(id), &json!(false), &json!(V2_USER))
    );
    assert!(user["emails"].is_array() && user["userName"].is_string());
    let (status, user) = read(
        s.patch("v2", &id, &patch_op("active", &json!(true)))
            .send()
            .unwrap(),
    );
    assert_eq!((status, &user["active"]), (200, &json!(true)));
    assert_eq!(
        s.emu.patch_count(&id),
        u32::try_from(bad.len()).unwrap() + 2
    );
    assert_eq!((s.emu.patch_count(&bot), s.emu.patch_count(&owner)), (1, 1));
}

#[test]
fn slack_delete_deactivates_idempotently_and_put_is_refused() {
    let config = SlackConfig::generated(20, 5);
    let (_, _, id) = cast(&config);
    let s = Slack::start(config);
    for _ in 0..2 {
        let resp = s
            .http
            .delete(s.url("v2", &format!("/Users/{id}")))
            .bearer_auth(TOKEN)
            .send()
            .unwrap();
        assert_eq!(resp.status(), 204);
        assert_eq!(resp.text().unwrap(), "");
    }
    assert_eq!(s.emu.user(&id).unwrap()["active"], json!(false));
    assert_eq!(s.emu.total_deletes(), 2);
    let put = s
        .http
        .put(s.url("v1", &format!("/Users/{id}")))
        .bearer_auth(TOKEN)
        .json(&json!({"schemas": [V1_CORE], "active": true}))
        .send()
        .unwrap();
    assert_eq!(put.status(), 405);
    assert!(s.emu.request_log().iter().any(|l| l.starts_with("PUT ")));
}

#[test]
fn slack_groups_are_paged_per_version() {
    let s = Slack::start(SlackConfig::generated(40, 6));
    let (_, all) = read(s.get("v2", "/Groups").send().unwrap());
    assert_eq!(all["totalResults"], json!(4));
    let group = &all["Resources"][0];
    assert_eq!(
        group["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:Group"])
    );
    assert!(!group["members"].as_array().unwrap().is_empty());
    let (_, page) = read(s.get("v1", "/Groups?startIndex=3&count=2").send().unwrap());
    assert_eq!(
        (&page["itemsPerPage"], &page["schemas"]),
        (&json!(2), &json!([V1_CORE]))
    );
    assert_eq!(page["Resources"][0]["schemas"], json!([V1_CORE]));
    let gid = group["id"].as_str().unwrap();
    let (status, one) = read(s.get("v1", &format!("/Groups/{gid}")).send().unwrap());
    assert_eq!((status, &one["displayName"]), (200, &group["displayName"]));
    assert_eq!(
        read(s.get("v2", "/Groups/SNOPE").send().unwrap()),
        (404, v2_error("no_such_group", 404))
    );
}

#[test]
fn slack_seeds_from_a_saved_pages_dir() {
    let config = SlackConfig::from_pages_dir(demo("slack")).unwrap();
    let want: BTreeSet<String> = config
        .users
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(want.len(), 46);
    let s = Slack::start(config);
    let (_, page) = read(s.get("v2", "/Users?count=1000").send().unwrap());
    assert_eq!(page["totalResults"], json!(46));
    let got: BTreeSet<String> = page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, want);
}
