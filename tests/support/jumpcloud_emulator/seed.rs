//! Where the JumpCloud emulator's records come from: an export bundle directory (reference §8.1)
//! or a generated org whose people match the Slack emulator's generated org.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde_json::{Value, json};

use super::JumpCloudConfig;
use super::kit::{self, Fate, HEX, Rng};
use super::routes::{connection, record_id};

const ORG_ID: &str = "5f1e2d3c4b5a69788796a5b4";

/// Reads the bundle layout; `systemusers/` is required, everything else optional.
pub(super) fn load_bundle(dir: &Path) -> std::io::Result<JumpCloudConfig> {
    let users = pages(&dir.join("systemusers"))?;
    let applications = optional_pages(&dir.join("applications"))?;
    let usergroups = optional_pages(&dir.join("usergroups"))?;
    let mut members = BTreeMap::new();
    let mut app_associations = BTreeMap::new();
    for group in &usergroups {
        let Some(id) = record_id(group) else {
            continue;
        };
        let group_dir = dir.join("usergroups").join(id);
        members.insert(id.to_owned(), optional_pages(&group_dir.join("members"))?);
        app_associations.insert(
            id.to_owned(),
            optional_pages(&group_dir.join("associations.application"))?,
        );
    }
    let mut app_users = BTreeMap::new();
    for app in &applications {
        let Some(id) = record_id(app) else {
            continue;
        };
        let users_dir = dir.join("applications").join(id).join("users");
        if users_dir.is_dir() {
            app_users.insert(id.to_owned(), pages(&users_dir)?);
        }
    }
    Ok(JumpCloudConfig {
        users,
        applications,
        usergroups,
        members,
        app_associations,
        app_users,
        ..JumpCloudConfig::default()
    })
}

fn optional_pages(dir: &Path) -> std::io::Result<Vec<Value>> {
    if dir.is_dir() {
        pages(dir)
    } else {
        Ok(Vec::new())
    }
}

/// The records of every page in `dir`: v1 envelopes (`results`) or bare arrays, concatenated in
/// file order; a record seen again (same id) replaces the earlier copy in place.
fn pages(dir: &Path) -> std::io::Result<Vec<Value>> {
    let mut out: Vec<Value> = Vec::new();
    let mut at: BTreeMap<String, usize> = BTreeMap::new();
    for page in kit::read_json_files(dir)? {
        let records = match page {
            Value::Array(items) => items,
            Value::Object(mut obj) => match obj.remove("results") {
                Some(Value::Array(items)) => items,
                _ => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "{}: a page is neither an array nor {{results}}",
                            dir.display()
                        ),
                    ));
                }
            },
            _ => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: a page is not JSON array or object", dir.display()),
                ));
            }
        };
        for record in records {
            let key = dedupe_key(&record);
            if let Some(&i) = key.as_ref().and_then(|k| at.get(k)) {
                out[i] = record;
            } else {
                if let Some(k) = key {
                    at.insert(k, out.len());
                }
                out.push(record);
            }
        }
    }
    Ok(out)
}

/// The id a record is de-duplicated by: its own, or for graph connections the target's.
fn dedupe_key(record: &Value) -> Option<String> {
    record_id(record)
        .or_else(|| record.pointer("/to/id").and_then(Value::as_str))
        .map(str::to_owned)
}

/// A generated org; see [`JumpCloudConfig::generated`].
pub(super) fn generate(n_users: usize, n_groups: usize, seed: u64) -> JumpCloudConfig {
    let mut rng = Rng::new(seed ^ 0x1C10_0D5E);
    let mut taken = HashSet::new();
    let mut fresh = |rng: &mut Rng| loop {
        let id = rng.string(HEX, 24);
        if taken.insert(id.clone()) {
            return id;
        }
    };
    let users: Vec<Value> = (0..n_users)
        .map(|i| user(&fresh(&mut rng), i, seed))
        .collect();
    let slack = fresh(&mut rng);
    let slack_labs = fresh(&mut rng);
    let aws = fresh(&mut rng);
    let applications = vec![
        app(
            &slack,
            "slack",
            "Slack",
            "Slack (Northwind)",
            "https://northwind.slack.com/sso/saml",
        ),
        app(
            &slack_labs,
            "slack",
            "Slack",
            "Slack (Northwind Labs)",
            "https://northwind-labs.slack.com/sso/saml",
        ),
        app(
            &aws,
            "aws",
            "AWS",
            "AWS Production",
            "https://signin.aws.amazon.com/saml",
        ),
    ];
    let names = [
        "Slack - Engineering",
        "Slack - Sales",
        "Slack Labs - Research",
        "Slack - Everyone",
        "AWS Admins",
    ];
    let group_ids: Vec<String> = (0..n_groups).map(|_| fresh(&mut rng)).collect();
    let usergroups = group_ids
        .iter()
        .enumerate()
        .map(|(k, id)| {
            let name = names
                .get(k)
                .map_or_else(|| format!("Team {k:04}"), |n| (*n).to_owned());
            json!({
                "id": id,
                "name": name,
                "type": "user_group",
                "membershipMethod": "STATIC",
                "email": "",
                "description": "",
            })
        })
        .collect();
    let mut members: BTreeMap<String, Vec<Value>> =
        group_ids.iter().map(|g| (g.clone(), Vec::new())).collect();
    if n_groups > 0 {
        for (i, u) in users.iter().enumerate() {
            let uid = record_id(u).unwrap_or_default();
            let first = i % n_groups;
            push_member(&mut members, &group_ids[first], uid);
            if rng.chance(0.3) {
                let second = rng.below(n_groups);
                if second != first {
                    push_member(&mut members, &group_ids[second], uid);
                }
            }
        }
    }
    let app_associations = group_ids
        .iter()
        .enumerate()
        .map(|(k, g)| {
            let apps: Vec<&str> = match k {
                0 | 1 => vec![&slack],
                2 => vec![&slack_labs],
                // One group bound to both Slack connectors: the risky configuration.
                3 => vec![&slack, &slack_labs],
                4 => vec![&aws],
                k if k % 3 == 0 => vec![&slack],
                _ => vec![],
            };
            let list = apps.iter().map(|a| connection(a, "application")).collect();
            (g.clone(), list)
        })
        .collect();
    JumpCloudConfig {
        users,
        applications,
        usergroups,
        members,
        app_associations,
        seed,
        ..JumpCloudConfig::default()
    }
}

fn push_member(members: &mut BTreeMap<String, Vec<Value>>, group: &str, user: &str) {
    if let Some(list) = members.get_mut(group) {
        list.push(connection(user, "user"));
    }
}

fn user(id: &str, i: usize, seed: u64) -> Value {
    let p = kit::person(seed, i);
    // Some records carry mixed-case emails, as JumpCloud stores what the admin typed.
    let email = if i % 29 == 5 {
        format!("{}.{}@{}", p.given, p.family, kit::DOMAIN)
    } else {
        p.email.clone()
    };
    let (state, suspended) = match p.fate {
        Fate::Offboarded | Fate::Missed => ("SUSPENDED", true),
        Fate::Staged => ("STAGED", false),
        Fate::Active | Fate::Locked | Fate::Expired => ("ACTIVATED", false),
    };
    let locked = p.fate == Fate::Locked;
    json!({
        "_id": id,
        "username": p.user_name,
        "email": email,
        "alternateEmail": "",
        "firstname": p.given,
        "lastname": p.family,
        "displayname": format!("{} {}", p.given, p.family),
        "state": state,
        "activated": p.fate != Fate::Staged,
        "suspended": suspended,
        "account_locked": locked,
        "account_locked_date": if locked { Value::String(format!("{}T12:00:00.000Z", p.created)) } else { Value::Null },
        "password_expired": p.fate == Fate::Expired,
        "password_never_expires": false,
        "employeeIdentifier": format!("NW-{}", 10_000 + i),
        "department": p.department,
        "organization": ORG_ID,
        "created": format!("{}T09:00:00.000Z", p.created),
    })
}

fn app(id: &str, name: &str, display: &str, label: &str, acs: &str) -> Value {
    json!({
        "_id": id,
        "name": name,
        "displayName": display,
        "displayLabel": label,
        "ssoUrl": format!("https://sso.jumpcloud.com/saml2/{}", label.to_lowercase().replace([' ', '(', ')'], "")),
        "active": true,
        "organization": ORG_ID,
        "config": {"acsUrl": {"label": "ACS URL", "value": acs, "type": "text"}},
    })
}
