//! Writes a synthetic organisation of N users in the input shapes of DESIGN §2, for benchmarks
//! and scale tests: Slack ListResponse pages of 1000 (v1 or v2), a JumpCloud bundle with v1 user
//! pages of 100, up to 5,000 groups with members and Slack bindings, a planted share of every
//! finding code, and `expected.json` with the finding counts the audit must report.
//!
//! `cargo run --release --example generate-org -- --users 1000000 --out target/scale/1m`
//!
//! Generated data goes under `target/` and is never committed.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::Parser;
use serde_json::{Value, json};

/// Generate a synthetic organisation.
#[derive(Parser)]
struct Args {
    /// People in JumpCloud (Slack gets about as many accounts, plus planted extras).
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// JumpCloud user groups (at most 5,000).
    #[arg(long, default_value_t = 5_000)]
    groups: usize,
    /// Slack SCIM version of the pages.
    #[arg(long, default_value = "v2")]
    scim_version: String,
    /// Output directory (must not exist).
    #[arg(long)]
    out: PathBuf,
}

const APP_MAIN: &str = "5e0f1a2b3c4d5e6f7a8b9c01";
const APP_LABS: &str = "5e0f1a2b3c4d5e6f7a8b9c02";
const APP_AWS: &str = "5e0f1a2b3c4d5e6f7a8b9c03";

fn jid(i: usize) -> String {
    format!("64b0{i:020x}")
}

fn gid(g: usize) -> String {
    format!("65a0{g:020x}")
}

fn email(i: usize) -> String {
    format!("user{i}@scale.example")
}

fn write_json(path: &Path, value: &Value) -> std::io::Result<()> {
    if let Some(p) = path.parent() {
        fs::create_dir_all(p)?;
    }
    let mut w = BufWriter::new(File::create(path)?);
    serde_json::to_writer(&mut w, value)?;
    w.flush()
}

/// The planted case of person `i` (by `i % 1000`).
fn case(i: usize) -> usize {
    i % 1000
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let n = args.users;
    let groups = args.groups.clamp(1, 5_000);
    let v2 = args.scim_version == "v2";
    if args.out.exists() {
        return Err(std::io::Error::other(format!(
            "{} exists; remove it first",
            args.out.display()
        )));
    }
    let jc = args.out.join("jumpcloud");
    let slack_dir = args.out.join("slack");
    let mut expected: BTreeMap<&str, usize> = BTreeMap::new();

    // JumpCloud users, v1 pages of 100.
    let jc_user = |i: usize| -> Value {
        let c = case(i);
        json!({
            "_id": jid(i), "username": format!("user{i}"), "email": email(i),
            "alternateEmail": if c == 8 { email(i - 1).to_uppercase() } else { String::new() },
            "firstname": "Test", "lastname": format!("User {i}"), "displayname": format!("Test User {i}"),
            "state": if c == 1 { "SUSPENDED" } else { "ACTIVATED" }, "activated": true,
            "suspended": c == 1, "account_locked": false, "account_locked_date": null,
            "password_expired": c == 2, "password_never_expires": false,
            "employeeIdentifier": format!("E-{i}"), "department": "Engineering",
            "organization": "5f1e2d3c4b5a69788796a5b4", "created": "2023-03-14T16:02:11.480Z",
            "mfa": {"configured": true, "exclusion": false}
        })
    };
    for skip in (0..n).step_by(100) {
        let results: Vec<Value> = (skip..(skip + 100).min(n)).map(jc_user).collect();
        write_json(
            &jc.join(format!("systemusers/skip-{skip:07}.json")),
            &json!({"totalCount": n, "results": results}),
        )?;
    }
    write_json(
        &jc.join("applications/skip-000000.json"),
        &json!({"totalCount": 3, "results": [
            {"_id": APP_MAIN, "name": "slack", "displayLabel": "Slack (main)"},
            {"_id": APP_LABS, "name": "slack", "displayLabel": "Slack (labs)"},
            {"_id": APP_AWS, "name": "aws", "displayLabel": "AWS"}]}),
    )?;
    write_json(
        &jc.join("manifest.json"),
        &json!({"format": "jc-export-bundle/1", "producer": "generate-org",
                "slack_app_ids": [APP_MAIN, APP_LABS]}),
    )?;
    // Groups: every 1000th is bound to both Slack connectors.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); groups];
    for i in 0..n {
        if case(i) != 3 {
            members[i % groups].push(i);
        }
    }
    let group_list: Vec<Value> = (0..groups)
        .map(|g| json!({"id": gid(g), "name": format!("Group {g}"), "type": "user_group"}))
        .collect();
    for (k, chunk) in group_list.chunks(100).enumerate() {
        write_json(
            &jc.join(format!("usergroups/skip-{:06}.json", k * 100)),
            &Value::Array(chunk.to_vec()),
        )?;
    }
    write_json(
        &jc.join(format!(
            "usergroups/skip-{:06}.json",
            groups.div_ceil(100) * 100
        )),
        &json!([]),
    )?;
    for (g, list) in members.iter().enumerate() {
        let dir = jc.join("usergroups").join(gid(g));
        let records: Vec<Value> = list
            .iter()
            .map(|i| json!({"attributes": null, "to": {"attributes": null, "id": jid(*i), "type": "user"}}))
            .collect();
        let mut skip = 0;
        for chunk in records.chunks(100) {
            write_json(
                &dir.join(format!("members/skip-{skip:06}.json")),
                &Value::Array(chunk.to_vec()),
            )?;
            skip += chunk.len();
        }
        write_json(
            &dir.join(format!("members/skip-{skip:06}.json")),
            &json!([]),
        )?;
        let apps: Vec<&str> = if g % 1000 == 0 {
            *expected.entry("multi-connector-group").or_default() += 1;
            vec![APP_MAIN, APP_LABS]
        } else if g % 2 == 0 {
            vec![APP_MAIN]
        } else {
            vec![APP_LABS]
        };
        let bindings: Vec<Value> = apps
            .iter()
            .map(|a| json!({"attributes": null, "to": {"attributes": null, "id": a, "type": "application"}}))
            .collect();
        write_json(
            &dir.join("associations.application/skip-000000.json"),
            &Value::Array(bindings),
        )?;
    }

    // Slack accounts.
    let slack_user = |id: String, ext: String, mail: String, active: bool, name: String| -> Value {
        let (schema, ent) = if v2 {
            (
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            )
        } else {
            (
                "urn:scim:schemas:core:1.0",
                "urn:scim:schemas:extension:enterprise:1.0",
            )
        };
        json!({
            "schemas": [schema, ent], "id": id, "externalId": ext,
            "meta": {"created": "2021-09-14T08:12:40-07:00",
                     "location": format!("https://api.slack.com/scim/{}/Users/{id}", if v2 { "v2" } else { "v1" })},
            "userName": name, "nickName": name,
            "name": {"givenName": "Test", "familyName": "User", "honorificPrefix": null},
            "displayName": "", "profileUrl": format!("https://scale.enterprise.slack.com/team/{name}"),
            "title": "", "timezone": "Europe/Stockholm", "active": active,
            "emails": [{"value": mail, "primary": true}, {"value": "", "primary": false}],
            "photos": [{"value": format!("https://avatars.slack-edge.example/{id}_192.png"), "type": "photo"}],
            "phoneNumbers": [{"value": null, "type": "mobile"}, {"value": null, "primary": true}],
            "userType": null, "roles": [{"value": null, "primary": true}], "preferredLanguage": null, "locale": null,
            ent: {"employeeNumber": null, "costCenter": null, "organization": null, "division": null,
                  "department": null, "manager": {"managerId": null}},
            "groups": []
        })
    };
    let mut accounts: Vec<Value> = Vec::with_capacity(n + n / 400 + 10);
    for i in 0..n {
        let c = case(i);
        let ext = match c {
            4 => String::new(),
            6 => jid(i + 1),
            _ => jid(i),
        };
        let active = c != 5;
        accounts.push(slack_user(
            format!("W{i:010}"),
            ext,
            email(i),
            active,
            format!("user{i}"),
        ));
        match c {
            1 | 2 => *expected.entry("suspended-but-active").or_default() += 1,
            3 => *expected.entry("unentitled-but-active").or_default() += 1,
            4 => *expected.entry("legacy-unlinked").or_default() += 1,
            5 => *expected.entry("inactive-but-entitled").or_default() += 1,
            6 => *expected.entry("link-conflict").or_default() += 1,
            8 => *expected.entry("duplicate-email").or_default() += 1,
            9 => {
                // An old, deactivated second account with the same email.
                accounts.push(slack_user(
                    format!("X{i:010}"),
                    String::new(),
                    email(i),
                    false,
                    format!("user{i}-old"),
                ));
                *expected.entry("duplicate-email").or_default() += 1;
            }
            _ => {}
        }
    }
    for k in 0..n.div_ceil(1000) {
        accounts.push(slack_user(
            format!("G{k:010}"),
            String::new(),
            format!("ghost{k}@elsewhere.example"),
            true,
            format!("ghost{k}"),
        ));
        *expected.entry("unknown-active").or_default() += 1;
    }
    for k in 0..n.div_ceil(10_000).max(2) {
        accounts.push(slack_user(
            format!("B{k:010}"),
            String::new(),
            "botuser@slack-bots.com".to_owned(),
            true,
            format!("bot{k}"),
        ));
    }
    let total = accounts.len();
    let mut start = 1;
    for chunk in accounts.chunks(1000) {
        let page = if v2 {
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "Resources": chunk,
                   "totalResults": total, "itemsPerPage": chunk.len(), "startIndex": start})
        } else {
            json!({"totalResults": total, "itemsPerPage": chunk.len(), "startIndex": start,
                   "schemas": ["urn:scim:schemas:core:1.0"], "Resources": chunk})
        };
        write_json(&slack_dir.join(format!("users-{start:08}.json")), &page)?;
        start += chunk.len();
    }
    write_json(
        &args.out.join("expected.json"),
        &json!({"users": n, "slack_accounts": total, "groups": groups, "by_code": expected}),
    )?;
    writeln!(
        std::io::stdout().lock(),
        "wrote {n} JumpCloud users, {total} Slack accounts, {groups} groups to {}",
        args.out.display()
    )
}
