//! The deactivation plan: which Slack accounts to deactivate and why, with the state each was in
//! when planned, so `apply` can refuse to touch an account that changed since.
//!
//! Building a plan is pure (analysis + listing in, plan out); reading and writing `plan.json` is
//! plain serde. Never from an incomplete input, never a bot, never an ambiguous match, never an
//! account an exception covers.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::analysis::{Analysis, FindingCode};
use crate::model::{ScimVersion, SlackListing};
use crate::report::Report;

/// The `kind` of a plan file.
pub const KIND: &str = "scimdrift-plan";

/// An account's state as planned (and as re-read before a PATCH).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    /// `userName` (absent when the listing had none).
    #[serde(rename = "userName")]
    pub user_name: Option<String>,
    /// Normalised emails, primary first.
    pub emails: Vec<String>,
    /// `active`.
    pub active: bool,
}

/// One account to deactivate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Slack user id.
    pub slack_user_id: String,
    /// The JumpCloud user it was matched to, if any (`unknown-active` has none).
    pub jumpcloud_user_id: Option<String>,
    /// The finding codes that put it in the plan.
    pub reasons: Vec<String>,
    /// The findings' `reason` words (`suspended`, `password-expired`, …), and `guest` for a
    /// multi-channel guest.
    pub details: Vec<String>,
    /// The state when planned.
    pub expected: Expected,
}

/// Where the plan's data came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInput {
    /// Paths or URLs.
    pub paths: Vec<String>,
    /// Checksum (see the report's `inputs`).
    pub sha256: String,
}

/// Both inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInputs {
    /// JumpCloud.
    pub jumpcloud: PlanInput,
    /// Slack.
    pub slack: PlanInput,
}

/// A whole plan (`plan.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Always 1 for this format.
    pub schema_version: u32,
    /// Always [`KIND`].
    pub kind: String,
    /// RFC 3339.
    pub created_at: String,
    /// Inputs with checksums.
    pub inputs: PlanInputs,
    /// SCIM version of the listing (`v1`/`v2`), when known.
    pub scim_version: Option<String>,
    /// Active human accounts in the listing (the base of `--max-changes P%`).
    pub slack_active_users: usize,
    /// Always true: incomplete inputs never make a plan (kept so `apply` can check).
    pub complete: bool,
    /// Codes included on request (`unknown-active`).
    pub included: Vec<String>,
    /// The accounts to deactivate, sorted by Slack id.
    pub actions: Vec<Action>,
}

/// What makes one action of a plan file unusable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadAction {
    /// Not the shape of a Slack user id: it would be put in a URL path.
    #[error("`{id}` is not a SCIM user id")]
    NotAnId {
        /// The id.
        id: String,
    },
    /// The account of an earlier action: it would be previewed twice and counted twice by
    /// `--max-changes`.
    #[error("{id} is already actions[{first}]; a plan names each account once")]
    Repeated {
        /// The account.
        id: String,
        /// The index of its first action.
        first: usize,
    },
}

/// Whether `id` can be a Slack SCIM user id (and so be put in a URL path as is).
fn is_scim_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Plan {
    /// The first action that makes this plan (a file that may have been edited by hand)
    /// unusable, with its index in `actions`.
    pub fn bad_action(&self) -> Option<(usize, BadAction)> {
        let mut first: HashMap<&str, usize> = HashMap::with_capacity(self.actions.len());
        for (i, action) in self.actions.iter().enumerate() {
            let id = action.slack_user_id.as_str();
            if !is_scim_id(id) {
                return Some((i, BadAction::NotAnId { id: id.to_owned() }));
            }
            if let Some(&earlier) = first.get(id) {
                return Some((
                    i,
                    BadAction::Repeated {
                        id: id.to_owned(),
                        first: earlier,
                    },
                ));
            }
            first.insert(id, i);
        }
        None
    }
}

/// The codes a plan deactivates by default.
pub const DEFAULT_CODES: [FindingCode; 2] = [
    FindingCode::SuspendedButActive,
    FindingCode::UnentitledButActive,
];

/// Slack accounts that must never be touched: in a `link-conflict`, or sharing an email with
/// several JumpCloud users.
fn ambiguous(analysis: &Analysis) -> BTreeSet<&str> {
    let mut out = BTreeSet::new();
    for f in &analysis.findings {
        match f.code {
            FindingCode::LinkConflict => out.extend(f.slack_user_id.as_deref()),
            FindingCode::DuplicateEmail if f.jumpcloud_user_ids.len() >= 2 => {
                out.extend(f.slack_user_ids.iter().map(String::as_str));
            }
            _ => {}
        }
    }
    out
}

/// Builds the plan from a complete report and its Slack listing.
pub fn build(report: &Report, slack: &SlackListing, include: &[FindingCode]) -> Plan {
    let codes: BTreeSet<FindingCode> = DEFAULT_CODES.iter().chain(include).copied().collect();
    let skip = ambiguous(&report.analysis);
    // Only the accounts the findings name: one scan of the listing, no map of all of it.
    let named: crate::model::FastSet<&str> = report
        .analysis
        .findings
        .iter()
        .filter_map(|f| f.slack_user_id.as_deref())
        .collect();
    let users: crate::model::FastMap<&str, &crate::model::SlackUser> = slack
        .users
        .iter()
        .filter(|u| named.contains(u.id.as_str()))
        .map(|u| (u.id.as_str(), u))
        .collect();
    let mut actions: Vec<Action> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for f in &report.analysis.findings {
        // Accepted drift (an exception covers it) is never deactivated.
        if !codes.contains(&f.code) || !f.counts() {
            continue;
        }
        let Some(id) = f.slack_user_id.as_deref() else {
            continue;
        };
        let Some(user) = users.get(id) else {
            continue;
        };
        if skip.contains(id) || user.is_bot() || !user.active {
            continue;
        }
        let i = *index.entry(id.to_owned()).or_insert_with(|| {
            actions.push(Action {
                slack_user_id: id.to_owned(),
                jumpcloud_user_id: f.jumpcloud_user_id.clone(),
                reasons: Vec::new(),
                // A guest was likely invited by hand: the plan's reviewer should see it.
                details: if user.guest {
                    vec!["guest".to_owned()]
                } else {
                    Vec::new()
                },
                expected: Expected {
                    user_name: user.user_name.clone(),
                    emails: user.emails.iter().map(|e| e.as_str().to_owned()).collect(),
                    active: true,
                },
            });
            actions.len() - 1
        });
        actions[i].reasons.push(f.code.as_str().to_owned());
        actions[i].details.extend(f.reason.clone());
    }
    actions.sort_by(|a, b| a.slack_user_id.cmp(&b.slack_user_id));
    Plan {
        schema_version: 1,
        kind: KIND.to_owned(),
        // The real clock, never SOURCE_DATE_EPOCH: apply's age guard depends on it.
        created_at: jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        inputs: PlanInputs {
            jumpcloud: PlanInput {
                paths: report.jumpcloud.info.paths.clone(),
                sha256: report.jumpcloud.info.sha256.clone(),
            },
            slack: PlanInput {
                paths: report.slack.info.paths.clone(),
                sha256: report.slack.info.sha256.clone(),
            },
        },
        scim_version: report
            .slack
            .scim_version
            .map(|v: ScimVersion| v.as_str().to_owned()),
        slack_active_users: report.analysis.stats.slack_active,
        complete: report.complete,
        included: include.iter().map(|c| c.as_str().to_owned()).collect(),
        actions,
    }
}

/// A row's "Why": the codes, then the findings' reason words, then whether it is a guest.
fn why(a: &Action) -> String {
    let words: Vec<&str> = a
        .details
        .iter()
        .map(String::as_str)
        .filter(|d| *d != "guest")
        .collect();
    let mut why = a.reasons.join(", ");
    if !words.is_empty() {
        why = format!("{why} ({})", words.join(", "));
    }
    if a.details.iter().any(|d| d == "guest") {
        why.push_str("; a guest");
    }
    why
}

/// Renders the plan's actions in a line-per-item format (table, Markdown, CSV, JUnit).
pub fn write_rows(
    plan: &Plan,
    format: crate::cli::Format,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let rows = crate::render::rows::Rows {
        title: "plan",
        header: vec!["Slack", "Email", "userName", "JumpCloud", "Why"],
        rows: plan
            .actions
            .iter()
            .map(|a| {
                (
                    vec![
                        a.slack_user_id.clone(),
                        a.expected.emails.first().cloned().unwrap_or_default(),
                        a.expected.user_name.clone().unwrap_or_default(),
                        a.jumpcloud_user_id
                            .clone()
                            .unwrap_or_else(|| "-".to_owned()),
                        why(a),
                    ],
                    Some("to deactivate".to_owned()),
                )
            })
            .collect(),
        footer: Some(if plan.actions.is_empty() {
            "Nothing to deactivate.".to_owned()
        } else {
            format!(
                "{} account(s) to deactivate, of {} active.",
                plan.actions.len(),
                plan.slack_active_users
            )
        }),
    };
    crate::render::rows::write(&rows, format, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(reasons: &[&str], details: &[&str]) -> Action {
        Action {
            slack_user_id: "U1".to_owned(),
            jumpcloud_user_id: None,
            reasons: reasons.iter().map(|r| (*r).to_owned()).collect(),
            details: details.iter().map(|d| (*d).to_owned()).collect(),
            expected: Expected {
                user_name: None,
                emails: Vec::new(),
                active: true,
            },
        }
    }

    fn plan_of(ids: &[&str]) -> Plan {
        let input = PlanInput {
            paths: vec!["x".into()],
            sha256: "0".into(),
        };
        Plan {
            schema_version: 1,
            kind: KIND.to_owned(),
            created_at: "2026-01-01T00:00:00Z".into(),
            inputs: PlanInputs {
                jumpcloud: input.clone(),
                slack: input,
            },
            scim_version: None,
            slack_active_users: 10,
            complete: true,
            included: Vec::new(),
            actions: ids
                .iter()
                .map(|id| Action {
                    slack_user_id: (*id).to_owned(),
                    jumpcloud_user_id: None,
                    reasons: Vec::new(),
                    details: Vec::new(),
                    expected: Expected {
                        user_name: None,
                        emails: Vec::new(),
                        active: true,
                    },
                })
                .collect(),
        }
    }

    #[test]
    fn why_keeps_the_reason_of_a_guest() {
        assert_eq!(
            why(&action(&["suspended-but-active"], &["guest", "suspended"])),
            "suspended-but-active (suspended); a guest"
        );
        assert_eq!(
            why(&action(&["suspended-but-active"], &["password-expired"])),
            "suspended-but-active (password-expired)"
        );
        assert_eq!(
            why(&action(&["unknown-active"], &["guest"])),
            "unknown-active; a guest"
        );
        assert_eq!(
            why(&action(&["unentitled-but-active"], &[])),
            "unentitled-but-active"
        );
    }

    #[test]
    fn bad_actions_are_found_with_their_index() {
        assert_eq!(plan_of(&["U1", "W_2-b"]).bad_action(), None);
        assert_eq!(plan_of(&[]).bad_action(), None);
        let (i, bad) = plan_of(&["U1", "U2", "", "U3"]).bad_action().unwrap();
        assert_eq!((i, bad.to_string()), (2, "`` is not a SCIM user id".into()));
        let (i, bad) = plan_of(&["U1", "../Groups"]).bad_action().unwrap();
        assert_eq!(
            (i, bad.to_string()),
            (1, "`../Groups` is not a SCIM user id".into())
        );
        let (i, bad) = plan_of(&["U1", "U2", "U3", "U2", "U1"])
            .bad_action()
            .unwrap();
        assert_eq!(i, 3);
        assert_eq!(
            bad,
            BadAction::Repeated {
                id: "U2".into(),
                first: 1
            }
        );
        assert_eq!(
            bad.to_string(),
            "U2 is already actions[1]; a plan names each account once"
        );
    }
}
