//! Accepted drift, written down with a person and a date (DESIGN §5): the exceptions file, its
//! strict parsing (every problem names the file and line), and applying it to findings.
//!
//! [`apply`] is pure: today's date comes in as an argument.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

pub use crate::analysis::Suppression;
use crate::analysis::{Finding, FindingCode};
use crate::model::Email;

/// Why an exceptions file cannot be used. Every variant names the file and, where it can, the
/// line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read exceptions {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Invalid TOML, an unknown key or a missing field (toml's message has the line).
    #[error("invalid exceptions file {}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// toml's account.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A value that means nothing.
    #[error("{}:{line}: {problem}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the `[[exception]]` entry.
        line: usize,
        /// What is wrong.
        problem: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    exception: Vec<Spanned<RawException>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    slack_user_id: Option<String>,
    email: Option<String>,
    jumpcloud_group_id: Option<String>,
    codes: Option<Vec<String>>,
    reason: String,
    owner: String,
    expires: toml::Value,
    ticket: Option<String>,
}

/// What an exception matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A Slack account.
    SlackUser(String),
    /// An email (normalised).
    Email(Email),
    /// A JumpCloud group.
    Group(String),
}

impl Target {
    /// `key = "value"` as in the file.
    pub fn describe(&self) -> String {
        match self {
            Self::SlackUser(id) => format!("slack_user_id {id}"),
            Self::Email(e) => format!("email {e}"),
            Self::Group(g) => format!("jumpcloud_group_id {g}"),
        }
    }

    fn matches(&self, f: &Finding) -> bool {
        match self {
            // A finding about several accounts (a shared email) is covered only when it names
            // no other account: drift new on another account must not hide behind this one.
            Self::SlackUser(id) => {
                f.slack_user_id.as_deref() == Some(id)
                    || (!f.slack_user_ids.is_empty() && f.slack_user_ids.iter().all(|s| s == id))
            }
            Self::Email(e) => f.email.as_deref() == Some(e.as_str()),
            Self::Group(g) => f.jumpcloud_group_id.as_deref() == Some(g),
        }
    }
}

/// One accepted piece of drift.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    /// What it matches.
    pub target: Target,
    /// The codes it covers (every code when `None`).
    pub codes: Option<Vec<FindingCode>>,
    /// Why it is accepted.
    pub reason: String,
    /// Who answers for it.
    pub owner: String,
    /// Last day it holds.
    pub expires: jiff::civil::Date,
    /// A ticket reference.
    pub ticket: Option<String>,
    /// Line of its `[[exception]]` header (for messages).
    pub line: usize,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

/// Reads and validates `path`. `today` and `max_days` bound the expiry dates.
pub fn load(path: &Path, today: jiff::civil::Date, max_days: i64) -> Result<Vec<Exception>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text, today, max_days)
}

fn parse(
    path: &Path,
    text: &str,
    today: jiff::civil::Date,
    max_days: i64,
) -> Result<Vec<Exception>, Error> {
    let raw: RawFile = toml::from_str(text).map_err(|source| Error::Parse {
        path: path.to_path_buf(),
        source: Box::new(source),
    })?;
    let latest = today
        .checked_add(jiff::Span::new().days(max_days))
        .unwrap_or(jiff::civil::Date::MAX);
    let mut out = Vec::with_capacity(raw.exception.len());
    for spanned in raw.exception {
        let line = line_of(text, spanned.span().start);
        let raw = spanned.into_inner();
        let invalid = |problem: String| Error::Invalid {
            path: path.to_path_buf(),
            line,
            problem,
        };
        let mut targets = Vec::new();
        if let Some(id) = raw.slack_user_id.filter(|s| !s.trim().is_empty()) {
            targets.push(Target::SlackUser(id.trim().to_owned()));
        }
        if let Some(e) = raw.email {
            targets.push(Target::Email(
                Email::parse(&e).ok_or_else(|| invalid("email is empty".to_owned()))?,
            ));
        }
        if let Some(g) = raw.jumpcloud_group_id.filter(|s| !s.trim().is_empty()) {
            targets.push(Target::Group(g.trim().to_owned()));
        }
        let target = match targets.len() {
            1 => targets.remove(0),
            0 => {
                return Err(invalid(
                    "needs one of slack_user_id, email or jumpcloud_group_id".to_owned(),
                ));
            }
            _ => {
                return Err(invalid(
                    "give only one of slack_user_id, email or jumpcloud_group_id".to_owned(),
                ));
            }
        };
        for (field, value) in [("reason", &raw.reason), ("owner", &raw.owner)] {
            if value.trim().is_empty() {
                return Err(invalid(format!("{field} is empty")));
            }
        }
        let expires_text = match &raw.expires {
            toml::Value::String(s) => s.clone(),
            toml::Value::Datetime(d) => d.to_string(),
            other => {
                return Err(invalid(format!(
                    "expires must be a date (2027-03-01), not a {}",
                    other.type_str()
                )));
            }
        };
        // A date alone: jiff would take the date out of a datetime and drop its offset, and
        // expiry is by UTC calendar day.
        let expires: jiff::civil::Date = Some(expires_text.trim())
            .filter(|t| t.len() == "2027-03-01".len())
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| {
                invalid(format!(
                    "expires `{expires_text}` is not a date like 2027-03-01 (a day, in UTC)"
                ))
            })?;
        if expires > latest {
            return Err(invalid(format!(
                "expires {expires} is more than {max_days} days ahead (max_exception_days); exceptions must come up for review"
            )));
        }
        if raw.codes.as_ref().is_some_and(Vec::is_empty) {
            return Err(invalid(
                "codes is empty: list the codes it covers, or leave codes out for every code"
                    .to_owned(),
            ));
        }
        let codes = raw
            .codes
            .map(|codes| {
                codes
                    .iter()
                    .map(|c| c.parse::<FindingCode>().map_err(&invalid))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        out.push(Exception {
            target,
            codes,
            reason: raw.reason.trim().to_owned(),
            owner: raw.owner.trim().to_owned(),
            expires,
            ticket: raw.ticket.filter(|t| !t.trim().is_empty()),
            line,
        });
    }
    Ok(out)
}

impl Exception {
    fn covers(&self, f: &Finding) -> bool {
        self.codes.as_ref().is_none_or(|c| c.contains(&f.code)) && self.target.matches(f)
    }

    fn suppression(&self) -> Suppression {
        Suppression {
            reason: self.reason.clone(),
            owner: self.owner.clone(),
            expires: self.expires.to_string(),
            ticket: self.ticket.clone(),
        }
    }

    fn finding(&self, code: FindingCode, message: String) -> Finding {
        let mut f = Finding::new(code, message);
        match &self.target {
            Target::SlackUser(id) => f.slack_user_id = Some(id.clone()),
            Target::Email(e) => f.email = Some(e.as_str().to_owned()),
            Target::Group(g) => f.jumpcloud_group_id = Some(g.clone()),
        }
        f.reason = Some(format!("exceptions line {}", self.line));
        f
    }
}

/// Suppresses the findings that live exceptions cover, and adds `expired-exception` and
/// `stale-exception` findings. Findings are re-sorted.
pub fn apply(findings: &mut Vec<Finding>, exceptions: &[Exception], today: jiff::civil::Date) {
    let mut extra = Vec::new();
    for ex in exceptions {
        let who = format!(
            "{} (owner {}{})",
            ex.target.describe(),
            ex.owner,
            ex.ticket
                .as_deref()
                .map(|t| format!(", {t}"))
                .unwrap_or_default()
        );
        if ex.expires < today {
            extra.push(ex.finding(
                FindingCode::ExpiredException,
                format!(
                    "the exception for {who} expired on {}: it suppresses nothing",
                    ex.expires
                ),
            ));
            continue;
        }
        // Used when it covers any finding, even one an earlier exception already suppressed
        // (the first suppression is kept).
        let mut used = false;
        for f in findings.iter_mut() {
            if ex.covers(f) {
                used = true;
                if f.suppressed.is_none() {
                    f.suppressed = Some(ex.suppression());
                }
            }
        }
        if !used {
            extra.push(ex.finding(
                FindingCode::StaleException,
                format!("the exception for {who} matched no finding: remove it"),
            ));
        }
    }
    findings.extend(extra);
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> jiff::civil::Date {
        "2026-11-29".parse().unwrap()
    }

    fn parse_str(text: &str) -> Result<Vec<Exception>, Error> {
        parse(Path::new("exceptions.toml"), text, today(), 365)
    }

    #[test]
    fn valid_entries() {
        let e = parse_str(
            r#"
[[exception]]
slack_user_id = "U1"
codes = ["unknown-active"]
reason = "shared support mailbox"
owner = "helpdesk@acme.example"
expires = 2027-03-01
ticket = "SEC-123"

[[exception]]
email = " Vendor@X.io"
reason = "migration"
owner = "it@acme.example"
expires = "2026-12-31"
"#,
        )
        .unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].line, 2);
        assert_eq!(e[0].codes, Some(vec![FindingCode::UnknownActive]));
        assert_eq!(
            e[1].target,
            Target::Email(Email::parse("vendor@x.io").unwrap())
        );
        assert_eq!(e[1].line, 10);
    }

    #[test]
    fn problems_name_the_line() {
        let err = |text: &str| parse_str(text).unwrap_err();
        let e = err("[[exception]]\nslack_user_id = \"U1\"\nowner = \"o\"\nexpires = 2027-01-01\n");
        let chain = format!("{e}: {}", std::error::Error::source(&e).unwrap());
        assert!(
            chain.contains("missing field `reason`") && chain.contains("line 1"),
            "{chain}"
        );
        let e = err(
            "[[exception]]\nslack_user_id = \"U1\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\ncolour = \"red\"\n",
        );
        let chain = format!("{e}: {}", std::error::Error::source(&e).unwrap());
        assert!(
            chain.contains("unknown field `colour`") && chain.contains("line 6"),
            "{chain}"
        );
        let e = err(
            "\n[[exception]]\nslack_user_id = \"U1\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"next spring\"\n",
        );
        assert_eq!(
            e.to_string(),
            "exceptions.toml:2: expires `next spring` is not a date like 2027-03-01 (a day, in UTC)"
        );
        let e = err(
            "[[exception]]\nslack_user_id = \"U1\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2030-01-01\n",
        );
        assert!(e.to_string().contains("more than 365 days ahead"), "{e}");
        let e = err("[[exception]]\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\n");
        assert!(e.to_string().contains("needs one of"), "{e}");
        let e = err(
            "[[exception]]\nemail = \"a@x.io\"\nslack_user_id = \"U1\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\n",
        );
        assert!(e.to_string().contains("only one of"), "{e}");
        let e = err(
            "[[exception]]\nemail = \"a@x.io\"\ncodes = [\"nope\"]\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\n",
        );
        assert!(e.to_string().contains("unknown finding code `nope`"), "{e}");
        let e = err(
            "[[exception]]\nemail = \"a@x.io\"\ncodes = []\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\n",
        );
        assert!(e.to_string().contains("codes is empty"), "{e}");
        // A datetime's offset would move its UTC day: a date alone is asked for.
        for expires in ["2027-03-01T23:00:00-08:00", "\"2027-03-01T10:00:00\""] {
            let e = err(&format!(
                "[[exception]]\nemail = \"a@x.io\"\nreason = \"r\"\nowner = \"o\"\nexpires = {expires}\n"
            ));
            assert!(e.to_string().contains("is not a date like"), "{e}");
        }
    }

    fn finding(code: FindingCode, slack: &str) -> Finding {
        let mut f = Finding::new(code, String::new());
        f.slack_user_id = Some(slack.to_owned());
        f
    }

    #[test]
    fn suppress_expire_and_stale() {
        let exs = parse_str(
            "[[exception]]\nslack_user_id = \"U1\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\n\
             [[exception]]\nslack_user_id = \"U2\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2026-11-28\n\
             [[exception]]\nslack_user_id = \"U3\"\ncodes = [\"legacy-unlinked\"]\nreason = \"r\"\nowner = \"o\"\nexpires = 2026-11-29\n",
        )
        .unwrap();
        let mut findings = vec![
            finding(FindingCode::UnknownActive, "U1"),
            finding(FindingCode::UnknownActive, "U2"),
            finding(FindingCode::UnknownActive, "U3"),
        ];
        apply(&mut findings, &exs, today());
        let got: Vec<_> = findings
            .iter()
            .map(|f| {
                (
                    f.code.as_str(),
                    f.slack_user_id.as_deref().unwrap(),
                    f.suppressed.is_some(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("unknown-active", "U1", true),
                ("unknown-active", "U2", false),
                ("unknown-active", "U3", false),
                ("expired-exception", "U2", false),
                ("stale-exception", "U3", false),
            ]
        );
        assert_eq!(
            findings[0].suppressed.as_ref().unwrap().expires,
            "2027-01-01"
        );
    }

    #[test]
    fn an_account_exception_never_covers_a_shared_email_of_other_accounts() {
        let exs = parse_str(
            "[[exception]]\nslack_user_id = \"U1\"\nreason = \"a\"\nowner = \"o\"\nexpires = 2027-01-01\n",
        )
        .unwrap();
        let mut shared = Finding::new(FindingCode::DuplicateEmail, "a@x.io".to_owned());
        shared.slack_user_ids = vec!["U1".into(), "U2".into()];
        let mut own = Finding::new(FindingCode::DuplicateEmail, "b@x.io".to_owned());
        own.slack_user_ids = vec!["U1".into()];
        own.jumpcloud_user_ids = vec!["J1".into(), "J2".into()];
        let mut findings = vec![shared, own];
        apply(&mut findings, &exs, today());
        let suppressed = |email: &str| {
            findings
                .iter()
                .find(|f| f.message == email)
                .unwrap()
                .suppressed
                .is_some()
        };
        assert!(!suppressed("a@x.io"), "{findings:?}");
        assert!(suppressed("b@x.io"), "{findings:?}");
    }

    #[test]
    fn a_second_exception_for_a_covered_finding_is_not_stale() {
        let exs = parse_str(
            "[[exception]]\nslack_user_id = \"U1\"\nreason = \"a\"\nowner = \"o\"\nexpires = 2027-01-01\n\
             [[exception]]\nslack_user_id = \"U1\"\ncodes = [\"unknown-active\"]\nreason = \"b\"\nowner = \"o\"\nexpires = 2027-01-01\n",
        )
        .unwrap();
        let mut findings = vec![finding(FindingCode::UnknownActive, "U1")];
        apply(&mut findings, &exs, today());
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].suppressed.as_ref().unwrap().reason, "a");
    }
}
