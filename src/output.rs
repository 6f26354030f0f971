//! Output files: reports, plans, exceptions. Owns writing them whole or not at all, through
//! symlinks, and never over an input. Does not render anything (see `render`) and does not
//! write to stdout.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Writes a file whole or not at all: a temporary file beside it, fsynced, then renamed.
pub fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_all_whole(&[(path, bytes)])
}

/// Where writing to `path` lands: symlinks followed, a dangling one included (writing through
/// a link keeps the link and changes what it points at, as a shell's `>` does).
fn target(path: &Path) -> Result<PathBuf, Error> {
    let mut p = path.to_path_buf();
    // Linux's own limit on symlinks followed in one lookup.
    for _ in 0..40 {
        match std::fs::read_link(&p) {
            Ok(link) if link.is_absolute() => p = link,
            Ok(link) => p = p.parent().unwrap_or(Path::new("")).join(link),
            Err(_) => return Ok(p),
        }
    }
    Err(Error::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other("too many levels of symbolic links"),
    })
}

/// What a path names, for telling whether two spellings are one file: the path resolved
/// where it exists, else its resolved directory and its name.
fn identity(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (std::fs::canonicalize(parent), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// Refuses output files that would land on an input, or inside an input directory (a report
/// written among the Slack pages would be read as a page next time).
pub fn refuse_over_inputs<'a>(
    outputs: impl IntoIterator<Item = &'a Path>,
    inputs: impl IntoIterator<Item = &'a Path>,
) -> Result<(), Error> {
    let inputs: Vec<PathBuf> = inputs
        .into_iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    for out in outputs {
        let lands = identity(&target(out)?);
        if let Some(input) = inputs.iter().find(|input| lands.starts_with(input)) {
            return Err(Error::Write {
                path: out.to_path_buf(),
                source: std::io::Error::other(format!(
                    "it would overwrite or land inside the input {}",
                    input.display()
                )),
            });
        }
    }
    Ok(())
}

/// Writes a set of files whole: every one to a temporary file beside it, fsynced, and only when
/// all of them are written, each renamed into place. A failed write leaves none of them (and no
/// temporary file) behind; what would make a rename fail is refused up front, and a rename that
/// fails anyway leaves the ones renamed before it. A symlink is written through; a device or a
/// pipe (`/dev/null`, `/dev/stdout`) is written directly, after the regular files are ready.
pub fn write_all_whole(files: &[(&Path, &[u8])]) -> Result<(), Error> {
    // What would make a rename fail half-way, checked before anything is written. A file
    // named twice is found whatever the spelling (`r.json`, `./r.json`, a symlink).
    let mut targets = Vec::with_capacity(files.len());
    let mut identities = Vec::with_capacity(files.len());
    for (path, _) in files {
        let target = target(path)?;
        let id = identity(&target);
        let problem = if identities.contains(&id) {
            Some("the same file is given twice")
        } else if target.is_dir() {
            Some("it is a directory")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(Error::Write {
                path: path.to_path_buf(),
                source: std::io::Error::other(problem),
            });
        }
        let special = std::fs::metadata(&target).is_ok_and(|m| !m.is_file());
        targets.push((target, special));
        identities.push(id);
    }
    let tmp_of = |path: &Path| {
        let name = path
            .file_name()
            .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
    };
    let mut written = Vec::with_capacity(files.len());
    let mut failure = None;
    let fail = |path: &Path, source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    for ((path, bytes), (target, special)) in files.iter().zip(&targets) {
        if *special {
            continue;
        }
        let tmp = tmp_of(target);
        let result = std::fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()));
        written.push((tmp, target, *path));
        if let Err(source) = result {
            failure = Some(fail(path, source));
            break;
        }
    }
    if failure.is_none() {
        for ((path, bytes), (target, special)) in files.iter().zip(&targets) {
            if !*special {
                continue;
            }
            let result = std::fs::OpenOptions::new()
                .write(true)
                .open(target)
                .and_then(|mut f| f.write_all(bytes).and_then(|()| f.flush()));
            if let Err(source) = result {
                failure = Some(fail(path, source));
                break;
            }
        }
    }
    if failure.is_none() {
        for (tmp, target, path) in &written {
            if let Err(source) = std::fs::rename(tmp, target) {
                failure = Some(fail(path, source));
                break;
            }
        }
    }
    match failure {
        None => Ok(()),
        Some(e) => {
            for (tmp, _, _) in &written {
                let _ = std::fs::remove_file(tmp);
            }
            Err(e)
        }
    }
}
