//! Unit tests of jumpcloud.

use super::*;
use crate::model::JcState;

fn users(json: &str) -> Result<Records<JcUser>, Error> {
    read_users_file(Path::new("u.json"), json.as_bytes(), true).map(|(records, _)| records)
}

#[test]
fn the_same_record_twice_is_a_notice_and_pages_without_totalcount_a_problem() {
    let mut snap = super::super::Snapshot::new("jc");
    snap.insert(
        "systemusers/skip-0000000.json",
        br#"{"results":[{"_id":"a","email":"a@x.io"},{"_id":"a","email":"A@x.io "}]}"#.to_vec(),
    );
    let root = snap.root().to_path_buf();
    let loaded = load_from(&snap, &root).unwrap();
    assert_eq!(loaded.data.users.len(), 1);
    assert!(
        loaded
            .notices
            .iter()
            .any(|n| n.contains("1 id(s) appear more than once with the same record (a)")),
        "{:?}",
        loaded.notices
    );
    assert_eq!(
        loaded.problems,
        ["systemusers: no page carries totalCount: completeness cannot be checked"]
    );
    // A bare array cannot say; that is a notice, not a problem.
    let loaded = load_from(
        &snap_of(r#"[{"_id":"a","email":"a@x.io"}]"#),
        Path::new("u.json"),
    )
    .unwrap();
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert!(
        loaded
            .notices
            .iter()
            .any(|n| n.contains("completeness cannot be checked"))
    );
}

fn snap_of(json: &str) -> super::super::Snapshot {
    let mut snap = super::super::Snapshot::new("");
    snap.insert("u.json", json.as_bytes().to_vec());
    snap
}

#[test]
fn ids_repeated_across_pages_keep_the_last_record() {
    let mut snap = super::super::Snapshot::new("jc");
    snap.insert(
        "systemusers/skip-0000000.json",
        br#"{"totalCount":3,"results":[{"_id":"a","email":"a@x.io"},{"_id":"b","email":"b@x.io"}]}"#.to_vec(),
    );
    snap.insert(
        "systemusers/skip-0000002.json",
        br#"{"totalCount":3,"results":[{"_id":"a","email":"a2@x.io","suspended":true}]}"#.to_vec(),
    );
    let root = snap.root().to_path_buf();
    let loaded = load_from(&snap, &root).unwrap();
    let users: Vec<(&str, &str)> = loaded
        .data
        .users
        .iter()
        .map(|u| (u.id.as_str(), u.email.as_str()))
        .collect();
    assert_eq!(users, [("b", "b@x.io"), ("a", "a2@x.io")]);
    // The two records of `a` disagree (one suspended): which is right cannot be known.
    assert!(
        loaded.problems.iter().any(|p| p.contains(
            "1 id(s) appear more than once with different records (a): the listing changed"
        )),
        "{:?}",
        loaded.problems
    );
    // Two distinct users against a totalCount of 3: one is missing.
    assert!(
        loaded
            .problems
            .iter()
            .any(|p| p.contains("2 of totalCount 3")),
        "{:?}",
        loaded.problems
    );
}

#[test]
fn id_and_field_aliases() {
    let r = users(
        r#"{"totalCount":3,"results":[
          {"_id":"a1","email":"A@X.io","state":"SUSPENDED","suspended":true,"alternateEmail":""},
          {"id":"a2","email":"b@x.io","password_expired":true,"state":null},
          {"Id":"a3","Email":"c@x.io","PasswordExpired":"True","State":"STAGED","AlternateEmail":"C.P@y.io"}]}"#,
    )
    .unwrap();
    assert_eq!(r.total_count, Some(3));
    let u = &r.items;
    assert_eq!(u[0].id, "a1");
    assert_eq!(u[0].email.as_str(), "a@x.io");
    assert_eq!(u[0].alternate_email, None);
    assert_eq!(u[0].state, JcState::Suspended);
    assert!(u[1].password_expired);
    assert_eq!(u[1].state, JcState::Unknown);
    assert_eq!(u[2].state, JcState::Staged);
    assert_eq!(u[2].alternate_email.as_ref().unwrap().as_str(), "c.p@y.io");
}

#[test]
fn bad_records_and_foreign_documents() {
    let e = users(r#"[{"_id":"a1"}]"#).err().unwrap();
    assert_eq!(e.to_string(), "u.json: [0] (id a1): user a1 has no email");
    let e = users(r#"[{"_id":"a1","email":"a@x.io"},{"_id":"a2","email":"N/A"}]"#)
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "u.json: [1] (id a2): user a2: email `n/a` is not an email address (no @)"
    );
    let e = users(r#"[{"_id":"a1","email":"a@x.io","alternateEmail":"a\u001b@x.io"}]"#)
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .ends_with("alternateEmail `a\\u{1b}@x.io` is not an email address (it holds spaces or control characters)"),
        "{e}"
    );
    let e = users(r#"{"totalCount":1,"results":[{"email":"a@x.io"}]}"#)
        .err()
        .unwrap();
    assert_eq!(e.to_string(), "u.json: results[0]: user has no _id/id/Id");
    let e = users(r#"{"schemas":[],"Resources":[],"totalResults":0}"#)
        .err()
        .unwrap();
    assert!(e.to_string().contains("Slack SCIM listing"), "{e}");
    let e = users(r#"[{"id":"U1","userName":"x","emails":[]}]"#)
        .err()
        .unwrap();
    assert!(e.to_string().contains("Slack SCIM user array"), "{e}");
    let e = users(r#"{"totalCount":1,"results":[{"_id":"p","name":"slack","ssoUrl":"x"}]}"#)
        .err()
        .unwrap();
    assert!(e.to_string().contains("applications listing"), "{e}");
}

#[test]
fn graph_records_in_every_spelling() {
    let json = r#"[{"to":{"id":"u1","type":"user"}},{"ToId":"g2","ToType":"user_group"},
                   {"id":"u3","type":"user","paths":[]},{"to":{"id":"u4"}}]"#;
    let items: Vec<WireGraph> = serde_json::from_str(json).unwrap();
    let got: Vec<_> = items.into_iter().map(|g| g.target().unwrap()).collect();
    assert_eq!(got[0], (Some("u1".into()), Some(Target::User)));
    assert_eq!(got[1], (Some("g2".into()), Some(Target::UserGroup)));
    assert_eq!(got[2], (Some("u3".into()), Some(Target::User)));
    assert_eq!(got[3], (Some("u4".into()), None));
}

#[test]
fn id_spellings_that_disagree_in_groups_applications_and_graph_records_are_errors() {
    // Spellings that agree (or are blank) are one id.
    let ok = br#"[{"id":"g1","_id":" g1 ","Id":""}]"#;
    let snap = bundle_with(&[
        ("usergroups/skip-000000.json", &ok[..]),
        ("usergroups/g1/members/skip-000000.json", b"[]"),
        (
            "usergroups/g1/associations.application/skip-000000.json",
            br#"[{"to":{"id":"p1","type":"application"},"ToId":"p1"}]"#,
        ),
    ]);
    let root = snap.root().to_path_buf();
    let loaded = load_from(&snap, &root).unwrap();
    let groups = loaded.data.groups.unwrap();
    assert_eq!(groups[0].id, "g1");
    assert_eq!(groups[0].application_ids, ["p1"]);

    let err = |files: &[(&str, &[u8])]| {
        let snap = bundle_with(files);
        let root = snap.root().to_path_buf();
        load_from(&snap, &root).err().unwrap().to_string()
    };
    let e = err(&[(
        "usergroups/skip-000000.json",
        br#"[{"id":"g1"},{"id":"g2","_id":"g3"}]"#,
    )]);
    assert!(
        e.ends_with(
            "usergroups/skip-000000.json: [1]: `id`, `_id` and `Id` disagree (`g2` and `g3`), so which holds cannot be known"
        ),
        "{e}"
    );
    let e = err(&[(
        "applications/skip-000000.json",
        br#"{"totalCount":1,"results":[{"_id":"p1","id":"p2","name":"slack"}]}"#,
    )]);
    assert!(
        e.ends_with(
            "applications/skip-000000.json: results[0]: `_id`, `id` and `Id` disagree (`p1` and `p2`), so which holds cannot be known"
        ),
        "{e}"
    );
    let e = err(&[
        ("usergroups/skip-000000.json", br#"[{"id":"g1"}]"#),
        (
            "usergroups/g1/members/skip-000000.json",
            br#"[{"to":{"id":"u1","type":"user"},"id":"u2"}]"#,
        ),
    ]);
    assert!(
        e.ends_with(
            "members/skip-000000.json: [0]: `to.id`, `ToId`, `id` and `Id` disagree (`u1` and `u2`), so which holds cannot be known"
        ),
        "{e}"
    );
    let e = err(&[
        ("usergroups/skip-000000.json", br#"[{"id":"g1"}]"#),
        (
            "usergroups/g1/members/skip-000000.json",
            br#"[{"to":{"id":"u1","type":"user"},"type":"user_group"}]"#,
        ),
    ]);
    assert!(
        e.ends_with("[0]: `to.type`, `ToType`, `type` and `Type` disagree (`user` and `user_group`), so which holds cannot be known"),
        "{e}"
    );
}

#[test]
fn a_key_given_twice_is_an_error_naming_the_record() {
    let e = users(r#"[{"_id":"a1","email":"a@x.io","suspended":true,"suspended":false}]"#)
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "u.json: [0] (id a1): `suspended` is given more than once, so which value holds cannot be known"
    );
    // Two spellings of one field.
    let e = users(r#"{"totalCount":1,"results":[{"_id":"a1","email":"a@x.io","PasswordExpired":true,"passwordExpired":false}]}"#)
        .err()
        .unwrap();
    assert!(
        e.to_string().starts_with(
            "u.json: results[0] (id a1): `PasswordExpired/passwordExpired` is given more than once"
        ),
        "{e}"
    );
    for key in [
        "_id",
        "email",
        "state",
        "password_expired",
        "account_locked",
        "type",
    ] {
        let value = match key {
            "password_expired" | "account_locked" => "false",
            "state" => r#""ACTIVATED""#,
            "type" => r#""user""#,
            _ => r#""a2@x.io""#,
        };
        let json = format!(r#"[{{"_id":"a2","email":"a@x.io","{key}":{value},"{key}":{value}}}]"#);
        let json = json.replacen(r#""_id":"a2","#, "", usize::from(key == "_id"));
        let e = users(&json).err().unwrap().to_string();
        assert!(
            e.contains(&format!("`{key}` is given more than once")),
            "{e}"
        );
    }
    // Two pages run together.
    let e = users(
        r#"{"totalCount":2,"results":[{"_id":"a1","email":"a@x.io"}],"totalCount":1,"results":[]}"#,
    )
    .err()
    .unwrap();
    assert_eq!(
        e.to_string(),
        "u.json: top-level object: `totalCount` is given more than once, so which value holds cannot be known"
    );
    // Derived records (groups) too.
    let groups = br#"[{"id":"g1","name":"a"},{"id":"g2","name":"b","name":"c"}]"#;
    let e = parse_json::<WireGroup>(Path::new("g.json"), groups)
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "g.json: [1] (id g2): `name` is given more than once, so which value holds cannot be known"
    );
    // The aliases `_id` and `id` are fields of their own; keys the loader ignores may repeat.
    let r = users(r#"[{"_id":"a1","id":"a1","email":"a@x.io","name":"x","name":"y"}]"#).unwrap();
    assert_eq!(r.items[0].id, "a1");
}

#[test]
fn a_value_of_the_wrong_type_names_its_record() {
    let e = users(r#"{"totalCount":2,"results":[{"_id":"a1","email":"a@x.io"},{"suspended":[1],"_id":"a2"}]}"#)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.starts_with("u.json:1:") && e.ends_with(": results[1] (id a2): unexpected JSON value"),
        "{e}"
    );
}

/// A bundle snapshot with a good first page and `files` beside it.
fn bundle_with(files: &[(&str, &[u8])]) -> super::super::Snapshot {
    let mut snap = super::super::Snapshot::new("jc");
    snap.insert(
        "systemusers/skip-0000000.json",
        br#"{"totalCount":1,"results":[{"_id":"a","email":"a@x.io"}]}"#.to_vec(),
    );
    for (path, bytes) in files {
        snap.insert(path, bytes.to_vec());
    }
    snap
}

#[test]
fn a_json_page_that_is_not_json_is_named_as_such() {
    for (body, shown) in [
        (
            &b"<html><body><h1>502 Bad Gateway</h1></body></html>"[..],
            "<html><body><h1>502 Bad Gateway<…",
        ),
        (b"Unauthorized", "Unauthorized"),
        (b"null", "null"),
        (b"42", "42"),
    ] {
        let snap = bundle_with(&[("systemusers/skip-0000020.json", body)]);
        let e = load_from(&snap, Path::new("jc")).err().unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "jc/systemusers/skip-0000020.json: expected {EXPECTED}, but this is not a JSON page: it starts with `{shown}`"
            )
        );
    }
    // A file named .json is judged as JSON; other names are still told by content.
    let e = load_from(&snap_of("Unauthorized"), Path::new("u.json"))
        .err()
        .unwrap();
    assert!(e.to_string().contains("not a JSON page"), "{e}");
    let mut snap = super::super::Snapshot::new("");
    snap.insert("u.txt", b"Unauthorized".to_vec());
    let e = load_from(&snap, Path::new("u.txt")).err().unwrap();
    assert!(e.to_string().contains("no id column"), "{e}");
}

#[test]
fn a_page_without_results_says_so() {
    let e = users(r#"{"totalCount":5}"#).err().unwrap();
    assert!(
        e.to_string()
            .ends_with("but this is a v1 page without `results` (it has only totalCount)"),
        "{e}"
    );
    let e = users(r#"{"count":5}"#).err().unwrap();
    assert!(
        e.to_string()
            .ends_with("but this is a JSON object without totalCount or results"),
        "{e}"
    );
}

#[test]
fn a_bundle_without_user_pages_is_named() {
    let mut snap = super::super::Snapshot::new("jc");
    snap.insert("systemusers/.keep", Vec::new());
    let e = load_from(&snap, Path::new("jc")).err().unwrap();
    assert_eq!(
        e.to_string(),
        "jc/systemusers: no page files (an export writes at least one): the JumpCloud export holds no users"
    );
    // `systemusers` a file.
    let mut snap = super::super::Snapshot::new("jc");
    snap.insert("systemusers", b"x".to_vec());
    snap.insert("manifest.json", b"{}".to_vec());
    let e = load_from(&snap, Path::new("jc")).err().unwrap();
    assert!(
        e.to_string().starts_with("jc/systemusers: expected")
            && e.to_string().ends_with(
                "but this is a file, where a bundle has its systemusers/ folder of pages"
            ),
        "{e}"
    );
    // A manifest without systemusers/ at all.
    let mut snap = super::super::Snapshot::new("jc");
    snap.insert("manifest.json", b"{}".to_vec());
    let e = load_from(&snap, Path::new("jc")).err().unwrap();
    assert!(
        e.to_string()
            .ends_with("a bundle (it has a manifest.json) without its systemusers/ folder"),
        "{e}"
    );
    // Pages with no user in them name the folder.
    let mut snap = super::super::Snapshot::new("jc");
    snap.insert(
        "systemusers/skip-0.json",
        br#"{"totalCount":0,"results":[]}"#.to_vec(),
    );
    let e = load_from(&snap, Path::new("jc")).err().unwrap();
    assert_eq!(
        e.to_string(),
        "jc/systemusers: the JumpCloud export holds no users"
    );
}

#[test]
fn a_manifest_must_be_an_object_without_blank_app_ids() {
    let load = |manifest: &[u8]| {
        let snap = bundle_with(&[("manifest.json", manifest)]);
        let root = snap.root().to_path_buf();
        load_from(&snap, &root)
    };
    let e = load(br#"[["p1"]]"#).err().unwrap().to_string();
    assert!(
        e.ends_with(
            "manifest.json: expected a bundle manifest (a JSON object), but this is a JSON array"
        ),
        "{e}"
    );
    let e = load(br#"{"slack_app_ids":["p1",""]}"#)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.ends_with("manifest.json: slack_app_ids[1]: blank application id"),
        "{e}"
    );
    let loaded = load(br#"{"slack_app_ids":[" p1 "]}"#).unwrap();
    assert_eq!(loaded.data.manifest_slack_app_ids.unwrap(), ["p1"]);
}

#[test]
fn a_group_id_that_cannot_name_a_folder_is_refused() {
    for id in ["..", ".", "g2/../g1", "/elsewhere", "a\\b"] {
        let listing = serde_json::json!([{ "id": id }]).to_string();
        let snap = bundle_with(&[
            ("usergroups/skip-000000.json", listing.as_bytes()),
            ("usergroups/g1/members/skip-000000.json", b"[]"),
        ]);
        let root = snap.root().to_path_buf();
        let e = load_from(&snap, &root).err().unwrap().to_string();
        assert!(
            e.ends_with(&format!(
                "usergroups/skip-000000.json: [0]: group id `{id}` cannot name its folder (usergroups/<id>/)"
            )),
            "{e}"
        );
    }
}

#[test]
fn a_group_folder_the_listing_lacks_is_a_problem() {
    let snap = bundle_with(&[
        ("usergroups/skip-000000.json", br#"[{"id":"g1"}]"#),
        ("usergroups/g1/members/skip-000000.json", b"[]"),
        (
            "usergroups/g1/associations.application/skip-000000.json",
            b"[]",
        ),
        (
            "usergroups/g2/members/skip-000000.json",
            br#"[{"to":{"id":"a","type":"user"}}]"#,
        ),
        // Not a group's folder.
        ("usergroups/notes/readme.json", b"[]"),
    ]);
    let root = snap.root().to_path_buf();
    let loaded = load_from(&snap, &root).unwrap();
    assert_eq!(
        loaded.problems,
        [
            "usergroups: 1 group folder(s) are not in the usergroups listing (g2): the listing is incomplete"
        ]
    );
}
