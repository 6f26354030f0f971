//! Presenting a [`Report`](crate::report::Report): one renderer per `--format`, each writing to a
//! `&mut dyn Write` (never straight to stdout), so callers can buffer and write whole.

pub mod csv;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod rows;
pub mod table;

use std::io::{self, Write};

use crate::analysis::Severity;
use crate::cli::Format;
use crate::report::Report;

/// How to render beyond the format itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// Colour the severities.
    pub color: bool,
    /// stdout is a terminal: box drawing and wrapping to its width.
    pub terminal: bool,
}

/// Everything a renderer may need besides the report.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Terminal and colour.
    pub style: Style,
    /// The threshold that makes a finding fail (JUnit failures, Markdown verdict).
    pub fail_on: Severity,
    /// List suppressed findings in the table.
    pub show_suppressed: bool,
}

/// Renders `report` in `format`.
pub fn write(
    report: &Report,
    format: Format,
    opts: Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => table::write(report, opts, out),
        Format::Json => json::write(report, out),
        Format::Markdown => markdown::write(report, opts, out),
        Format::Csv => csv::write(report, out),
        Format::Junit => junit::write(report, opts, out),
    }
}

/// The one-line summary for stderr.
pub fn summary_line(report: &Report) -> String {
    let by = report.by_severity();
    let stats = report.analysis.stats;
    format!(
        "scimdrift: {} finding(s): {} error, {} warning, {} info{}; {} Slack account(s) ({} active, {} bot) against {} JumpCloud user(s){}",
        by.error + by.warning + by.info,
        by.error,
        by.warning,
        by.info,
        match report.suppressed() {
            0 => String::new(),
            n => format!(", {n} suppressed"),
        },
        stats.slack_users,
        stats.slack_active,
        stats.slack_bots,
        stats.jumpcloud_users,
        if report.complete {
            ""
        } else {
            "; INCOMPLETE inputs"
        }
    )
}
