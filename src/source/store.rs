//! Where input files come from: the file system, or a [`Snapshot`] that `fetch` built in memory.
//!
//! The loaders only see the [`Store`] trait, so a live audit reads exactly what `fetch` would
//! have written to disk. A snapshot is written to disk whole or not at all.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::Error;
use super::files::natural_cmp;

/// A read-only tree of files.
pub trait Store: Sync {
    /// The bytes of a file.
    fn read(&self, path: &Path) -> Result<Cow<'_, [u8]>, Error>;
    /// Whether `path` is a directory (`Err` when it does not exist).
    fn is_dir(&self, path: &Path) -> Result<bool, Error>;
    /// The files directly in `dir` with one of `exts`, in natural order (`skip-100` after
    /// `skip-20`).
    fn list(&self, dir: &Path, exts: &[&str]) -> Result<Vec<PathBuf>, Error>;
    /// The sub-directories of `dir`, sorted.
    fn subdirs(&self, dir: &Path) -> Result<Vec<PathBuf>, Error>;
    /// The SHA-256 of the file at `path`, whose bytes [`Store::read`] gave as `bytes`.
    fn sha256(&self, _path: &Path, bytes: &[u8]) -> [u8; 32] {
        super::files::hash(bytes)
    }

    /// `path` in a form that is the same for every path naming the same file (symbolic links,
    /// `.` and `..` resolved), to catch a file given twice; `path` itself when it cannot be
    /// resolved.
    fn canonical(&self, path: &Path) -> PathBuf {
        path.to_path_buf()
    }

    /// Whether `path` is an existing directory.
    fn dir_exists(&self, path: &Path) -> bool {
        self.is_dir(path).unwrap_or(false)
    }
    /// Whether `path` is an existing file.
    fn file_exists(&self, path: &Path) -> bool {
        matches!(self.is_dir(path), Ok(false))
    }
}

fn has_ext(path: &Path, exts: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

fn sort_natural(paths: &mut [PathBuf]) {
    paths.sort_by(|a, b| natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
}

/// The file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fs;

impl Store for Fs {
    fn read(&self, path: &Path) -> Result<Cow<'_, [u8]>, Error> {
        std::fs::read(path)
            .map(Cow::Owned)
            .map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })
    }

    fn is_dir(&self, path: &Path) -> Result<bool, Error> {
        std::fs::metadata(path)
            .map(|m| m.is_dir())
            .map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })
    }

    fn list(&self, dir: &Path, exts: &[&str]) -> Result<Vec<PathBuf>, Error> {
        let mut out: Vec<PathBuf> = entries(dir)?
            .into_iter()
            .filter(|(p, is_dir)| !is_dir && has_ext(p, exts))
            .map(|(p, _)| p)
            .collect();
        sort_natural(&mut out);
        Ok(out)
    }

    fn canonical(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
    }

    fn subdirs(&self, dir: &Path) -> Result<Vec<PathBuf>, Error> {
        let mut out: Vec<PathBuf> = entries(dir)?
            .into_iter()
            .filter(|(_, is_dir)| *is_dir)
            .map(|(p, _)| p)
            .collect();
        out.sort();
        Ok(out)
    }
}

/// The entries of `dir` with whether each is a directory. The type comes from the directory
/// listing itself (no `stat` per file, which costs at 30,000 page files); links are followed.
fn entries(dir: &Path) -> Result<Vec<(PathBuf, bool)>, Error> {
    let read_err = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let path = entry.path();
        let is_dir = match entry.file_type() {
            Ok(t) if t.is_symlink() => path.is_dir(),
            Ok(t) => t.is_dir(),
            Err(_) => path.is_dir(),
        };
        out.push((path, is_dir));
    }
    Ok(out)
}

/// The error of an I/O call on `path` while a snapshot is written.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Read { path, source }
}

/// fsyncs every file or directory, 16 at a time (waiting on the disk, not the CPU); the first
/// failure is returned.
fn sync_all(paths: &[PathBuf]) -> Result<(), Error> {
    super::files::parallel_map_on(16, paths, |path| {
        std::fs::File::open(path)
            .and_then(|f| f.sync_all())
            .map_err(io(path))
    })
    .into_iter()
    .collect()
}

/// Files captured in memory (raw API page bodies), addressed as `root/relative/path`.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    root: PathBuf,
    files: BTreeMap<PathBuf, Vec<u8>>,
    /// SHA-256 of the files, once [`Snapshot::digests`] has hashed them for the manifest: the
    /// loaders reading the snapshot then take these instead of hashing every page again.
    sums: std::sync::OnceLock<BTreeMap<PathBuf, [u8; 32]>>,
}

impl Snapshot {
    /// An empty snapshot whose paths start with `root` (a label such as the base URL, shown in
    /// error messages).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            files: BTreeMap::new(),
            sums: std::sync::OnceLock::new(),
        }
    }

    /// The root label.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Adds (or replaces) a file at `relative`.
    pub fn insert(&mut self, relative: impl AsRef<Path>, bytes: Vec<u8>) {
        let path = self.root.join(relative);
        if let Some(sums) = self.sums.get_mut() {
            sums.remove(&path);
        }
        self.files.insert(path, bytes);
    }

    /// `(relative path, bytes)` of every file, sorted by path.
    pub fn files(&self) -> impl Iterator<Item = (&Path, &[u8])> {
        self.files.iter().map(|(p, b)| {
            (
                p.strip_prefix(&self.root).unwrap_or(p.as_path()),
                b.as_slice(),
            )
        })
    }

    /// `(relative path, SHA-256 hex, size)` of every file, sorted by path, hashed on all cores
    /// (once: the hashes are kept for [`Store::sha256`]).
    pub fn digests(&self) -> Vec<(&Path, String, usize)> {
        let sums = self.sums.get_or_init(|| {
            let files: Vec<(&PathBuf, &Vec<u8>)> = self.files.iter().collect();
            super::files::parallel_map(&files, |(path, bytes)| {
                ((*path).clone(), super::files::hash(bytes))
            })
            .into_iter()
            .collect()
        });
        self.files
            .iter()
            .map(|(full, bytes)| {
                let sum = sums
                    .get(full)
                    .copied()
                    .unwrap_or_else(|| super::files::hash(bytes));
                let relative = full.strip_prefix(&self.root).unwrap_or(full);
                (relative, super::files::hex(&sum), bytes.len())
            })
            .collect()
    }

    /// Writes the snapshot to `dir`, whole or not at all: files go to a temporary sibling
    /// directory, are fsynced, and the directory is renamed into place. `dir` must not exist, or
    /// be empty.
    pub fn write_to(&self, dir: &Path) -> Result<(), Error> {
        if dir.exists() {
            let empty = std::fs::read_dir(dir).map_err(io(dir))?.next().is_none();
            if !empty {
                return Err(Error::Inconsistent {
                    path: dir.to_path_buf(),
                    problem: "the output directory exists and is not empty; choose a new one"
                        .to_owned(),
                });
            }
            std::fs::remove_dir(dir).map_err(io(dir))?;
        }
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let name = dir.file_name().map_or_else(
            || "snapshot".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        let prefix = format!(".{name}.partial-");
        remove_abandoned(parent, &prefix);
        let tmp = parent.join(format!("{prefix}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let result = (|| {
            // Written first, then fsynced together: one fsync after each write would wait for
            // the disk a thousand times in a row for a 1M-user listing; fsyncs in flight at
            // once share the file system's journal commits.
            let mut dirs = std::collections::BTreeSet::from([tmp.clone()]);
            let files: Vec<(PathBuf, &[u8])> =
                self.files().map(|(rel, b)| (tmp.join(rel), b)).collect();
            for (path, _) in &files {
                let mut up = path.parent();
                while let Some(d) = up.filter(|d| d.starts_with(&tmp)) {
                    dirs.insert(d.to_path_buf());
                    up = d.parent();
                }
            }
            for d in &dirs {
                std::fs::create_dir_all(d).map_err(io(d))?;
            }
            // On all cores: copying a gigabyte into the page cache is CPU work.
            super::files::parallel_map(&files, |(path, bytes)| {
                std::fs::File::create(path)
                    .and_then(|mut f| f.write_all(bytes))
                    .map_err(io(path))
            })
            .into_iter()
            .collect::<Result<(), Error>>()?;
            // Closed once written (a 1M-user listing is over a thousand files), reopened to
            // fsync.
            let mut written: Vec<PathBuf> = files.into_iter().map(|(p, _)| p).collect();
            // Directories too, so that no entry is lost before the rename publishes them.
            written.extend(dirs);
            sync_all(&written)?;
            std::fs::rename(&tmp, dir).map_err(io(dir))?;
            if let Ok(d) = std::fs::File::open(parent) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result
    }
}

/// Removes the temporary directories that earlier writes of the same target left when they
/// were killed (Ctrl-C, OOM) before their rename: `PREFIX<pid>` whose process is gone and that
/// has not changed for an hour. Only where `/proc` tells which processes live; the age guards
/// against a writer this process cannot see (another PID namespace, a shared volume).
fn remove_abandoned(parent: &Path, prefix: &str) {
    const QUIET: std::time::Duration = std::time::Duration::from_hours(1);
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let quiet = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= QUIET);
        if quiet && pid != std::process::id() && !proc.join(pid.to_string()).exists() {
            tracing::info!(path = %entry.path().display(), "removing an abandoned partial snapshot");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl Store for Snapshot {
    fn sha256(&self, path: &Path, bytes: &[u8]) -> [u8; 32] {
        self.sums
            .get()
            .and_then(|sums| sums.get(path))
            .copied()
            .unwrap_or_else(|| super::files::hash(bytes))
    }

    fn read(&self, path: &Path) -> Result<Cow<'_, [u8]>, Error> {
        self.files
            .get(path)
            .map(|b| Cow::Borrowed(b.as_slice()))
            .ok_or_else(|| Error::Read {
                path: path.to_path_buf(),
                source: std::io::ErrorKind::NotFound.into(),
            })
    }

    fn is_dir(&self, path: &Path) -> Result<bool, Error> {
        if self.files.contains_key(path) {
            return Ok(false);
        }
        if self.files.keys().any(|k| k.starts_with(path)) {
            return Ok(true);
        }
        Err(Error::Read {
            path: path.to_path_buf(),
            source: std::io::ErrorKind::NotFound.into(),
        })
    }

    fn list(&self, dir: &Path, exts: &[&str]) -> Result<Vec<PathBuf>, Error> {
        let mut out: Vec<PathBuf> = self
            .files
            .keys()
            .filter(|k| k.parent() == Some(dir) && has_ext(k, exts))
            .cloned()
            .collect();
        sort_natural(&mut out);
        Ok(out)
    }

    fn subdirs(&self, dir: &Path) -> Result<Vec<PathBuf>, Error> {
        let mut out: Vec<PathBuf> = self
            .files
            .keys()
            .filter_map(|k| {
                let rest = k.strip_prefix(dir).ok()?;
                let mut parts = rest.components();
                let first = parts.next()?;
                parts.next().map(|_| dir.join(first))
            })
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_behaves_like_a_directory_tree() {
        let mut s = Snapshot::new("https://x/scim/v2");
        s.insert("users/start-11.json", b"b".to_vec());
        s.insert("users/start-2.json", b"a".to_vec());
        s.insert("groups/start-1.json", b"g".to_vec());
        s.insert("manifest.json", b"{}".to_vec());
        let root = PathBuf::from("https://x/scim/v2");
        assert!(s.is_dir(&root).unwrap());
        assert!(s.is_dir(&root.join("users")).unwrap());
        assert!(!s.is_dir(&root.join("manifest.json")).unwrap());
        assert!(s.is_dir(&root.join("nope")).is_err());
        let users = s.list(&root.join("users"), &["json"]).unwrap();
        assert_eq!(
            users,
            vec![
                root.join("users/start-2.json"),
                root.join("users/start-11.json")
            ]
        );
        assert_eq!(
            s.subdirs(&root).unwrap(),
            vec![root.join("groups"), root.join("users")]
        );
        assert_eq!(&*s.read(&users[0]).unwrap(), b"a");
    }

    #[test]
    fn snapshot_writes_whole_and_refuses_a_non_empty_target() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = Snapshot::new("label");
        s.insert("users/a.json", b"[]".to_vec());
        s.insert("manifest.json", b"{}".to_vec());
        let out = tmp.path().join("snap");
        s.write_to(&out).unwrap();
        assert_eq!(std::fs::read(out.join("users/a.json")).unwrap(), b"[]");
        let err = s.write_to(&out).unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no partial directory left behind");
    }

    #[test]
    fn a_killed_writers_partial_directory_is_removed_by_the_next_write() {
        let tmp = tempfile::tempdir().unwrap();
        // Above any pid_max: no such process. A live process's directory (ours, pid 1) stays,
        // and so do other targets' and other names.
        let dead = tmp.path().join(".snap.partial-999999999");
        let live = tmp.path().join(".snap.partial-1");
        let other = tmp.path().join(".other.partial-999999999");
        let fresh = tmp.path().join(".snap.partial-999999998");
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_hours(2);
        for d in [&dead, &live, &other, &fresh] {
            std::fs::create_dir_all(d.join("users")).unwrap();
            if d != &fresh {
                std::fs::File::open(d)
                    .unwrap()
                    .set_modified(two_hours_ago)
                    .unwrap();
            }
        }
        let mut s = Snapshot::new("label");
        s.insert("manifest.json", b"{}".to_vec());
        s.write_to(&tmp.path().join("snap")).unwrap();
        assert_eq!(dead.exists(), !Path::new("/proc/self").exists());
        assert!(live.exists() && other.exists());
        assert!(
            fresh.exists(),
            "a recent one may be a writer this process cannot see"
        );
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = Snapshot::new("label");
        for i in 0..40 {
            s.insert(format!("users/deep/start-{i}.json"), vec![b'x'; 10_000]);
        }
        // "users" is both a file and a directory: creating the file fails.
        s.insert("users", b"oops".to_vec());
        let out = tmp.path().join("snap");
        assert!(s.write_to(&out).is_err());
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn loaders_take_the_manifest_hashes_and_a_replaced_file_is_hashed_again() {
        let mut s = Snapshot::new("label");
        s.insert("a.json", b"abc".to_vec());
        let a = Path::new("label/a.json");
        // Before the manifest: hashed on demand.
        assert_eq!(s.sha256(a, b"abc"), super::super::files::hash(b"abc"));
        s.digests();
        // After it: the kept hash, whatever bytes are passed.
        assert_eq!(s.sha256(a, b"other"), super::super::files::hash(b"abc"));
        s.insert("a.json", b"new".to_vec());
        assert_eq!(s.sha256(a, b"new"), super::super::files::hash(b"new"));
        assert_eq!(s.digests()[0].1, super::super::files::sha256_hex(b"new"));
    }

    #[test]
    fn digests_follow_the_files() {
        let mut s = Snapshot::new("label");
        s.insert("b.json", b"abc".to_vec());
        s.insert("a.json", Vec::new());
        let d = s.digests();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].0, Path::new("a.json"));
        assert_eq!(
            d[1].1,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!((d[0].2, d[1].2), (0, 3));
    }
}
