//! The command line (clap derive): commands, flags and their help. Parsing only; `lib.rs` turns
//! these into settings and runs them.

// Doc comments here are the --help text, read in a terminal, not rendered Markdown.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::analysis::Severity;

const EXIT_STATUS: &str = "\
Exit status:
  0  success; audit: no finding at or above --fail-on; verify: no account still active
  1  audit: drift, findings at or above --fail-on (default: error); verify: some still active
  2  could not run: usage, config, unreadable, invalid or incomplete input, auth or network
     failure, a URL that is not a SCIM API; apply: also stopped before any PATCH
  3  apply ran but some accounts were refused, failed, stayed unconfirmed or not attempted";

const AUDIT_EXIT: &str = "\
Exit status:
  0  no finding at or above --fail-on (or --exit-zero)
  1  drift: findings at or above --fail-on (default: error)
  2  could not run: usage, config, unreadable, invalid or incomplete input, auth or network
     failure while reading live";

const APPLY_EXIT: &str = "\
Exit status:
  0  every action done: deactivated and confirmed, or skipped by rule (dry run: would be)
  2  could not run: usage, config, an invalid, stale or incomplete plan, a guard refused it,
     auth or network failure, a URL that is not a SCIM API, stopped before any PATCH, every
     account read answered \"no such user\" (the token is another organisation's)
  3  ran, but some accounts were refused, failed, stayed unconfirmed or were not attempted
     (dry run: some would be refused)";

const VERIFY_EXIT: &str = "\
Exit status:
  0  no account checked is still active
  1  some account is still active
  2  could not run: usage, config, unreadable, invalid or incomplete input (plan, journal,
     emails, export), auth or network failure, a URL that is not a SCIM API, not one id of
     the plan or journal found (the token is another organisation's), a missing journal";

const OTHER_EXIT: &str = "\
Exit status:
  0  done
  2  could not run: usage, config, unreadable, invalid or incomplete input, auth or network
     failure";

const AUDIT_EXAMPLES: &str = "\
Examples:
  scimdrift audit --jumpcloud fixtures/demo/jumpcloud --slack fixtures/demo/slack
  scimdrift audit --jumpcloud users.csv --slack pages/ --format json > drift.json
  scimdrift audit --jumpcloud bundle/ --slack users-v1.json --slack-app 5e0f1a2b3c4d5e6f7a8b9c0d
  scimdrift audit --jumpcloud bundle/ --slack pages/ --fail-on warning
  SLACK_SCIM_TOKEN=xoxp-… JUMPCLOUD_API_KEY=… scimdrift audit \\
    --slack-url https://api.slack.com/scim/v2 --jumpcloud-url https://console.jumpcloud.com --save snap/";

const PLAN_EXAMPLES: &str = "\
Examples:
  scimdrift plan --jumpcloud jc/ --slack slack/ --out plan.json
  scimdrift plan --jumpcloud jc/ --slack slack/ --out plan.json --include unknown-active --format json";

const APPLY_EXAMPLES: &str = "\
Examples:
  scimdrift apply plan.json --slack-url https://api.slack.com/scim/v2            # dry run
  scimdrift apply plan.json --slack-url https://api.slack.com/scim/v2 --yes      # for real
  scimdrift apply plan.json --slack-url … --yes --journal run.jsonl              # resumable";

const VERIFY_EXAMPLES: &str = "\
Examples:
  scimdrift verify --plan plan.json --slack-url https://api.slack.com/scim/v2
  scimdrift verify --emails offboarded.txt --slack-url https://api.slack.com/scim/v2
  scimdrift verify --jumpcloud jc/ --slack-url https://api.slack.com/scim/v2 --format json";

const BASELINE_EXAMPLES: &str = "\
Examples:
  scimdrift baseline --jumpcloud jc/ --slack slack/ --owner it@acme.example \\
    --reason \"accepted at rollout\" --days 90 --ticket SEC-42 --out exceptions.toml
  scimdrift audit --jumpcloud jc/ --slack slack/ --exceptions exceptions.toml";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  scimdrift completions bash > /etc/bash_completion.d/scimdrift
  scimdrift completions zsh > \"${fpath[1]}/_scimdrift\"
  scimdrift completions fish > ~/.config/fish/completions/scimdrift.fish";

const FETCH_SLACK_EXAMPLES: &str = "\
Examples:
  SLACK_SCIM_TOKEN=xoxp-… scimdrift fetch slack --url https://api.slack.com/scim/v2 --out slack-snap/
  scimdrift fetch slack --url https://api.slack.com/scim/v1 --token-file ~/.slack-token --out snap/
  scimdrift audit --jumpcloud jc/ --slack slack-snap/";

const FETCH_JUMPCLOUD_EXAMPLES: &str = "\
Examples:
  JUMPCLOUD_API_KEY=… scimdrift fetch jumpcloud --out jc-bundle/
  scimdrift fetch jumpcloud --url https://console.eu.jumpcloud.com --org-id 5f1e… --api-key-file key --out jc/
  scimdrift audit --jumpcloud jc-bundle/ --slack slack-snap/";

/// Finds Slack accounts that JumpCloud offboarding missed, and reports them for people and CI.
#[derive(Debug, Parser)]
#[command(name = "scimdrift", version, after_long_help = EXIT_STATUS)]
pub struct Cli {
    /// Options for every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options for every command.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Report format on stdout.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// When to colour the table (`auto` honours `NO_COLOR` and whether stdout is a terminal).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Less on stderr: only errors (and no summary line).
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "verbose")]
    pub quiet: u8,
    /// More on stderr: -v info, -vv debug, -vvv trace.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Config file [default: ./scimdrift.toml when it exists].
    #[arg(long, global = true, value_name = "FILE", env = "SCIMDRIFT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Write the --format report to FILE instead of stdout (whole, or not at all).
    #[arg(long, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// audit: also write the report as FORMAT to FILE (repeatable): json=drift.json junit=drift.xml …
    #[arg(long, global = true, value_name = "FORMAT=FILE", value_parser = parse_report)]
    pub report: Vec<(Format, PathBuf)>,
}

/// Parses `--report FORMAT=FILE`.
fn parse_report(raw: &str) -> Result<(Format, PathBuf), String> {
    let (format, file) = raw
        .split_once('=')
        .ok_or_else(|| format!("`{raw}` is not FORMAT=FILE (e.g. junit=drift.xml)"))?;
    let format = <Format as ValueEnum>::from_str(format.trim(), true)
        .map_err(|_| format!("unknown format `{format}` (table, json, markdown, csv or junit)"))?;
    if file.trim().is_empty() {
        return Err(format!("`{raw}` names no file"));
    }
    Ok((format, PathBuf::from(file)))
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diff JumpCloud against Slack and print the drift report.
    #[command(after_long_help = format!("{AUDIT_EXAMPLES}\n\n{AUDIT_EXIT}"))]
    Audit(AuditArgs),
    /// Save live data as the files `audit` reads (raw API pages and a manifest). GET only.
    #[command(subcommand)]
    Fetch(FetchCommand),
    /// Write plan.json: the Slack accounts to deactivate and why (same inputs as audit).
    #[command(after_long_help = format!("{PLAN_EXAMPLES}\n\n{OTHER_EXIT}"))]
    Plan(PlanArgs),
    /// Execute a plan: re-read, PATCH active:false, confirm, journal. Dry run without --yes.
    #[command(after_long_help = format!("{APPLY_EXAMPLES}\n\n{APPLY_EXIT}"))]
    Apply(ApplyArgs),
    /// Re-read Slack for a plan, a journal, emails or JumpCloud-inactive users; exit 1 if any
    /// is still active.
    #[command(after_long_help = format!("{VERIFY_EXAMPLES}\n\n{VERIFY_EXIT}"))]
    Verify(VerifyArgs),
    /// Write exceptions covering today's findings (owner and expiry required).
    #[command(after_long_help = format!("{BASELINE_EXAMPLES}\n\n{OTHER_EXIT}"))]
    Baseline(BaselineArgs),
    /// Print shell completions.
    #[command(after_long_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
}

/// `scimdrift fetch …`.
#[derive(Debug, Subcommand)]
pub enum FetchCommand {
    /// Save Slack SCIM /Users and /Groups pages.
    #[command(after_long_help = format!("{FETCH_SLACK_EXAMPLES}\n\n{OTHER_EXIT}"))]
    Slack(FetchSlackArgs),
    /// Save a JumpCloud export bundle (users, applications, groups, members, bindings).
    #[command(after_long_help = format!("{FETCH_JUMPCLOUD_EXAMPLES}\n\n{OTHER_EXIT}"))]
    Jumpcloud(FetchJumpCloudArgs),
}

/// Reading Slack live.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Slack SCIM")]
pub struct SlackAuth {
    /// File holding the Slack SCIM token [default: the SLACK_SCIM_TOKEN variable].
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// SCIM version, when the base URL does not end in /v1 or /v2.
    #[arg(long, value_enum, value_name = "VERSION")]
    pub scim_version: Option<ScimVersionArg>,
    /// Users per page (Slack's maximum is 1000).
    #[arg(long, default_value_t = 1000, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub page_size: u32,
}

/// Reading JumpCloud live.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "JumpCloud")]
pub struct JumpCloudAuth {
    /// File holding the JumpCloud API key [default: the JUMPCLOUD_API_KEY variable].
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// Organisation id, for multi-tenant (MTP) admins (sent as x-org-id).
    #[arg(long, value_name = "ID")]
    pub org_id: Option<String>,
}

/// How hard to push the APIs.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Network")]
pub struct NetArgs {
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Client-side limit, requests per minute per service (Slack allows 1000 reads/min per org,
    /// shared with your IdP's connector; JumpCloud publishes no limit).
    #[arg(long, default_value_t = 900, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_rpm: u32,
    /// Per-request timeout, in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Times to re-read a listing that changes while it is paged before giving up.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub max_rereads: u32,
    /// Retries of one request after a 5xx or a transport error (429s are waited out apart).
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=20))]
    pub max_retries: u32,
}

/// `scimdrift fetch slack`.
#[derive(Debug, Args)]
pub struct FetchSlackArgs {
    /// SCIM base URL (https://api.slack.com/scim/v2; http only to loopback).
    #[arg(long, value_name = "SCIM_BASE")]
    pub url: String,
    /// Directory to create (must not exist, or be empty); written whole or not at all.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Do not fetch /Groups.
    #[arg(long)]
    pub no_groups: bool,
    /// Credentials and paging.
    #[command(flatten)]
    pub auth: SlackAuth,
    /// Concurrency, rate limit, timeouts.
    #[command(flatten)]
    pub net: NetArgs,
}

/// `scimdrift fetch jumpcloud`.
#[derive(Debug, Args)]
pub struct FetchJumpCloudArgs {
    /// API base URL.
    #[arg(
        long,
        value_name = "BASE",
        default_value = "https://console.jumpcloud.com"
    )]
    pub url: String,
    /// Directory to create (must not exist, or be empty); written whole or not at all.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Slack connector application id (repeatable); recorded in the manifest. Default: found by
    /// name, label or ACS URL.
    #[arg(long = "slack-app", value_name = "ID")]
    pub slack_apps: Vec<String>,
    /// Credentials.
    #[command(flatten)]
    pub auth: JumpCloudAuth,
    /// Concurrency, rate limit, timeouts.
    #[command(flatten)]
    pub net: NetArgs,
}

/// The inputs of `audit` and `plan`: files, or live reads.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// JumpCloud export: bundle directory, users page or array (.json), or CSV.
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "jumpcloud_url",
        conflicts_with = "jumpcloud_url"
    )]
    pub jumpcloud: Option<PathBuf>,
    /// Read JumpCloud live from this API base (https://console.jumpcloud.com).
    #[arg(long, value_name = "BASE")]
    pub jumpcloud_url: Option<String>,
    /// Slack SCIM /Users listing: pages, a directory of pages, or a bare array; repeatable.
    #[arg(long, value_name = "PATH", num_args = 1.., action = ArgAction::Append, required_unless_present = "slack_url", conflicts_with = "slack_url")]
    pub slack: Vec<PathBuf>,
    /// Read Slack live from this SCIM base URL (https://api.slack.com/scim/v2).
    #[arg(long, value_name = "SCIM_BASE")]
    pub slack_url: Option<String>,
    /// Keep what was read live: DIR/slack and DIR/jumpcloud, as `fetch` writes them.
    #[arg(long, value_name = "DIR")]
    pub save: Option<PathBuf>,
    /// When SCIM was switched on (2024-03-01 or RFC 3339): older unlinked accounts are legacy.
    #[arg(long, value_name = "DATE")]
    pub scim_enabled_at: Option<String>,
    /// Check entitlement against this JumpCloud application (Slack connector) only.
    #[arg(long, value_name = "ID")]
    pub slack_app: Option<String>,
    /// Slack credentials and paging, for `--slack-url`.
    #[command(flatten)]
    pub slack_auth: SlackAuth,
    /// JumpCloud credentials, for `--jumpcloud-url`.
    #[command(flatten)]
    pub jumpcloud_auth: JumpCloudAuth,
    /// Concurrency, rate limit, timeouts.
    #[command(flatten)]
    pub net: NetArgs,
}

/// `scimdrift audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Where the data comes from.
    #[command(flatten)]
    pub input: InputArgs,
    /// Lowest severity that makes the exit status 1 [default: error, or fail_on in the config].
    #[arg(
        long,
        help_heading = "Report",
        value_enum,
        value_name = "SEVERITY",
        env = "SCIMDRIFT_FAIL_ON"
    )]
    pub fail_on: Option<SeverityArg>,
    /// Exit 0 whatever the findings (report-only jobs); input errors still exit 2.
    #[arg(long, help_heading = "Report")]
    pub exit_zero: bool,
    /// Report on inputs that fail the completeness checks, marked "complete": false.
    #[arg(long, help_heading = "Report")]
    pub allow_incomplete: bool,
    /// Accepted drift, with owner and expiry (TOML) [default: exceptions in the config].
    #[arg(
        long,
        help_heading = "Report",
        value_name = "FILE",
        env = "SCIMDRIFT_EXCEPTIONS"
    )]
    pub exceptions: Option<PathBuf>,
    /// List suppressed findings in the table too.
    #[arg(long, help_heading = "Report")]
    pub show_suppressed: bool,
}

/// `scimdrift baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Where the data comes from.
    #[command(flatten)]
    pub input: InputArgs,
    /// Who answers for the accepted drift (required).
    #[arg(long, help_heading = "Exceptions", value_name = "WHO")]
    pub owner: String,
    /// Why it is accepted (required).
    #[arg(long, help_heading = "Exceptions", value_name = "TEXT")]
    pub reason: String,
    /// Days until the exceptions expire (at most max_exception_days).
    #[arg(long, help_heading = "Exceptions", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    /// A ticket reference to record.
    #[arg(long, help_heading = "Exceptions", value_name = "ID")]
    pub ticket: Option<String>,
    /// The exceptions file to write; an existing one keeps its entries.
    #[arg(long, help_heading = "Exceptions", value_name = "FILE")]
    pub out: PathBuf,
}

/// `scimdrift completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `scimdrift plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Where the data comes from (complete inputs only).
    #[command(flatten)]
    pub input: InputArgs,
    /// Where to write the plan (JSON).
    #[arg(long, help_heading = "Plan", value_name = "FILE")]
    pub out: PathBuf,
    /// Also deactivate accounts of this code (only `unknown-active` is allowed).
    #[arg(long, help_heading = "Plan", value_enum, value_name = "CODE")]
    pub include: Vec<IncludeArg>,
    /// Accepted drift (TOML); accounts it covers are never planned [default: exceptions in the
    /// config].
    #[arg(
        long,
        help_heading = "Plan",
        value_name = "FILE",
        env = "SCIMDRIFT_EXCEPTIONS"
    )]
    pub exceptions: Option<PathBuf>,
}

/// Codes `plan --include` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IncludeArg {
    /// Active Slack accounts no JumpCloud user matches.
    UnknownActive,
}

/// `scimdrift apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan (from `scimdrift plan`).
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// SCIM base URL (https://api.slack.com/scim/v2; http only to loopback).
    #[arg(long, value_name = "SCIM_BASE")]
    pub slack_url: String,
    /// Really send the PATCHes. Without it: a dry run (GETs only).
    #[arg(long)]
    pub yes: bool,
    /// Journal file (JSON Lines) [default: PLAN.journal.jsonl]; re-using it resumes a run.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Refuse plans with more actions: N, or P% of the active accounts [default: 25 and 10%].
    #[arg(long, value_name = "N|P%")]
    pub max_changes: Option<String>,
    /// Refuse plans older than this (s, m, h, d).
    #[arg(long, value_name = "AGE", default_value = "24h")]
    pub max_plan_age: String,
    /// How long to re-read a PATCHed account before calling it unconfirmed (s, m, h, d).
    #[arg(long, value_name = "TIME", default_value = "30s")]
    pub confirm_timeout: String,
    /// Client-side write limit per minute (Slack: 180/min per endpoint, 600/min per org).
    #[arg(long, value_name = "N", default_value_t = 170, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_writes_per_minute: u32,
    /// Client-side limit on reads of single accounts per minute (Slack: 300/min for GET
    /// /Users/{id}); each action reads its account once before the PATCH, and confirms it
    /// through the listing (`filter=userName eq`, under --max-rpm).
    #[arg(long, value_name = "N", default_value_t = 280, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_reads_per_minute: u32,
    /// File holding the Slack SCIM token [default: the SLACK_SCIM_TOKEN variable].
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// SCIM version, when the base URL does not end in /v1 or /v2.
    #[arg(long, value_enum, value_name = "VERSION")]
    pub scim_version: Option<ScimVersionArg>,
    /// Concurrency, rate limit, timeouts.
    #[command(flatten)]
    pub net: NetArgs,
}

/// `scimdrift verify`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("targets").required(true).args(["plan", "journal", "emails", "jumpcloud"])))]
pub struct VerifyArgs {
    /// Check the accounts of this plan.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Check the accounts of this apply journal.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Check these emails (one per line; # starts a comment).
    #[arg(long, value_name = "FILE")]
    pub emails: Option<PathBuf>,
    /// Check every user this JumpCloud export says is suspended, staged or password-expired.
    #[arg(long, value_name = "PATH")]
    pub jumpcloud: Option<PathBuf>,
    /// SCIM base URL (https://api.slack.com/scim/v2; http only to loopback).
    #[arg(long, value_name = "SCIM_BASE")]
    pub slack_url: String,
    /// File holding the Slack SCIM token [default: the SLACK_SCIM_TOKEN variable].
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// SCIM version, when the base URL does not end in /v1 or /v2.
    #[arg(long, value_enum, value_name = "VERSION")]
    pub scim_version: Option<ScimVersionArg>,
    /// Client-side limit on reads of single accounts per minute (Slack: 300/min for GET
    /// /Users/{id}).
    #[arg(long, value_name = "N", default_value_t = 280, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_reads_per_minute: u32,
    /// Concurrency, rate limit, timeouts.
    #[command(flatten)]
    pub net: NetArgs,
}

/// `--scim-version` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScimVersionArg {
    /// SCIM 1.1 (`/scim/v1`).
    V1,
    /// SCIM 2.0 (`/scim/v2`).
    V2,
}

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people (plain ASCII when stdout is not a terminal).
    Table,
    /// The JSON report, `schema_version` 1.
    Json,
    /// A Markdown job summary: totals, then a collapsed table per code.
    Markdown,
    /// One CSV row per finding, every JSON key.
    Csv,
    /// JUnit XML: a testsuite per code, a testcase per finding.
    Junit,
}

/// Colour choice for the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `--fail-on` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    /// Fail on errors only.
    Error,
    /// Fail on warnings and errors.
    Warning,
    /// Fail on any finding.
    Info,
}

impl From<SeverityArg> for Severity {
    fn from(s: SeverityArg) -> Self {
        match s {
            SeverityArg::Error => Self::Error,
            SeverityArg::Warning => Self::Warning,
            SeverityArg::Info => Self::Info,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
