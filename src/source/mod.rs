//! Loading inputs: JumpCloud exports and Slack SCIM listings from files and directories.
//!
//! Owns the wire formats (private to the submodules), content sniffing, completeness checks and
//! input digests. Converts everything into `model` types; never decides what is drift.

mod csv_users;
mod files;
mod jumpcloud;
mod slack;
mod store;
pub(crate) mod wire;

use std::path::PathBuf;

pub(crate) use files::not_json;
pub use files::{InputDigest, sha256_hex};
pub use jumpcloud::{applications_from, load as load_jumpcloud, load_from as load_jumpcloud_from};
pub use slack::{load as load_slack, load_from as load_slack_from, parse_user as parse_slack_user};
pub use store::{Fs, Snapshot, Store};

/// A loaded input: the data, where it came from, and what could not be verified.
#[derive(Debug)]
pub struct Loaded<T> {
    /// The domain data.
    pub data: T,
    /// Paths and checksum of every file read.
    pub digest: InputDigest,
    /// Completeness problems (pages missing, counts that do not add up). Empty when complete.
    pub problems: Vec<String>,
    /// Things worth telling the reader that are not problems.
    pub notices: Vec<String>,
}

/// Why an input could not be loaded. Every variant names the file, and the record when there is
/// one.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The path could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not JSON, or JSON of the wrong types.
    #[error("{}:{line}:{column}: {}{what}", path.display(), At(.record))]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The record the error is in (`Resources[5] (id W5)`), when it is in one.
        record: Option<String>,
        /// "malformed JSON" or "unexpected JSON value".
        what: &'static str,
        /// `serde_json`'s account.
        #[source]
        source: serde_json::Error,
    },
    /// A document of the wrong kind (a Groups listing given as users, a JumpCloud page as Slack).
    #[error("{}: expected {expected}, but this is {found}", path.display())]
    WrongKind {
        /// The file.
        path: PathBuf,
        /// What the option takes.
        expected: &'static str,
        /// What the file holds.
        found: String,
    },
    /// A record that cannot be used (no id, no email, a bad value).
    #[error("{}: {record}: {problem}", path.display())]
    Record {
        /// The file.
        path: PathBuf,
        /// Which record (`Resources[3] (id W123)`, `line 7`).
        record: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A key given more than once where the loader reads it (the same key, or two spellings of
    /// one field): which value holds cannot be known.
    #[error("{}: {record}: `{key}` is given more than once, so which value holds cannot be known", path.display())]
    DuplicateKey {
        /// The file.
        path: PathBuf,
        /// Which record (`Resources[5] (id W5)`), or `top-level object`.
        record: String,
        /// The key.
        key: String,
    },
    /// A CSV file the reader rejects.
    #[error("{}: invalid CSV", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The csv crate's account.
        #[source]
        source: csv::Error,
    },
    /// A CSV file without a required column.
    #[error("{}: no {column} column in the CSV header (looked for {aliases})", path.display())]
    CsvColumn {
        /// The file.
        path: PathBuf,
        /// The missing column.
        column: &'static str,
        /// The header names accepted for it.
        aliases: &'static str,
    },
    /// The Slack listing holds no account at all.
    #[error("{}: the Slack listing is empty (no users)", path.display())]
    EmptyListing {
        /// The file or directory.
        path: PathBuf,
    },
    /// The JumpCloud input holds no user at all.
    #[error("{}: the JumpCloud export holds no users", path.display())]
    EmptyExport {
        /// The file or directory.
        path: PathBuf,
    },
    /// A bundle whose `systemusers/` folder holds no page: the users were never exported.
    #[error("{}: no page files (an export writes at least one): the JumpCloud export holds no users", path.display())]
    NoUserPages {
        /// The `systemusers` folder.
        path: PathBuf,
    },
    /// Inputs that do not fit together (v1 and v2 pages mixed, pages and bare arrays mixed).
    #[error("{}: {problem}", path.display())]
    Inconsistent {
        /// The file or directory.
        path: PathBuf,
        /// What does not fit.
        problem: String,
    },
    /// Pages missing or counts that do not add up (DESIGN §2); `--allow-incomplete` reports anyway.
    #[error("{what} is incomplete: {}; {hint}", problems.join("; "))]
    Incomplete {
        /// `Slack listing` or `JumpCloud export`.
        what: &'static str,
        /// Each problem found.
        problems: Vec<String>,
        /// What to do: [`RERUN_OR_ALLOW`] or [`RERUN`].
        hint: &'static str,
    },
}

/// The way out of an incomplete input for `audit`.
pub const RERUN_OR_ALLOW: &str =
    "rerun the export, or pass --allow-incomplete for a report marked incomplete";
/// The way out for commands that never work from incomplete inputs (`plan`, `baseline`,
/// `verify`).
pub const RERUN: &str =
    "rerun the export (plans, exceptions and checks are never made from incomplete inputs)";

/// `record: ` when there is a record.
struct At<'a>(&'a Option<String>);

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(record) => write!(f, "{record}: "),
            None => Ok(()),
        }
    }
}

impl Error {
    /// The error for `serde_json`'s `source` while reading `bytes` (the document as parsed, BOM
    /// stripped) from `path`. Off the hot path: a value of the wrong type is placed in its record
    /// (raw API pages are one line, so line and column alone do not find it), and a key given
    /// twice becomes [`Error::DuplicateKey`].
    fn json(path: &std::path::Path, bytes: &[u8], source: serde_json::Error) -> Self {
        if !source.is_data() {
            return Self::Json {
                path: path.to_path_buf(),
                line: source.line(),
                column: source.column(),
                record: None,
                what: "malformed JSON",
                source,
            };
        }
        let record = files::offset_of(bytes, source.line(), source.column())
            .and_then(|at| files::record_at(bytes, at));
        if let Some(key) = wire::duplicate_field(&source) {
            return Self::DuplicateKey {
                path: path.to_path_buf(),
                record: record.unwrap_or_else(|| "top-level object".to_owned()),
                key,
            };
        }
        Self::Json {
            path: path.to_path_buf(),
            line: source.line(),
            column: source.column(),
            record,
            what: "unexpected JSON value",
            source,
        }
    }
}
