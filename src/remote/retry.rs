//! Retry decisions, sans I/O: which answers are retried, how long to wait (`Retry-After` in
//! seconds or as an HTTP date, else capped exponential backoff with jitter). Never sleeps; the
//! caller does, so tests pass a fixed `now`.

use std::time::Duration;

/// How hard to try.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Retries after a 5xx or a transport error.
    pub max_retries: u32,
    /// 429 answers tolerated for one request before giving up.
    pub max_429: u32,
    /// Longest time one request may stay rate-limited, from its first 429 (a server sending
    /// long `Retry-After`s 30 times would otherwise hold a run for an hour).
    pub max_429_wait: Duration,
    /// First backoff.
    pub base: Duration,
    /// Longest backoff.
    pub cap: Duration,
    /// Longest `Retry-After` honoured (a longer one is capped, not ignored).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            max_429: 30,
            max_429_wait: Duration::from_mins(10),
            base: Duration::from_millis(250),
            cap: Duration::from_secs(20),
            max_retry_after: Duration::from_mins(2),
        }
    }
}

/// What an answer means for the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// 2xx.
    Success,
    /// 429: wait `Retry-After`, then retry.
    RateLimited,
    /// 5xx (or a transport error): retry with backoff.
    Transient,
    /// 401 or 403: stop at once.
    Auth,
    /// Any other status: do not retry.
    Fatal,
}

/// Classifies an HTTP status.
pub fn classify(status: u16) -> Class {
    match status {
        200..=299 => Class::Success,
        429 => Class::RateLimited,
        401 | 403 => Class::Auth,
        500..=599 => Class::Transient,
        _ => Class::Fatal,
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP date (past dates mean no wait).
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        // Too large for a Duration (`1e20`): as good as forever; the caller caps every wait.
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let delta = when.duration_since(now);
    Some(Duration::try_from(delta).unwrap_or(Duration::ZERO))
}

/// Backoff before retry number `attempt` (1-based); `jitter` in `0.0..1.0` spreads it between
/// half and all of the exponential step.
pub fn backoff(policy: &RetryPolicy, attempt: u32, jitter: f64) -> Duration {
    let exp = policy
        .base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(policy.cap);
    exp.mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0)
}

/// The wait after a 429: `Retry-After` (capped), else backoff. A zero `Retry-After` still waits
/// a little, so a server that says "now" is not hammered.
pub fn rate_limit_wait(
    policy: &RetryPolicy,
    retry_after: Option<Duration>,
    attempt: u32,
    jitter: f64,
) -> Duration {
    match retry_after {
        Some(d) => d.min(policy.max_retry_after).max(Duration::from_millis(50)),
        None => backoff(policy, attempt, jitter),
    }
}

/// A small xorshift generator for jitter (no need for a crate).
#[derive(Debug)]
pub struct Jitter(u64);

impl Jitter {
    /// Seeded from the clock and a counter.
    pub fn new(seed: u64) -> Self {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| {
                u64::try_from(d.as_nanos() & u128::from(u64::MAX)).unwrap_or(0)
            });
        Self((t ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    /// The next value in `0.0..1.0`.
    pub fn next_f64(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        // 53 random bits are exactly representable in an f64.
        #[allow(clippy::cast_precision_loss)]
        let v = (x >> 11) as f64 / (1u64 << 53) as f64;
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now: jiff::Timestamp = "2026-11-29T12:00:00Z".parse().unwrap();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 29 Nov 2026 12:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 29 Nov 2026 11:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        // Beyond u64 seconds, or beyond what a Duration holds: no panic, and capped on use.
        for huge in ["99999999999999999999", "1e20", "1e300"] {
            let wait = parse_retry_after(huge, now);
            assert_eq!(wait, Some(Duration::MAX), "{huge}");
            let p = RetryPolicy::default();
            assert_eq!(rate_limit_wait(&p, wait, 1, 0.5), p.max_retry_after);
        }
        assert_eq!(parse_retry_after("1e999", now), None);
        assert_eq!(parse_retry_after("NaN", now), None);
    }

    #[test]
    fn classes() {
        assert_eq!(classify(200), Class::Success);
        assert_eq!(classify(204), Class::Success);
        assert_eq!(classify(429), Class::RateLimited);
        assert_eq!(classify(503), Class::Transient);
        assert_eq!(classify(401), Class::Auth);
        assert_eq!(classify(403), Class::Auth);
        assert_eq!(classify(400), Class::Fatal);
        assert_eq!(classify(404), Class::Fatal);
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        assert_eq!(backoff(&p, 1, 1.0), Duration::from_millis(250));
        assert_eq!(backoff(&p, 1, 0.0), Duration::from_millis(125));
        assert_eq!(backoff(&p, 3, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(&p, 30, 1.0), p.cap);
        assert_eq!(
            rate_limit_wait(&p, Some(Duration::from_secs(999)), 1, 0.5),
            p.max_retry_after
        );
        assert_eq!(
            rate_limit_wait(&p, Some(Duration::ZERO), 1, 0.5),
            Duration::from_millis(50)
        );
        let mut j = Jitter::new(1);
        assert!(
            (0..100)
                .map(|_| j.next_f64())
                .all(|x| (0.0..1.0).contains(&x))
        );
    }
}
