//! How long a registry may keep the packager waiting, set on every `wasi:http` request:
//! connecting, the response head, and each gap in a response body. A registry that goes
//! silent fails the request after the stall timeout instead of the host's default (600 s per
//! wait in wasmtime). `WASMSHIP_TIMEOUT=SECONDS` changes the stall timeout.
//!
//! Uploads are the exception for the response head: hosts count its wait from the start of
//! the request, body included, so a request with a large body gets no first-byte timeout
//! (its body's own progress is what the user sees).

use std::time::Duration;

/// The variable that sets the stall timeout, in seconds.
pub const TIMEOUT_VAR: &str = "WASMSHIP_TIMEOUT";

/// The stall timeout without the variable.
const DEFAULT_STALL: Duration = Duration::from_secs(60);
/// The longest a connection (TCP and TLS) may take to open.
const MAX_CONNECT: Duration = Duration::from_secs(30);
/// Request bodies up to this size count as small: the response head is awaited with the
/// stall timeout.
const SMALL_BODY: u64 = 1 << 20;

/// The timeouts of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    /// `None`: the host's default (a large upload).
    pub first_byte: Option<Duration>,
    pub between_bytes: Duration,
}

impl Timeouts {
    /// The timeouts for a request whose body holds `body_len` bytes, with the stall timeout
    /// from the environment.
    pub fn for_request(body_len: u64) -> Timeouts {
        Self::with_stall(stall(crate::config::env::var(TIMEOUT_VAR).as_deref()), body_len)
    }

    fn with_stall(stall: Duration, body_len: u64) -> Timeouts {
        Timeouts {
            connect: stall.min(MAX_CONNECT),
            first_byte: (body_len <= SMALL_BODY).then_some(stall),
            between_bytes: stall,
        }
    }

    /// The stall timeout, for messages.
    pub fn stall(&self) -> Duration {
        self.between_bytes
    }
}

/// The stall timeout `WASMSHIP_TIMEOUT` asks for (whole seconds, at least 1), else the
/// default.
fn stall(value: Option<&str>) -> Duration {
    value.and_then(|v| v.trim().parse::<u64>().ok()).filter(|s| *s > 0).map_or(DEFAULT_STALL, Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stall_timeout_from_the_environment() {
        assert_eq!(stall(None), DEFAULT_STALL);
        assert_eq!(stall(Some("5")), Duration::from_secs(5));
        assert_eq!(stall(Some("0")), DEFAULT_STALL);
        assert_eq!(stall(Some("soon")), DEFAULT_STALL);
    }

    #[test]
    fn large_uploads_wait_for_the_response_head_as_long_as_the_host_lets_them() {
        let small = Timeouts::with_stall(Duration::from_secs(60), 0);
        assert_eq!(
            small,
            Timeouts {
                connect: MAX_CONNECT,
                first_byte: Some(Duration::from_secs(60)),
                between_bytes: Duration::from_secs(60)
            }
        );
        assert_eq!(Timeouts::with_stall(Duration::from_secs(60), 20 << 20).first_byte, None);
        assert_eq!(Timeouts::with_stall(Duration::from_secs(2), 0).connect, Duration::from_secs(2));
    }
}
