//! The `scimdrift` binary: parse the command line, set up logging, run, map the outcome to an
//! exit code. All logic lives in the library.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = scimdrift::cli::Cli::parse();
    scimdrift::init_logging(&cli.global);
    match scimdrift::run(&cli) {
        Ok(status) => status.into(),
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            let _ = scimdrift::error::write_chain(&err, &mut stderr);
            let _ = stderr.flush();
            scimdrift::report::ExitStatus::Error.into()
        }
    }
}
