//! The top-level error: collects each module's error so `main` can print the cause chain and
//! exit 2. Drift is never an error (it is an `Ok` exit status).

use std::io;

/// Anything that stops a command from running.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input could not be loaded.
    #[error(transparent)]
    Source(#[from] crate::source::Error),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::Error),
    /// A live read failed.
    #[error(transparent)]
    Remote(#[from] crate::remote::Error),
    /// No usable credential.
    #[error(transparent)]
    Secret(#[from] crate::secret::Error),
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] io::Error),
    /// The exceptions file is invalid.
    #[error(transparent)]
    Exceptions(#[from] crate::exceptions::Error),
    /// A plan that must not be applied.
    #[error(transparent)]
    Refusal(#[from] crate::apply::Refusal),
    /// The apply journal cannot be used.
    #[error(transparent)]
    Journal(#[from] crate::apply::journal::Error),
    /// `--slack-app` names an unknown application.
    #[error(transparent)]
    UnknownApp(#[from] crate::analysis::UnknownApp),
    /// A flag value that clap cannot check by itself.
    #[error("{flag}: {problem}")]
    Usage {
        /// The flag.
        flag: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// Writing the report failed.
    #[error("cannot write the report")]
    Output(#[source] io::Error),
    /// A file could not be written (nothing of the set it belongs to was).
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// A closed stdout (`scimdrift … | head`) is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Self::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Writes `error: …` and one `  caused by: …` line per source.
pub fn write_chain(err: &dyn std::error::Error, out: &mut dyn io::Write) -> io::Result<()> {
    writeln!(out, "error: {err}")?;
    let mut source = err.source();
    while let Some(cause) = source {
        writeln!(out, "  caused by: {cause}")?;
        source = cause.source();
    }
    Ok(())
}
