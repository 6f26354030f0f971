//! The drift analysis: joins Slack accounts to JumpCloud users and turns every mismatch into a
//! [`Finding`].
//!
//! Pure: no I/O, no clock, no environment. Everything it needs comes in as arguments, and the
//! output order is deterministic. The join is hash-based and near-linear in the input size; it runs
//! on all cores (the listing split into slices, Slack's email index built beside them), and the
//! answer does not depend on how many there are.

pub mod connectors;
pub mod finding;

use std::collections::BTreeMap;

pub use connectors::{Connectors, DetectedBy, UnknownApp};
pub use finding::{Finding, FindingCode, MatchedBy, Remediation, Severity, Suppression};

use crate::model::{
    Email, FastMap, Hits, InactiveReason, JcUser, JumpCloud, SlackListing, SlackUser, fast_map,
};

/// The knobs of the analysis, resolved from flags and config by the caller.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// When SCIM was switched on: accounts created before it are legacy unless linked.
    pub scim_enabled_at: Option<jiff::Timestamp>,
    /// Slack connector ids from the config (override the manifest and the heuristic).
    pub slack_app_ids: Vec<String>,
    /// `--slack-app`: check entitlement against this connector only.
    pub slack_app: Option<String>,
    /// Per-code severity overrides.
    pub severity_overrides: BTreeMap<FindingCode, Severity>,
}

/// Counts for the report's summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every Slack account, bots included.
    pub slack_users: usize,
    /// Active Slack accounts, bots excluded.
    pub slack_active: usize,
    /// Bot accounts (`@slack-bots.com`).
    pub slack_bots: usize,
    /// JumpCloud users.
    pub jumpcloud_users: usize,
}

/// The result of [`diff`].
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    /// Findings, sorted (severity, code, ids).
    pub findings: Vec<Finding>,
    /// Things the reader must know to trust the report (what could not be judged, and why).
    pub notices: Vec<String>,
    /// Counts.
    pub stats: Stats,
    /// The Slack connectors used.
    pub connectors: Connectors,
}

/// Where an email occurs among JumpCloud users: (user index, is it the primary `email`). A user
/// occurs at most once per email.
type JcHits = Hits<(usize, bool)>;

enum Match<'a> {
    /// Joined to the JumpCloud user at this index.
    Linked(usize, MatchedBy),
    /// `externalId` names `.0`, an email belongs to the others.
    Conflict(&'a JcUser, Vec<&'a JcUser>, &'a Email),
    /// Several JumpCloud users share the email (a `duplicate-email` finding says which).
    Ambiguous,
    /// The account's emails belong to different JumpCloud users.
    Split(Vec<usize>),
    Unmatched,
}

struct Index<'a> {
    users: &'a [JcUser],
    by_id: FastMap<&'a str, usize>,
    by_email: FastMap<&'a Email, JcHits>,
    /// Emails of several users (so duplicates need no scan of the whole map).
    shared: Vec<&'a Email>,
}

/// Adds `v` under `key`; remembers in `shared` the keys that now have two values.
fn insert<'a, T: Copy>(
    map: &mut FastMap<&'a Email, Hits<T>>,
    key: &'a Email,
    v: T,
    shared: &mut Vec<&'a Email>,
) {
    match map.entry(key) {
        std::collections::hash_map::Entry::Occupied(mut e) => {
            if matches!(e.get(), Hits::One(_)) {
                shared.push(key);
            }
            e.get_mut().push(v);
        }
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(Hits::One(v));
        }
    }
}

impl<'a> Index<'a> {
    /// The id index; `Self::with_emails` adds the email index (built on another core).
    fn by_id(users: &'a [JcUser]) -> FastMap<&'a str, usize> {
        let mut by_id = fast_map(users.len());
        for (i, user) in users.iter().enumerate() {
            by_id.insert(user.id.as_str(), i);
        }
        by_id
    }

    fn by_email(users: &'a [JcUser]) -> (FastMap<&'a Email, JcHits>, Vec<&'a Email>) {
        let mut by_email = fast_map(users.len());
        let mut shared = Vec::new();
        for (i, user) in users.iter().enumerate() {
            insert(&mut by_email, &user.email, (i, true), &mut shared);
            if let Some(alt) = user.alternate_email.as_ref().filter(|a| **a != user.email) {
                insert(&mut by_email, alt, (i, false), &mut shared);
            }
        }
        (by_email, shared)
    }

    /// Every (user, primary?) that has `email`.
    fn owners(&self, email: &Email) -> &[(usize, bool)] {
        self.by_email.get(email).map_or(&[], Hits::as_slice)
    }

    /// DESIGN §3: `externalId`, then the primary email against exactly one `email`, then any
    /// Slack email against `email` or `alternateEmail`. Never by display name.
    fn find(&self, s: &'a SlackUser) -> Match<'a> {
        if let Some(&a) = s.external_id.as_deref().and_then(|x| self.by_id.get(x)) {
            for email in &s.emails {
                let owners = self.owners(email);
                let primary = || owners.iter().filter(|(_, p)| *p).map(|(i, _)| *i);
                if primary().next().is_some() && !primary().any(|i| i == a) {
                    let others = primary().map(|i| &self.users[i]).collect();
                    return Match::Conflict(&self.users[a], others, email);
                }
            }
            return Match::Linked(a, MatchedBy::ExternalId);
        }
        let mut primary = self
            .owners(s.primary_email())
            .iter()
            .filter(|(_, p)| *p)
            .map(|(i, _)| *i);
        match (primary.next(), primary.next()) {
            (Some(one), None) => {
                // The account's other emails must not belong to someone else (an email shared
                // by several users matches no one, as below).
                let mut owners = vec![one];
                for email in s.emails.iter().skip(1) {
                    if let [(other, _)] = self.owners(email)
                        && !owners.contains(other)
                    {
                        owners.push(*other);
                    }
                }
                return if owners.len() == 1 {
                    Match::Linked(one, MatchedBy::Email)
                } else {
                    Match::Split(owners)
                };
            }
            (None, _) => {}
            (Some(_), Some(_)) => return Match::Ambiguous,
        }
        // Any email: link only when all of them point to the same one user.
        let mut owners: Vec<usize> = Vec::new();
        for email in &s.emails {
            let hits = self.owners(email);
            if hits.len() >= 2 {
                return Match::Ambiguous;
            }
            for (i, _) in hits {
                if !owners.contains(i) {
                    owners.push(*i);
                }
            }
        }
        match owners.as_slice() {
            [] => {}
            [one] => return Match::Linked(*one, MatchedBy::AlternateEmail),
            _ => return Match::Split(owners),
        }
        Match::Unmatched
    }
}

fn who(s: &SlackUser) -> String {
    if s.guest {
        format!("{} ({}, a guest)", s.primary_email(), s.id)
    } else {
        format!("{} ({})", s.primary_email(), s.id)
    }
}

fn per_user(code: FindingCode, s: &SlackUser, message: String) -> Finding {
    let mut f = Finding::new(code, message);
    f.slack_user_id = Some(s.id.clone());
    f.email = Some(s.primary_email().as_str().to_owned());
    f
}

fn linked(
    code: FindingCode,
    s: &SlackUser,
    jc: &JcUser,
    by: MatchedBy,
    message: String,
) -> Finding {
    let mut f = per_user(code, s, message);
    f.jumpcloud_user_id = Some(jc.id.clone());
    f.matched_by = Some(by);
    f
}

fn reason_words(reason: InactiveReason) -> &'static str {
    match reason {
        InactiveReason::Suspended => "suspended",
        InactiveReason::Staged => "staged (never activated)",
        InactiveReason::PasswordExpired => "password-expired",
    }
}

/// Joins `slack` to `jc` and reports the drift (DESIGN §3).
///
/// Errors only when `policy.slack_app` names an application the input does not have; drift
/// itself is data in the `Ok` value.
pub fn diff(jc: &JumpCloud, slack: &SlackListing, policy: &Policy) -> Result<Analysis, UnknownApp> {
    Ok(prepare(jc, policy)?.diff(slack, policy))
}

/// The JumpCloud side of the join: the Slack connectors, the id and email indexes and who is
/// entitled. It does not depend on the Slack listing, so a caller may build it while the listing
/// is still loading; [`Prepared::diff`] then finishes the join.
pub struct Prepared<'a> {
    jc: &'a JumpCloud,
    connectors: Connectors,
    index: Index<'a>,
    entitled: Option<Vec<bool>>,
}

/// Builds the JumpCloud side of the join (see [`Prepared`]).
///
/// Errors only when `policy.slack_app` names an application the input does not have.
pub fn prepare<'a>(jc: &'a JumpCloud, policy: &Policy) -> Result<Prepared<'a>, UnknownApp> {
    let connectors = connectors::detect(jc, &policy.slack_app_ids, policy.slack_app.as_deref())?;
    // The email index on one core; the id index, then who is entitled (which needs it), on
    // another.
    let (index, entitled) = std::thread::scope(|scope| {
        let emails = scope.spawn(|| Index::by_email(&jc.users));
        let by_id = Index::by_id(&jc.users);
        let entitled = connectors::entitled_users(jc, &connectors, |id| by_id.get(id).copied());
        let (by_email, shared) = emails
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let index = Index {
            users: &jc.users,
            by_id,
            by_email,
            shared,
        };
        (index, entitled)
    });
    Ok(Prepared {
        jc,
        connectors,
        index,
        entitled,
    })
}

/// What one slice of the Slack listing contributed (the slices are joined on all cores).
#[derive(Default)]
struct Part {
    findings: Vec<Finding>,
    slack_active: usize,
    slack_bots: usize,
    undated: usize,
    /// Deactivated accounts of entitled users: drift only when the user has no active account.
    inactive_entitled: Vec<(usize, usize, MatchedBy)>,
    /// JumpCloud users (by index) that have an active Slack account.
    active_owners: Vec<usize>,
}

/// Runs `f` on `threads` contiguous slices of `items` at once, results in slice order. Each call
/// gets the slice's offset in `items`.
fn on_slices<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(usize, &[T]) -> R + Sync,
) -> Vec<R> {
    let size = items.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = items
            .chunks(size)
            .enumerate()
            .map(|(i, chunk)| scope.spawn(move || f(i * size, chunk)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

impl Prepared<'_> {
    /// Joins `slack` to the JumpCloud side and reports the drift (DESIGN §3).
    pub fn diff(&self, slack: &SlackListing, policy: &Policy) -> Analysis {
        self.diff_on(slack, policy, threads())
    }

    /// [`Self::diff`] on `threads` threads; the result does not depend on how many.
    fn diff_on(&self, slack: &SlackListing, policy: &Policy, threads: usize) -> Analysis {
        let threads = threads.max(1);
        let jc = self.jc;
        let mut notices = Vec::new();
        connectors::describe(jc, &self.connectors, self.entitled.is_some(), &mut notices);
        let has_link_evidence = slack.users.iter().any(|u| u.external_id.is_some());
        if !has_link_evidence && policy.scim_enabled_at.is_none() {
            notices.push(
                "legacy-unlinked not judged: no externalId in the Slack listing and no scim_enabled_at configured"
                    .to_owned(),
            );
        }
        // Every account is judged on its own: the listing is split across the cores, while
        // another thread builds Slack's email index (for duplicates).
        let (parts, slack_emails) = std::thread::scope(|scope| {
            let emails = scope.spawn(|| SlackEmails::new(&slack.users));
            let parts = on_slices(&slack.users, threads, |offset, users| {
                self.judge(offset, users, has_link_evidence, policy)
            });
            let emails = emails
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (parts, emails)
        });

        let mut stats = Stats {
            slack_users: slack.users.len(),
            jumpcloud_users: jc.users.len(),
            ..Stats::default()
        };
        let mut findings = Vec::new();
        let mut undated = 0usize;
        let mut has_active_account = vec![false; jc.users.len()];
        let mut inactive_entitled = Vec::new();
        for part in parts {
            stats.slack_active += part.slack_active;
            stats.slack_bots += part.slack_bots;
            undated += part.undated;
            findings.extend(part.findings);
            inactive_entitled.extend(part.inactive_entitled);
            for ui in part.active_owners {
                has_active_account[ui] = true;
            }
        }
        for (si, ui, by) in inactive_entitled {
            if has_active_account[ui] {
                continue;
            }
            let user = &jc.users[ui];
            let s = &slack.users[si];
            findings.push(linked(
                FindingCode::InactiveButEntitled,
                s,
                user,
                by,
                format!(
                    "{} is deactivated in Slack but active {} in JumpCloud (and has no active Slack account)",
                    who(s),
                    // DESIGN §3: entitlement counts when group/app data is present.
                    if self.entitled.is_some() {
                        "and entitled"
                    } else {
                        "(entitlement not judged)"
                    }
                ),
            ));
        }
        if undated > 0 {
            notices.push(format!(
                "{undated} active Slack account(s) have no meta.created: not judged against scim_enabled_at"
            ));
        }

        duplicate_emails(&self.index, &slack.users, &slack_emails, &mut findings);
        connectors::multi_connector_groups(jc, &self.connectors, &mut findings);

        for f in &mut findings {
            if let Some(sev) = policy.severity_overrides.get(&f.code) {
                f.severity = *sev;
            }
        }
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        Analysis {
            findings,
            notices,
            stats,
            connectors: self.connectors.clone(),
        }
    }

    /// The per-account findings of `users`, which start at `offset` in the listing.
    fn judge(
        &self,
        offset: usize,
        users: &[SlackUser],
        has_link_evidence: bool,
        policy: &Policy,
    ) -> Part {
        let jc = self.jc;
        let mut part = Part::default();
        for (si, s) in (offset..).zip(users) {
            if s.is_bot() {
                part.slack_bots += 1;
                continue;
            }
            if s.active {
                part.slack_active += 1;
            }
            match self.index.find(s) {
                Match::Linked(ui, by) => {
                    let user = &jc.users[ui];
                    let should_be_active = user.inactive_reason().is_none()
                        && self.entitled.as_ref().is_none_or(|flags| flags[ui]);
                    if s.active {
                        if let Some(reason) = user.inactive_reason() {
                            let mut f = linked(
                                FindingCode::SuspendedButActive,
                                s,
                                user,
                                by,
                                format!(
                                    "{} is active in Slack but {} in JumpCloud",
                                    who(s),
                                    reason_words(reason)
                                ),
                            );
                            f.reason = Some(reason.as_str().to_owned());
                            part.findings.push(f);
                        } else if !should_be_active {
                            part.findings.push(linked(
                                FindingCode::UnentitledButActive,
                                s,
                                user,
                                by,
                                format!(
                                    "{} is active in Slack but in no JumpCloud group bound to a Slack connector",
                                    who(s)
                                ),
                            ));
                        }
                        if by != MatchedBy::ExternalId {
                            let reason =
                                legacy_reason(s, has_link_evidence, policy, &mut part.undated);
                            if let Some((reason, why)) = reason {
                                let mut f = linked(
                                    FindingCode::LegacyUnlinked,
                                    s,
                                    user,
                                    by,
                                    format!(
                                        "{} {why}: JumpCloud's deactivation cannot reach it",
                                        who(s)
                                    ),
                                );
                                f.reason = Some(reason.to_owned());
                                part.findings.push(f);
                            }
                        }
                        part.active_owners.push(ui);
                    } else if should_be_active {
                        part.inactive_entitled.push((si, ui, by));
                    }
                }
                Match::Conflict(named, others, email) => {
                    let mut f = linked(
                        FindingCode::LinkConflict,
                        s,
                        named,
                        MatchedBy::ExternalId,
                        format!(
                            "{}: externalId names JumpCloud user {} ({}) but {email} belongs to JumpCloud user {}",
                            who(s),
                            named.id,
                            named.email,
                            others
                                .iter()
                                .map(|u| u.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                    f.email = Some(email.as_str().to_owned());
                    f.jumpcloud_user_ids = std::iter::once(named)
                        .chain(others)
                        .map(|u| u.id.clone())
                        .collect();
                    f.jumpcloud_user_ids.sort();
                    f.reason = Some("email-belongs-to-other-user".to_owned());
                    part.findings.push(f);
                }
                Match::Ambiguous => {}
                Match::Split(owners) => {
                    let mut f = per_user(
                        FindingCode::LinkConflict,
                        s,
                        format!(
                            "{}: its emails belong to different JumpCloud users ({})",
                            who(s),
                            owners
                                .iter()
                                .map(|i| jc.users[*i].id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                    f.jumpcloud_user_ids = owners.iter().map(|i| jc.users[*i].id.clone()).collect();
                    f.jumpcloud_user_ids.sort();
                    f.reason = Some("emails-of-several-users".to_owned());
                    part.findings.push(f);
                }
                Match::Unmatched => {
                    if s.active {
                        part.findings.push(per_user(
                            FindingCode::UnknownActive,
                            s,
                            format!(
                                "{} is active in Slack but matches no JumpCloud user",
                                who(s)
                            ),
                        ));
                    }
                }
            }
        }
        part
    }
}

/// Slack's email index: every email of a human account with its hash, sorted by hash, and the
/// emails that occur on two or more accounts. Sorting a million hashes costs less than a
/// million-entry map, where every insert is a cache miss, and only duplicates are looked up.
struct SlackEmails<'a> {
    /// (hash, account index, email), sorted by hash then account.
    sorted: Vec<(u64, usize, &'a Email)>,
    shared: Vec<&'a Email>,
    hash: fn(&Email) -> u64,
}

fn email_hash(email: &Email) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5eed).hash_one(email)
}

impl<'a> SlackEmails<'a> {
    fn new(users: &'a [SlackUser]) -> Self {
        Self::with_hash(users, email_hash)
    }

    /// [`Self::new`] with another hash (tests force collisions with a constant one).
    fn with_hash(users: &'a [SlackUser], hash: fn(&Email) -> u64) -> Self {
        let mut sorted: Vec<(u64, usize, &Email)> = users
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.is_bot())
            .flat_map(|(si, s)| s.emails.iter().map(move |e| (hash(e), si, e)))
            .collect();
        sorted.sort_unstable_by_key(|&(h, si, _)| (h, si));
        let mut shared = Vec::new();
        for run in sorted
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|run| run.len() >= 2)
        {
            // A run is one email on several accounts, or (rarely) a hash collision. An account
            // lists an email once, so a repeat within a run is another account.
            let mut emails: Vec<&Email> = run.iter().map(|&(_, _, e)| e).collect();
            emails.sort_unstable();
            shared.extend(
                emails
                    .chunk_by(|a, b| a == b)
                    .filter(|c| c.len() >= 2)
                    .map(|c| c[0]),
            );
        }
        Self {
            sorted,
            shared,
            hash,
        }
    }

    /// The accounts (indexes into the listing) that have `email`, in listing order.
    fn hits(&self, email: &Email) -> impl Iterator<Item = usize> {
        let h = (self.hash)(email);
        let start = self.sorted.partition_point(|&(x, _, _)| x < h);
        self.sorted[start..]
            .iter()
            .take_while(move |&&(x, _, _)| x == h)
            .filter(move |&&(_, _, e)| e == email)
            .map(|&(_, si, _)| si)
    }
}

fn legacy_reason(
    s: &SlackUser,
    has_link_evidence: bool,
    policy: &Policy,
    undated: &mut usize,
) -> Option<(&'static str, String)> {
    if has_link_evidence {
        return Some(match &s.external_id {
            Some(x) => (
                "external-id-not-in-jumpcloud",
                format!("has externalId {x}, which is no JumpCloud user id"),
            ),
            None => (
                "no-external-id",
                "is linked to JumpCloud only by email (no externalId)".to_owned(),
            ),
        });
    }
    let at = policy.scim_enabled_at?;
    match s.created {
        Some(created) if created < at => Some((
            "created-before-scim",
            format!("was created {created} before SCIM was enabled ({at})"),
        )),
        Some(_) => None,
        None => {
            *undated += 1;
            None
        }
    }
}

fn duplicate_emails(
    index: &Index<'_>,
    slack: &[SlackUser],
    slack_emails: &SlackEmails<'_>,
    findings: &mut Vec<Finding>,
) {
    // Only the emails seen twice (on either side) need any work.
    let mut emails: Vec<&Email> = slack_emails.shared.clone();
    emails.extend(index.shared.iter().copied());
    emails.sort_unstable();
    emails.dedup();
    for email in emails {
        let slack_hits: Vec<usize> = slack_emails.hits(email).collect();
        let jc_hits = index.owners(email);
        if slack_hits.len() < 2 && jc_hits.len() < 2 {
            continue;
        }
        let mut slack_ids: Vec<String> = slack_hits.iter().map(|&i| slack[i].id.clone()).collect();
        slack_ids.sort();
        slack_ids.dedup();
        let mut jc_ids: Vec<String> = jc_hits
            .iter()
            .map(|(i, _)| index.users[*i].id.clone())
            .collect();
        jc_ids.sort();
        jc_ids.dedup();
        let mut f = Finding::new(
            FindingCode::DuplicateEmail,
            format!(
                "{email} is shared by {} Slack account(s) and {} JumpCloud user(s)",
                slack_ids.len(),
                jc_ids.len()
            ),
        );
        f.email = Some(email.as_str().to_owned());
        f.slack_user_ids = slack_ids;
        f.jumpcloud_user_ids = jc_ids;
        findings.push(f);
    }
}

#[cfg(test)]
mod tests;
