//! `scimdrift.toml`: the settings a team keeps beside its CI job. Parsed strictly (unknown keys
//! are errors) into a typed, validated `FileConfig`; flags override it in `lib.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::analysis::{FindingCode, Severity};

/// The file name looked for in the working directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "scimdrift.toml";

/// Why the configuration could not be used. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read config {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown key, or a value of the wrong type (toml's message has the line).
    #[error("invalid config {}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// toml's account, with line and column.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A value of the right type that means nothing.
    #[error("{}: {key}: {problem}", path.display())]
    Invalid {
        /// The file (or `--flag` for command-line values).
        path: PathBuf,
        /// The key.
        key: String,
        /// What is wrong.
        problem: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    scim_enabled_at: Option<toml::Value>,
    slack_app_ids: Option<Vec<String>>,
    fail_on: Option<String>,
    severity: Option<BTreeMap<String, String>>,
    exceptions: Option<PathBuf>,
    max_exception_days: Option<i64>,
    max_changes: Option<toml::Value>,
}

/// The validated contents of `scimdrift.toml`.
#[derive(Clone, Debug, Default)]
pub struct FileConfig {
    /// Where it was read from, if anywhere.
    pub path: Option<PathBuf>,
    /// `scim_enabled_at`.
    pub scim_enabled_at: Option<jiff::Timestamp>,
    /// `slack_app_ids`.
    pub slack_app_ids: Vec<String>,
    /// `fail_on`.
    pub fail_on: Option<Severity>,
    /// `[severity]` overrides per code.
    pub severity: BTreeMap<FindingCode, Severity>,
    /// `exceptions`: the exceptions file, relative to the config file.
    pub exceptions: Option<PathBuf>,
    /// `max_exception_days` (default 365).
    pub max_exception_days: i64,
    /// `max_changes` for `apply` (`N` or `P%`).
    pub max_changes: Option<String>,
}

impl FileConfig {
    /// The defaults, when there is no file.
    pub fn defaults() -> Self {
        Self {
            max_exception_days: 365,
            ..Self::default()
        }
    }
}

/// Loads `explicit`, else `./scimdrift.toml` when it exists, else the defaults.
pub fn load(explicit: Option<&Path>) -> Result<FileConfig, Error> {
    let path = if let Some(p) = explicit {
        p.to_path_buf()
    } else {
        let default = PathBuf::from(DEFAULT_FILE);
        if !default.is_file() {
            return Ok(FileConfig::defaults());
        }
        default
    };
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    parse(&path, &text)
}

fn parse(path: &Path, text: &str) -> Result<FileConfig, Error> {
    let raw: RawConfig = toml::from_str(text).map_err(|source| Error::Parse {
        path: path.to_path_buf(),
        source: Box::new(source),
    })?;
    let invalid = |key: &str, problem: String| Error::Invalid {
        path: path.to_path_buf(),
        key: key.to_owned(),
        problem,
    };
    let scim_enabled_at = match raw.scim_enabled_at {
        None => None,
        Some(toml::Value::String(s)) => {
            Some(parse_instant(&s).map_err(|p| invalid("scim_enabled_at", p))?)
        }
        Some(toml::Value::Datetime(d)) => {
            Some(parse_instant(&d.to_string()).map_err(|p| invalid("scim_enabled_at", p))?)
        }
        Some(other) => {
            return Err(invalid(
                "scim_enabled_at",
                format!("expected a date or a timestamp, found {}", other.type_str()),
            ));
        }
    };
    let fail_on = raw
        .fail_on
        .map(|s| s.parse::<Severity>().map_err(|p| invalid("fail_on", p)))
        .transpose()?;
    let mut severity = BTreeMap::new();
    for (code, sev) in raw.severity.unwrap_or_default() {
        let key = format!("severity.{code}");
        let code = code.parse::<FindingCode>().map_err(|p| invalid(&key, p))?;
        let sev = sev.parse::<Severity>().map_err(|p| invalid(&key, p))?;
        severity.insert(code, sev);
    }
    let max_exception_days = raw.max_exception_days.unwrap_or(365);
    if !(1..=3650).contains(&max_exception_days) {
        return Err(invalid(
            "max_exception_days",
            format!("{max_exception_days} is not between 1 and 3650"),
        ));
    }
    let max_changes = match raw.max_changes {
        None => None,
        Some(toml::Value::Integer(n)) if n >= 0 => Some(n.to_string()),
        Some(toml::Value::String(s)) => {
            // Checked now, so that `audit` and `plan` refuse a config `apply` would refuse.
            if let Err(crate::apply::Refusal::Invalid { problem, .. }) =
                crate::apply::max_changes(Some(&s), 0, "max_changes")
            {
                return Err(invalid("max_changes", problem));
            }
            Some(s)
        }
        Some(other) => {
            return Err(invalid(
                "max_changes",
                format!("expected a number or \"P%\", found {other}"),
            ));
        }
    };
    // A blank id would replace connector detection with an id no application has, and so
    // drop every entitlement finding.
    let slack_app_ids = raw
        .slack_app_ids
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, id)| match id.trim() {
            "" => Err(invalid(
                "slack_app_ids",
                format!("entry {} is blank", i + 1),
            )),
            id => Ok(id.to_owned()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let base = path.parent().unwrap_or(Path::new(""));
    Ok(FileConfig {
        path: Some(path.to_path_buf()),
        scim_enabled_at,
        slack_app_ids,
        fail_on,
        severity,
        exceptions: raw.exceptions.map(|p| base.join(p)),
        max_exception_days,
        max_changes,
    })
}

/// Parses `2024-03-01` (midnight UTC) or an RFC 3339 timestamp.
pub fn parse_instant(s: &str) -> Result<jiff::Timestamp, String> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Ok(ts);
    }
    // jiff reads a date out of a longer datetime; only a bare date means midnight UTC.
    if s.parse::<jiff::civil::DateTime>().is_ok() && s.len() > "2024-03-01".len() {
        return Err(format!(
            "`{s}` has no UTC offset: add `Z` or one like `+01:00` (or give a date alone)"
        ));
    }
    s.parse::<jiff::civil::Date>()
        .map_err(|_| {
            format!("`{s}` is neither a date (2024-03-01) nor an RFC 3339 timestamp with offset")
        })
        .and_then(|d| {
            d.to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp())
                .map_err(|e| e.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Result<FileConfig, Error> {
        parse(Path::new("scimdrift.toml"), text)
    }

    #[test]
    fn full_config() {
        let c = cfg(r#"
            scim_enabled_at = 2024-03-01
            slack_app_ids = ["a", "b"]
            fail_on = "warning"
            [severity]
            legacy-unlinked = "error"
        "#)
        .unwrap();
        assert_eq!(
            c.scim_enabled_at.unwrap(),
            "2024-03-01T00:00:00Z".parse::<jiff::Timestamp>().unwrap()
        );
        assert_eq!(c.slack_app_ids, vec!["a", "b"]);
        assert_eq!(c.fail_on, Some(Severity::Warning));
        assert_eq!(c.severity[&FindingCode::LegacyUnlinked], Severity::Error);
        let c = cfg(r#"scim_enabled_at = "2024-03-01T12:00:00+02:00""#).unwrap();
        assert_eq!(
            c.scim_enabled_at.unwrap(),
            "2024-03-01T10:00:00Z".parse::<jiff::Timestamp>().unwrap()
        );
    }

    #[test]
    fn strictness() {
        let e = cfg("scim_enabled = 1").err().unwrap();
        let chain = format!("{e}: {}", std::error::Error::source(&e).unwrap());
        assert!(chain.contains("unknown field `scim_enabled`"), "{chain}");
        assert!(chain.contains("line 1"), "{chain}");
        let e = cfg("[severity]\nnot-a-code = \"error\"").err().unwrap();
        assert_eq!(
            e.to_string(),
            "scimdrift.toml: severity.not-a-code: unknown finding code `not-a-code`"
        );
        assert!(cfg(r#"scim_enabled_at = "last year""#).is_err());
        // A time without an offset is not read as midnight UTC of its day.
        for text in [
            "scim_enabled_at = 2024-03-01T09:00:00",
            r#"scim_enabled_at = "2024-03-01T09:00:00""#,
            r#"scim_enabled_at = "2024-03-01 09:00""#,
        ] {
            let e = cfg(text).err().unwrap().to_string();
            assert!(e.contains("has no UTC offset"), "{text}: {e}");
        }
        let at = |text: &str| cfg(text).unwrap().scim_enabled_at.unwrap().to_string();
        assert_eq!(
            at("scim_enabled_at = 2024-03-01T09:00:00-05:00"),
            "2024-03-01T14:00:00Z"
        );
        assert_eq!(at("scim_enabled_at = 2024-03-01"), "2024-03-01T00:00:00Z");
        assert!(cfg("fail_on = \"fatal\"").is_err());
        let e = cfg("max_changes = \"abc\"").err().unwrap();
        assert!(
            e.to_string().starts_with("scimdrift.toml: max_changes: "),
            "{e}"
        );
        assert!(cfg("max_changes = \"150%\"").is_err());
        assert_eq!(
            cfg("max_changes = \"5%\"").unwrap().max_changes.as_deref(),
            Some("5%")
        );
    }

    #[test]
    fn blank_slack_app_ids_are_refused_and_padded_ones_trimmed() {
        let e = cfg(r#"slack_app_ids = ["a", " "]"#).err().unwrap();
        assert_eq!(
            e.to_string(),
            "scimdrift.toml: slack_app_ids: entry 2 is blank"
        );
        assert_eq!(
            cfg(r#"slack_app_ids = [" a "]"#).unwrap().slack_app_ids,
            ["a"]
        );
    }
}
