//! One action of `apply`, against Slack: re-read, decide, PATCH `active:false` only, confirm.
//!
//! The safety rules of DESIGN §7 live here: nothing but the `active` attribute is ever sent, a
//! changed or vanished account is skipped, a 5xx or a dropped connection is retried only after a
//! re-read shows the PATCH did not land, and 401/403 stop everything. Only the SCIM API's own
//! "no such user" makes an account `gone`: a 404 from anything else (a wrong base URL, a proxy)
//! stops the run, as does Slack being unreachable.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use url::form_urlencoded;

use super::journal::{self, Journal, Outcome, Record, Seen};
use crate::model::ScimVersion;
use crate::plan::Action;
use crate::remote::retry::{self, Class, Jitter};
use crate::remote::{Attempt, Client, Error};

/// The only bodies scimdrift ever writes (DESIGN §7).
pub fn deactivate_body(version: ScimVersion) -> Value {
    match version {
        ScimVersion::V1 => json!({"schemas": ["urn:scim:schemas:core:1.0"], "active": false}),
        ScimVersion::V2 => json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": false}]
        }),
    }
}

/// How long to keep re-reading after a PATCH before calling it unconfirmed.
#[derive(Clone, Copy, Debug)]
pub struct Confirm {
    /// Total time allowed.
    pub timeout: Duration,
    /// First wait between reads (doubles, capped at 2 s).
    pub first_wait: Duration,
}

/// A read of one account.
enum Read {
    Found(Seen),
    Gone,
}

fn seen_of(body: &[u8], id: &str) -> Result<Seen, Error> {
    let user = crate::remote::slack::user_of(body, id)?;
    Ok(Seen {
        active: user.active,
        user_name: user.user_name,
        emails: user.emails.iter().map(|e| e.as_str().to_owned()).collect(),
    })
}

/// A read after the PATCH. Through the listing (`filter=userName eq "…"`) when the account has a
/// userName: Slack limits listings only by the org-wide read bucket (1000/min), while
/// `GET /Users/{id}` has its own 300/min that the check before each PATCH already needs; with
/// two single reads per action, writes could not pass ~83% of their 180/min. Falls back to
/// `GET /Users/{id}` when the listing is refused or does not show the account, so `Gone` still
/// only ever comes from the SCIM API's "no such user" for the account itself.
///
/// A filtered listing that misses an account its single read then finds (a server that ignores
/// or refuses the filter) turns the listing off for the rest of the run.
async fn read_after(client: &Client, id: &str, user_name: Option<&str>) -> Result<Read, Error> {
    use std::sync::atomic::Ordering;
    let mut missed = false;
    if let Some(name) = user_name.filter(|n| !n.is_empty())
        && client.filter_works.load(Ordering::Relaxed)
    {
        let literal = serde_json::to_string(name).unwrap_or_default();
        let filter: String =
            form_urlencoded::byte_serialize(format!("userName eq {literal}").as_bytes()).collect();
        match client.get(&format!("/Users?filter={filter}")).await {
            Ok(body) => {
                let (seen, honoured) = listed(&body, id, name);
                if !honoured && client.filter_works.swap(false, Ordering::Relaxed) {
                    tracing::info!(
                        "the listing ignores `filter` (it answered other accounts): confirming by id from now on"
                    );
                }
                if let Some(seen) = seen {
                    return Ok(Read::Found(seen));
                }
                tracing::debug!("{id} is not in the userName listing; reading it by id");
                missed = true;
            }
            Err(e @ Error::Auth { .. }) => return Err(e),
            Err(e) => {
                tracing::debug!("listing read of {id} failed ({e}); reading it by id");
                missed = true;
            }
        }
    }
    let read = read(client, id).await?;
    if missed
        && matches!(read, Read::Found(_))
        && client.filter_works.swap(false, Ordering::Relaxed)
    {
        tracing::info!(
            "the userName filter did not find {id}, which exists: confirming by id from now on"
        );
    }
    Ok(read)
}

/// The account `id` in a `ListResponse` body, if it is there and readable, and whether the
/// listing honoured the filter (every account in it has that `userName`).
fn listed(body: &[u8], id: &str, user_name: &str) -> (Option<Seen>, bool) {
    let Ok(list) = serde_json::from_slice::<Value>(body) else {
        return (None, true);
    };
    let resources = list
        .get("Resources")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let honoured = resources.iter().all(|r| {
        r.get("userName")
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case(user_name))
    });
    let seen = resources
        .iter()
        .find(|r| r.get("id").and_then(Value::as_str) == Some(id))
        .and_then(|r| serde_json::to_vec(r).ok())
        .and_then(|bytes| seen_of(&bytes, id).ok());
    (seen, honoured)
}

async fn read(client: &Client, id: &str) -> Result<Read, Error> {
    match client.get(&format!("/Users/{id}")).await {
        Ok(body) => seen_of(&body, id).map(Read::Found),
        Err(Error::Status {
            scim_not_found: true,
            ..
        }) => Ok(Read::Gone),
        Err(e) => Err(e),
    }
}

/// Errors that say nothing about one account but about the whole run: the credentials, the URL
/// (a 404 that is not the SCIM API's), Slack unreachable (no answer at all after every retry) or
/// rate-limiting us without end. A 5xx on one account's read is that account's `failed`.
fn stops_run(e: &Error) -> bool {
    matches!(
        e,
        Error::Auth { .. }
            | Error::Status {
                status: 404,
                scim_not_found: false,
                ..
            }
            | Error::RetriesExhausted {
                no_answer: true,
                ..
            }
            | Error::RateLimited { .. }
            | Error::WrongAccount { .. }
    )
}

fn is_bot(seen: &Seen) -> bool {
    seen.emails
        .first()
        .and_then(|e| crate::model::Email::parse(e))
        .is_some_and(|e| e.is_slack_bot())
}

fn changed(expected: &crate::plan::Expected, seen: &Seen) -> Option<String> {
    let mut want: Vec<&String> = expected.emails.iter().collect();
    let mut got: Vec<&String> = seen.emails.iter().collect();
    want.sort();
    got.sort();
    if want != got {
        return Some(format!(
            "emails changed from [{}] to [{}]",
            expected.emails.join(", "),
            seen.emails.join(", ")
        ));
    }
    let norm = |u: &Option<String>| u.as_deref().map(str::to_ascii_lowercase);
    if norm(&expected.user_name) != norm(&seen.user_name) {
        return Some(format!(
            "userName changed from {} to {}",
            shown(expected.user_name.as_deref()),
            shown(seen.user_name.as_deref())
        ));
    }
    None
}

/// A value for people: as it is, `(none)` when missing, `(empty)` when blank.
fn shown(value: Option<&str>) -> &str {
    match value {
        None => "(none)",
        Some("") => "(empty)",
        Some(v) => v,
    }
}

fn outcome(id: &str, outcome: Outcome, message: String) -> Record {
    let mut r = Record::new("outcome");
    r.slack_user_id = Some(id.to_owned());
    r.outcome = Some(outcome);
    r.message = Some(message);
    r
}

/// What a dry run would do with an action.
pub async fn preview(client: &Client, action: &Action) -> Result<Record, Error> {
    let id = action.slack_user_id.as_str();
    Ok(match read(client, id).await? {
        Read::Gone => outcome(id, Outcome::Gone, "no longer exists (404)".to_owned()),
        Read::Found(seen) => {
            let mut r = if !seen.active {
                outcome(id, Outcome::AlreadyInactive, "already inactive".to_owned())
            } else if is_bot(&seen) {
                outcome(id, Outcome::Refused, BOT.to_owned())
            } else if let Some(why) = changed(&action.expected, &seen) {
                outcome(id, Outcome::ChangedSincePlan, why)
            } else {
                let mut r = Record::new("preview");
                r.slack_user_id = Some(id.to_owned());
                r.message = Some("would PATCH active:false".to_owned());
                r
            };
            r.before = Some(seen);
            r
        }
    })
}

const BOT: &str = "a Slack bot (@slack-bots.com): bots are never deactivated; nothing sent";

/// How an action ended, and whether it may have changed the account (a PATCH accepted, or one
/// whose answer was lost), which decides whether a stopped run changed anyone.
#[derive(Debug)]
pub struct Executed {
    /// The outcome record.
    pub record: Record,
    /// A PATCH was accepted or may have landed.
    pub may_have_landed: bool,
    /// The outcome is final, but the answer still stops the run: a 403 that Slack gave about
    /// this account (DESIGN §7: 401/403 stop the run at once). A re-run skips the account and
    /// goes on.
    pub stop: Option<Error>,
}

/// What the PATCHes of one action have done so far.
#[derive(Default)]
struct Sent {
    /// A PATCH was answered 2xx.
    accepted: bool,
    /// PATCHes whose answer was a 5xx or was lost: each may have landed.
    failures: u32,
    /// See [`Executed::stop`].
    stop: Option<Error>,
}

impl Sent {
    fn may_have_landed(&self) -> bool {
        self.accepted || self.failures > 0
    }
}

/// What stops the whole run.
#[derive(Debug, thiserror::Error)]
pub enum Stop {
    /// 401/403, a 404 that is not the SCIM API's, or Slack unreachable.
    #[error("{error}")]
    Remote {
        /// What happened.
        error: Error,
        /// A PATCH of this action was accepted or may have landed (else none was sent, or it
        /// was refused).
        may_have_landed: bool,
    },
    /// The journal cannot be written: no PATCH may be sent unrecorded.
    #[error(transparent)]
    Journal(#[from] journal::Error),
}

/// Runs one action. A `patching` record is appended (and fsynced) to `journal` before the first
/// PATCH is sent; the outcome record is the caller's to append.
pub async fn execute(
    client: &Client,
    version: ScimVersion,
    action: &Action,
    confirm: Confirm,
    journal: &mut Journal,
) -> Result<Executed, Stop> {
    let mut sent = Sent::default();
    match run_action(client, version, action, confirm, journal, &mut sent).await {
        Ok(record) => Ok(Executed {
            record,
            may_have_landed: sent.may_have_landed(),
            stop: sent.stop.take(),
        }),
        Err(Halt::Remote(error)) => Err(Stop::Remote {
            error,
            may_have_landed: sent.may_have_landed(),
        }),
        Err(Halt::Journal(e)) => Err(Stop::Journal(e)),
    }
}

/// A [`Stop`] before `execute` knows what the PATCHes did (it reads that from [`Sent`]).
enum Halt {
    Remote(Error),
    Journal(journal::Error),
}

impl From<journal::Error> for Halt {
    fn from(e: journal::Error) -> Self {
        Self::Journal(e)
    }
}

async fn run_action(
    client: &Client,
    version: ScimVersion,
    action: &Action,
    confirm: Confirm,
    journal: &mut Journal,
    sent: &mut Sent,
) -> Result<Record, Halt> {
    let id = action.slack_user_id.as_str();
    let path = format!("/Users/{id}");
    let before = match read(client, id).await {
        Ok(Read::Found(seen)) => seen,
        Ok(Read::Gone) => {
            return Ok(outcome(
                id,
                Outcome::Gone,
                "no longer exists (404)".to_owned(),
            ));
        }
        Err(error) if stops_run(&error) => {
            return Err(Halt::Remote(error));
        }
        Err(e) => {
            return Ok(outcome(
                id,
                Outcome::Failed,
                format!("could not be read: {e}"),
            ));
        }
    };
    let done = |mut r: Record, before: &Seen| {
        r.before = Some(before.clone());
        r
    };
    if !before.active {
        return Ok(done(
            outcome(id, Outcome::AlreadyInactive, "already inactive".to_owned()),
            &before,
        ));
    }
    // Bots are never deactivated, even when a plan (edited by hand) names one.
    if is_bot(&before) {
        return Ok(done(outcome(id, Outcome::Refused, BOT.to_owned()), &before));
    }
    if let Some(why) = changed(&action.expected, &before) {
        return Ok(done(outcome(id, Outcome::ChangedSincePlan, why), &before));
    }
    let mut patching = Record::new("patching");
    patching.slack_user_id = Some(id.to_owned());
    patching.before = Some(before.clone());
    journal.append_patching(&patching)?;

    let body = deactivate_body(version);
    let policy = *client.policy();
    let mut jitter = Jitter::new(id.bytes().map(u64::from).sum());
    let (mut patches, mut limited) = (0u32, 0u32);
    let mut first_429: Option<Instant> = None;
    loop {
        patches += 1;
        let failure = match client
            .send_once(reqwest::Method::PATCH, &path, Some(&body))
            .await
        {
            Attempt::Answer {
                status,
                body: answer,
                ..
            } => match retry::classify(status) {
                Class::Success => {
                    sent.accepted = true;
                    break;
                }
                Class::RateLimited => {
                    limited += 1;
                    let since = *first_429.get_or_insert_with(Instant::now);
                    if limited > policy.max_429 || since.elapsed() > policy.max_429_wait {
                        // Endless 429s are about the run, not this account: stop it rather
                        // than hammer Slack with the rest of the plan.
                        return Err(Halt::Remote(Error::RateLimited {
                            service: "Slack SCIM",
                            path,
                            count: limited,
                        }));
                    }
                    continue;
                }
                Class::Auth | Class::Fatal => {
                    // A 403 that names this account (an Owner an Admin's token may not touch)
                    // is recorded as its refusal, and still stops the run (below); any other
                    // 401/403 is the token's.
                    let refusal = client.refusal("PATCH", &path, status, &answer);
                    if matches!(refusal, Error::Auth { .. }) {
                        return Err(Halt::Remote(refusal));
                    }
                    if crate::remote::is_scim_not_found(status, &answer) {
                        let mut r = outcome(
                            id,
                            Outcome::Gone,
                            format!("no longer exists (HTTP {status} on PATCH)"),
                        );
                        r.http_status = Some(status);
                        r.patches = Some(patches);
                        return Ok(done(r, &before));
                    }
                    // Only the SCIM API's own error about this account is a refusal (final); a
                    // proxy's page or an endpoint error would be the same for every account.
                    let scim = crate::remote::scim_error_detail(&answer)
                        .is_some_and(|d| !crate::remote::is_endpoint_error(&d));
                    if stops_run(&refusal) || !scim {
                        return Err(Halt::Remote(refusal));
                    }
                    let text = slack_error(&client.redact(&answer));
                    let mut r = outcome(id, Outcome::Refused, format!("Slack refused: {text}"));
                    r.http_status = Some(status);
                    r.slack_error = Some(text);
                    r.patches = Some(patches);
                    if matches!(status, 401 | 403) {
                        sent.stop = Some(refusal);
                    }
                    return Ok(done(r, &before));
                }
                Class::Transient => format!("HTTP {status}"),
            },
            Attempt::Transport(message) => message,
        };
        // The PATCH may or may not have landed: look before sending another.
        sent.failures += 1;
        let failures = sent.failures;
        match read(client, id).await {
            Ok(Read::Found(seen)) if !seen.active => {
                let mut r = outcome(
                    id,
                    Outcome::Deactivated,
                    format!("deactivated (confirmed by a re-read after: {failure})"),
                );
                r.after = Some(seen);
                r.patches = Some(patches);
                return Ok(done(r, &before));
            }
            Ok(Read::Gone) => {
                let mut r = outcome(id, Outcome::Gone, "vanished during the PATCH".to_owned());
                r.patches = Some(patches);
                return Ok(done(r, &before));
            }
            Ok(Read::Found(_)) => {}
            // About the run, not this account: the caller records it unconfirmed and stops.
            Err(e) if stops_run(&e) => return Err(Halt::Remote(e)),
            Err(e) => {
                // Not known either way: never send it again blind. A re-run re-reads it first.
                let mut r = outcome(
                    id,
                    Outcome::Unconfirmed,
                    format!(
                        "the PATCH failed ({failure}) and the re-read failed too ({e}): it may have landed"
                    ),
                );
                r.patches = Some(patches);
                return Ok(done(r, &before));
            }
        }
        if failures > policy.max_retries {
            let mut r = outcome(
                id,
                Outcome::Failed,
                format!("PATCH failed {failures} times: {failure}"),
            );
            r.patches = Some(patches);
            return Ok(done(r, &before));
        }
        let wait = retry::backoff(&policy, failures, jitter.next_f64());
        tracing::warn!("PATCH {path}: {failure}; not applied, retry {failures} in {wait:?}");
        tokio::time::sleep(wait).await;
    }

    // Slack is eventually consistent: read until inactive, or call it unconfirmed.
    let started = Instant::now();
    let mut wait = confirm.first_wait;
    let mut last = None;
    loop {
        match read_after(client, id, before.user_name.as_deref()).await {
            Ok(Read::Found(seen)) if !seen.active => {
                let mut r = outcome(
                    id,
                    Outcome::Deactivated,
                    "deactivated and read back inactive".to_owned(),
                );
                r.http_status = Some(200);
                r.after = Some(seen);
                r.patches = Some(patches);
                return Ok(done(r, &before));
            }
            Ok(Read::Found(seen)) => last = Some(seen),
            Ok(Read::Gone) => {
                let mut r = outcome(id, Outcome::Gone, "vanished after the PATCH".to_owned());
                r.patches = Some(patches);
                return Ok(done(r, &before));
            }
            Err(e) if stops_run(&e) => return Err(Halt::Remote(e)),
            Err(e) => tracing::warn!("re-reading {id}: {e}"),
        }
        if started.elapsed() + wait > confirm.timeout {
            let mut r = outcome(
                id,
                Outcome::Unconfirmed,
                format!(
                    "PATCH accepted but still active after {:.1} s of re-reads",
                    started.elapsed().as_secs_f64()
                ),
            );
            r.after = last;
            r.patches = Some(patches);
            return Ok(done(r, &before));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}

/// Slack's error code from either error shape (or the raw body).
fn slack_error(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    v.pointer("/Errors/description")
        .or_else(|| v.get("detail"))
        .and_then(Value::as_str)
        .map_or_else(
            || {
                String::from_utf8_lossy(body)
                    .trim()
                    .chars()
                    .take(200)
                    .collect()
            },
            str::to_owned,
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_touch_active_only() {
        assert_eq!(
            deactivate_body(ScimVersion::V1),
            json!({"schemas": ["urn:scim:schemas:core:1.0"], "active": false})
        );
        let v2 = deactivate_body(ScimVersion::V2);
        assert_eq!(v2["Operations"].as_array().unwrap().len(), 1);
        assert_eq!(
            v2["Operations"][0],
            json!({"op": "replace", "path": "active", "value": false})
        );
    }

    #[test]
    fn changes_since_plan() {
        let e = crate::plan::Expected {
            user_name: Some("ann".into()),
            emails: vec!["a@x.io".into(), "b@x.io".into()],
            active: true,
        };
        let mut s = Seen {
            active: true,
            user_name: Some("Ann".into()),
            emails: vec!["b@x.io".into(), "a@x.io".into()],
        };
        assert_eq!(changed(&e, &s), None);
        s.emails.pop();
        assert!(changed(&e, &s).unwrap().starts_with("emails changed"));
        s.emails.push("a@x.io".into());
        s.user_name = Some("bob".into());
        assert_eq!(changed(&e, &s).unwrap(), "userName changed from ann to bob");
        s.user_name = None;
        assert_eq!(
            changed(&e, &s).unwrap(),
            "userName changed from ann to (none)"
        );
        s.user_name = Some(String::new());
        assert_eq!(
            changed(&e, &s).unwrap(),
            "userName changed from ann to (empty)"
        );
    }

    #[test]
    fn slack_error_text_from_both_shapes() {
        assert_eq!(
            slack_error(
                br#"{"Errors":{"description":"cannot_disable_bot_user_with_scim","code":400}}"#
            ),
            "cannot_disable_bot_user_with_scim"
        );
        assert_eq!(
            slack_error(br#"{"detail":"cannot_disable_primary_owner","status":400}"#),
            "cannot_disable_primary_owner"
        );
        assert_eq!(slack_error(b"oops"), "oops");
    }
}
