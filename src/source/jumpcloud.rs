//! JumpCloud inputs: the export bundle directory (DESIGN §2, `reference/jumpcloud.md` §8), a
//! directory of user pages, one users file (v1 page or bare array) and CSV user exports.
//!
//! The wire types are private. ID keys are read under `_id`, `id` and `Id`, and the PowerShell
//! SDK's `PascalCase` names are accepted beside the API's own. v1 page sets are checked against
//! `totalCount`.

mod wire;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use self::wire::{JcDoc, Target, WireApp, WireGraph, WireGroup, WireManifest, WireUser, agreed_id};
pub(super) use self::wire::{RawUser, StatusFields};
use super::files::{self, InputDigest};
use super::store::{Fs, Store};
use super::wire::{first_of, non_empty};
use super::{Error, Loaded, csv_users};
use crate::model::{JcApp, JcGroup, JcUser, JumpCloud};

const EXPECTED: &str =
    "a JumpCloud export (bundle directory, v1 users page, array of users or CSV)";

/// A JSON document of records, with the page's `totalCount` when it is a v1 page.
struct Records<T> {
    total_count: Option<u64>,
    /// A v1 page (`{totalCount, results}`), not a bare array or a CSV file.
    paged: bool,
    items: Vec<T>,
}

fn wrong(path: &Path, found: impl Into<String>) -> Error {
    Error::WrongKind {
        path: path.to_path_buf(),
        expected: EXPECTED,
        found: found.into(),
    }
}

fn parse_json<'b, T: Deserialize<'b>>(path: &Path, bytes: &'b [u8]) -> Result<Records<T>, Error> {
    let json = files::strip_bom(bytes);
    let doc: JcDoc<T> = serde_json::from_slice(json).map_err(|e| Error::json(path, json, e))?;
    match doc {
        JcDoc::Array(items) => Ok(Records {
            total_count: None,
            paged: false,
            items,
        }),
        JcDoc::Page {
            total_count,
            results,
        } => Ok(Records {
            total_count,
            paged: true,
            items: results,
        }),
        JcDoc::Foreign(what) => Err(wrong(path, what)),
    }
}

/// Reads one file of records, recording it in `digest`.
fn read_records<T: for<'de> Deserialize<'de>>(
    store: &dyn Store,
    path: &Path,
    digest: &mut InputDigest,
) -> Result<Records<T>, Error> {
    let bytes = store.read(path)?;
    digest.add_hashed(path, store.sha256(path, &bytes));
    if files::is_utf16(&bytes) {
        return Err(wrong(path, files::UTF16));
    }
    match files::first_significant_byte(&bytes) {
        Some(b'{' | b'[') => parse_json(path, &bytes),
        None => Err(wrong(path, "an empty file")),
        Some(_) => Err(wrong(path, files::not_json(&bytes))),
    }
}

/// Whether `path` ends in `.json`.
fn is_json_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Reads one users file: JSON (v1 page or array) or CSV, by content. `json`: the file must be
/// JSON (it ends in `.json`, or is a page of a bundle's `systemusers/`), so content that is not
/// (an HTML error page saved as a page) is named as such rather than read as a CSV header.
fn read_users_file(
    path: &Path,
    bytes: &[u8],
    json: bool,
) -> Result<(Records<JcUser>, StatusFields), Error> {
    if files::is_utf16(bytes) {
        return Err(wrong(path, files::UTF16));
    }
    match files::first_significant_byte(bytes) {
        None => Err(wrong(path, "an empty file")),
        Some(b) if json && !matches!(b, b'{' | b'[') => Err(wrong(path, files::not_json(bytes))),
        Some(b'{' | b'[') => {
            let records = parse_json::<WireUser<'_>>(path, bytes)?;
            if records
                .items
                .iter()
                .any(|u| u.scim_user_name && u.underscore_id.is_none())
            {
                return Err(wrong(path, "a Slack SCIM user array"));
            }
            if records.items.iter().any(|u| u.sso_url) {
                return Err(wrong(path, "a JumpCloud applications listing"));
            }
            if records.items.iter().any(|u| u.group) {
                return Err(wrong(path, "a JumpCloud user-groups listing"));
            }
            let label = if records.total_count.is_some() {
                "results"
            } else {
                ""
            };
            let mut users = Vec::with_capacity(records.items.len());
            let mut status = StatusFields::default();
            for (i, w) in records.items.into_iter().enumerate() {
                let name = |id: Option<&str>| match id {
                    Some(id) if !id.trim().is_empty() => format!("{label}[{i}] (id {id})"),
                    _ => format!("{label}[{i}]"),
                };
                let first_id = w.underscore_id.clone().or_else(|| w.id.clone());
                let raw = RawUser::from_wire(w).map_err(|problem| Error::Record {
                    path: path.to_path_buf(),
                    record: name(first_id.as_deref()),
                    problem,
                })?;
                status.add(raw.status_fields());
                let id = raw.id.clone();
                users.push(raw.into_user(path, || name(id.as_deref()))?);
            }
            Ok((
                Records {
                    total_count: records.total_count,
                    paged: records.paged,
                    items: users,
                },
                status,
            ))
        }
        Some(_) => {
            let (items, status) = csv_users::parse(path, bytes)?;
            Ok((
                Records {
                    total_count: None,
                    paged: false,
                    items,
                },
                status,
            ))
        }
    }
}

/// Loads `--jumpcloud PATH` from the file system: a bundle directory, a directory of user
/// pages, or one file.
pub fn load(path: &Path) -> Result<Loaded<JumpCloud>, Error> {
    load_from(&Fs, path)
}

/// Loads a bundle, a directory of user pages or one file from `store`.
pub fn load_from(store: &dyn Store, path: &Path) -> Result<Loaded<JumpCloud>, Error> {
    let is_dir = store.is_dir(path)?;
    let mut out = Loaded {
        data: JumpCloud::default(),
        digest: InputDigest::new(&[path.to_path_buf()]),
        problems: Vec::new(),
        notices: Vec::new(),
    };
    let system_users = path.join("systemusers");
    if is_dir && store.dir_exists(&system_users) {
        load_bundle(store, path, &mut out)?;
    } else {
        if is_dir && store.file_exists(&system_users) {
            return Err(wrong(
                &system_users,
                "a file, where a bundle has its systemusers/ folder of pages",
            ));
        }
        if is_dir && store.file_exists(&path.join("manifest.json")) {
            return Err(wrong(
                path,
                "a bundle (it has a manifest.json) without its systemusers/ folder",
            ));
        }
        let files = if is_dir {
            let found = store.list(path, &["json", "csv"])?;
            if found.is_empty() {
                return Err(wrong(
                    path,
                    "a directory without systemusers/ or user files",
                ));
            }
            found
        } else {
            vec![path.to_path_buf()]
        };
        out.data.users = load_user_pages(store, &files, path, false, &mut out)?;
    }
    Ok(out)
}

/// Reads a set of user pages in parallel, checks it against `totalCount` and dedupes by id.
/// `from`: the file, directory or `systemusers/` folder they came from (named when they hold no
/// user); `bundle`: they are a bundle's pages, so JSON whatever their name.
fn load_user_pages(
    store: &dyn Store,
    paths: &[PathBuf],
    from: &Path,
    bundle: bool,
    out: &mut Loaded<JumpCloud>,
) -> Result<Vec<JcUser>, Error> {
    let parsed = files::parallel_map(paths, |path| {
        let bytes = store.read(path)?;
        let sum = store.sha256(path, &bytes);
        read_users_file(path, &bytes, bundle || is_json_name(path)).map(|r| (r, sum))
    });
    let mut pages = Vec::with_capacity(paths.len());
    let mut status = StatusFields::default();
    for (path, result) in paths.iter().zip(parsed) {
        let ((records, fields), sum) = result?;
        out.digest.add_hashed(path, sum);
        status.add(fields);
        pages.push((path.clone(), records));
    }
    // Absent fields read as "not suspended": say so rather than report nobody offboarded.
    if !status.state && !status.suspended {
        out.notices.push(
            "no JumpCloud user carries `state` or `suspended` (an export with `fields` that leave them out?): suspended and staged users cannot be seen, so suspended-but-active is not judged".to_owned(),
        );
    } else if !status.state {
        out.notices
            .push("no JumpCloud user carries `state`: staged users cannot be seen".to_owned());
    }
    if !status.password_expired {
        out.notices.push(
            "no JumpCloud user carries `password_expired`: password-expired users cannot be seen"
                .to_owned(),
        );
    }
    let users = check_v1("systemusers", pages, |u: &JcUser| u.id.as_str(), out);
    if users.is_empty() {
        // Against an empty directory every Slack account would be unknown: never a report.
        return Err(Error::EmptyExport {
            path: from.to_path_buf(),
        });
    }
    Ok(users)
}

/// Checks a v1 page set against `totalCount` and drops repeated ids (keeping the last, as the
/// reference says; repeats that disagree are a problem: the listing changed while it was read).
fn check_v1<T: PartialEq>(
    what: &str,
    pages: Vec<(PathBuf, Records<T>)>,
    id: impl Fn(&T) -> &str,
    out: &mut Loaded<JumpCloud>,
) -> Vec<T> {
    let totals: BTreeSet<u64> = pages.iter().filter_map(|(_, r)| r.total_count).collect();
    if totals.len() > 1 {
        let list: Vec<String> = totals.iter().map(u64::to_string).collect();
        out.problems.push(format!(
            "{what}: totalCount differs between pages ({}): the listing changed while it was exported",
            list.join(", ")
        ));
    }
    if totals.is_empty() && pages.iter().any(|(_, r)| r.paged) {
        out.problems.push(format!(
            "{what}: no page carries totalCount: completeness cannot be checked"
        ));
    } else if !pages.is_empty() && pages.iter().all(|(_, r)| !r.paged) {
        out.notices.push(format!(
            "{what}: a bare array or CSV export: its completeness cannot be checked"
        ));
    }
    let mut all: Vec<T> = pages.into_iter().flat_map(|(_, r)| r.items).collect();
    // Keep the last of each id: the repeats of the reversed list are the earlier records.
    let earlier = files::repeats(all.iter().rev().map(&id));
    if !earlier.is_empty() {
        let mut keep = vec![true; all.len()];
        for back in &earlier {
            keep[all.len() - 1 - back] = false;
        }
        let mut kept: std::collections::HashMap<&str, &T> = std::collections::HashMap::new();
        for (record, _) in all.iter().zip(&keep).filter(|(_, k)| **k) {
            kept.insert(id(record), record);
        }
        let mut ids: BTreeSet<String> = BTreeSet::new();
        let mut differ: BTreeSet<String> = BTreeSet::new();
        for (record, _) in all.iter().zip(&keep).filter(|(_, k)| !**k) {
            ids.insert(id(record).to_owned());
            if kept.get(id(record)).is_some_and(|k| *k != record) {
                differ.insert(id(record).to_owned());
            }
        }
        let named = |set: &BTreeSet<String>| files::first_few(set.iter().map(String::as_str));
        if differ.is_empty() {
            out.notices.push(format!(
                "{what}: {} id(s) appear more than once with the same record ({}); kept one of each",
                ids.len(),
                named(&ids)
            ));
        } else {
            out.problems.push(format!(
                "{what}: {} id(s) appear more than once with different records ({}): the listing changed while it was exported",
                differ.len(),
                named(&differ)
            ));
        }
        let mut flags = keep.into_iter();
        all.retain(|_| flags.next().unwrap_or(false));
    }
    if let Some(&total) = totals.last() {
        let got = all.len() as u64;
        if got < total {
            out.problems.push(format!(
                "{what}: the pages hold {got} of totalCount {total} ({} missing)",
                total - got
            ));
        } else if got > total {
            out.problems.push(format!(
                "{what}: the pages hold {got} records but totalCount is {total}: the listing changed while it was exported"
            ));
        }
    }
    all
}

/// Reads every page of a v2 listing folder (bare arrays, paged until an empty page).
fn read_v2_folder<T: for<'de> Deserialize<'de>>(
    store: &dyn Store,
    dir: &Path,
    what: &str,
    out: &mut Loaded<JumpCloud>,
) -> Result<Vec<(PathBuf, Vec<T>)>, Error> {
    let mut pages = Vec::new();
    // Listed once (a 1M-user bundle has tens of thousands of these folders).
    let (headers, files): (Vec<PathBuf>, Vec<PathBuf>) = store
        .list(dir, &["json", "headers"])?
        .into_iter()
        .partition(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("headers"))
        });
    for path in files {
        let records = read_records::<T>(store, &path, &mut out.digest)?;
        if records.total_count.is_some() {
            return Err(wrong(&path, "a v1 page where a v2 array belongs"));
        }
        pages.push((path, records.items));
    }
    check_total_headers(store, headers, what, &pages, out)?;
    if pages.is_empty() {
        // An export writes at least the closing empty page: no page at all is a listing that
        // was never written, not an empty one.
        out.problems.push(format!(
            "{what}: no page files (an export writes at least the closing empty page): the listing is missing"
        ));
    }
    // v2 lists are paged until an empty page (a short page is not the end), so a full last page
    // means pages are missing; `skip-N` names must also follow on from each other.
    if let Some((_, last)) = pages.last()
        && last.len() >= 100
    {
        out.problems.push(format!(
            "{what}: the last page is full ({} records) and no empty page follows: the listing is truncated",
            last.len()
        ));
    }
    let skips: Option<Vec<usize>> = pages.iter().map(|(p, _)| skip_of(p)).collect();
    if let Some(skips) = skips {
        // A page may come back short (JumpCloud drops null records), so the next page may start
        // anywhere up to a full page later; beyond that, records are missing.
        let mut reach = 0;
        for ((_, items), skip) in pages.iter().zip(skips) {
            if skip > reach {
                out.problems.push(format!(
                    "{what}: records {reach}–{} missing (no page for them before skip-{skip})",
                    skip - 1
                ));
            }
            reach = reach.max(skip.saturating_add(items.len().max(100)));
        }
    }
    Ok(pages)
}

/// Checks a v2 folder against the `x-total-count` of its pages' header dumps
/// (`skip-N.json.headers`, as `fetch` and `curl -D` write them), where there are any: it must
/// not move from page to page and the records may not exceed it or fall short of it (all
/// problems: a shortfall is put down to null records JumpCloud leaves out of its pages, but
/// which records are missing cannot be known).
fn check_total_headers<T>(
    store: &dyn Store,
    headers: Vec<PathBuf>,
    what: &str,
    pages: &[(PathBuf, Vec<T>)],
    out: &mut Loaded<JumpCloud>,
) -> Result<(), Error> {
    let mut totals = Vec::new();
    for path in headers {
        let bytes = store.read(&path)?;
        out.digest.add_hashed(&path, store.sha256(&path, &bytes));
        let text = String::from_utf8_lossy(&bytes);
        // The last one wins: a dump holds one header block per response (redirects, 100s).
        let total = text
            .lines()
            .filter_map(|l| l.split_once(':'))
            .rfind(|(k, _)| k.trim().eq_ignore_ascii_case("x-total-count"))
            .map(|(_, v)| v.trim().parse::<u64>());
        match total {
            None => {}
            Some(Ok(n)) => totals.push((path.clone(), n)),
            Some(Err(_)) => {
                return Err(Error::Record {
                    path: path.clone(),
                    record: "x-total-count".to_owned(),
                    problem: "not a count".to_owned(),
                });
            }
        }
    }
    let Some((first_path, total)) = totals.first() else {
        return Ok(());
    };
    let held: usize = pages.iter().map(|(_, items)| items.len()).sum();
    if let Some((path, moved)) = totals.iter().find(|(_, n)| n != total) {
        out.problems.push(format!(
            "{what}: x-total-count moved while the listing was paged ({total} in {}, {moved} in {})",
            first_path.display(),
            path.display()
        ));
    } else if u64::try_from(held).is_ok_and(|h| h > *total) {
        out.problems.push(format!(
            "{what}: the pages hold {held} records but x-total-count says {total} ({})",
            first_path.display()
        ));
    } else if let Some(missing) = u64::try_from(held)
        .ok()
        .and_then(|h| total.checked_sub(h))
        .filter(|m| *m > 0)
    {
        // A change during paging moves the count; a steady shortfall is what JumpCloud's staff
        // put down to null association records left out of the pages. Which records those are
        // cannot be known: a user missing from a listing looks unentitled, so it is a
        // completeness problem like a missing page.
        out.problems.push(format!(
            "{what}: the pages hold {held} of the {total} records x-total-count counts ({}; {missing} missing): JumpCloud's staff put short pages down to null association records it leaves out, but which records are missing cannot be known",
            first_path.display()
        ));
    }
    Ok(())
}

/// A v2 listing has no sort: an id on two of its pages means it moved while it was paged, so
/// records may also be missing (a problem, as in the live reader).
fn check_v2_repeats<'a>(
    what: &str,
    ids: impl Iterator<Item = &'a str> + Clone,
    out: &mut Loaded<JumpCloud>,
) {
    let later = files::repeats(ids.clone());
    if later.is_empty() {
        return;
    }
    let mut named: BTreeSet<&str> = BTreeSet::new();
    for (i, id) in ids.enumerate() {
        if later.binary_search(&i).is_ok() {
            named.insert(id);
        }
    }
    out.problems.push(format!(
        "{what}: {} id(s) appear more than once ({}): the listing moved while it was exported, so records may also be missing",
        named.len(),
        files::first_few(named.iter().copied())
    ));
}

/// The `N` of a `skip-N.json` page name.
fn skip_of(path: &Path) -> Option<usize> {
    path.file_stem()?
        .to_str()?
        .strip_prefix("skip-")?
        .parse()
        .ok()
}

fn graph_targets(
    store: &dyn Store,
    dir: &Path,
    what: &str,
    default_kind: Target,
    out: &mut Loaded<JumpCloud>,
) -> Result<Vec<(String, Target)>, Error> {
    let mut targets = Vec::new();
    for (path, items) in read_v2_folder::<WireGraph>(store, dir, what, out)? {
        for (i, item) in items.into_iter().enumerate() {
            let bad = |problem: String| Error::Record {
                path: path.clone(),
                record: format!("[{i}]"),
                problem,
            };
            let (id, kind) = item.target().map_err(bad)?;
            let id = id.ok_or_else(|| {
                bad("graph record has no target id (to.id, ToId or id)".to_owned())
            })?;
            targets.push((id, kind.unwrap_or(default_kind)));
        }
    }
    check_v2_repeats(what, targets.iter().map(|(id, _)| id.as_str()), out);
    Ok(targets)
}

/// Reads the v1 applications pages of `dir`, checked against `totalCount`.
fn load_applications(
    store: &dyn Store,
    dir: &Path,
    out: &mut Loaded<JumpCloud>,
) -> Result<Vec<JcApp>, Error> {
    let mut pages = Vec::new();
    for path in store.list(dir, &["json"])? {
        let records = read_records::<WireApp>(store, &path, &mut out.digest)?;
        let mut apps = Vec::with_capacity(records.items.len());
        for (i, w) in records.items.into_iter().enumerate() {
            let sp_url = w.sp_url();
            let bad = |problem: String| Error::Record {
                path: path.clone(),
                record: format!("results[{i}]"),
                problem,
            };
            // Ids that disagree would leave which application is the Slack connector a guess.
            let id = agreed_id("`_id`, `id` and `Id`", [w.underscore_id, w.id, w.pascal_id])
                .map_err(bad)?
                .ok_or_else(|| bad("application has no _id/id/Id".to_owned()))?;
            apps.push(JcApp {
                id,
                name: non_empty(w.name),
                display_name: non_empty(w.display_name),
                display_label: non_empty(w.display_label),
                sp_url,
            });
        }
        pages.push((
            path,
            Records {
                total_count: records.total_count,
                paged: records.paged,
                items: apps,
            },
        ));
    }
    Ok(check_v1(
        "applications",
        pages,
        |a: &JcApp| a.id.as_str(),
        out,
    ))
}

/// The applications listing of a bundle folder (for `fetch jumpcloud`, which needs to know the
/// Slack connectors before it fetches their users).
pub fn applications_from(
    store: &dyn Store,
    dir: &Path,
) -> Result<(Vec<JcApp>, Vec<String>), Error> {
    let mut out = Loaded {
        data: JumpCloud::default(),
        digest: InputDigest::new(&[dir.to_path_buf()]),
        problems: Vec::new(),
        notices: Vec::new(),
    };
    let apps = load_applications(store, dir, &mut out)?;
    Ok((apps, out.problems))
}

fn load_bundle(store: &dyn Store, root: &Path, out: &mut Loaded<JumpCloud>) -> Result<(), Error> {
    let manifest = root.join("manifest.json");
    if store.file_exists(&manifest) {
        let bytes = store.read(&manifest)?;
        out.digest
            .add_hashed(&manifest, store.sha256(&manifest, &bytes));
        let json = files::strip_bom(&bytes);
        // A derived struct would also read an array (`[["id"]]`) as its fields.
        let found = match files::first_significant_byte(json) {
            Some(b'{') => None,
            _ if files::is_utf16(json) => Some(files::UTF16.to_owned()),
            Some(b'[') => Some("a JSON array".to_owned()),
            None => Some("an empty file".to_owned()),
            Some(_) => Some(files::not_json(json)),
        };
        if let Some(found) = found {
            return Err(Error::WrongKind {
                path: manifest,
                expected: "a bundle manifest (a JSON object)",
                found,
            });
        }
        let m: WireManifest =
            serde_json::from_slice(json).map_err(|e| Error::json(&manifest, json, e))?;
        let ids = m
            .slack_app_ids
            .map(|ids| {
                ids.into_iter()
                    .enumerate()
                    .map(|(i, id)| match id.trim() {
                        // As in the config: a blank id would drop every entitlement finding.
                        "" => Err(Error::Record {
                            path: manifest.clone(),
                            record: format!("slack_app_ids[{i}]"),
                            problem: "blank application id".to_owned(),
                        }),
                        id => Ok(id.to_owned()),
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        out.data.manifest_slack_app_ids = ids;
    }

    let users_dir = root.join("systemusers");
    let user_files = store.list(&users_dir, &["json"])?;
    if user_files.is_empty() {
        // No users is never a report (every Slack account would look unknown).
        return Err(Error::NoUserPages { path: users_dir });
    }
    out.data.users = load_user_pages(store, &user_files, &users_dir, true, out)?;

    let apps_dir = root.join("applications");
    if store.dir_exists(&apps_dir) {
        out.data.applications = load_applications(store, &apps_dir, out)?;
        for sub in store.subdirs(&apps_dir)? {
            let users_dir = sub.join("users");
            if !store.dir_exists(&users_dir) {
                continue;
            }
            let app_id = sub
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let what = format!("applications/{app_id}/users");
            let users = graph_targets(store, &users_dir, &what, Target::User, out)?
                .into_iter()
                .filter(|(_, kind)| *kind == Target::User)
                .map(|(id, _)| id)
                .collect();
            out.data.app_users.insert(app_id, users);
        }
        // A Slack connector missing from the listing would leave the users assigned to it
        // directly looking unentitled. Only when there is a listing: an export may carry the
        // connectors' users alone, with the manifest naming them.
        if !store.list(&apps_dir, &["json"])?.is_empty() {
            let folders: Vec<String> = out.data.app_users.keys().cloned().collect();
            let apps = &out.data.applications;
            if let Some(problem) = unlisted_folders("applications", "application", folders, |id| {
                apps.iter().any(|a| a.id == id)
            }) {
                out.problems.push(problem);
            }
        }
    }

    let groups_dir = root.join("usergroups");
    if store.dir_exists(&groups_dir) {
        out.data.groups = Some(load_groups(store, &groups_dir, out)?);
    }
    Ok(())
}

/// The completeness problem of `<listing>/<id>/` folders whose id the listing lacks: a record
/// lost from the listing (each would have been read as that record's).
fn unlisted_folders(
    listing: &str,
    kind: &str,
    folders: Vec<String>,
    listed: impl Fn(&str) -> bool,
) -> Option<String> {
    let unlisted: Vec<String> = folders.into_iter().filter(|id| !listed(id)).collect();
    (!unlisted.is_empty()).then(|| {
        format!(
            "{listing}: {} {kind} folder(s) are not in the {listing} listing ({}): the listing is incomplete",
            unlisted.len(),
            files::first_few(unlisted.iter().map(String::as_str))
        )
    })
}

fn load_groups(
    store: &dyn Store,
    dir: &Path,
    out: &mut Loaded<JumpCloud>,
) -> Result<Vec<JcGroup>, Error> {
    let mut groups: BTreeMap<String, JcGroup> = BTreeMap::new();
    let mut listed: Vec<String> = Vec::new();
    for (path, items) in read_v2_folder::<WireGroup>(store, dir, "usergroups", out)? {
        for (i, w) in items.into_iter().enumerate() {
            let bad = |problem: String| Error::Record {
                path: path.clone(),
                record: format!("[{i}]"),
                problem,
            };
            let id = agreed_id("`id`, `_id` and `Id`", [w.id, w.underscore_id, w.pascal_id])
                .map_err(bad)?
                .ok_or_else(|| bad("group has no id".to_owned()))?;
            // The id names the group's folder: `..` or a `/` would read another group's (or
            // any) folder as this group's members.
            if id == "." || id == ".." || id.contains(['/', '\\']) {
                return Err(bad(format!(
                    "group id `{}` cannot name its folder (usergroups/<id>/)",
                    crate::render::visible(&id)
                )));
            }
            listed.push(id.clone());
            groups.insert(
                id.clone(),
                JcGroup {
                    id,
                    name: first_of([w.name, w.pascal_name]),
                    ..JcGroup::default()
                },
            );
        }
    }
    check_v2_repeats("usergroups", listed.iter().map(String::as_str), out);
    drop(listed);
    // v2 listings carry no count, but a group folder the listing lacks shows a record lost
    // from it: that group's members would look unentitled.
    let folders: Vec<String> = store
        .subdirs(dir)?
        .iter()
        .filter(|sub| {
            store.dir_exists(&sub.join("members"))
                || store.dir_exists(&sub.join("associations.application"))
        })
        .filter_map(|sub| sub.file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    if let Some(problem) =
        unlisted_folders("usergroups", "group", folders, |id| groups.contains_key(id))
    {
        out.problems.push(problem);
    }
    // Each group's folders are independent: read them on all cores.
    let ids: Vec<String> = groups.keys().cloned().collect();
    let template = Loaded {
        data: JumpCloud::default(),
        digest: out.digest.scratch(),
        problems: Vec::new(),
        notices: Vec::new(),
    };
    let parts = files::parallel_map(&ids, |id| {
        let mut scratch = Loaded {
            data: JumpCloud::default(),
            digest: template.digest.scratch(),
            problems: Vec::new(),
            notices: Vec::new(),
        };
        let gdir = dir.join(id);
        let members = gdir.join("members");
        let member_targets = if store.dir_exists(&members) {
            let what = format!("usergroups/{id}/members");
            Some(graph_targets(
                store,
                &members,
                &what,
                Target::User,
                &mut scratch,
            )?)
        } else {
            None
        };
        let bindings = gdir.join("associations.application");
        let binding_targets = if store.dir_exists(&bindings) {
            let what = format!("usergroups/{id}/associations.application");
            Some(graph_targets(
                store,
                &bindings,
                &what,
                Target::Application,
                &mut scratch,
            )?)
        } else {
            None
        };
        Ok::<_, Error>((member_targets, binding_targets, scratch))
    });
    let mut missing_members = Vec::new();
    let mut missing_bindings = Vec::new();
    for (id, part) in ids.iter().zip(parts) {
        let (member_targets, binding_targets, scratch) = part?;
        out.digest.absorb(scratch.digest);
        out.notices.extend(scratch.notices);
        out.problems.extend(scratch.problems);
        let group = groups.get_mut(id).expect("listed above");
        match member_targets {
            Some(targets) => {
                for (target, kind) in targets {
                    match kind {
                        Target::User => group.member_user_ids.push(target),
                        Target::UserGroup => group.member_group_ids.push(target),
                        Target::Application | Target::Other => {}
                    }
                }
            }
            None => missing_members.push(id.clone()),
        }
        match binding_targets {
            Some(targets) => {
                group.application_ids = targets
                    .into_iter()
                    .filter(|(_, kind)| *kind == Target::Application)
                    .map(|(target, _)| target)
                    .collect();
            }
            None => missing_bindings.push(id.clone()),
        }
    }
    for (list, folder) in [
        (missing_members, "members"),
        (missing_bindings, "associations.application"),
    ] {
        if !list.is_empty() {
            out.problems.push(format!(
                "usergroups: {} group(s) have no {folder}/ folder ({})",
                list.len(),
                files::first_few(list.iter().map(String::as_str))
            ));
        }
    }
    // A nested group the listing does not hold would count as empty: members would look
    // unentitled.
    let unknown: BTreeSet<&str> = groups
        .values()
        .flat_map(|g| &g.member_group_ids)
        .map(String::as_str)
        .filter(|id| !groups.contains_key(*id))
        .collect();
    if !unknown.is_empty() {
        out.problems.push(format!(
            "usergroups: {} nested group(s) are members of a group but not in the usergroups listing ({}): the listing is incomplete",
            unknown.len(),
            files::first_few(unknown.iter().copied())
        ));
    }
    Ok(groups.into_values().collect())
}

#[cfg(test)]
mod tests;
