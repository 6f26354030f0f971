//! Bad and incomplete input: exit 2, one clear message naming the file (and record), nothing on
//! stdout; `--allow-incomplete` turns incompleteness into a report marked incomplete.

use serde_json::json;

use crate::common::{Run, run_in, tree};
use crate::org::{jc, jc_v1_pages, sl, slack_pages};

fn good_jc() -> String {
    jc_v1_pages(&[jc("a1", "a@x.io"), jc("a2", "b@x.io")], 100)
        .remove(0)
        .1
}

fn good_slack() -> String {
    slack_pages(&[sl("U1", "a@x.io", true, "a1")], 100, true)
        .remove(0)
        .1
}

/// Runs `audit` in a tree holding `files`, with `jumpcloud` and `slack` relative to it.
fn audit(files: &[(&str, &str)], jumpcloud: &str, slack: &[&str], extra: &[&str]) -> Run {
    let dir = tree(files);
    let mut args = vec!["audit", "--jumpcloud", jumpcloud];
    for s in slack {
        args.extend(["--slack", s]);
    }
    args.extend_from_slice(extra);
    run_in(Some(dir.path()), &args)
}

fn assert_fails(r: &Run, needle: &str) {
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.is_empty(), "nothing on stdout: {r:?}");
    assert!(r.stderr.starts_with("error: "), "{r:?}");
    assert!(r.stderr.contains(needle), "want {needle:?} in {r:?}");
}

#[test]
fn malformed_json_names_file_line_and_column() {
    let jc = good_jc();
    let r = audit(
        &[
            ("jc.json", &jc),
            ("s.json", "{\n  \"Resources\": [\n    {\"id\": \"U1\",,}\n"),
        ],
        "jc.json",
        &["s.json"],
        &[],
    );
    assert_fails(&r, "error: s.json:3:17: malformed JSON");
    let r = audit(
        &[
            (
                "jc.json",
                "[{\"_id\": \"a1\", \"email\": \"a@x.io\", \"suspended\": \"maybe\"}]",
            ),
            ("s.json", &good_slack()),
        ],
        "jc.json",
        &["s.json"],
        &[],
    );
    assert_fails(&r, "jc.json:1:54: [0] (id a1): unexpected JSON value");
}

#[test]
fn documents_of_the_wrong_kind() {
    let jc = good_jc();
    let slack = good_slack();
    let groups = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 1,
        "Resources": [{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "S1",
                       "displayName": "eng", "members": []}]})
    .to_string();
    let r = audit(
        &[("jc.json", &jc), ("g.json", &groups)],
        "jc.json",
        &["g.json"],
        &[],
    );
    assert_fails(&r, "g.json: expected a Slack SCIM /Users listing");
    assert!(
        r.stderr.contains("but this is a SCIM /Groups listing"),
        "{r:?}"
    );

    let empty = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                       "totalResults": 0, "Resources": [], "startIndex": 1, "itemsPerPage": 0})
    .to_string();
    let r = audit(
        &[("jc.json", &jc), ("e.json", &empty)],
        "jc.json",
        &["e.json"],
        &[],
    );
    assert_fails(&r, "e.json: the Slack listing is empty");
    let r = audit(
        &[("jc.json", &jc), ("e.json", "[]")],
        "jc.json",
        &["e.json"],
        &[],
    );
    assert_fails(&r, "e.json: the Slack listing is empty");

    let r = audit(&[("jc.json", &jc)], "jc.json", &["jc.json"], &[]);
    assert_fails(&r, "but this is a JumpCloud v1 page");
    let r = audit(&[("s.json", &slack)], "s.json", &["s.json"], &[]);
    assert_fails(&r, "s.json: expected a JumpCloud export");
    assert!(r.stderr.contains("Slack SCIM listing"), "{r:?}");
    let r = audit(
        &[("jc.json", &jc), ("s.csv", "id,email\nU1,a@x.io\n")],
        "jc.json",
        &["s.csv"],
        &[],
    );
    assert_fails(&r, "s.csv: expected a Slack SCIM /Users listing");
}

#[test]
fn records_without_id_or_email_are_named() {
    let jc = good_jc();
    let no_email = json!({"totalResults": 2, "startIndex": 1, "Resources": [
        {"id": "U1", "emails": [{"value": "a@x.io", "primary": true}]},
        {"id": "U2", "emails": [{"value": "", "primary": true}, null]}]})
    .to_string();
    let r = audit(
        &[("jc.json", &jc), ("s.json", &no_email)],
        "jc.json",
        &["s.json"],
        &[],
    );
    assert_fails(
        &r,
        "error: s.json: Resources[1] (id U2): user U2 has no email",
    );

    let slack = good_slack();
    let no_id = json!({"totalCount": 2, "results": [{"_id": "a1", "email": "a@x.io"}, {"email": "b@x.io"}]})
        .to_string();
    let r = audit(
        &[("jc.json", &no_id), ("s.json", &slack)],
        "jc.json",
        &["s.json"],
        &[],
    );
    assert_fails(&r, "error: jc.json: results[1]: user has no _id/id/Id");
    let r = audit(
        &[
            ("u.csv", "_id,email\na1,a@x.io\n,b@x.io\n"),
            ("s.json", &slack),
        ],
        "u.csv",
        &["s.json"],
        &[],
    );
    assert_fails(&r, "error: u.csv: line 3: user has no _id/id/Id");
}

#[test]
fn unreadable_paths_and_csv_without_email() {
    let slack = good_slack();
    let r = audit(&[("s.json", &slack)], "nope.json", &["s.json"], &[]);
    assert_fails(&r, "error: cannot read nope.json");
    assert!(r.stderr.contains("caused by: No such file"), "{r:?}");
    let r = audit(
        &[("u.csv", "Id,Name\na1,Alice\n"), ("s.json", &slack)],
        "u.csv",
        &["s.json"],
        &[],
    );
    assert_fails(&r, "u.csv: no email column in the CSV header");
    let r = audit(
        &[("jc.json", &good_jc()), ("empty/x.txt", "")],
        "jc.json",
        &["empty"],
        &[],
    );
    assert_fails(&r, "a directory without .json files");
}

#[test]
fn incomplete_slack_listings_exit_2_or_report_incomplete() {
    let jc = good_jc();
    let users: Vec<_> = (0..6)
        .map(|i| {
            let id: &'static str = Box::leak(format!("U{i}").into_boxed_str());
            let email: &'static str = Box::leak(format!("u{i}@x.io").into_boxed_str());
            sl(id, email, true, "")
        })
        .collect();
    let pages = slack_pages(&users, 2, true);
    // Drop the middle page: users 3–4 missing.
    let gap: Vec<(String, &str)> = [&pages[0], &pages[2], &pages[3]]
        .iter()
        .map(|(n, c)| (format!("slack/{n}"), c.as_str()))
        .chain([("jc.json".to_owned(), jc.as_str())])
        .collect();
    let gap: Vec<(&str, &str)> = gap.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let dir = tree(&gap);
    let r = run_in(
        Some(dir.path()),
        &["audit", "--jumpcloud", "jc.json", "--slack", "slack"],
    );
    assert_fails(&r, "Slack listing is incomplete: users 3–4 missing");
    assert!(r.stderr.contains("--allow-incomplete"), "{r:?}");
    let r = run_in(
        Some(dir.path()),
        &[
            "audit",
            "--jumpcloud",
            "jc.json",
            "--slack",
            "slack",
            "--allow-incomplete",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.json()["complete"], false);
    assert!(
        r.json()["notices"][0]
            .as_str()
            .unwrap()
            .starts_with("incomplete Slack listing: users 3–4 missing")
    );
    let r = run_in(
        Some(dir.path()),
        &[
            "audit",
            "--jumpcloud",
            "jc.json",
            "--slack",
            "slack",
            "--allow-incomplete",
        ],
    );
    assert!(r.stdout.contains("WARNING: incomplete inputs"), "{r:?}");
    assert!(r.stderr.contains("INCOMPLETE"), "{r:?}");

    // The last pages missing: short of totalResults.
    let r = audit(
        &[("jc.json", &jc), ("p1.json", &pages[0].1)],
        "jc.json",
        &["p1.json"],
        &[],
    );
    assert_fails(&r, "users 3–6 missing: the pages hold 2 of totalResults 6");

    // totalResults moved while paging, and a user seen twice.
    let moved = pages[1]
        .1
        .replace("\"totalResults\":6", "\"totalResults\":7");
    let r = audit(
        &[
            ("jc.json", &jc),
            ("a.json", &pages[0].1),
            ("b.json", &moved),
            ("c.json", &pages[2].1),
        ],
        "jc.json",
        &["a.json", "b.json", "c.json"],
        &[],
    );
    assert_fails(&r, "totalResults differs between pages (6, 7)");
    let overlap = pages[1].1.replace("\"startIndex\":3", "\"startIndex\":2");
    let r = audit(
        &[
            ("jc.json", &jc),
            ("a.json", &pages[0].1),
            ("b.json", &overlap),
            ("c.json", &pages[2].1),
        ],
        "jc.json",
        &["a.json", "b.json", "c.json"],
        &[],
    );
    assert_fails(&r, "b.json (startIndex 2) overlaps the page before it");

    let v1 = slack_pages(&users, 2, false);
    let r = audit(
        &[
            ("jc.json", &jc),
            ("a.json", &pages[0].1),
            ("b.json", &v1[1].1),
            ("c.json", &pages[2].1),
        ],
        "jc.json",
        &["a.json", "b.json", "c.json"],
        &[],
    );
    assert_fails(&r, "SCIM v1 page mixed with SCIM v2 page");
}

#[test]
fn incomplete_jumpcloud_exports() {
    let slack = good_slack();
    let users: Vec<_> = (0..5)
        .map(|i| {
            let id: &'static str = Box::leak(format!("a{i}").into_boxed_str());
            let email: &'static str = Box::leak(format!("u{i}@x.io").into_boxed_str());
            jc(id, email)
        })
        .collect();
    let pages = jc_v1_pages(&users, 2);
    let r = audit(
        &[
            ("s.json", &slack),
            ("jc/systemusers/a.json", &pages[0].1),
            ("jc/systemusers/c.json", &pages[2].1),
        ],
        "jc",
        &["s.json"],
        &[],
    );
    assert_fails(
        &r,
        "JumpCloud export is incomplete: systemusers: the pages hold 3 of totalCount 5 (2 missing)",
    );

    let r = audit(
        &[("s.json", &slack), ("one.json", &pages[0].1)],
        "one.json",
        &["s.json"],
        &[],
    );
    assert_fails(&r, "the pages hold 2 of totalCount 5");

    // A group listed without its members/ folder.
    let mut files: Vec<(String, String)> = pages
        .iter()
        .map(|(n, c)| (format!("jc/systemusers/{n}"), c.clone()))
        .collect();
    files.push((
        "jc/usergroups/skip-0.json".into(),
        json!([{"id": "g1", "name": "Slack"}, {"id": "g2", "name": "Other"}]).to_string(),
    ));
    files.push(("jc/usergroups/g1/members/skip-0.json".into(), "[]".into()));
    files.push((
        "jc/usergroups/g1/associations.application/skip-0.json".into(),
        "[]".into(),
    ));
    files.push((
        "jc/usergroups/g2/associations.application/skip-0.json".into(),
        "[]".into(),
    ));
    files.push(("s.json".into(), slack.clone()));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let r = audit(&refs, "jc", &["s.json"], &[]);
    assert_fails(&r, "usergroups: 1 group(s) have no members/ folder (g2)");
    let r = audit(
        &refs,
        "jc",
        &["s.json"],
        &["--allow-incomplete", "--format", "json"],
    );
    assert_eq!(r.json()["complete"], false, "{r:?}");
}

/// A small bundle: two users, one group bound to the Slack connector, with `members` as given.
fn bundle(members: Option<&str>, groups: &str) -> Vec<(String, String)> {
    let mut files = vec![
        ("jc/systemusers/skip-0.json".to_owned(), good_jc()),
        ("jc/usergroups/skip-0.json".to_owned(), groups.to_owned()),
        (
            "jc/usergroups/g1/associations.application/skip-0.json".to_owned(),
            json!([{"to": {"id": "app1", "type": "application"}}]).to_string(),
        ),
        (
            "jc/applications/skip-0.json".to_owned(),
            json!({"totalCount": 1, "results": [{"_id": "app1", "name": "slack", "displayLabel": "Slack"}]})
                .to_string(),
        ),
        ("s.json".to_owned(), good_slack()),
    ];
    if let Some(members) = members {
        files.push((
            "jc/usergroups/g1/members/skip-0.json".to_owned(),
            members.to_owned(),
        ));
    } else {
        // The folder exists, with no page in it.
        files.push(("jc/usergroups/g1/members/.keep".to_owned(), String::new()));
    }
    files
}

fn audit_files(files: &[(String, String)], extra: &[&str]) -> Run {
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    audit(&refs, "jc", &["s.json"], extra)
}

#[test]
fn missing_listings_never_look_empty() {
    let one_group = json!([{"id": "g1", "name": "Slack"}]).to_string();
    // A members folder without a page: members would all look unentitled.
    let r = audit_files(&bundle(None, &one_group), &[]);
    assert_fails(
        &r,
        "usergroups/g1/members: no page files (an export writes at least the closing empty page)",
    );
    // A nested group the usergroups listing does not hold.
    let members =
        json!([{"to": {"id": "a1", "type": "user"}}, {"to": {"id": "g9", "type": "user_group"}}])
            .to_string();
    let r = audit_files(&bundle(Some(&members), &one_group), &[]);
    assert_fails(
        &r,
        "1 nested group(s) are members of a group but not in the usergroups listing (g9)",
    );
    // The complete bundle is fine.
    let members = json!([{"to": {"id": "a1", "type": "user"}}]).to_string();
    let r = audit_files(&bundle(Some(&members), &one_group), &["--format", "json"]);
    assert_eq!(r.json()["complete"], true, "{r:?}");
}

#[test]
fn id_spellings_that_disagree_outside_user_records_are_refused() {
    let one_group = json!([{"id": "g1", "name": "Slack"}]).to_string();
    let members = json!([{"to": {"id": "a1", "type": "user"}}]).to_string();
    // A group whose `id` and `_id` name two groups.
    let groups = json!([{"id": "g1", "_id": "g2", "name": "Slack"}]).to_string();
    let r = audit_files(&bundle(Some(&members), &groups), &[]);
    assert_fails(
        &r,
        "usergroups/skip-0.json: [0]: `id`, `_id` and `Id` disagree (`g1` and `g2`)",
    );
    // An application whose `_id` and `id` differ: which is the Slack connector?
    let mut files = bundle(Some(&members), &one_group);
    files.retain(|(n, _)| n != "jc/applications/skip-0.json");
    files.push((
        "jc/applications/skip-0.json".to_owned(),
        json!({"totalCount": 1, "results": [{"_id": "app1", "id": "app9", "name": "slack"}]})
            .to_string(),
    ));
    let r = audit_files(&files, &[]);
    assert_fails(
        &r,
        "applications/skip-0.json: results[0]: `_id`, `id` and `Id` disagree (`app1` and `app9`)",
    );
    // A graph record naming two targets.
    let members = json!([{"to": {"id": "a1", "type": "user"}, "ToId": "a2"}]).to_string();
    let r = audit_files(&bundle(Some(&members), &one_group), &[]);
    assert_fails(
        &r,
        "members/skip-0.json: [0]: `to.id`, `ToId`, `id` and `Id` disagree (`a1` and `a2`)",
    );
}

#[test]
fn blank_slack_app_ids_are_refused() {
    let one_group = json!([{"id": "g1", "name": "Slack"}]).to_string();
    let members = json!([{"to": {"id": "a1", "type": "user"}}]).to_string();
    // In the config: the blank id replaced connector detection, and entitlement went unjudged.
    let mut files = bundle(Some(&members), &one_group);
    files.push((
        "scimdrift.toml".to_owned(),
        "slack_app_ids = [\"\"]\n".to_owned(),
    ));
    let r = audit_files(&files, &["--config", "scimdrift.toml"]);
    assert_fails(&r, "scimdrift.toml: slack_app_ids: entry 1 is blank");
    // In a bundle's manifest.
    let mut files = bundle(Some(&members), &one_group);
    files.push((
        "jc/manifest.json".to_owned(),
        json!({"slack_app_ids": ["app1", " "]}).to_string(),
    ));
    let r = audit_files(&files, &[]);
    assert_fails(&r, "manifest.json: slack_app_ids[1]: blank application id");
    // A manifest that is not an object was read field by field.
    let mut files = bundle(Some(&members), &one_group);
    files.push(("jc/manifest.json".to_owned(), r#"[["app9"]]"#.to_owned()));
    let r = audit_files(&files, &[]);
    assert_fails(
        &r,
        "manifest.json: expected a bundle manifest (a JSON object), but this is a JSON array",
    );
}

#[test]
fn a_group_id_that_is_not_a_folder_name_is_refused() {
    // `g1/../g1` led the reader into g1's folders: a second group with g1's members.
    let members = json!([{"to": {"id": "a1", "type": "user"}}]).to_string();
    let groups =
        json!([{"id": "g1", "name": "Slack"}, {"id": "g1/../g1", "name": "Copy"}]).to_string();
    let r = audit_files(&bundle(Some(&members), &groups), &[]);
    assert_fails(
        &r,
        "usergroups/skip-0.json: [1]: group id `g1/../g1` cannot name its folder (usergroups/<id>/)",
    );
}

#[test]
fn a_group_folder_missing_from_the_listing_is_incomplete() {
    // g2's record lost from the v2 listing (no count says so): its members would look
    // unentitled, yet the report said complete.
    let mut files = one_group_bundle();
    files.push((
        "jc/usergroups/g2/members/skip-0.json".to_owned(),
        json!([{"to": {"id": "a2", "type": "user"}}]).to_string(),
    ));
    files.push((
        "jc/usergroups/g2/associations.application/skip-0.json".to_owned(),
        json!([{"to": {"id": "app1", "type": "application"}}]).to_string(),
    ));
    assert_incomplete(
        &files,
        "usergroups: 1 group folder(s) are not in the usergroups listing (g2): the listing is incomplete",
    );
}

/// The demo-like bundle of [`bundle`] with one group, g1, of one member.
fn one_group_bundle() -> Vec<(String, String)> {
    let members = json!([{"to": {"id": "a1", "type": "user"}}]).to_string();
    bundle(
        Some(&members),
        &json!([{"id": "g1", "name": "Slack"}]).to_string(),
    )
}

/// `files` fail the audit saying `problem`, and with `--allow-incomplete` make a report marked
/// incomplete.
fn assert_incomplete(files: &[(String, String)], problem: &str) {
    assert_fails(&audit_files(files, &[]), problem);
    let r = audit_files(files, &["--allow-incomplete", "--format", "json"]);
    assert_eq!(r.json()["complete"], false, "{r:?}");
}

#[test]
fn an_application_folder_missing_from_the_listing_is_incomplete() {
    // app2's record lost from the applications listing (its totalCount lost with it): were it a
    // Slack connector, the users assigned to it directly would look unentitled.
    let mut files = one_group_bundle();
    files.push((
        "jc/applications/app2/users/skip-0.json".to_owned(),
        json!([{"to": {"id": "a2", "type": "user"}}]).to_string(),
    ));
    assert_incomplete(
        &files,
        "applications: 1 application folder(s) are not in the applications listing (app2): the listing is incomplete",
    );
    // Without an applications listing at all (the manifest names the connector), the folders
    // are the input, not a listing's remains.
    files.retain(|(name, _)| name != "jc/applications/skip-0.json");
    files.push((
        "jc/manifest.json".to_owned(),
        json!({"slack_app_ids": ["app1"]}).to_string(),
    ));
    files.push((
        "jc/applications/app1/users/skip-0.json".to_owned(),
        "[]".to_owned(),
    ));
    let r = audit_files(&files, &["--format", "json"]);
    assert_eq!(r.json()["complete"], true, "{r:?}");
}

#[test]
fn jumpcloud_users_that_cannot_be_judged() {
    let slack = good_slack();
    let run = |jc: &str| {
        audit(
            &[("jc.json", jc), ("s.json", &slack)],
            "jc.json",
            &["s.json"],
            &[],
        )
    };
    // No users at all: every Slack account would be unknown.
    assert_fails(&run("[]"), "jc.json: the JumpCloud export holds no users");
    let r = audit(
        &[("jc.csv", "_id,email\n"), ("s.json", &slack)],
        "jc.csv",
        &["s.json"],
        &[],
    );
    assert_fails(&r, "jc.csv: the JumpCloud export holds no users");
    // A v1 page that does not say how many there are.
    assert_fails(
        &run(&json!({"results": [{"_id": "a1", "email": "a@x.io"}]}).to_string()),
        "systemusers: no page carries totalCount",
    );
    // The same id twice, once suspended: which record is right cannot be known.
    assert_fails(
        &run(&json!([{"_id": "a1", "email": "a@x.io", "suspended": true}, {"_id": "a1", "email": "a@x.io"}]).to_string()),
        "1 id(s) appear more than once with different records (a1)",
    );
    // A state JumpCloud does not have.
    assert_fails(
        &run(&json!([{"_id": "a1", "email": "a@x.io", "state": "DISABLED"}]).to_string()),
        "jc.json: [0] (id a1): user a1 has state \"DISABLED\"",
    );
    // A user-groups listing given as users.
    assert_fails(
        &run(&json!([{"id": "g1", "type": "user_group", "email": "all@x.io"}]).to_string()),
        "but this is a JumpCloud user-groups listing",
    );
    // Windows PowerShell 5 writes `ConvertTo-Json > users.json` as UTF-16.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("[]".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let dir = tree(&[("s.json", &slack), ("jc-ok.json", &good_jc())]);
    std::fs::write(dir.path().join("jc.json"), &utf16).unwrap();
    std::fs::write(dir.path().join("s16.json"), &utf16).unwrap();
    for (jc, sl, bad) in [
        ("jc.json", "s.json", "jc.json"),
        ("jc-ok.json", "s16.json", "s16.json"),
    ] {
        let r = run_in(
            Some(dir.path()),
            &["audit", "--jumpcloud", jc, "--slack", sl],
        );
        assert_fails(&r, &format!("error: {bad}: expected"));
        assert_fails(&r, "but this is a UTF-16 text file (save it as UTF-8");
    }
    // JumpCloud's own Slack mapping spells it passwordExpired.
    let r = audit(
        &[
            (
                "jc.json",
                &json!([{"_id": "a1", "email": "a@x.io", "passwordExpired": true}]).to_string(),
            ),
            ("s.json", &slack),
        ],
        "jc.json",
        &["s.json"],
        &["--format", "json"],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        r.json()["findings"][0]["reason"],
        "password-expired",
        "{r:?}"
    );
}

/// `n` people, each in JumpCloud (`a1`…) and in Slack (`W1`…, linked by `externalId`).
fn people(n: usize) -> (Vec<crate::org::Jc>, Vec<crate::org::Sl>) {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    (1..=n)
        .map(|i| {
            let email = leak(format!("u{i}@x.io"));
            let jc_id = leak(format!("a{i}"));
            (
                jc(jc_id, email),
                sl(leak(format!("W{i}")), email, true, jc_id),
            )
        })
        .unzip()
}

#[test]
fn keys_given_twice_are_errors_not_a_silent_choice() {
    let (jcs, sls) = people(46);
    let jc = jc_v1_pages(&jcs, 100).remove(0).1;
    // Two pages run together: read as the second (20 of 20) it would pass as complete.
    let all = slack_pages(&sls, 100, true).remove(0).1;
    let first20 = slack_pages(&sls[..20], 100, true).remove(0).1;
    let joined = format!(
        "{},{}",
        all.strip_suffix('}').unwrap(),
        first20.strip_prefix('{').unwrap()
    );
    let r = audit(
        &[("jc.json", &jc), ("s.json", &joined)],
        "jc.json",
        &["s.json"],
        &[],
    );
    assert_fails(
        &r,
        "error: s.json: top-level object: `Resources` is given more than once, so which value holds cannot be known",
    );
    // In a user record: the record is named.
    let twice = all.replacen(r#""active":true,"#, r#""active":true,"active":false,"#, 1);
    let r = audit(
        &[("jc.json", &jc), ("s.json", &twice)],
        "jc.json",
        &["s.json"],
        &[],
    );
    assert_fails(
        &r,
        "error: s.json: Resources[0] (id W1): `active` is given more than once",
    );
    let slack = good_slack();
    let r = audit(
        &[
            (
                "jc.json",
                r#"[{"_id":"a1","email":"a@x.io","suspended":true,"suspended":false}]"#,
            ),
            ("s.json", &slack),
        ],
        "jc.json",
        &["s.json"],
        &[],
    );
    assert_fails(
        &r,
        "error: jc.json: [0] (id a1): `suspended` is given more than once",
    );
}

#[test]
fn records_are_named_in_type_errors_and_blank_ids_are_not_printed() {
    let (jcs, sls) = people(46);
    let jc = jc_v1_pages(&jcs, 100).remove(0).1;
    // Raw API pages are one line: the column alone does not find the record.
    let page = slack_pages(&sls, 100, true).remove(0).1;
    let bad = page.replacen(r#""active":true,"#, r#""active":[],"#, 6);
    let bad = bad.replacen(r#""active":[],"#, r#""active":true,"#, 5);
    let r = audit(
        &[("jc.json", &jc), ("s.json", &bad)],
        "jc.json",
        &["s.json"],
        &[],
    );
    assert_fails(&r, ": Resources[5] (id W6): unexpected JSON value");
    assert!(r.stderr.starts_with("error: s.json:1:"), "{r:?}");
    let blank = page.replacen(r#""id":"W6""#, r#""id":"""#, 1);
    let r = audit(
        &[("jc.json", &jc), ("s.json", &blank)],
        "jc.json",
        &["s.json"],
        &[],
    );
    assert_fails(&r, "error: s.json: Resources[5]: user has no id");
}

#[test]
fn two_spellings_of_one_field_must_agree_in_csv_and_json() {
    let slack = good_slack();
    // One field under two columns or keys: the first one won, silently.
    for (name, text, problem) in [
        (
            "u.csv",
            "_id,email,state,suspended,suspended\na1,a@x.io,ACTIVATED,false,true\n",
            "u.csv: line 2: `suspended` (column 4) and `suspended` (column 5) disagree",
        ),
        (
            "u.csv",
            "_id,email,id\na1,a@x.io,a9\n",
            "u.csv: line 2: `_id` (column 1) and `id` (column 3) disagree",
        ),
        (
            "u.json",
            r#"[{"_id":"a1","email":"a@x.io","suspended":true,"Suspended":false}]"#,
            "u.json: [0] (id a1): `suspended` and `Suspended` disagree (`true` and `false`)",
        ),
        (
            "u.json",
            r#"[{"_id":"a1","id":"a2","email":"a@x.io"}]"#,
            "`_id`, `id` and `Id` disagree (`a1` and `a2`)",
        ),
    ] {
        let r = audit(&[(name, text), ("s.json", &slack)], name, &["s.json"], &[]);
        assert_fails(&r, problem);
    }
    // Spellings that agree are one field (JumpCloud's v1 records carry `_id` and `id`).
    let r = audit(
        &[
            (
                "u.json",
                r#"[{"_id":"a1","id":"a1","email":"a@x.io","suspended":false,"Suspended":false}]"#,
            ),
            ("s.json", &slack),
        ],
        "u.json",
        &["s.json"],
        &["--exit-zero"],
    );
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn json_pages_that_are_not_json_are_named_as_such() {
    let slack = good_slack();
    for (body, shown) in [
        (
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n</html>",
            "`<html>`",
        ),
        ("Unauthorized", "`Unauthorized`"),
        ("null", "`null`"),
        ("42", "`42`"),
    ] {
        let r = audit(
            &[
                ("jc/systemusers/skip-000000.json", &good_jc()),
                ("jc/systemusers/skip-000020.json", body),
                ("s.json", &slack),
            ],
            "jc",
            &["s.json"],
            &[],
        );
        assert_fails(
            &r,
            &format!(
                "error: jc/systemusers/skip-000020.json: expected a JumpCloud export (bundle directory, v1 users page, array of users or CSV), but this is not a JSON page: it starts with {shown}"
            ),
        );
    }
    let r = audit(
        &[("jc.json", &good_jc()), ("s.json", "Unauthorized")],
        "jc.json",
        &["s.json"],
        &[],
    );
    assert_fails(
        &r,
        "but this is not a JSON page: it starts with `Unauthorized`",
    );
}

#[test]
fn bundles_missing_their_users_are_named() {
    let slack = good_slack();
    // An empty systemusers/.
    let r = audit(
        &[("jc/systemusers/.keep", ""), ("s.json", &slack)],
        "jc",
        &["s.json"],
        &[],
    );
    assert_fails(
        &r,
        "error: jc/systemusers: no page files (an export writes at least one): the JumpCloud export holds no users",
    );
    // systemusers a file.
    let r = audit(
        &[
            ("jc/manifest.json", r#"{"format":"scimdrift-jumpcloud"}"#),
            ("jc/systemusers", "x"),
            ("s.json", &slack),
        ],
        "jc",
        &["s.json"],
        &[],
    );
    assert_fails(
        &r,
        "error: jc/systemusers: expected a JumpCloud export (bundle directory, v1 users page, array of users or CSV), but this is a file, where a bundle has its systemusers/ folder of pages",
    );
    // A v1 page with its count but not its records.
    let r = audit(
        &[("jc.json", r#"{"totalCount":5}"#), ("s.json", &slack)],
        "jc.json",
        &["s.json"],
        &[],
    );
    assert_fails(
        &r,
        "but this is a v1 page without `results` (it has only totalCount)",
    );
}

#[test]
fn a_user_with_a_members_key_is_not_a_groups_listing() {
    let (jcs, sls) = people(46);
    let jc = jc_v1_pages(&jcs, 100).remove(0).1;
    let pages = slack_pages(&sls, 40, true);
    // One user on the second page carries a `members` key.
    let odd = pages[1]
        .1
        .replacen(r#""active":true,"#, r#""active":true,"members":[],"#, 1);
    let r = audit(
        &[
            ("jc.json", &jc),
            ("slack/p1.json", &pages[0].1),
            ("slack/p2.json", &odd),
            ("slack/p3.json", &pages[2].1),
        ],
        "jc.json",
        &["slack"],
        &["--format", "json"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["complete"], true, "{r:?}");
    assert!(r.stderr.contains("46 Slack account(s)"), "{r:?}");
}

#[test]
fn a_file_given_twice_is_named() {
    let (jcs, sls) = people(3);
    let jc = jc_v1_pages(&jcs, 100).remove(0).1;
    let pages = slack_pages(&sls, 100, true);
    let r = audit(
        &[
            ("jc.json", &jc),
            ("slack/users-start-000001.json", &pages[0].1),
        ],
        "jc.json",
        &["slack", "slack/users-start-000001.json"],
        &[],
    );
    assert_fails(
        &r,
        "error: slack/users-start-000001.json: this file is given twice, once through its directory: its users would be read twice",
    );
    assert!(!r.stderr.contains("while it was paged"), "{r:?}");
}
