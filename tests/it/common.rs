//! Helpers shared by the integration tests: run the binary, find fixtures, write temp inputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What a run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout parsed as JSON (panics with both streams when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e})\nstdout:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The codes of the findings, in report order.
    pub fn codes(&self) -> Vec<String> {
        self.json()["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["code"].as_str().expect("code").to_owned())
            .collect()
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `scimdrift` with `args` in `dir` (the repository root when `None`), with no config
/// file, colour, credential or clock surprises from the environment.
pub fn run_in(dir: Option<&Path>, args: &[&str]) -> Run {
    run_env(dir, args, &[])
}

/// [`run_in`] with extra environment variables.
pub fn run_env(dir: Option<&Path>, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_scimdrift"))
        .args(args)
        .current_dir(dir.map_or_else(root, Path::to_path_buf))
        .env_remove("NO_COLOR")
        .env_remove("SLACK_SCIM_TOKEN")
        .env_remove("JUMPCLOUD_API_KEY")
        .env("SOURCE_DATE_EPOCH", "1764000000")
        .env("SCIMDRIFT_TEST_NO_RETRY_DELAY", "1")
        .envs(env.iter().copied())
        .output()
        .expect("run scimdrift");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// Runs `scimdrift` in the repository root.
pub fn run(args: &[&str]) -> Run {
    run_in(None, args)
}

/// A temporary directory with files written from `(relative path, contents)` pairs.
pub fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, contents) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, contents).expect("write");
    }
    dir
}

/// `path` as a `&str` argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}
