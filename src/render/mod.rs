//! Presenting a [`Report`](crate::report::Report): one renderer per `--format`, each writing to a
//! `&mut dyn Write` (never straight to stdout), so callers can buffer and write whole.

pub mod csv;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod rows;
pub mod table;

use std::borrow::Cow;
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

/// Text safe to show anywhere: control characters (ESC, a bare CR, NUL, C1 controls), bidi
/// overrides and XML's forbidden U+FFFE/U+FFFF become `\u{1b}`-style escapes, so input data can
/// neither drive nor mislead a terminal, nor break XML, a Markdown row or a TOML comment.
pub fn visible(s: &str) -> Cow<'_, str> {
    // Besides the controls: U+FFFE/U+FFFF (not XML characters) and the bidirectional overrides
    // and isolates, which reorder what a terminal shows ("Trojan Source").
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{FFFE}' | '\u{FFFF}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hidden(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A CSV cell a spreadsheet will not run as a formula: one that starts with `=`, `+`, `-`, `@`
/// (or a tab or CR before them) gets a leading `'` (OWASP's advice for CSV injection).
pub fn spreadsheet_safe(s: &str) -> Cow<'_, str> {
    // A lone "-" is the rows' placeholder for "none", not a formula.
    if s != "-" && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_formulas_quoted() {
        assert!(matches!(visible("plain é"), Cow::Borrowed("plain é")));
        assert_eq!(
            visible("a\u{1b}[31mb\rc\u{85}"),
            "a\\u{1b}[31mb\\u{d}c\\u{85}"
        );
        for cell in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(spreadsheet_safe(cell), format!("'{cell}"));
        }
        assert!(matches!(spreadsheet_safe("a=b"), Cow::Borrowed("a=b")));
        assert!(matches!(spreadsheet_safe("-"), Cow::Borrowed("-")));
        assert_eq!(visible("a\u{202E}b\u{FFFF}"), "a\\u{202e}b\\u{ffff}");
    }
}
