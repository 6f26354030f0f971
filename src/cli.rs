//! The command line (clap derive): commands, flags and their help. Parsing only; `lib.rs` turns
//! these into settings and runs them.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::analysis::Severity;

const EXIT_STATUS: &str = "\
Exit status:
  0  no finding at or above --fail-on
  1  drift: findings at or above --fail-on (default: error)
  2  could not run: usage, config, unreadable, invalid or incomplete input
  3  apply ran but some users failed or could not be confirmed";

const AUDIT_EXAMPLES: &str = "\
Examples:
  scimdrift audit --jumpcloud fixtures/demo/jumpcloud --slack fixtures/demo/slack
  scimdrift audit --jumpcloud users.csv --slack pages/ --format json > drift.json
  scimdrift audit --jumpcloud bundle/ --slack users-v1.json --slack-app 5e0f1a2b3c4d5e6f7a8b9c0d
  scimdrift audit --jumpcloud bundle/ --slack pages/ --fail-on warning";

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
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diff JumpCloud against Slack and print the drift report.
    #[command(after_long_help = format!("{AUDIT_EXAMPLES}\n\n{EXIT_STATUS}"))]
    Audit(AuditArgs),
}

/// `scimdrift audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// JumpCloud export: bundle directory, users page or array (.json), or CSV.
    #[arg(long, value_name = "PATH")]
    pub jumpcloud: PathBuf,
    /// Slack SCIM /Users listing: pages, a directory of pages, or a bare array; repeatable.
    #[arg(long, value_name = "PATH", required = true, num_args = 1.., action = ArgAction::Append)]
    pub slack: Vec<PathBuf>,
    /// Lowest severity that makes the exit status 1 [default: error, or `fail_on` in the config].
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
    /// Exit 0 whatever the findings (report-only jobs); input errors still exit 2.
    #[arg(long)]
    pub exit_zero: bool,
    /// Report on inputs that fail the completeness checks, marked "complete": false.
    #[arg(long)]
    pub allow_incomplete: bool,
    /// When SCIM was switched on (2024-03-01 or RFC 3339): older unlinked accounts are legacy.
    #[arg(long, value_name = "DATE")]
    pub scim_enabled_at: Option<String>,
    /// Check entitlement against this JumpCloud application (Slack connector) only.
    #[arg(long, value_name = "ID")]
    pub slack_app: Option<String>,
}

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people (plain ASCII when stdout is not a terminal).
    Table,
    /// The JSON report, `schema_version` 1.
    Json,
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
