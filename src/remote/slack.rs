//! Fetching Slack SCIM `/Users` (and `/Groups`) into a snapshot of raw page bodies.
//!
//! The first page gives `totalResults` and the page size; the other pages are fetched
//! concurrently. A listing that moves while it is paged (totalResults changes, ids repeat, pages
//! leave gaps, a page answers for another `startIndex`) is read again, and if it never holds
//! still nothing is saved. A `totalResults` above [`MAX_TOTAL_RESULTS`] is refused at once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::ProgressBar;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::{Client, Error};
use crate::model::ScimVersion;
use crate::source::Snapshot;
use crate::source::wire::Key;

/// The most accounts a listing may claim in `totalResults`: far above any Slack org (the largest
/// Enterprise Grid orgs hold a few hundred thousand), so a claim beyond it is a broken or
/// hostile server, refused before a page plan is made for it.
pub const MAX_TOTAL_RESULTS: u64 = 10_000_000;

/// What `fetch` needs beyond the client.
#[derive(Clone, Debug)]
pub struct SlackFetch {
    /// SCIM version of the base URL.
    pub version: ScimVersion,
    /// `count` per page (Slack caps it at 1000).
    pub page_size: u32,
    /// Pages in flight at once.
    pub concurrency: usize,
    /// Whole re-reads allowed when the listing moves.
    pub max_rereads: u32,
    /// Also save `/Groups`.
    pub groups: bool,
}

/// A page's envelope and the ids on it: what the check needs, read without building the rest.
/// Every value is still parsed, so a broken page is refused; keys are compared as raw bytes and
/// not checked as UTF-8 (a mangled key is an unknown key, skipped, as the loader does too).
struct Head {
    total_results: Option<u64>,
    start_index: Option<u64>,
    ids: Vec<Option<String>>,
}

impl<'de> Deserialize<'de> for Head {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Head;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SCIM list response")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
                let (mut total, mut start, mut ids) = (None, None, None);
                while let Some(Key(key)) = map.next_key()? {
                    match &*key {
                        b"totalResults" => once(&mut total, "totalResults", map.next_value()?)?,
                        b"startIndex" => once(&mut start, "startIndex", map.next_value()?)?,
                        b"Resources" => {
                            let page: Vec<IdOnly> = map.next_value()?;
                            once(
                                &mut ids,
                                "Resources",
                                page.into_iter().map(|r| r.0).collect(),
                            )?;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Head {
                    total_results: total.flatten(),
                    start_index: start.flatten(),
                    ids: ids.unwrap_or_default(),
                })
            }
        }
        d.deserialize_map(V)
    }
}

/// Sets `slot` unless the key was already seen (a repeated key makes the page ambiguous).
fn once<T, E: de::Error>(slot: &mut Option<T>, key: &'static str, v: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(key));
    }
    *slot = Some(v);
    Ok(())
}

/// A resource's `id` (a string or null); the rest of the resource is skipped.
struct IdOnly(Option<String>);

impl<'de> Deserialize<'de> for IdOnly {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IdOnly;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SCIM resource")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IdOnly, A::Error> {
                let mut id = None;
                while let Some(Key(key)) = map.next_key()? {
                    if &*key == b"id" {
                        once(&mut id, "id", map.next_value::<Option<String>>()?)?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(IdOnly(id.flatten()))
            }
        }
        d.deserialize_map(V)
    }
}

struct Page {
    start: u64,
    body: Vec<u8>,
    total: Option<u64>,
    /// The `startIndex` the page says it starts at.
    echo: Option<u64>,
    /// The listing and `count` it was asked with (to name the request).
    resource: &'static str,
    count: u32,
    /// Resources on the page (with or without an id).
    held: usize,
    /// The page's ids until [`Seen::take`] moves them into the read's set.
    ids: Vec<Option<String>>,
}

/// A fingerprint of every id of one read of a listing. Pages are added as they are checked
/// (most on the blocking threads, while later pages are still in flight) instead of in one pass
/// over a million ids after the last page. A fingerprint seen twice only marks the read as
/// suspect: [`moved`] then compares the ids themselves, so a hash collision cannot pass for a
/// repeat.
struct Seen(std::sync::Mutex<(crate::model::FastSet<u64>, bool)>);

impl Seen {
    /// Room for `n` ids to start with (the set grows beyond it).
    fn with_capacity(n: usize) -> Self {
        Self(std::sync::Mutex::new((crate::model::fast_set(n), false)))
    }

    /// Hashes the page's ids into the set and frees them (on this thread, which allocated them).
    fn take(&self, page: &mut Page) {
        use std::hash::BuildHasher;
        // A fixed seed: every thread must give an id the same fingerprint.
        let hasher = foldhash::fast::FixedState::with_seed(0x1d5);
        let ids = std::mem::take(&mut page.ids);
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (set, suspect) = &mut *guard;
        for id in ids.iter().flatten() {
            *suspect |= !set.insert(hasher.hash_one(id.as_str()));
        }
    }

    fn suspect(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .1
    }
}

/// What the pages of one read share while they are in flight: their ids, and whether the
/// requests not sent yet should stay unsent because the read already ends early (a page came back
/// empty or short of a full page before `totalResults`), or cannot be used (a page answered for
/// another `startIndex`, or could not be parsed). A server claiming far more than it holds then
/// costs a few requests, not one per claimed page.
struct Attempt {
    seen: Seen,
    total: u64,
    /// Resources on the first page: a full page.
    stride: u64,
    stop: AtomicBool,
}

impl Attempt {
    /// Takes the page's ids into the read's set, and stops the read's requests not sent yet when
    /// the page says the read cannot go on as planned.
    fn take(&self, page: &mut Page) {
        self.seen.take(page);
        let held = page.held as u64;
        let short = held < self.stride && page.start.saturating_add(held) <= self.total;
        if held == 0 || short || wrong_start(page, true).is_some() {
            self.stop();
        }
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Why a page cannot be placed in the listing, or `None`: its `startIndex` is not the one asked
/// for (or, in a listing of several pages, missing). The loader places pages by the `startIndex`
/// they carry, so such a page would be saved as an overlap or a gap that `audit` refuses.
fn wrong_start(page: &Page, several_pages: bool) -> Option<String> {
    let asked = || page_path_of(page);
    match page.echo {
        Some(echo) if echo == page.start => None,
        None if !several_pages => None,
        Some(echo) => Some(format!(
            "GET {} was answered with startIndex {echo}",
            asked()
        )),
        None => Some(format!("GET {} was answered without a startIndex", asked())),
    }
}

/// Why a read of a listing cannot be used because it moved while it was paged, or `None`. The
/// pages are gone through in order, and the first problem found is named: `totalResults`
/// moving, an id on two pages, then the pages not adding up to `totalResults`. Ids are only
/// compared when `seen` found a repeated fingerprint: they are then read again from the kept
/// bodies (at 1M users, a second parse of 1 GB, on the rare read that has a real repeat).
fn moved(
    pages: &BTreeMap<u64, Page>,
    total: u64,
    seen: &Seen,
    resource: &str,
    count: u32,
) -> Result<Option<String>, Error> {
    let held: usize = pages.values().map(|p| p.held).sum();
    let heads = if seen.suspect() {
        pages
            .values()
            .map(|page| parse_head(resource, page.start, count, &page.body))
            .collect::<Result<Vec<Head>, Error>>()?
    } else {
        Vec::new()
    };
    let mut ids: crate::model::FastSet<&str> =
        crate::model::fast_set(if heads.is_empty() { 0 } else { held });
    for (i, page) in pages.values().enumerate() {
        if let Some(now) = page.total
            && now != total
        {
            return Ok(Some(format!("totalResults moved from {total} to {now}")));
        }
        for id in heads.get(i).map(|h| h.ids.as_slice()).unwrap_or_default() {
            if let Some(id) = id
                && !ids.insert(id.as_str())
            {
                return Ok(Some(format!("user {id} appeared on two pages")));
            }
        }
    }
    if held as u64 != total {
        return Ok(Some(format!(
            "the pages hold {held} resources but totalResults is {total}"
        )));
    }
    Ok(None)
}

async fn get_page(
    client: Client,
    resource: &'static str,
    start: u64,
    count: u32,
) -> Result<Page, Error> {
    let body = get_body(&client, resource, start, count).await?;
    join(spawn_check(resource, start, count, body, None)).await
}

/// Checks a page on a blocking thread: a 1,000-user page is milliseconds of CPU, which on the
/// runtime's threads would hold up the other requests in flight. With `attempt`, its ids go
/// there (and a page that cannot be parsed stops the attempt's requests not sent yet).
fn spawn_check(
    resource: &'static str,
    start: u64,
    count: u32,
    body: Vec<u8>,
    attempt: Option<Arc<Attempt>>,
) -> tokio::task::JoinHandle<Result<Page, Error>> {
    tokio::task::spawn_blocking(move || {
        let checked = check_page(resource, start, count, body);
        match (checked, attempt) {
            (Ok(mut page), Some(attempt)) => {
                attempt.take(&mut page);
                Ok(page)
            }
            (Err(e), Some(attempt)) => {
                attempt.stop();
                Err(e)
            }
            (checked, None) => checked,
        }
    })
}

async fn join(checking: tokio::task::JoinHandle<Result<Page, Error>>) -> Result<Page, Error> {
    checking
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

fn page_path(resource: &str, start: u64, count: u32) -> String {
    format!("/{resource}?startIndex={start}&count={count}")
}

/// The request that brought `page`.
fn page_path_of(page: &Page) -> String {
    page_path(page.resource, page.start, page.count)
}

async fn get_body(
    client: &Client,
    resource: &'static str,
    start: u64,
    count: u32,
) -> Result<Vec<u8>, Error> {
    client.get(&page_path(resource, start, count)).await
}

/// A page's envelope and ids, or the error naming the request that brought the page. A body
/// that is not JSON at all (a proxy's HTML page answered with 200) is named by what it starts
/// with, as the file loader names such a file, instead of by `serde_json`'s first column.
fn parse_head(resource: &str, start: u64, count: u32, body: &[u8]) -> Result<Head, Error> {
    serde_json::from_slice(body).map_err(|source| Error::Body {
        service: "Slack SCIM",
        path: page_path(resource, start, count),
        source: not_json(body).map_or(source, <serde_json::Error as de::Error>::custom),
    })
}

/// What a body that must be a JSON page holds instead, worded as the file loader words a file
/// ("not a JSON page: it starts with" and its first characters, an HTML error page, say), or
/// `None` when it starts as JSON does (its error is then `serde_json`'s own).
fn not_json(body: &[u8]) -> Option<String> {
    let head = body
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(body)
        .trim_ascii_start();
    match head.first() {
        Some(b'{' | b'[') => None,
        None => Some("an empty body, not a JSON page".to_owned()),
        Some(_) => Some(crate::source::not_json(body)),
    }
}

/// Parses a page's envelope and ids (the body itself is kept as it came).
fn check_page(
    resource: &'static str,
    start: u64,
    count: u32,
    body: Vec<u8>,
) -> Result<Page, Error> {
    let head = parse_head(resource, start, count, &body)?;
    Ok(Page {
        start,
        resource,
        count,
        echo: head.start_index,
        total: head.total_results,
        held: head.ids.len(),
        ids: head.ids,
        body,
    })
}

/// Reads a whole listing once; `Err(problem)` when it moved while being paged.
async fn read_once(
    client: &Client,
    resource: &'static str,
    opts: &SlackFetch,
    progress: &ProgressBar,
) -> Result<Result<Vec<Page>, String>, Error> {
    let started = std::time::Instant::now();
    let mut first = get_page(client.clone(), resource, 1, opts.page_size).await?;
    let Some(total) = first.total else {
        // Not a ListResponse (or one that cannot be checked): never saved as a listing.
        return Err(Error::Incomplete {
            what: format!("Slack SCIM /{resource}"),
            problem: "the first page carries no totalResults, so completeness cannot be checked"
                .to_owned(),
        });
    };
    if total > MAX_TOTAL_RESULTS {
        return Err(Error::Incomplete {
            what: format!("Slack SCIM /{resource}"),
            problem: format!(
                "the first page claims totalResults {total}, beyond the {MAX_TOTAL_RESULTS} \
                 accounts scimdrift reads (no Slack org comes near it)"
            ),
        });
    }
    let stride = first.held as u64;
    if total > 0 && stride == 0 {
        return Ok(Err(format!(
            "the first page is empty although totalResults is {total}"
        )));
    }
    // A first page in the wrong place is not followed by a thousand more.
    let several = total > stride;
    if let Some(problem) = wrong_start(&first, several) {
        return Ok(Err(problem));
    }
    // Sized from the server's totalResults, within reason: the set grows if it must.
    let attempt = Arc::new(Attempt {
        seen: Seen::with_capacity(usize::try_from(total).unwrap_or(0).min(1 << 21)),
        total,
        stride,
        stop: AtomicBool::new(false),
    });
    attempt.seen.take(&mut first);
    let mut pages: BTreeMap<u64, Page> = BTreeMap::new();
    progress.set_length(total.div_ceil(stride.max(1)));
    progress.inc(1);
    pages.insert(1, first);
    for page in read_rest(client, resource, opts, progress, &attempt).await? {
        pages.insert(page.start, page);
    }
    // A page in the wrong place, or an empty one, ends the read at once: no gap is filled.
    for page in pages.values() {
        if let Some(problem) = wrong_start(page, several) {
            return Ok(Err(problem));
        }
        if page.held == 0 && page.start <= total {
            return Ok(Err(format!(
                "startIndex {} came back empty although totalResults is {total}",
                page.start
            )));
        }
    }
    // Fill gaps left by pages shorter than the first (servers may page unevenly), one at a
    // time: the requests after a short page were not sent.
    loop {
        let mut next = 1u64;
        let mut gap = None;
        for page in pages.values() {
            if page.start > next {
                gap = Some(next);
                break;
            }
            next = next.max(page.start + page.held as u64);
        }
        let Some(start) = gap.or((next <= total).then_some(next)) else {
            break;
        };
        let mut page = get_page(client.clone(), resource, start, opts.page_size).await?;
        progress.inc(1);
        attempt.seen.take(&mut page);
        if let Some(problem) = wrong_start(&page, true) {
            return Ok(Err(problem));
        }
        if page.held == 0 {
            return Ok(Err(format!(
                "startIndex {start} came back empty although totalResults is {total}"
            )));
        }
        pages.insert(start, page);
    }
    if let Some(problem) = moved(&pages, total, &attempt.seen, resource, opts.page_size)? {
        return Ok(Err(problem));
    }
    tracing::info!(
        "/{resource}: {total} resource(s) on {} page(s) read and checked in {} ms",
        pages.len(),
        started.elapsed().as_millis()
    );
    Ok(Ok(pages.into_values().collect()))
}

/// Reads the pages after the first, `opts.concurrency` at a time, at every `stride` up to
/// `totalResults`. The starts are made as they are needed, never listed up front, and none is
/// sent once [`Attempt::take`] has stopped the read (the requests in flight still finish).
async fn read_rest(
    client: &Client,
    resource: &'static str,
    opts: &SlackFetch,
    progress: &ProgressBar,
    attempt: &Arc<Attempt>,
) -> Result<Vec<Page>, Error> {
    let (total, stride) = (attempt.total, attempt.stride);
    let left = total.saturating_sub(stride).div_ceil(stride.max(1));
    if left == 0 {
        return Ok(Vec::new());
    }
    let step = usize::try_from(stride).unwrap_or(usize::MAX);
    let starts = Arc::new(std::sync::Mutex::new((1 + stride..=total).step_by(step)));
    let workers = opts
        .concurrency
        .clamp(1, usize::try_from(left).unwrap_or(usize::MAX));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let (client, progress) = (client.clone(), progress.clone());
        let (starts, attempt) = (Arc::clone(&starts), Arc::clone(attempt));
        let count = opts.page_size;
        set.spawn(async move {
            let mut checking = Vec::new();
            while !attempt.stopped() {
                let next = starts
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .next();
                let Some(start) = next else { break };
                let body = get_body(&client, resource, start, count).await?;
                progress.inc(1);
                // Checked while the next request goes out.
                checking.push(spawn_check(
                    resource,
                    start,
                    count,
                    body,
                    Some(Arc::clone(&attempt)),
                ));
            }
            Ok::<_, Error>(checking)
        });
    }
    let mut pages = Vec::new();
    while let Some(done) = set.join_next().await {
        match done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())) {
            Ok(checking) => {
                for check in checking {
                    pages.push(join(check).await?);
                }
            }
            Err(e) => {
                set.abort_all();
                return Err(e);
            }
        }
    }
    Ok(pages)
}

/// Reads a listing until one read is consistent, at most `1 + max_rereads` times.
async fn read_listing(
    client: &Client,
    resource: &'static str,
    opts: &SlackFetch,
    progress: &ProgressBar,
) -> Result<Vec<Page>, Error> {
    let mut last = String::new();
    for attempt in 0..=opts.max_rereads {
        progress.set_position(0);
        match read_once(client, resource, opts, progress).await? {
            Ok(pages) => return Ok(pages),
            Err(problem) => {
                // After the last attempt, the error says it all.
                if attempt < opts.max_rereads {
                    tracing::warn!(
                        "/{resource} changed while it was paged ({problem}); reading it again ({} of {})",
                        attempt + 1,
                        opts.max_rereads
                    );
                }
                last = problem;
            }
        }
    }
    Err(Error::Unstable {
        what: format!("Slack /{resource}"),
        attempts: opts.max_rereads + 1,
        problem: last,
    })
}

/// Counts of a fetch, for the manifest and the summary line.
#[derive(Clone, Copy, Debug, Default)]
pub struct SlackCounts {
    /// Users listed.
    pub users: u64,
    /// Groups listed (`None` when not fetched).
    pub groups: Option<u64>,
}

/// The account in the body of `GET /Users/{id}`, which must be `id` itself.
pub fn user_of(body: &[u8], id: &str) -> Result<crate::model::SlackUser, Error> {
    let user = crate::source::parse_slack_user(std::path::Path::new(id), body).map_err(|e| {
        Error::Snapshot {
            what: "Slack user",
            source: Box::new(e),
        }
    })?;
    if user.id != id {
        return Err(Error::WrongAccount {
            asked: id.to_owned(),
            answered: user.id,
        });
    }
    Ok(user)
}

/// Proves that the client's base URL is a SCIM API before any answer about one account is
/// trusted: a one-account listing read must come back as a `ListResponse`. Without it, a generic
/// SCIM server answering a mistyped base path with an ordinary SCIM 404 would make every account
/// look gone. Auth and network errors are returned as they are.
pub async fn check_base(client: &Client) -> Result<(), Error> {
    const PATH: &str = "/Users?startIndex=1&count=1";
    let not_scim = |problem: String| Error::NotScim {
        url: client.base().as_str().to_owned(),
        path: PATH.to_owned(),
        problem,
    };
    let body = match client.get(PATH).await {
        Ok(body) => body,
        Err(Error::Status { status, detail, .. }) => {
            return Err(not_scim(format!(
                "answered HTTP {status}{}",
                super::spaced(&detail)
            )));
        }
        Err(e) => return Err(e),
    };
    let listing = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .is_some_and(|v| {
            v.get("Resources").is_some_and(serde_json::Value::is_array)
                || v.get("totalResults").is_some_and(serde_json::Value::is_u64)
        });
    if listing {
        Ok(())
    } else {
        Err(not_scim(
            "answered 200, but not with a SCIM ListResponse".to_owned(),
        ))
    }
}

/// Fetches `/Users` (and `/Groups`) into `snapshot` as `users/start-NNNNNNN.json` and
/// `groups/start-NNNNNNN.json`.
pub async fn fetch(
    client: &Client,
    opts: &SlackFetch,
    snapshot: &mut Snapshot,
    progress: &ProgressBar,
) -> Result<SlackCounts, Error> {
    let users = read_listing(client, "Users", opts, progress).await?;
    let mut counts = SlackCounts {
        users: users.iter().map(|p| p.held as u64).sum(),
        groups: None,
    };
    if counts.users == 0 {
        return Err(Error::Incomplete {
            what: "Slack SCIM /Users".to_owned(),
            problem: "the listing is empty (no users)".to_owned(),
        });
    }
    for page in users {
        snapshot.insert(format!("users/start-{:07}.json", page.start), page.body);
    }
    if opts.groups {
        match read_listing(client, "Groups", opts, progress).await {
            Ok(groups) => {
                counts.groups = Some(groups.iter().map(|p| p.held as u64).sum());
                for page in groups {
                    snapshot.insert(format!("groups/start-{:07}.json", page.start), page.body);
                }
            }
            Err(Error::Status { status: 404, .. }) => {
                tracing::warn!("this SCIM server has no /Groups; saving users only");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests;
