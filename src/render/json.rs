//! The JSON report (DESIGN §4, `schema_version` 1): a view model of its own, so refactoring the
//! domain types cannot change the public schema. Every finding carries every key.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::analysis::Finding;
use crate::report::Report;

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    tool: Tool,
    generated_at: String,
    complete: bool,
    inputs: Inputs<'a>,
    summary: Summary,
    notices: &'a [String],
    findings: Vec<JsonFinding<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Inputs<'a> {
    jumpcloud: JumpCloudInput<'a>,
    slack: SlackInput<'a>,
}

#[derive(Serialize)]
struct JumpCloudInput<'a> {
    paths: &'a [String],
    sha256: &'a str,
    users: usize,
    groups: usize,
    applications: usize,
}

#[derive(Serialize)]
struct SlackInput<'a> {
    paths: &'a [String],
    sha256: &'a str,
    scim_version: Option<&'static str>,
    users: usize,
    total_results: Option<u64>,
}

#[derive(Serialize)]
struct Summary {
    slack_users: usize,
    slack_active: usize,
    slack_bots: usize,
    jumpcloud_users: usize,
    by_severity: BySeverity,
    suppressed: usize,
    by_code: BTreeMap<&'static str, usize>,
}

#[derive(Serialize)]
struct BySeverity {
    error: usize,
    warning: usize,
    info: usize,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a str,
    slack_user_id: Option<&'a str>,
    slack_user_ids: &'a [String],
    jumpcloud_user_id: Option<&'a str>,
    jumpcloud_user_ids: &'a [String],
    jumpcloud_group_id: Option<&'a str>,
    application_ids: &'a [String],
    email: Option<&'a str>,
    matched_by: Option<&'static str>,
    reason: Option<&'a str>,
    remediation: Option<&'static str>,
    suppressed: Option<JsonSuppressed<'a>>,
}

#[derive(Serialize)]
struct JsonSuppressed<'a> {
    reason: &'a str,
    owner: &'a str,
    expires: &'a str,
    ticket: Option<&'a str>,
}

impl<'a> From<&'a Finding> for JsonFinding<'a> {
    fn from(f: &'a Finding) -> Self {
        Self {
            code: f.code.as_str(),
            severity: f.severity.as_str(),
            message: &f.message,
            slack_user_id: f.slack_user_id.as_deref(),
            slack_user_ids: &f.slack_user_ids,
            jumpcloud_user_id: f.jumpcloud_user_id.as_deref(),
            jumpcloud_user_ids: &f.jumpcloud_user_ids,
            jumpcloud_group_id: f.jumpcloud_group_id.as_deref(),
            application_ids: &f.application_ids,
            email: f.email.as_deref(),
            matched_by: f
                .matched_by
                .map(super::super::analysis::finding::MatchedBy::as_str),
            reason: f.reason.as_deref(),
            remediation: f
                .remediation()
                .map(super::super::analysis::finding::Remediation::as_str),
            suppressed: f.suppressed.as_ref().map(|s| JsonSuppressed {
                reason: &s.reason,
                owner: &s.owner,
                expires: &s.expires,
                ticket: s.ticket.as_deref(),
            }),
        }
    }
}

/// Writes the report as pretty-printed JSON followed by a newline.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let by = report.by_severity();
    let stats = report.analysis.stats;
    let view = JsonReport {
        schema_version: 1,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        generated_at: report
            .generated_at
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        complete: report.complete,
        inputs: Inputs {
            jumpcloud: JumpCloudInput {
                paths: &report.jumpcloud.info.paths,
                sha256: &report.jumpcloud.info.sha256,
                users: report.jumpcloud.users,
                groups: report.jumpcloud.groups,
                applications: report.jumpcloud.applications,
            },
            slack: SlackInput {
                paths: &report.slack.info.paths,
                sha256: &report.slack.info.sha256,
                scim_version: report
                    .slack
                    .scim_version
                    .map(super::super::model::ScimVersion::as_str),
                users: report.slack.users,
                total_results: report.slack.total_results,
            },
        },
        summary: Summary {
            slack_users: stats.slack_users,
            slack_active: stats.slack_active,
            slack_bots: stats.slack_bots,
            jumpcloud_users: stats.jumpcloud_users,
            by_severity: BySeverity {
                error: by.error,
                warning: by.warning,
                info: by.info,
            },
            suppressed: report.suppressed(),
            by_code: report
                .by_code()
                .into_iter()
                .map(|(c, n)| (c.as_str(), n))
                .collect(),
        },
        notices: &report.notices,
        findings: report
            .analysis
            .findings
            .iter()
            .map(JsonFinding::from)
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &view)?;
    out.write_all(b"\n")
}
