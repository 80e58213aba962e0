//! Blobs in a registry: existence (`HEAD`) and verified streaming download
//! (`GET`, following redirects to object storage).

use super::{RegistryClient, RegistryStore};
use crate::error::Result;
use crate::http::{BodyRead, Method, Request};
use crate::oci::{Descriptor, Digest};
use crate::store::verify::{Origin, VerifyingReader};

pub(super) fn exists(store: &RegistryStore, digest: &Digest) -> Result<bool> {
    let url = store.client.url(&store.path(&format!("blobs/{digest}")));
    let response = store.client.send(&|| Request::new(Method::Head, url.clone()))?;
    match response.status {
        200 => Ok(true),
        404 => Ok(false),
        _ => Err(store.client.unexpected(response, "check blob", &format!("{}@{digest}", store.repository))),
    }
}

/// Start the `GET` that [`open`] sends first (its response head comes while other work goes on).
pub(super) fn prefetch(store: &RegistryStore, digest: &Digest) {
    let url = store.client.url(&store.path(&format!("blobs/{digest}")));
    store.client.prefetch(&|| RegistryClient::bodiless(Method::Get, url.clone(), None));
}

/// A verifying reader of the blob; `hashed: false` checks its size only.
pub(super) fn open(
    store: &RegistryStore,
    descriptor: &Descriptor,
    hashed: bool,
) -> Result<VerifyingReader<Box<dyn BodyRead>>> {
    let subject = format!("{}@{}", store.repository, descriptor.digest);
    let url = store.client.url(&store.path(&format!("blobs/{}", descriptor.digest)));
    let response = store.client.send_following_redirects(Method::Get, url, None)?;
    if response.status != 200 {
        return Err(store.client.unexpected(response, "get blob", &subject));
    }
    let what = format!("blob {subject}");
    let origin = Origin::Registry(store.client.registry().to_string());
    Ok(if hashed {
        VerifyingReader::new(response.body, descriptor, what, origin)
    } else {
        VerifyingReader::size_only(response.body, descriptor, what, origin)
    })
}

/// Ask the registry to mount a blob from another repository (`201`), or
/// learn that it will not (`202`: the opened upload session is abandoned).
pub(super) fn mount(store: &RegistryStore, descriptor: &Descriptor, from: &str) -> Result<bool> {
    let subject = format!("{}@{}", store.repository, descriptor.digest);
    let path = format!(
        "{}?mount={}&from={}",
        store.path("blobs/uploads/"),
        descriptor.digest,
        crate::auth::percent_encode(from)
    );
    let url = store.client.url(&path);
    let response = store.client.send(&|| Request::new(Method::Post, url.clone()))?;
    match response.status {
        201 => Ok(true),
        202 => Ok(false),
        _ => Err(store.client.unexpected(response, "mount blob", &subject)),
    }
}
