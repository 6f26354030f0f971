//! The table for people: comfy-table, box drawing and colour on a terminal, plain ASCII
//! otherwise so CI logs stay diffable. Notices follow the table.

use std::io::{self, Write};

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};

use super::{Options, Style};
use crate::analysis::{Finding, Severity};
use crate::report::Report;

fn join_or(one: Option<&str>, many: &[String]) -> String {
    match one {
        Some(v) => v.to_owned(),
        None if many.is_empty() => "-".to_owned(),
        None => many.join(", "),
    }
}

fn row(f: &Finding, style: Style) -> Vec<Cell> {
    let mut severity = Cell::new(f.severity.as_str());
    if style.color {
        severity = severity.fg(match f.severity {
            Severity::Error => Color::Red,
            Severity::Warning => Color::Yellow,
            Severity::Info => Color::Cyan,
        });
    }
    let jumpcloud = match &f.jumpcloud_group_id {
        Some(g) => format!("group {g}"),
        None => join_or(f.jumpcloud_user_id.as_deref(), &f.jumpcloud_user_ids),
    };
    vec![
        severity,
        Cell::new(f.code.as_str()),
        Cell::new(super::visible(&join_or(
            f.slack_user_id.as_deref(),
            &f.slack_user_ids,
        ))),
        Cell::new(super::visible(&jumpcloud)),
        Cell::new(super::visible(&f.message)),
    ]
}

/// Writes the findings table (or a one-line all-clear) and the notices.
pub fn write(report: &Report, opts: Options, out: &mut dyn Write) -> io::Result<()> {
    let style = opts.style;
    let findings: Vec<&Finding> = report
        .analysis
        .findings
        .iter()
        .filter(|f| opts.show_suppressed || f.counts())
        .collect();
    if findings.is_empty() {
        writeln!(
            out,
            "No drift: {} Slack account(s) checked against {} JumpCloud user(s).",
            report.analysis.stats.slack_users, report.analysis.stats.jumpcloud_users
        )?;
    } else {
        let mut table = Table::new();
        if style.terminal {
            table
                .load_style(presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic);
            // Some ptys (`docker -t`, CI runners) report 0 columns: wrapping to that would
            // leave one character per column.
            if table.width().is_none_or(|w| w < 40) {
                table.set_width(120);
            }
        } else {
            table
                .load_style(presets::ASCII_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Disabled)
                .force_no_tty();
        }
        if style.color {
            table.enforce_styling();
        }
        table.set_header(vec!["Severity", "Code", "Slack", "JumpCloud", "Detail"]);
        for f in findings {
            let mut cells = row(f, style);
            if let Some(s) = &f.suppressed {
                cells[0] = Cell::new(format!("{} (suppressed)", f.severity));
                cells[4] = Cell::new(super::visible(&format!(
                    "{} [suppressed: {}, owner {}, until {}]",
                    f.message, s.reason, s.owner, s.expires
                )));
            }
            table.add_row(cells);
        }
        writeln!(out, "{table}")?;
    }
    if !report.complete {
        writeln!(
            out,
            "WARNING: incomplete inputs (--allow-incomplete): this report may miss drift."
        )?;
    }
    let hidden = report.suppressed();
    if hidden > 0 && !opts.show_suppressed {
        writeln!(
            out,
            "{hidden} finding(s) suppressed by exceptions (--show-suppressed lists them)."
        )?;
    }
    for notice in &report.notices {
        writeln!(out, "note: {}", super::visible(notice))?;
    }
    Ok(())
}
