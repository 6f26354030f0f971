//! Reading the live APIs: an HTTP client with a shared rate limiter and retries
//! (`Retry-After`, backoff with jitter), and the fetchers that turn Slack SCIM and JumpCloud
//! listings into a [`Snapshot`](crate::source::Snapshot) of raw page bodies.
//!
//! GET only. Never logs a header or a token; `-v` logs method, path, status and duration.

mod error;
pub mod jumpcloud;
pub mod limiter;
pub mod retry;
pub mod slack;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::secret::Secret;
pub(crate) use error::spaced;
pub use error::{Error, is_endpoint_error, is_scim_not_found, scim_error_detail};
use error::{SLACK, body_detail, is_account_refusal};
use limiter::Limiter;
use retry::{Class, Jitter, RetryPolicy};

/// Counters of one run, for logs and benchmarks.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests sent (retries included).
    pub requests: AtomicU64,
    /// 429 answers.
    pub rate_limited: AtomicU64,
    /// Retries after 5xx or transport errors.
    pub retries: AtomicU64,
}

/// Knobs shared by the fetchers.
#[derive(Clone, Copy, Debug)]
pub struct NetOptions {
    /// Client-side limit on every read (Slack's org-wide read bucket), per minute.
    pub per_minute: u32,
    /// Reads allowed at once before the rate applies.
    pub burst: u32,
    /// A further limit on reads of one resource (a GET without a query, `GET /Users/{id}`),
    /// which Slack limits by their own bucket as well; listings and filters are not.
    pub single_per_minute: u32,
    /// Such reads allowed at once before their rate applies.
    pub single_burst: u32,
    /// Client-side limit on writes, per minute.
    pub writes_per_minute: u32,
    /// Writes allowed at once before the rate applies.
    pub write_burst: u32,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retry policy.
    pub retry: RetryPolicy,
}

/// A base URL checked for scheme and loopback.
#[derive(Clone, Debug)]
pub struct BaseUrl(String);

impl BaseUrl {
    /// Parses `raw`; plain `http://` is allowed only for loopback hosts.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let url = reqwest::Url::parse(raw.trim()).map_err(|e| Error::BadUrl {
            url: raw.to_owned(),
            problem: e.to_string(),
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            // Never echo the credentials back.
            let mut shown = url.clone();
            let _ = shown.set_username("");
            let _ = shown.set_password(None);
            return Err(Error::BadUrl {
                url: shown.to_string(),
                problem: "credentials in the URL; use the token variable or file".to_owned(),
            });
        }
        if url.query().is_some() || url.fragment().is_some() {
            // Every request path is appended to the base: after a `?` or `#` it would be lost.
            // Not echoed: a query may carry a token.
            let mut shown = url.clone();
            shown.set_query(None);
            shown.set_fragment(None);
            return Err(Error::BadUrl {
                url: format!("{shown}?…"),
                problem: "a base URL has no query string or fragment".to_owned(),
            });
        }
        match url.scheme() {
            "https" => {}
            "http" => {
                let loopback = match url.host() {
                    Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                    None => false,
                };
                if !loopback {
                    return Err(Error::Insecure {
                        url: raw.to_owned(),
                    });
                }
            }
            other => {
                return Err(Error::BadUrl {
                    url: raw.to_owned(),
                    problem: format!("scheme `{other}` (expected https, or http to loopback)"),
                });
            }
        }
        let mut s = url.to_string();
        while s.ends_with('/') {
            s.pop();
        }
        Ok(Self(s))
    }

    /// The URL without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last path segment (`v1`, `v2`, …).
    pub fn last_segment(&self) -> Option<&str> {
        let after_scheme = self.0.split_once("://").map_or(self.0.as_str(), |(_, r)| r);
        after_scheme
            .split_once('/')
            .and_then(|(_, path)| path.rsplit('/').next())
    }
}

/// An authenticated GET client for one service.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: BaseUrl,
    headers: HeaderMap,
    limiter: Arc<Limiter>,
    single_limiter: Arc<Limiter>,
    write_limiter: Arc<Limiter>,
    policy: RetryPolicy,
    service: &'static str,
    auth_hint: &'static str,
    /// 429 answers in a row, so a server that sends no `Retry-After` meets a growing backoff.
    limited_in_a_row: Arc<std::sync::atomic::AtomicU32>,
    /// Counters.
    pub stats: Arc<Stats>,
    /// Whether `GET /Users?filter=…` is worth trying: cleared once the server ignores or
    /// refuses a filter (Slack documents none for v2), so the run stops paying a listing read
    /// before each single read.
    pub filter_works: Arc<std::sync::atomic::AtomicBool>,
    /// The credential as sent, blanked out of any answer text quoted back (a proxy's debug page
    /// or an echo service would otherwise print it in an error).
    credential: Secret,
}

impl Client {
    /// A client for `base` sending `auth` as `header` (`Authorization: Bearer …` or
    /// `x-api-key`), plus any `extra` headers.
    pub fn new(
        service: &'static str,
        auth_hint: &'static str,
        base: BaseUrl,
        auth: &(&'static str, String),
        extra: &[(&'static str, String)],
        options: &NetOptions,
    ) -> Result<Self, Error> {
        let mut headers = HeaderMap::new();
        for (name, value) in std::iter::once(auth).chain(extra) {
            let mut v = HeaderValue::from_str(value).map_err(|_| Error::BadUrl {
                url: base.as_str().to_owned(),
                problem: format!("the {name} header value has characters HTTP does not allow"),
            })?;
            v.set_sensitive(true);
            headers.insert(HeaderName::from_static(name), v);
        }
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        let http = reqwest::Client::builder()
            .user_agent(concat!(
                env!("CARGO_PKG_NAME"),
                "/",
                env!("CARGO_PKG_VERSION")
            ))
            .timeout(options.timeout)
            .connect_timeout(Duration::from_secs(10))
            // Never follow a redirect: custom auth headers would follow it to another host, and
            // a PATCH would be replayed elsewhere. A 3xx is reported as an error.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(Error::Client)?;
        Ok(Self {
            http,
            base,
            headers,
            limiter: Arc::new(Limiter::new(options.per_minute, options.burst)),
            single_limiter: Arc::new(Limiter::new(
                options.single_per_minute,
                options.single_burst,
            )),
            write_limiter: Arc::new(Limiter::new(options.writes_per_minute, options.write_burst)),
            policy: options.retry,
            service,
            auth_hint,
            limited_in_a_row: Arc::new(std::sync::atomic::AtomicU32::new(0)),
            stats: Arc::new(Stats::default()),
            filter_works: Arc::new(std::sync::atomic::AtomicBool::new(true)),
            credential: Secret::new(auth.1.clone()),
        })
    }

    /// An answer's body with the credential blanked out, before any of it is quoted (and
    /// before it is cut short, which could leave half a token).
    pub fn redact<'b>(&self, body: &'b [u8]) -> std::borrow::Cow<'b, [u8]> {
        let secret = self.credential.expose();
        // The token alone, whatever precedes it in the header (`Bearer `).
        let token = secret.rsplit(' ').next().unwrap_or(secret).as_bytes();
        // Every page goes through here: a substring search, not a compare at every offset
        // (that took ~10 ms of the runtime's thread per 1 MB page).
        if token.len() < 4 || memchr::memmem::find(body, token).is_none() {
            return std::borrow::Cow::Borrowed(body);
        }
        let text = String::from_utf8_lossy(body).replace(
            std::str::from_utf8(token).unwrap_or_default(),
            "[credential redacted]",
        );
        std::borrow::Cow::Owned(text.into_bytes())
    }

    /// A Slack SCIM client (`Authorization: Bearer`).
    pub fn slack(base: BaseUrl, token: &Secret, options: &NetOptions) -> Result<Self, Error> {
        Self::new(
            SLACK,
            "check the token (SLACK_SCIM_TOKEN or --token-file), that it carries the `admin` scope and its owner is still an Admin or Owner, and on Enterprise Grid that the app is installed on the org, not a workspace",
            base,
            &("authorization", format!("Bearer {}", token.expose())),
            &[],
            options,
        )
    }

    /// A JumpCloud client (`x-api-key`, and `x-org-id` for multi-tenant admins).
    pub fn jumpcloud(
        base: BaseUrl,
        key: &Secret,
        org_id: Option<&str>,
        options: &NetOptions,
    ) -> Result<Self, Error> {
        let extra: Vec<(&'static str, String)> = org_id
            .map(|o| ("x-org-id", o.to_owned()))
            .into_iter()
            .collect();
        Self::new(
            "JumpCloud",
            "check the API key (JUMPCLOUD_API_KEY or --api-key-file); multi-tenant admins also need --org-id",
            base,
            &("x-api-key", key.expose().to_owned()),
            &extra,
            options,
        )
    }

    /// The retry policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The base URL.
    pub fn base(&self) -> &BaseUrl {
        &self.base
    }

    /// Sends one request (no retry), after waiting for the write limiter, or the read limiter
    /// (and, for a single resource, the single-read limiter too).
    pub async fn send_once(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Attempt {
        let write = method != reqwest::Method::GET;
        let limiter = if write {
            &self.write_limiter
        } else {
            &self.limiter
        };
        if !write && !path.contains('?') {
            self.single_limiter.acquire().await;
        }
        limiter.acquire().await;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let url = format!("{}{path}", self.base.as_str());
        let mut request = self
            .http
            .request(method.clone(), &url)
            .headers(self.headers.clone());
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).unwrap_or_default());
        }
        let attempt = match request.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry::parse_retry_after(v, jiff::Timestamp::now()));
                let total_count = resp
                    .headers()
                    .get("x-total-count")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok());
                match read_body(resp).await {
                    Ok(body) => Attempt::Answer {
                        status,
                        body,
                        retry_after,
                        total_count,
                    },
                    Err(message) => Attempt::Transport(message),
                }
            }
            Err(e) => Attempt::Transport(transport_message(&e)),
        };
        let outcome = match &attempt {
            Attempt::Answer { status, .. } => status.to_string(),
            Attempt::Transport(_) => "transport error".to_owned(),
        };
        tracing::info!(
            "{method} {path} -> {outcome} in {} ms",
            started.elapsed().as_millis()
        );
        if let Attempt::Answer {
            status: 429,
            retry_after,
            ..
        } = &attempt
        {
            self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            let in_a_row = self.limited_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
            let wait = retry::rate_limit_wait(&self.policy, *retry_after, in_a_row, 0.5);
            limiter.pause_for(wait);
        } else if matches!(attempt, Attempt::Answer { .. }) {
            self.limited_in_a_row.store(0, Ordering::Relaxed);
        }
        attempt
    }

    /// The error for a non-success answer that is not retried: auth (401/403, or Slack v2's
    /// `400 unsupported_version`) or any other status.
    pub fn refusal(&self, method: &'static str, path: &str, status: u16, body: &[u8]) -> Error {
        let detail = body_detail(&self.redact(body));
        // Only a PATCH's 403 can be about the account it names; a 401, or a 403 on a read, is
        // the token's.
        let account_refusal = method == "PATCH"
            && status == 403
            && scim_error_detail(body).is_some_and(|d| is_account_refusal(&d));
        let auth = (retry::classify(status) == Class::Auth && !account_refusal)
            || (status == 400 && detail.contains("unsupported_version"));
        if auth {
            Error::Auth {
                service: self.service,
                method,
                status,
                detail,
                path: path.to_owned(),
                hint: self.auth_hint,
            }
        } else {
            Error::Status {
                service: self.service,
                method,
                status,
                detail,
                path: path.to_owned(),
                scim_not_found: is_scim_not_found(status, body),
            }
        }
    }

    /// GETs `path` (with its query) under the base URL, retrying as the policy says.
    pub async fn get(&self, path: &str) -> Result<Vec<u8>, Error> {
        self.get_counted(path).await.map(|(body, _)| body)
    }

    /// [`Client::get`], with the answer's `x-total-count` header when it has one.
    pub async fn get_counted(&self, path: &str) -> Result<(Vec<u8>, Option<u64>), Error> {
        let mut jitter = Jitter::new(self.stats.requests.load(Ordering::Relaxed));
        let mut failures = 0u32;
        let mut limited = 0u32;
        let mut first_429: Option<Instant> = None;
        loop {
            let mut no_answer = false;
            let failure = match self.send_once(reqwest::Method::GET, path, None).await {
                Attempt::Answer {
                    status,
                    body,
                    total_count,
                    ..
                } => match retry::classify(status) {
                    // A body that quotes the credential (an echo or debug page answered 200)
                    // is blanked here, before any of it can reach an error or a snapshot.
                    Class::Success => {
                        let body = match self.redact(&body) {
                            std::borrow::Cow::Borrowed(_) => body,
                            std::borrow::Cow::Owned(clean) => clean,
                        };
                        return Ok((body, total_count));
                    }
                    Class::RateLimited => {
                        limited += 1;
                        let since = *first_429.get_or_insert_with(Instant::now);
                        if limited > self.policy.max_429
                            || since.elapsed() > self.policy.max_429_wait
                        {
                            return Err(Error::RateLimited {
                                service: self.service,
                                path: path.to_owned(),
                                count: limited,
                            });
                        }
                        tracing::warn!("GET {path}: 429, waiting (Retry-After, else backoff)");
                        continue;
                    }
                    Class::Transient => {
                        format!("HTTP {status}{}", spaced(&body_detail(&self.redact(&body))))
                    }
                    Class::Auth | Class::Fatal => {
                        return Err(self.refusal("GET", path, status, &body));
                    }
                },
                Attempt::Transport(message) => {
                    no_answer = true;
                    message
                }
            };
            failures += 1;
            if failures > self.policy.max_retries {
                return Err(Error::RetriesExhausted {
                    service: self.service,
                    path: path.to_owned(),
                    attempts: failures,
                    last: failure,
                    no_answer,
                });
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            let wait = retry::backoff(&self.policy, failures, jitter.next_f64());
            tracing::warn!("GET {path}: {failure}; retry {failures} in {wait:?}");
            tokio::time::sleep(wait).await;
        }
    }
}

/// The whole body, read chunk by chunk into one buffer sized from `Content-Length` (a 1 MB
/// listing page is then copied once, not gathered and copied twice).
/// A body past [`MAX_BODY`] is cut off and the answer counts as a transport failure: a page of
/// 1,000 Slack accounts is ~1 MB, and a server streaming without end must not exhaust memory.
async fn read_body(mut resp: reqwest::Response) -> Result<Vec<u8>, String> {
    // A lying header must not make us reserve gigabytes up front.
    const MAX_RESERVE: u64 = 16 << 20;
    let hint = resp.content_length().unwrap_or(0).min(MAX_RESERVE);
    let mut body = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport_message(&e))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!(
                "the answer is larger than {} MiB, more than any page or account needs; cut off",
                MAX_BODY >> 20
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The largest answer body read.
const MAX_BODY: usize = 64 << 20;

/// One request's result: an answer (any status) or a transport failure.
#[derive(Debug)]
pub enum Attempt {
    /// The server answered.
    Answer {
        /// HTTP status.
        status: u16,
        /// The body.
        body: Vec<u8>,
        /// `Retry-After`, parsed.
        retry_after: Option<Duration>,
        /// `x-total-count` (JumpCloud v2 listings, where sent), parsed.
        total_count: Option<u64>,
    },
    /// No answer (connection refused or dropped, timeout), with the causes.
    Transport(String),
}

/// A transport error's message with its causes, without the URL's query or headers.
fn transport_message(e: &reqwest::Error) -> String {
    let mut parts = vec![if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "connection failed".to_owned()
    } else {
        "transport error".to_owned()
    }];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

/// Runs `jobs` with at most `concurrency` at once, keeping their order; stops at the first
/// error.
///
/// `concurrency` workers each take the next job as soon as their last one is done: the next
/// request leaves from the task that just read an answer, with no hand-over to another task.
pub(crate) async fn bounded<T, F>(concurrency: usize, jobs: Vec<F>) -> Result<Vec<T>, Error>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    let n = jobs.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let queue = Arc::new(std::sync::Mutex::new(jobs.into_iter().enumerate()));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency.clamp(1, n) {
        let queue = Arc::clone(&queue);
        set.spawn(async move {
            let mut done = Vec::new();
            loop {
                let next = queue
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .next();
                let Some((i, job)) = next else {
                    return Ok(done);
                };
                done.push((i, job.await?));
            }
        });
    }
    let mut out: Vec<Option<T>> = std::iter::repeat_with(|| None).take(n).collect();
    while let Some(done) = set.join_next().await {
        match done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())) {
            Ok(results) => {
                for (i, v) in results {
                    out[i] = Some(v);
                }
            }
            Err(e) => {
                set.abort_all();
                return Err(e);
            }
        }
    }
    Ok(out.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests;
