//! Runs the JumpCloud API emulator from `tests/support` as a standalone server on 127.0.0.1:
//! `cargo run --example jumpcloud-emulator -- --bundle fixtures/demo/jumpcloud --port 8081`.
//! Prints the base URL once listening, then serves until killed.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

#[allow(dead_code, reason = "the example uses a subset of the test API")]
#[path = "../tests/support/jumpcloud_emulator.rs"]
mod jumpcloud_emulator;

use jumpcloud_emulator::{JumpCloudConfig, JumpCloudEmulator};

/// Local JumpCloud API emulator (read-only v1 and v2 endpoints).
#[derive(Parser, Debug)]
#[command(name = "jumpcloud-emulator")]
struct Args {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Serve an export bundle directory (e.g. fixtures/demo/jumpcloud).
    #[arg(long, value_name = "DIR", conflicts_with = "users")]
    bundle: Option<PathBuf>,
    /// Generate this many users.
    #[arg(long)]
    users: Option<usize>,
    /// Number of generated groups.
    #[arg(long, default_value_t = 8)]
    groups: usize,
    /// Seed of generated data (use the Slack emulator's seed for matching people).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Accepted `x-api-key`.
    #[arg(long, default_value = "jc-emulator-key")]
    api_key: String,
    /// Share of requests answered with a 5xx.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Send `x-total-count` on v2 lists.
    #[arg(long)]
    total_count_header: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            writeln!(std::io::stderr().lock(), "jumpcloud-emulator: {e}").ok();
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> std::io::Result<()> {
    let mut config = match &args.bundle {
        Some(dir) => JumpCloudConfig::from_bundle(dir)?,
        None => JumpCloudConfig::generated(args.users.unwrap_or(100), args.groups, args.seed),
    };
    config.api_key = args.api_key;
    config.port = args.port;
    config.seed = args.seed;
    config.error_rate = args.error_rate;
    config.latency = Duration::from_millis(args.latency_ms);
    config.total_count_header = args.total_count_header;
    let users = config.users.len();
    let emulator = JumpCloudEmulator::try_start(config)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "base {}", emulator.base_url())?;
    writeln!(out, "users {users}")?;
    out.flush()?;
    drop(out);
    // Serve until the process is killed; the server runs on its own thread.
    loop {
        std::thread::park();
    }
}
