//! `scimdrift apply`: executes a plan against Slack SCIM within the guard rails of DESIGN §7
//! (blast radius, plan age, complete inputs only), journaled so a re-run resumes, and
//! `scimdrift verify`, which re-reads accounts and says which are really deactivated.

pub mod journal;
pub mod run;
pub mod verify;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::cli::{ApplyArgs, Format, GlobalArgs, NetArgs};
use crate::error::Error;
use crate::model::ScimVersion;
use crate::plan::{self, Plan};
use crate::remote::{BaseUrl, Client, NetOptions};
use crate::report::ExitStatus;
use crate::secret::Secret;
use journal::{Journal, Outcome, Record};

/// Why a plan may not be applied (exit 2, nothing written).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Not a plan file.
    #[error("{}: not a scimdrift plan", path.display())]
    NotAPlan {
        /// The file.
        path: PathBuf,
        /// `serde_json`'s account.
        #[source]
        source: serde_json::Error,
    },
    /// A plan of another kind or version.
    #[error("{}: unsupported plan (kind {kind:?}, schema_version {version})", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// Its kind.
        kind: String,
        /// Its schema version.
        version: u32,
    },
    /// An action that must not be run (a plan edited by hand).
    #[error("{}: actions[{index}]: {problem}", path.display())]
    BadAction {
        /// The file.
        path: PathBuf,
        /// The action's index in `actions`.
        index: usize,
        /// What is wrong with it.
        problem: plan::BadAction,
    },
    /// A `created_at` that is not a time: the plan's age, which `--max-plan-age` guards, is
    /// unknown.
    #[error("{}: created_at: `{value}` is not an RFC 3339 time, so the plan's age is unknown; make a new plan", path.display())]
    NoDate {
        /// The file.
        path: PathBuf,
        /// The value.
        value: String,
    },
    /// Dated in the future.
    #[error("{}: created_at: {created} is in the future; make a new plan", path.display())]
    Future {
        /// The file.
        path: PathBuf,
        /// The date.
        created: String,
    },
    /// Made from incomplete inputs.
    #[error("{}: the plan was made from incomplete inputs; make a new one from complete exports", path.display())]
    Incomplete {
        /// The file.
        path: PathBuf,
    },
    /// Older than `--max-plan-age`.
    #[error("{}: the plan is {age} old, more than --max-plan-age {max}; make a new one", path.display())]
    Stale {
        /// The file.
        path: PathBuf,
        /// Its age.
        age: String,
        /// The limit.
        max: String,
    },
    /// More changes than the blast-radius guard allows.
    #[error(
        "the plan deactivates {count} account(s), more than {limit} allowed ({why}); review it, then raise --max-changes if it is right"
    )]
    TooMany {
        /// Actions in the plan.
        count: usize,
        /// The limit.
        limit: usize,
        /// How the limit was set.
        why: String,
    },
    /// Not one account read exists where the token points: Slack never deletes accounts, so
    /// the token is another organisation's, not every account gone.
    #[error(
        "none of the {count} account(s) {what} exists at {base} (each read answered \"no such user\"): Slack never deletes accounts, so the token is most likely another organisation's{also}"
    )]
    NoneFound {
        /// Accounts read.
        count: usize,
        /// Whose accounts: `read for the plan`, `the journal names`.
        what: &'static str,
        /// What else it may be, and what was done.
        also: &'static str,
        /// The SCIM base URL.
        base: String,
    },
    /// A value that makes no sense.
    #[error("{flag}: {problem}")]
    Invalid {
        /// The flag.
        flag: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// Parses `--max-changes` (or the config's `max_changes`, `source` naming which): `N` or `P%`.
pub fn max_changes(
    raw: Option<&str>,
    active: usize,
    source: &'static str,
) -> Result<(usize, String), Refusal> {
    let invalid = |problem: String| Refusal::Invalid {
        flag: source,
        problem,
    };
    match raw.map(str::trim) {
        None => {
            let tenth = active / 10;
            Ok((
                tenth.min(25),
                format!("default: 25 accounts and 10% of {active} active"),
            ))
        }
        Some(p) if p.ends_with('%') => {
            let pct: f64 = p
                .trim_end_matches('%')
                .trim()
                .parse()
                .map_err(|_| invalid(format!("`{p}` is not a percentage")))?;
            if !(0.0..=100.0).contains(&pct) {
                return Err(invalid(format!("`{p}` is not between 0% and 100%")));
            }
            #[allow(
                clippy::cast_precision_loss,
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss
            )]
            let limit = (active as f64 * pct / 100.0).floor() as usize;
            Ok((limit, format!("{source} {p} of {active} active")))
        }
        Some(n) => n
            .parse::<usize>()
            .map(|limit| (limit, format!("{source} {limit}")))
            .map_err(|_| invalid(format!("`{n}` is neither a number nor a percentage"))),
    }
}

/// Parses durations such as `24h`, `90m`, `2d`, `30s`.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (num, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{raw}` is not a duration like 24h, 90m or 2d"))?;
    let unit_secs = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "" => return Err(format!("`{raw}` needs a unit: s, m, h or d (e.g. 24h)")),
        _ => return Err(format!("`{raw}`: unknown unit (use s, m, h or d)")),
    };
    n.checked_mul(unit_secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{raw}` is too long"))
}

/// The time a plan was made, from its `created_at`.
fn created_at(plan: &Plan, path: &Path) -> Result<jiff::Timestamp, Refusal> {
    plan.created_at.parse().map_err(|_| Refusal::NoDate {
        path: path.to_path_buf(),
        value: plan.created_at.clone(),
    })
}

/// Reads and checks a plan file (a UTF-8 BOM is accepted, as the inputs' loaders accept it);
/// returns it with the SHA-256 of the file.
pub fn read_plan(path: &Path) -> Result<(Plan, String), Error> {
    let bytes = std::fs::read(path).map_err(|source| crate::source::Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let json = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let plan: Plan = serde_json::from_slice(json).map_err(|source| Refusal::NotAPlan {
        path: path.to_path_buf(),
        source,
    })?;
    if plan.kind != plan::KIND || plan.schema_version != 1 {
        return Err(Refusal::Unsupported {
            path: path.to_path_buf(),
            kind: plan.kind,
            version: plan.schema_version,
        }
        .into());
    }
    if let Some((index, problem)) = plan.bad_action() {
        return Err(Refusal::BadAction {
            path: path.to_path_buf(),
            index,
            problem,
        }
        .into());
    }
    // Malformed, not merely too old: refused for a dry run too, as any bad input is.
    created_at(&plan, path)?;
    Ok((plan, crate::source::sha256_hex(&bytes)))
}

/// `apply`'s flag values, parsed before anything is read or sent: a bad one is a usage error
/// (exit 2), dry run or not.
struct Settings {
    max_age: Duration,
    confirm_timeout: Duration,
    /// `--max-changes`, else the config's `max_changes`, with which it is.
    max_changes: (Option<String>, &'static str),
}

impl Settings {
    fn parse(args: &ApplyArgs, configured_max: Option<&str>) -> Result<Self, Refusal> {
        let duration = |flag: &'static str, raw: &str| {
            parse_duration(raw).map_err(|problem| Refusal::Invalid { flag, problem })
        };
        let limit = match (&args.max_changes, configured_max) {
            (Some(raw), _) => (Some(raw.clone()), "--max-changes"),
            (None, Some(raw)) => (Some(raw.to_owned()), "max_changes (config)"),
            (None, None) => (None, "--max-changes"),
        };
        max_changes(limit.0.as_deref(), 0, limit.1)?;
        Ok(Self {
            max_age: duration("--max-plan-age", &args.max_plan_age)?,
            confirm_timeout: duration("--confirm-timeout", &args.confirm_timeout)?,
            max_changes: limit,
        })
    }
}

fn guards(plan: &Plan, path: &Path, args: &ApplyArgs, settings: &Settings) -> Result<(), Error> {
    if !plan.complete {
        return Err(Refusal::Incomplete {
            path: path.to_path_buf(),
        }
        .into());
    }
    let max_age = settings.max_age;
    let created = created_at(plan, path)?;
    // The real clock (not SOURCE_DATE_EPOCH): this guard protects production accounts.
    let now = jiff::Timestamp::now();
    if created > now + jiff::SignedDuration::from_mins(5) {
        return Err(Refusal::Future {
            path: path.to_path_buf(),
            created: created.to_string(),
        }
        .into());
    }
    let age = Duration::try_from(now.duration_since(created)).unwrap_or(Duration::ZERO);
    if age > max_age {
        return Err(Refusal::Stale {
            path: path.to_path_buf(),
            age: format!("{:.1}h", age.as_secs_f64() / 3600.0),
            max: args.max_plan_age.clone(),
        }
        .into());
    }
    let (raw, source) = &settings.max_changes;
    let (limit, why) = max_changes(raw.as_deref(), plan.slack_active_users, source)?;
    if plan.actions.len() > limit {
        return Err(Refusal::TooMany {
            count: plan.actions.len(),
            limit,
            why,
        }
        .into());
    }
    Ok(())
}

/// Builds the Slack client with read and write limiters under Slack's per-endpoint limits.
pub fn slack_client(
    url: &str,
    token_file: Option<&Path>,
    net: &NetArgs,
    reads_per_minute: u32,
    writes_per_minute: u32,
) -> Result<(Client, BaseUrl), Error> {
    let base = BaseUrl::parse(url)?;
    let token = Secret::load(
        "Slack SCIM token",
        "SLACK_SCIM_TOKEN",
        "--token-file",
        token_file,
    )?;
    let retry = crate::live::retry_policy(net);
    let options = NetOptions {
        // Every read (confirmations go through the listing) under the org-wide limit that
        // `--max-rpm` stands for; single-account reads also under `--max-reads-per-minute`.
        per_minute: net.max_rpm,
        burst: net.max_rpm.min(20),
        single_per_minute: reads_per_minute,
        single_burst: reads_per_minute.min(20),
        writes_per_minute,
        write_burst: writes_per_minute.min(20),
        timeout: Duration::from_secs(net.timeout),
        retry,
    };
    Ok((Client::slack(base.clone(), &token, &options)?, base))
}

/// The SCIM version of `base` (its last segment), unless `flag` says.
pub fn version_of(
    base: &BaseUrl,
    flag: Option<crate::cli::ScimVersionArg>,
) -> Result<ScimVersion, Error> {
    crate::live::scim_version(base, flag)
}

#[derive(Serialize)]
struct ApplyView<'a> {
    schema_version: u32,
    kind: &'static str,
    dry_run: bool,
    plan: String,
    journal: Option<String>,
    summary: std::collections::BTreeMap<&'static str, usize>,
    actions: &'a [Record],
}

fn render(
    records: &[Record],
    dry_run: bool,
    args: &ApplyArgs,
    journal: Option<&Path>,
    format: Format,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut summary = std::collections::BTreeMap::new();
    for r in records {
        let key = r.outcome.map_or("would-deactivate", Outcome::as_str);
        *summary.entry(key).or_insert(0) += 1;
    }
    match format {
        Format::Json => {
            let view = ApplyView {
                schema_version: 1,
                kind: "scimdrift-apply",
                dry_run,
                plan: args.plan.display().to_string(),
                journal: journal.map(|p| p.display().to_string()),
                summary,
                actions: records,
            };
            serde_json::to_writer_pretty(&mut *out, &view)?;
            writeln!(out)
        }
        other => {
            let parts: Vec<String> = summary.iter().map(|(k, v)| format!("{v} {k}")).collect();
            let rows = crate::render::rows::Rows {
                title: "apply",
                header: vec!["Slack", "Outcome", "HTTP", "Detail"],
                rows: records
                    .iter()
                    .map(|r| {
                        let outcome = r.outcome.map_or("would-deactivate", Outcome::as_str);
                        (
                            vec![
                                r.slack_user_id.clone().unwrap_or_default(),
                                outcome.to_owned(),
                                r.http_status.map(|s| s.to_string()).unwrap_or_default(),
                                r.message.clone().unwrap_or_default(),
                            ],
                            r.outcome
                                .filter(|o| !o.is_success())
                                .map(|o| o.as_str().to_owned()),
                        )
                    })
                    .collect(),
                footer: Some(format!(
                    "{}{}",
                    if dry_run {
                        "Dry run (nothing sent; pass --yes to apply): "
                    } else {
                        ""
                    },
                    parts.join(", ")
                )),
            };
            crate::render::rows::write(&rows, other, out)
        }
    }
}

/// `--journal`, else `PLAN.journal.jsonl`.
pub fn journal_path(args: &ApplyArgs) -> PathBuf {
    args.journal.clone().unwrap_or_else(|| {
        let mut p = args.plan.clone().into_os_string();
        p.push(".journal.jsonl");
        PathBuf::from(p)
    })
}

/// `scimdrift apply PLAN`.
pub fn apply(global: &GlobalArgs, args: &ApplyArgs) -> Result<ExitStatus, Error> {
    let (plan, plan_sha) = read_plan(&args.plan)?;
    let config = crate::config::load(global.config.as_deref())?;
    let settings = Settings::parse(args, config.max_changes.as_deref())?;
    let (client, base) = slack_client(
        &args.slack_url,
        args.token_file.as_deref(),
        &args.net,
        args.max_reads_per_minute,
        args.max_writes_per_minute,
    )?;
    let version = version_of(&base, args.scim_version)?;
    if let Some(planned) = &plan.scim_version
        && planned != version.as_str()
    {
        tracing::warn!(
            "the plan was made from a SCIM {planned} listing; applying through {}",
            version.as_str()
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let mut records = Vec::with_capacity(plan.actions.len());
    if !args.yes {
        if let Err(e) = guards(&plan, &args.plan, args, &settings) {
            tracing::warn!("with --yes this plan would be refused: {e}");
        }
        runtime.block_on(crate::remote::slack::check_base(&client))?;
        for action in &plan.actions {
            records.push(runtime.block_on(run::preview(&client, action))?);
        }
        let gone = records
            .iter()
            .filter(|r| r.outcome == Some(Outcome::Gone))
            .count();
        none_found(records.len(), gone, base.as_str())?;
        return finish(global, args, &records, true, None);
    }
    guards(&plan, &args.plan, args, &settings)?;
    let journal_path = journal_path(args);
    let (mut journal, previous) = Journal::open(&journal_path, &plan_sha, base.as_str())?;
    let done = journal::outcomes(&previous);
    let confirm = run::Confirm {
        timeout: settings.confirm_timeout,
        first_wait: Duration::from_millis(250),
    };
    // Nothing about an account is trusted before the URL has answered as a SCIM API; if it
    // does not, the plan is journaled not-attempted like after a 401.
    let pending = plan
        .actions
        .iter()
        .any(|a| !done.get(&a.slack_user_id).is_some_and(|o| o.is_final()));
    let mut stopped: Option<crate::remote::Error> = if pending {
        runtime
            .block_on(crate::remote::slack::check_base(&client))
            .err()
    } else {
        None
    };
    // Whether this run may have changed anyone, or recorded a final outcome before it stopped
    // (a 403 about one account): if neither, a stop means it could not run (exit 2).
    let mut ran = false;
    // Accounts read in this run, and those of them unknown at the first read (see none_found).
    let (mut read, mut gone) = (0, 0);
    for action in &plan.actions {
        let id = &action.slack_user_id;
        if let Some(o) = done.get(id).filter(|o| o.is_final()) {
            let mut r = Record::new("outcome");
            r.slack_user_id = Some(id.clone());
            r.outcome = Some(*o);
            r.message = Some("done in an earlier run (journal)".to_owned());
            records.push(r);
            continue;
        }
        if stopped.is_some() {
            let mut r = Record::new("outcome");
            r.slack_user_id = Some(id.clone());
            r.outcome = Some(Outcome::NotAttempted);
            r.message = Some("not attempted: the run stopped on an earlier error".to_owned());
            journal.append(&r)?;
            records.push(r);
            continue;
        }
        let patching_before = journal.patching;
        match runtime.block_on(run::execute(
            &client,
            version,
            action,
            confirm,
            &mut journal,
        )) {
            Ok(run::Executed {
                record,
                may_have_landed,
                stop,
            }) => {
                ran |= may_have_landed;
                read += 1;
                // Not after a PATCH: an account that vanished then was there before it.
                gone +=
                    usize::from(record.outcome == Some(Outcome::Gone) && record.patches.is_none());
                journal.append(&record)?;
                records.push(record);
                if let Some(e) = &stop {
                    tracing::warn!("stopping the run (401/403 stop it at once): {e}");
                    // The refusal is recorded and final: the run did run, and reports it.
                    ran = true;
                }
                stopped = stop;
            }
            Err(run::Stop::Journal(e)) => return Err(e.into()),
            Err(run::Stop::Remote {
                error: e,
                may_have_landed,
            }) => {
                tracing::warn!("stopping the run: {e}");
                let mut r = Record::new("outcome");
                r.slack_user_id = Some(id.clone());
                let outcome = if may_have_landed {
                    Outcome::Unconfirmed
                } else if journal.patching > patching_before {
                    // The PATCH was refused: nothing landed, and a re-run tries again.
                    Outcome::Failed
                } else {
                    Outcome::NotAttempted
                };
                ran |= may_have_landed;
                r.outcome = Some(outcome);
                r.message = Some(format!("stopped: {e}"));
                journal.append(&r)?;
                records.push(r);
                stopped = Some(e);
            }
        }
    }
    if let Some(e) = stopped
        && !ran
    {
        // Nothing was written: this run could not run at all.
        return Err(e.into());
    }
    // Only when nothing may have changed: a run that stopped after a PATCH reports what it did.
    if !ran {
        none_found(read, gone, base.as_str())?;
    }
    finish(global, args, &records, false, Some(&journal_path))
}

/// Refuses a run in which each of the `read` accounts of the plan read in this run (`gone` of
/// them "no such user" at their first read) was unknown ([`Refusal::NoneFound`]). Accounts done
/// in an earlier run do not count: a resumed run may hold another organisation's token.
fn none_found(read: usize, gone: usize, base: &str) -> Result<(), Refusal> {
    if read > 0 && gone == read {
        return Err(Refusal::NoneFound {
            count: read,
            what: "read for the plan",
            also: ", or the plan was made from another organisation's listing; nothing was changed",
            base: base.to_owned(),
        });
    }
    Ok(())
}

fn finish(
    global: &GlobalArgs,
    args: &ApplyArgs,
    records: &[Record],
    dry_run: bool,
    journal: Option<&Path>,
) -> Result<ExitStatus, Error> {
    let mut buf = Vec::new();
    render(records, dry_run, args, journal, global.format, &mut buf).map_err(Error::Output)?;
    crate::deliver(global, &buf)?;
    let ok = records
        .iter()
        .all(|r| r.outcome.is_none_or(Outcome::is_success));
    if global.quiet == 0 {
        let bad = records
            .iter()
            .filter(|r| r.outcome.is_some_and(|o| !o.is_success()))
            .count();
        let _ = writeln!(
            std::io::stderr().lock(),
            "scimdrift: {} action(s){}; {bad} failed, refused, unconfirmed or not attempted{}",
            records.len(),
            if dry_run { " previewed" } else { "" },
            journal.map_or_else(String::new, |j| format!("; journal {}", j.display()))
        );
    }
    Ok(if ok {
        ExitStatus::Clean
    } else {
        ExitStatus::ApplyFailed
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_changes_forms() {
        assert_eq!(max_changes(None, 1000, "--max-changes").unwrap().0, 25);
        assert_eq!(max_changes(None, 120, "--max-changes").unwrap().0, 12);
        assert_eq!(max_changes(Some("40"), 10, "--max-changes").unwrap().0, 40);
        assert_eq!(
            max_changes(Some("5%"), 1000, "--max-changes").unwrap().0,
            50
        );
        assert_eq!(max_changes(Some(" 50 %"), 9, "--max-changes").unwrap().0, 4);
        assert!(max_changes(Some("lots"), 9, "--max-changes").is_err());
        assert!(max_changes(Some("150%"), 9, "--max-changes").is_err());
    }

    /// A plan file of `ids` in `dir`, as `plan` writes it but for `created_at`, behind `prefix`.
    fn plan_file(dir: &Path, prefix: &[u8], created_at: &str, ids: &[&str]) -> PathBuf {
        let input = serde_json::json!({"paths": ["x"], "sha256": "0"});
        let actions: Vec<_> = ids
            .iter()
            .map(|id| {
                serde_json::json!({
                    "slack_user_id": id, "jumpcloud_user_id": null, "reasons": [], "details": [],
                    "expected": {"userName": null, "emails": [], "active": true},
                })
            })
            .collect();
        let plan = serde_json::json!({
            "schema_version": 1, "kind": plan::KIND, "created_at": created_at,
            "inputs": {"jumpcloud": input, "slack": input}, "scim_version": "v2",
            "slack_active_users": 10, "complete": true, "included": [], "actions": actions,
        });
        let path = dir.join("plan.json");
        let mut bytes = prefix.to_vec();
        bytes.extend_from_slice(plan.to_string().as_bytes());
        std::fs::write(&path, bytes).unwrap();
        path
    }

    const NOW: &str = "2026-01-01T00:00:00Z";

    #[test]
    fn plan_files_with_a_bom_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = plan_file(dir.path(), b"\xEF\xBB\xBF", NOW, &["U1", "U2"]);
        let (plan, sha) = read_plan(&path).unwrap();
        assert_eq!(plan.actions.len(), 2);
        // The checksum is the file's, as it is.
        assert_eq!(
            sha,
            crate::source::sha256_hex(&std::fs::read(&path).unwrap())
        );
    }

    #[test]
    fn bad_plan_files_are_refused_naming_the_file_and_the_action() {
        let dir = tempfile::tempdir().unwrap();
        let name = dir.path().join("plan.json").display().to_string();
        let refusal = |created_at: &str, ids: &[&str]| {
            let path = plan_file(dir.path(), b"", created_at, ids);
            let err = read_plan(&path).unwrap_err();
            assert!(matches!(err, Error::Refusal(_)), "{err:?}");
            err.to_string()
        };
        assert_eq!(
            refusal(NOW, &["U1", "U2", "U3", "../Groups"]),
            format!("{name}: actions[3]: `../Groups` is not a SCIM user id")
        );
        assert_eq!(
            refusal(NOW, &["U1", "U2", "U1"]),
            format!("{name}: actions[2]: U1 is already actions[0]; a plan names each account once")
        );
        assert_eq!(
            refusal("yesterday", &["U1"]),
            format!(
                "{name}: created_at: `yesterday` is not an RFC 3339 time, so the plan's age is unknown; make a new plan"
            )
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("24h").unwrap(), Duration::from_hours(24));
        assert_eq!(parse_duration("90m").unwrap(), Duration::from_mins(90));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_hours(48));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3w").is_err());
        // A bare number is no duration: 3600 would have been 3600 hours.
        assert!(parse_duration("3600").unwrap_err().contains("needs a unit"));
    }
}
