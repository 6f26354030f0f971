//! A local Slack SCIM emulator (`/scim/v1` and `/scim/v2`), for tests and for manual runs through
//! `cargo run --example slack-emulator`.
//!
//! Owns the public face: configuration ([`SlackConfig`], [`Faults`], [`RateLimits`]) and the
//! running handle ([`SlackEmulator`]) with its runtime knobs and counters. The behaviour follows
//! `shared/reference/slack-scim.md`: Bearer auth with Slack's v1/v2 error quirks, offset paging
//! (default 10, cap 1000), `email`/`userName` filters, PATCH of `active` only (anything else is a
//! 400, so a client that touches more is caught), DELETE as deactivation, bots and the primary
//! owner refusing deactivation, token-bucket rate limits with `Retry-After`, a per-user write lock,
//! and injectable faults. Users are stored v2-shaped and rendered per version on the way out.

// Each emulator carries its own copy of the kit so an example can include one emulator alone;
// the test crate, which holds both, compiles it twice on purpose.
#[allow(clippy::duplicate_mod, reason = "one copy per emulator, see above")]
#[path = "emulator_kit.rs"]
mod kit;
#[path = "slack_emulator/routes.rs"]
mod routes;
#[path = "slack_emulator/seed.rs"]
mod seed;
#[path = "slack_emulator/state.rs"]
mod state;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

pub(crate) use state::Version;

/// Faults injected into responses; settable at start and at runtime ([`SlackEmulator::set_faults`]).
#[derive(Clone, Debug, Default)]
// Independent fault switches, set one or two at a time by each test.
#[allow(clippy::struct_excessive_bools)]
pub(crate) struct Faults {
    /// Share of requests answered with a 5xx (a 500/502/503 mix; 502/503 carry HTML bodies).
    pub(crate) error_rate: f64,
    /// Added to every request (real time, not scaled). Writes sleep it while holding the user's
    /// lock, so concurrent writes to one user meet a 429.
    pub(crate) latency: Duration,
    /// Share of requests whose connection is closed without any response.
    pub(crate) drop_rate: f64,
    /// After a PATCH/DELETE changes `active`, reads keep showing the old resource this long
    /// (real time): Slack is eventually consistent.
    pub(crate) stale_reads_after_patch: Duration,
    /// On each `GET /Users` page after the first, add or remove this many users so that
    /// `totalResults` moves and offsets shift under the client.
    pub(crate) churn_during_paging: usize,
    /// The next N authenticated requests answer 429 (reset by every `set_faults`).
    pub(crate) forced_429: u32,
    /// When a write draws a 5xx or a drop, apply it first: the change lands but the answer is
    /// lost, as when a proxy times out after the backend committed.
    pub(crate) write_lands_on_fault: bool,
    /// Every write lands but is answered 502, and from the first one on every read is answered
    /// 503: the backend committed, then the gateway in front of it went down.
    pub(crate) lost_write_then_outage: bool,
    /// `GET /Users/{id}` of this account answers 500 (one broken record, not an outage).
    pub(crate) broken_user: Option<String>,
    /// `GET /Users/{first}` answers the second account's resource (a proxy cache that mixes
    /// up its keys).
    pub(crate) misdirected_user: Option<(String, String)>,
    /// `drop_rate`, `error_rate` and `forced_429` hit writes (PATCH, DELETE) only, so that the
    /// write path meets every fault.
    pub(crate) writes_only: bool,
    /// Once this many PATCHes have been processed, the token is revoked: every request is
    /// then answered as a bad token (v1: 401 `invalid_authentication`).
    pub(crate) revoke_after_patches: Option<u32>,
    /// Once this many PATCHes have been processed, every connection is closed without an
    /// answer: Slack unreachable (the PATCH that reached the count is answered first).
    pub(crate) unreachable_after_patches: Option<u32>,
    /// Unfiltered `GET /Users` pages claim this `totalResults` instead of the real count (a
    /// server that lies about the size of the listing).
    pub(crate) claimed_total: Option<usize>,
    /// Unfiltered `GET /Users` pages answer with this `startIndex`, whatever was asked (the
    /// users on the page are still the ones asked for).
    pub(crate) echoed_start_index: Option<usize>,
    /// The unfiltered `GET /Users` page asked for at this `startIndex` is answered 200 with an
    /// HTML body (a proxy's page passed off as a success).
    pub(crate) html_page_at: Option<usize>,
    /// Every PATCH is answered 200 with the account as it was (still active) and nothing
    /// lands: a backend that took the request and dropped the change.
    pub(crate) patch_ignored: bool,
}

/// One token bucket: `per_min` tokens a minute, holding at most `burst`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Limit {
    /// Sustained requests per minute.
    pub(crate) per_min: f64,
    /// Bucket size (requests allowed at once).
    pub(crate) burst: f64,
}

/// Slack's published SCIM limits (reference §7). Endpoint buckets are org-wide per endpoint,
/// on top of the org-wide read or write bucket.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RateLimits {
    /// When false no request is ever rate limited (the per-user write lock still applies).
    pub(crate) enabled: bool,
    /// All GETs: 1000/min, burst 1000.
    pub(crate) org_reads: Limit,
    /// All POST/PUT/PATCH/DELETE: 600/min, burst 180.
    pub(crate) org_writes: Limit,
    /// `GET /Users/{id}`: 300/min, burst 300.
    pub(crate) user_get: Limit,
    /// `GET /Groups/{id}`: 300/min, burst 300.
    pub(crate) group_get: Limit,
    /// `PATCH /Users/{id}` (and PUT): 180/min, burst 20.
    pub(crate) user_patch: Limit,
    /// `DELETE /Users/{id}`: 180/min, burst 20.
    pub(crate) user_delete: Limit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            org_reads: Limit {
                per_min: 1000.0,
                burst: 1000.0,
            },
            org_writes: Limit {
                per_min: 600.0,
                burst: 180.0,
            },
            user_get: Limit {
                per_min: 300.0,
                burst: 300.0,
            },
            group_get: Limit {
                per_min: 300.0,
                burst: 300.0,
            },
            user_patch: Limit {
                per_min: 180.0,
                burst: 20.0,
            },
            user_delete: Limit {
                per_min: 180.0,
                burst: 20.0,
            },
        }
    }
}

impl RateLimits {
    /// No rate limiting at all.
    pub(crate) fn unlimited() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }
}

/// Everything the Slack emulator starts from.
#[derive(Clone, Debug)]
pub(crate) struct SlackConfig {
    /// The one token accepted as `Authorization: Bearer <token>`.
    pub(crate) token: String,
    /// A token accepted for reads only: writes with it are answered 403 `permission_denied`
    /// (a token without the `admin` scope's write rights).
    pub(crate) read_only_token: Option<String>,
    /// A token of another organisation at the same URL (on Slack the token picks the org): it
    /// reads an organisation without users, so every account is "no such user".
    pub(crate) other_org_token: Option<String>,
    /// v2-shaped User resources (v1-shaped ones are converted on start).
    pub(crate) users: Vec<Value>,
    /// v2-shaped Group resources.
    pub(crate) groups: Vec<Value>,
    /// The user that refuses deactivation with `cannot_disable_primary_owner`.
    pub(crate) primary_owner_id: Option<String>,
    /// Owners the token (an Admin's) may not modify: writes to them answer 403
    /// `cannot_modify_owner` (reference: a token acts only on accounts with the same or fewer
    /// permissions; the status is undocumented).
    pub(crate) owner_ids: Vec<String>,
    /// The status of a `no_such_user` answer: undocumented (the reference presumes 404), so
    /// tests also run with 400.
    pub(crate) no_such_user_status: u16,
    /// v2 listings ignore `filter` and answer the unfiltered page (the reference: Slack's v2
    /// docs say filtering is "not applicable", though its own v2 test filters).
    pub(crate) v2_ignores_filter: bool,
    /// A PATCH that succeeds is answered 204 without a body (DESIGN §7: accept 200 or 204).
    pub(crate) patch_204: bool,
    /// 429s carry `Retry-After` as an HTTP date (RFC 9110's IMF-fixdate, rounded up to the next
    /// whole second, at least a second ahead) instead of delay-seconds. Slack sends seconds; HTTP
    /// allows both, and a proxy in front of it may send a date (DESIGN §7).
    pub(crate) retry_after_dates: bool,
    /// Rate-limit buckets.
    pub(crate) rate_limits: RateLimits,
    /// How fast Slack's clock runs: 1.0 is real time, 60.0 makes a minute of limits pass in a
    /// second (refills and `Retry-After` are scaled; fault durations are not).
    pub(crate) time_scale: f64,
    /// Initial faults.
    pub(crate) faults: Faults,
    /// Seed of the fault dice and of churned users.
    pub(crate) seed: u64,
    /// Port to bind on 127.0.0.1 (0 = any free port).
    pub(crate) port: u16,
}

impl Default for SlackConfig {
    fn default() -> Self {
        Self {
            token: "xoxp-emulator".to_owned(),
            read_only_token: None,
            other_org_token: None,
            users: Vec::new(),
            groups: Vec::new(),
            primary_owner_id: None,
            owner_ids: Vec::new(),
            no_such_user_status: 404,
            v2_ignores_filter: false,
            patch_204: false,
            retry_after_dates: false,
            rate_limits: RateLimits::default(),
            time_scale: 1.0,
            faults: Faults::default(),
            seed: 1,
            port: 0,
        }
    }
}

impl SlackConfig {
    /// An org of `n` users: a few bots (`@slack-bots.com`), a primary owner, about 6% deactivated,
    /// some guests, enterprise data, four department groups. Deterministic for a seed; people
    /// match `JumpCloudConfig::generated` with the
    /// same seed, except bots and ~1% Slack-only accounts.
    pub(crate) fn generated(n: usize, seed: u64) -> Self {
        let org = seed::generate(n, seed);
        Self {
            users: org.users,
            groups: org.groups,
            primary_owner_id: org.primary_owner_id,
            seed,
            ..Self::default()
        }
    }

    /// Loads the `Resources` of every `*.json` page in `dir` (a saved v1 or v2 listing such as
    /// `fixtures/demo/slack`); groups are rebuilt from the users' `groups` entries. No primary
    /// owner is known from a listing; set [`SlackConfig::primary_owner_id`] if a test needs one.
    pub(crate) fn from_pages_dir(dir: impl AsRef<Path>) -> std::io::Result<Self> {
        let (users, groups) = seed::load_pages(dir.as_ref())?;
        Ok(Self {
            users,
            groups,
            ..Self::default()
        })
    }
}

/// A running Slack SCIM emulator on 127.0.0.1; dropping it shuts it down.
pub(crate) struct SlackEmulator {
    shared: Arc<Mutex<state::State>>,
    server: kit::Server,
}

impl SlackEmulator {
    /// Binds, starts serving on a background thread, and returns once the socket listens.
    pub(crate) fn start(config: SlackConfig) -> Self {
        Self::try_start(config).expect("start the Slack SCIM emulator on 127.0.0.1")
    }

    /// Like [`SlackEmulator::start`] but reports a bind failure (e.g. a taken `--port`).
    pub(crate) fn try_start(config: SlackConfig) -> std::io::Result<Self> {
        let listener = kit::bind(config.port)?;
        let origin = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Mutex::new(state::State::new(config, origin)));
        let for_server = Arc::clone(&shared);
        let server = kit::Server::start("slack-emulator", listener, move |req| {
            routes::handle(Arc::clone(&for_server), req)
        })?;
        Ok(Self { shared, server })
    }

    fn state(&self) -> MutexGuard<'_, state::State> {
        // A panic in a handler must not hide the counters from the test that caused it.
        self.shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Renders every user's listing text in `version` ahead of the first request (see
    /// `State::prerender`).
    pub(crate) fn prerender(&self, version: Version) {
        self.state().prerender(version);
    }

    /// The bound address.
    pub(crate) fn addr(&self) -> std::net::SocketAddr {
        self.server.addr()
    }

    /// `http://127.0.0.1:PORT/scim/<version>`; `version` is `"v1"` or `"v2"`.
    pub(crate) fn base_url(&self, version: &str) -> String {
        format!("http://{}/scim/{version}", self.addr())
    }

    /// PATCH requests that reached user `id` (past auth, faults, rate limits and the lock),
    /// whether they changed it, were refused (bot, owner, bad body) or were no-ops.
    pub(crate) fn patch_count(&self, id: &str) -> u32 {
        self.state().patch_count(id)
    }

    /// All PATCH requests counted by [`SlackEmulator::patch_count`].
    pub(crate) fn total_patches(&self) -> u32 {
        self.state().stats.patches
    }

    /// DELETE requests that reached a user (scimdrift must never send one).
    pub(crate) fn total_deletes(&self) -> u32 {
        self.state().stats.deletes
    }

    /// The user's current resource, v2-shaped as `GET /scim/v2/Users/{id}` would return it once
    /// consistent (ignores stale-read windows).
    pub(crate) fn user(&self, id: &str) -> Option<Value> {
        self.state().current_user(id, Version::V2)
    }

    /// Number of users in the org now (moves with churn).
    pub(crate) fn user_count(&self) -> usize {
        self.state().users.len()
    }

    /// Ids of all users, in listing order.
    pub(crate) fn user_ids(&self) -> Vec<String> {
        self.state().users.keys().cloned().collect()
    }

    /// Replaces the faults; also re-arms `forced_429`.
    pub(crate) fn set_faults(&self, faults: Faults) {
        self.state().set_faults(faults);
    }

    /// The faults in force (with `forced_429` as originally set).
    pub(crate) fn faults(&self) -> Faults {
        self.state().faults.clone()
    }

    /// Replaces the rate limits; buckets restart full.
    pub(crate) fn set_rate_limits(&self, limits: RateLimits) {
        self.state().set_rate_limits(limits);
    }

    /// Requests received (including dropped ones).
    pub(crate) fn requests(&self) -> u64 {
        self.state().stats.requests
    }

    /// Responses with status 429.
    pub(crate) fn responses_429(&self) -> u64 {
        self.status_count(429)
    }

    /// Responses with a 5xx status.
    pub(crate) fn responses_5xx(&self) -> u64 {
        self.state()
            .stats
            .by_status
            .iter()
            .filter(|(s, _)| (500..600).contains(*s))
            .map(|(_, n)| n)
            .sum()
    }

    /// Responses with exactly this status.
    pub(crate) fn status_count(&self, status: u16) -> u64 {
        self.state()
            .stats
            .by_status
            .get(&status)
            .copied()
            .unwrap_or(0)
    }

    /// Connections closed without a response.
    pub(crate) fn dropped(&self) -> u64 {
        self.state().stats.dropped
    }

    /// Authenticated requests that arrived before the last 429's `Retry-After` had run out
    /// (50 ms of slack for the clock). A client that honours the wait sends none, unless it had
    /// other requests in flight when the 429 came.
    pub(crate) fn early_requests(&self) -> u64 {
        self.state().stats.early
    }

    /// `METHOD /path?query` of every request so far (the first 100,000).
    pub(crate) fn request_log(&self) -> Vec<String> {
        self.state().stats.log.clone()
    }
}
