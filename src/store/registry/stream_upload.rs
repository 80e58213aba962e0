//! Uploads of a blob whose digest is learnt only at its end (a stream pushed in one
//! pass): an upload session, `PATCH` chunks of the bytes buffered so far (each sent again
//! on a retryable failure, so the source is read once), and the closing `PUT` with the
//! digest, which the registry checks. Memory holds one chunk.

use super::RegistryStore;
use super::upload::{next_location, start};
use crate::error::{Error, Result};
use crate::http::{Body, Method, Request, Url};
use crate::oci::Descriptor;
use crate::store::BlobWriter;

/// Bytes per `PATCH` unless the registry asks for more (`OCI-Chunk-Min-Length`).
const CHUNK: usize = 8 * 1024 * 1024;
/// The most one chunk may hold in memory, whatever the registry asks for.
const MAX_CHUNK: u64 = 64 * 1024 * 1024;

/// Open a session for a blob written front to back.
pub(super) fn begin(store: &RegistryStore) -> Result<Box<dyn BlobWriter + '_>> {
    let subject = format!("{} (a blob of unknown digest yet)", store.repository);
    let (location, min_chunk) = start(store, &subject)?;
    if min_chunk > MAX_CHUNK {
        return Err(Error::SizeLimitExceeded {
            what: format!("the chunks {} asks for (OCI-Chunk-Min-Length: {min_chunk})", store.client.registry()),
            limit: MAX_CHUNK,
        });
    }
    let chunk = usize::try_from(min_chunk).unwrap_or(usize::MAX).max(CHUNK);
    Ok(Box::new(ChunkedWriter { store, location, offset: 0, chunk, buffer: Vec::new(), subject }))
}

struct ChunkedWriter<'a> {
    store: &'a RegistryStore,
    /// Where the next request of the session goes.
    location: Url,
    /// Bytes the registry has taken.
    offset: u64,
    chunk: usize,
    buffer: Vec<u8>,
    subject: String,
}

impl ChunkedWriter<'_> {
    /// Send the first `length` buffered bytes as the next chunk.
    fn send(&mut self, length: usize) -> Result<()> {
        let part = &self.buffer[..length];
        let end = self.offset + length as u64 - 1;
        let location = self.location.clone();
        let make = || {
            Request::new(Method::Patch, location.clone())
                .header("content-type", "application/octet-stream")
                .header("content-range", format!("{}-{end}", self.offset))
                .body(Body::Bytes(part))
        };
        let response = self.store.client.send(&make)?;
        if response.status != 202 {
            return Err(self.store.client.unexpected(response, "upload chunk of blob", &self.subject));
        }
        self.location = next_location(self.store, &self.location, response.header("location"), &self.subject)?;
        self.offset += length as u64;
        self.buffer.drain(..length);
        Ok(())
    }
}

impl BlobWriter for ChunkedWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.buffer.extend_from_slice(bytes);
        while self.buffer.len() >= self.chunk {
            self.send(self.chunk)?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>, descriptor: &Descriptor) -> Result<()> {
        if !self.buffer.is_empty() {
            self.send(self.buffer.len())?;
        }
        if self.offset != descriptor.size {
            return Err(Error::SizeMismatch {
                what: format!("blob {} of {}", descriptor.digest, self.store.repository),
                expected: descriptor.size,
                actual: self.offset,
            });
        }
        self.subject = format!("{}@{}", self.store.repository, descriptor.digest);
        let url = self.location.with_query("digest", &descriptor.digest.to_string());
        let response = self.store.client.send(&|| Request::new(Method::Put, url.clone()))?;
        match response.status {
            201 | 204 => Ok(()),
            _ => Err(self.store.client.unexpected(response, "complete upload of blob", &self.subject)),
        }
    }
}
