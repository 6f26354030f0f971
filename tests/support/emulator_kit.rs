//! Plumbing shared by the Slack and JumpCloud emulators.
//!
//! Owns: the loopback HTTP/1.1 server (its own thread and tokio runtime, shut down on drop), the
//! request view handed to the emulators' routers, JSON response helpers, a seeded PRNG, and the
//! generator of people that both emulators draw from. Both emulators call [`person`] with the same
//! seed and index, so a Slack org and a JumpCloud org generated with one seed share their emails
//! and drift the way real ones do.
//!
//! Each emulator includes this file as its own private submodule (`#[path]`), because the
//! examples include one emulator file at a time.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Response body type of both emulators.
pub(crate) type Body = Full<Bytes>;
/// A complete response.
pub(crate) type Response = hyper::Response<Body>;

/// Largest request body read; a PATCH body is a few hundred bytes.
const MAX_BODY: usize = 1 << 20;

/// A request, fully read, as the routers see it.
pub(crate) struct Req {
    /// HTTP method.
    pub(crate) method: Method,
    /// Path without the query string, not percent-decoded (ids are plain ASCII).
    pub(crate) path: String,
    /// Raw query string (empty when absent), for the request log.
    pub(crate) raw_query: String,
    /// Query parameters, form-decoded, in order.
    pub(crate) query: Vec<(String, String)>,
    /// Request headers.
    pub(crate) headers: HeaderMap,
    /// Request body.
    pub(crate) body: Bytes,
}

impl Req {
    async fn read(req: hyper::Request<Incoming>) -> Result<Self, Dropped> {
        let (parts, body) = req.into_parts();
        let body = Limited::new(body, MAX_BODY)
            .collect()
            .await
            .map_err(|_| Dropped)?
            .to_bytes();
        let raw_query = parts.uri.query().unwrap_or_default().to_owned();
        let query = form_urlencoded::parse(raw_query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Ok(Self {
            method: parts.method,
            path: parts.uri.path().to_owned(),
            raw_query,
            query,
            headers: parts.headers,
            body,
        })
    }

    /// A header's value, when present and visible ASCII.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first value of a query parameter, matching its name exactly.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The non-empty path segments.
    pub(crate) fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }

    /// `METHOD /path?query`, as recorded in the request logs.
    pub(crate) fn log_line(&self) -> String {
        if self.raw_query.is_empty() {
            format!("{} {}", self.method, self.path)
        } else {
            format!("{} {}?{}", self.method, self.path, self.raw_query)
        }
    }
}

/// What a router decided for one request.
pub(crate) enum Outcome {
    /// Send this response.
    Respond(Response),
    /// Close the TCP connection without answering (a dropped-connection fault).
    Drop,
}

/// The error a connection's service returns to make hyper close the socket unanswered.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

/// Binds `127.0.0.1:port` (0 = any free port). Loopback only: the emulators hold fake tokens.
pub(crate) fn bind(port: u16) -> std::io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// A running server; dropping it stops the accept loop and the runtime.
pub(crate) struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `listener` with `handler` on a new thread with its own runtime. The socket is
    /// already listening, so clients may connect as soon as this returns.
    pub(crate) fn start<F, Fut>(
        name: &str,
        listener: std::net::TcpListener,
        handler: F,
    ) -> std::io::Result<Self>
    where
        F: Fn(Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let addr = listener.local_addr()?;
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name(format!("{name}-worker"))
            .enable_all()
            .build()?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let handler = Arc::new(handler);
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                runtime.block_on(accept_loop(listener, handler, stop_rx));
                // In-flight requests (e.g. sleeping on injected latency) are abandoned.
                runtime.shutdown_timeout(Duration::from_millis(200));
            })?;
        Ok(Self {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Dropping the sender also wakes the accept loop.
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

async fn accept_loop<F, Fut>(
    listener: std::net::TcpListener,
    handler: Arc<F>,
    mut stop: oneshot::Receiver<()>,
) where
    F: Fn(Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let Ok(listener) = TcpListener::from_std(listener) else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                tokio::spawn(serve_connection(stream, Arc::clone(&handler)));
            }
        }
    }
}

async fn serve_connection<F, Fut>(stream: TcpStream, handler: Arc<F>)
where
    F: Fn(Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    stream.set_nodelay(true).ok();
    let service = service_fn(move |req: hyper::Request<Incoming>| {
        let handler = Arc::clone(&handler);
        async move {
            let req = Req::read(req).await?;
            match handler(req).await {
                Outcome::Respond(resp) => Ok::<_, Dropped>(resp),
                // hyper closes the connection when the service fails: the client sees the socket
                // close with no status line, exactly like a proxy dropping the request.
                Outcome::Drop => Err(Dropped),
            }
        }
    });
    http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service)
        .await
        .ok();
}

/// A JSON response with Slack's content type (`application/json; charset=utf-8`).
pub(crate) fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    json_sized(status, 0, body)
}

/// [`json`], written into a buffer of `size` bytes to start with.
pub(crate) fn json_sized<T: Serialize + ?Sized>(
    status: StatusCode,
    size: usize,
    body: &T,
) -> Response {
    let mut bytes = Vec::with_capacity(size);
    serde_json::to_writer(&mut bytes, body).expect("emulator bodies are plain JSON values");
    let mut resp = hyper::Response::new(Full::new(Bytes::from(bytes)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

/// A non-JSON response, e.g. the HTML page a load balancer sends with a 502.
pub(crate) fn text(status: StatusCode, content_type: &'static str, body: &'static str) -> Response {
    let mut resp = hyper::Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A response without a body (DELETE's 204).
pub(crate) fn empty(status: StatusCode) -> Response {
    let mut resp = hyper::Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = status;
    resp
}

/// Adds a header to a response.
pub(crate) fn with_header(mut resp: Response, name: &'static str, value: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(value) {
        resp.headers_mut()
            .insert(HeaderName::from_static(name), value);
    }
    resp
}

/// Sleeps for `d` unless it is zero (a zero sleep still yields, which is pointless here).
pub(crate) async fn pause(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

/// Sleeps until `deadline` unless it has passed, waking within a few microseconds of it. Tokio's
/// timer rounds up to its 1 ms tick and the reactor's wait rounds up again, so a 50 ms latency
/// would come out ~52 ms: the timer is used to 2 ms before the deadline, then a precise sleep on
/// this worker (`block_in_place`, so the answer leaves from this thread with no hand-over).
pub(crate) async fn pause_until(deadline: tokio::time::Instant) {
    const COARSE: Duration = Duration::from_millis(2);
    let now = tokio::time::Instant::now();
    if deadline <= now {
        return;
    }
    if deadline - now > COARSE {
        tokio::time::sleep_until(deadline - COARSE).await;
    }
    let rest = deadline.saturating_duration_since(tokio::time::Instant::now());
    if !rest.is_zero() {
        tokio::task::block_in_place(|| std::thread::sleep(rest));
    }
}

/// `SplitMix64`: tiny, seedable, and good enough for fault dice and fake data.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator; equal seeds give equal sequences.
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    /// A generator for item `index` of stream `seed`, independent of how many items came before.
    pub(crate) fn for_item(seed: u64, index: u64) -> Self {
        let mut rng = Self::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index);
        rng.next_u64();
        rng
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        let Ok(n64) = u64::try_from(n) else {
            return 0;
        };
        if n64 == 0 {
            return 0;
        }
        usize::try_from(self.next_u64() % n64).unwrap_or(0)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        let high = u32::try_from(self.next_u64() >> 32).unwrap_or(u32::MAX);
        f64::from(high) / 4_294_967_296.0
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `len` characters from `alphabet`.
    pub(crate) fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len).map(|_| char::from(*self.pick(alphabet))).collect()
    }
}

/// Alphabet of Slack ids after the leading `U`/`W`.
pub(crate) const SLACK_ID_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Alphabet of JumpCloud's 24-hex `ObjectId`s.
pub(crate) const HEX: &[u8] = b"0123456789abcdef";
/// The company domain of generated people.
pub(crate) const DOMAIN: &str = "northwind.example";

const GIVEN: &[&str] = &[
    "Nora", "Omar", "Priya", "Wei", "Sam", "Marco", "Alice", "Bob", "Carol", "Dmitri", "Elena",
    "Farah", "Gustav", "Hana", "Ivan", "Jonas", "Keiko", "Liam", "Mei", "Nikolai", "Olga", "Pablo",
    "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wanda", "Xavier", "Yara", "Zoe", "Amara",
    "Bruno", "Chloe", "Diego", "Esther", "Felix", "Greta", "Hugo", "Ines", "Jamal", "Kira", "Leon",
    "Maya", "Nils", "Oscar", "Paula",
];
const FAMILY: &[&str] = &[
    "Lindqvist",
    "Haddad",
    "Raman",
    "Li",
    "OConnor",
    "Bianchi",
    "Wong",
    "Ortiz",
    "Lee",
    "Petrov",
    "Garcia",
    "Nakamura",
    "Svensson",
    "Mensah",
    "Kowalski",
    "Dubois",
    "Schmidt",
    "Rossi",
    "Novak",
    "Okafor",
    "Silva",
    "Jensen",
    "Costa",
    "Muller",
    "Tanaka",
    "Ivanova",
    "Fischer",
    "Moreau",
    "Larsen",
    "Yilmaz",
    "Khan",
    "Singh",
    "Nguyen",
    "Kim",
    "Park",
    "Chen",
    "Lopez",
    "Martin",
    "Brown",
    "Wilson",
    "Taylor",
    "Clark",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
];

/// What happened to a generated person, shared by both emulators so that the two orgs disagree
/// the way drifting orgs do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Active everywhere.
    Active,
    /// Suspended in JumpCloud and deactivated in Slack: offboarded correctly.
    Offboarded,
    /// Suspended in JumpCloud but still active in Slack: the drift the CLI hunts.
    Missed,
    /// Staged in JumpCloud (never activated), active in Slack.
    Staged,
    /// Locked out in JumpCloud.
    Locked,
    /// Password expired in JumpCloud.
    Expired,
}

/// One generated person.
#[derive(Clone, Debug)]
pub(crate) struct Person {
    /// Given name.
    pub(crate) given: &'static str,
    /// Family name.
    pub(crate) family: &'static str,
    /// Unique lower-case handle, at most 21 characters (Slack's limit).
    pub(crate) user_name: String,
    /// Company email, lower case.
    pub(crate) email: String,
    /// Lifecycle state.
    pub(crate) fate: Fate,
    /// Creation date, `YYYY-MM-DD`.
    pub(crate) created: String,
    /// Department name.
    pub(crate) department: &'static str,
}

/// Departments of generated people (and the Slack groups built from them).
pub(crate) const DEPARTMENTS: &[&str] = &["Engineering", "Sales", "Support", "Operations"];

/// Person `index` of the population seeded by `seed`; the same pair always gives the same person.
pub(crate) fn person(seed: u64, index: usize) -> Person {
    let combos = GIVEN.len() * FAMILY.len();
    // A seed-dependent rotation keeps the (given, family) mapping a bijection below `combos`.
    let offset = usize::try_from(seed % 1_000_003).unwrap_or(0);
    let slot = (index + offset) % combos;
    let given = GIVEN[slot % GIVEN.len()];
    let family = FAMILY[slot / GIVEN.len()];
    let round = index / combos;
    let base = format!("{}.{}", given.to_lowercase(), family.to_lowercase());
    let user_name = if round == 0 {
        truncate(&base, 21)
    } else {
        let suffix = round.to_string();
        format!("{}{suffix}", truncate(&base, 21 - suffix.len()))
    };
    let mut rng = Rng::for_item(seed, u64::try_from(index).unwrap_or(u64::MAX));
    let roll = rng.unit();
    let fate = match roll {
        r if r < 0.06 => Fate::Offboarded,
        r if r < 0.08 => Fate::Missed,
        r if r < 0.10 => Fate::Staged,
        r if r < 0.11 => Fate::Locked,
        r if r < 0.12 => Fate::Expired,
        _ => Fate::Active,
    };
    let created = format!(
        "{}-{:02}-{:02}",
        2016 + rng.below(10),
        1 + rng.below(12),
        1 + rng.below(28)
    );
    Person {
        given,
        family,
        email: format!("{user_name}@{DOMAIN}"),
        user_name,
        fate,
        created,
        department: DEPARTMENTS[index % DEPARTMENTS.len()],
    }
}

fn truncate(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    // A handle ending in the separator looks broken.
    while out.ends_with('.') {
        out.pop();
    }
    out
}

/// Reads every `*.json` file directly in `dir`, in file-name order (the page order of
/// `skip-000000.json`, `users-start-000001.json`, ...).
pub(crate) fn read_json_files(dir: &std::path::Path) -> std::io::Result<Vec<serde_json::Value>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p)?;
            serde_json::from_str(&text).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", p.display()),
                )
            })
        })
        .collect()
}
