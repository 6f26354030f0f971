//! Fetching a JumpCloud export bundle (DESIGN §2 layout) from the v1 and v2 APIs.
//!
//! v1 listings (`/api/systemusers`, `/api/applications`) page with `limit=100&skip=N&sort=_id`
//! and are checked against `totalCount`; v2 listings are bare arrays paged until an *empty* page
//! (a short page is not the end, `reference/jumpcloud.md` §3.1), with no id on two pages, no
//! more records than `x-total-count` where it is sent, and never beyond [`MAX_V2_RECORDS`].

use std::collections::HashSet;
use std::path::Path;

use indicatif::ProgressBar;
use serde::Deserialize;

use super::{Client, Error, bounded};
use crate::analysis::connectors;
use crate::model::JumpCloud;
use crate::source::{Snapshot, applications_from};

/// v1 and v2 page size (JumpCloud's maximum).
const LIMIT: u64 = 100;

/// What `fetch` needs beyond the client.
#[derive(Clone, Debug)]
pub struct JumpCloudFetch {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Whole re-reads allowed when a v1 listing moves.
    pub max_rereads: u32,
    /// Slack connector ids given on the command line (recorded in the manifest).
    pub slack_app_ids: Vec<String>,
    /// Most records one listing may hold, v2 or v1 (`totalCount`) ([`MAX_V2_RECORDS`]; lower
    /// only in tests).
    pub max_v2_records: u64,
}

/// Most records one v2 listing may hold before the server is taken to page it without end (it
/// may also take twice as many pages as full pages would, for short ones): far above any real
/// organisation, so it only stops a server that keeps answering with new records.
pub const MAX_V2_RECORDS: u64 = 1_000_000;

/// Counts of a fetch.
#[derive(Clone, Debug, Default)]
pub struct JumpCloudCounts {
    /// Users.
    pub users: u64,
    /// Applications.
    pub applications: u64,
    /// User groups.
    pub groups: u64,
    /// The Slack connectors whose users were fetched.
    pub slack_apps: Vec<String>,
}

#[derive(Deserialize)]
struct V1Head {
    #[serde(rename = "totalCount")]
    total_count: Option<u64>,
    #[serde(default)]
    results: Vec<Ids>,
}

#[derive(Deserialize)]
struct Ids {
    #[serde(rename = "_id")]
    underscore_id: Option<String>,
    id: Option<String>,
    /// A graph record's target (`GraphConnection`: members and associations have no id of
    /// their own).
    #[serde(default)]
    to: Option<serde_json::Value>,
}

impl Ids {
    fn id(self) -> Option<String> {
        self.underscore_id.or(self.id)
    }

    /// What names the record within one listing: its graph target's `to.id` (as the loader
    /// reads it), else its own id.
    fn key(&self) -> Option<&str> {
        self.to
            .as_ref()
            .and_then(|to| to.get("id"))
            .and_then(serde_json::Value::as_str)
            .or(self.underscore_id.as_deref())
            .or(self.id.as_deref())
    }
}

fn body_error(path: &str, source: serde_json::Error) -> Error {
    Error::Body {
        service: "JumpCloud",
        path: path.to_owned(),
        source,
    }
}

async fn v1_page(
    client: Client,
    path: String,
) -> Result<(Vec<u8>, Option<u64>, Vec<Option<String>>), Error> {
    let body = client.get(&path).await?;
    let head: V1Head = serde_json::from_slice(&body).map_err(|e| body_error(&path, e))?;
    let ids = head.results.into_iter().map(Ids::id).collect();
    Ok((body, head.total_count, ids))
}

/// Reads a v1 listing whole and consistent; returns `(skip, body)` pages and the total.
async fn v1_listing(
    client: &Client,
    endpoint: &str,
    opts: &JumpCloudFetch,
    progress: &ProgressBar,
) -> Result<(Vec<(u64, Vec<u8>)>, u64), Error> {
    let url = |skip: u64| format!("{endpoint}?limit={LIMIT}&skip={skip}&sort=_id");
    let mut last = String::new();
    for attempt in 0..=opts.max_rereads {
        let (body, total, ids) = v1_page(client.clone(), url(0)).await?;
        progress.inc(1);
        let Some(total) = total else {
            return Err(Error::Incomplete {
                what: format!("JumpCloud {endpoint}"),
                problem: "the first page carries no totalCount, so completeness cannot be checked"
                    .to_owned(),
            });
        };
        // A lying count must not plan a request (and a job in memory) per 100 records of it.
        if total > opts.max_v2_records {
            return Err(Error::Incomplete {
                what: format!("JumpCloud {endpoint}"),
                problem: format!(
                    "totalCount {total} is beyond any real organisation (more than {})",
                    opts.max_v2_records
                ),
            });
        }
        let mut pages = vec![(0u64, body, Some(total), ids)];
        let jobs: Vec<_> = (LIMIT..total)
            .step_by(usize::try_from(LIMIT).unwrap_or(100))
            .map(|skip| {
                let (client, path, progress) = (client.clone(), url(skip), progress.clone());
                async move {
                    let page = v1_page(client, path).await;
                    progress.inc(1);
                    page.map(|(b, t, i)| (skip, b, t, i))
                }
            })
            .collect();
        pages.extend(bounded(opts.concurrency, jobs).await?);
        let mut seen = HashSet::new();
        let mut problem = None;
        let mut held = 0u64;
        for (skip, _, page_total, ids) in &pages {
            held += ids.len() as u64;
            if *page_total != Some(total) {
                problem = Some(format!("totalCount moved from {total} to {page_total:?}"));
            } else if (ids.len() as u64) < LIMIT && skip + LIMIT < total {
                problem = Some(format!(
                    "the page at skip {skip} is short ({} rows)",
                    ids.len()
                ));
            } else if let Some(dup) = ids.iter().flatten().find(|id| !seen.insert(id.as_str())) {
                problem = Some(format!("{dup} appeared on two pages"));
            }
            if problem.is_some() {
                break;
            }
        }
        if problem.is_none() && held != total {
            problem = Some(format!(
                "the pages hold {held} records but totalCount is {total}"
            ));
        }
        match problem {
            None => {
                return Ok((
                    pages.into_iter().map(|(s, b, _, _)| (s, b)).collect(),
                    total,
                ));
            }
            Some(p) => {
                // The last attempt is not followed by another read: no "3 of 2".
                if attempt < opts.max_rereads {
                    tracing::warn!(
                        "{endpoint} changed while it was paged ({p}); reading it again ({} of {})",
                        attempt + 1,
                        opts.max_rereads
                    );
                }
                last = p;
            }
        }
    }
    Err(Error::Unstable {
        what: format!("JumpCloud {endpoint}"),
        attempts: opts.max_rereads + 1,
        problem: last,
    })
}

/// Reads a v2 listing page by page until an empty page; returns `(relative path, body)` pages
/// and the ids of its records. An id (a graph record's `to.id`) on two pages means the listing
/// moved while it was paged (v2 has no sort, so records may be missing too): it is read again
/// (`max_rereads`) and then refused. Where the server sends `x-total-count` (unverified for
/// JumpCloud; its PowerShell module reads it when present), it must not move while the listing
/// is paged and the records may not exceed it, else the same. Fewer records than it counts is
/// read again too; once two reads in a row agree the pages are kept (JumpCloud's staff put short
/// pages down to null association records it leaves out, which a change during paging would not
/// explain) but the listing is incomplete: each page's count is saved beside it as
/// `skip-N.json.headers` (as `curl -D` would), and the loader's check of those makes the
/// shortfall a completeness problem.
async fn v2_listing(
    client: Client,
    endpoint: String,
    folder: String,
    max_rereads: u32,
    max_records: u64,
) -> Result<(Vec<(String, Vec<u8>)>, Vec<String>), Error> {
    let mut last = String::new();
    let mut shortfall: Option<(u64, u64)> = None;
    for attempt in 0..=max_rereads {
        let pass = v2_pages(&client, &endpoint, &folder, max_records).await?;
        let held: u64 = pass.totals.iter().map(|(n, _)| n).sum();
        // Only the pages that carry the header count (the closing empty page may not), as in
        // the loader's offline check; the pass stopped at a count that moved.
        let total = pass.totals.iter().find_map(|(_, t)| *t);
        let problem = pass.moved.or_else(|| {
            let total = total?;
            if held < total && shortfall != Some((held, total)) {
                shortfall = Some((held, total));
                Some(format!(
                    "the pages hold {held} of the {total} records x-total-count counts"
                ))
            } else {
                if held < total {
                    tracing::warn!(
                        "JumpCloud {endpoint}: the pages hold {held} of the {total} records x-total-count counts, the same on two reads: the listing is incomplete (JumpCloud's staff put short pages down to null association records it leaves out, but which records are missing cannot be known); `audit` refuses it unless --allow-incomplete"
                    );
                }
                None
            }
        });
        let Some(problem) = problem else {
            let mut out = Vec::with_capacity(pass.pages.len() * 2);
            for ((rel, body), (_, total)) in pass.pages.into_iter().zip(pass.totals) {
                if let Some(total) = total {
                    out.push((
                        format!("{rel}.headers"),
                        format!("x-total-count: {total}\r\n").into_bytes(),
                    ));
                }
                out.push((rel, body));
            }
            return Ok((out, pass.ids));
        };
        if attempt < max_rereads {
            tracing::warn!(
                "JumpCloud {endpoint}: {problem}; reading it again ({} of {max_rereads})",
                attempt + 1
            );
        }
        last = problem;
    }
    Err(Error::Unstable {
        what: format!("JumpCloud {endpoint}"),
        attempts: max_rereads + 1,
        problem: last,
    })
}

/// One pass over a v2 listing.
#[derive(Default)]
struct V2Pass {
    /// `(relative path, body)` of each page read.
    pages: Vec<(String, Vec<u8>)>,
    /// The records' own ids (`_id`/`id`), in order.
    ids: Vec<String>,
    /// Each page's record count and `x-total-count`.
    totals: Vec<(u64, Option<u64>)>,
    /// Why the pass stopped before an empty page: the listing moved under it.
    moved: Option<String>,
}

/// One pass over a v2 listing, until an empty page, or until it is seen to move (an id read
/// before, an `x-total-count` that changes or that the records exceed: [`V2Pass::moved`]).
/// A listing beyond `max_records` (or its pages) is refused: no organisation's is that long, so
/// the server is not paging it to an end.
async fn v2_pages(
    client: &Client,
    endpoint: &str,
    folder: &str,
    max_records: u64,
) -> Result<V2Pass, Error> {
    let sep = if endpoint.contains('?') { '&' } else { '?' };
    let max_pages = (max_records.saturating_mul(2) / LIMIT).max(1);
    let mut pass = V2Pass::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut skip = 0u64;
    let mut held = 0u64;
    loop {
        if held > max_records || pass.pages.len() as u64 >= max_pages {
            return Err(Error::Incomplete {
                what: format!("JumpCloud {endpoint}"),
                problem: format!(
                    "still no empty page after {held} records on {} pages (the most one listing may hold is {max_records} records on {max_pages} pages, far above any real organisation): the server does not page it to an end",
                    pass.pages.len()
                ),
            });
        }
        let path = format!("{endpoint}{sep}limit={LIMIT}&skip={skip}");
        let (body, total) = client.get_counted(&path).await?;
        let records: Vec<Ids> = serde_json::from_slice(&body).map_err(|e| body_error(&path, e))?;
        let n = records.len() as u64;
        // A server that ignores `skip` would be paged for ever: a page that repeats the one
        // before it (records without ids are compared as bodies).
        if n > 0
            && pass
                .pages
                .last()
                .is_some_and(|(_, prev): &(String, Vec<u8>)| *prev == body)
        {
            return Err(Error::Incomplete {
                what: format!("JumpCloud {endpoint}"),
                problem: format!(
                    "the page at skip {skip} repeats the page before it (is `skip` ignored?)"
                ),
            });
        }
        let first = pass.totals.iter().find_map(|(_, t)| *t);
        if let (Some(first), Some(now)) = (first, total)
            && now != first
        {
            pass.moved = Some(format!(
                "x-total-count moved while it was paged (first {first}, then {now} at skip {skip})"
            ));
            return Ok(pass);
        }
        if let Some(key) = records
            .iter()
            .filter_map(Ids::key)
            .find(|key| !seen.insert((*key).to_owned()))
        {
            pass.moved = Some(format!(
                "{key} appeared twice (again at skip {skip}): the listing moved, and v2 has no sort, so records may also be missing"
            ));
            return Ok(pass);
        }
        pass.ids.extend(records.into_iter().filter_map(Ids::id));
        pass.pages
            .push((format!("{folder}/skip-{skip:06}.json"), body));
        pass.totals.push((n, total));
        if n == 0 {
            return Ok(pass);
        }
        held += n;
        if let Some(count) = first.or(total)
            && held > count
        {
            pass.moved = Some(format!(
                "the pages hold more than the {count} records x-total-count counts ({held} by skip {skip})"
            ));
            return Ok(pass);
        }
        skip += n;
    }
}

/// Checks that an id from the server can name a folder of the snapshot (and a request path):
/// JumpCloud's are 24-hex `ObjectId`s; `../x` would write outside the output directory.
fn folder_id(what: &str, id: &str) -> Result<(), Error> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::Incomplete {
            what: "JumpCloud bundle".to_owned(),
            problem: format!("a {what} id {id:?} is not an id (letters, digits, - and _ only)"),
        })
    }
}

/// Fetches the whole bundle into `snapshot`.
pub async fn fetch(
    client: &Client,
    opts: &JumpCloudFetch,
    snapshot: &mut Snapshot,
    progress: &ProgressBar,
) -> Result<JumpCloudCounts, Error> {
    let mut counts = JumpCloudCounts::default();
    let (users, total) = v1_listing(client, "/api/systemusers", opts, progress).await?;
    if total == 0 {
        // `audit` refuses a JumpCloud input without a single user (every Slack account would
        // look unknown): nothing to save.
        return Err(Error::Incomplete {
            what: "JumpCloud /api/systemusers".to_owned(),
            problem: "the listing is empty (no users)".to_owned(),
        });
    }
    counts.users = total;
    for (skip, body) in users {
        snapshot.insert(format!("systemusers/skip-{skip:06}.json"), body);
    }
    let (apps, total) = v1_listing(client, "/api/applications", opts, progress).await?;
    counts.applications = total;
    for (skip, body) in apps {
        snapshot.insert(format!("applications/skip-{skip:06}.json"), body);
    }

    let (pages, group_ids) = v2_listing(
        client.clone(),
        "/api/v2/usergroups".to_owned(),
        "usergroups".to_owned(),
        opts.max_rereads,
        opts.max_v2_records,
    )
    .await?;
    progress.inc(
        pages
            .iter()
            .filter(|(rel, _)| !rel.ends_with(".headers"))
            .count() as u64,
    );
    counts.groups = group_ids.len() as u64;
    for id in &group_ids {
        folder_id("user group", id)?;
    }
    for (rel, body) in pages {
        snapshot.insert(rel, body);
    }
    progress.inc_length(2 * group_ids.len() as u64);
    let (max_rereads, max_records) = (opts.max_rereads, opts.max_v2_records);
    let mut jobs = Vec::new();
    for id in &group_ids {
        for (endpoint, folder) in [
            (
                format!("/api/v2/usergroups/{id}/members"),
                format!("usergroups/{id}/members"),
            ),
            (
                format!("/api/v2/usergroups/{id}/associations?targets=application"),
                format!("usergroups/{id}/associations.application"),
            ),
        ] {
            let (client, progress) = (client.clone(), progress.clone());
            jobs.push(async move {
                let r = v2_listing(client, endpoint, folder, max_rereads, max_records).await;
                progress.inc(1);
                r
            });
        }
    }
    for (pages, _) in bounded(opts.concurrency, jobs).await? {
        for (rel, body) in pages {
            snapshot.insert(rel, body);
        }
    }

    // The Slack connectors' entitled users: the ids given, else the same heuristic as audit.
    let apps_dir = snapshot.root().join("applications");
    let (applications, _) =
        applications_from(snapshot, Path::new(&apps_dir)).map_err(|e| Error::Snapshot {
            what: "JumpCloud applications listing",
            source: Box::new(e),
        })?;
    let jc = JumpCloud {
        applications,
        ..JumpCloud::default()
    };
    let found = connectors::detect(&jc, &opts.slack_app_ids, None).unwrap_or_default();
    // A configured id the listing does not hold (an application since deleted) has no users
    // to read; the analysis says what it makes of it, as with files.
    counts.slack_apps = found
        .all
        .keys()
        .filter(|id| jc.applications.iter().any(|a| &a.id == *id))
        .cloned()
        .collect();
    for app in &counts.slack_apps {
        folder_id("application", app)?;
    }
    let jobs: Vec<_> = counts
        .slack_apps
        .iter()
        .map(|app| {
            v2_listing(
                client.clone(),
                format!("/api/v2/applications/{app}/users"),
                format!("applications/{app}/users"),
                opts.max_rereads,
                opts.max_v2_records,
            )
        })
        .collect();
    for (pages, _) in bounded(opts.concurrency, jobs).await? {
        for (rel, body) in pages {
            snapshot.insert(rel, body);
        }
    }
    Ok(counts)
}
