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

/// Files captured in memory (raw API page bodies), addressed as `root/relative/path`.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    root: PathBuf,
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl Snapshot {
    /// An empty snapshot whose paths start with `root` (a label such as the base URL, shown in
    /// error messages).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            files: BTreeMap::new(),
        }
    }

    /// The root label.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Adds (or replaces) a file at `relative`.
    pub fn insert(&mut self, relative: impl AsRef<Path>, bytes: Vec<u8>) {
        self.files.insert(self.root.join(relative), bytes);
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

    /// Writes the snapshot to `dir`, whole or not at all: files go to a temporary sibling
    /// directory, are fsynced, and the directory is renamed into place. `dir` must not exist, or
    /// be empty.
    pub fn write_to(&self, dir: &Path) -> Result<(), Error> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Read { path, source }
        };
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
        let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let result = (|| {
            for (rel, bytes) in self.files() {
                let path = tmp.join(rel);
                if let Some(p) = path.parent() {
                    std::fs::create_dir_all(p).map_err(io(p))?;
                }
                let mut f = std::fs::File::create(&path).map_err(io(&path))?;
                f.write_all(bytes).map_err(io(&path))?;
                f.sync_all().map_err(io(&path))?;
            }
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

impl Store for Snapshot {
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
}
