//! Presenting a [`Report`](crate::report::Report): one renderer per `--format`, each writing to a
//! `&mut dyn Write` (never straight to stdout), so callers can buffer and write whole.

pub mod json;
pub mod table;

use std::io::{self, Write};

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

/// Renders `report` in `format`.
pub fn write(report: &Report, format: Format, style: Style, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table => table::write(report, style, out),
        Format::Json => json::write(report, out),
    }
}

/// The one-line summary for stderr.
pub fn summary_line(report: &Report) -> String {
    let by = report.by_severity();
    let stats = report.analysis.stats;
    format!(
        "scimdrift: {} finding(s): {} error, {} warning, {} info; {} Slack account(s) ({} active, {} bot) against {} JumpCloud user(s){}",
        report.analysis.findings.len(),
        by.error,
        by.warning,
        by.info,
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
