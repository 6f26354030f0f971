//! Where reports go: `--output` and `--report FORMAT=FILE` written whole or not at all, through
//! symlinks, to devices, `/dev/stdout` and named pipes, never over an input; hostile values
//! escaped in every format.

use quick_xml::Reader;
use quick_xml::events::Event;

use super::{DEMO, audit};
use crate::common::{arg, root, run_env, tree};

#[test]
fn report_files_are_written_all_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let ok = dir.path().join("ok.csv");
    let bad = dir.path().join("missing-dir/x.xml");
    let r = audit(
        &[
            "--format",
            "json",
            "--output",
            arg(&out),
            "--report",
            &format!("junit={}", bad.display()),
            "--report",
            &format!("csv={}", ok.display()),
        ],
        &[],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("cannot write"), "{r:?}");
    assert!(r.stderr.contains("x.xml"), "{r:?}");
    assert!(!out.exists() && !ok.exists(), "none of the set is written");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "no temporary file left: {left:?}");
}

#[test]
fn output_takes_every_commands_rows_and_report_is_audits() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let rows = dir.path().join("rows.md");
    let run = |extra: &[&str]| {
        run_env(
            None,
            &[
                &[
                    "plan",
                    "--jumpcloud",
                    "fixtures/demo/jumpcloud",
                    "--slack",
                    "fixtures/demo/slack",
                    "--out",
                    arg(&plan),
                    "--format",
                    "markdown",
                ][..],
                extra,
            ]
            .concat(),
            &[],
        )
    };
    let csv = format!("csv={}", rows.display());
    let r = run(&["--report", &csv]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("only `audit` writes report files"),
        "{r:?}"
    );
    assert!(!plan.exists() && !rows.exists());
    let r = run(&["--output", arg(&rows)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
    assert!(
        std::fs::read_to_string(&rows)
            .unwrap()
            .contains("W0NW0000004")
    );
    // One file named twice is refused before anything is written.
    let out = dir.path().join("r.json");
    let csv = format!("csv={}", out.display());
    let r = audit(&["--output", arg(&out), "--report", &csv], &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("the same file is given twice"), "{r:?}");
    assert!(!out.exists());
    // Commands that print no report refuse its flags instead of ignoring them.
    let exceptions = dir.path().join("exceptions.toml");
    let baseline = |extra: &[&str]| {
        let base = [
            "baseline",
            "--jumpcloud",
            "fixtures/demo/jumpcloud",
            "--slack",
            "fixtures/demo/slack",
            "--owner",
            "it@x.io",
            "--reason",
            "accepted",
            "--days",
            "30",
            "--out",
            arg(&exceptions),
        ];
        run_env(None, &[&base[..], extra].concat(), &[])
    };
    for (extra, flag) in [
        (&["--output", arg(&out)][..], "--output"),
        (&["--format", "json"][..], "--format"),
    ] {
        let r = baseline(extra);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains(&format!("{flag}: `baseline`")), "{r:?}");
        assert!(!exceptions.exists() && !out.exists());
    }
    let r = run_env(
        None,
        &[
            "fetch",
            "jumpcloud",
            "--out",
            arg(&dir.path().join("jc")),
            "--output",
            arg(&out),
        ],
        &[("JUMPCLOUD_API_KEY", "k")],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--output: `fetch`"), "{r:?}");
    let r = run_env(None, &["completions", "bash", "--format", "csv"], &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.is_empty());
    assert_eq!(baseline(&[]).code, 0);
}

#[test]
fn outputs_go_through_symlinks_to_devices_and_never_over_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Through a symlink: the link stays, the file it names gets the report.
    std::fs::write(d.join("real.json"), "OLD").unwrap();
    std::os::unix::fs::symlink("real.json", d.join("link.json")).unwrap();
    let r = audit(
        &["--format", "json", "--output", arg(&d.join("link.json"))],
        &[],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(d.join("link.json").is_symlink());
    let written = std::fs::read_to_string(d.join("real.json")).unwrap();
    assert!(written.contains("\"schema_version\": 1"), "{written}");
    // A dangling link and the file it names are one file.
    std::os::unix::fs::symlink("new.json", d.join("dangling.json")).unwrap();
    let json = format!("json={}", d.join("new.json").display());
    let csv = format!("csv={}", d.join("dangling.json").display());
    let r = audit(&["--report", &json, "--report", &csv], &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("the same file is given twice"), "{r:?}");
    assert!(!d.join("new.json").exists() && d.join("dangling.json").is_symlink());
    // A device is written to, not replaced (as root, a rename would replace /dev/null).
    let r = audit(&["--output", "/dev/null"], &[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.is_empty());
    let null = std::fs::metadata("/dev/null").unwrap();
    assert!(!null.is_file(), "/dev/null is still a device");
    let r = audit(&["--output", "/dev/full"], &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("cannot write /dev/full"), "{r:?}");
    // Never over an input, or inside an input directory.
    let slack = d.join("slack");
    std::fs::create_dir(&slack).unwrap();
    for entry in std::fs::read_dir(root().join("fixtures/demo/slack")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), slack.join(entry.file_name())).unwrap();
    }
    let before = std::fs::read(slack.join("users-start-000001.json")).unwrap();
    for (output, slack_arg) in [
        (slack.join("report.json"), slack.clone()),
        (slack.join("users-start-000001.json"), slack.clone()),
        (
            slack.join(".").join("users-start-000001.json"),
            slack.join("users-start-000001.json"),
        ),
    ] {
        let r = run_env(
            None,
            &[
                "audit",
                "--jumpcloud",
                "fixtures/demo/jumpcloud",
                "--slack",
                arg(&slack_arg),
                "--output",
                arg(&output),
            ],
            &[],
        );
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("land inside the input"), "{r:?}");
    }
    assert!(!slack.join("report.json").exists());
    assert_eq!(
        std::fs::read(slack.join("users-start-000001.json")).unwrap(),
        before
    );
    // Nor in a --save directory that does not exist yet, nor over the config or exceptions.
    let save = d.join("snap");
    let exceptions = d.join("ex.toml");
    std::fs::write(&exceptions, "").unwrap();
    for extra in [
        vec!["--save", arg(&save), "--output"],
        vec!["--exceptions", arg(&exceptions), "--output"],
        vec!["--config", arg(&exceptions), "--output"],
    ] {
        let output = if extra[0] == "--save" {
            save.join("slack/users/r.json")
        } else {
            exceptions.clone()
        };
        let r = audit(&[&extra[..], &[arg(&output)]].concat(), &[]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("land inside the input"), "{r:?}");
    }
    assert!(!save.exists());
    assert_eq!(std::fs::read_to_string(&exceptions).unwrap(), "");
}

#[test]
fn output_to_dev_stdout_goes_down_the_pipe_or_appends_to_the_redirected_file() {
    let r = audit(&["--format", "json", "--output", "/dev/stdout"], &[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("\"schema_version\": 1"), "{r:?}");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    std::fs::write(&log, "EARLIER\n").unwrap();
    let append = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_scimdrift"))
        .current_dir(root())
        .args(DEMO)
        .args(["--format", "csv", "--output", "/dev/stdout"])
        .stdout(append)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.starts_with("EARLIER\ncode,"), "{text}");
}

/// Inputs whose emails carry a spreadsheet formula and control characters (ESC, CR, SOH).
fn hostile_inputs() -> tempfile::TempDir {
    let emails = [
        "=HYPERLINK(\"http://evil.example\",\"x\")@x.com",
        "k\u{1b}[31ml@x.com",
        "i\rj@x.com",
        "c\u{1}d]]>@x.com",
    ];
    let users: Vec<serde_json::Value> = emails
        .iter()
        .enumerate()
        .map(|(i, e)| {
            serde_json::json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": format!("U{i}"), "userName": format!("u{i}"), "active": true,
                "emails": [{"value": e, "primary": true}]
            })
        })
        .collect();
    let page = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": users.len(), "startIndex": 1, "itemsPerPage": users.len(),
        "Resources": users
    });
    tree(&[
        (
            "jc.json",
            r#"[{"_id":"5f0000000000000000000001","email":"a@x.com","state":"ACTIVATED"}]"#,
        ),
        ("slack.json", &page.to_string()),
    ])
}

#[test]
fn hostile_values_are_escaped_in_every_format_and_baseline_round_trips() {
    let dir = hostile_inputs();
    let (jc, slack) = (dir.path().join("jc.json"), dir.path().join("slack.json"));
    let input = ["--jumpcloud", arg(&jc), "--slack", arg(&slack)];
    let audit = |extra: &[&str], env: &[(&str, &str)]| {
        run_env(None, &[&["audit"][..], &input, extra].concat(), env)
    };
    // Only tab and newline may stay raw: no ESC for the terminal, no CR for Markdown, nothing
    // XML 1.0 forbids.
    let raw_controls = |text: &str| {
        text.chars()
            .filter(|c| c.is_control() && *c != '\n')
            .count()
    };
    for format in ["table", "markdown", "junit"] {
        let r = audit(&["--format", format], &[("NO_COLOR", "1")]);
        assert_eq!(r.code, 1, "{r:?}");
        assert_eq!(raw_controls(&r.stdout), 0, "{format}: {:?}", r.stdout);
        assert!(r.stdout.contains("\\u{1b}"), "{format}: {}", r.stdout);
    }
    let r = audit(&["--format", "junit"], &[]);
    let mut reader = Reader::from_str(&r.stdout);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not XML: {e}: {}", r.stdout),
        }
    }
    // CSV: a cell a spreadsheet would run as a formula is quoted with a leading '.
    let r = audit(&["--format", "csv"], &[]);
    let mut rows = csv::Reader::from_reader(r.stdout.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let email_col = headers.iter().position(|h| h == "email").unwrap();
    let emails: Vec<String> = rows
        .records()
        .map(|rec| rec.unwrap()[email_col].to_owned())
        .collect();
    assert!(
        emails.iter().any(|e| e.starts_with("'=hyperlink")),
        "{emails:?}"
    );
    assert!(!emails.iter().any(|e| e.starts_with('=')), "{emails:?}");
    // `--color always` colours even under NO_COLOR; `never` never does.
    let r = audit(&["--color", "always"], &[("NO_COLOR", "1")]);
    assert!(r.stdout.contains("\u{1b}[38;5;"), "{:?}", r.stdout);
    let r = audit(&["--color", "never"], &[]);
    assert!(!r.stdout.contains('\u{1b}'), "{:?}", r.stdout);

    // A baseline of these findings is an exceptions file audit reads back.
    let out = dir.path().join("ex.toml");
    let base = |owner: &str| {
        run_env(
            None,
            &[
                &["baseline"][..],
                &input,
                &[
                    "--owner",
                    owner,
                    "--reason",
                    "vendor",
                    "--days",
                    "30",
                    "--out",
                    arg(&out),
                ],
            ]
            .concat(),
            &[],
        )
    };
    let r = base(" ");
    assert_eq!(r.code, 2, "a blank owner is refused: {r:?}");
    assert!(!out.exists());
    let r = base("it@x.com");
    assert_eq!(r.code, 0, "{r:?}");
    let r = audit(&["--exceptions", arg(&out)], &[]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn a_file_named_twice_in_any_spelling_is_refused_before_anything_is_written() {
    let dir = hostile_inputs();
    let (jc, slack) = (dir.path().join("jc.json"), dir.path().join("slack.json"));
    let input = ["--jumpcloud", arg(&jc), "--slack", arg(&slack)];
    let r_json = dir.path().join("r.json");
    let r_dot = format!("{}/./r.json", arg(dir.path()));
    let r = run_env(
        None,
        &[
            &["audit"][..],
            &input,
            &[
                "--report",
                &format!("json={}", arg(&r_json)),
                "--report",
                &format!("csv={r_dot}"),
            ],
        ]
        .concat(),
        &[],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("twice"), "{r:?}");
    assert!(!r_json.exists());
    // plan: the plan file and its rows.
    let plan = dir.path().join("p.json");
    let r = run_env(
        None,
        &[
            &["plan"][..],
            &input,
            &[
                "--out",
                arg(&plan),
                "--output",
                &r_dot.replace("r.json", "p.json"),
            ],
        ]
        .concat(),
        &[],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(!plan.exists());
    // completions honour --output; --save is refused with file inputs.
    let comp = dir.path().join("comp.bash");
    let r = run_env(None, &["completions", "bash", "--output", arg(&comp)], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.is_empty()
            && std::fs::read_to_string(&comp)
                .unwrap()
                .contains("scimdrift")
    );
    let save = dir.path().join("saved");
    let r = run_env(
        None,
        &[&["audit"][..], &input, &["--save", arg(&save)]].concat(),
        &[],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--save"), "{r:?}");
}

#[test]
fn output_to_a_named_pipe_is_written_to_its_reader() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("report.pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let r = audit(&["--format", "json", "--output", arg(&fifo)], &[]);
    assert_eq!(r.code, 1, "{r:?}");
    let text = reader.join().unwrap();
    assert!(text.contains("\"schema_version\": 1"), "{text}");
    // Still a pipe, not replaced by a file; no temporary file left beside it.
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&kind));
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "{names:?}");
}
