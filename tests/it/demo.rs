//! The shipped demo organisation: every finding code appears, and its JSON report is pinned.

use crate::common::{root, run};

const DEMO: [&str; 5] = [
    "audit",
    "--jumpcloud",
    "fixtures/demo/jumpcloud",
    "--slack",
    "fixtures/demo/slack",
];

#[test]
fn demo_json_report_is_pinned() {
    let r = run(&[&DEMO[..], &["--format", "json"][..]].concat());
    assert_eq!(r.code, 1, "{r:?}");
    let expected = std::fs::read_to_string(root().join("fixtures/demo/expected-report.json"))
        .expect("fixtures/demo/expected-report.json");
    assert_eq!(
        r.stdout, expected,
        "the demo report changed; if on purpose, regenerate it as fixtures/demo/README.md says"
    );
}

#[test]
fn demo_table_shows_every_audit_code() {
    let r = run(&DEMO);
    assert_eq!(r.code, 1, "{r:?}");
    for code in [
        "suspended-but-active",
        "unentitled-but-active",
        "unknown-active",
        "legacy-unlinked",
        "link-conflict",
        "duplicate-email",
        "multi-connector-group",
        "inactive-but-entitled",
    ] {
        assert!(
            r.stdout.contains(code),
            "{code} missing from the demo table:\n{r:?}"
        );
    }
    assert!(
        r.stderr
            .contains("15 finding(s): 10 error, 4 warning, 1 info; 46 Slack account(s) (38 active, 3 bot) against 42 JumpCloud user(s)"),
        "{r:?}"
    );
}
