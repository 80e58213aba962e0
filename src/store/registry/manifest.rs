//! Manifests in a registry: `HEAD` for the descriptor, `GET` with every
//! manifest type in `Accept` (verified against the requested or announced
//! digest), `PUT` with the manifest's exact media type.

use super::RegistryStore;
use super::client::RegistryClient;
use crate::error::{Error, Result};
use crate::http::{Body, Method, Request, Response};
use crate::oci::media_type::MANIFEST_ACCEPT;
use crate::oci::{Descriptor, Digest, MANIFEST_MAX_BYTES, RawManifest};
use crate::store::Selector;

fn subject(store: &RegistryStore, selector: &Selector) -> String {
    match selector {
        Selector::Tag(t) => format!("{}:{t}", store.repository),
        Selector::Digest(d) => format!("{}@{d}", store.repository),
    }
}

fn content_type(response: &Response) -> String {
    response.header("content-type").map(|v| v.split(';').next().unwrap_or("").trim().to_string()).unwrap_or_default()
}

pub(super) fn head(store: &RegistryStore, selector: &Selector) -> Result<Option<Descriptor>> {
    let url = store.client.url(&store.path(&format!("manifests/{selector}")));
    let response = store.client.send(&|| Request::new(Method::Head, url.clone()).header("accept", MANIFEST_ACCEPT))?;
    match response.status {
        200 => {}
        404 => return Ok(None),
        _ => {
            return Err(store.client.unexpected(response, "check manifest", &subject(store, selector)));
        }
    }
    let digest = response.header("docker-content-digest").and_then(|d| d.parse::<Digest>().ok());
    let size = response.header("content-length").and_then(|s| s.trim().parse::<u64>().ok());
    match (digest, size) {
        (Some(digest), Some(size)) => Ok(Some(Descriptor::new(content_type(&response), digest, size))),
        // Without a digest header the body has to be fetched to know it.
        _ => get(store, selector).map(|raw| Some(raw.descriptor())),
    }
}

/// Start the request [`get`] makes for `selector`.
pub(super) fn prefetch(store: &RegistryStore, selector: &Selector) {
    let url = store.client.url(&store.path(&format!("manifests/{selector}")));
    store.client.prefetch(&|| RegistryClient::bodiless(Method::Get, url.clone(), Some(MANIFEST_ACCEPT)));
}

pub(super) fn get(store: &RegistryStore, selector: &Selector) -> Result<RawManifest> {
    let subject = subject(store, selector);
    let url = store.client.url(&store.path(&format!("manifests/{selector}")));
    let mut response = store.client.send_following_redirects(Method::Get, url, Some(MANIFEST_ACCEPT))?;
    if response.status != 200 {
        return Err(store.client.unexpected(response, "get manifest", &subject));
    }
    let announced = response.header("docker-content-digest").and_then(|d| d.parse::<Digest>().ok());
    let media_type = content_type(&response);
    let bytes = response.read_body(MANIFEST_MAX_BYTES + 1).map_err(|e| Error::Transport {
        target: store.client.registry().to_string(),
        detail: format!("get manifest {subject}: {e}"),
    })?;
    if bytes.len() as u64 > MANIFEST_MAX_BYTES {
        return Err(Error::SizeLimitExceeded { what: format!("manifest {subject}"), limit: MANIFEST_MAX_BYTES });
    }
    // A registry that answers 200 with `{"errors":[…]}` has not served a manifest.
    if let Some(errors) = crate::oci::manifest::registry_error_body(&store.client.scrub(&bytes)) {
        return Err(Error::Registry {
            registry: store.client.registry().to_string(),
            action: "get manifest".into(),
            subject,
            status: 200,
            code: None,
            message: Some(format!("the registry answered 200 with an error body: {errors}")),
        });
    }
    let raw = RawManifest::from_bytes(media_type, bytes);
    let expected = match selector {
        Selector::Digest(d) => Some(d.clone()),
        Selector::Tag(_) => announced.filter(|d| d.algorithm() == raw.digest.algorithm()),
    };
    if let Some(expected) = expected
        && expected != raw.digest
    {
        return Err(Error::DigestMismatch {
            what: format!("manifest {subject} from {}", store.client.registry()),
            expected: expected.to_string(),
            actual: raw.digest.to_string(),
        });
    }
    Ok(raw)
}

pub(super) fn put(store: &RegistryStore, raw: &RawManifest, tag: Option<&str>) -> Result<()> {
    let selector = tag.map_or_else(|| raw.digest.to_string(), str::to_string);
    let subject = format!("{}:{selector}", store.repository);
    let url = store.client.url(&store.path(&format!("manifests/{selector}")));
    let response = store.client.send(&|| {
        Request::new(Method::Put, url.clone())
            .header("content-type", raw.media_type.clone())
            .body(Body::Bytes(&raw.bytes))
    })?;
    if !matches!(response.status, 200 | 201 | 202 | 204) {
        return Err(store.client.unexpected(response, "push manifest", &subject));
    }
    if let Some(announced) = response.header("docker-content-digest").and_then(|d| d.parse::<Digest>().ok())
        && announced.algorithm() == raw.digest.algorithm()
        && announced != raw.digest
    {
        return Err(Error::DigestMismatch {
            what: format!("manifest {subject} as stored by {}", store.client.registry()),
            expected: raw.digest.to_string(),
            actual: announced.to_string(),
        });
    }
    Ok(())
}
