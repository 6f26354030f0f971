//! A small organisation written out in every input shape of DESIGN §2, so the same people can be
//! fed to the binary as a bundle, a v1 page, an array, CSV, v1 or v2 Slack pages, and so on.

use serde_json::{Value, json};

/// One JumpCloud user.
#[derive(Clone)]
pub struct Jc {
    pub id: &'static str,
    pub email: &'static str,
    pub alt: &'static str,
    pub state: &'static str,
    pub suspended: bool,
    pub password_expired: bool,
}

/// One Slack account.
#[derive(Clone)]
pub struct Sl {
    pub id: &'static str,
    pub email: &'static str,
    pub active: bool,
    pub external_id: &'static str,
}

pub const fn jc(id: &'static str, email: &'static str) -> Jc {
    Jc {
        id,
        email,
        alt: "",
        state: "ACTIVATED",
        suspended: false,
        password_expired: false,
    }
}

pub const fn sl(id: &'static str, email: &'static str, active: bool, ext: &'static str) -> Sl {
    Sl {
        id,
        email,
        active,
        external_id: ext,
    }
}

/// The standard small org: every per-user code that needs no group data.
pub fn small_org() -> (Vec<Jc>, Vec<Sl>) {
    let mut bob = jc("a2", "bob@x.io");
    bob.state = "SUSPENDED";
    bob.suspended = true;
    let mut carol = jc("a3", "carol@x.io");
    carol.password_expired = true;
    let mut dan = jc("a4", "dan@x.io");
    dan.alt = "Dan.Alt@Y.io";
    let jcs = vec![jc("a1", "alice@x.io"), bob, carol, dan];
    let slack = vec![
        sl("U1", "Alice@X.io", true, "a1"),
        sl("U2", "bob@x.io", true, "a2"),
        sl("U3", "carol@x.io", true, ""),
        sl("U4", "ghost@x.io", true, ""),
        sl("U5", "dan.alt@y.io", true, ""),
        sl("B1", "botuser@slack-bots.com", true, ""),
    ];
    (jcs, slack)
}

/// The findings the small org must give: (code, slack id, `matched_by`, reason).
pub const SMALL_ORG_FINDINGS: [(&str, &str, Option<&str>, Option<&str>); 5] = [
    (
        "suspended-but-active",
        "U2",
        Some("external-id"),
        Some("suspended"),
    ),
    (
        "suspended-but-active",
        "U3",
        Some("email"),
        Some("password-expired"),
    ),
    ("unknown-active", "U4", None, None),
    (
        "legacy-unlinked",
        "U3",
        Some("email"),
        Some("no-external-id"),
    ),
    (
        "legacy-unlinked",
        "U5",
        Some("alternate-email"),
        Some("no-external-id"),
    ),
];

pub fn jc_json(u: &Jc) -> Value {
    json!({"_id": u.id, "username": u.id, "email": u.email, "alternateEmail": u.alt,
           "state": u.state, "suspended": u.suspended, "password_expired": u.password_expired,
           "account_locked": false, "activated": true, "displayname": ""})
}

/// The PowerShell SDK's flat `PascalCase` shape.
pub fn jc_pascal(u: &Jc) -> Value {
    json!({"Id": u.id, "Username": u.id, "Email": u.email, "AlternateEmail": u.alt,
           "State": u.state, "Suspended": u.suspended, "PasswordExpired": u.password_expired,
           "AccountLocked": false})
}

pub fn jc_v1_pages(users: &[Jc], per: usize) -> Vec<(String, String)> {
    users
        .chunks(per)
        .enumerate()
        .map(|(i, chunk)| {
            let page = json!({"totalCount": users.len(),
                              "results": chunk.iter().map(jc_json).collect::<Vec<_>>()});
            (format!("skip-{:06}.json", i * per), page.to_string())
        })
        .collect()
}

pub fn jc_csv(users: &[Jc]) -> String {
    let mut out =
        String::from("Id,Username,Email,Alternate Email,State,Suspended,PasswordExpired\n");
    for u in users {
        let row = [
            u.id.to_owned(),
            u.id.to_owned(),
            u.email.to_owned(),
            u.alt.to_owned(),
            u.state.to_owned(),
            u.suspended.to_string(),
            u.password_expired.to_string(),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

pub fn slack_user(u: &Sl, v2: bool) -> Value {
    let schema = if v2 {
        "urn:ietf:params:scim:schemas:core:2.0:User"
    } else {
        "urn:scim:schemas:core:1.0"
    };
    json!({"schemas": [schema], "id": u.id, "externalId": u.external_id, "userName": u.id.to_lowercase(),
           "displayName": "", "active": u.active, "title": null,
           "emails": [{"value": "", "primary": false}, {"value": u.email, "primary": true}],
           "meta": {"created": "2021-09-14T08:12:40-07:00"}, "groups": []})
}

/// ListResponse pages of `per` users, with the trailing empty page Slack's paging yields.
pub fn slack_pages(users: &[Sl], per: usize, v2: bool) -> Vec<(String, String)> {
    let mut pages = Vec::new();
    let mut start = 1;
    loop {
        let chunk: Vec<Value> = users
            .iter()
            .skip(start - 1)
            .take(per)
            .map(|u| slack_user(u, v2))
            .collect();
        let n = chunk.len();
        let page = if v2 {
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                   "Resources": chunk, "totalResults": users.len(), "itemsPerPage": n, "startIndex": start})
        } else {
            json!({"totalResults": users.len(), "itemsPerPage": n, "startIndex": start,
                   "schemas": ["urn:scim:schemas:core:1.0"], "Resources": chunk})
        };
        pages.push((format!("users-{start:07}.json"), page.to_string()));
        if n == 0 {
            return pages;
        }
        start += n;
    }
}

pub fn slack_array(users: &[Sl]) -> String {
    Value::Array(users.iter().map(|u| slack_user(u, true)).collect()).to_string()
}
