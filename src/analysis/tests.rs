//! Unit tests of the pure analysis: data built in code, no files, no clock.

use super::*;
use crate::model::{JcApp, JcGroup, JcState};

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

fn jc(id: &str, mail: &str) -> JcUser {
    JcUser {
        id: id.into(),
        email: email(mail),
        alternate_email: None,
        state: JcState::Activated,
        suspended: false,
        password_expired: false,
        account_locked: false,
    }
}

fn sl(id: &str, mail: &str, active: bool) -> SlackUser {
    SlackUser {
        id: id.into(),
        external_id: None,
        user_name: None,
        active,
        emails: vec![email(mail)],
        created: None,
        guest: false,
    }
}

fn listing(users: Vec<SlackUser>) -> SlackListing {
    SlackListing {
        users,
        scim_version: None,
        total_results: None,
    }
}

fn codes(a: &Analysis) -> Vec<(&'static str, Option<&str>)> {
    a.findings
        .iter()
        .map(|f| (f.code.as_str(), f.slack_user_id.as_deref()))
        .collect()
}

fn run(jc_users: Vec<JcUser>, slack: Vec<SlackUser>) -> Analysis {
    let data = JumpCloud {
        users: jc_users,
        ..JumpCloud::default()
    };
    diff_all_ways(&data, &listing(slack), &Policy::default())
}

/// `diff`, checked to give the same answer on any number of threads (the listing is split
/// across them).
fn diff_all_ways(jc: &JumpCloud, slack: &SlackListing, policy: &Policy) -> Analysis {
    let prepared = prepare(jc, policy).unwrap();
    let one = prepared.diff_on(slack, policy, 1);
    for threads in [2, 3, 5] {
        let many = prepared.diff_on(slack, policy, threads);
        assert_eq!(format!("{one:?}"), format!("{many:?}"), "{threads} threads");
    }
    one
}

#[test]
fn clean_org_has_no_findings() {
    let a = run(
        vec![jc("j1", "a@x.io"), jc("j2", "b@x.io")],
        vec![sl("U1", "A@X.io ", true), sl("U2", "b@x.io", true)],
    );
    assert!(a.findings.is_empty(), "{:?}", a.findings);
    assert_eq!(a.stats.slack_active, 2);
    assert!(
        a.notices
            .iter()
            .any(|n| n.contains("legacy-unlinked not judged"))
    );
}

#[test]
fn suspended_staged_and_expired_each_give_their_reason() {
    let mut s = jc("j1", "s@x.io");
    s.suspended = true;
    let mut st = jc("j2", "st@x.io");
    st.state = JcState::Staged;
    let mut e = jc("j3", "e@x.io");
    e.password_expired = true;
    let mut by_state = jc("j4", "ss@x.io");
    by_state.state = JcState::Suspended;
    let a = run(
        vec![s, st, e, by_state],
        vec![
            sl("U1", "s@x.io", true),
            sl("U2", "st@x.io", true),
            sl("U3", "e@x.io", true),
            sl("U4", "ss@x.io", true),
        ],
    );
    let reasons: Vec<_> = a
        .findings
        .iter()
        .map(|f| (f.code, f.reason.as_deref().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (FindingCode::SuspendedButActive, "suspended"),
            (FindingCode::SuspendedButActive, "staged"),
            (FindingCode::SuspendedButActive, "password-expired"),
            (FindingCode::SuspendedButActive, "suspended"),
        ]
    );
    assert_eq!(a.findings[0].remediation(), Some(Remediation::Deactivate));
}

#[test]
fn inactive_slack_accounts_of_suspended_users_are_fine() {
    let mut s = jc("j1", "s@x.io");
    s.suspended = true;
    let a = run(vec![s], vec![sl("U1", "s@x.io", false)]);
    assert!(a.findings.is_empty());
}

#[test]
fn unknown_active_only_for_active_humans() {
    let a = run(
        vec![],
        vec![
            sl("U1", "ghost@x.io", true),
            sl("U2", "gone@x.io", false),
            sl("B1", "botuser-T1-A1@slack-bots.com", true),
        ],
    );
    assert_eq!(codes(&a), vec![("unknown-active", Some("U1"))]);
    assert_eq!(a.stats.slack_bots, 1);
    assert_eq!(a.stats.slack_active, 1);
}

#[test]
fn bots_are_never_flagged_even_when_sharing_an_address() {
    let a = run(
        vec![],
        vec![
            sl("B1", "botuser@slack-bots.com", true),
            sl("B2", "botuser@slack-bots.com", true),
        ],
    );
    assert!(a.findings.is_empty());
}

#[test]
fn inactive_duplicate_of_an_active_account_is_not_flagged() {
    let a = run(
        vec![jc("j1", "a@x.io")],
        vec![sl("U1", "a@x.io", false), sl("U2", "a@x.io", true)],
    );
    assert_eq!(codes(&a), vec![("duplicate-email", None)]);
}

#[test]
fn inactive_but_entitled_is_info_and_says_whether_entitlement_was_judged() {
    let slack = listing(vec![sl("U1", "a@x.io", false)]);
    let data = bundle(
        vec![jc("j1", "a@x.io")],
        vec![group("g1", &["j1"], &["s1"])],
        vec![slack_app("s1")],
    );
    let a = diff_all_ways(&data, &slack, &Policy::default());
    assert_eq!(codes(&a), vec![("inactive-but-entitled", Some("U1"))]);
    assert_eq!(a.findings[0].severity, Severity::Info);
    assert!(a.findings[0].message.contains("active and entitled"));
    // Without group or application data only the status counts (DESIGN §3), and the message
    // does not claim an entitlement nobody judged.
    let a = run(vec![jc("j1", "a@x.io")], vec![sl("U1", "a@x.io", false)]);
    assert_eq!(codes(&a), vec![("inactive-but-entitled", Some("U1"))]);
    assert!(a.findings[0].message.contains("(entitlement not judged)"));
}

#[test]
fn a_connector_the_export_says_nothing_about_stops_entitlement_being_judged() {
    // s1's users are listed; s2 (also a Slack connector) has no listing and no bound group:
    // whom it provisions is unknown, so j2 must not look unentitled.
    let mut data = bundle(
        vec![jc("j1", "a@x.io"), jc("j2", "b@x.io")],
        vec![],
        vec![slack_app("s1"), slack_app("s2")],
    );
    data.groups = None;
    data.app_users.insert("s1".into(), vec!["j1".into()]);
    let slack = listing(vec![sl("U1", "a@x.io", true), sl("U2", "b@x.io", true)]);
    let a = diff_all_ways(&data, &slack, &Policy::default());
    assert!(a.findings.is_empty(), "{:?}", codes(&a));
    assert!(
        a.notices
            .iter()
            .any(|n| n.contains("nothing on whom Slack connector(s) s2")),
        "{:?}",
        a.notices
    );
    // Scoped to s1, it is judged.
    let scoped = Policy {
        slack_app: Some("s1".into()),
        ..Policy::default()
    };
    let a = diff_all_ways(&data, &slack, &scoped);
    assert_eq!(codes(&a), vec![("unentitled-but-active", Some("U2"))]);
    // A configured id the applications listing lacks (an app since deleted) provisions nobody:
    // it does not stop the judging.
    let configured = Policy {
        slack_app_ids: vec!["s1".into(), "gone".into()],
        ..Policy::default()
    };
    let mut known = data.clone();
    known.applications.retain(|a| a.id == "s1");
    let a = diff_all_ways(&known, &slack, &configured);
    assert_eq!(codes(&a), vec![("unentitled-but-active", Some("U2"))]);
    // Group bindings without the users listing: judged, with a notice about direct bindings.
    let mut data = bundle(
        vec![jc("j1", "a@x.io"), jc("j2", "b@x.io")],
        vec![group("g1", &["j1"], &["s1"])],
        vec![slack_app("s1")],
    );
    data.app_users.clear();
    let a = diff_all_ways(&data, &slack, &Policy::default());
    assert_eq!(codes(&a), vec![("unentitled-but-active", Some("U2"))]);
    assert!(
        a.notices
            .iter()
            .any(|n| n.contains("judged from group bindings alone")),
        "{:?}",
        a.notices
    );
}

#[test]
fn matching_order_external_id_then_primary_then_alternate() {
    let mut alt = jc("j3", "c@x.io");
    alt.alternate_email = Some(email("c.personal@y.io"));
    alt.suspended = true;
    let mut by_ext = jc("j1", "a@x.io");
    by_ext.suspended = true;
    let mut by_mail = jc("j2", "b@x.io");
    by_mail.suspended = true;
    let mut s1 = sl("U1", "renamed@x.io", true);
    s1.external_id = Some("j1".into());
    let mut s3 = sl("U3", "other@x.io", true);
    s3.emails.push(email("C.Personal@y.io"));
    let a = run(
        vec![by_ext, by_mail, alt],
        vec![s1, sl("U2", "b@x.io", true), s3],
    );
    let by: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::SuspendedButActive)
        .map(|f| (f.slack_user_id.as_deref().unwrap(), f.matched_by.unwrap()))
        .collect();
    assert_eq!(
        by,
        vec![
            ("U1", MatchedBy::ExternalId),
            ("U2", MatchedBy::Email),
            ("U3", MatchedBy::AlternateEmail)
        ]
    );
}

#[test]
fn link_conflict_when_external_id_and_email_disagree() {
    let mut s = sl("U1", "b@x.io", true);
    s.external_id = Some("j1".into());
    let a = run(vec![jc("j1", "a@x.io"), jc("j2", "b@x.io")], vec![s]);
    assert_eq!(codes(&a), vec![("link-conflict", Some("U1"))]);
    let f = &a.findings[0];
    assert_eq!(f.jumpcloud_user_id.as_deref(), Some("j1"));
    assert_eq!(f.jumpcloud_user_ids, vec!["j1", "j2"]);
    assert_eq!(f.email.as_deref(), Some("b@x.io"));
}

#[test]
fn legacy_unlinked_with_external_id_evidence() {
    let mut linked_user = sl("U1", "a@x.io", true);
    linked_user.external_id = Some("j1".into());
    let mut foreign = sl("U3", "c@x.io", true);
    foreign.external_id = Some("00u-okta-id".into());
    let a = run(
        vec![jc("j1", "a@x.io"), jc("j2", "b@x.io"), jc("j3", "c@x.io")],
        vec![linked_user, sl("U2", "b@x.io", true), foreign],
    );
    let legacy: Vec<_> = a
        .findings
        .iter()
        .map(|f| {
            (
                f.code.as_str(),
                f.slack_user_id.as_deref().unwrap(),
                f.reason.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        legacy,
        vec![
            ("legacy-unlinked", "U2", Some("no-external-id")),
            (
                "legacy-unlinked",
                "U3",
                Some("external-id-not-in-jumpcloud")
            ),
        ]
    );
    assert!(!a.notices.iter().any(|n| n.contains("legacy-unlinked")));
}

#[test]
fn legacy_unlinked_by_scim_enabled_at() {
    let at: jiff::Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
    let mut old = sl("U1", "a@x.io", true);
    old.created = Some("2023-06-01T10:00:00-07:00".parse().unwrap());
    let mut new = sl("U2", "b@x.io", true);
    new.created = Some("2024-02-01T10:00:00Z".parse().unwrap());
    let undated = sl("U3", "c@x.io", true);
    let data = JumpCloud {
        users: vec![jc("j1", "a@x.io"), jc("j2", "b@x.io"), jc("j3", "c@x.io")],
        ..JumpCloud::default()
    };
    let policy = Policy {
        scim_enabled_at: Some(at),
        ..Policy::default()
    };
    let a = diff_all_ways(&data, &listing(vec![old, new, undated]), &policy);
    assert_eq!(codes(&a), vec![("legacy-unlinked", Some("U1"))]);
    assert_eq!(a.findings[0].reason.as_deref(), Some("created-before-scim"));
    assert!(
        a.notices
            .iter()
            .any(|n| n.starts_with("1 active Slack account"))
    );
}

#[test]
fn duplicate_emails_on_both_sides_case_and_alternate_insensitive() {
    let mut j2 = jc("j2", "other@x.io");
    j2.alternate_email = Some(email(" SHARED@x.io"));
    let mut s2 = sl("U2", "b@x.io", false);
    s2.emails.push(email("dup@x.io"));
    let a = run(
        vec![jc("j1", "shared@x.io"), j2, jc("j3", "dup@x.io")],
        vec![sl("U1", "Dup@X.io", true), s2],
    );
    let dups: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::DuplicateEmail)
        .map(|f| {
            (
                f.email.as_deref().unwrap(),
                f.slack_user_ids.clone(),
                f.jumpcloud_user_ids.clone(),
            )
        })
        .collect();
    assert_eq!(
        dups,
        vec![
            (
                "dup@x.io",
                vec!["U1".to_owned(), "U2".to_owned()],
                vec!["j3".to_owned()]
            ),
            (
                "shared@x.io",
                vec![],
                vec!["j1".to_owned(), "j2".to_owned()]
            ),
        ]
    );
}

#[test]
fn emails_of_two_users_are_a_conflict_not_a_match() {
    let mut x = jc("j1", "x@a.io");
    x.suspended = true;
    let mut s = sl("U1", "p@a.io", true);
    s.emails.push(email("x@a.io"));
    s.emails.push(email("y@a.io"));
    let a = run(vec![x, jc("j2", "y@a.io")], vec![s]);
    assert_eq!(codes(&a), vec![("link-conflict", Some("U1"))]);
    assert_eq!(a.findings[0].jumpcloud_user_ids, vec!["j1", "j2"]);
    assert_eq!(
        a.findings[0].reason.as_deref(),
        Some("emails-of-several-users")
    );
    assert_eq!(a.findings[0].remediation(), None);
}

#[test]
fn ambiguous_primary_match_is_not_unknown() {
    let a = run(
        vec![jc("j1", "same@x.io"), jc("j2", "SAME@x.io")],
        vec![sl("U1", "same@x.io", true)],
    );
    assert_eq!(codes(&a), vec![("duplicate-email", None)]);
}

fn bundle(users: Vec<JcUser>, groups: Vec<JcGroup>, apps: Vec<JcApp>) -> JumpCloud {
    JumpCloud {
        users,
        groups: Some(groups),
        applications: apps,
        ..JumpCloud::default()
    }
}

fn slack_app(id: &str) -> JcApp {
    JcApp {
        id: id.into(),
        name: Some("slack".into()),
        ..JcApp::default()
    }
}

fn group(id: &str, users: &[&str], apps: &[&str]) -> JcGroup {
    JcGroup {
        id: id.into(),
        name: Some(format!("group {id}")),
        member_user_ids: users.iter().map(|s| (*s).to_owned()).collect(),
        member_group_ids: vec![],
        application_ids: apps.iter().map(|s| (*s).to_owned()).collect(),
    }
}

#[test]
fn entitlement_and_multi_connector_groups() {
    let data = bundle(
        vec![jc("j1", "a@x.io"), jc("j2", "b@x.io"), jc("j3", "c@x.io")],
        vec![
            group("g1", &["j1"], &["s1", "s2", "aws"]),
            group("g2", &["j3"], &["s2"]),
        ],
        vec![slack_app("s1"), slack_app("s2")],
    );
    let slack = listing(vec![
        sl("U1", "a@x.io", true),
        sl("U2", "b@x.io", true),
        sl("U3", "c@x.io", false),
    ]);
    let a = diff_all_ways(&data, &slack, &Policy::default());
    let got: Vec<_> = a
        .findings
        .iter()
        .map(|f| {
            (
                f.code.as_str(),
                f.slack_user_id
                    .as_deref()
                    .or(f.jumpcloud_group_id.as_deref()),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("unentitled-but-active", Some("U2")),
            ("multi-connector-group", Some("g1")),
            ("inactive-but-entitled", Some("U3")),
        ]
    );
    assert_eq!(a.findings[1].application_ids, vec!["s1", "s2"]);

    // Scoped to s1, the member of g2 (bound to s2 only) is unentitled.
    let scoped = Policy {
        slack_app: Some("s1".into()),
        ..Policy::default()
    };
    let a = diff_all_ways(&data, &slack, &scoped);
    assert!(
        a.findings
            .iter()
            .all(|f| f.slack_user_id.as_deref() != Some("U3"))
    );
    assert!(
        a.findings
            .iter()
            .any(|f| f.code == FindingCode::MultiConnectorGroup)
    );
}

#[test]
fn app_users_listing_entitles() {
    let mut data = bundle(vec![jc("j1", "a@x.io")], vec![], vec![slack_app("s1")]);
    data.app_users.insert("s1".into(), vec!["j1".into()]);
    let a = diff(
        &data,
        &listing(vec![sl("U1", "a@x.io", true)]),
        &Policy::default(),
    )
    .unwrap();
    assert!(a.findings.is_empty(), "{:?}", a.findings);
}

#[test]
fn entitlement_not_judged_without_bindings_says_so() {
    let data = bundle(
        vec![jc("j1", "a@x.io")],
        vec![group("g1", &["j1"], &["aws"])],
        vec![slack_app("s1")],
    );
    let a = diff(
        &data,
        &listing(vec![sl("U1", "a@x.io", true)]),
        &Policy::default(),
    )
    .unwrap();
    assert!(a.findings.is_empty());
    assert!(
        a.notices
            .iter()
            .any(|n| n.starts_with("unentitled-but-active not judged: no group is bound"))
    );
}

#[test]
fn severity_overrides_apply_and_reorder() {
    let policy = Policy {
        severity_overrides: BTreeMap::from([(FindingCode::UnknownActive, Severity::Info)]),
        ..Policy::default()
    };
    let mut s = jc("j1", "s@x.io");
    s.suspended = true;
    let data = JumpCloud {
        users: vec![s],
        ..JumpCloud::default()
    };
    let slack = listing(vec![sl("U0", "ghost@x.io", true), sl("U1", "s@x.io", true)]);
    let a = diff_all_ways(&data, &slack, &policy);
    assert_eq!(
        codes(&a),
        vec![
            ("suspended-but-active", Some("U1")),
            ("unknown-active", Some("U0"))
        ]
    );
    assert_eq!(a.findings[1].severity, Severity::Info);
}

#[test]
fn diff_is_deterministic() {
    let users: Vec<JcUser> = (0..50)
        .map(|i| jc(&format!("j{i}"), &format!("u{i}@x.io")))
        .collect();
    let slack: Vec<SlackUser> = (0..80)
        .map(|i| sl(&format!("U{i}"), &format!("u{}@x.io", i % 60), i % 3 != 0))
        .collect();
    let a = run(users.clone(), slack.clone());
    let b = run(users, slack);
    assert_eq!(a.findings, b.findings);
}

#[test]
fn slack_email_index_tells_colliding_hashes_apart() {
    let mut two = sl("U3", "c@x.com", true);
    two.emails.push(email("a@x.com"));
    let users = vec![
        sl("U1", "a@x.com", true),
        sl("U2", "b@x.com", true),
        two,
        sl("U4", "B@x.com", false),
        sl("U5", "d@x.com", true),
    ];
    // Every email in one hash run: only real repeats may come out.
    for index in [
        SlackEmails::with_hash(&users, |_| 7),
        SlackEmails::new(&users),
    ] {
        let mut shared: Vec<&str> = index.shared.iter().map(|e| e.as_str()).collect();
        shared.sort_unstable();
        assert_eq!(shared, ["a@x.com", "b@x.com"]);
        assert_eq!(index.hits(&email("a@x.com")).collect::<Vec<_>>(), [0, 2]);
        assert_eq!(index.hits(&email("d@x.com")).collect::<Vec<_>>(), [4]);
        assert_eq!(index.hits(&email("e@x.com")).count(), 0);
    }
}

#[test]
fn a_primary_email_match_with_another_users_email_is_a_link_conflict() {
    let mut b = jc("B", "b@x.io");
    b.suspended = true;
    let mut s1 = sl("S1", "b@x.io", true);
    s1.emails.push(email("a@x.io"));
    let a = run(vec![jc("A", "a@x.io"), b], vec![s1]);
    assert_eq!(codes(&a), vec![("link-conflict", Some("S1"))]);
    assert_eq!(
        a.findings[0].reason.as_deref(),
        Some("emails-of-several-users")
    );
    assert_eq!(a.findings[0].jumpcloud_user_ids, ["A", "B"]);
    // An email of the same user, or one nobody has, changes nothing.
    let mut s2 = sl("S2", "b@x.io", true);
    s2.emails.push(email("b.alias@x.io"));
    let mut b = jc("B", "b@x.io");
    b.alternate_email = Some(email("b.alias@x.io"));
    b.suspended = true;
    let a = run(vec![jc("A", "a@x.io"), b], vec![s2]);
    assert_eq!(codes(&a), vec![("suspended-but-active", Some("S2"))]);
}

#[test]
fn bindings_split_across_nested_groups_are_a_multi_connector_group() {
    let mut labs = group("g-labs", &[], &["s2"]);
    labs.member_group_ids = vec!["g-eng".into()];
    // g-all holds both connectors itself: reported once, not again for its subgroup g-sub.
    let mut all = group("g-all", &[], &["s1", "s2"]);
    all.member_group_ids = vec!["g-sub".into()];
    // A cycle must not loop.
    let mut loop_a = group("g-a", &[], &[]);
    loop_a.member_group_ids = vec!["g-b".into()];
    let mut loop_b = group("g-b", &[], &["s1"]);
    loop_b.member_group_ids = vec!["g-a".into()];
    // A chain top(s1) > mid(s2) > leaf: reported at mid, where the split happens, not at leaf.
    let mut top = group("g-top", &[], &["s1"]);
    top.member_group_ids = vec!["g-mid".into()];
    let mut mid = group("g-mid", &[], &["s2"]);
    mid.member_group_ids = vec!["g-leaf".into()];
    // A diamond: x in p1(s1) and p2(s2), bound to nothing itself.
    let mut p1 = group("g-p1", &[], &["s1"]);
    p1.member_group_ids = vec!["g-x".into()];
    let mut p2 = group("g-p2", &[], &["s2"]);
    p2.member_group_ids = vec!["g-x".into()];
    let data = bundle(
        vec![jc("j1", "a@x.io")],
        vec![
            group("g-eng", &["j1"], &["s1"]),
            labs,
            all,
            group("g-sub", &["j1"], &[]),
            loop_a,
            loop_b,
            top,
            mid,
            group("g-leaf", &["j1"], &[]),
            p1,
            p2,
            group("g-x", &["j1"], &[]),
        ],
        vec![slack_app("s1"), slack_app("s2")],
    );
    let a = diff_all_ways(
        &data,
        &listing(vec![sl("U1", "a@x.io", true)]),
        &Policy::default(),
    );
    let multi: Vec<(&str, &[String])> = a
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::MultiConnectorGroup)
        .map(|f| {
            (
                f.jumpcloud_group_id.as_deref().unwrap(),
                f.application_ids.as_slice(),
            )
        })
        .collect();
    let both = ["s1".to_owned(), "s2".to_owned()];
    assert_eq!(
        multi,
        vec![
            ("g-all", &both[..]),
            ("g-eng", &both[..]),
            ("g-mid", &both[..]),
            ("g-x", &both[..]),
        ]
    );
    assert!(
        a.findings
            .iter()
            .any(|f| f.message.contains("through the groups it is nested in"))
    );
}

#[test]
fn findings_say_when_the_account_is_a_guest() {
    let mut guest = sl("U1", "a@x.io", true);
    guest.guest = true;
    let a = run(vec![], vec![guest]);
    assert_eq!(codes(&a), vec![("unknown-active", Some("U1"))]);
    assert!(
        a.findings[0].message.contains("(U1, a guest)"),
        "{}",
        a.findings[0].message
    );
}
