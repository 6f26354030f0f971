//! Output files: reports, plans, exceptions. Owns writing them whole or not at all, through
//! symlinks, and never over an input. Does not render anything (see `render`) and does not
//! write to stdout.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use crate::error::Error;

/// Writes a file whole or not at all: a temporary file beside it, fsynced, then renamed.
pub fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_all_whole(&[(path, bytes)])
}

/// Where writing to a path lands.
#[derive(Debug)]
enum Target {
    /// A regular file, existing or not: symlinks followed, a dangling one included (writing
    /// through a link keeps the link and changes what it points at, as a shell's `>` does).
    File(PathBuf),
    /// A device, a pipe, or an open descriptor (`/dev/stdout`, `/proc/self/fd/1`): written to
    /// as it is, never replaced. Its bytes go where the descriptor points (a pipe, or the file
    /// behind a `>>` redirection, appended).
    Special,
}

/// A descriptor path: the kernel resolves it to whatever the descriptor is open on, which a
/// path lookup cannot reproduce (`pipe:[123]`).
fn is_descriptor(p: &Path) -> bool {
    p.starts_with("/proc") || p.starts_with("/dev/fd") || p.starts_with("/dev/std")
}

fn target(path: &Path) -> Result<Target, Error> {
    let mut p = path.to_path_buf();
    // Linux's own limit on symlinks followed in one lookup.
    for _ in 0..40 {
        if is_descriptor(&p) {
            return Ok(Target::Special);
        }
        match std::fs::read_link(&p) {
            Ok(link) if link.is_absolute() => p = link,
            Ok(link) => p = p.parent().unwrap_or(Path::new("")).join(link),
            Err(_) => {
                let special = std::fs::metadata(&p).is_ok_and(|m| !m.is_file() && !m.is_dir());
                return Ok(if special {
                    Target::Special
                } else {
                    Target::File(p)
                });
            }
        }
    }
    Err(Error::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other("too many levels of symbolic links"),
    })
}

/// An absolute spelling of `path` for comparisons: its deepest existing ancestor resolved, the
/// rest (which does not exist yet) appended as written, `.` and `..` applied.
fn resolved(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let parts: Vec<Component<'_>> = absolute.components().collect();
    for split in (1..=parts.len()).rev() {
        let Ok(mut out) = std::fs::canonicalize(parts[..split].iter().collect::<PathBuf>()) else {
            continue;
        };
        for part in &parts[split..] {
            match part {
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                other => out.push(other),
            }
        }
        return out;
    }
    absolute
}

/// Refuses output files that would land on an input, or inside an input directory (a report
/// written among the Slack pages would be read as a page next time, one over a journal would
/// end its record). Inputs that do not exist yet (a `--save` directory) count too.
pub fn refuse_over_inputs<'a>(
    outputs: impl IntoIterator<Item = &'a Path>,
    inputs: impl IntoIterator<Item = &'a Path>,
) -> Result<(), Error> {
    let inputs: Vec<PathBuf> = inputs.into_iter().map(resolved).collect();
    for out in outputs {
        let Target::File(lands) = target(out)? else {
            continue;
        };
        let lands = resolved(&lands);
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
/// fails anyway leaves the ones renamed before it. A symlink is written through; a device, a
/// pipe or a descriptor (`/dev/null`, `/dev/stdout`) is opened first (a pipe without a reader
/// waits for one, as with a shell's `>`, before any temporary file exists) and written to
/// after the regular files are ready.
pub fn write_all_whole(files: &[(&Path, &[u8])]) -> Result<(), Error> {
    let fail = |path: &Path, source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    // What would make a rename fail half-way, checked before anything is written. A file
    // named twice is found whatever the spelling (`r.json`, `./r.json`, a symlink).
    let mut regular = Vec::with_capacity(files.len());
    let mut special = Vec::new();
    let mut identities = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        let (id, target) = match target(path)? {
            Target::File(target) => (resolved(&target), Some(target)),
            Target::Special => (resolved(path), None),
        };
        let problem = if identities.contains(&id) {
            Some("the same file is given twice")
        } else if target.as_ref().is_some_and(|t| t.is_dir()) {
            Some("it is a directory")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(fail(path, std::io::Error::other(problem)));
        }
        identities.push(id);
        match target {
            Some(target) => regular.push((*path, *bytes, target)),
            None => special.push((*path, *bytes)),
        }
    }
    let mut opened = Vec::with_capacity(special.len());
    for (path, bytes) in special {
        let sink: Box<dyn Write> = match path.to_str() {
            // Our own descriptors, written as they are (a `>>` file stays appended to).
            Some("/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1") => Box::new(std::io::stdout()),
            Some("/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2") => Box::new(std::io::stderr()),
            // Opening a descriptor path opens its file anew at offset 0: append instead.
            _ => Box::new(
                std::fs::OpenOptions::new()
                    .append(true)
                    .open(path)
                    .map_err(|source| fail(path, source))?,
            ),
        };
        opened.push((path, bytes, sink));
    }
    let tmp_of = |path: &Path| {
        let name = path
            .file_name()
            .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
    };
    let mut written = Vec::with_capacity(regular.len());
    let mut failure = None;
    for (path, bytes, target) in &regular {
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
        for (path, bytes, sink) in &mut opened {
            if let Err(source) = sink.write_all(bytes).and_then(|()| sink.flush()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_spells_paths_that_do_not_exist_yet() {
        let tmp = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(tmp.path()).unwrap();
        assert_eq!(
            resolved(&tmp.path().join("new/a/../b/./r.json")),
            real.join("new/b/r.json")
        );
        assert_eq!(resolved(tmp.path()), real);
        assert!(
            resolved(&tmp.path().join("new/slack/r.json"))
                .starts_with(resolved(&tmp.path().join("new")))
        );
    }

    #[test]
    fn descriptors_are_special() {
        assert!(matches!(
            target(Path::new("/dev/stdout")).unwrap(),
            Target::Special
        ));
        assert!(matches!(
            target(Path::new("/dev/null")).unwrap(),
            Target::Special
        ));
        assert!(matches!(
            target(Path::new("/proc/self/fd/1")).unwrap(),
            Target::Special
        ));
        assert!(matches!(
            target(Path::new("r.json")).unwrap(),
            Target::File(_)
        ));
    }
}
