//! Connections kept between requests: an HTTP/1.1 connection whose last response has been
//! read to its end takes the next request to the same endpoint (scheme, host and port), so
//! a run pays for TCP and TLS set-up once per endpoint rather than once per request. A
//! connection the server closed, or whose response was left unread (hyper then closes it),
//! is dropped from the pool.

use std::collections::HashMap;
use std::sync::Mutex;

use hyper::client::conn::http1::SendRequest;
use wasmtime_wasi_http::WasiBody;

use super::endpoint::Endpoint;

/// Connections kept per endpoint at most.
const MAX_PER_ENDPOINT: usize = 8;

/// Where a connection goes: TLS or not, and the endpoint.
type Key = (bool, Endpoint);

/// Open connections by endpoint, busy or idle.
#[derive(Default)]
pub struct Pool {
    connections: Mutex<HashMap<Key, Vec<SendRequest<WasiBody>>>>,
}

impl Pool {
    /// A connection to `endpoint` ready for a request, taken out of the pool.
    pub fn take(&self, tls: bool, endpoint: &Endpoint) -> Option<SendRequest<WasiBody>> {
        let mut connections = self.lock();
        let kept = connections.get_mut(&(tls, endpoint.clone()))?;
        kept.retain(|sender| !sender.is_closed());
        let ready = kept.iter().position(SendRequest::is_ready)?;
        Some(kept.swap_remove(ready))
    }

    /// Keep `sender` for later requests; it is ready again once its response is read.
    pub fn keep(&self, tls: bool, endpoint: &Endpoint, sender: SendRequest<WasiBody>) {
        let mut connections = self.lock();
        let kept = connections.entry((tls, endpoint.clone())).or_default();
        kept.retain(|sender| !sender.is_closed());
        if kept.len() < MAX_PER_ENDPOINT {
            kept.push(sender);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Vec<SendRequest<WasiBody>>>> {
        self.connections.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
