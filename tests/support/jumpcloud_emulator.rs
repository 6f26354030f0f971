//! A local JumpCloud API emulator (v1 `/api/...` and v2 `/api/v2/...`, read-only), for tests and
//! for manual runs through `cargo run --example jumpcloud-emulator`.
//!
//! Owns the public face: [`JumpCloudConfig`] (seeded from an export bundle directory or
//! generated) and the running handle [`JumpCloudEmulator`] with its knobs and counters. The
//! behaviour follows `shared/reference/jumpcloud.md` §1-§5: `x-api-key` auth, v1 envelopes
//! `{totalCount, results}` with `limit` ≤ 100 and `skip`/`sort`, v2 bare arrays, graph shapes for
//! members, associations and app users, plus injected 429s and 5xx.

// Each emulator carries its own copy of the kit so an example can include one emulator alone;
// the test crate, which holds both, compiles it twice on purpose.
#[allow(clippy::duplicate_mod, reason = "one copy per emulator, see above")]
#[path = "emulator_kit.rs"]
mod kit;
#[path = "jumpcloud_emulator/routes.rs"]
mod routes;
#[path = "jumpcloud_emulator/seed.rs"]
mod seed;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

/// Everything the JumpCloud emulator starts from. Records are served as stored (raw).
#[derive(Clone, Debug)]
pub(crate) struct JumpCloudConfig {
    /// The one key accepted in `x-api-key`.
    pub(crate) api_key: String,
    /// v1 `systemuserreturn` records, in bundle order.
    pub(crate) users: Vec<Value>,
    /// v1 `application` records.
    pub(crate) applications: Vec<Value>,
    /// v2 `UserGroup` records.
    pub(crate) usergroups: Vec<Value>,
    /// Group id → its direct members (`GraphConnection`s to users).
    pub(crate) members: BTreeMap<String, Vec<Value>>,
    /// Group id → its direct application bindings (`GraphConnection`s to applications).
    pub(crate) app_associations: BTreeMap<String, Vec<Value>>,
    /// App id → its users (`GraphObjectWithPaths`). Apps missing here get theirs derived from
    /// the groups bound to them.
    pub(crate) app_users: BTreeMap<String, Vec<Value>>,
    /// The next N authenticated requests answer 429.
    pub(crate) forced_429: u32,
    /// `Retry-After` seconds sent with those 429s (JumpCloud publishes no limits).
    pub(crate) retry_after_secs: u64,
    /// Share of requests answered with a 5xx (500/502/503/504 mix).
    pub(crate) error_rate: f64,
    /// Added to every request.
    pub(crate) latency: Duration,
    /// Send `x-total-count` on v2 list pages that hold records (unverified whether JumpCloud
    /// does; off by default).
    pub(crate) total_count_header: bool,
    /// Added to every `x-total-count`: records the pages never show (JumpCloud staff blamed
    /// null association records for short pages).
    pub(crate) total_count_extra: usize,
    /// `x-total-count` grows with every request, as in an org changing while it is read.
    pub(crate) total_count_moves: bool,
    /// What v2 lists serve beyond their records (a server that never pages to an end).
    pub(crate) v2_tail: V2Tail,
    /// v2 pages at `skip` ≥ `limit` start this many records earlier, as if records had been
    /// added before them while the listing was paged (v2 has no sort): ids repeat across pages.
    pub(crate) v2_skip_shift: usize,
    /// v1 `totalCount` grows with every request, as in an org changing while it is read.
    pub(crate) v1_total_moves: bool,
    /// Seed of the fault dice.
    pub(crate) seed: u64,
    /// Port to bind on 127.0.0.1 (0 = any free port).
    pub(crate) port: u16,
}

impl Default for JumpCloudConfig {
    fn default() -> Self {
        Self {
            api_key: "jc-emulator-key".to_owned(),
            users: Vec::new(),
            applications: Vec::new(),
            usergroups: Vec::new(),
            members: BTreeMap::new(),
            app_associations: BTreeMap::new(),
            app_users: BTreeMap::new(),
            forced_429: 0,
            retry_after_secs: 1,
            error_rate: 0.0,
            latency: Duration::ZERO,
            total_count_header: false,
            total_count_extra: 0,
            total_count_moves: false,
            v2_tail: V2Tail::None,
            v2_skip_shift: 0,
            v1_total_moves: false,
            seed: 1,
            port: 0,
        }
    }
}

impl JumpCloudConfig {
    /// Loads an export bundle directory (reference §8.1): `systemusers/*.json` and
    /// `applications/*.json` (v1 envelopes or arrays), `usergroups/*.json` (arrays),
    /// `usergroups/<id>/members/`, `usergroups/<id>/associations.application/`,
    /// `applications/<id>/users/`. Missing optional folders mean empty lists.
    pub(crate) fn from_bundle(dir: impl AsRef<Path>) -> std::io::Result<Self> {
        seed::load_bundle(dir.as_ref())
    }

    /// `n_users` users drawn from the same people as the Slack emulator's generated org (same
    /// seed, same emails), with ~6% suspended, some staged, locked or expired; three apps (two
    /// Slack connectors and AWS); `n_groups` groups with members, one of them bound to both Slack
    /// apps when there are at least four.
    pub(crate) fn generated(n_users: usize, n_groups: usize, seed: u64) -> Self {
        seed::generate(n_users, n_groups, seed)
    }
}

/// What v2 list pages beyond the last record hold, for [`routes::TAIL_PAGES`] pages (then the
/// empty page, so a reader that never stops on its own still ends in a test).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum V2Tail {
    /// The empty page, as JumpCloud ends a listing.
    #[default]
    None,
    /// Full pages of records never seen before, at every `skip`.
    Fresh,
    /// Two full pages of records, in turn.
    Alternating,
}

/// A running JumpCloud emulator on 127.0.0.1; dropping it shuts it down.
pub(crate) struct JumpCloudEmulator {
    shared: Arc<Mutex<routes::State>>,
    server: kit::Server,
}

impl JumpCloudEmulator {
    /// Binds, starts serving on a background thread, and returns once the socket listens.
    pub(crate) fn start(config: JumpCloudConfig) -> Self {
        Self::try_start(config).expect("start the JumpCloud emulator on 127.0.0.1")
    }

    /// Like [`JumpCloudEmulator::start`] but reports a bind failure.
    pub(crate) fn try_start(config: JumpCloudConfig) -> std::io::Result<Self> {
        let listener = kit::bind(config.port)?;
        let shared = Arc::new(Mutex::new(routes::State::new(config)));
        let for_server = Arc::clone(&shared);
        let server = kit::Server::start("jumpcloud-emulator", listener, move |req| {
            routes::handle(Arc::clone(&for_server), req)
        })?;
        Ok(Self { shared, server })
    }

    fn state(&self) -> MutexGuard<'_, routes::State> {
        self.shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The bound address.
    pub(crate) fn addr(&self) -> std::net::SocketAddr {
        self.server.addr()
    }

    /// `http://127.0.0.1:PORT` (paths start with `/api`).
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// Arms the next `n` authenticated requests to answer 429.
    pub(crate) fn set_forced_429(&self, n: u32) {
        self.state().forced_429_left = n;
    }

    /// Sets the share of requests answered with a 5xx.
    pub(crate) fn set_error_rate(&self, rate: f64) {
        self.state().error_rate = rate;
    }

    /// Sets the latency added to every request.
    pub(crate) fn set_latency(&self, latency: Duration) {
        self.state().latency = latency;
    }

    /// Requests received.
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
            .range(500..600)
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

    /// `METHOD /path?query` of every request so far (the first 100,000).
    pub(crate) fn request_log(&self) -> Vec<String> {
        self.state().stats.log.clone()
    }
}
