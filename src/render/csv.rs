//! The CSV report: one row per finding, one column per key of the JSON findings (lists joined
//! with `;`, `suppressed` as its JSON object).

use std::io::{self, Write};

use crate::analysis::{MatchedBy, Remediation};
use crate::report::Report;

const HEADER: [&str; 14] = [
    "code",
    "severity",
    "message",
    "slack_user_id",
    "slack_user_ids",
    "jumpcloud_user_id",
    "jumpcloud_user_ids",
    "jumpcloud_group_id",
    "application_ids",
    "email",
    "matched_by",
    "reason",
    "remediation",
    "suppressed",
];

/// Writes the CSV.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    for f in &report.analysis.findings {
        let suppressed = f.suppressed.as_ref().map_or_else(String::new, |s| {
            serde_json::json!({"reason": s.reason, "owner": s.owner, "expires": s.expires, "ticket": s.ticket})
                .to_string()
        });
        let cells = [
            f.code.as_str(),
            f.severity.as_str(),
            &f.message,
            f.slack_user_id.as_deref().unwrap_or_default(),
            &f.slack_user_ids.join(";"),
            f.jumpcloud_user_id.as_deref().unwrap_or_default(),
            &f.jumpcloud_user_ids.join(";"),
            f.jumpcloud_group_id.as_deref().unwrap_or_default(),
            &f.application_ids.join(";"),
            f.email.as_deref().unwrap_or_default(),
            f.matched_by.map(MatchedBy::as_str).unwrap_or_default(),
            f.reason.as_deref().unwrap_or_default(),
            f.remediation().map(Remediation::as_str).unwrap_or_default(),
            &suppressed,
        ];
        w.write_record(
            cells
                .iter()
                .map(|c| super::spreadsheet_safe(c).into_owned()),
        )?;
    }
    w.flush()
}
