//! Manifests of a layout: stored as blobs, named through `index.json`.

use std::io::Read;

use super::{LayoutIndex, LayoutStore};
use crate::error::{Error, Result};
use crate::oci::{Descriptor, MANIFEST_MAX_BYTES, RawManifest};
use crate::store::{Selector, Store, UploadMode};

/// Where a manifest named by a selector was found.
enum Located {
    /// Listed in `index.json`.
    Listed(Descriptor),
    /// Not listed (a digest only, e.g. an index's child): read and verified
    /// already, to learn its descriptor.
    Read(RawManifest),
}

fn locate(store: &LayoutStore, selector: &Selector) -> Result<Option<Located>> {
    let index = LayoutIndex::load(store.root())?;
    Ok(match selector {
        Selector::Tag(tag) => index.find_tag(tag).cloned().map(Located::Listed),
        Selector::Digest(digest) => match index.find_digest(digest) {
            Some(d) => Some(Located::Listed(d.clone())),
            None if store.blob_path(digest).is_file() => {
                Some(Located::Read(read_verified(store, &Descriptor::new("", digest.clone(), 0), false)?))
            }
            None => None,
        },
    })
}

pub(super) fn head(store: &LayoutStore, selector: &Selector) -> Result<Option<Descriptor>> {
    Ok(locate(store, selector)?.map(|located| match located {
        Located::Listed(descriptor) => descriptor,
        Located::Read(raw) => raw.descriptor(),
    }))
}

pub(super) fn get(store: &LayoutStore, selector: &Selector) -> Result<RawManifest> {
    match locate(store, selector)? {
        Some(Located::Listed(descriptor)) => read_verified(store, &descriptor, true),
        Some(Located::Read(raw)) => Ok(raw),
        None => Err(Error::NotFound { what: format!("manifest {selector}"), location: store.location() }),
    }
}

/// Read a manifest blob, check its digest (and size when `check_size`), and
/// learn its media type from the descriptor or the JSON.
fn read_verified(store: &LayoutStore, descriptor: &Descriptor, check_size: bool) -> Result<RawManifest> {
    let path = store.blob_path(&descriptor.digest);
    let file = crate::fsutil::open_regular(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            Error::NotFound { what: format!("manifest blob {}", descriptor.digest), location: store.location() }
        }
        _ => Error::io(path.display(), "open manifest", e),
    })?;
    let mut bytes = Vec::new();
    file.take(MANIFEST_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path.display(), "read manifest", e))?;
    if bytes.len() as u64 > MANIFEST_MAX_BYTES {
        return Err(Error::SizeLimitExceeded {
            what: format!("manifest {}", descriptor.digest),
            limit: MANIFEST_MAX_BYTES,
        });
    }
    let media_type =
        if descriptor.media_type.is_empty() { probe_media_type(&bytes) } else { descriptor.media_type.clone() };
    let raw = RawManifest::from_bytes(media_type, bytes);
    let what = format!("manifest {} in {}", descriptor.digest, store.location());
    if raw.digest != descriptor.digest {
        return Err(Error::DigestMismatch {
            what,
            expected: descriptor.digest.to_string(),
            actual: raw.digest.to_string(),
        });
    }
    if check_size && raw.bytes.len() as u64 != descriptor.size {
        return Err(Error::SizeMismatch { what, expected: descriptor.size, actual: raw.bytes.len() as u64 });
    }
    Ok(raw)
}

fn probe_media_type(bytes: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        media_type: Option<String>,
    }
    serde_json::from_slice::<Probe>(bytes)
        .ok()
        .and_then(|p| p.media_type)
        .unwrap_or_else(|| crate::oci::media_type::OCI_MANIFEST.to_string())
}

pub(super) fn put(store: &mut LayoutStore, raw: &RawManifest, tag: Option<&str>) -> Result<()> {
    let descriptor = raw.descriptor();
    store.blob_put(&descriptor, &raw.bytes, UploadMode::Monolithic)?;
    let digest = descriptor.digest.clone();
    LayoutIndex::update(
        store.root(),
        |index| index.set(descriptor.clone(), tag),
        |index| match tag {
            Some(tag) => index.find_tag(tag).is_some_and(|d| d.digest == digest),
            None => index.find_digest(&digest).is_some(),
        },
    )
}
