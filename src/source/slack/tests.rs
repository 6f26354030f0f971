//! Unit tests of the Slack loader.

use super::*;

fn page(json: &str) -> Result<Kind, Error> {
    classify(Path::new("p.json"), json.as_bytes())
}

#[test]
fn ids_repeated_across_pages_are_kept_once_and_reported() {
    let mut snap = super::super::Snapshot::new("slack");
    let user = |id: &str, mail: &str| format!(r#"{{"id":"{id}","emails":[{{"value":"{mail}"}}]}}"#);
    let page = |start: u32, users: &[String]| {
        format!(
            r#"{{"totalResults":3,"startIndex":{start},"Resources":[{}]}}"#,
            users.join(",")
        )
        .into_bytes()
    };
    snap.insert(
        "start-1.json",
        page(1, &[user("U1", "a@x.io"), user("U2", "b@x.io")]),
    );
    snap.insert("start-3.json", page(3, &[user("U2", "b@x.io")]));
    let root = snap.root().to_path_buf();
    let loaded = load_from(&snap, &[root]).unwrap();
    let ids: Vec<&str> = loaded.data.users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["U1", "U2"]);
    assert!(
        loaded
            .problems
            .iter()
            .any(|p| p.contains("1 user id(s) appear more than once (U2)")),
        "{:?}",
        loaded.problems
    );
}

#[test]
fn emails_keep_the_first_primary_first_and_drop_repeats() {
    let json = r#"[{"id":"U1","emails":[{"value":"b@x.io"},{"value":"A@x.io","primary":true},
        {"value":"a@X.io","primary":true},null,{"value":" "},{"value":"c@x.io","primary":true}]}]"#;
    let Kind::Array(users, _) = page(json).unwrap() else {
        panic!("an array")
    };
    let emails: Vec<&str> = users[0].emails.iter().map(Email::as_str).collect();
    assert_eq!(emails, ["a@x.io", "b@x.io", "c@x.io"]);
}

#[test]
fn v1_and_v2_pages_in_any_key_order() {
    let v1 = r#"{"totalResults":2,"itemsPerPage":2,"startIndex":1,"schemas":["urn:scim:schemas:core:1.0"],
        "Resources":[{"id":"U1","active":true,"emails":[{"value":"","primary":false},{"value":"A@X.io","primary":true}]},
                     {"id":"U2","active":false,"emails":[{"value":"b@x.io"}],"externalId":""}]}"#;
    let Kind::Page(p) = page(v1).unwrap() else {
        panic!()
    };
    assert_eq!(p.version, Some(ScimVersion::V1));
    assert_eq!(p.users[0].primary_email().as_str(), "a@x.io");
    assert_eq!(p.users[1].external_id, None);
    let v2 = r#"{"Resources":[{"id":"W1","emails":[{"value":"w@x.io","primary":false},{"value":"p@x.io","primary":true}],
        "meta":{"created":"2019-07-24T00:55:02-07:00"}}],
        "schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"startIndex":1}"#;
    let Kind::Page(p) = page(v2).unwrap() else {
        panic!()
    };
    assert_eq!(p.version, Some(ScimVersion::V2));
    let emails: Vec<&str> = p.users[0].emails.iter().map(Email::as_str).collect();
    assert_eq!(emails, vec!["p@x.io", "w@x.io"]);
    assert!(p.users[0].active);
    assert!(p.users[0].created.is_some());
}

#[test]
fn wrong_kinds_are_named() {
    let e = page(r#"{"totalCount":1,"results":[{"_id":"a","email":"a@x.io"}]}"#)
        .err()
        .unwrap();
    assert!(e.to_string().contains("JumpCloud v1 page"), "{e}");
    assert!(matches!(
        page(r#"{"totalResults":1,"Resources":[{"id":"S1","displayName":"g","members":[]}]}"#),
        Ok(Kind::Other(_))
    ));
    let e = page(r#"[{"_id":"a","email":"a@x.io"}]"#).err().unwrap();
    assert!(e.to_string().contains("JumpCloud users export"), "{e}");
    let e = page("id,email\n").err().unwrap();
    assert!(
        e.to_string()
            .ends_with("but this is not a JSON page: it starts with `id,email`"),
        "{e}"
    );
}

#[test]
fn records_without_id_or_email_are_named() {
    let e = page(r#"{"totalResults":2,"Resources":[{"id":"U1","emails":[{"value":"a@x.io"}]},{"id":"U2","emails":[{"value":""}]}]}"#)
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "p.json: Resources[1] (id U2): user U2 has no email"
    );
    let e = page(r#"[{"userName":"x","emails":[{"value":"a@x.io"}]}]"#)
        .err()
        .unwrap();
    assert_eq!(e.to_string(), "p.json: [0]: user has no id");
}

fn p(start: u64, total: u64, ids: &[&str]) -> Page {
    Page {
        path: PathBuf::from(format!("start-{start}.json")),
        start_index: Some(start),
        total_results: Some(total),
        version: Some(ScimVersion::V2),
        users: ids
            .iter()
            .map(|id| SlackUser {
                id: (*id).into(),
                external_id: None,
                user_name: None,
                active: true,
                emails: vec![Email::parse(&format!("{id}@x.io")).unwrap()],
                created: None,
                guest: false,
            })
            .collect(),
    }
}

#[test]
fn complete_pages_with_trailing_empty_page() {
    let (users, total, problems) = check_pages(vec![
        p(3, 4, &["c", "d"]),
        p(1, 4, &["a", "b"]),
        p(5, 4, &[]),
    ]);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(total, Some(4));
    assert_eq!(users.len(), 4);
    assert_eq!(users[0].id, "a");
}

#[test]
fn gaps_overlaps_and_short_sets_are_problems() {
    let (_, _, problems) = check_pages(vec![p(1, 6, &["a", "b"]), p(5, 6, &["e", "f"])]);
    assert_eq!(
        problems,
        vec!["users 3–4 missing (the next page, start-5.json, starts at 5)"]
    );
    let (_, _, problems) = check_pages(vec![p(1, 3, &["a", "b"]), p(2, 3, &["b", "c"])]);
    assert!(problems[0].contains("overlaps"), "{problems:?}");
    let (_, _, problems) = check_pages(vec![p(1, 5, &["a", "b"])]);
    assert_eq!(
        problems,
        vec!["users 3–5 missing: the pages hold 2 of totalResults 5"]
    );
    let (_, _, problems) = check_pages(vec![p(1, 2, &["a", "b"]), p(3, 3, &["c"])]);
    assert!(problems[0].contains("totalResults differs"), "{problems:?}");
}

#[test]
fn guests_are_recognised_by_their_extension_or_schema() {
    let users = [
        // v2: the extension key and its schema URN.
        r#"{"id":"W1","emails":[{"value":"a@x.io"}],"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User"],"urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User":{"type":"multi"}}"#,
        // v1: the extension key alone.
        r#"{"id":"W2","emails":[{"value":"b@x.io"}],"urn:scim:schemas:extension:slack:guest:1.0":{"type":"multi"}}"#,
        // A member with the enterprise extension.
        r#"{"id":"W3","emails":[{"value":"c@x.io"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{}}"#,
    ];
    let json = format!(
        r#"{{"totalResults":3,"startIndex":1,"Resources":[{}]}}"#,
        users.join(",")
    );
    let Ok(Kind::Page(p)) = page(&json) else {
        panic!("not a page")
    };
    let guests: Vec<bool> = p.users.iter().map(|u| u.guest).collect();
    assert_eq!(guests, [true, true, false]);
}

/// A user resource with id `id`.
fn user(id: &str) -> String {
    format!(r#"{{"id":"{id}","userName":"{id}","emails":[{{"value":"{id}@x.io"}}]}}"#)
}

#[test]
fn a_key_given_twice_is_an_error_naming_the_record() {
    let two = format!("{},{}", user("W1"), user("W2"));
    // Two pages run together must not read as the second one.
    let joined = format!(
        r#"{{"totalResults":2,"Resources":[{two}],"totalResults":1,"Resources":[{}]}}"#,
        user("W1")
    );
    assert_eq!(
        page(&joined).err().unwrap().to_string(),
        "p.json: top-level object: `totalResults` is given more than once, so which value holds cannot be known"
    );
    for (json, key) in [
        (
            format!(r#"{{"Resources":[{two}],"resources":[]}}"#),
            "resources",
        ),
        (
            format!(r#"{{"startIndex":1,"Resources":[{two}],"startIndex":3}}"#),
            "startIndex",
        ),
        (
            format!(r#"{{"itemsPerPage":2,"itemsPerPage":1,"Resources":[{two}]}}"#),
            "itemsPerPage",
        ),
        (
            format!(r#"{{"schemas":[],"Resources":[{two}],"schemas":[]}}"#),
            "schemas",
        ),
    ] {
        let e = page(&json).err().unwrap().to_string();
        assert!(
            e.starts_with(&format!(
                "p.json: top-level object: `{key}` is given more than once"
            )),
            "{e}"
        );
    }
    // In a record: the record is named, with its id.
    let twice = r#"{"id":"W2","active":true,"emails":[{"value":"b@x.io"}],"active":false}"#;
    let e = page(&format!(
        r#"{{"totalResults":2,"Resources":[{},{twice}]}}"#,
        user("W1")
    ))
    .err()
    .unwrap();
    assert_eq!(
        e.to_string(),
        "p.json: Resources[1] (id W2): `active` is given more than once, so which value holds cannot be known"
    );
    for key in ["id", "externalId", "userName", "emails", "meta", "schemas"] {
        let value = match key {
            "emails" => r#"[{"value":"c@x.io"}]"#,
            "meta" => "{}",
            "schemas" => "[]",
            _ => r#""x""#,
        };
        let json = format!(
            r#"[{{"id":"W3","{key}":{value},"emails":[{{"value":"c@x.io"}}],"{key}":{value}}}]"#
        );
        let e = page(&json).err().unwrap().to_string();
        assert!(
            e.starts_with(&format!(
                "p.json: [0] (id W3): `{key}` is given more than once"
            )),
            "{e}"
        );
    }
    // Derived types too (an email entry).
    let e = page(r#"[{"id":"W1","emails":[{"value":"a@x.io","value":"b@x.io"}]}]"#)
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .starts_with("p.json: [0] (id W1): `value` is given more than once"),
        "{e}"
    );
    // The same in one User (`GET /Users/{id}`).
    let e = parse_user(Path::new("W1"), twice.as_bytes()).err().unwrap();
    assert!(
        e.to_string()
            .starts_with("W1: top-level object: `active` is given more than once"),
        "{e}"
    );
    // Keys the loader does not read may repeat.
    let json = r#"[{"id":"W1","title":"a","emails":[{"value":"a@x.io"}],"title":"b","groups":[],"groups":[1]}]"#;
    assert!(matches!(page(json), Ok(Kind::Array(users, _)) if users.len() == 1));
}

#[test]
fn a_value_of_the_wrong_type_names_its_record() {
    let bad = r#"{"active":"maybe","id":"W2","emails":[{"value":"b@x.io"}]}"#;
    let e = page(&format!(
        r#"{{"totalResults":2,"Resources":[{},{bad}]}}"#,
        user("W1")
    ))
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.starts_with("p.json:1:") && e.ends_with(": Resources[1] (id W2): unexpected JSON value"),
        "{e}"
    );
    // Outside any record, line and column alone.
    let e = page(r#"{"totalResults":"many","Resources":[]}"#)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(e, "p.json:1:22: unexpected JSON value");
}

#[test]
fn a_blank_id_is_not_printed() {
    let e = page(r#"[{"id":" ","emails":[{"value":"a@x.io"}]}]"#)
        .err()
        .unwrap();
    assert_eq!(e.to_string(), "p.json: [0]: user has no id");
}

#[test]
fn groups_are_told_by_their_schemas_not_by_a_stray_members_key() {
    // A user record carrying `members` is still a user, and so is its page.
    let odd = r#"{"id":"W2","userName":"w2","members":[],"emails":[{"value":"b@x.io"}]}"#;
    let Ok(Kind::Page(p)) = page(&format!(
        r#"{{"totalResults":2,"Resources":[{},{odd}]}}"#,
        user("W1")
    )) else {
        panic!("a page of users")
    };
    assert_eq!(p.users.len(), 2);
    // v2 Groups by their schema (members or not); v1 Groups by members and displayName.
    for groups in [
        r#"{"totalResults":1,"Resources":[{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"S1","displayName":"eng"}]}"#,
        r#"[{"schemas":["urn:scim:schemas:core:1.0"],"id":"S1","displayName":"eng","members":[{"value":"W1"}]}]"#,
    ] {
        assert!(matches!(page(groups), Ok(Kind::Other(_))), "{groups}");
    }
    // A Group among users: neither listing, so an error rather than a page skipped.
    let group = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"S1","displayName":"eng","members":[]}"#;
    let e = page(&format!(
        r#"{{"totalResults":2,"Resources":[{},{group}]}}"#,
        user("W1")
    ))
    .err()
    .unwrap();
    assert_eq!(
        e.to_string(),
        "p.json: Resources[1] (id S1): a SCIM Group among User resources (such as Resources[0]): neither a /Users nor a /Groups listing"
    );
}

#[test]
fn a_file_given_twice_is_named() {
    let mut snap = super::super::Snapshot::new("slack");
    let body = format!(
        r#"{{"totalResults":1,"startIndex":1,"Resources":[{}]}}"#,
        user("W1")
    );
    snap.insert("p1.json", body.into_bytes());
    let root = snap.root().to_path_buf();
    let e = load_from(&snap, &[root.clone(), root.join("p1.json")])
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "slack/p1.json: this file is given twice, once through its directory: its users would be read twice"
    );
    let e = load_from(&snap, &[root.join("p1.json"), root.join("p1.json")])
        .err()
        .unwrap();
    assert!(e.to_string().contains("given twice: its users"), "{e}");
}

#[test]
fn paths_to_one_file_are_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        r#"{{"totalResults":1,"startIndex":1,"Resources":[{}]}}"#,
        user("W1")
    );
    std::fs::create_dir(dir.path().join("s")).unwrap();
    std::fs::write(dir.path().join("s/p1.json"), body).unwrap();
    let other = dir.path().join("s/../s/./p1.json");
    let e = load(&[dir.path().join("s"), other.clone()]).err().unwrap();
    assert!(
        e.to_string().starts_with(&format!(
            "{}: this file is given twice, once through its directory (also as {})",
            other.display(),
            dir.path().join("s/p1.json").display()
        )),
        "{e}"
    );
}
