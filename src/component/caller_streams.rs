//! The caller's `wasi:io` streams as [`std::io::Read`] and [`std::io::Write`], for the
//! typed client's `push-from` and `pull-into`. The streams belong to the caller, who decides
//! how long their waits may take.

use super::bindings::wasi::io::streams::{InputStream, OutputStream, StreamError};

/// The most asked of an input stream per read.
const STREAM_READ: u64 = 256 * 1024;

/// A caller's `wasi:io` input stream as [`std::io::Read`], to its end (`closed`).
pub(super) struct StreamReader<'a>(pub(super) &'a InputStream);

impl std::io::Read for StreamReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let wanted = (buf.len() as u64).min(STREAM_READ);
        if wanted == 0 {
            return Ok(0);
        }
        loop {
            match self.0.blocking_read(wanted) {
                // Nothing yet is not the end.
                Ok(bytes) if bytes.is_empty() => continue,
                Ok(bytes) => {
                    let n = bytes.len().min(buf.len());
                    buf[..n].copy_from_slice(&bytes[..n]);
                    return Ok(n);
                }
                Err(StreamError::Closed) => return Ok(0),
                Err(e) => return Err(stream_error(e)),
            }
        }
    }
}

/// A caller's `wasi:io` output stream as [`std::io::Write`]: writes as much as
/// `check-write` permits, waiting on the stream when it permits nothing.
pub(super) struct StreamWriter<'a>(pub(super) &'a OutputStream);

impl std::io::Write for StreamWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        loop {
            let permitted = self.0.check_write().map_err(stream_error)?;
            if permitted > 0 {
                let n = usize::try_from(permitted).unwrap_or(usize::MAX).min(bytes.len());
                self.0.write(&bytes[..n]).map_err(stream_error)?;
                return Ok(n);
            }
            self.0.subscribe().block();
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.blocking_flush().map_err(stream_error)
    }
}

fn stream_error(e: StreamError) -> std::io::Error {
    match e {
        StreamError::Closed => std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the stream was closed"),
        StreamError::LastOperationFailed(err) => std::io::Error::other(err.to_debug_string()),
    }
}
