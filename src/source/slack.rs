//! Slack SCIM `/Users` listings: v1 and v2 ListResponse pages, directories of pages, several
//! files, and bare arrays of User resources, told apart by content.
//!
//! The wire types are private; the paging is checked for completeness here (pages must add up to
//! `totalResults` with no gap or overlap in `startIndex`).

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::files::{self, InputDigest};
use super::store::{Fs, Store};
use super::wire::{
    Key, OptBool, OptCow, Seen, non_empty_cow, opt_bool, opt_count, opt_cow, timestamp,
};
use super::{Error, Loaded};
use crate::model::{Email, ScimVersion, SlackListing, SlackUser};
use std::borrow::Cow;

const V2_LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const V1_CORE: &str = "urn:scim:schemas:core:1.0";
const V2_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const EXPECTED: &str =
    "a Slack SCIM /Users listing (v1 or v2 ListResponse pages, or an array of User resources)";

/// One User resource: only the fields the audit reads. Written by hand rather than derived: keys
/// are matched as raw bytes (no UTF-8 check, no allocation) and the emails are normalised as they
/// are read, which is most of the cost of a listing of a million accounts.
#[derive(Default)]
#[allow(clippy::struct_excessive_bools)] // one flag per key seen: no state machine here
struct WireUser<'a> {
    id: Option<Cow<'a, str>>,
    external_id: Option<Cow<'a, str>>,
    user_name: Option<Cow<'a, str>>,
    active: Option<bool>,
    emails: Option<WireEmails>,
    meta: Option<WireMeta<'a>>,
    schemas: SchemaFlags,
    /// A guest extension key (`urn:…:slack:guest:…`).
    guest: bool,
    // Markers of documents of another kind.
    members: bool,
    display_name: bool,
    jc_id: bool,
    email: bool,
}

impl<'de> Deserialize<'de> for WireUser<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WireUser<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SCIM User resource (an object)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireUser<'de>, A::Error> {
                let mut u = WireUser::default();
                // A field given twice is an error (which value holds cannot be known).
                let mut seen = Seen::default();
                while let Some(Key(key)) = map.next_key()? {
                    match &*key {
                        b"id" => {
                            seen.first(0, "id")?;
                            u.id = map.next_value::<OptCow<'de>>()?.0;
                        }
                        b"externalId" => {
                            seen.first(1, "externalId")?;
                            u.external_id = map.next_value::<OptCow<'de>>()?.0;
                        }
                        b"userName" => {
                            seen.first(2, "userName")?;
                            u.user_name = map.next_value::<OptCow<'de>>()?.0;
                        }
                        b"active" => {
                            seen.first(3, "active")?;
                            u.active = map.next_value::<OptBool>()?.0;
                        }
                        b"emails" => {
                            seen.first(4, "emails")?;
                            u.emails = map.next_value()?;
                        }
                        b"meta" => {
                            seen.first(5, "meta")?;
                            u.meta = map.next_value()?;
                        }
                        b"schemas" => {
                            seen.first(6, "schemas")?;
                            u.schemas = map.next_value()?;
                        }
                        other => {
                            match other {
                                b"members" => u.members = true,
                                b"displayName" => u.display_name = true,
                                b"_id" => u.jc_id = true,
                                b"email" => u.email = true,
                                _ => u.guest |= is_guest_urn(other),
                            }
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(u)
            }
        }
        d.deserialize_map(V)
    }
}

/// A resource's `emails`, normalised as read: distinct non-empty addresses in order, and which
/// one is the first marked primary.
#[derive(Default)]
struct WireEmails {
    emails: Vec<Email>,
    primary: Option<usize>,
}

impl<'de> Deserialize<'de> for WireEmails {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WireEmails;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of emails")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<WireEmails, A::Error> {
                let mut out = WireEmails {
                    emails: Vec::with_capacity(2),
                    primary: None,
                };
                while let Some(entry) = seq.next_element::<Option<WireEmail<'de>>>()? {
                    let Some(entry) = entry else { continue };
                    let Some(email) = entry.value.as_deref().and_then(Email::parse) else {
                        continue;
                    };
                    let at = if let Some(at) = out.emails.iter().position(|e| *e == email) {
                        at
                    } else {
                        out.emails.push(email);
                        out.emails.len() - 1
                    };
                    if entry.primary == Some(true) && out.primary.is_none() {
                        out.primary = Some(at);
                    }
                }
                Ok(out)
            }
            fn visit_unit<E>(self) -> Result<WireEmails, E> {
                Ok(WireEmails::default())
            }
        }
        d.deserialize_seq(V)
    }
}

#[derive(Deserialize)]
struct WireEmail<'a> {
    #[serde(default, borrow, deserialize_with = "opt_cow")]
    value: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "opt_bool")]
    primary: Option<bool>,
}

#[derive(Deserialize)]
struct WireMeta<'a> {
    #[serde(default, borrow, deserialize_with = "opt_cow")]
    created: Option<Cow<'a, str>>,
}

/// Whether a key or schema names Slack's guest extension (v1 `urn:scim:schemas:extension:slack:
/// guest:1.0`, v2 `urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User`, and the docs'
/// mixed spelling).
fn is_guest_urn(s: &[u8]) -> bool {
    // Suffixes, not a search: every member's record carries the enterprise extension's key.
    s.starts_with(b"urn:")
        && (s.ends_with(b":slack:guest:1.0") || s.ends_with(b":slack:guest:2.0:User"))
}

/// What a resource's `schemas` say, read without keeping (or allocating) the strings.
#[derive(Clone, Copy, Debug, Default)]
#[allow(clippy::struct_excessive_bools)] // one flag per kind of URN seen
struct SchemaFlags {
    v1: bool,
    v2: bool,
    group: bool,
    guest: bool,
}

impl<'de> Deserialize<'de> for SchemaFlags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name(SchemaFlags);
        impl<'de> Deserialize<'de> for Name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = Name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a schema URN")
                    }
                    fn visit_str<E>(self, s: &str) -> Result<Name, E> {
                        Ok(Name(SchemaFlags {
                            v1: s == V1_CORE,
                            v2: s == V2_USER || s.starts_with("urn:ietf:params:scim:"),
                            group: s.ends_with(":Group"),
                            guest: is_guest_urn(s.as_bytes()),
                        }))
                    }
                    fn visit_unit<E>(self) -> Result<Name, E> {
                        Ok(Name(SchemaFlags::default()))
                    }
                    fn visit_none<E>(self) -> Result<Name, E> {
                        Ok(Name(SchemaFlags::default()))
                    }
                }
                d.deserialize_any(V)
            }
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SchemaFlags;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of schema URNs")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SchemaFlags, A::Error> {
                let mut all = SchemaFlags::default();
                while let Some(Name(one)) = seq.next_element()? {
                    all.v1 |= one.v1;
                    all.v2 |= one.v2;
                    all.group |= one.group;
                    all.guest |= one.guest;
                }
                Ok(all)
            }
            fn visit_unit<E>(self) -> Result<SchemaFlags, E> {
                Ok(SchemaFlags::default())
            }
            fn visit_none<E>(self) -> Result<SchemaFlags, E> {
                Ok(SchemaFlags::default())
            }
        }
        d.deserialize_any(V)
    }
}

impl WireUser<'_> {
    /// A SCIM Group resource: its schemas say so (v2 `…:core:2.0:Group`), or (v1, whose core
    /// schema is shared with users) it has a group's `members` and `displayName` and none of a
    /// user's `userName` and `emails`. A user record with a stray `members` key is still a user.
    fn is_group(&self) -> bool {
        self.schemas.group
            || (self.members
                && self.display_name
                && self.user_name.is_none()
                && self.emails.is_none())
    }

    fn looks_like_jumpcloud(&self) -> bool {
        (self.jc_id || self.email) && self.emails.is_none() && self.user_name.is_none()
    }

    fn version(&self) -> Option<ScimVersion> {
        if self.schemas.v2 {
            Some(ScimVersion::V2)
        } else if self.schemas.v1 {
            Some(ScimVersion::V1)
        } else {
            None
        }
    }

    fn into_user(self, path: &Path, record: impl Fn() -> String) -> Result<SlackUser, Error> {
        let bad = |problem: String| Error::Record {
            path: path.to_path_buf(),
            record: record(),
            problem,
        };
        let id = non_empty_cow(self.id).ok_or_else(|| bad("user has no id".to_owned()))?;
        let WireEmails {
            mut emails,
            primary,
        } = self.emails.unwrap_or_default();
        if let Some(at) = primary {
            emails[..=at].rotate_right(1);
        }
        if emails.is_empty() {
            return Err(bad(format!("user {id} has no email")));
        }
        Ok(SlackUser {
            id,
            external_id: non_empty_cow(self.external_id),
            user_name: non_empty_cow(self.user_name),
            active: self.active.unwrap_or(true),
            emails,
            created: self
                .meta
                .and_then(|m| m.created)
                .as_deref()
                .and_then(timestamp),
            guest: self.guest || self.schemas.guest,
        })
    }
}

/// A top-level document, read in one pass whatever the order of its keys.
enum Doc<'a> {
    Array(Vec<WireUser<'a>>),
    Object(Box<ObjectDoc<'a>>),
}

#[derive(Default)]
struct ObjectDoc<'a> {
    schemas: Option<Vec<Option<String>>>,
    resources: Option<Vec<WireUser<'a>>>,
    total_results: Option<u64>,
    start_index: Option<u64>,
    jumpcloud_keys: bool,
    user_keys: bool,
    manifest_keys: bool,
}

impl<'de> Deserialize<'de> for Doc<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Doc<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SCIM ListResponse object or an array of User resources")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Doc<'de>, A::Error> {
                let mut users = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(u) = seq.next_element()? {
                    users.push(u);
                }
                Ok(Doc::Array(users))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Doc<'de>, A::Error> {
                let mut doc = ObjectDoc::default();
                // Two pages run together (`…"totalResults":46,…,"totalResults":20,…`) must not
                // read as the second one.
                let mut seen = Seen::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match key.as_ref() {
                        "schemas" => {
                            seen.first(0, "schemas")?;
                            doc.schemas = map.next_value()?;
                        }
                        // One field under either spelling (one bit).
                        "Resources" => {
                            seen.first(1, "Resources")?;
                            doc.resources = map.next_value()?;
                        }
                        "resources" => {
                            seen.first(1, "resources")?;
                            doc.resources = map.next_value()?;
                        }
                        "totalResults" => {
                            seen.first(2, "totalResults")?;
                            doc.total_results = map.next_value::<Count>()?.0;
                        }
                        "startIndex" => {
                            seen.first(3, "startIndex")?;
                            doc.start_index = map.next_value::<Count>()?.0;
                        }
                        "itemsPerPage" => {
                            seen.first(4, "itemsPerPage")?;
                            map.next_value::<IgnoredAny>()?;
                        }
                        k => {
                            match k {
                                "totalCount" | "results" => doc.jumpcloud_keys = true,
                                "userName" | "emails" => doc.user_keys = true,
                                "captured_at" | "format" | "base_url" => doc.manifest_keys = true,
                                _ => {}
                            }
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Doc::Object(Box::new(doc)))
            }
        }
        d.deserialize_any(V)
    }
}

struct Count(Option<u64>);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        opt_count(d).map(Count)
    }
}

/// What one file turned out to be.
enum Kind {
    Page(Page),
    Array(Vec<SlackUser>, Option<ScimVersion>),
    /// A `manifest.json` or a `/Groups` listing: skipped inside a directory.
    Other(&'static str),
}

struct Page {
    path: PathBuf,
    start_index: Option<u64>,
    total_results: Option<u64>,
    version: Option<ScimVersion>,
    users: Vec<SlackUser>,
}

fn wrong(path: &Path, found: impl Into<String>) -> Error {
    Error::WrongKind {
        path: path.to_path_buf(),
        expected: EXPECTED,
        found: found.into(),
    }
}

fn convert(
    path: &Path,
    wire: Vec<WireUser<'_>>,
    label: &'static str,
) -> Result<(Vec<SlackUser>, Option<ScimVersion>), Error> {
    let version = wire.iter().find_map(WireUser::version);
    let mut users = Vec::with_capacity(wire.len());
    for (i, w) in wire.into_iter().enumerate() {
        let id = w.id.clone();
        users.push(w.into_user(path, || match &id {
            Some(id) if !id.trim().is_empty() => format!("{label}[{i}] (id {})", id.trim()),
            _ => format!("{label}[{i}]"),
        })?);
    }
    Ok((users, version))
}

/// Whether `wire` are SCIM Groups: every resource is one. Some of each is an error naming the
/// first Group, so that neither kind is passed over unread.
fn are_groups(path: &Path, wire: &[WireUser<'_>], label: &str) -> Result<bool, Error> {
    let Some(first) = wire.iter().position(WireUser::is_group) else {
        return Ok(false);
    };
    match wire.iter().position(|u| !u.is_group()) {
        None => Ok(true),
        Some(user) => Err(Error::Record {
            path: path.to_path_buf(),
            record: match wire[first].id.as_deref().map(str::trim) {
                Some(id) if !id.is_empty() => format!("{label}[{first}] (id {id})"),
                _ => format!("{label}[{first}]"),
            },
            problem: format!(
                "a SCIM Group among User resources (such as {label}[{user}]): neither a /Users nor a /Groups listing"
            ),
        }),
    }
}

fn classify(path: &Path, bytes: &[u8]) -> Result<Kind, Error> {
    if files::is_utf16(bytes) {
        return Err(wrong(path, files::UTF16));
    }
    match files::first_significant_byte(bytes) {
        Some(b'{' | b'[') => {}
        None => return Err(wrong(path, "an empty file")),
        Some(_) => return Err(wrong(path, files::not_json(bytes))),
    }
    let json = files::strip_bom(bytes);
    let doc: Doc<'_> = serde_json::from_slice(json).map_err(|e| Error::json(path, json, e))?;
    match doc {
        Doc::Array(wire) => {
            if wire.iter().any(WireUser::looks_like_jumpcloud) {
                return Err(wrong(path, "a JumpCloud users export"));
            }
            if are_groups(path, &wire, "")? {
                return Ok(Kind::Other("an array of SCIM Groups"));
            }
            let (users, version) = convert(path, wire, "")?;
            Ok(Kind::Array(users, version))
        }
        Doc::Object(doc) => {
            let Some(resources) = doc
                .resources
                .or_else(|| doc.total_results.map(|_| Vec::new()))
            else {
                return Err(if doc.jumpcloud_keys {
                    wrong(path, "a JumpCloud v1 page (totalCount/results)")
                } else if doc.user_keys {
                    wrong(path, "a single SCIM User, not a /Users listing")
                } else if doc.manifest_keys {
                    return Ok(Kind::Other("a manifest"));
                } else {
                    wrong(path, "a JSON object that is not a SCIM ListResponse")
                });
            };
            if are_groups(path, &resources, "Resources")? {
                return Ok(Kind::Other("a SCIM /Groups listing"));
            }
            let list_schemas = doc.schemas.iter().flatten().flatten();
            let mut version = None;
            for s in list_schemas {
                if s == V2_LIST {
                    version = Some(ScimVersion::V2);
                } else if s == V1_CORE {
                    version = Some(ScimVersion::V1);
                }
            }
            let (users, from_resources) = convert(path, resources, "Resources")?;
            Ok(Kind::Page(Page {
                path: path.to_path_buf(),
                start_index: doc.start_index,
                total_results: doc.total_results,
                version: version.or(from_resources),
                users,
            }))
        }
    }
}

/// Parses one SCIM User resource (the body of `GET /Users/{id}` or of a PATCH answer), with the
/// same rules as the listing loader; `label` names it in errors.
pub fn parse_user(label: &Path, bytes: &[u8]) -> Result<SlackUser, Error> {
    let json = files::strip_bom(bytes);
    let wire: WireUser<'_> =
        serde_json::from_slice(json).map_err(|e| Error::json(label, json, e))?;
    wire.into_user(label, || "user".to_owned())
}

/// The files named by the `--slack` arguments, with whether each came from a directory.
fn expand(store: &dyn Store, paths: &[PathBuf]) -> Result<Vec<(PathBuf, bool)>, Error> {
    let mut out = Vec::new();
    for path in paths {
        if store.is_dir(path)? {
            let dir = ["users", "Users"]
                .iter()
                .map(|s| path.join(s))
                .find(|p| store.dir_exists(p))
                .unwrap_or_else(|| path.clone());
            let found = store.list(&dir, &["json"])?;
            if found.is_empty() {
                return Err(wrong(&dir, "a directory without .json files"));
            }
            out.extend(found.into_iter().map(|p| (p, true)));
        } else {
            out.push((path.clone(), false));
        }
    }
    if paths.len() > 1 {
        given_once(store, &out)?;
    }
    Ok(out)
}

/// Checks that no file is named twice (`--slack slack --slack slack/users-start-1.json`, or a
/// directory given twice): read twice, its users would look like a listing that moved while it
/// was paged. Paths are compared in canonical form. Only asked when several `--slack` paths are
/// given: one directory lists each file once.
fn given_once(store: &dyn Store, items: &[(PathBuf, bool)]) -> Result<(), Error> {
    let mut seen: std::collections::HashMap<PathBuf, (&Path, bool)> =
        std::collections::HashMap::with_capacity(items.len());
    for (path, in_dir) in items {
        let Some((first, first_in_dir)) = seen.insert(store.canonical(path), (path, *in_dir))
        else {
            continue;
        };
        let how = match (first_in_dir, *in_dir) {
            (true, true) => ", through two directories",
            (true, false) | (false, true) => ", once through its directory",
            (false, false) => "",
        };
        let also = if first == path {
            String::new()
        } else {
            format!(" (also as {})", first.display())
        };
        return Err(Error::Inconsistent {
            path: path.clone(),
            problem: format!("this file is given twice{how}{also}: its users would be read twice"),
        });
    }
    Ok(())
}

/// Loads every `--slack` path from the file system as one listing and checks its paging.
pub fn load(paths: &[PathBuf]) -> Result<Loaded<SlackListing>, Error> {
    load_from(&Fs, paths)
}

/// Loads every path of `store` as one listing and checks its paging.
pub fn load_from(store: &dyn Store, paths: &[PathBuf]) -> Result<Loaded<SlackListing>, Error> {
    let items = expand(store, paths)?;
    let parsed = files::parallel_map(&items, |(path, _)| {
        let bytes = store.read(path)?;
        let sum = store.sha256(path, &bytes);
        classify(path, &bytes).map(|kind| (kind, sum))
    });
    let mut digest = InputDigest::new(paths);
    let mut pages = Vec::new();
    let mut arrays = Vec::new();
    let mut notices = Vec::new();
    for ((path, in_dir), result) in items.iter().zip(parsed) {
        let (kind, sum) = result?;
        match kind {
            Kind::Page(page) => pages.push(page),
            Kind::Array(users, version) => arrays.push((path.clone(), users, version)),
            Kind::Other(what) if *in_dir => {
                tracing::debug!(path = %path.display(), "skipping {what}");
                continue;
            }
            Kind::Other(what) => return Err(wrong(path, what)),
        }
        digest.add_hashed(path, sum);
    }
    let first_path = || items.first().map_or_else(PathBuf::new, |(p, _)| p.clone());
    if pages.is_empty() && arrays.is_empty() {
        return Err(wrong(&first_path(), "a directory without /Users pages"));
    }
    if !pages.is_empty() && !arrays.is_empty() {
        return Err(Error::Inconsistent {
            path: arrays[0].0.clone(),
            problem: format!(
                "a bare array of users cannot be combined with ListResponse pages such as {}",
                pages[0].path.display()
            ),
        });
    }
    let version = common_version(
        pages
            .iter()
            .map(|p| (&p.path, p.version))
            .chain(arrays.iter().map(|(p, _, v)| (p, *v))),
    )?;
    let (users, total_results, mut problems) = if pages.is_empty() {
        notices.push(
            "the Slack input is a bare array of users: its completeness cannot be checked"
                .to_owned(),
        );
        let users: Vec<SlackUser> = arrays.into_iter().flat_map(|(_, u, _)| u).collect();
        (users, None, Vec::new())
    } else {
        check_pages(pages)
    };
    let users = dedupe(users, &mut problems);
    if users.is_empty() {
        return Err(Error::EmptyListing { path: first_path() });
    }
    Ok(Loaded {
        data: SlackListing {
            users,
            scim_version: version,
            total_results,
        },
        digest,
        problems,
        notices,
    })
}

fn common_version<'a>(
    versions: impl Iterator<Item = (&'a PathBuf, Option<ScimVersion>)>,
) -> Result<Option<ScimVersion>, Error> {
    let mut seen: Option<(&PathBuf, ScimVersion)> = None;
    for (path, v) in versions {
        let Some(v) = v else { continue };
        match seen {
            Some((first, fv)) if fv != v => {
                return Err(Error::Inconsistent {
                    path: path.clone(),
                    problem: format!(
                        "SCIM {} page mixed with SCIM {} page {}",
                        v.as_str(),
                        fv.as_str(),
                        first.display()
                    ),
                });
            }
            Some(_) => {}
            None => seen = Some((path, v)),
        }
    }
    Ok(seen.map(|(_, v)| v))
}

/// Orders the pages by `startIndex` and checks that they tile `1..=totalResults`.
fn check_pages(mut pages: Vec<Page>) -> (Vec<SlackUser>, Option<u64>, Vec<String>) {
    let mut problems = Vec::new();
    let totals: BTreeSet<u64> = pages.iter().filter_map(|p| p.total_results).collect();
    if totals.len() > 1 {
        let list: Vec<String> = totals.iter().map(u64::to_string).collect();
        problems.push(format!(
            "totalResults differs between pages ({}): the listing changed while it was paged",
            list.join(", ")
        ));
    }
    let total = totals.last().copied();
    if total.is_none() {
        problems.push("no page carries totalResults: completeness cannot be checked".to_owned());
    }
    if pages.len() > 1 {
        for p in pages.iter().filter(|p| p.start_index.is_none()) {
            problems.push(format!(
                "{} has no startIndex, so its place in the listing is unknown",
                p.path.display()
            ));
        }
    }
    pages.sort_by_key(|p| p.start_index.unwrap_or(1));
    let mut expected: u64 = 1;
    let mut held: u64 = 0;
    for p in &pages {
        let n = p.users.len() as u64;
        held += n;
        if n == 0 {
            continue;
        }
        let start = p.start_index.unwrap_or(1).max(1);
        if start > expected {
            problems.push(format!(
                "users {expected}–{} missing (the next page, {}, starts at {start})",
                start - 1,
                p.path.display()
            ));
        } else if start < expected {
            problems.push(format!(
                "{} (startIndex {start}) overlaps the page before it (which ends at {})",
                p.path.display(),
                expected - 1
            ));
        }
        expected = expected.max(start.saturating_add(n));
    }
    if let Some(total) = total {
        let last = expected - 1;
        if last < total {
            problems.push(format!(
                "users {}–{total} missing: the pages hold {held} of totalResults {total}",
                last + 1
            ));
        } else if last > total {
            problems.push(format!(
                "the pages reach user {last} but totalResults is {total}: the listing changed while it was paged"
            ));
        }
    }
    let users = pages.into_iter().flat_map(|p| p.users).collect();
    (users, total, problems)
}

/// Drops repeated ids (keeping the first), recording them as a completeness problem: offset
/// paging over a changing roster repeats some users and skips others.
fn dedupe(mut users: Vec<SlackUser>, problems: &mut Vec<String>) -> Vec<SlackUser> {
    let mut keep = vec![true; users.len()];
    for i in files::repeats(users.iter().map(|u| u.id.as_str())) {
        keep[i] = false;
    }
    let repeated: Vec<String> = users
        .iter()
        .zip(&keep)
        .filter(|(_, k)| !**k)
        .map(|(u, _)| u.id.clone())
        .collect();
    if !repeated.is_empty() {
        let mut flags = keep.into_iter();
        users.retain(|_| flags.next().unwrap_or(true));
        problems.push(format!(
            "{} user id(s) appear more than once ({}): the listing changed while it was paged",
            repeated.len(),
            files::first_few(repeated.iter().map(String::as_str))
        ));
    }
    users
}

#[cfg(test)]
mod tests;
