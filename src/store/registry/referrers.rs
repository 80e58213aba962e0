//! The referrers API (`GET /v2/<name>/referrers/<digest>`, distribution-spec 1.1): an image
//! index of the manifests whose `subject` is the digest, followed across `Link` pages. A
//! registry without the API answers 404 (Debian's docker-registry 2.8 among them); the
//! caller then falls back to the tag schema.

use super::RegistryStore;
use super::client::RegistryClient;
use crate::error::{Error, Result};
use crate::http::Method;
use crate::oci::manifest::ImageIndex;
use crate::oci::media_type::OCI_INDEX;
use crate::oci::{Descriptor, Digest, MANIFEST_MAX_BYTES};

/// The most pages of referrers read.
const MAX_PAGES: usize = 100;

fn first_page(store: &RegistryStore, subject: &Digest) -> crate::http::Url {
    store.client.url(&store.path(&format!("referrers/{subject}")))
}

/// Start the request [`list`] makes first for `subject`.
pub(super) fn prefetch(store: &RegistryStore, subject: &Digest) {
    let url = first_page(store, subject);
    store.client.prefetch(&|| RegistryClient::bodiless(Method::Get, url.clone(), Some(OCI_INDEX)));
}

pub(super) fn list(store: &RegistryStore, subject: &Digest) -> Result<Option<Vec<Descriptor>>> {
    let what = format!("{}@{subject}", store.repository);
    let mut url = first_page(store, subject);
    let mut found = Vec::new();
    for page in 0.. {
        if page == MAX_PAGES {
            return Err(Error::SizeLimitExceeded {
                what: format!("the referrers of {what} ({MAX_PAGES} pages)"),
                limit: MAX_PAGES as u64,
            });
        }
        let mut response =
            store.client.send(&|| RegistryClient::bodiless(Method::Get, url.clone(), Some(OCI_INDEX)))?;
        match response.status {
            200 => {}
            // No referrers API: 404 (route unknown) or 400/405 from some older registries.
            404 | 400 | 405 if page == 0 => return Ok(None),
            _ => return Err(store.client.unexpected(response, "list referrers of", &what)),
        }
        let next = response.header("link").and_then(super::tag::next_link).map(str::to_string);
        let body = response.read_body(MANIFEST_MAX_BYTES + 1).map_err(|e| Error::Transport {
            target: store.client.registry().to_string(),
            detail: format!("list referrers of {what}: {e}"),
        })?;
        if body.len() as u64 > MANIFEST_MAX_BYTES {
            return Err(Error::SizeLimitExceeded {
                what: format!("the referrers of {what}"),
                limit: MANIFEST_MAX_BYTES,
            });
        }
        let index: ImageIndex = serde_json::from_slice(&body).map_err(|e| Error::Registry {
            registry: store.client.registry().to_string(),
            action: "list referrers of".into(),
            subject: what.clone(),
            status: 200,
            code: None,
            message: Some(format!(
                "not an image index: {}",
                crate::error::excerpt(&e.to_string(), crate::error::MAX_ECHO)
            )),
        })?;
        found.extend(index.manifests);
        match next.and_then(|n| url.join(&n)) {
            Some(n) => url = n,
            None => break,
        }
    }
    Ok(Some(found))
}
