//! The Markdown report: a CI job summary (GitHub's `$GITHUB_STEP_SUMMARY`, GitLab notes) with the
//! totals on top and a collapsed table per code.

use std::io::{self, Write};

use super::Options;
use crate::analysis::{Finding, FindingCode};
use crate::report::Report;

/// Escapes what would break a Markdown table cell.
fn cell(s: &str) -> String {
    super::visible(s)
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
        .replace('<', "&lt;")
}

fn ids(one: Option<&str>, many: &[String]) -> String {
    match one {
        Some(v) => format!("`{}`", cell(v)),
        None if many.is_empty() => "-".to_owned(),
        None => many
            .iter()
            .map(|m| format!("`{}`", cell(m)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn table(out: &mut dyn Write, findings: &[&Finding]) -> io::Result<()> {
    writeln!(out, "| Slack | JumpCloud | Email | Detail |")?;
    writeln!(out, "| --- | --- | --- | --- |")?;
    for f in findings {
        let jumpcloud = match &f.jumpcloud_group_id {
            Some(g) => format!("group `{}`", cell(g)),
            None => ids(f.jumpcloud_user_id.as_deref(), &f.jumpcloud_user_ids),
        };
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            ids(f.slack_user_id.as_deref(), &f.slack_user_ids),
            jumpcloud,
            f.email.as_deref().map_or_else(|| "-".to_owned(), cell),
            cell(&f.message)
        )?;
    }
    Ok(())
}

/// Writes the Markdown summary.
pub fn write(report: &Report, opts: Options, out: &mut dyn Write) -> io::Result<()> {
    let by = report.by_severity();
    let failing = report
        .analysis
        .findings
        .iter()
        .filter(|f| f.counts() && f.severity >= opts.fail_on)
        .count();
    let verdict = if failing == 0 {
        "✅ no drift"
    } else {
        "❌ drift"
    };
    writeln!(out, "## scimdrift: {verdict}\n")?;
    let stats = report.analysis.stats;
    writeln!(
        out,
        "{} Slack account(s) ({} active, {} bot) against {} JumpCloud user(s){}.\n",
        stats.slack_users,
        stats.slack_active,
        stats.slack_bots,
        stats.jumpcloud_users,
        if report.complete {
            ""
        } else {
            " — **incomplete inputs**"
        }
    )?;
    writeln!(
        out,
        "| error | warning | info | suppressed | failing (`--fail-on {}`) |",
        opts.fail_on
    )?;
    writeln!(out, "| ---: | ---: | ---: | ---: | ---: |")?;
    writeln!(
        out,
        "| {} | {} | {} | {} | {failing} |\n",
        by.error,
        by.warning,
        by.info,
        report.suppressed()
    )?;
    for code in FindingCode::ALL {
        let findings: Vec<&Finding> = report
            .analysis
            .findings
            .iter()
            .filter(|f| f.code == code && f.counts())
            .collect();
        if findings.is_empty() {
            continue;
        }
        writeln!(
            out,
            "<details><summary><b>{code}</b>: {} {} — {}</summary>\n",
            findings.len(),
            findings[0].severity,
            code.description()
        )?;
        table(out, &findings)?;
        writeln!(out, "\n</details>\n")?;
    }
    let suppressed: Vec<&Finding> = report
        .analysis
        .findings
        .iter()
        .filter(|f| !f.counts())
        .collect();
    if !suppressed.is_empty() {
        writeln!(
            out,
            "<details><summary>Suppressed by exceptions: {}</summary>\n",
            suppressed.len()
        )?;
        writeln!(out, "| Code | Slack | Reason | Owner | Expires | Ticket |")?;
        writeln!(out, "| --- | --- | --- | --- | --- | --- |")?;
        for f in suppressed {
            let s = f.suppressed.as_ref().map(|s| {
                (
                    s.reason.as_str(),
                    s.owner.as_str(),
                    s.expires.as_str(),
                    s.ticket.as_deref().unwrap_or("-"),
                )
            });
            let (reason, owner, expires, ticket) = s.unwrap_or_default();
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                f.code,
                ids(f.slack_user_id.as_deref(), &f.slack_user_ids),
                cell(reason),
                cell(owner),
                expires,
                cell(ticket)
            )?;
        }
        writeln!(out, "\n</details>\n")?;
    }
    if !report.notices.is_empty() {
        writeln!(
            out,
            "<details><summary>Notices: {}</summary>\n",
            report.notices.len()
        )?;
        for n in &report.notices {
            writeln!(out, "- {}", cell(n))?;
        }
        writeln!(out, "\n</details>")?;
    }
    Ok(())
}
