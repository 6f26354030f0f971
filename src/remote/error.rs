//! Why a live read failed ([`Error`]), and what an error answer's body says: whether it is the
//! SCIM API's own "no such user", an account's refusal, or an endpoint error. No I/O.

/// Why a live read failed. URLs never carry credentials (they travel in headers).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not an http(s) URL.
    #[error("invalid URL `{url}`: {problem}")]
    BadUrl {
        /// The URL.
        url: String,
        /// What is wrong.
        problem: String,
    },
    /// Plain HTTP to a host that is not loopback.
    #[error(
        "refusing plain http:// to {url}: credentials would travel unencrypted (only loopback hosts may use http)"
    )]
    Insecure {
        /// The URL.
        url: String,
    },
    /// 401 or 403 (or Slack's v2 answer to a bad token).
    #[error(
        "{service} refused the credentials: HTTP {status}{} on {method} {path}; {hint}",
        spaced(detail)
    )]
    Auth {
        /// "Slack SCIM" or "JumpCloud".
        service: &'static str,
        /// GET or PATCH.
        method: &'static str,
        /// HTTP status.
        status: u16,
        /// The error code or message from the body.
        detail: String,
        /// The path requested.
        path: String,
        /// The likely cause.
        hint: &'static str,
    },
    /// Any other non-success status that is not retried.
    #[error("{service} answered HTTP {status}{} on {method} {path}{}", spaced(detail), not_scim_hint(service, *.status, *.scim_not_found))]
    Status {
        /// "Slack SCIM" or "JumpCloud".
        service: &'static str,
        /// GET or PATCH.
        method: &'static str,
        /// HTTP status.
        status: u16,
        /// The error code or message from the body.
        detail: String,
        /// The path requested.
        path: String,
        /// The body is a SCIM error saying the resource does not exist (see
        /// [`is_scim_not_found`]): only then is an account gone.
        scim_not_found: bool,
    },
    /// Retries used up on 5xx or transport errors.
    #[error("{service}: GET {path} failed after {attempts} attempts: {last}")]
    RetriesExhausted {
        /// "Slack SCIM" or "JumpCloud".
        service: &'static str,
        /// The path requested.
        path: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
        /// The last attempt got no HTTP answer at all (refused, reset, timed out): the service
        /// is unreachable, not just failing on this path.
        no_answer: bool,
    },
    /// `GET /Users/{id}` answered with another account: a server (or a proxy's cache) that
    /// cannot be trusted with writes.
    #[error(
        "Slack SCIM answered GET /Users/{asked} with account {answered}; nothing about {asked} can be judged from it"
    )]
    WrongAccount {
        /// The account asked for.
        asked: String,
        /// The account the body describes.
        answered: String,
    },
    /// Too many 429 answers for one request.
    #[error("{service}: GET {path} still rate-limited after {count} 429 answers")]
    RateLimited {
        /// "Slack SCIM" or "JumpCloud".
        service: &'static str,
        /// The path requested.
        path: String,
        /// 429s received.
        count: u32,
    },
    /// A body that is not what the API documents.
    #[error("{service}: GET {path}: unexpected body")]
    Body {
        /// "Slack SCIM" or "JumpCloud".
        service: &'static str,
        /// The path requested.
        path: String,
        /// `serde_json`'s account.
        #[source]
        source: serde_json::Error,
    },
    /// The listing changed while it was paged, on every attempt.
    #[error(
        "{what} kept changing while it was paged ({attempts} attempts): {problem}; nothing was saved"
    )]
    Unstable {
        /// Which listing.
        what: String,
        /// Attempts made.
        attempts: u32,
        /// The last inconsistency seen.
        problem: String,
    },
    /// A fetched listing that the loader rejects.
    #[error("the fetched {what} cannot be read")]
    Snapshot {
        /// Which listing.
        what: &'static str,
        /// The loader's account.
        #[source]
        source: Box<crate::source::Error>,
    },
    /// A listing that cannot be saved as complete (no total, nothing in it, ids that cannot name
    /// a folder).
    #[error("{what}: {problem}; nothing was saved")]
    Incomplete {
        /// Which listing.
        what: String,
        /// What is wrong.
        problem: String,
    },
    /// The base URL does not answer as a SCIM API.
    #[error(
        "{url} does not answer as a SCIM API: GET {path} {problem}; pass the SCIM base URL (Slack: https://api.slack.com/scim/v1 or …/scim/v2)"
    )]
    NotScim {
        /// The base URL.
        url: String,
        /// The path read.
        path: String,
        /// What came back.
        problem: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client")]
    Client(#[source] reqwest::Error),
}

/// The service name of Slack's errors.
pub(super) const SLACK: &str = "Slack SCIM";

/// What an error adds when a 404 did not come from the SCIM API itself.
fn not_scim_hint(service: &str, status: u16, scim_not_found: bool) -> &'static str {
    if service == SLACK && status == 404 && !scim_not_found {
        "; not a SCIM error: is the URL the SCIM base (…/scim/v1 or …/scim/v2)?"
    } else {
        ""
    }
}

/// The error text of a SCIM error body (v1's `Errors` object, or v2's error schema); `None` when
/// the body is not one (a proxy's or web server's page, an empty body).
pub fn scim_error_detail(body: &[u8]) -> Option<String> {
    const V2_ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
    let v = serde_json::from_slice::<serde_json::Value>(body).ok()?;
    let scim = v.get("Errors").is_some_and(serde_json::Value::is_object)
        || v.get("schemas")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|s| s.iter().any(|x| x == V2_ERROR));
    scim.then(|| {
        v.pointer("/Errors/description")
            .or_else(|| v.get("detail"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    })
}

/// A SCIM error's code: its first word (Slack sends `bad_endpoint`, sometimes with more words).
fn error_code(detail: &str) -> &str {
    detail
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or_default()
}

/// Whether a SCIM error is about the request's endpoint or method (Slack's `bad_endpoint`,
/// `method_not_allowed`, perhaps with more words after), not about a resource.
pub fn is_endpoint_error(detail: &str) -> bool {
    matches!(error_code(detail), "bad_endpoint" | "method_not_allowed")
}

/// Slack's refusals to change one account (reference: errors), whatever their status: a 403
/// with one of these is about that account, not the token.
pub(super) fn is_account_refusal(detail: &str) -> bool {
    matches!(
        error_code(detail),
        "cannot_modify_owner"
            | "cannot_disable_primary_owner"
            | "primary_owner_check_failure"
            | "cannot_disable_bot_user_with_scim"
            | "cannot_modify_gdpr"
    )
}

/// Whether an answer is the SCIM server's own "no such resource": a 404 whose body is a SCIM
/// error that is not about the endpoint, or Slack's `no_such_user`/`unknown_user` under a 400 or
/// 410 (Slack documents the codes, not their status; a 401/403 saying so is still the token's). A 404 from anything else (a wrong base URL, a
/// proxy, a web server's page) must never mark an account gone. (A generic SCIM server answers
/// a wrong path with an ordinary SCIM error: `apply` and `verify` first prove the base URL with
/// a listing read.)
pub fn is_scim_not_found(status: u16, body: &[u8]) -> bool {
    scim_error_detail(body).is_some_and(|d| {
        (status == 404 && !is_endpoint_error(&d))
            || (matches!(status, 400 | 410)
                && matches!(error_code(&d), "no_such_user" | "unknown_user"))
    })
}

/// `text` after a space, or nothing when it is empty (an answer without a body).
pub(crate) fn spaced(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(" {text}")
    }
}

pub(super) fn body_detail(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        description: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(rename = "Errors")]
        errors: Option<Errors>,
        detail: Option<String>,
        message: Option<String>,
    }
    let parsed: Option<Body> = serde_json::from_slice(body).ok();
    let detail = parsed.and_then(|b| {
        b.errors
            .and_then(|e| e.description)
            .or(b.detail)
            .or(b.message)
    });
    let mut text = detail.unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned());
    if text.len() > 200 {
        let mut cut = 200;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    if text.is_empty() {
        String::new()
    } else {
        format!("({text})")
    }
}
