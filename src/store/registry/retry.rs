//! When and how long to wait before trying a request again: connection
//! errors, 429 and 5xx, with exponential backoff and jitter, honouring
//! `Retry-After`, within a bounded number of attempts and total time.

use std::time::{Duration, Instant};

/// Retry limits.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Delay before the first retry; doubled each time.
    pub base_delay: Duration,
    /// No single wait is longer.
    pub max_delay: Duration,
    /// No retry starts after this much time since the first attempt.
    pub max_total: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_total: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retry (a mirror: the next source is the retry).
    pub fn single_attempt() -> Self {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }
}

/// Whether a status is worth retrying.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Tracks the attempts of one request.
pub struct Attempts {
    policy: RetryPolicy,
    started: Instant,
    made: u32,
}

impl Attempts {
    /// Start counting.
    pub fn new(policy: RetryPolicy) -> Self {
        Attempts { policy, started: Instant::now(), made: 0 }
    }

    /// Record an attempt about to be made.
    pub fn begin(&mut self) {
        self.made += 1;
    }

    /// If another attempt is allowed, wait the backoff (or `retry_after`,
    /// capped) and return true.
    pub fn wait_for_retry(&mut self, retry_after: Option<&str>) -> bool {
        if self.made >= self.policy.max_attempts {
            return false;
        }
        let delay = match retry_after.and_then(parse_retry_after) {
            Some(d) => d.min(self.policy.max_delay),
            None => self.backoff(),
        };
        if self.started.elapsed() + delay > self.policy.max_total {
            return false;
        }
        std::thread::sleep(delay);
        true
    }

    fn backoff(&self) -> Duration {
        let exp = self.policy.base_delay.saturating_mul(1 << self.made.saturating_sub(1).min(16));
        let capped = exp.min(self.policy.max_delay);
        // Full jitter in [capped/2, capped].
        let half = capped / 2;
        let jitter = crate::fsutil::random_u64() % (half.as_millis() as u64 + 1);
        half + Duration::from_millis(jitter)
    }
}

/// `Retry-After` in seconds (HTTP dates are treated as "soon": one second).
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    Some(match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => Duration::from_secs(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses() {
        for s in [429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s));
        }
        for s in [200, 400, 401, 403, 404, 416] {
            assert!(!is_retryable_status(s));
        }
    }

    #[test]
    fn retry_after_is_capped_and_attempts_bounded() {
        let policy = RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_total: Duration::from_secs(5),
        };
        let mut a = Attempts::new(policy);
        a.begin();
        let t = Instant::now();
        assert!(a.wait_for_retry(Some("100")));
        assert!(t.elapsed() < Duration::from_secs(1), "Retry-After not capped");
        a.begin();
        assert!(!a.wait_for_retry(None), "more attempts than allowed");
    }

    #[test]
    fn backoff_grows() {
        let policy = RetryPolicy::default();
        let mut a = Attempts::new(policy);
        a.begin();
        let first = a.backoff();
        a.begin();
        a.begin();
        let third = a.backoff();
        assert!(first <= policy.base_delay && third >= policy.base_delay, "{first:?} {third:?}");
    }
}
