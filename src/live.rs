//! The live side of the commands: credentials, clients, the async runtime, progress bars and
//! manifests for `fetch slack`, `fetch jumpcloud` and `audit --slack-url/--jumpcloud-url`.
//!
//! Owns no protocol logic (that is `remote`) and no parsing (that is `source`).

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::cli::{
    FetchJumpCloudArgs, FetchSlackArgs, GlobalArgs, JumpCloudAuth, NetArgs, ScimVersionArg,
    SlackAuth,
};
use crate::error::Error;
use crate::model::ScimVersion;
use crate::remote::jumpcloud::{JumpCloudCounts, JumpCloudFetch};
use crate::remote::retry::RetryPolicy;
use crate::remote::slack::{SlackCounts, SlackFetch};
use crate::remote::{self, BaseUrl, Client, NetOptions, Stats};
use crate::report::ExitStatus;
use crate::secret::Secret;
use crate::source::Snapshot;

/// What a live read brought back.
#[derive(Debug)]
pub struct Live<C> {
    /// The raw pages, manifest included.
    pub snapshot: Snapshot,
    /// Counts for the summary.
    pub counts: C,
    /// Requests, 429s and retries.
    pub requests: u64,
    /// 429 answers received.
    pub rate_limited: u64,
    /// Retries after 5xx or transport errors.
    pub retries: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// The retry policy of `--max-retries`.
pub(crate) fn retry_policy(net: &NetArgs) -> RetryPolicy {
    let mut retry = RetryPolicy {
        max_retries: net.max_retries,
        ..RetryPolicy::default()
    };
    // Test knob (like cargo's and uv's): no backoff sleeps, so fault tests run fast.
    if std::env::var_os("SCIMDRIFT_TEST_NO_RETRY_DELAY").is_some() {
        retry.base = Duration::from_millis(1);
        retry.cap = Duration::from_millis(5);
    }
    retry
}

/// [`remote::jumpcloud::MAX_V2_RECORDS`], which a test knob may only lower (so that a server
/// paging without end is stopped after a few pages).
fn max_v2_records() -> u64 {
    std::env::var("SCIMDRIFT_TEST_MAX_V2_RECORDS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(remote::jumpcloud::MAX_V2_RECORDS, |n| {
            n.min(remote::jumpcloud::MAX_V2_RECORDS)
        })
}

fn options(net: &NetArgs) -> NetOptions {
    let retry = retry_policy(net);
    NetOptions {
        per_minute: net.max_rpm,
        burst: net.max_rpm,
        single_per_minute: net.max_rpm,
        single_burst: net.max_rpm,
        writes_per_minute: 1,
        write_burst: 1,
        timeout: Duration::from_secs(net.timeout),
        retry,
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    // Two workers: with several 1 MB pages arriving at once, one thread receiving them all is
    // the bottleneck of a fetch (issue 6).
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(Error::Runtime)
}

/// A progress bar on stderr when it is a terminal and neither `-q` nor `-v` is given.
fn progress(global: &GlobalArgs, label: &'static str) -> ProgressBar {
    if global.quiet > 0 || global.verbose > 0 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(1), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} pages {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label);
    bar
}

pub(crate) fn scim_version(
    base: &BaseUrl,
    flag: Option<ScimVersionArg>,
) -> Result<ScimVersion, Error> {
    match (flag, base.last_segment()) {
        (Some(ScimVersionArg::V1), _) | (None, Some("v1")) => Ok(ScimVersion::V1),
        (Some(ScimVersionArg::V2), _) | (None, Some("v2")) => Ok(ScimVersion::V2),
        (None, _) => Err(Error::Usage {
            flag: "--scim-version",
            problem: format!(
                "cannot tell the SCIM version from {} (it does not end in /v1 or /v2); pass --scim-version",
                base.as_str()
            ),
        }),
    }
}

fn file_list(snapshot: &Snapshot) -> Vec<serde_json::Value> {
    snapshot
        .digests()
        .into_iter()
        .map(|(path, sha256, bytes)| {
            json!({"path": path.to_string_lossy().replace('\\', "/"),
                   "sha256": sha256, "bytes": bytes})
        })
        .collect()
}

/// Adds the manifest (with the list of files read so far) and the client's counters.
fn finish<C>(
    mut snapshot: Snapshot,
    counts: C,
    mut manifest: serde_json::Value,
    stats: &Stats,
    started: Instant,
) -> Live<C> {
    let elapsed = started.elapsed();
    manifest["files"] = serde_json::Value::Array(file_list(&snapshot));
    snapshot.insert("manifest.json", pretty(&manifest));
    Live {
        snapshot,
        counts,
        requests: stats.requests.load(Ordering::Relaxed),
        rate_limited: stats.rate_limited.load(Ordering::Relaxed),
        retries: stats.retries.load(Ordering::Relaxed),
        elapsed,
    }
}

/// Reads Slack `/Users` (and `/Groups`) from `url` into a snapshot with its manifest.
pub fn read_slack(
    global: &GlobalArgs,
    url: &str,
    auth: &SlackAuth,
    net: &NetArgs,
    groups: bool,
) -> Result<Live<SlackCounts>, Error> {
    let base = BaseUrl::parse(url)?;
    let version = scim_version(&base, auth.scim_version)?;
    let token = Secret::load(
        "Slack SCIM token",
        "SLACK_SCIM_TOKEN",
        "--token-file",
        auth.token_file.as_deref(),
    )?;
    let client = Client::slack(base.clone(), &token, &options(net))?;
    let opts = SlackFetch {
        version,
        page_size: auth.page_size,
        concurrency: usize::from(net.concurrency),
        max_rereads: net.max_rereads,
        groups,
    };
    let mut snapshot = Snapshot::new(base.as_str());
    let bar = progress(global, "Slack");
    let started = Instant::now();
    let counts = runtime()?.block_on(remote::slack::fetch(&client, &opts, &mut snapshot, &bar))?;
    bar.finish_and_clear();
    let manifest = json!({
        "format": "scimdrift-slack-snapshot/1",
        "base_url": base.as_str(),
        "scim_version": version.as_str(),
        "captured_at": crate::now().to_string(),
        "page_size": auth.page_size,
        "counts": {"users": counts.users, "groups": counts.groups},
    });
    Ok(finish(snapshot, counts, manifest, &client.stats, started))
}

/// Reads a JumpCloud bundle from `url` into a snapshot with its manifest.
pub fn read_jumpcloud(
    global: &GlobalArgs,
    url: &str,
    auth: &JumpCloudAuth,
    net: &NetArgs,
    slack_apps: &[String],
    record_apps: bool,
) -> Result<Live<JumpCloudCounts>, Error> {
    let base = BaseUrl::parse(url)?;
    let key = Secret::load(
        "JumpCloud API key",
        "JUMPCLOUD_API_KEY",
        "--api-key-file",
        auth.api_key_file.as_deref(),
    )?;
    let client = Client::jumpcloud(base.clone(), &key, auth.org_id.as_deref(), &options(net))?;
    let opts = JumpCloudFetch {
        concurrency: usize::from(net.concurrency),
        max_rereads: net.max_rereads,
        slack_app_ids: slack_apps.to_vec(),
        max_v2_records: max_v2_records(),
    };
    let mut snapshot = Snapshot::new(base.as_str());
    let bar = progress(global, "JumpCloud");
    let started = Instant::now();
    let counts = runtime()?.block_on(remote::jumpcloud::fetch(
        &client,
        &opts,
        &mut snapshot,
        &bar,
    ))?;
    bar.finish_and_clear();
    let mut manifest = json!({
        "format": "jc-export-bundle/1",
        "org_id": auth.org_id,
        "base_url": base.as_str(),
        "captured_at": crate::now().to_string(),
        "producer": "scimdrift",
        "counts": {"users": counts.users, "applications": counts.applications,
                   "groups": counts.groups, "slack_apps_fetched": counts.slack_apps},
    });
    if record_apps && !slack_apps.is_empty() {
        manifest["slack_app_ids"] = json!(slack_apps);
    }
    Ok(finish(snapshot, counts, manifest, &client.stats, started))
}

fn pretty(value: &serde_json::Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(value).unwrap_or_default();
    out.push(b'\n');
    out
}

fn say(global: &GlobalArgs, line: &str) {
    if global.quiet == 0 {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

fn traffic<C>(live: &Live<C>) -> String {
    format!(
        "{} request(s), {} rate-limited (429), {} retried, {:.2} s",
        live.requests,
        live.rate_limited,
        live.retries,
        live.elapsed.as_secs_f64()
    )
}

/// `scimdrift fetch slack`.
pub fn fetch_slack(global: &GlobalArgs, args: &FetchSlackArgs) -> Result<ExitStatus, Error> {
    let live = read_slack(global, &args.url, &args.auth, &args.net, !args.no_groups)?;
    live.snapshot.write_to(&args.out)?;
    let groups = live
        .counts
        .groups
        .map_or_else(String::new, |g| format!(" and {g} group(s)"));
    say(
        global,
        &format!(
            "scimdrift: saved {} Slack user(s){groups} to {} ({})",
            live.counts.users,
            args.out.display(),
            traffic(&live)
        ),
    );
    Ok(ExitStatus::Clean)
}

/// `scimdrift fetch jumpcloud`.
pub fn fetch_jumpcloud(
    global: &GlobalArgs,
    args: &FetchJumpCloudArgs,
) -> Result<ExitStatus, Error> {
    let live = read_jumpcloud(
        global,
        &args.url,
        &args.auth,
        &args.net,
        &args.slack_apps,
        true,
    )?;
    live.snapshot.write_to(&args.out)?;
    say(
        global,
        &format!(
            "scimdrift: saved {} JumpCloud user(s), {} group(s), {} application(s) (Slack connectors: {}) to {} ({})",
            live.counts.users,
            live.counts.groups,
            live.counts.applications,
            if live.counts.slack_apps.is_empty() {
                "none found".to_owned()
            } else {
                live.counts.slack_apps.join(", ")
            },
            args.out.display(),
            traffic(&live)
        ),
    );
    Ok(ExitStatus::Clean)
}
