//! Findings as data: stable kebab-case codes, severities, and the finding record itself.
//!
//! Nothing here decides *whether* something is drift; `analysis::diff` does that.

use std::fmt;
use std::str::FromStr;

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing, never urgent.
    Info,
    /// Risky configuration or data that needs a human.
    Warning,
    /// Access that should not exist, or data that makes the audit unreliable.
    Error,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Self; 3] = [Self::Error, Self::Warning, Self::Info];

    /// `"error"`, `"warning"` or `"info"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|sev| sev.as_str() == s)
            .ok_or_else(|| format!("unknown severity `{s}` (expected error, warning or info)"))
    }
}

/// Stable finding codes (DESIGN §3). Scripts match on [`FindingCode::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingCode {
    /// Active in Slack; the JumpCloud user is suspended, password-expired or staged.
    SuspendedButActive,
    /// Active in Slack; the JumpCloud user is active but not entitled to a Slack connector.
    UnentitledButActive,
    /// Active in Slack; no JumpCloud user matches.
    UnknownActive,
    /// Active in Slack and linked to JumpCloud only by email (or created before SCIM).
    LegacyUnlinked,
    /// `externalId` names one JumpCloud user, the email another.
    LinkConflict,
    /// Several Slack accounts or JumpCloud users share an email.
    DuplicateEmail,
    /// One JumpCloud group bound to two or more Slack connectors.
    MultiConnectorGroup,
    /// Deactivated in Slack, active and entitled in JumpCloud.
    InactiveButEntitled,
    /// An exception past its expiry date.
    ExpiredException,
    /// An exception that matched no finding.
    StaleException,
}

impl FindingCode {
    /// Every code, in the order the README lists them.
    pub const ALL: [Self; 10] = [
        Self::SuspendedButActive,
        Self::UnentitledButActive,
        Self::UnknownActive,
        Self::LegacyUnlinked,
        Self::LinkConflict,
        Self::DuplicateEmail,
        Self::MultiConnectorGroup,
        Self::InactiveButEntitled,
        Self::ExpiredException,
        Self::StaleException,
    ];

    /// The stable kebab-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SuspendedButActive => "suspended-but-active",
            Self::UnentitledButActive => "unentitled-but-active",
            Self::UnknownActive => "unknown-active",
            Self::LegacyUnlinked => "legacy-unlinked",
            Self::LinkConflict => "link-conflict",
            Self::DuplicateEmail => "duplicate-email",
            Self::MultiConnectorGroup => "multi-connector-group",
            Self::InactiveButEntitled => "inactive-but-entitled",
            Self::ExpiredException => "expired-exception",
            Self::StaleException => "stale-exception",
        }
    }

    /// Default severity (overridable per code in the config).
    pub fn default_severity(self) -> Severity {
        match self {
            Self::SuspendedButActive
            | Self::UnentitledButActive
            | Self::UnknownActive
            | Self::LinkConflict
            | Self::DuplicateEmail => Severity::Error,
            Self::LegacyUnlinked
            | Self::MultiConnectorGroup
            | Self::ExpiredException
            | Self::StaleException => Severity::Warning,
            Self::InactiveButEntitled => Severity::Info,
        }
    }

    /// What fixes it, when scimdrift can.
    pub fn remediation(self) -> Option<Remediation> {
        match self {
            Self::SuspendedButActive | Self::UnentitledButActive | Self::UnknownActive => {
                Some(Remediation::Deactivate)
            }
            _ => None,
        }
    }

    /// One line for help texts and the README.
    pub fn description(self) -> &'static str {
        match self {
            Self::SuspendedButActive => {
                "active in Slack; the JumpCloud user is suspended, password-expired or staged"
            }
            Self::UnentitledButActive => {
                "active in Slack; the JumpCloud user is in no group bound to a Slack connector"
            }
            Self::UnknownActive => "active in Slack; no JumpCloud user matches",
            Self::LegacyUnlinked => {
                "active in Slack, linked only by email or created before SCIM: JumpCloud cannot deactivate it"
            }
            Self::LinkConflict => "externalId names one JumpCloud user, the email another",
            Self::DuplicateEmail => "several Slack accounts or JumpCloud users share an email",
            Self::MultiConnectorGroup => "a JumpCloud group bound to two or more Slack connectors",
            Self::InactiveButEntitled => "deactivated in Slack, active and entitled in JumpCloud",
            Self::ExpiredException => "an exception past its expiry date",
            Self::StaleException => "an exception that matched no finding",
        }
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FindingCode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| format!("unknown finding code `{s}`"))
    }
}

/// How a Slack account was joined to a JumpCloud user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchedBy {
    /// `externalId` equals the JumpCloud `_id`.
    ExternalId,
    /// The primary email equals exactly one JumpCloud `email`.
    Email,
    /// Some Slack email equals a JumpCloud `email` or `alternateEmail`.
    AlternateEmail,
}

impl MatchedBy {
    /// The report's `matched_by` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExternalId => "external-id",
            Self::Email => "email",
            Self::AlternateEmail => "alternate-email",
        }
    }
}

/// What scimdrift can do about a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Remediation {
    /// `PATCH active:false` in Slack (through `plan` and `apply`).
    Deactivate,
}

impl Remediation {
    /// The report's `remediation` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deactivate => "deactivate",
        }
    }
}

/// Why a finding does not count: the exception that covers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// The exception's reason.
    pub reason: String,
    /// Its owner.
    pub owner: String,
    /// Its expiry date (`YYYY-MM-DD`).
    pub expires: String,
    /// Its ticket.
    pub ticket: Option<String>,
}

/// One finding. Absent values are `None` or empty, so every report key is always present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Stable code.
    pub code: FindingCode,
    /// Severity after config overrides.
    pub severity: Severity,
    /// One human sentence.
    pub message: String,
    /// The Slack account of a per-user finding.
    pub slack_user_id: Option<String>,
    /// Every Slack account involved (`duplicate-email`).
    pub slack_user_ids: Vec<String>,
    /// The JumpCloud user of a per-user finding.
    pub jumpcloud_user_id: Option<String>,
    /// Every JumpCloud user involved (`duplicate-email`, `link-conflict`).
    pub jumpcloud_user_ids: Vec<String>,
    /// The group of a `multi-connector-group` finding.
    pub jumpcloud_group_id: Option<String>,
    /// The Slack connectors of a `multi-connector-group` finding.
    pub application_ids: Vec<String>,
    /// The (normalised) email concerned.
    pub email: Option<String>,
    /// How the accounts were joined.
    pub matched_by: Option<MatchedBy>,
    /// Why, in a word (`suspended`, `no-external-id`, …).
    pub reason: Option<String>,
    /// The exception that covers it; suppressed findings do not count for the exit status.
    pub suppressed: Option<Suppression>,
}

impl Finding {
    /// A finding with the code's default severity and every optional field empty.
    pub fn new(code: FindingCode, message: String) -> Self {
        Self {
            code,
            severity: code.default_severity(),
            message,
            slack_user_id: None,
            slack_user_ids: Vec::new(),
            jumpcloud_user_id: None,
            jumpcloud_user_ids: Vec::new(),
            jumpcloud_group_id: None,
            application_ids: Vec::new(),
            email: None,
            matched_by: None,
            reason: None,
            suppressed: None,
        }
    }

    /// What fixes it, when scimdrift can (from the code).
    pub fn remediation(&self) -> Option<Remediation> {
        self.code.remediation()
    }

    /// Whether it counts (is not suppressed by an exception).
    pub fn counts(&self) -> bool {
        self.suppressed.is_none()
    }

    /// The order of the report: most severe first, then code, then ids.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            std::cmp::Reverse(self.severity),
            self.code,
            self.slack_user_id.as_deref(),
            self.jumpcloud_user_id.as_deref(),
            self.jumpcloud_group_id.as_deref(),
            self.email.as_deref(),
            &self.slack_user_ids,
            &self.jumpcloud_user_ids,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_kebab_case_and_round_trip() {
        let mut seen = HashSet::new();
        for code in FindingCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(
                s.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{s} is not kebab-case"
            );
            assert_eq!(s.parse::<FindingCode>().unwrap(), code);
        }
    }

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Error > Severity::Warning && Severity::Warning > Severity::Info);
        assert_eq!("warning".parse::<Severity>().unwrap(), Severity::Warning);
        assert!("fatal".parse::<Severity>().is_err());
    }
}
