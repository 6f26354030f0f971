//! The floor of the scale benchmark: read every JSON file under the given directories and parse
//! it with `serde_json` into `IgnoredAny` (no allocation, no model), on as many threads as the
//! audit uses. With `--sha256` it also hashes every file, as the audit must for the report's
//! `inputs.*.sha256` (DESIGN §4). Prints `seconds bytes files` on one line.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use clap::Parser;
use serde::de::IgnoredAny;

/// Measure the parse floor.
#[derive(Parser)]
struct Args {
    /// Threads (default: all cores, as the audit).
    #[arg(long)]
    threads: Option<usize>,
    /// Also SHA-256 every file.
    #[arg(long)]
    sha256: bool,
    /// Directories or files.
    paths: Vec<PathBuf>,
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            collect(&entry?.path(), out)?;
        }
    } else if path.extension().is_some_and(|e| e == "json") {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let mut files = Vec::new();
    for p in &args.paths {
        collect(p, &mut files)?;
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let next = AtomicUsize::new(0);
    let bytes = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let data = std::fs::read(path).expect("read");
                    bytes.fetch_add(data.len(), Ordering::Relaxed);
                    if args.sha256 {
                        std::hint::black_box(<sha2::Sha256 as sha2::Digest>::digest(&data));
                    }
                    let _: IgnoredAny = serde_json::from_slice(&data).expect("valid JSON");
                }
            });
        }
    });
    let secs = started.elapsed().as_secs_f64();
    let mut out = std::io::stdout().lock();
    std::io::Write::write_fmt(
        &mut out,
        format_args!(
            "{secs:.3} {} {}\n",
            bytes.load(Ordering::Relaxed),
            files.len()
        ),
    )
}
