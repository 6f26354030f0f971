//! CI-grade reporting: exceptions (suppressed, expired, stale, invalid), baseline, several
//! formats from one run (JUnit parsed back as XML), config and environment precedence,
//! completions, plans and accepted drift. Where the reports are written: `outputs`.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::common::{Run, arg, run_env, tree};

const DEMO: [&str; 5] = [
    "audit",
    "--jumpcloud",
    "fixtures/demo/jumpcloud",
    "--slack",
    "fixtures/demo/slack",
];

fn audit(extra: &[&str], env: &[(&str, &str)]) -> Run {
    run_env(None, &[&DEMO[..], extra].concat(), env)
}

/// Today is 2025-11-24 in these runs (`SOURCE_DATE_EPOCH`).
const EXCEPTIONS: &str = r#"
[[exception]]
slack_user_id = "W0NW0000201"
codes = ["unknown-active"]
reason = "vendor during migration"
owner = "it@northwind.example"
expires = 2026-03-01
ticket = "SEC-7"

[[exception]]
email = "Grace.Old@northwind.example"
reason = "old account, owner on leave"
owner = "it@northwind.example"
expires = 2025-11-01

[[exception]]
slack_user_id = "W0NOSUCH"
reason = "left over"
owner = "it@northwind.example"
expires = 2026-01-01
"#;

#[test]
fn exceptions_suppress_expire_and_go_stale() {
    let dir = tree(&[("exceptions.toml", EXCEPTIONS)]);
    let path = dir.path().join("exceptions.toml");
    let r = audit(&["--format", "json", "--exceptions", arg(&path)], &[]);
    assert_eq!(r.code, 1, "{r:?}");
    let report = r.json();
    assert_eq!(report["summary"]["suppressed"], 1);
    assert_eq!(
        report["summary"]["by_code"]["unknown-active"], 1,
        "grace still counts"
    );
    assert_eq!(report["summary"]["by_code"]["expired-exception"], 1);
    assert_eq!(report["summary"]["by_code"]["stale-exception"], 1);
    let findings = report["findings"].as_array().unwrap();
    let frank = findings
        .iter()
        .find(|f| f["slack_user_id"] == "W0NW0000201")
        .unwrap();
    assert_eq!(
        frank["suppressed"],
        serde_json::json!({"reason": "vendor during migration", "owner": "it@northwind.example",
                           "expires": "2026-03-01", "ticket": "SEC-7"})
    );
    let expired = findings
        .iter()
        .find(|f| f["code"] == "expired-exception")
        .unwrap();
    assert_eq!(expired["email"], "grace.old@northwind.example");
    assert_eq!(expired["severity"], "warning");
    assert!(
        expired["message"]
            .as_str()
            .unwrap()
            .contains("expired on 2025-11-01")
    );
    let stale = findings
        .iter()
        .find(|f| f["code"] == "stale-exception")
        .unwrap();
    assert_eq!(stale["slack_user_id"], "W0NOSUCH");

    // The table hides suppressed findings unless asked.
    let r = audit(&["--exceptions", arg(&path)], &[]);
    assert!(!r.stdout.contains("W0NW0000201"), "{r:?}");
    assert!(
        r.stdout.contains("1 finding(s) suppressed by exceptions"),
        "{r:?}"
    );
    assert!(r.stderr.contains("1 suppressed"), "{r:?}");
    let r = audit(&["--exceptions", arg(&path), "--show-suppressed"], &[]);
    assert!(r.stdout.contains("error (suppressed)"), "{r:?}");
    assert!(r.stdout.contains("owner it@northwind.example"), "{r:?}");
}

#[test]
fn invalid_exceptions_exit_2_with_file_and_line() {
    let cases = [
        (
            "[[exception]]\nslack_user_id = \"U1\"\nowner = \"o\"\nexpires = 2026-01-01\n",
            "missing field `reason`",
        ),
        (
            "[[exception]]\nslack_user_id = \"U1\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2026-01-01\nowner_team = \"x\"\n",
            "unknown field `owner_team`",
        ),
        (
            "\n\n[[exception]]\nslack_user_id = \"U1\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"1st of May\"\n",
            "ex.toml:3: expires `1st of May` is not a date",
        ),
        (
            "[[exception]]\nslack_user_id = \"U1\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-06-01\n",
            "ex.toml:1: expires 2027-06-01 is more than 365 days ahead",
        ),
    ];
    for (text, needle) in cases {
        let dir = tree(&[("ex.toml", text)]);
        let r = audit(&["--exceptions", arg(&dir.path().join("ex.toml"))], &[]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stdout.is_empty());
        assert!(r.stderr.contains(needle), "want {needle:?}: {r:?}");
        assert!(r.stderr.contains("ex.toml"), "{r:?}");
        if !needle.starts_with("ex.toml:") {
            assert!(
                r.stderr.contains("line "),
                "toml errors carry the line: {r:?}"
            );
        }
    }
}

#[test]
fn json_junit_markdown_and_csv_from_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let (json, xml, md, csv) = (
        p("drift.json"),
        p("drift.xml"),
        p("summary.md"),
        p("drift.csv"),
    );
    let r = audit(
        &[
            "--format",
            "json",
            "--output",
            arg(&json),
            "--report",
            &format!("junit={}", arg(&xml)),
            "--report",
            &format!("markdown={}", arg(&md)),
            "--report",
            &format!("CSV={}", arg(&csv)),
        ],
        &[],
    );
    assert_eq!(
        r.code, 1,
        "writing files never changes the exit code: {r:?}"
    );
    assert!(
        r.stdout.is_empty(),
        "--output takes the report off stdout: {r:?}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let findings = report["findings"].as_array().unwrap().len();
    assert_eq!(findings, 15);

    // JUnit, parsed back: a testsuite per code, a testcase per finding, failures for errors.
    let text = std::fs::read_to_string(&xml).unwrap();
    let mut reader = Reader::from_str(&text);
    let (mut suites, mut cases, mut failures) = (Vec::new(), 0, 0);
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "testsuite" => {
                    let attr = e.try_get_attribute("name").unwrap().unwrap();
                    let name = attr.value.into_owned();
                    suites.push(name);
                }
                "testcase" => cases += 1,
                "failure" => failures += 1,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(cases, findings);
    assert_eq!(failures, 10, "the errors fail at --fail-on error");
    assert_eq!(suites.len(), 8);
    assert!(suites.contains(&"link-conflict".to_owned()));

    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.starts_with("## scimdrift: ❌ drift"), "{md}");
    assert!(
        md.contains("<details><summary><b>link-conflict</b>: 1 error"),
        "{md}"
    );

    let mut rows = csv::Reader::from_path(&csv).unwrap();
    let header: Vec<String> = rows.headers().unwrap().iter().map(str::to_owned).collect();
    let json_keys: Vec<String> = report["findings"][0]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut sorted = header.clone();
    sorted.sort();
    let mut keys = json_keys.clone();
    keys.sort();
    assert_eq!(sorted, keys, "every JSON key is a CSV column");
    assert_eq!(rows.records().count(), findings);

    let r = audit(&["--report", "yaml=x.yaml"], &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("unknown format `yaml`"), "{r:?}");
}

#[test]
fn config_env_and_flag_precedence() {
    let dir = tree(&[
        ("ex.toml", EXCEPTIONS),
        (
            "scimdrift.toml",
            "exceptions = \"ex.toml\"\nfail_on = \"info\"\n[severity]\nlink-conflict = \"warning\"\n",
        ),
    ]);
    let config = dir.path().join("scimdrift.toml");
    let r = audit(&["--format", "json", "--config", arg(&config)], &[]);
    assert_eq!(
        r.json()["summary"]["suppressed"],
        1,
        "exceptions from the config: {r:?}"
    );
    let conflict = r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "link-conflict")
        .unwrap()
        .clone();
    assert_eq!(conflict["severity"], "warning");

    // Only warnings and infos: fail_on decides. Flag > environment > file.
    let only_info = tree(&[(
        "scimdrift.toml",
        "fail_on = \"error\"\n[severity]\nsuspended-but-active = \"info\"\nunentitled-but-active = \"info\"\nunknown-active = \"info\"\nlink-conflict = \"info\"\nduplicate-email = \"info\"\nlegacy-unlinked = \"info\"\nmulti-connector-group = \"info\"\n",
    )]);
    let cfg = only_info.path().join("scimdrift.toml");
    assert_eq!(audit(&["--config", arg(&cfg)], &[]).code, 0);
    assert_eq!(
        audit(&["--config", arg(&cfg)], &[("SCIMDRIFT_FAIL_ON", "info")]).code,
        1
    );
    assert_eq!(
        audit(
            &["--config", arg(&cfg), "--fail-on", "error"],
            &[("SCIMDRIFT_FAIL_ON", "info")]
        )
        .code,
        0
    );
    assert_eq!(
        run_env(None, &DEMO, &[("SCIMDRIFT_CONFIG", arg(&cfg))]).code,
        0,
        "SCIMDRIFT_CONFIG names the config"
    );
}

#[test]
fn baseline_covers_todays_findings_and_keeps_existing_entries() {
    let dir = tree(&[(
        "ex.toml",
        "# kept\n[[exception]]\nslack_user_id = \"W0NW0000201\"\nreason = \"vendor\"\nowner = \"it@northwind.example\"\nexpires = 2026-03-01\n",
    )]);
    let out = dir.path().join("ex.toml");
    let base = [
        "baseline",
        "--jumpcloud",
        "fixtures/demo/jumpcloud",
        "--slack",
        "fixtures/demo/slack",
        "--owner",
        "secops@northwind.example",
        "--reason",
        "accepted at rollout",
        "--days",
        "90",
        "--ticket",
        "SEC-42",
        "--out",
        arg(&out),
    ];
    let r = run_env(None, &base, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("14 exception(s) added"), "{r:?}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("# kept\n[[exception]]\nslack_user_id = \"W0NW0000201\""),
        "{text}"
    );
    assert!(text.contains("expires = \"2026-02-22\""), "{text}");
    let r = audit(&["--format", "json", "--exceptions", arg(&out)], &[]);
    assert_eq!(r.code, 0, "everything is accepted now: {r:?}");
    assert_eq!(r.json()["summary"]["suppressed"], 15);
    assert_eq!(r.json()["summary"]["by_code"]["stale-exception"], 0);
    // A second baseline adds nothing.
    let r = run_env(None, &base, &[]);
    assert!(r.stderr.contains("0 exception(s) added"), "{r:?}");
    let r = run_env(
        None,
        &[
            &base[..5],
            &[
                "--owner",
                "x",
                "--reason",
                "y",
                "--days",
                "400",
                "--out",
                arg(&out),
            ],
        ]
        .concat(),
        &[],
    );
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn completions_and_help_with_examples() {
    for shell in ["bash", "zsh", "fish"] {
        let r = run_env(None, &["completions", shell], &[]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("scimdrift"), "{shell}");
        assert!(r.stdout.contains("baseline"), "{shell}");
    }
    for cmd in [
        &["audit"][..],
        &["fetch", "slack"],
        &["fetch", "jumpcloud"],
        &["plan"],
        &["apply"],
        &["verify"],
        &["baseline"],
        &["completions"],
    ] {
        let r = run_env(None, &[cmd, &["--help"][..]].concat(), &[]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("Examples:"), "{cmd:?} help has examples");
    }
}

#[test]
fn severity_overrides_cover_the_findings_exceptions_add() {
    let dir = tree(&[
        ("exceptions.toml", EXCEPTIONS),
        (
            "scimdrift.toml",
            "[severity]\nstale-exception = \"error\"\nexpired-exception = \"info\"\n",
        ),
    ]);
    let r = audit(
        &[
            "--format",
            "json",
            "--exceptions",
            arg(&dir.path().join("exceptions.toml")),
            "--config",
            arg(&dir.path().join("scimdrift.toml")),
            "--fail-on",
            "error",
        ],
        &[],
    );
    let findings = r.json()["findings"].as_array().unwrap().clone();
    let severity = |code: &str| {
        findings
            .iter()
            .find(|f| f["code"] == code)
            .map(|f| f["severity"].clone())
            .unwrap()
    };
    assert_eq!(severity("stale-exception"), "error", "{r:?}");
    assert_eq!(severity("expired-exception"), "info");
    // Errors sort first.
    assert_eq!(findings[0]["severity"], "error");
}

#[test]
fn plans_never_touch_accepted_drift() {
    // A plan judges expiry by the real clock, whatever SOURCE_DATE_EPOCH says: dates around
    // today, and SOURCE_DATE_EPOCH (2025-11-24) would find both exceptions valid.
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let ahead = today.checked_add(jiff::ToSpan::days(60)).unwrap();
    let past = today.checked_sub(jiff::ToSpan::days(1)).unwrap();
    let exceptions = EXCEPTIONS
        .replace("expires = 2026-03-01", &format!("expires = {ahead}"))
        .replace("expires = 2025-11-01", &format!("expires = {past}"))
        .replace("expires = 2026-01-01", &format!("expires = {ahead}"));
    let dir = tree(&[("ex.toml", &exceptions)]);
    let plan = dir.path().join("plan.json");
    let r = run_env(
        None,
        &[
            "plan",
            "--jumpcloud",
            "fixtures/demo/jumpcloud",
            "--slack",
            "fixtures/demo/slack",
            "--out",
            arg(&plan),
            "--include",
            "unknown-active",
            "--exceptions",
            arg(&dir.path().join("ex.toml")),
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let ids: Vec<String> = r.json()["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slack_user_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !ids.contains(&"W0NW0000201".to_owned()),
        "frank is accepted: {ids:?}"
    );
    assert!(
        ids.contains(&"W0NW0000202".to_owned()),
        "grace's exception expired: {ids:?}"
    );
    assert_eq!(ids.len(), 6);
}

#[test]
fn plan_apply_and_verify_render_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    for format in ["table", "json", "markdown", "csv", "junit"] {
        let r = run_env(
            None,
            &[
                "plan",
                "--jumpcloud",
                "fixtures/demo/jumpcloud",
                "--slack",
                "fixtures/demo/slack",
                "--out",
                arg(&plan),
                "--format",
                format,
            ],
            &[],
        );
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("W0NW0000004"), "{format}: {r:?}");
    }
}

mod outputs;
