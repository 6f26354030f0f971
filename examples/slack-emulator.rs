//! Runs the Slack SCIM emulator from `tests/support` as a standalone server on 127.0.0.1, for
//! trying a client by hand: `cargo run --example slack-emulator -- --users 100000 --port 8080`.
//! Prints the v1 and v2 base URLs once listening, then serves until killed.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

#[allow(dead_code, reason = "the example uses a subset of the test API")]
#[path = "../tests/support/slack_emulator.rs"]
mod slack_emulator;

use slack_emulator::{Faults, RateLimits, SlackConfig, SlackEmulator, Version};

/// Local Slack SCIM emulator (v1 and v2).
#[derive(Parser, Debug)]
#[command(name = "slack-emulator")]
struct Args {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Generate this many users.
    #[arg(long, conflicts_with = "seed_dir")]
    users: Option<usize>,
    /// Seed for generated users and fault dice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Load users from a directory of saved `GET /Users` pages (e.g. fixtures/demo/slack).
    #[arg(long, value_name = "DIR")]
    seed_dir: Option<PathBuf>,
    /// Id of the primary owner (refuses deactivation); generated orgs pick their own.
    #[arg(long, value_name = "ID")]
    primary_owner: Option<String>,
    /// Accepted Bearer token.
    #[arg(long, default_value = "xoxp-emulator")]
    token: String,
    /// Speed of Slack's rate-limit clock (60 = a minute of limits per second).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Turn rate limiting off.
    #[arg(long)]
    no_rate_limits: bool,
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of requests answered with a 5xx.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Share of requests whose connection is closed without a response.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Reads lag this many milliseconds behind a PATCH.
    #[arg(long, default_value_t = 0)]
    stale_ms: u64,
    /// Users added or removed on each list page after the first.
    #[arg(long, default_value_t = 0)]
    churn: usize,
    /// Render every user's listing text in this version (v1 or v2) before listening, so a
    /// benchmark of a client does not also measure the emulator's rendering.
    #[arg(long, value_name = "VERSION")]
    prerender: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            writeln!(std::io::stderr().lock(), "slack-emulator: {e}").ok();
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> std::io::Result<()> {
    let mut config = match &args.seed_dir {
        Some(dir) => SlackConfig::from_pages_dir(dir)?,
        None => SlackConfig::generated(args.users.unwrap_or(100), args.seed),
    };
    if args.primary_owner.is_some() {
        config.primary_owner_id = args.primary_owner;
    }
    config.token = args.token;
    config.seed = args.seed;
    config.port = args.port;
    config.time_scale = args.time_scale;
    if args.no_rate_limits {
        config.rate_limits = RateLimits::unlimited();
    }
    config.faults = Faults {
        error_rate: args.error_rate,
        latency: Duration::from_millis(args.latency_ms),
        drop_rate: args.drop_rate,
        stale_reads_after_patch: Duration::from_millis(args.stale_ms),
        churn_during_paging: args.churn,
        ..Faults::default()
    };
    let users = config.users.len();
    let emulator = SlackEmulator::try_start(config)?;
    match args.prerender.as_deref() {
        Some("v1") => emulator.prerender(Version::V1),
        Some("v2") => emulator.prerender(Version::V2),
        Some(other) => {
            return Err(std::io::Error::other(format!(
                "--prerender {other}: expected v1 or v2"
            )));
        }
        None => {}
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "v1 {}", emulator.base_url("v1"))?;
    writeln!(out, "v2 {}", emulator.base_url("v2"))?;
    writeln!(out, "users {users}")?;
    out.flush()?;
    drop(out);
    // Serve until the process is killed; the server runs on its own thread.
    loop {
        std::thread::park();
    }
}
