//! Where the Slack emulator's users come from: a generated org, users added by churn, or a
//! saved listing (a directory of `GET /Users` pages).
//!
//! Generated users are v2-shaped like Slack's (reference §3, §11): enterprise extension,
//! `externalId` always `""`, bots with `@slack-bots.com` emails, guests with the guest extension.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde_json::{Value, json};

use super::kit::{self, DEPARTMENTS, Fate, Person, Rng, SLACK_ID_ALPHABET};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GUEST: &str = "urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User";
/// Person indexes of Slack-only accounts (no JumpCloud user has them).
const SLACK_ONLY_BASE: usize = 5_000_000;
/// Person indexes of users added by churn.
const CHURN_BASE: usize = 9_000_000;
const BOT_NAMES: &[&str] = &[
    "deploy", "standup", "pager", "polly", "jira", "github", "lunch", "welcome", "survey", "ci",
];
const TIMEZONES: &[&str] = &[
    "America/Los_Angeles",
    "America/New_York",
    "Europe/Stockholm",
    "Europe/Berlin",
    "Asia/Singapore",
    "Asia/Kolkata",
];

/// A generated org.
pub(super) struct Org {
    pub(super) users: Vec<Value>,
    pub(super) groups: Vec<Value>,
    pub(super) primary_owner_id: Option<String>,
}

/// `n` users (bots first, then people; the first person is the primary owner) and one group per
/// department.
pub(super) fn generate(n: usize, seed: u64) -> Org {
    let mut rng = Rng::new(seed ^ 0x51AC_C0DE);
    let mut taken = HashSet::new();
    let mut fresh = |rng: &mut Rng, prefix: char| loop {
        let id = format!("{prefix}{}", rng.string(SLACK_ID_ALPHABET, 10));
        if taken.insert(id.clone()) {
            return id;
        }
    };
    let bots = if n < 10 {
        n.min(1)
    } else {
        (n / 500).clamp(2, BOT_NAMES.len())
    };
    let group_ids: Vec<String> = DEPARTMENTS.iter().map(|_| fresh(&mut rng, 'S')).collect();
    let mut members: Vec<Vec<Value>> = vec![Vec::new(); DEPARTMENTS.len()];
    let mut users = Vec::with_capacity(n);
    for b in 0..bots {
        users.push(bot(&fresh(&mut rng, 'W'), b));
    }
    let mut primary_owner_id = None;
    for i in 0..n - bots {
        // About 1% of accounts belong to nobody in JumpCloud.
        let slack_only = i % 97 == 13;
        let person = kit::person(seed, if slack_only { SLACK_ONLY_BASE + i } else { i });
        let id = fresh(&mut rng, 'W');
        let owner = primary_owner_id.is_none();
        let dept = DEPARTMENTS
            .iter()
            .position(|d| *d == person.department)
            .unwrap_or(0);
        members[dept].push(json!({"value": id, "display": person.user_name}));
        let group = json!({"value": group_ids[dept], "display": person.department.to_lowercase()});
        let mut user = human(&id, &person, i, &[group]);
        // Offboarded people were deactivated; `Missed` ones are the drift and stay active.
        if person.fate == Fate::Offboarded && !owner {
            user["active"] = Value::Bool(false);
        }
        if i % 41 == 7 && !owner {
            make_guest(&mut user);
        }
        if owner {
            primary_owner_id = Some(id);
        }
        users.push(user);
    }
    let groups = group_ids
        .iter()
        .zip(DEPARTMENTS)
        .zip(members)
        .map(|((id, dept), members)| group(id, &dept.to_lowercase(), &members))
        .collect();
    Org {
        users,
        groups,
        primary_owner_id,
    }
}

/// A new hire that appears while a client is paging.
pub(super) fn churn_user(seed: u64, serial: usize, id: &str) -> Value {
    let person = kit::person(seed, CHURN_BASE + serial);
    human(id, &person, CHURN_BASE + serial, &[])
}

fn human(id: &str, p: &Person, i: usize, groups: &[Value]) -> Value {
    json!({
        "schemas": [CORE, ENTERPRISE],
        "id": id,
        "externalId": "",
        "meta": {
            "created": format!("{}T09:{:02}:00-08:00", p.created, i % 60),
            "location": format!("https://api.slack.com/scim/v2/Users/{id}"),
        },
        "userName": p.user_name,
        "nickName": p.user_name,
        "name": {"givenName": p.given, "familyName": p.family, "honorificPrefix": null},
        "displayName": format!("{} {}", p.given, p.family),
        "profileUrl": format!("https://northwind.enterprise.slack.com/team/{}", p.user_name),
        "title": "",
        "timezone": TIMEZONES[i % TIMEZONES.len()],
        "active": true,
        "emails": [{"value": p.email, "primary": true}],
        "photos": [{"value": format!("https://avatars.slack-edge.example/{id}_192.png"), "type": "photo"}],
        "userType": null,
        "roles": [{"value": null, "primary": true}],
        "preferredLanguage": null,
        "locale": "en-US",
        ENTERPRISE: {
            "employeeNumber": format!("NW-{}", 10_000 + i),
            "costCenter": null,
            "organization": "Northwind",
            "division": null,
            "department": p.department,
            "manager": {"managerId": null},
        },
        "groups": groups,
    })
}

fn make_guest(user: &mut Value) {
    if let Some(schemas) = user["schemas"].as_array_mut() {
        schemas.push(Value::String(GUEST.to_owned()));
    }
    user[GUEST] = json!({"type": "multi", "expiration": "2027-06-30T23:59:59Z"});
}

/// A bot as Slack lists it: core schema only, empty family name and display name.
fn bot(id: &str, b: usize) -> Value {
    let name = format!("{}bot", BOT_NAMES[b % BOT_NAMES.len()]);
    let email = if b == 1 {
        "botuser@slack-bots.com".to_owned()
    } else {
        format!("botuser-T0NW-A{:04}@slack-bots.com", b + 1)
    };
    json!({
        "schemas": [CORE],
        "id": id,
        "externalId": "",
        "meta": {
            "created": "2020-01-01T00:00:00-08:00",
            "location": format!("https://api.slack.com/scim/v2/Users/{id}"),
        },
        "userName": name,
        "nickName": name,
        "name": {"givenName": name, "familyName": ""},
        "displayName": "",
        "active": true,
        "emails": [{"value": email, "primary": true}],
        "groups": [],
    })
}

fn group(id: &str, name: &str, members: &[Value]) -> Value {
    json!({
        "schemas": [GROUP],
        "id": id,
        "displayName": name,
        "members": members,
        "meta": {
            "created": "2019-01-01T00:00:00-08:00",
            "location": format!("https://api.slack.com/scim/v2/Groups/{id}"),
        },
    })
}

/// The users of every page in `dir`, and groups rebuilt from their `groups` entries.
pub(super) fn load_pages(dir: &Path) -> std::io::Result<(Vec<Value>, Vec<Value>)> {
    let mut users = Vec::new();
    for page in kit::read_json_files(dir)? {
        let Some(Value::Array(resources)) = page.get("Resources").cloned() else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: a page has no Resources array", dir.display()),
            ));
        };
        users.extend(resources);
    }
    let mut groups: BTreeMap<String, (String, Vec<Value>)> = BTreeMap::new();
    for user in &users {
        let id = user.get("id").cloned().unwrap_or(Value::Null);
        let name = user.get("userName").cloned().unwrap_or(Value::Null);
        for g in user
            .get("groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(gid) = g.get("value").and_then(Value::as_str) else {
                continue;
            };
            let display = g.get("display").and_then(Value::as_str).unwrap_or(gid);
            groups
                .entry(gid.to_owned())
                .or_insert_with(|| (display.to_owned(), Vec::new()))
                .1
                .push(json!({"value": id, "display": name}));
        }
    }
    let groups = groups
        .into_iter()
        .map(|(id, (name, members))| group(&id, &name, &members))
        .collect();
    Ok((users, groups))
}
