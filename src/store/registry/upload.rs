//! Blob uploads: open a session (`POST`), then either one streamed `PUT` or
//! `PATCH` chunks (honouring `OCI-Chunk-Min-Length`, resuming after a 416
//! from the registry's `Range`) and a closing `PUT`. A failed attempt
//! (connection lost, 429/5xx, expired token) restarts the whole upload from a
//! fresh read of the source; a registry that refuses chunks gets one
//! monolithic upload instead. Nothing holds the whole blob in memory.

use std::io::{self, Read};

use super::RegistryStore;
use super::retry::{Attempts, is_retryable_status};
use crate::error::{Error, Result};
use crate::http::{Body, Method, Request, Response, Upload, Url, Waiter};
use crate::oci::Descriptor;
use crate::store::{BlobSource, BlobUpload, UploadMode};

/// How one attempt ended, when it did not succeed.
enum Failure {
    // Errors are boxed: `Result<(), Failure>` is returned on every step.
    /// Worth another attempt after a wait (`Retry-After` if given).
    Retryable(Box<Error>, Option<String>),
    /// Authorization was renewed after a 401; try again at once.
    Reauthenticated(Box<Error>),
    /// The registry does not take chunked uploads.
    ChunksRefused(Box<Error>),
    /// No point in trying again.
    Fatal(Box<Error>),
}

pub(super) fn put(
    store: &RegistryStore,
    descriptor: &Descriptor,
    source: &dyn BlobSource,
    mode: UploadMode,
) -> Result<()> {
    let mut attempts = Attempts::new(store.client.retry_policy());
    let mut reauthenticated = false;
    let mut mode = mode;
    loop {
        attempts.begin();
        let failure = match attempt(store, descriptor, source, mode) {
            Ok(()) => return Ok(()),
            Err(failure) => failure,
        };
        match failure {
            Failure::Reauthenticated(_) if !reauthenticated => reauthenticated = true,
            Failure::ChunksRefused(_) if matches!(mode, UploadMode::Chunked(_)) => mode = UploadMode::Monolithic,
            Failure::Retryable(error, retry_after) => {
                if !attempts.wait_for_retry(retry_after.as_deref()) {
                    return Err(*error);
                }
            }
            Failure::Reauthenticated(error) | Failure::ChunksRefused(error) | Failure::Fatal(error) => {
                return Err(*error);
            }
        }
    }
}

fn attempt(
    store: &RegistryStore,
    descriptor: &Descriptor,
    source: &dyn BlobSource,
    mode: UploadMode,
) -> Result<(), Failure> {
    let subject = format!("{}@{}", store.repository, descriptor.digest);
    let (location, min_chunk) = start(store, &subject).map_err(|e| Failure::Fatal(Box::new(e)))?;
    let mut reader = source.open().map_err(|e| Failure::Fatal(Box::new(e)))?;
    match mode {
        UploadMode::Monolithic => {
            let url = location.with_query("digest", &descriptor.digest.to_string());
            let request = Request::new(Method::Put, url)
                .header("content-type", "application/octet-stream")
                .body(Body::Stream { reader: &mut reader, length: descriptor.size });
            let response = store.client.send_streaming(request).map_err(classify_error)?;
            finish(store, response, &subject)
        }
        UploadMode::Chunked(chunk) => {
            let chunk = chunk.max(min_chunk).max(1);
            let mut location = location;
            let mut offset = 0u64;
            while offset < descriptor.size {
                let length = chunk.min(descriptor.size - offset);
                let mut part = (&mut reader).take(length);
                let request = Request::new(Method::Patch, location.clone())
                    .header("content-type", "application/octet-stream")
                    .header("content-range", format!("{}-{}", offset, offset + length - 1))
                    .body(Body::Stream { reader: &mut part, length });
                let response = store.client.send_streaming(request).map_err(classify_error)?;
                match response.status {
                    202 => {
                        location = next_location(store, &location, response.header("location"), &subject)
                            .map_err(|e| Failure::Fatal(Box::new(e)))?;
                        offset += length;
                    }
                    416 => {
                        // The registry has a different idea of what it holds:
                        // resume after the end of its Range.
                        let resume_at = response
                            .header("range")
                            .and_then(range_end)
                            .map(|end| end + 1)
                            .filter(|at| *at <= descriptor.size)
                            .ok_or_else(|| {
                                Failure::Fatal(Box::new(store.client.unexpected(
                                    response,
                                    "upload chunk of blob",
                                    &subject,
                                )))
                            })?;
                        reader = source.open().map_err(|e| Failure::Fatal(Box::new(e)))?;
                        io::copy(&mut (&mut reader).take(resume_at), &mut io::sink())
                            .map_err(|e| Failure::Fatal(Box::new(Error::io(&subject, "re-read source", e))))?;
                        offset = resume_at;
                    }
                    401 => {
                        return Err(Failure::Reauthenticated(Box::new(store.client.unexpected(
                            response,
                            "upload chunk of blob",
                            &subject,
                        ))));
                    }
                    s if is_retryable_status(s) => {
                        let retry_after = response.header("retry-after").map(str::to_string);
                        return Err(Failure::Retryable(
                            Box::new(store.client.unexpected(response, "upload chunk of blob", &subject)),
                            retry_after,
                        ));
                    }
                    400 | 405 | 413 | 415 | 501 => {
                        return Err(Failure::ChunksRefused(Box::new(store.client.unexpected(
                            response,
                            "upload chunk of blob",
                            &subject,
                        ))));
                    }
                    _ => {
                        return Err(Failure::Fatal(Box::new(store.client.unexpected(
                            response,
                            "upload chunk of blob",
                            &subject,
                        ))));
                    }
                }
            }
            source_ends(&mut reader, descriptor, &subject).map_err(|e| Failure::Fatal(Box::new(e)))?;
            let url = location.with_query("digest", &descriptor.digest.to_string());
            let response = store.client.send_streaming(Request::new(Method::Put, url)).map_err(classify_error)?;
            finish(store, response, &subject)
        }
    }
}

/// After the last chunk: the source must end where the descriptor says (the
/// chunks take exactly `descriptor.size` bytes, so a longer source would
/// otherwise be cut short unnoticed), and a source that verifies itself checks
/// what it gave when read to its end.
fn source_ends(reader: &mut dyn Read, descriptor: &Descriptor, subject: &str) -> Result<()> {
    let beyond = io::copy(reader, &mut io::sink()).map_err(|e| crate::store::verify::into_error(e, subject))?;
    if beyond > 0 {
        return Err(Error::SizeMismatch {
            what: format!("blob {subject} to upload"),
            expected: descriptor.size,
            actual: descriptor.size + beyond,
        });
    }
    Ok(())
}

fn classify_error(error: Error) -> Failure {
    match error {
        Error::Transport { .. } => Failure::Retryable(Box::new(error), None),
        other => Failure::Fatal(Box::new(other)),
    }
}

/// An upload whose body the caller writes without waiting (see [`OverlappedUpload`]);
/// `None` when the transport cannot send one.
pub(super) fn begin(store: &RegistryStore, descriptor: &Descriptor) -> Result<Option<Box<dyn BlobUpload>>> {
    let subject = format!("{}@{}", store.repository, descriptor.digest);
    let (location, _) = start(store, &subject)?;
    let url = location.with_query("digest", &descriptor.digest.to_string());
    let request = Request::new(Method::Put, url).header("content-type", "application/octet-stream");
    let Some(upload) = store.client.start_upload(request, descriptor.size)? else { return Ok(None) };
    Ok(Some(Box::new(OverlappedUpload { upload, registry: store.client.registry().to_string(), subject })))
}

/// One monolithic `PUT` in flight, its body written piece by piece. It makes a single
/// attempt and reports a refusal by its status alone (the registry's error body is not
/// read): a caller that fails here copies the blob the ordinary way, with retries and the
/// registry's own words.
struct OverlappedUpload {
    upload: Box<dyn Upload>,
    registry: String,
    subject: String,
}

impl BlobUpload for OverlappedUpload {
    fn write_now(&mut self, bytes: &[u8]) -> Result<usize> {
        self.upload.write_now(bytes).map_err(|e| Error::Transport { target: self.registry.clone(), detail: e.0 })
    }

    fn waiter(&self) -> Option<Waiter> {
        self.upload.waiter()
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let OverlappedUpload { upload, registry, subject } = *self;
        let response = upload.finish().map_err(|e| Error::Transport { target: registry.clone(), detail: e.0 })?;
        match response.status {
            201 | 204 => Ok(()),
            status => Err(Error::Registry {
                registry,
                action: "complete upload of blob".into(),
                subject,
                status,
                code: None,
                message: None,
            }),
        }
    }
}

/// Open an upload session: its URL and the registry's minimum chunk size.
pub(super) fn start(store: &RegistryStore, subject: &str) -> Result<(Url, u64)> {
    let url = store.client.url(&store.path("blobs/uploads/"));
    let response = store.client.send(&|| Request::new(Method::Post, url.clone()))?;
    if response.status != 202 {
        return Err(store.client.unexpected(response, "start upload of blob", subject));
    }
    let min_chunk = response.header("oci-chunk-min-length").and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    let location = next_location(store, &url, response.header("location"), subject)?;
    Ok((location, min_chunk))
}

fn finish(store: &RegistryStore, response: Response, subject: &str) -> Result<(), Failure> {
    match response.status {
        201 | 204 => Ok(()),
        401 => Err(Failure::Reauthenticated(Box::new(store.client.unexpected(
            response,
            "complete upload of blob",
            subject,
        )))),
        s if is_retryable_status(s) => {
            let retry_after = response.header("retry-after").map(str::to_string);
            Err(Failure::Retryable(
                Box::new(store.client.unexpected(response, "complete upload of blob", subject)),
                retry_after,
            ))
        }
        _ => Err(Failure::Fatal(Box::new(store.client.unexpected(response, "complete upload of blob", subject)))),
    }
}

pub(super) fn next_location(store: &RegistryStore, base: &Url, location: Option<&str>, subject: &str) -> Result<Url> {
    let location = location.ok_or_else(|| Error::Registry {
        registry: store.client.registry().to_string(),
        action: "upload blob".into(),
        subject: subject.to_string(),
        status: 202,
        code: None,
        message: Some("upload session without Location header".into()),
    })?;
    base.join(location).ok_or_else(|| Error::Transport {
        target: store.client.registry().to_string(),
        detail: format!("upload blob {subject}: unusable Location header"),
    })
}

/// The last byte of a `Range: 0-<end>` (or `bytes=0-<end>`) header.
fn range_end(value: &str) -> Option<u64> {
    let value = value.trim().trim_start_matches("bytes=");
    value.split_once('-')?.1.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_range_ends() {
        assert_eq!(super::range_end("0-1023"), Some(1023));
        assert_eq!(super::range_end("bytes=0-99"), Some(99));
        assert_eq!(super::range_end("junk"), None);
    }
}
