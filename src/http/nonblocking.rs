//! Bodies moved without waiting, for transfers that overlap: a response body read for what
//! has arrived ([`BodyRead::read_now`]), a request body written for what the connection takes
//! ([`Upload::write_now`]), and [`wait_any`] to sleep until one of them can go on. In the
//! component each [`Waiter`] is a `wasi:io` pollable and one `poll` serves them all; native
//! bodies are always ready, so nothing waits.

use std::io::{self, Read};

use super::{Response, TransportError};

/// What a stalled body waits for (a `wasi:io` pollable in the component).
pub struct Waiter {
    #[cfg(target_arch = "wasm32")]
    pub(super) pollable: crate::wasi::bindings::wasi::io::poll::Pollable,
}

/// Wait until at least one of `waiters` is ready, or `limit` has passed; `false` when the
/// time ran out first. Returns at once when there is nothing to wait for.
pub fn wait_any(waiters: &[Waiter], limit: std::time::Duration) -> bool {
    #[cfg(target_arch = "wasm32")]
    if !waiters.is_empty() {
        use crate::wasi::bindings::wasi::clocks::monotonic_clock;
        let nanos = u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX);
        let timer = monotonic_clock::subscribe_duration(nanos);
        let mut pollables: Vec<_> = waiters.iter().map(|w| &w.pollable).collect();
        pollables.push(&timer);
        let ready = crate::wasi::bindings::wasi::io::poll::poll(&pollables);
        let timer_index = u32::try_from(waiters.len()).unwrap_or(u32::MAX);
        return !(ready.len() == 1 && ready[0] == timer_index);
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (waiters, limit);
    true
}

/// A response body that can also be read without waiting.
pub trait BodyRead: Read {
    /// What has arrived, up to `out.len()` bytes: `Ok(None)` when nothing has yet (wait on
    /// [`waiter`](Self::waiter)), `Ok(Some(0))` at the end. By default a blocking read.
    fn read_now(&mut self, out: &mut [u8]) -> io::Result<Option<usize>> {
        self.read(out).map(Some)
    }

    /// What to wait on after `read_now` gave `None`.
    fn waiter(&self) -> Option<Waiter> {
        None
    }
}

/// Any reader as a body that is always ready (its reads may block).
pub struct Blocking<R>(pub R);

impl<R: Read> Read for Blocking<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.0.read(out)
    }
}

impl<R: Read> BodyRead for Blocking<R> {}

impl<B: BodyRead + ?Sized> BodyRead for Box<B> {
    fn read_now(&mut self, out: &mut [u8]) -> io::Result<Option<usize>> {
        (**self).read_now(out)
    }

    fn waiter(&self) -> Option<Waiter> {
        (**self).waiter()
    }
}

/// A request whose head is sent and whose body (of the length announced) the caller writes
/// piece by piece, then finishes to get the response.
pub trait Upload {
    /// Write as much of `bytes` as the connection takes now; 0 when it takes nothing yet
    /// (wait on [`waiter`](Self::waiter)).
    fn write_now(&mut self, bytes: &[u8]) -> Result<usize, TransportError>;

    /// What to wait on after `write_now` took nothing.
    fn waiter(&self) -> Option<Waiter>;

    /// End the body (every announced byte written) and wait for the response head.
    fn finish(self: Box<Self>) -> Result<Response, TransportError>;
}
