//! Request handling and state of the JumpCloud emulator.
//!
//! Order per request: latency, 5xx dice, `x-api-key`, `x-org-id` shape, forced 429, then the
//! endpoint. Everything is read-only: any method but GET is a 405.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hyper::{Method, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};

use super::kit::{self, Outcome, Req, Response, Rng};
use super::{JumpCloudConfig, V2Tail};

/// Page size when `limit` is absent, and the documented ceiling.
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 100;
const LOG_CAP: usize = 100_000;
/// Pages a [`V2Tail`] other than `None` serves before the closing empty page.
pub(super) const TAIL_PAGES: usize = 500;

/// Counters and the request log.
#[derive(Clone, Debug, Default)]
pub(super) struct Stats {
    pub(super) requests: u64,
    pub(super) by_status: BTreeMap<u16, u64>,
    pub(super) log: Vec<String>,
}

/// Everything mutable.
pub(super) struct State {
    api_key: String,
    users: Vec<Value>,
    applications: Vec<Value>,
    usergroups: Vec<Value>,
    members: BTreeMap<String, Vec<Value>>,
    app_associations: BTreeMap<String, Vec<Value>>,
    app_users: BTreeMap<String, Vec<Value>>,
    pub(super) forced_429_left: u32,
    retry_after_secs: u64,
    pub(super) error_rate: f64,
    pub(super) latency: Duration,
    total_count_header: bool,
    total_count_extra: usize,
    total_count_moves: bool,
    v2_tail: V2Tail,
    v2_skip_shift: usize,
    v1_total_moves: bool,
    rng: Rng,
    pub(super) stats: Stats,
}

impl State {
    pub(super) fn new(config: JumpCloudConfig) -> Self {
        let mut app_users = derive_app_users(&config.members, &config.app_associations);
        // Users captured in the bundle win over derived ones.
        app_users.extend(config.app_users);
        for app in &config.applications {
            if let Some(id) = record_id(app) {
                app_users.entry(id.to_owned()).or_default();
            }
        }
        Self {
            api_key: config.api_key,
            users: config.users,
            applications: config.applications,
            usergroups: config.usergroups,
            members: config.members,
            app_associations: config.app_associations,
            app_users,
            forced_429_left: config.forced_429,
            retry_after_secs: config.retry_after_secs,
            error_rate: config.error_rate,
            latency: config.latency,
            total_count_header: config.total_count_header,
            total_count_extra: config.total_count_extra,
            total_count_moves: config.total_count_moves,
            v2_tail: config.v2_tail,
            v2_skip_shift: config.v2_skip_shift,
            v1_total_moves: config.v1_total_moves,
            rng: Rng::new(config.seed),
            stats: Stats::default(),
        }
    }

    fn record(&mut self, line: String, status: u16) {
        self.stats.requests += 1;
        *self.stats.by_status.entry(status).or_default() += 1;
        if self.stats.log.len() < LOG_CAP {
            self.stats.log.push(line);
        }
    }
}

/// `_id` (v1) or `id` (v2) of a record.
pub(super) fn record_id(v: &Value) -> Option<&str> {
    v.get("_id").or_else(|| v.get("id")).and_then(Value::as_str)
}

/// The entitled set of each app bound to a group: every user reached from a bound group through
/// its members, nested groups included, with one path (`[group, (group, ...) user]`) per route,
/// as `GET /api/v2/applications/{id}/users` returns it.
fn derive_app_users(
    members: &BTreeMap<String, Vec<Value>>,
    associations: &BTreeMap<String, Vec<Value>>,
) -> BTreeMap<String, Vec<Value>> {
    let mut paths: BTreeMap<String, BTreeMap<String, Vec<Value>>> = BTreeMap::new();
    for (group, assocs) in associations {
        for app in assocs.iter().filter_map(|a| graph_target(a, "application")) {
            let per_user = paths.entry(app.to_owned()).or_default();
            let mut trail = vec![group.as_str()];
            walk_group(members, &mut trail, per_user);
        }
    }
    paths
        .into_iter()
        .map(|(app, users)| {
            let list = users
                .into_iter()
                .map(|(id, paths)| {
                    json!({"id": id, "type": "user", "compiledAttributes": {}, "paths": paths})
                })
                .collect();
            (app, list)
        })
        .collect()
}

/// Adds a path for every user under the last group of `trail`; skips cycles.
fn walk_group<'a>(
    members: &'a BTreeMap<String, Vec<Value>>,
    trail: &mut Vec<&'a str>,
    per_user: &mut BTreeMap<String, Vec<Value>>,
) {
    let Some(group) = trail.last().copied() else {
        return;
    };
    for member in members.get(group).into_iter().flatten() {
        if let Some(user) = graph_target(member, "user") {
            let mut path: Vec<Value> = trail.iter().map(|g| connection(g, "user_group")).collect();
            path.push(connection(user, "user"));
            per_user
                .entry(user.to_owned())
                .or_default()
                .push(Value::Array(path));
        } else if let Some(nested) = graph_target(member, "user_group")
            && !trail.contains(&nested)
        {
            trail.push(nested);
            walk_group(members, trail, per_user);
            trail.pop();
        }
    }
}

/// `to.id` of a `GraphConnection` whose `to.type` is `kind`.
fn graph_target<'a>(conn: &'a Value, kind: &str) -> Option<&'a str> {
    let to = conn.get("to")?;
    (to.get("type")?.as_str()? == kind).then_some(())?;
    to.get("id")?.as_str()
}

/// A `GraphConnection` as JumpCloud lists direct members and associations (`from` omitted).
pub(super) fn connection(id: &str, kind: &str) -> Value {
    json!({"attributes": null, "to": {"attributes": null, "id": id, "type": kind}})
}

fn lock(shared: &Mutex<State>) -> MutexGuard<'_, State> {
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Entry point for one request: serve it and record the outcome.
pub(super) async fn handle(shared: Arc<Mutex<State>>, req: Req) -> Outcome {
    let latency = lock(&shared).latency;
    kit::pause(latency).await;
    let resp = {
        let mut st = lock(&shared);
        let resp = dispatch(&mut st, &req);
        st.record(req.log_line(), resp.status().as_u16());
        resp
    };
    Outcome::Respond(resp)
}

fn message(status: StatusCode, text: &str) -> Response {
    kit::json(status, &json!({ "message": text }))
}

fn dispatch(st: &mut State, req: &Req) -> Response {
    let error_rate = st.error_rate;
    if st.rng.chance(error_rate) {
        let statuses = [500, 502, 503, 504];
        return match *st.rng.pick(&statuses) {
            502 => kit::text(
                StatusCode::BAD_GATEWAY,
                "text/html",
                "<html><body><h1>502 Bad Gateway</h1></body></html>\n",
            ),
            503 => kit::text(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/html",
                "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>\n",
            ),
            504 => kit::text(
                StatusCode::GATEWAY_TIMEOUT,
                "text/html",
                "<html><body><h1>504 Gateway Time-out</h1></body></html>\n",
            ),
            _ => message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
        };
    }
    if req.header("x-api-key") != Some(st.api_key.as_str()) {
        return message(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    // Multi-tenant admins send x-org-id; a malformed one is a 400 (reference §1.3).
    if let Some(org) = req.header("x-org-id")
        && !(org.len() == 24 && org.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return message(StatusCode::BAD_REQUEST, "Bad Request: invalid x-org-id");
    }
    if st.forced_429_left > 0 {
        st.forced_429_left -= 1;
        return kit::with_header(
            message(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests"),
            "retry-after",
            &st.retry_after_secs.to_string(),
        );
    }
    if req.method != Method::GET {
        return message(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    let st = &*st;
    match req.segments().as_slice() {
        ["api", "systemusers"] => v1_list(st, &st.users, req, None),
        ["api", "systemusers", id] => one(&st.users, id),
        ["api", "applications"] => v1_list(st, &st.applications, req, Some("name")),
        ["api", "applications", id] => one(&st.applications, id),
        ["api", "v2", "usergroups"] => v2_list(st, &st.usergroups, req),
        ["api", "v2", "usergroups", id] => one(&st.usergroups, id),
        ["api", "v2", "usergroups", id, "members"] => {
            if group_exists(st, id) {
                v2_list(st, st.members.get(*id).map_or(&[], Vec::as_slice), req)
            } else {
                not_found()
            }
        }
        ["api", "v2", "usergroups", id, "associations"] => associations(st, id, req),
        ["api", "v2", "applications", id, "users"] => match st.app_users.get(*id) {
            Some(users) => v2_list(st, users, req),
            None => not_found(),
        },
        _ => not_found(),
    }
}

fn not_found() -> Response {
    message(StatusCode::NOT_FOUND, "Not Found")
}

fn group_exists(st: &State, id: &str) -> bool {
    st.usergroups.iter().any(|g| record_id(g) == Some(id))
}

fn one(records: &[Value], id: &str) -> Response {
    match records.iter().find(|r| record_id(r) == Some(id)) {
        Some(r) => kit::json(StatusCode::OK, r),
        None => not_found(),
    }
}

fn associations(st: &State, id: &str, req: &Req) -> Response {
    if !group_exists(st, id) {
        return not_found();
    }
    // `targets` is required by the v2 spec.
    let Some(targets) = req.param("targets") else {
        return message(
            StatusCode::BAD_REQUEST,
            "Bad Request: request parameter \"targets\" is required",
        );
    };
    let empty = Vec::new();
    let list = if targets.split(',').any(|t| t == "application") {
        st.app_associations.get(id).unwrap_or(&empty)
    } else {
        // Only application bindings are modelled.
        &empty
    };
    v2_list(st, list, req)
}

/// `(limit, skip)`: limit defaults to 10 and may not exceed 100. Errors are 400 messages.
fn limit_skip(req: &Req) -> Result<(usize, usize), String> {
    let parse = |name: &str, default: usize| -> Result<usize, String> {
        match req.param(name) {
            None => Ok(default),
            Some(s) => s.trim().parse::<usize>().map_err(|_| {
                format!("Bad Request: request parameter \"{name}\" must be a non-negative integer")
            }),
        }
    };
    let limit = parse("limit", DEFAULT_LIMIT)?;
    if limit > MAX_LIMIT {
        return Err(
            "Bad Request: request parameter \"limit\" exceeds maximum value of 100".to_owned(),
        );
    }
    Ok((limit, parse("skip", 0)?))
}

/// Records kept by the `filter` parameters (`field:$eq:value` in v1, `field:eq:value` in v2;
/// only equality is modelled), ordered by `sort` (space- or comma-separated, `-` = descending).
fn select<'a>(
    records: &'a [Value],
    req: &Req,
    default_sort: Option<&str>,
) -> Result<Vec<&'a Value>, String> {
    let mut filters = Vec::new();
    for (_, f) in req.query.iter().filter(|(k, _)| k == "filter") {
        let mut parts = f.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(field), Some("$eq" | "eq"), Some(value)) => filters.push((field, value)),
            _ => {
                return Err(
                    "Bad Request: unsupported filter (emulator: only field:$eq:value)".to_owned(),
                );
            }
        }
    }
    let mut out: Vec<&Value> = records
        .iter()
        .filter(|r| {
            filters
                .iter()
                .all(|(field, want)| r.get(*field).is_some_and(|v| text(v) == *want))
        })
        .collect();
    let sort = req.param("sort").or(default_sort).unwrap_or_default();
    let keys: Vec<&str> = sort.split([' ', ',']).filter(|k| !k.is_empty()).collect();
    if !keys.is_empty() {
        out.sort_by(|a, b| {
            keys.iter().fold(Ordering::Equal, |acc, key| {
                acc.then_with(|| {
                    let (field, desc) = key.strip_prefix('-').map_or((*key, false), |f| (f, true));
                    let ord = compare(a.get(field), b.get(field));
                    if desc { ord.reverse() } else { ord }
                })
            })
        });
    }
    Ok(out)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Some(x), Some(y)) => text(x).cmp(&text(y)),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Keeps only the `fields` (space-separated) of a record, plus its id.
fn project(record: &Value, fields: Option<&str>) -> Value {
    let (Some(fields), Some(obj)) = (fields, record.as_object()) else {
        return record.clone();
    };
    let keep: Vec<&str> = fields.split([' ', ',']).filter(|f| !f.is_empty()).collect();
    let projected: serde_json::Map<String, Value> = obj
        .iter()
        .filter(|(k, _)| k.as_str() == "_id" || k.as_str() == "id" || keep.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(projected)
}

/// The v1 envelope, key order as JumpCloud sends it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V1List {
    total_count: usize,
    results: Vec<Value>,
}

fn v1_list(st: &State, records: &[Value], req: &Req, default_sort: Option<&str>) -> Response {
    let result = limit_skip(req).and_then(|(limit, skip)| {
        let selected = select(records, req, default_sort)?;
        let fields = req.param("fields");
        let results = selected
            .iter()
            .skip(skip)
            .take(limit)
            .map(|r| project(r, fields))
            .collect();
        Ok(V1List {
            total_count: selected.len()
                + if st.v1_total_moves {
                    usize::try_from(st.stats.requests).unwrap_or(0)
                } else {
                    0
                },
            results,
        })
    });
    match result {
        Ok(body) => kit::json(StatusCode::OK, &body),
        Err(text) => message(StatusCode::BAD_REQUEST, &text),
    }
}

fn v2_list(st: &State, records: &[Value], req: &Req) -> Response {
    let result = limit_skip(req).and_then(|(limit, skip)| {
        let selected = select(records, req, None)?;
        let fields = req.param("fields");
        // Only after a full page: a short listing is not moved under its reader.
        let start = if skip >= limit {
            skip.saturating_sub(st.v2_skip_shift)
        } else {
            skip
        };
        let mut page: Vec<Value> = selected
            .iter()
            .skip(start)
            .take(limit)
            .map(|r| project(r, fields))
            .collect();
        if page.is_empty() && limit > 0 {
            page = tail(st.v2_tail, skip.saturating_sub(selected.len()), limit);
        }
        Ok((page, selected.len()))
    });
    match result {
        Ok((page, total)) => {
            let empty = page.is_empty();
            let resp = kit::json(StatusCode::OK, &page);
            // Sent on the pages that hold records: whether JumpCloud sends it on the closing
            // empty page is unverified, so the client must not depend on it.
            if st.total_count_header && !empty {
                kit::with_header(
                    resp,
                    "x-total-count",
                    &(total
                        + st.total_count_extra
                        + if st.total_count_moves {
                            usize::try_from(st.stats.requests).unwrap_or(0)
                        } else {
                            0
                        })
                    .to_string(),
                )
            } else {
                resp
            }
        }
        Err(text) => message(StatusCode::BAD_REQUEST, &text),
    }
}

/// The records of a [`V2Tail`] page `beyond` records past the end of a list.
fn tail(kind: V2Tail, beyond: usize, limit: usize) -> Vec<Value> {
    let page = beyond / limit;
    if page >= TAIL_PAGES {
        return Vec::new();
    }
    let id = |i: usize| match kind {
        V2Tail::None => None,
        V2Tail::Fresh => Some(format!("fresh{:019}", beyond + i)),
        V2Tail::Alternating => Some(format!("turn{}{i:019}", page % 2)),
    };
    (0..limit)
        .map_while(id)
        .map(|id| json!({"id": id, "name": id, "type": "user"}))
        .collect()
}
