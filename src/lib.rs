//! scimdrift: finds the Slack accounts that JumpCloud offboarding missed.
//!
//! It loads JumpCloud exports and Slack SCIM `/Users` listings (`source`), joins them into a
//! drift report (`analysis`, pure), and prints it for people or CI (`render`). This file wires
//! the commands together; it holds no logic of its own beyond settings precedence and I/O.

pub mod analysis;
pub mod apply;
pub mod cli;
pub mod config;
pub mod error;
pub mod exceptions;
pub mod live;
pub mod model;
pub mod output;
pub mod plan;
pub mod remote;
pub mod render;
pub mod report;
pub mod secret;
pub mod source;

use std::io::{IsTerminal, Write};

use crate::analysis::{Policy, Severity};
use crate::cli::{
    AuditArgs, Cli, ColorChoice, Command, FetchCommand, GlobalArgs, InputArgs, PlanArgs,
};
pub use crate::error::Error;
use crate::output::{write_all_whole, write_whole};
use crate::report::{ExitStatus, InputInfo, JumpCloudInput, Report, SlackInput};
use crate::source::{InputDigest, Loaded};

/// Sends `tracing` output to stderr at the level `-q`/`-v` ask for.
pub fn init_logging(global: &GlobalArgs) {
    let level = match (global.quiet, global.verbose) {
        (q, _) if q > 0 => tracing::Level::ERROR,
        (_, 0) => tracing::Level::WARN,
        (_, 1) => tracing::Level::INFO,
        (_, 2) => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    // Our own events at the chosen level; dependencies only when they warn.
    let deps = if global.quiet > 0 { "error" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::new(format!(
        "{deps},scimdrift={}",
        level.as_str().to_ascii_lowercase()
    ));
    let ansi = std::io::stderr().is_terminal()
        && global.color != ColorChoice::Never
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .try_init();
}

/// Runs the command; `Ok` carries the exit status (drift is not an error).
pub fn run(cli: &Cli) -> Result<ExitStatus, Error> {
    // `--report` is global (clap) but only a drift report has more formats to write: refused
    // elsewhere rather than ignored. `--output` takes every command's rows.
    if !matches!(cli.command, Command::Audit(_)) && !cli.global.report.is_empty() {
        return Err(Error::Usage {
            flag: "--report",
            problem: "only `audit` writes report files (--output takes this command's rows)"
                .to_owned(),
        });
    }
    // Commands that print no report: their flags for one are refused, not ignored.
    let reportless = match cli.command {
        Command::Fetch(_) => Some("`fetch` writes its pages to --out DIR and prints no report"),
        Command::Baseline(_) => {
            Some("`baseline` writes exceptions to --out FILE and prints no report")
        }
        _ => None,
    };
    if let Some(problem) = reportless {
        let flag = if cli.global.output.is_some() {
            Some("--output")
        } else if cli.global.format != cli::Format::Table {
            Some("--format")
        } else {
            None
        };
        if let Some(flag) = flag {
            return Err(Error::Usage {
                flag,
                problem: problem.to_owned(),
            });
        }
    }
    if matches!(cli.command, Command::Completions(_)) && cli.global.format != cli::Format::Table {
        return Err(Error::Usage {
            flag: "--format",
            problem: "`completions` prints a shell script, in no report format".to_owned(),
        });
    }
    if cli.global.color == ColorChoice::Always {
        // comfy-table colours through crossterm, which honours NO_COLOR by itself; `always`
        // means always (only `auto` honours NO_COLOR).
        crossterm::style::force_color_output(true);
    }
    refuse_outputs_over_inputs(cli)?;
    match &cli.command {
        Command::Audit(args) => audit(&cli.global, args),
        Command::Fetch(FetchCommand::Slack(args)) => live::fetch_slack(&cli.global, args),
        Command::Fetch(FetchCommand::Jumpcloud(args)) => live::fetch_jumpcloud(&cli.global, args),
        Command::Plan(args) => make_plan(&cli.global, args),
        Command::Apply(args) => apply::apply(&cli.global, args),
        Command::Verify(args) => apply::verify::verify(&cli.global, args),
        Command::Baseline(args) => baseline(&cli.global, args),
        Command::Completions(args) => {
            let mut buf = Vec::new();
            clap_complete::generate(
                args.shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "scimdrift",
                &mut buf,
            );
            deliver(&cli.global, &buf)?;
            Ok(ExitStatus::Clean)
        }
    }
}

/// The time stamped on reports and snapshots: `SOURCE_DATE_EPOCH` when set (reproducible
/// reports), else now.
pub fn now() -> jiff::Timestamp {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or_else(jiff::Timestamp::now)
}

fn use_color(choice: ColorChoice, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

fn info(digest: &InputDigest) -> InputInfo {
    InputInfo {
        paths: digest.paths.clone(),
        sha256: digest.sha256(),
    }
}

/// Turns completeness problems into an error, or (with `--allow-incomplete`) into notices.
/// `allow` is `None` for a command that has no such flag.
fn completeness<T>(
    what: &'static str,
    loaded: &Loaded<T>,
    allow: Option<bool>,
    notices: &mut Vec<String>,
) -> Result<bool, Error> {
    if loaded.problems.is_empty() {
        return Ok(true);
    }
    if allow != Some(true) {
        return Err(source::Error::Incomplete {
            what,
            problems: loaded.problems.clone(),
            hint: if allow.is_some() {
                source::RERUN_OR_ALLOW
            } else {
                source::RERUN
            },
        }
        .into());
    }
    notices.extend(
        loaded
            .problems
            .iter()
            .map(|p| format!("incomplete {what}: {p}")),
    );
    Ok(false)
}

/// `--jumpcloud PATH`, or a live read of `--jumpcloud-url` (saved with `--save`). A live read
/// fetches the users of `slack_apps` (the configured connectors and `--slack-app`), as
/// `fetch jumpcloud --slack-app` does; without them it finds the Slack connectors by name.
fn load_jumpcloud_input(
    global: &GlobalArgs,
    args: &InputArgs,
    slack_apps: &[String],
) -> Result<(Loaded<model::JumpCloud>, Option<source::Snapshot>), Error> {
    if let Some(url) = &args.jumpcloud_url {
        // The connectors' users are fetched, but not written into the manifest: there they
        // would narrow the connectors (`--slack-app` would hide multi-connector groups).
        let live = live::read_jumpcloud(
            global,
            url,
            &args.jumpcloud_auth,
            &args.net,
            slack_apps,
            false,
        )?;
        let root = live.snapshot.root().to_path_buf();
        let loaded = source::load_jumpcloud_from(&live.snapshot, &root)
            .inspect_err(|_| keep_unparsed(args, "jumpcloud", &live.snapshot))?;
        // Kept only to be saved: the raw pages are as large as the input.
        return Ok((loaded, args.save.is_some().then_some(live.snapshot)));
    }
    let path = args
        .jumpcloud
        .as_deref()
        .unwrap_or(std::path::Path::new("."));
    Ok((source::load_jumpcloud(path)?, None))
}

/// `--slack PATH…`, or a live read of `--slack-url` (saved with `--save`).
fn load_slack_input(
    global: &GlobalArgs,
    args: &InputArgs,
) -> Result<(Loaded<model::SlackListing>, Option<source::Snapshot>), Error> {
    if let Some(url) = &args.slack_url {
        let live = live::read_slack(global, url, &args.slack_auth, &args.net, false)?;
        let root = live.snapshot.root().to_path_buf();
        let loaded = source::load_slack_from(&live.snapshot, &[root])
            .inspect_err(|_| keep_unparsed(args, "slack", &live.snapshot))?;
        return Ok((loaded, args.save.is_some().then_some(live.snapshot)));
    }
    Ok((source::load_slack(&args.slack)?, None))
}

/// With `--save DIR`, keeps a live read whose pages could not be parsed as `DIR/NAME.unparsed`,
/// where the record the error names can be looked at; `DIR/NAME` stays free for the next run.
fn keep_unparsed(args: &InputArgs, name: &str, snapshot: &source::Snapshot) {
    let Some(dir) = &args.save else {
        return;
    };
    let target = dir.join(format!("{name}.unparsed"));
    match snapshot.write_to(&target) {
        Ok(()) => tracing::warn!(
            "the {name} read could not be parsed; its pages are saved in {} (paths as in the error)",
            target.display()
        ),
        Err(e) => tracing::warn!("the {name} read could not be parsed, nor saved: {e}"),
    }
}

/// Loads both inputs and runs the analysis: the common part of `audit` and `plan`.
fn build_report(
    global: &GlobalArgs,
    args: &InputArgs,
    allow_incomplete: Option<bool>,
) -> Result<(Report, model::SlackListing, config::FileConfig), Error> {
    if args.save.is_some() && args.slack_url.is_none() && args.jumpcloud_url.is_none() {
        return Err(Error::Usage {
            flag: "--save",
            problem: "keeps what a live read fetched (--slack-url or --jumpcloud-url); these inputs are files already".to_owned(),
        });
    }
    let config = config::load(global.config.as_deref())?;
    let scim_enabled_at = match &args.scim_enabled_at {
        Some(s) => Some(config::parse_instant(s).map_err(|problem| Error::Usage {
            flag: "--scim-enabled-at",
            problem,
        })?),
        None => config.scim_enabled_at,
    };
    let policy = Policy {
        scim_enabled_at,
        slack_app_ids: config.slack_app_ids.clone(),
        slack_app: args.slack_app.clone(),
        severity_overrides: config.severity.clone(),
    };

    let started = std::time::Instant::now();
    // The JumpCloud side of the join does not need the Slack listing: it is built on the
    // JumpCloud thread while the listing is still loading.
    let jc_cell: std::sync::OnceLock<Loaded<model::JumpCloud>> = std::sync::OnceLock::new();
    let (jc, slack) = std::thread::scope(|scope| {
        let jc = scope.spawn(|| {
            let slack_apps: Vec<String> = policy
                .slack_app_ids
                .iter()
                .chain(&policy.slack_app)
                .cloned()
                .collect();
            let loaded = load_jumpcloud_input(global, args, &slack_apps);
            tracing::info!(
                "JumpCloud input loaded in {} ms",
                started.elapsed().as_millis()
            );
            loaded.map(|(loaded, snapshot)| {
                let jc = jc_cell.get_or_init(|| loaded);
                let prepared = analysis::prepare(&jc.data, &policy);
                tracing::info!(
                    "JumpCloud side of the join built in {} ms",
                    started.elapsed().as_millis()
                );
                (jc, prepared, snapshot)
            })
        });
        let slack = load_slack_input(global, args);
        tracing::info!("Slack input loaded in {} ms", started.elapsed().as_millis());
        let jc = jc
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (jc, slack)
    });
    let ((jc, prepared, jc_snapshot), (slack, slack_snapshot)) = (jc?, slack?);
    // `--save` keeps what was read, once both reads have succeeded (never one side alone); the
    // pages are let go either way.
    for (snapshot, name) in [(slack_snapshot, "slack"), (jc_snapshot, "jumpcloud")] {
        if let (Some(dir), Some(snapshot)) = (&args.save, snapshot) {
            snapshot.write_to(&dir.join(name))?;
        }
    }
    tracing::info!(
        jumpcloud_users = jc.data.users.len(),
        slack_users = slack.data.users.len(),
        "inputs loaded"
    );

    let mut notices = Vec::new();
    let jc_complete = completeness("JumpCloud export", jc, allow_incomplete, &mut notices)?;
    let slack_complete = completeness("Slack listing", &slack, allow_incomplete, &mut notices)?;
    notices.extend(jc.notices.iter().cloned());
    notices.extend(slack.notices.iter().cloned());

    let analysed = std::time::Instant::now();
    let mut analysis = prepared?.diff(&slack.data, &policy);
    tracing::info!("analysed in {} ms", analysed.elapsed().as_millis());
    notices.append(&mut analysis.notices);
    let report = Report {
        generated_at: now(),
        complete: jc_complete && slack_complete,
        jumpcloud: JumpCloudInput {
            info: info(&jc.digest),
            users: jc.data.users.len(),
            groups: jc.data.groups.as_ref().map_or(0, Vec::len),
            applications: jc.data.applications.len(),
        },
        slack: SlackInput {
            info: info(&slack.digest),
            scim_version: slack.data.scim_version,
            users: slack.data.users.len(),
            total_results: slack.data.total_results,
        },
        notices,
        analysis,
    };
    // The loaded inputs are large and about to go; the process exit frees them faster than
    // dropping a million small strings one by one.
    std::mem::forget(jc_cell);
    Ok((report, slack.data, config))
}

/// Refuses, before anything is read, a command's output files that would land on what it reads
/// or fills: its inputs, a `--save` directory, the config, exceptions, a plan or a journal.
fn refuse_outputs_over_inputs(cli: &Cli) -> Result<(), Error> {
    use std::path::{Path, PathBuf};
    let global = &cli.global;
    let mut outputs: Vec<&Path> = global
        .output
        .iter()
        .chain(global.report.iter().map(|(_, p)| p))
        .map(PathBuf::as_path)
        .collect();
    let mut inputs: Vec<PathBuf> = global.config.iter().cloned().collect();
    inputs.push(PathBuf::from("scimdrift.toml"));
    let sources = |input: &InputArgs| -> Vec<PathBuf> {
        input
            .jumpcloud
            .iter()
            .chain(&input.slack)
            .chain(&input.save)
            .cloned()
            .collect()
    };
    match &cli.command {
        Command::Audit(a) => {
            inputs.extend(sources(&a.input));
            inputs.extend(a.exceptions.clone());
        }
        Command::Plan(a) => {
            outputs.push(&a.out);
            inputs.extend(sources(&a.input));
            inputs.extend(a.exceptions.clone());
        }
        Command::Baseline(a) => {
            outputs.push(&a.out);
            inputs.extend(sources(&a.input));
        }
        Command::Apply(a) => inputs.extend([a.plan.clone(), apply::journal_path(a)]),
        Command::Verify(a) => {
            inputs.extend(
                [&a.plan, &a.journal, &a.emails, &a.jumpcloud]
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
        Command::Fetch(_) | Command::Completions(_) => {}
    }
    output::refuse_over_inputs(outputs, inputs.iter().map(PathBuf::as_path))
}

/// Writes a command's rows to `--output` (whole, or not at all) or stdout.
pub fn deliver(global: &GlobalArgs, bytes: &[u8]) -> Result<(), Error> {
    match &global.output {
        Some(path) => write_whole(path, bytes),
        None => emit(bytes),
    }
}

/// Writes `bytes` to stdout whole.
fn emit(bytes: &[u8]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}

/// `scimdrift plan`: never from incomplete inputs.
fn make_plan(global: &GlobalArgs, args: &PlanArgs) -> Result<ExitStatus, Error> {
    let (mut report, slack, config) = build_report(global, &args.input, None)?;
    // A plan changes accounts: its exceptions expire by the real clock, whatever
    // SOURCE_DATE_EPOCH says (a date in the future would drop every exception).
    let today = utc_day(jiff::Timestamp::now());
    apply_exceptions(&mut report, args.exceptions.as_deref(), &config, today)?;
    let include: Vec<analysis::FindingCode> = args
        .include
        .iter()
        .map(|i| match i {
            cli::IncludeArg::UnknownActive => analysis::FindingCode::UnknownActive,
        })
        .collect();
    let plan = plan::build(&report, &slack, &include);
    // The listing is large and no longer needed: let the process exit free it.
    std::mem::forget(slack);
    let mut bytes = serde_json::to_vec_pretty(&plan).map_err(|e| Error::Output(e.into()))?;
    bytes.push(b'\n');
    let mut buf = Vec::new();
    match global.format {
        cli::Format::Json => buf.extend_from_slice(&bytes),
        other => plan::write_rows(&plan, other, &mut buf).map_err(Error::Output)?,
    }
    // With --output, the plan and its rows are one set: the same file named for both (any
    // spelling) is refused before either is written.
    if let Some(rows) = &global.output {
        write_all_whole(&[(&args.out, &bytes), (rows, &buf)])?;
    } else {
        write_whole(&args.out, &bytes)?;
        emit(&buf)?;
    }
    if global.quiet == 0 {
        let _ = writeln!(
            std::io::stderr().lock(),
            "scimdrift: plan of {} deactivation(s) written to {}; review it, then `scimdrift apply {} --slack-url …`",
            plan.actions.len(),
            args.out.display(),
            args.out.display()
        );
    }
    Ok(ExitStatus::Clean)
}

/// `scimdrift baseline`: exceptions for today's findings, appended to `--out` (whose entries
/// are kept).
fn baseline(global: &GlobalArgs, args: &cli::BaselineArgs) -> Result<ExitStatus, Error> {
    for (flag, value) in [("--owner", &args.owner), ("--reason", &args.reason)] {
        if value.trim().is_empty() {
            return Err(Error::Usage {
                flag,
                problem:
                    "is required and may not be blank (an exception needs an owner and a reason)"
                        .to_owned(),
            });
        }
    }
    let (report, _, config) = build_report(global, &args.input, None)?;
    let days = i64::from(args.days);
    if days > config.max_exception_days {
        return Err(Error::Usage {
            flag: "--days",
            problem: format!(
                "{days} is more than max_exception_days ({})",
                config.max_exception_days
            ),
        });
    }
    let existing_text = match std::fs::read_to_string(&args.out) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(source::Error::Read {
                path: args.out.clone(),
                source,
            }
            .into());
        }
    };
    let existing = if existing_text.is_empty() {
        Vec::new()
    } else {
        exceptions::load(&args.out, utc_day(now()), config.max_exception_days)?
    };
    let mut covered = report.analysis.findings.clone();
    exceptions::apply(&mut covered, &existing, utc_day(now()));
    let expires = utc_day(now())
        .checked_add(jiff::Span::new().days(days))
        .map_err(|e| Error::Usage {
            flag: "--days",
            problem: e.to_string(),
        })?;
    let mut text = existing_text.clone();
    let mut added = 0;
    for f in covered.iter().filter(|f| f.counts()) {
        if matches!(
            f.code,
            analysis::FindingCode::ExpiredException | analysis::FindingCode::StaleException
        ) {
            continue;
        }
        let (key, value) = if let Some(g) = &f.jumpcloud_group_id {
            ("jumpcloud_group_id", g.clone())
        } else if let Some(id) = &f.slack_user_id {
            ("slack_user_id", id.clone())
        } else if let Some(e) = &f.email {
            ("email", e.clone())
        } else {
            continue;
        };
        let mut entry = toml::Table::new();
        entry.insert(key.to_owned(), toml::Value::String(value));
        entry.insert(
            "codes".to_owned(),
            toml::Value::Array(vec![toml::Value::String(f.code.as_str().to_owned())]),
        );
        entry.insert(
            "reason".to_owned(),
            toml::Value::String(args.reason.clone()),
        );
        entry.insert("owner".to_owned(), toml::Value::String(args.owner.clone()));
        entry.insert(
            "expires".to_owned(),
            toml::Value::String(expires.to_string()),
        );
        if let Some(t) = &args.ticket {
            entry.insert("ticket".to_owned(), toml::Value::String(t.clone()));
        }
        let mut doc = toml::Table::new();
        doc.insert(
            "exception".to_owned(),
            toml::Value::Array(vec![toml::Value::Table(entry)]),
        );
        if !text.is_empty() && !text.ends_with("\n\n") {
            text.push_str(if text.ends_with('\n') { "\n" } else { "\n\n" });
        }
        text.push_str("# ");
        text.push_str(&render::visible(&f.message));
        text.push('\n');
        text.push_str(&toml::to_string(&doc).map_err(|e| Error::Output(std::io::Error::other(e)))?);
        added += 1;
    }
    write_whole(&args.out, text.as_bytes())?;
    if global.quiet == 0 {
        let _ = writeln!(
            std::io::stderr().lock(),
            "scimdrift: {added} exception(s) added to {} (expiring {expires}); {} kept",
            args.out.display(),
            existing.len()
        );
    }
    Ok(ExitStatus::Clean)
}

/// The UTC calendar day of `at` (exception expiry is by calendar day, in UTC).
fn utc_day(at: jiff::Timestamp) -> jiff::civil::Date {
    at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
}

/// The exceptions of `--exceptions` or the config, applied to the report's findings as of
/// `today`.
fn apply_exceptions(
    report: &mut Report,
    flag: Option<&std::path::Path>,
    config: &config::FileConfig,
    today: jiff::civil::Date,
) -> Result<(), Error> {
    let Some(path) = flag
        .map(std::path::Path::to_path_buf)
        .or_else(|| config.exceptions.clone())
    else {
        return Ok(());
    };
    let list = exceptions::load(&path, today, config.max_exception_days)?;
    let findings = &mut report.analysis.findings;
    exceptions::apply(findings, &list, today);
    // `[severity]` covers the findings exceptions add too (expired, stale).
    for f in findings.iter_mut() {
        if let Some(sev) = config.severity.get(&f.code) {
            f.severity = *sev;
        }
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(())
}

fn audit(global: &GlobalArgs, args: &AuditArgs) -> Result<ExitStatus, Error> {
    let (mut report, slack, config) =
        build_report(global, &args.input, Some(args.allow_incomplete))?;
    // Only the report is needed from here: let the process exit free the listing.
    std::mem::forget(slack);
    apply_exceptions(
        &mut report,
        args.exceptions.as_deref(),
        &config,
        utc_day(now()),
    )?;
    let fail_on = args
        .fail_on
        .map(Severity::from)
        .or(config.fail_on)
        .unwrap_or(Severity::Error);

    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal() && global.output.is_none();
    let opts = render::Options {
        style: render::Style {
            color: use_color(global.color, terminal),
            terminal,
        },
        fail_on,
        show_suppressed: args.show_suppressed,
    };
    // Every output is rendered whole before it is written: a failed render writes nothing.
    let mut buf = Vec::with_capacity(64 * 1024);
    render::write(&report, global.format, opts, &mut buf).map_err(Error::Output)?;
    let plain = render::Options {
        style: render::Style::default(),
        ..opts
    };
    // Every file of the run (`--output`, each `--report`) is written, or none of them is.
    let mut reports = Vec::with_capacity(global.report.len());
    for (format, path) in &global.report {
        let mut one = Vec::new();
        render::write(&report, *format, plain, &mut one).map_err(Error::Output)?;
        reports.push((path.as_path(), one));
    }
    let mut files: Vec<(&std::path::Path, &[u8])> =
        reports.iter().map(|(p, b)| (*p, b.as_slice())).collect();
    if let Some(path) = &global.output {
        files.insert(0, (path.as_path(), &buf));
    }
    write_all_whole(&files)?;
    if global.output.is_none() {
        emit(&buf)?;
    }
    if global.quiet == 0 {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}", render::summary_line(&report));
    }
    Ok(if args.exit_zero {
        ExitStatus::Clean
    } else {
        report.exit_status(fail_on)
    })
}
