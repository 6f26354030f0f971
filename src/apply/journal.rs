//! The apply journal: append-only JSON Lines, one record per event, each flushed and fsynced
//! before the next action, so a crash loses nothing and a re-run can resume.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How an action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// PATCHed and read back inactive.
    Deactivated,
    /// Already inactive when re-read: nothing sent.
    AlreadyInactive,
    /// Email or userName changed since the plan: skipped.
    ChangedSincePlan,
    /// 404: the account no longer exists.
    Gone,
    /// Slack refused (bot, primary owner, GDPR, …); its error text is recorded.
    Refused,
    /// PATCH accepted but never read back inactive in time.
    Unconfirmed,
    /// Could not be done (retries exhausted).
    Failed,
    /// Not tried: the run stopped first (401/403).
    NotAttempted,
}

impl Outcome {
    /// The journal and report word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deactivated => "deactivated",
            Self::AlreadyInactive => "already-inactive",
            Self::ChangedSincePlan => "changed-since-plan",
            Self::Gone => "gone",
            Self::Refused => "refused",
            Self::Unconfirmed => "unconfirmed",
            Self::Failed => "failed",
            Self::NotAttempted => "not-attempted",
        }
    }

    /// Final outcomes are never retried by a re-run. `gone` is not one: Slack never deletes
    /// accounts, so a "no such user" may be a token of another organisation, and the run with
    /// the right one must not skip the account.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Deactivated | Self::AlreadyInactive | Self::ChangedSincePlan | Self::Refused
        )
    }

    /// Outcomes that leave the run successful (exit 0).
    pub fn is_success(self) -> bool {
        matches!(
            self,
            Self::Deactivated | Self::AlreadyInactive | Self::ChangedSincePlan | Self::Gone
        )
    }
}

/// An account's state as read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// `active`.
    pub active: bool,
    /// `userName`.
    #[serde(rename = "userName")]
    pub user_name: Option<String>,
    /// Normalised emails, primary first.
    pub emails: Vec<String>,
}

/// One journal line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// RFC 3339, when the record was written.
    pub ts: String,
    /// `start` (a run began), `patching` (a PATCH is about to be sent) or `outcome`.
    pub event: String,
    /// `start`: the plan's SHA-256, so a journal is never reused for another plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_sha256: Option<String>,
    /// `start`: the SCIM base URL written to, so outcomes against one org never stand for
    /// another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_url: Option<String>,
    /// The account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_user_id: Option<String>,
    /// `outcome`: how it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// The last HTTP status that mattered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// Slack's error text, when it refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_error: Option<String>,
    /// State read before the PATCH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Seen>,
    /// State read after the PATCH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Seen>,
    /// PATCH requests sent for this action in this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patches: Option<u32>,
    /// A sentence for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Record {
    /// A record of `event` stamped now.
    pub fn new(event: &str) -> Self {
        Self {
            // Real time, whatever SOURCE_DATE_EPOCH says: this is an audit trail.
            ts: jiff::Timestamp::now().to_string(),
            event: event.to_owned(),
            plan_sha256: None,
            slack_url: None,
            slack_user_id: None,
            outcome: None,
            http_status: None,
            slack_error: None,
            before: None,
            after: None,
            patches: None,
            message: None,
        }
    }
}

/// Why a journal cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing failed.
    #[error("journal {}", path.display())]
    Io {
        /// The journal.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line in the middle is not a record.
    #[error("journal {} line {line} is not a journal record", path.display())]
    Corrupt {
        /// The journal.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// `serde_json`'s account.
        #[source]
        source: serde_json::Error,
    },
    /// The journal records a run against another SCIM endpoint.
    #[error("journal {} records a run against {found}, not {expected}; use a new --journal", path.display())]
    OtherEndpoint {
        /// The journal.
        path: PathBuf,
        /// The URL in the journal.
        found: String,
        /// This run's URL.
        expected: String,
    },
    /// Another process holds the journal (an `apply` still running).
    #[error("journal {} is in use by another scimdrift apply; wait for it to end", path.display())]
    InUse {
        /// The journal.
        path: PathBuf,
    },
    /// The journal belongs to another plan.
    #[error("journal {} belongs to another plan (sha256 {found}, this plan is {expected}); use a new --journal", path.display())]
    OtherPlan {
        /// The journal.
        path: PathBuf,
        /// The plan's checksum in the journal.
        found: String,
        /// This plan's checksum.
        expected: String,
    },
}

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// `patching` records written by this run: PATCHes it may have sent.
    pub patching: usize,
}

/// How a journal's bytes end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tail {
    /// Empty, or the last line ends in a newline.
    Whole,
    /// The last line is a whole record without its newline: kept, and completed before
    /// anything is appended.
    Unterminated,
    /// The last line has no newline and is no record (a crash while writing it, perhaps inside
    /// a multi-byte character), or is blank: the first `keep` bytes are the journal.
    Torn {
        /// Bytes before the torn line.
        keep: usize,
    },
}

/// The records of a journal's `bytes`, and how they end. Only a last line without a newline can
/// be a torn write: a line that ends in a newline was written whole, so if it is no record the
/// journal is corrupt, wherever the line is.
fn parse(path: &Path, bytes: &[u8]) -> Result<(Vec<Record>, Tail), Error> {
    let terminated = bytes.is_empty() || bytes.ends_with(b"\n");
    let lines: Vec<&[u8]> = bytes
        .strip_suffix(b"\n")
        .unwrap_or(bytes)
        .split(|b| *b == b'\n')
        .collect();
    let mut records = Vec::with_capacity(lines.len());
    let mut tail = Tail::Whole;
    for (i, line) in lines.iter().enumerate() {
        let unterminated = !terminated && i + 1 == lines.len();
        let torn = Tail::Torn {
            keep: bytes.len() - line.len(),
        };
        if line.trim_ascii().is_empty() {
            if unterminated {
                tail = torn;
            }
            continue;
        }
        match serde_json::from_slice::<Record>(line) {
            Ok(r) => {
                records.push(r);
                if unterminated {
                    tail = Tail::Unterminated;
                }
            }
            Err(_) if unterminated => {
                tracing::warn!(
                    "{}: ignoring a torn last line (line {}: no newline, not a record)",
                    path.display(),
                    i + 1
                );
                tail = torn;
            }
            Err(source) => {
                return Err(Error::Corrupt {
                    path: path.to_path_buf(),
                    line: i + 1,
                    source,
                });
            }
        }
    }
    Ok((records, tail))
}

/// The bytes of `path` (none when it does not exist).
fn bytes_of(path: &Path) -> Result<Vec<u8>, Error> {
    match std::fs::read(path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Reads every record of `path`, which must exist (`verify --journal` of a mistyped path must
/// not check nothing and pass). A last line without a newline that is no record is a torn write
/// (a crash while writing it, perhaps inside a multi-byte character) and is ignored; one that is
/// a record counts. Any other line that is not a record, the last one included when it ends in
/// a newline, is an error.
pub fn read(path: &Path) -> Result<Vec<Record>, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &bytes).map(|(records, _)| records)
}

/// The last outcome of each account in `records`.
pub fn outcomes(records: &[Record]) -> BTreeMap<String, Outcome> {
    let mut out = BTreeMap::new();
    for r in records {
        if let (Some(id), Some(o)) = (&r.slack_user_id, r.outcome) {
            out.insert(id.clone(), o);
        }
    }
    out
}

/// The other SCIM endpoint a run of `records` may have changed accounts on, or recorded final
/// outcomes against: those must never stand for `slack_url`. Runs that stopped before doing
/// anything there (a mistyped URL) do not count.
fn other_endpoint<'a>(records: &'a [Record], slack_url: &str) -> Option<&'a str> {
    let mut url: Option<&str> = None;
    for r in records {
        if r.event == "start" {
            url = r.slack_url.as_deref();
        } else if (r.event == "patching" || r.outcome.is_some_and(Outcome::is_final))
            && let Some(other) = url.filter(|u| *u != slack_url)
        {
            return Some(other);
        }
    }
    None
}

impl Journal {
    /// Opens `path` for appending after checking that it belongs to the plan and to the SCIM
    /// endpoint `slack_url`, and writes a `start` record. Returns the journal and the records it
    /// already held.
    pub fn open(
        path: &Path,
        plan_sha256: &str,
        slack_url: &str,
    ) -> Result<(Self, Vec<Record>), Error> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let created = !path.exists();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        // Two runs on one journal would both re-read and PATCH the same accounts and record
        // them twice: the lock is held until this run ends (the OS drops it on a crash).
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::InUse {
                    path: path.to_path_buf(),
                });
            }
            // A filesystem without locks (`Unsupported`, or NFS without a lock daemon:
            // ENOLCK, which std does not name) must not make the journal unusable.
            Err(std::fs::TryLockError::Error(e)) => {
                tracing::warn!(
                    "{}: cannot be locked here ({e}); run one apply at a time on it",
                    path.display()
                );
            }
        }
        let bytes = bytes_of(path)?;
        let (existing, tail) = parse(path, &bytes)?;
        if let Some(found) = existing.iter().find_map(|r| r.plan_sha256.as_deref())
            && found != plan_sha256
        {
            return Err(Error::OtherPlan {
                path: path.to_path_buf(),
                found: found.to_owned(),
                expected: plan_sha256.to_owned(),
            });
        }
        if let Some(found) = other_endpoint(&existing, slack_url) {
            return Err(Error::OtherEndpoint {
                path: path.to_path_buf(),
                found: found.to_owned(),
                expected: slack_url.to_owned(),
            });
        }
        // A crash mid-write leaves a torn last line: cut it, so new records start on a line of
        // their own. A whole record that only lacks its newline is kept: it may be the outcome
        // of a PATCH, and the journal is the audit trail.
        if let Tail::Torn { keep } = tail {
            file.set_len(keep as u64).map_err(io)?;
        }
        if tail == Tail::Unterminated {
            // Fsynced with the `start` record below.
            file.write_all(b"\n").map_err(io)?;
        }
        if created {
            // The new file's name must survive a crash too, with the records it will hold.
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        let mut journal = Self {
            path: path.to_path_buf(),
            file,
            patching: 0,
        };
        let mut start = Record::new("start");
        start.plan_sha256 = Some(plan_sha256.to_owned());
        start.slack_url = Some(slack_url.to_owned());
        journal.append(&start)?;
        Ok((journal, existing))
    }

    /// Appends the record that a PATCH is about to be sent.
    pub fn append_patching(&mut self, record: &Record) -> Result<(), Error> {
        self.append(record)?;
        self.patching += 1;
        Ok(())
    }

    /// Appends one record and fsyncs it before returning.
    pub fn append(&mut self, record: &Record) -> Result<(), Error> {
        let mut line = serde_json::to_vec(record).unwrap_or_default();
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(|source| Error::Io {
                path: self.path.clone(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://api.slack.com/scim/v2";

    #[test]
    fn resume_reads_outcomes_and_tolerates_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        {
            let (mut j, old) = Journal::open(&path, "abc", URL).unwrap();
            assert!(old.is_empty());
            let mut r = Record::new("outcome");
            r.slack_user_id = Some("U1".into());
            r.outcome = Some(Outcome::Deactivated);
            j.append(&r).unwrap();
        }
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"ts\":\"2026-");
        std::fs::write(&path, &text).unwrap();
        let records = read(&path).unwrap();
        assert_eq!(outcomes(&records).get("U1"), Some(&Outcome::Deactivated));
        let err = Journal::open(&path, "other", URL).unwrap_err();
        assert!(err.to_string().contains("belongs to another plan"), "{err}");
        let err = Journal::open(&path, "abc", "https://api.slack.com/scim/v1").unwrap_err();
        assert!(err.to_string().contains("records a run against"), "{err}");
        // A run elsewhere that recorded nothing final does not bind the journal.
        let other = dir.path().join("k.jsonl");
        {
            let (mut j, _) = Journal::open(&other, "abc", "http://127.0.0.1:9/typo").unwrap();
            let mut r = Record::new("outcome");
            r.slack_user_id = Some("U1".into());
            r.outcome = Some(Outcome::NotAttempted);
            j.append(&r).unwrap();
        }
        let (_j, old) = Journal::open(&other, "abc", URL).unwrap();
        assert_eq!(old.len(), 2);
        // Re-opening cuts the torn line, and the next record stands on its own line.
        let (_j, old) = Journal::open(&path, "abc", URL).unwrap();
        assert_eq!(old.len(), 2);
        assert_eq!(read(&path).unwrap().len(), 3);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{}\n{\"ts\":1}\n");
        std::fs::write(&path, &text).unwrap();
        assert!(matches!(read(&path), Err(Error::Corrupt { line: 4, .. })));
    }

    #[test]
    fn a_tail_torn_inside_a_character_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        drop(Journal::open(&path, "abc", URL).unwrap());
        let mut bytes = std::fs::read(&path).unwrap();
        // "…" is E2 80 A6: cut after its first byte.
        bytes.extend_from_slice(b"{\"ts\":\"x\",\"event\":\"outcome\",\"message\":\"retried \xE2");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read(&path).unwrap().len(), 1);
        let (_j, old) = Journal::open(&path, "abc", URL).unwrap();
        assert_eq!(old.len(), 1);
        assert_eq!(read(&path).unwrap().len(), 2);
        // The same bytes before the last line are corruption, not a torn tail.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"{\"ts\":\"\xE2\"}\n{}\n");
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(read(&path), Err(Error::Corrupt { line: 3, .. })));
    }

    /// A journal at `path` holding a `start` record and a `deactivated` outcome for U1.
    fn one_outcome(path: &Path) {
        let (mut j, _) = Journal::open(path, "abc", URL).unwrap();
        let mut r = Record::new("outcome");
        r.slack_user_id = Some("U1".into());
        r.outcome = Some(Outcome::Deactivated);
        j.append(&r).unwrap();
    }

    #[test]
    fn a_whole_last_record_without_its_newline_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        one_outcome(&path);
        let mut bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.pop(), Some(b'\n'));
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read(&path).unwrap().len(), 2);
        let (_j, old) = Journal::open(&path, "abc", URL).unwrap();
        assert_eq!(outcomes(&old).get("U1"), Some(&Outcome::Deactivated));
        // Completed with its newline, not cut: the next record stands on its own line.
        let after = std::fs::read(&path).unwrap();
        assert!(after.starts_with(&bytes));
        assert_eq!(after[bytes.len()], b'\n');
        let records = read(&path).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(outcomes(&records).get("U1"), Some(&Outcome::Deactivated));
        assert!(after.ends_with(b"\n"));
    }

    #[test]
    fn a_bad_last_line_with_its_newline_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        one_outcome(&path);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"garbage, not json\n");
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(read(&path), Err(Error::Corrupt { line: 3, .. })));
        let err = Journal::open(&path, "abc", URL).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("j.jsonl line 3 is not a journal record"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "left as it was");
        // A blank last line without a newline is no record to keep: cut.
        bytes.truncate(bytes.len() - b"garbage, not json\n".len());
        bytes.extend_from_slice(b"  ");
        std::fs::write(&path, &bytes).unwrap();
        let (_j, old) = Journal::open(&path, "abc", URL).unwrap();
        assert_eq!(old.len(), 2);
        assert_eq!(read(&path).unwrap().len(), 3);
    }

    #[test]
    fn a_journal_in_use_is_refused_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (first, _) = Journal::open(&path, "abc", URL).unwrap();
        let err = Journal::open(&path, "abc", URL).unwrap_err();
        assert!(matches!(err, Error::InUse { .. }), "{err}");
        assert_eq!(read(&path).unwrap().len(), 1, "nothing appended");
        drop(first);
        let (_j, old) = Journal::open(&path, "abc", URL).unwrap();
        assert_eq!(old.len(), 1);
    }

    #[test]
    fn outcome_classes() {
        assert!(Outcome::Deactivated.is_final() && Outcome::Deactivated.is_success());
        assert!(Outcome::Refused.is_final() && !Outcome::Refused.is_success());
        assert!(!Outcome::Unconfirmed.is_final() && !Outcome::NotAttempted.is_success());
        // A token of another organisation reads every account "gone": a re-run reads again.
        assert!(!Outcome::Gone.is_final() && Outcome::Gone.is_success());
        assert_eq!(
            serde_json::to_string(&Outcome::ChangedSincePlan).unwrap(),
            "\"changed-since-plan\""
        );
    }
}
