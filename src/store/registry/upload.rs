//! Blob uploads: open a session (`POST`), then either one streamed `PUT` or
//! `PATCH` chunks (honouring `OCI-Chunk-Min-Length`) and a closing `PUT`.
//! Content is streamed from the source; nothing holds the whole blob.

use std::io::Read;

use super::RegistryStore;
use crate::error::{Error, Result};
use crate::http::{Body, Method, Request, Url};
use crate::oci::Descriptor;
use crate::store::UploadMode;

pub(super) fn put(
    store: &RegistryStore,
    descriptor: &Descriptor,
    content: &mut dyn Read,
    mode: UploadMode,
) -> Result<()> {
    let subject = format!("{}@{}", store.repository, descriptor.digest);
    let (mut location, min_chunk) = start(store, &subject)?;
    match mode {
        UploadMode::Monolithic => {
            let url = location.with_query("digest", &descriptor.digest.to_string());
            let request = Request::new(Method::Put, url)
                .header("content-type", "application/octet-stream")
                .body(Body::Stream {
                    reader: content,
                    length: descriptor.size,
                });
            finish(store, request, &subject)
        }
        UploadMode::Chunked(chunk) => {
            let chunk = chunk.max(min_chunk).max(1);
            let mut offset = 0u64;
            while offset < descriptor.size {
                let length = chunk.min(descriptor.size - offset);
                let mut part = content.take(length);
                let request = Request::new(Method::Patch, location.clone())
                    .header("content-type", "application/octet-stream")
                    .header(
                        "content-range",
                        format!("{}-{}", offset, offset + length - 1),
                    )
                    .body(Body::Stream {
                        reader: &mut part,
                        length,
                    });
                let response = store.client.send(request)?;
                if response.status != 202 {
                    return Err(store.client.unexpected(
                        response,
                        "upload chunk of blob",
                        &subject,
                    ));
                }
                location = next_location(store, &location, response.header("location"), &subject)?;
                offset += length;
            }
            let url = location.with_query("digest", &descriptor.digest.to_string());
            finish(store, Request::new(Method::Put, url), &subject)
        }
    }
}

/// Open an upload session: its URL and the registry's minimum chunk size.
fn start(store: &RegistryStore, subject: &str) -> Result<(Url, u64)> {
    let url = store.client.url(&store.path("blobs/uploads/"));
    let response = store.client.send(Request::new(Method::Post, url.clone()))?;
    if response.status != 202 {
        return Err(store
            .client
            .unexpected(response, "start upload of blob", subject));
    }
    let min_chunk = response
        .header("oci-chunk-min-length")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let location = next_location(store, &url, response.header("location"), subject)?;
    Ok((location, min_chunk))
}

fn finish(store: &RegistryStore, request: Request<'_>, subject: &str) -> Result<()> {
    let response = store.client.send(request)?;
    match response.status {
        201 | 204 => Ok(()),
        _ => Err(store
            .client
            .unexpected(response, "complete upload of blob", subject)),
    }
}

fn next_location(
    store: &RegistryStore,
    base: &Url,
    location: Option<&str>,
    subject: &str,
) -> Result<Url> {
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
        detail: format!("upload blob {subject}: unusable Location {location:?}"),
    })
}
