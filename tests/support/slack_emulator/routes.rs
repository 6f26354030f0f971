//! Request handling of the Slack emulator: routing, the order of checks, and the SCIM bodies.
//!
//! Order per request: fault dice (drop / 5xx), Bearer auth, forced 429, rate buckets, then the
//! endpoint. A read's answer (or dropped connection) leaves `latency` after the request arrived:
//! the latency is the time to first byte a client measures, so the server's own work falls
//! within it. Writes take the user's lock before sleeping the latency, so a second write to the
//! same user meanwhile gets Slack's concurrency 429.

use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use hyper::{Method, StatusCode};
use serde::Serialize;
use serde_json::Value;

use super::Faults;
use super::kit::{self, Outcome, Req, Response};
use super::state::{BucketKind, State, Version};

const V1_CORE: &str = "urn:scim:schemas:core:1.0";
const V2_LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const V2_ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const V2_PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Slack's page size when `count` is absent, and its cap.
const DEFAULT_COUNT: usize = 10;
const MAX_COUNT: usize = 1000;
const BOT_DOMAIN: &str = "@slack-bots.com";

#[derive(Serialize)]
struct V1ErrorBody<'a> {
    description: &'a str,
    code: u16,
}

#[derive(Serialize)]
struct V1Error<'a> {
    #[serde(rename = "Errors")]
    errors: V1ErrorBody<'a>,
}

#[derive(Serialize)]
struct V2Error<'a> {
    schemas: [&'static str; 1],
    detail: &'a str,
    status: u16,
}

/// v1 list envelope, in the key order Slack sends.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V1List<R> {
    total_results: usize,
    items_per_page: usize,
    start_index: usize,
    schemas: [&'static str; 1],
    #[serde(rename = "Resources")]
    resources: Vec<R>,
}

/// v2 `ListResponse`, in the key order Slack sends.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V2List<R> {
    schemas: [&'static str; 1],
    #[serde(rename = "Resources")]
    resources: Vec<R>,
    total_results: usize,
    items_per_page: usize,
    start_index: usize,
}

#[derive(Debug)]
enum Route<'a> {
    ListUsers,
    GetUser(&'a str),
    PatchUser(&'a str),
    DeleteUser(&'a str),
    ListGroups,
    GetGroup(&'a str),
    NotAllowed,
    NotFound,
}

impl<'a> Route<'a> {
    fn parse(method: &Method, rest: &[&'a str]) -> Self {
        match (rest, method.as_str()) {
            (["Users"], "GET") => Self::ListUsers,
            (["Users", id], "GET") => Self::GetUser(id),
            (["Users", id], "PATCH") => Self::PatchUser(id),
            (["Users", id], "DELETE") => Self::DeleteUser(id),
            (["Groups"], "GET") => Self::ListGroups,
            (["Groups", id], "GET") => Self::GetGroup(id),
            // Slack has these (POST, PUT, group writes); scimdrift must never send them.
            (["Users" | "Groups"] | ["Users" | "Groups", _], _) => Self::NotAllowed,
            _ => Self::NotFound,
        }
    }

    fn buckets(&self) -> &'static [BucketKind] {
        match self {
            Self::ListUsers | Self::ListGroups => &[BucketKind::OrgReads],
            Self::GetUser(_) => &[BucketKind::OrgReads, BucketKind::UserGet],
            Self::GetGroup(_) => &[BucketKind::OrgReads, BucketKind::GroupGet],
            Self::PatchUser(_) => &[BucketKind::OrgWrites, BucketKind::UserPatch],
            Self::DeleteUser(_) => &[BucketKind::OrgWrites, BucketKind::UserDelete],
            Self::NotAllowed | Self::NotFound => &[],
        }
    }

    fn is_write(&self) -> bool {
        matches!(self, Self::PatchUser(_) | Self::DeleteUser(_))
    }
}

/// An injected failure.
#[derive(Clone, Copy)]
enum Fault {
    Drop,
    Status(StatusCode),
}

fn lock(shared: &Mutex<State>) -> MutexGuard<'_, State> {
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Entry point for one request: serve it and record the outcome.
pub(super) async fn handle(shared: Arc<Mutex<State>>, req: Req) -> Outcome {
    let line = req.log_line();
    let outcome = dispatch(&shared, &req).await;
    let status = match &outcome {
        Outcome::Respond(resp) => Some(resp.status().as_u16()),
        Outcome::Drop => None,
    };
    lock(&shared).record(line, status);
    outcome
}

async fn dispatch(shared: &Arc<Mutex<State>>, req: &Req) -> Outcome {
    let arrived = tokio::time::Instant::now();
    let segments = req.segments();
    let (version, rest) = match segments.as_slice() {
        ["scim", "v1", rest @ ..] => (Version::V1, rest),
        ["scim", "v2", rest @ ..] => (Version::V2, rest),
        _ => {
            return Outcome::Respond(error(Version::V1, StatusCode::NOT_FOUND, "bad_endpoint"));
        }
    };
    let route = Route::parse(&req.method, rest);
    let faults = lock(shared).faults.clone();
    let outcome = answer(shared, req, version, &route, &faults).await;
    if !route.is_write() {
        // A latency too large to add is as good as forever (tests may set anything).
        let deadline = arrived
            .checked_add(faults.latency)
            .unwrap_or_else(|| arrived + std::time::Duration::from_hours(24 * 365));
        kit::pause_until(deadline).await;
    }
    outcome
}

async fn answer(
    shared: &Arc<Mutex<State>>,
    req: &Req,
    version: Version,
    route: &Route<'_>,
    faults: &Faults,
) -> Outcome {
    if let Route::GetUser(id) = route
        && faults.broken_user.as_deref() == Some(*id)
    {
        return Outcome::Respond(error(
            version,
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
        ));
    }
    if faults
        .unreachable_after_patches
        .is_some_and(|n| lock(shared).stats.patches >= n)
    {
        return Outcome::Drop;
    }
    if faults.lost_write_then_outage {
        if route.is_write() {
            let response = serve(shared, req, version, route, faults).await;
            if response.status().is_success() {
                lock(shared).outage = true;
                return fault_outcome(Fault::Status(StatusCode::BAD_GATEWAY), version);
            }
            return Outcome::Respond(response);
        }
        if lock(shared).outage {
            return fault_outcome(Fault::Status(StatusCode::SERVICE_UNAVAILABLE), version);
        }
    }
    let fault = if faults.writes_only && !route.is_write() {
        None
    } else {
        roll_fault(&mut lock(shared))
    };
    let lands = route.is_write() && faults.write_lands_on_fault;
    if let Some(fault) = fault
        && !lands
    {
        return fault_outcome(fault, version);
    }
    let response = serve(shared, req, version, route, faults).await;
    match fault {
        Some(fault) => fault_outcome(fault, version),
        None => Outcome::Respond(response),
    }
}

fn roll_fault(st: &mut State) -> Option<Fault> {
    let (drop_rate, error_rate) = (st.faults.drop_rate, st.faults.error_rate);
    if drop_rate <= 0.0 && error_rate <= 0.0 {
        return None;
    }
    let u = st.rng.unit();
    if u < drop_rate {
        Some(Fault::Drop)
    } else if u < drop_rate + error_rate {
        let statuses = [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::SERVICE_UNAVAILABLE,
        ];
        Some(Fault::Status(*st.rng.pick(&statuses)))
    } else {
        None
    }
}

fn fault_outcome(fault: Fault, version: Version) -> Outcome {
    match fault {
        Fault::Drop => Outcome::Drop,
        // Gateways in front of Slack answer with HTML, not SCIM JSON.
        Fault::Status(StatusCode::BAD_GATEWAY) => Outcome::Respond(kit::text(
            StatusCode::BAD_GATEWAY,
            "text/html",
            "<html><body><h1>502 Bad Gateway</h1></body></html>\n",
        )),
        Fault::Status(StatusCode::SERVICE_UNAVAILABLE) => Outcome::Respond(kit::text(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/html",
            "<html><body><h1>503 Service Unavailable</h1></body></html>\n",
        )),
        Fault::Status(status) => Outcome::Respond(error(version, status, "internal_error")),
    }
}

async fn serve(
    shared: &Arc<Mutex<State>>,
    req: &Req,
    version: Version,
    route: &Route<'_>,
    faults: &Faults,
) -> Response {
    {
        let mut st = lock(shared);
        let revoked = faults
            .revoke_after_patches
            .is_some_and(|n| st.stats.patches >= n);
        if let Some(refusal) = check_auth(&st, req, version, route.is_write(), revoked) {
            return refusal;
        }
        st.note_arrival();
        if (!faults.writes_only || route.is_write()) && st.take_forced_429() {
            let wait = st.retry_after(1.0);
            return too_many(version, &st.retry_after_value(wait));
        }
        if let Err(wait) = st.admit(route.buckets()) {
            return too_many(version, &st.retry_after_value(wait));
        }
        if let Some(empty) = other_org(&st, req, version, route) {
            return empty;
        }
    }
    match *route {
        Route::ListUsers => list_users(shared, req, version),
        Route::GetUser(id) => get_user(&lock(shared), id, version),
        Route::PatchUser(id) | Route::DeleteUser(id) => {
            write(shared, req, version, id, faults).await
        }
        Route::ListGroups => list_groups(&lock(shared), req, version),
        Route::GetGroup(id) => get_group(&lock(shared), id, version),
        Route::NotAllowed => error(
            version,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed (emulator: only GET, PATCH of active and DELETE are served)",
        ),
        Route::NotFound => error(version, StatusCode::NOT_FOUND, "bad_endpoint"),
    }
}

/// The refusal of a request without the right Bearer token. Slack's quirk: v1 answers 401, v2
/// answers 400 `unsupported_version` in a v1-style body. A read-only token may read; a write
/// with it is answered 403 `permission_denied`.
fn check_auth(
    st: &State,
    req: &Req,
    version: Version,
    write: bool,
    revoked: bool,
) -> Option<Response> {
    let header = req.header("authorization");
    let token = header
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    if token == Some(st.token.as_str()) && !revoked {
        return None;
    }
    if token.is_some() && token == st.other_org_token.as_deref() {
        return None;
    }
    if token.is_some() && token == st.read_only_token.as_deref() {
        return write.then(|| error(version, StatusCode::FORBIDDEN, "permission_denied"));
    }
    Some(match version {
        Version::V2 => error(Version::V1, StatusCode::BAD_REQUEST, "unsupported_version"),
        Version::V1 if header.is_none() => error(
            Version::V1,
            StatusCode::UNAUTHORIZED,
            "missing_authentication",
        ),
        Version::V1 => error(
            Version::V1,
            StatusCode::UNAUTHORIZED,
            "invalid_authentication",
        ),
    })
}

/// The answer of the organisation without users that `other_org_token` opens.
fn other_org(st: &State, req: &Req, version: Version, route: &Route<'_>) -> Option<Response> {
    let token = req
        .header("authorization")
        .and_then(|h| h.split_once(' '))
        .map(|(_, token)| token.trim());
    if token.is_none() || token != st.other_org_token.as_deref() {
        return None;
    }
    Some(match route {
        Route::ListUsers | Route::ListGroups => {
            let schema = match version {
                Version::V1 => "urn:scim:schemas:core:1.0",
                Version::V2 => "urn:ietf:params:scim:api:messages:2.0:ListResponse",
            };
            kit::json(
                StatusCode::OK,
                &serde_json::json!({
                    "schemas": [schema],
                    "totalResults": 0,
                    "itemsPerPage": 0,
                    "startIndex": 1,
                    "Resources": [],
                }),
            )
        }
        Route::GetUser(_) | Route::PatchUser(_) | Route::DeleteUser(_) | Route::GetGroup(_) => {
            error(version, st.no_such_user, "no_such_user")
        }
        Route::NotAllowed | Route::NotFound => return None,
    })
}

/// An error body in the version's shape.
fn error(version: Version, status: StatusCode, description: &str) -> Response {
    let code = status.as_u16();
    match version {
        Version::V1 => kit::json(
            status,
            &V1Error {
                errors: V1ErrorBody { description, code },
            },
        ),
        Version::V2 => kit::json(
            status,
            &V2Error {
                schemas: [V2_ERROR],
                detail: description,
                status: code,
            },
        ),
    }
}

fn too_many(version: Version, retry_after: &str) -> Response {
    kit::with_header(
        error(version, StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
        "retry-after",
        retry_after,
    )
}

/// `(startIndex, count)`: 1-based offset (below 1 means 1), count defaulting to 10, capped at
/// 1000, negative meaning 0.
fn paging(req: &Req) -> (usize, usize) {
    let start = req
        .param("startIndex")
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map_or(1, |n| usize::try_from(n.max(1)).unwrap_or(1));
    let count = req
        .param("count")
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map_or(DEFAULT_COUNT, |n| {
            usize::try_from(n.max(0))
                .unwrap_or(MAX_COUNT)
                .min(MAX_COUNT)
        });
    (start, count)
}

/// A ListResponse; `size` is a guess of the body's length (0 when unknown), so that a 1 MB page
/// is written into one buffer instead of one grown by doubling.
fn list_body<R: Serialize>(
    version: Version,
    resources: Vec<R>,
    total_results: usize,
    start_index: usize,
    size: usize,
) -> Response {
    let items_per_page = resources.len();
    match version {
        Version::V1 => kit::json_sized(
            StatusCode::OK,
            size,
            &V1List {
                total_results,
                items_per_page,
                start_index,
                schemas: [V1_CORE],
                resources,
            },
        ),
        Version::V2 => kit::json_sized(
            StatusCode::OK,
            size,
            &V2List {
                schemas: [V2_LIST],
                resources,
                total_results,
                items_per_page,
                start_index,
            },
        ),
    }
}

/// The only filters served: `email eq "x"` and `userName eq "x"`.
enum Filter {
    Email(String),
    UserName(String),
}

impl Filter {
    fn parse(text: &str) -> Result<Self, &'static str> {
        let mut parts = text.trim().splitn(3, ' ');
        let (Some(attr), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("incomplete_filter");
        };
        // Slack: string literals "must be valid JSON strings".
        let value: String = serde_json::from_str(value.trim()).map_err(|_| "incomplete_filter")?;
        if !op.eq_ignore_ascii_case("eq") {
            return Err("invalid_query (emulator: only `eq` is supported)");
        }
        if attr.eq_ignore_ascii_case("email") {
            Ok(Self::Email(value))
        } else if attr.eq_ignore_ascii_case("username") {
            Ok(Self::UserName(value))
        } else {
            Err("invalid_query (emulator: only email and userName filters are supported)")
        }
    }

    fn matches(&self, user: &Value) -> bool {
        match self {
            Self::Email(want) => emails(user).any(|e| e.eq_ignore_ascii_case(want)),
            Self::UserName(want) => user
                .get("userName")
                .and_then(Value::as_str)
                .is_some_and(|u| u.eq_ignore_ascii_case(want)),
        }
    }
}

fn emails(user: &Value) -> impl Iterator<Item = &str> {
    user.get("emails")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("value").and_then(Value::as_str))
}

fn is_bot(user: &Value) -> bool {
    emails(user).any(|e| e.to_ascii_lowercase().ends_with(BOT_DOMAIN))
}

/// A page of users: picked under the lock, serialised after it is released, so concurrent
/// page requests are rendered in parallel as a real server would.
fn list_users(shared: &Mutex<State>, req: &Req, version: Version) -> Response {
    let (start, count) = paging(req);
    let filter = match req.param("filter").map(Filter::parse).transpose() {
        Ok(filter) => filter,
        Err(code) => return error(version, StatusCode::BAD_REQUEST, code),
    };
    let (page, total) = {
        let mut guard = lock(shared);
        let st = &mut *guard;
        let filter = filter.filter(|_| !(version == Version::V2 && st.v2_ignores_filter));
        if filter.is_none() && start > 1 {
            let n = st.faults.churn_during_paging;
            st.churn(n);
        }
        if filter.is_none() && st.order.is_none() {
            st.order = Some(st.users.keys().cloned().collect());
        }
        let st = &*st;
        let now = Instant::now();
        if let Some(filter) = filter {
            let matching: Vec<&Value> = st
                .users
                .values()
                .map(|rec| rec.visible(now))
                .filter(|u| filter.matches(u))
                .collect();
            let page: Vec<Value> = matching
                .iter()
                .skip(start - 1)
                .take(count)
                .map(|u| st.render_user(u, version))
                .collect();
            (page, matching.len())
        } else {
            // Unfiltered pages are a slice of the id order: a 1M-user listing is 1,000 cheap
            // pages, not 1,000 walks from the first user.
            // The order is the map's key order: one lookup finds the page, then it is walked.
            let order = st.order.as_deref().unwrap_or_default();
            let from = (start - 1).min(order.len());
            let to = (from + count).min(order.len());
            let page: Vec<_> = order.get(from).map_or_else(Vec::new, |first| {
                st.users
                    .range::<str, _>((Bound::Included(first.as_str()), Bound::Unbounded))
                    .take(to - from)
                    .map(|(_, rec)| st.listed_user(rec, now, version))
                    .collect()
            });
            let total = st.faults.claimed_total.unwrap_or(st.users.len());
            let echoed = st.faults.echoed_start_index.unwrap_or(start);
            let html = st.faults.html_page_at == Some(start);
            drop(guard);
            if html {
                return kit::text(
                    StatusCode::OK,
                    "text/html",
                    "<html><body><h1>Sign in</h1></body></html>\n",
                );
            }
            // The rendered texts, their commas and the envelope.
            let size = page.iter().map(|u| u.get().len() + 1).sum::<usize>() + 512;
            return list_body(version, page, total, echoed, size);
        }
    };
    list_body(version, page, total, start, 0)
}

fn get_user(st: &State, id: &str, version: Version) -> Response {
    let id = match &st.faults.misdirected_user {
        Some((asked, answered)) if asked == id => answered.as_str(),
        _ => id,
    };
    match st.users.get(id) {
        Some(rec) => kit::json(
            StatusCode::OK,
            &st.render_user(rec.visible(Instant::now()), version),
        ),
        None => error(version, st.no_such_user, "no_such_user"),
    }
}

fn list_groups(st: &State, req: &Req, version: Version) -> Response {
    if req.param("filter").is_some() {
        return error(
            version,
            StatusCode::BAD_REQUEST,
            "invalid_query (emulator: groups cannot be filtered)",
        );
    }
    let (start, count) = paging(req);
    let page = st
        .groups
        .values()
        .skip(start - 1)
        .take(count)
        .map(|g| st.render_group(g, version))
        .collect();
    list_body(version, page, st.groups.len(), start, 0)
}

fn get_group(st: &State, id: &str, version: Version) -> Response {
    match st.groups.get(id) {
        Some(g) => kit::json(StatusCode::OK, &st.render_group(g, version)),
        None => error(version, StatusCode::NOT_FOUND, "no_such_group"),
    }
}

/// Releases a user's write lock even when the request future is dropped mid-write.
struct UserLock<'a> {
    shared: &'a Mutex<State>,
    id: &'a str,
}

impl Drop for UserLock<'_> {
    fn drop(&mut self) {
        lock(self.shared).unlock_user(self.id);
    }
}

async fn write(
    shared: &Arc<Mutex<State>>,
    req: &Req,
    version: Version,
    id: &str,
    faults: &Faults,
) -> Response {
    {
        let mut st = lock(shared);
        if !st.users.contains_key(id) {
            return error(version, st.no_such_user, "no_such_user");
        }
        if !st.lock_user(id) {
            // Slack: one update at a time per user; a concurrent write gets 429.
            let wait = st.retry_after(1.0);
            return too_many(version, &st.retry_after_value(wait));
        }
    }
    let guard = UserLock { shared, id };
    kit::pause(faults.latency).await;
    let resp = {
        let mut st = lock(shared);
        if req.method == Method::PATCH && faults.patch_ignored {
            ignored_patch(&mut st, id, version)
        } else if req.method == Method::PATCH {
            patch(&mut st, id, version, &req.body)
        } else {
            delete(&mut st, id, version)
        }
    };
    drop(guard);
    resp
}

/// Refusals Slack applies to deactivation.
fn refuse_deactivation(st: &State, id: &str, version: Version) -> Option<Response> {
    let user = &st.users.get(id)?.res;
    if is_bot(user) {
        return Some(error(
            version,
            StatusCode::BAD_REQUEST,
            "cannot_disable_bot_user_with_scim",
        ));
    }
    if st.owners.iter().any(|o| o == id) {
        return Some(error(version, StatusCode::FORBIDDEN, "cannot_modify_owner"));
    }
    if st.primary_owner.as_deref() == Some(id) {
        return Some(error(
            version,
            StatusCode::BAD_REQUEST,
            "cannot_disable_primary_owner",
        ));
    }
    None
}

fn patch(st: &mut State, id: &str, version: Version, body: &[u8]) -> Response {
    let Some(rec) = st.users.get_mut(id) else {
        // Churned away while the write waited.
        return error(version, st.no_such_user, "no_such_user");
    };
    rec.patches += 1;
    st.stats.patches += 1;
    let parsed = match version {
        Version::V1 => parse_v1_patch(body),
        Version::V2 => parse_v2_patch(body),
    };
    let active = match parsed {
        Ok(active) => active,
        Err(description) => return error(version, StatusCode::BAD_REQUEST, &description),
    };
    if !active && let Some(refusal) = refuse_deactivation(st, id, version) {
        return refusal;
    }
    st.set_active(id, active);
    if st.patch_204 {
        return kit::empty(StatusCode::NO_CONTENT);
    }
    match st.current_user(id, version) {
        Some(user) => kit::json(StatusCode::OK, &user),
        None => error(version, st.no_such_user, "no_such_user"),
    }
}

/// A PATCH counted and answered 200 with the unchanged account (`Faults::patch_ignored`).
fn ignored_patch(st: &mut State, id: &str, version: Version) -> Response {
    if let Some(rec) = st.users.get_mut(id) {
        rec.patches += 1;
        st.stats.patches += 1;
    }
    match st.current_user(id, version) {
        Some(user) => kit::json(StatusCode::OK, &user),
        None => error(version, st.no_such_user, "no_such_user"),
    }
}

fn delete(st: &mut State, id: &str, version: Version) -> Response {
    if !st.users.contains_key(id) {
        return error(version, st.no_such_user, "no_such_user");
    }
    st.stats.deletes += 1;
    if let Some(refusal) = refuse_deactivation(st, id, version) {
        return refusal;
    }
    // DELETE deactivates; repeating it is harmless.
    st.set_active(id, false);
    kit::empty(StatusCode::NO_CONTENT)
}

fn body_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, String> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err("invalid_request_payload (body is not a JSON object)".to_owned()),
        Err(_) => Err("invalid_request_payload (body is not JSON)".to_owned()),
    }
}

fn has_schema(obj: &serde_json::Map<String, Value>, urn: &str) -> bool {
    obj.get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(urn)))
}

fn only_active(attribute: &str) -> String {
    format!("invalid_request_payload (emulator: only `active` may be patched, got `{attribute}`)")
}

/// v1: `{"schemas":["urn:scim:schemas:core:1.0"],"active":false}`; the new `active`.
fn parse_v1_patch(body: &[u8]) -> Result<bool, String> {
    let obj = body_object(body)?;
    if !has_schema(&obj, V1_CORE) {
        return Err("missing_schema_element".to_owned());
    }
    if let Some(other) = obj.keys().find(|k| *k != "schemas" && *k != "active") {
        return Err(only_active(other));
    }
    match obj.get("active") {
        Some(Value::Bool(active)) => Ok(*active),
        Some(_) => Err("invalid_attribute_format (active must be a JSON boolean)".to_owned()),
        None => Err("invalid_request_payload (no `active` in the body)".to_owned()),
    }
}

/// v2: a PatchOp whose operations all `replace` path `active` with a boolean; the last wins.
fn parse_v2_patch(body: &[u8]) -> Result<bool, String> {
    let obj = body_object(body)?;
    if !has_schema(&obj, V2_PATCH_OP) {
        return Err("missing_schema_element".to_owned());
    }
    if let Some(other) = obj.keys().find(|k| *k != "schemas" && *k != "Operations") {
        return Err(only_active(other));
    }
    let ops = obj
        .get("Operations")
        .and_then(Value::as_array)
        .filter(|ops| !ops.is_empty())
        .ok_or("invalid_request_payload (no Operations)")?;
    let mut active = None;
    for op in ops {
        let op = op
            .as_object()
            .ok_or("invalid_request_payload (an operation is not an object)")?;
        if let Some(other) = op
            .keys()
            .find(|k| !matches!(k.as_str(), "op" | "path" | "value"))
        {
            return Err(format!(
                "invalid_request_payload (unknown operation key `{other}`)"
            ));
        }
        let kind = op.get("op").and_then(Value::as_str).unwrap_or_default();
        if !kind.eq_ignore_ascii_case("replace") && !kind.eq_ignore_ascii_case("add") {
            return Err(format!(
                "invalid_request_payload (emulator: only replace of `active`, got op `{kind}`)"
            ));
        }
        match op.get("path").and_then(Value::as_str) {
            Some(path) if path.eq_ignore_ascii_case("active") => {}
            Some(path) => return Err(only_active(path)),
            None => {
                return Err(
                    "invalid_request_payload (emulator: send path \"active\", not a path-less value)"
                        .to_owned(),
                );
            }
        }
        match op.get("value") {
            Some(Value::Bool(b)) => active = Some(*b),
            _ => {
                return Err("invalid_attribute_format (active must be a JSON boolean)".to_owned());
            }
        }
    }
    active.ok_or_else(|| "invalid_request_payload (no Operations)".to_owned())
}
