//! The drift report: the analysis plus where its data came from, when it was made, and whether
//! the inputs were complete. Decides the exit status; renderers in `render` only present it.

use crate::analysis::{Analysis, FindingCode, Severity};
use crate::model::ScimVersion;

/// What the report says about one side's input.
#[derive(Clone, Debug, Default)]
pub struct InputInfo {
    /// Paths as given.
    pub paths: Vec<String>,
    /// Checksum over the files read (see `source::InputDigest`).
    pub sha256: String,
}

/// Counts and metadata of the JumpCloud input.
#[derive(Clone, Debug, Default)]
pub struct JumpCloudInput {
    /// Paths and checksum.
    pub info: InputInfo,
    /// Users loaded.
    pub users: usize,
    /// Groups loaded.
    pub groups: usize,
    /// Applications loaded.
    pub applications: usize,
}

/// Counts and metadata of the Slack input.
#[derive(Clone, Debug, Default)]
pub struct SlackInput {
    /// Paths and checksum.
    pub info: InputInfo,
    /// `v1`/`v2`, when the listing says.
    pub scim_version: Option<ScimVersion>,
    /// Accounts loaded.
    pub users: usize,
    /// `totalResults` of the pages.
    pub total_results: Option<u64>,
}

/// A finished report.
#[derive(Clone, Debug)]
pub struct Report {
    /// When it was generated.
    pub generated_at: jiff::Timestamp,
    /// False when `--allow-incomplete` let incomplete inputs through.
    pub complete: bool,
    /// JumpCloud side.
    pub jumpcloud: JumpCloudInput,
    /// Slack side.
    pub slack: SlackInput,
    /// Loader notices first, then the analysis' own.
    pub notices: Vec<String>,
    /// The analysis.
    pub analysis: Analysis,
}

/// How the process ends (DESIGN §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Nothing at or above `--fail-on`.
    Clean,
    /// Drift found.
    Drift,
    /// Could not run.
    Error,
    /// `apply` ran but some users failed or could not be confirmed.
    ApplyFailed,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Self::Clean => 0,
            Self::Drift => 1,
            Self::Error => 2,
            Self::ApplyFailed => 3,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        Self::from(s.code())
    }
}

/// Counts of findings by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeverityCounts {
    /// Errors.
    pub error: usize,
    /// Warnings.
    pub warning: usize,
    /// Infos.
    pub info: usize,
}

impl Report {
    /// Findings by severity.
    pub fn by_severity(&self) -> SeverityCounts {
        let mut c = SeverityCounts::default();
        for f in self.analysis.findings.iter().filter(|f| f.counts()) {
            match f.severity {
                Severity::Error => c.error += 1,
                Severity::Warning => c.warning += 1,
                Severity::Info => c.info += 1,
            }
        }
        c
    }

    /// Findings suppressed by exceptions.
    pub fn suppressed(&self) -> usize {
        self.analysis
            .findings
            .iter()
            .filter(|f| !f.counts())
            .count()
    }

    /// Findings per code that count, every code present (zero when absent), in code order.
    pub fn by_code(&self) -> Vec<(FindingCode, usize)> {
        FindingCode::ALL
            .iter()
            .map(|code| {
                let n = self
                    .analysis
                    .findings
                    .iter()
                    .filter(|f| f.code == *code && f.counts())
                    .count();
                (*code, n)
            })
            .collect()
    }

    /// 1 when any finding is at or above `fail_on`, else 0.
    pub fn exit_status(&self, fail_on: Severity) -> ExitStatus {
        if self
            .analysis
            .findings
            .iter()
            .any(|f| f.counts() && f.severity >= fail_on)
        {
            ExitStatus::Drift
        } else {
            ExitStatus::Clean
        }
    }
}
