//! Mutable state of the Slack emulator, behind one mutex that is never held across an await.
//!
//! Owns: the user store (v2-shaped, ordered by id so paging is stable), rendering per SCIM
//! version, stale-read snapshots, token buckets running on Slack's scaled clock, the per-user
//! write locks, churn, and the counters the tests read.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use serde_json::Value;
use serde_json::value::RawValue;
use std::sync::Arc;

use super::kit::Rng;
use super::{Faults, Limit, RateLimits, SlackConfig, seed};

/// `(v2 URN, v1 URN)` pairs: schema URNs and extension keys that differ between versions.
const URNS: &[(&str, &str)] = &[
    (
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:scim:schemas:core:1.0",
    ),
    (
        "urn:ietf:params:scim:schemas:core:2.0:Group",
        "urn:scim:schemas:core:1.0",
    ),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "urn:scim:schemas:extension:enterprise:1.0",
    ),
    (
        "urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User",
        "urn:scim:schemas:extension:slack:guest:1.0",
    ),
    (
        "urn:ietf:params:scim:schemas:extension:slack:profile:2.0:User",
        "urn:scim:schemas:extension:slack:profile:1.0",
    ),
];

/// Most requests remembered in the log; a long manual run must not grow without bound.
const LOG_CAP: usize = 100_000;

/// SCIM protocol version of a request (`/scim/v1` or `/scim/v2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    /// SCIM 1.1 as Slack serves it.
    V1,
    /// SCIM 2.0.
    V2,
}

impl Version {
    /// `"v1"` or `"v2"`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }
}

/// The rate-limit buckets; see [`RateLimits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BucketKind {
    OrgReads,
    OrgWrites,
    UserGet,
    GroupGet,
    UserPatch,
    UserDelete,
}

impl BucketKind {
    const ALL: [Self; 6] = [
        Self::OrgReads,
        Self::OrgWrites,
        Self::UserGet,
        Self::GroupGet,
        Self::UserPatch,
        Self::UserDelete,
    ];

    fn limit(self, limits: &RateLimits) -> Limit {
        match self {
            Self::OrgReads => limits.org_reads,
            Self::OrgWrites => limits.org_writes,
            Self::UserGet => limits.user_get,
            Self::GroupGet => limits.group_get,
            Self::UserPatch => limits.user_patch,
            Self::UserDelete => limits.user_delete,
        }
    }
}

/// A token bucket counted in Slack time: `elapsed real time × time_scale`.
#[derive(Clone, Debug)]
struct Bucket {
    kind: BucketKind,
    limit: Limit,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant, time_scale: f64) {
        let slack_secs = now.saturating_duration_since(self.last).as_secs_f64() * time_scale;
        self.tokens = (self.tokens + slack_secs * self.limit.per_min / 60.0).min(self.limit.burst);
        self.last = now;
    }

    /// Slack seconds until one token is available (0 when one is).
    fn wait(&self) -> f64 {
        if self.tokens >= 1.0 {
            0.0
        } else if self.limit.per_min <= 0.0 {
            60.0
        } else {
            (1.0 - self.tokens) / (self.limit.per_min / 60.0)
        }
    }
}

/// One stored user.
#[derive(Clone, Debug)]
pub(super) struct UserRec {
    /// Current v2-shaped resource (the truth).
    pub(super) res: Value,
    /// PATCH requests that reached this user.
    pub(super) patches: u32,
    /// What reads still show, and until when, after a write changed the user.
    stale: Option<(Instant, Value)>,
    /// `res` rendered for listings, per version (v1, v2): a 1M-user listing is then a copy of
    /// text rather than a million tree clones. Emptied whenever `res` changes.
    rendered: [std::sync::OnceLock<Arc<RawValue>>; 2],
}

impl UserRec {
    /// The resource reads see now: the pre-write snapshot inside a stale window.
    pub(super) fn visible(&self, now: Instant) -> &Value {
        match &self.stale {
            Some((until, old)) if now < *until => old,
            _ => &self.res,
        }
    }
}

/// Counters read by the tests.
#[derive(Clone, Debug, Default)]
pub(super) struct Stats {
    pub(super) requests: u64,
    pub(super) dropped: u64,
    pub(super) by_status: HashMap<u16, u64>,
    pub(super) patches: u32,
    pub(super) deletes: u32,
    pub(super) log: Vec<String>,
    /// Requests before `State::not_before`.
    pub(super) early: u64,
}

/// Everything mutable.
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent switches of the emulator"
)]
pub(super) struct State {
    pub(super) token: String,
    pub(super) read_only_token: Option<String>,
    pub(super) other_org_token: Option<String>,
    /// Set by the first write under `Faults::lost_write_then_outage`.
    pub(super) outage: bool,
    pub(super) users: BTreeMap<String, UserRec>,
    pub(super) groups: BTreeMap<String, Value>,
    pub(super) primary_owner: Option<String>,
    pub(super) owners: Vec<String>,
    pub(super) no_such_user: hyper::StatusCode,
    pub(super) v2_ignores_filter: bool,
    pub(super) patch_204: bool,
    retry_after_dates: bool,
    /// When the last `Retry-After` sent runs out (wall clock, as an HTTP date is).
    not_before: Option<jiff::Timestamp>,
    pub(super) faults: Faults,
    forced_429_left: u32,
    limits: RateLimits,
    buckets: Vec<Bucket>,
    pub(super) time_scale: f64,
    pub(super) rng: Rng,
    locks: HashSet<String>,
    pub(super) stats: Stats,
    /// `http://127.0.0.1:PORT`, for `meta.location`.
    origin: String,
    seed: u64,
    churn_serial: usize,
    /// User ids in listing order, so a page is a slice, not a walk from the first user
    /// (rebuilt after churn).
    pub(super) order: Option<Vec<String>>,
}

impl State {
    pub(super) fn new(config: SlackConfig, origin: String) -> Self {
        let users = config
            .users
            .into_iter()
            .filter_map(|mut res| {
                to_v2(&mut res);
                let id = res.get("id")?.as_str()?.to_owned();
                let rec = UserRec {
                    res,
                    patches: 0,
                    stale: None,
                    rendered: Default::default(),
                };
                Some((id, rec))
            })
            .collect();
        let groups = config
            .groups
            .into_iter()
            .filter_map(|mut g| {
                to_v2(&mut g);
                Some((g.get("id")?.as_str()?.to_owned(), g))
            })
            .collect();
        let time_scale = if config.time_scale.is_finite() && config.time_scale > 0.0 {
            config.time_scale
        } else {
            1.0
        };
        let mut state = Self {
            token: config.token,
            read_only_token: config.read_only_token,
            other_org_token: config.other_org_token,
            outage: false,
            users,
            groups,
            primary_owner: config.primary_owner_id,
            owners: config.owner_ids,
            v2_ignores_filter: config.v2_ignores_filter,
            patch_204: config.patch_204,
            retry_after_dates: config.retry_after_dates,
            not_before: None,
            no_such_user: hyper::StatusCode::from_u16(config.no_such_user_status)
                .unwrap_or(hyper::StatusCode::NOT_FOUND),
            forced_429_left: config.faults.forced_429,
            faults: config.faults,
            limits: config.rate_limits,
            buckets: Vec::new(),
            time_scale,
            rng: Rng::new(config.seed),
            locks: HashSet::new(),
            stats: Stats::default(),
            origin,
            seed: config.seed,
            churn_serial: 0,
            order: None,
        };
        state.set_rate_limits(config.rate_limits);
        state
    }

    pub(super) fn set_faults(&mut self, faults: Faults) {
        self.forced_429_left = faults.forced_429;
        self.faults = faults;
    }

    pub(super) fn set_rate_limits(&mut self, limits: RateLimits) {
        let now = Instant::now();
        self.limits = limits;
        self.buckets = BucketKind::ALL
            .iter()
            .map(|&kind| {
                let limit = kind.limit(&limits);
                Bucket {
                    kind,
                    limit,
                    tokens: limit.burst,
                    last: now,
                }
            })
            .collect();
    }

    /// Consumes one forced 429 if any is armed.
    pub(super) fn take_forced_429(&mut self) -> bool {
        if self.forced_429_left == 0 {
            return false;
        }
        self.forced_429_left -= 1;
        true
    }

    /// Takes a token from each bucket in `kinds`, or none of them and returns the
    /// `Retry-After` value (whole seconds of real time) when one is empty.
    pub(super) fn admit(&mut self, kinds: &[BucketKind]) -> Result<(), u64> {
        if !self.limits.enabled || kinds.is_empty() {
            return Ok(());
        }
        let now = Instant::now();
        let scale = self.time_scale;
        let mut wait: f64 = 0.0;
        for bucket in self.buckets.iter_mut().filter(|b| kinds.contains(&b.kind)) {
            bucket.refill(now, scale);
            wait = wait.max(bucket.wait());
        }
        if wait > 0.0 {
            return Err(self.retry_after(wait));
        }
        for bucket in self.buckets.iter_mut().filter(|b| kinds.contains(&b.kind)) {
            bucket.tokens -= 1.0;
        }
        Ok(())
    }

    /// The `Retry-After` value for a wait of `secs` (from [`State::retry_after`]): the seconds, or
    /// an HTTP date. Remembers when it runs out, to count early requests.
    pub(super) fn retry_after_value(&mut self, secs: u64) -> String {
        let now = jiff::Timestamp::now();
        let secs_i = i64::try_from(secs).unwrap_or(i64::MAX / 2);
        let (value, until) = if self.retry_after_dates {
            // Whole seconds, rounded up, and never "now": a date a client ignored shows.
            let second = now.as_second() + secs_i.max(1) + 1;
            let until = jiff::Timestamp::from_second(second).expect("a date near now");
            let text = jiff::fmt::rfc2822::DateTimePrinter::new()
                .timestamp_to_rfc9110_string(&until)
                .expect("a date near now prints");
            (text, until)
        } else {
            let until = now + jiff::SignedDuration::from_secs(secs_i);
            (secs.to_string(), until)
        };
        self.not_before = Some(self.not_before.map_or(until, |t| t.max(until)));
        value
    }

    /// Counts a request that came before the last `Retry-After` ran out.
    pub(super) fn note_arrival(&mut self) {
        let slack = jiff::SignedDuration::from_millis(50);
        if self
            .not_before
            .is_some_and(|t| jiff::Timestamp::now() + slack < t)
        {
            self.stats.early += 1;
        }
    }

    /// `Retry-After` for a wait of `slack_secs` on Slack's clock: whole Slack seconds (rounded
    /// up, as Slack sends integers), then scaled to real time; 0 when that is under half a second.
    pub(super) fn retry_after(&self, slack_secs: f64) -> u64 {
        whole_secs((slack_secs.ceil() / self.time_scale).round())
    }

    /// Marks `id` as being written; false when a write to it is already in progress.
    pub(super) fn lock_user(&mut self, id: &str) -> bool {
        self.locks.insert(id.to_owned())
    }

    pub(super) fn unlock_user(&mut self, id: &str) {
        self.locks.remove(id);
    }

    pub(super) fn patch_count(&self, id: &str) -> u32 {
        self.users.get(id).map_or(0, |u| u.patches)
    }

    /// Sets `active` on a user; starts a stale window when it changed and one is configured.
    pub(super) fn set_active(&mut self, id: &str, active: bool) {
        let window = self.faults.stale_reads_after_patch;
        let Some(rec) = self.users.get_mut(id) else {
            return;
        };
        let was = rec.res.get("active").and_then(Value::as_bool);
        if was == Some(active) {
            return;
        }
        let now = Instant::now();
        // Keep the oldest snapshot while a window is open: reads lag the first change.
        let open = rec.stale.as_ref().is_some_and(|(until, _)| now < *until);
        if !window.is_zero() && !open {
            rec.stale = Some((now + window, rec.res.clone()));
        }
        if let Some(obj) = rec.res.as_object_mut() {
            obj.insert("active".to_owned(), Value::Bool(active));
        }
        rec.rendered = Default::default();
    }

    /// A user as a listing shows it at `now` (the stale snapshot inside a window), as JSON text.
    pub(super) fn listed_user(
        &self,
        rec: &UserRec,
        now: Instant,
        version: Version,
    ) -> Arc<RawValue> {
        match &rec.stale {
            Some((until, old)) if now < *until => self.render_text(old, version),
            _ => self.cached_text(rec, version).clone(),
        }
    }

    /// `rec.res` rendered as listing text, rendered once per version until the user changes.
    fn cached_text<'r>(&self, rec: &'r UserRec, version: Version) -> &'r Arc<RawValue> {
        rec.rendered[usize::from(version == Version::V2)]
            .get_or_init(|| self.render_text(&rec.res, version))
    }

    fn render_text(&self, res: &Value, version: Version) -> Arc<RawValue> {
        Arc::from(
            serde_json::value::to_raw_value(&self.render_user(res, version))
                .expect("a JSON value serialises"),
        )
    }

    /// Renders every user for listings in `version` now, so that serving a listing costs a copy
    /// of text (for benchmarks of a client, where the emulator shares the machine).
    pub(super) fn prerender(&mut self, version: Version) {
        if self.order.is_none() {
            self.order = Some(self.users.keys().cloned().collect());
        }
        for rec in self.users.values() {
            self.cached_text(rec, version);
        }
    }

    /// A user as `GET /Users/{id}` renders it, ignoring stale windows.
    pub(super) fn current_user(&self, id: &str, version: Version) -> Option<Value> {
        self.users
            .get(id)
            .map(|rec| self.render_user(&rec.res, version))
    }

    /// A stored v2 user in the shape of `version`, with `meta.location` on this emulator.
    pub(super) fn render_user(&self, res: &Value, version: Version) -> Value {
        let mut out = res.clone();
        if version == Version::V1 {
            to_v1(&mut out);
        }
        let location = format!(
            "{}/scim/{}/Users/{}",
            self.origin,
            version.as_str(),
            out.get("id").and_then(Value::as_str).unwrap_or_default()
        );
        set_location(&mut out, location);
        out
    }

    /// A stored v2 group in the shape of `version`.
    pub(super) fn render_group(&self, group: &Value, version: Version) -> Value {
        let mut out = group.clone();
        if version == Version::V1 {
            to_v1(&mut out);
        }
        let location = format!(
            "{}/scim/{}/Groups/{}",
            self.origin,
            version.as_str(),
            out.get("id").and_then(Value::as_str).unwrap_or_default()
        );
        set_location(&mut out, location);
        out
    }

    /// Adds or removes `n` users (coin flip), so `totalResults` moves between pages.
    pub(super) fn churn(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        self.order = None;
        if self.rng.chance(0.5) || self.users.len() <= n + 1 {
            for _ in 0..n {
                self.churn_serial += 1;
                let id = self.fresh_id();
                let res = seed::churn_user(self.seed, self.churn_serial, &id);
                self.users.insert(
                    id,
                    UserRec {
                        res,
                        patches: 0,
                        stale: None,
                        rendered: Default::default(),
                    },
                );
            }
        } else {
            for _ in 0..n {
                let nth = self.rng.below(self.users.len());
                let Some(id) = self.users.keys().nth(nth).cloned() else {
                    continue;
                };
                if self.primary_owner.as_deref() != Some(id.as_str()) {
                    self.users.remove(&id);
                }
            }
        }
    }

    fn fresh_id(&mut self) -> String {
        loop {
            let id = format!("W{}", self.rng.string(super::kit::SLACK_ID_ALPHABET, 10));
            if !self.users.contains_key(&id) {
                return id;
            }
        }
    }

    /// Records the outcome of one request.
    pub(super) fn record(&mut self, line: String, status: Option<u16>) {
        self.stats.requests += 1;
        match status {
            Some(s) => *self.stats.by_status.entry(s).or_default() += 1,
            None => self.stats.dropped += 1,
        }
        if self.stats.log.len() < LOG_CAP {
            self.stats.log.push(line);
        }
    }
}

fn set_location(res: &mut Value, location: String) {
    let Some(obj) = res.as_object_mut() else {
        return;
    };
    let meta = obj
        .entry("meta")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    if let Some(meta) = meta.as_object_mut() {
        meta.insert("location".to_owned(), Value::String(location));
    }
}

/// Rewrites v2 URNs (in `schemas` and as extension keys) to their v1 spelling.
fn to_v1(res: &mut Value) {
    rewrite_urns(res, |urn| {
        URNS.iter().find(|(v2, _)| *v2 == urn).map(|(_, v1)| *v1)
    });
}

/// Rewrites v1 URNs to v2; users and groups share `urn:scim:schemas:core:1.0`, told apart by
/// `members` (only groups have it).
pub(super) fn to_v2(res: &mut Value) {
    let is_group = res.get("members").is_some();
    rewrite_urns(res, |urn| {
        URNS.iter()
            .filter(|(v2, _)| is_group == v2.ends_with(":Group"))
            .find(|(_, v1)| *v1 == urn)
            .map(|(v2, _)| *v2)
    });
}

fn rewrite_urns(res: &mut Value, map: impl Fn(&str) -> Option<&'static str>) {
    let Some(obj) = res.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(schemas)) = obj.get_mut("schemas") {
        for s in schemas.iter_mut() {
            if let Some(to) = s.as_str().and_then(&map) {
                *s = Value::String(to.to_owned());
            }
        }
    }
    let renames: Vec<(String, &str)> = obj
        .keys()
        .filter_map(|k| map(k).map(|to| (k.clone(), to)))
        .filter(|(from, to)| from != to)
        .collect();
    for (from, to) in renames {
        if let Some(v) = obj.remove(&from) {
            obj.insert(to.to_owned(), v);
        }
    }
}

#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "clamped to a small non-negative whole number first"
)]
fn whole_secs(x: f64) -> u64 {
    x.clamp(0.0, 86_400.0) as u64
}
