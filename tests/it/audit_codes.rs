//! Each finding code, end to end through the binary, on small hand-checked inputs.

use serde_json::{Value, json};

use crate::common::{Run, arg, run, run_in, tree};
use crate::org::{Jc, Sl, jc, jc_json, sl, slack_pages};

struct Bundle {
    users: Vec<Jc>,
    /// (id, name, member users, member groups, bound apps)
    groups: Vec<(
        &'static str,
        &'static str,
        Vec<&'static str>,
        Vec<&'static str>,
        Vec<&'static str>,
    )>,
    /// (id, name, displayLabel)
    apps: Vec<(&'static str, &'static str, &'static str)>,
    app_users: Vec<(&'static str, Vec<&'static str>)>,
    manifest: Value,
}

impl Bundle {
    fn files(&self) -> Vec<(String, String)> {
        let mut out = vec![
            ("jc/manifest.json".to_owned(), self.manifest.to_string()),
            (
                "jc/systemusers/skip-000000.json".to_owned(),
                json!({"totalCount": self.users.len(), "results": self.users.iter().map(jc_json).collect::<Vec<_>>()})
                    .to_string(),
            ),
            (
                "jc/applications/skip-000000.json".to_owned(),
                json!({"totalCount": self.apps.len(), "results": self.apps.iter().map(|(id, name, label)|
                    json!({"_id": id, "name": name, "displayLabel": label})).collect::<Vec<_>>()})
                    .to_string(),
            ),
            (
                "jc/usergroups/skip-000000.json".to_owned(),
                Value::Array(
                    self.groups
                        .iter()
                        .map(|g| json!({"id": g.0, "name": g.1, "type": "user_group"}))
                        .collect(),
                )
                .to_string(),
            ),
            ("jc/usergroups/skip-000100.json".to_owned(), "[]".to_owned()),
        ];
        for (id, _, users, subgroups, apps) in &self.groups {
            let members: Vec<Value> = users
                .iter()
                .map(|u| json!({"attributes": null, "to": {"id": u, "type": "user"}}))
                .chain(
                    subgroups
                        .iter()
                        .map(|g| json!({"to": {"id": g, "type": "user_group"}})),
                )
                .collect();
            out.push((
                format!("jc/usergroups/{id}/members/skip-000000.json"),
                Value::Array(members).to_string(),
            ));
            out.push((
                format!("jc/usergroups/{id}/associations.application/skip-000000.json"),
                Value::Array(
                    apps.iter()
                        .map(|a| json!({"to": {"id": a, "type": "application"}}))
                        .collect(),
                )
                .to_string(),
            ));
        }
        for (app, users) in &self.app_users {
            out.push((
                format!("jc/applications/{app}/users/skip-000000.json"),
                Value::Array(
                    users
                        .iter()
                        .map(|u| json!({"id": u, "type": "user", "paths": []}))
                        .collect(),
                )
                .to_string(),
            ));
        }
        out
    }
}

fn audit_bundle(bundle: &Bundle, slack: &[Sl], extra: &[&str]) -> Run {
    let mut files = bundle.files();
    for (n, c) in slack_pages(slack, 50, true) {
        files.push((format!("slack/{n}"), c));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let dir = tree(&refs);
    let (jc_dir, slack_dir) = (dir.path().join("jc"), dir.path().join("slack"));
    let mut args = vec![
        "audit",
        "--format",
        "json",
        "--jumpcloud",
        arg(&jc_dir),
        "--slack",
        arg(&slack_dir),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn findings(r: &Run) -> Vec<(String, String)> {
    r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let who = f["slack_user_id"]
                .as_str()
                .or(f["jumpcloud_group_id"].as_str())
                .or(f["email"].as_str())
                .unwrap_or("-");
            (f["code"].as_str().unwrap().to_owned(), who.to_owned())
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn two_connector_org() -> Bundle {
    Bundle {
        users: vec![
            jc("u1", "a@x.io"),
            jc("u2", "b@x.io"),
            jc("u3", "c@x.io"),
            jc("u4", "d@x.io"),
            jc("u5", "e@x.io"),
        ],
        groups: vec![
            (
                "g-main",
                "Slack main",
                vec!["u1"],
                vec!["g-nested"],
                vec!["app-main"],
            ),
            ("g-nested", "Nested team", vec!["u4"], vec![], vec![]),
            ("g-labs", "Slack labs", vec!["u3"], vec![], vec!["app-labs"]),
            (
                "g-both",
                "Leadership",
                vec![],
                vec![],
                vec!["app-main", "app-labs", "app-aws"],
            ),
            ("g-aws", "AWS", vec!["u2"], vec![], vec!["app-aws"]),
        ],
        apps: vec![
            ("app-main", "slack", "Slack (main)"),
            ("app-labs", "custom-saml", "Our Slack Labs"),
            ("app-aws", "aws", "AWS"),
        ],
        app_users: vec![],
        manifest: json!({"format": "jc-export-bundle/1"}),
    }
}

#[test]
fn entitlement_nested_groups_multi_connector_and_inactive_but_entitled() {
    let slack = vec![
        sl("U1", "a@x.io", true, "u1"),
        sl("U2", "b@x.io", true, "u2"),
        sl("U3", "c@x.io", false, "u3"),
        sl("U4", "d@x.io", true, "u4"),
        sl("U5", "e@x.io", false, "u5"),
    ];
    let r = audit_bundle(&two_connector_org(), &slack, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        findings(&r),
        pairs(&[
            ("unentitled-but-active", "U2"),
            ("multi-connector-group", "g-both"),
            ("inactive-but-entitled", "U3"),
        ])
    );
    let f = &r.json()["findings"][1];
    assert_eq!(f["application_ids"], json!(["app-labs", "app-main"]));
    assert_eq!(f["severity"], "warning");
    assert_eq!(r.json()["inputs"]["jumpcloud"]["groups"], 5);
    assert_eq!(r.json()["inputs"]["jumpcloud"]["applications"], 3);

    // Scoped to the labs connector, the main-only members become unentitled.
    let r = audit_bundle(&two_connector_org(), &slack, &["--slack-app", "app-labs"]);
    assert_eq!(
        findings(&r),
        pairs(&[
            ("unentitled-but-active", "U1"),
            ("unentitled-but-active", "U2"),
            ("unentitled-but-active", "U4"),
            ("multi-connector-group", "g-both"),
            ("inactive-but-entitled", "U3"),
        ]),
        "{r:?}"
    );

    let r = audit_bundle(&two_connector_org(), &slack, &["--slack-app", "nope"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("--slack-app nope: no such application"),
        "{r:?}"
    );
}

#[test]
fn manifest_ids_and_application_users_listing() {
    let mut org = two_connector_org();
    // The manifest names only app-labs; its users listing entitles u1 too.
    org.manifest = json!({"slack_app_ids": ["app-labs"]});
    org.app_users = vec![("app-labs", vec!["u1"])];
    let slack = vec![
        sl("U1", "a@x.io", true, "u1"),
        sl("U3", "c@x.io", true, "u3"),
        sl("U4", "d@x.io", true, "u4"),
    ];
    let r = audit_bundle(&org, &slack, &[]);
    assert_eq!(
        findings(&r),
        pairs(&[("unentitled-but-active", "U4")]),
        "{r:?}"
    );
    assert!(
        !r.stdout.contains("heuristic"),
        "manifest ids must not trigger the heuristic notice: {r:?}"
    );
}

#[test]
fn no_connector_means_entitlement_not_judged() {
    let mut org = two_connector_org();
    org.apps = vec![("app-aws", "aws", "AWS")];
    org.groups.retain(|g| g.0 == "g-aws");
    let slack = vec![sl("U1", "a@x.io", true, "u1")];
    let r = audit_bundle(&org, &slack, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(findings(&r).is_empty());
    let notices = r.json()["notices"].to_string();
    assert!(
        notices.contains("unentitled-but-active not judged: no Slack connector recognised"),
        "{notices}"
    );
}

#[test]
fn link_conflict_duplicates_and_bots() {
    let mut nina = jc("u3", "nina@x.io");
    nina.alt = "  MIKE@x.io";
    let org = Bundle {
        users: vec![
            jc("u1", "judy@x.io"),
            jc("u2", "mike@x.io"),
            nina,
            jc("u4", "kate@x.io"),
        ],
        groups: vec![(
            "g",
            "Slack",
            vec!["u1", "u2", "u3", "u4"],
            vec![],
            vec!["app"],
        )],
        apps: vec![("app", "slack", "Slack")],
        app_users: vec![],
        manifest: json!({}),
    };
    let slack = vec![
        sl("U1", "judy@x.io", true, "u4"),
        sl("U2", "Mike@x.io", true, "u2"),
        sl("U3", "nina@x.io", true, "u3"),
        sl("U4", "kate@x.io", true, "u4"),
        sl("U5", "kate@x.io", false, "u4"),
        sl("B1", "botuser@slack-bots.com", true, ""),
        sl("B2", "botuser@slack-bots.com", true, ""),
    ];
    let r = audit_bundle(&org, &slack, &[]);
    assert_eq!(
        findings(&r),
        pairs(&[
            ("link-conflict", "U1"),
            ("duplicate-email", "kate@x.io"),
            ("duplicate-email", "mike@x.io"),
        ]),
        "{r:?}"
    );
    let f = r.json()["findings"].clone();
    assert_eq!(f[0]["jumpcloud_user_id"], "u4");
    assert_eq!(f[0]["jumpcloud_user_ids"], json!(["u1", "u4"]));
    assert_eq!(f[0]["email"], "judy@x.io");
    assert_eq!(f[1]["slack_user_ids"], json!(["U4", "U5"]));
    assert_eq!(f[1]["jumpcloud_user_ids"], json!(["u4"]));
    assert_eq!(f[2]["slack_user_ids"], json!(["U2"]));
    assert_eq!(f[2]["jumpcloud_user_ids"], json!(["u2", "u3"]));
    assert_eq!(r.json()["summary"]["slack_bots"], 2);
}

#[test]
fn legacy_unlinked_by_scim_enabled_at_flag_and_config() {
    // No externalId anywhere: legacy-unlinked is judged only by creation date.
    let users = [jc("u1", "old@x.io"), jc("u2", "new@x.io")];
    let page = json!({"totalResults": 2, "startIndex": 1, "itemsPerPage": 2,
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "Resources": [
            {"id": "U1", "active": true, "emails": [{"value": "old@x.io", "primary": true}],
             "meta": {"created": "2019-07-24T00:55:02-07:00"}},
            {"id": "U2", "active": true, "emails": [{"value": "new@x.io", "primary": true}],
             "meta": {"created": "2024-04-10T00:00:00+0000"}}]});
    let jc_page =
        json!({"totalCount": 2, "results": users.iter().map(jc_json).collect::<Vec<_>>()});
    let dir = tree(&[
        ("jc.json", &jc_page.to_string()),
        ("slack.json", &page.to_string()),
        ("scimdrift.toml", "scim_enabled_at = 2020-01-01\n"),
    ]);
    let base = [
        "audit",
        "--format",
        "json",
        "--jumpcloud",
        "jc.json",
        "--slack",
        "slack.json",
    ];

    // From the directory with scimdrift.toml: judged by the configured date.
    let r = run_in(Some(dir.path()), &base);
    assert_eq!(findings(&r), pairs(&[("legacy-unlinked", "U1")]), "{r:?}");
    assert_eq!(r.json()["findings"][0]["reason"], "created-before-scim");
    assert_eq!(r.code, 0, "warnings do not fail by default: {r:?}");

    // The flag overrides the config.
    let r = run_in(
        Some(dir.path()),
        &[
            &base[..],
            &["--scim-enabled-at", "2025-01-01T00:00:00Z"][..],
        ]
        .concat(),
    );
    assert_eq!(
        findings(&r),
        pairs(&[("legacy-unlinked", "U1"), ("legacy-unlinked", "U2")]),
        "{r:?}"
    );

    // Without config or flag: one notice, no findings.
    std::fs::remove_file(dir.path().join("scimdrift.toml")).unwrap();
    let r = run_in(Some(dir.path()), &base);
    assert!(findings(&r).is_empty(), "{r:?}");
    let notices = r.json()["notices"].clone();
    assert_eq!(
        notices
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n
                .as_str()
                .unwrap()
                .starts_with("legacy-unlinked not judged"))
            .count(),
        1,
        "{r:?}"
    );

    let r = run_in(
        Some(dir.path()),
        &[&base[..], &["--scim-enabled-at", "soon"][..]].concat(),
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--scim-enabled-at"), "{r:?}");
}

#[test]
fn a_slack_connector_the_export_says_nothing_about_is_never_taken_as_entitling_nobody() {
    // A third Slack connector with no users listing and no bound group: whom it provisions is
    // unknown, so u2 (in no Slack group) must not be reported, nor ever planned, as unentitled.
    let mut org = two_connector_org();
    org.apps.push(("app-grid", "slack", "Slack (Grid)"));
    let slack = vec![
        sl("U1", "a@x.io", true, "u1"),
        sl("U2", "b@x.io", true, "u2"),
    ];
    let r = audit_bundle(&org, &slack, &[]);
    assert_eq!(
        findings(&r),
        pairs(&[("multi-connector-group", "g-both")]),
        "{r:?}"
    );
    let notices = r.json()["notices"].to_string();
    assert!(
        notices.contains("nothing on whom Slack connector(s) app-grid provision"),
        "{notices}"
    );
    // Its users listing, even empty, says whom it provisions: judged again.
    org.app_users = vec![("app-grid", vec![])];
    let r = audit_bundle(&org, &slack, &[]);
    assert_eq!(
        findings(&r),
        pairs(&[
            ("unentitled-but-active", "U2"),
            ("multi-connector-group", "g-both"),
        ]),
        "{r:?}"
    );
}
