//! Tokens and API keys: read from the environment or a file, never from a flag value, and never
//! printed (`Debug` shows `****`; there is no `Display`).

use std::path::{Path, PathBuf};

/// A credential. The only way to see it is [`Secret::expose`], used where the header is built.
#[derive(Clone)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// Why no credential could be had.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Neither the file nor the variable.
    #[error("no {what}: set {env} or pass {flag} FILE")]
    Missing {
        /// "Slack SCIM token" or "JumpCloud API key".
        what: &'static str,
        /// The environment variable.
        env: &'static str,
        /// The flag.
        flag: &'static str,
    },
    /// The token file could not be read.
    #[error("cannot read {what} from {}", path.display())]
    Read {
        /// What it should hold.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The token file holds nothing.
    #[error("{} holds no {what}", path.display())]
    Empty {
        /// What it should hold.
        what: &'static str,
        /// The file.
        path: PathBuf,
    },
}

impl Secret {
    /// Wraps a value (tests and the emulators).
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for building the request header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Reads `file` when given (first line, trimmed), else the environment variable `env`.
    pub fn load(
        what: &'static str,
        env: &'static str,
        flag: &'static str,
        file: Option<&Path>,
    ) -> Result<Self, Error> {
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
                what,
                path: path.to_path_buf(),
                source,
            })?;
            let value = text.lines().next().unwrap_or_default().trim().to_owned();
            if value.is_empty() {
                return Err(Error::Empty {
                    what,
                    path: path.to_path_buf(),
                });
            }
            return Ok(Self(value));
        }
        match std::env::var(env) {
            Ok(v) if !v.trim().is_empty() => Ok(Self(v.trim().to_owned())),
            _ => Err(Error::Missing { what, env, flag }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("xoxp-canary-123");
        assert_eq!(format!("{s:?}"), "Secret(****)");
        assert_eq!(s.expose(), "xoxp-canary-123");
    }

    #[test]
    fn file_beats_env_and_is_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t");
        std::fs::write(&path, "  tok-1 \nignored\n").unwrap();
        let s = Secret::load("t", "SCIMDRIFT_TEST_UNSET_VAR", "--token-file", Some(&path)).unwrap();
        assert_eq!(s.expose(), "tok-1");
        std::fs::write(&path, "\n").unwrap();
        assert!(Secret::load("t", "X", "--f", Some(&path)).is_err());
        let e = Secret::load(
            "Slack SCIM token",
            "SCIMDRIFT_TEST_UNSET_VAR",
            "--token-file",
            None,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "no Slack SCIM token: set SCIMDRIFT_TEST_UNSET_VAR or pass --token-file FILE"
        );
    }
}
