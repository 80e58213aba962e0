//! Manifests of a layout: stored as blobs, named through `index.json`.

use std::fs::File;
use std::io::Read;

use super::{LayoutIndex, LayoutStore};
use crate::error::{Error, Result};
use crate::oci::{Descriptor, MANIFEST_MAX_BYTES, RawManifest};
use crate::store::{Selector, Store, UploadMode};

pub(super) fn head(store: &LayoutStore, selector: &Selector) -> Result<Option<Descriptor>> {
    let index = LayoutIndex::load(store.root())?;
    Ok(match selector {
        Selector::Tag(tag) => index.find_tag(tag).cloned(),
        Selector::Digest(digest) => match index.find_digest(digest) {
            Some(d) => Some(d.clone()),
            None if store.blob_path(digest).is_file() => {
                let raw = read_verified(store, &Descriptor::new("", digest.clone(), 0), false)?;
                Some(raw.descriptor())
            }
            None => None,
        },
    })
}

pub(super) fn get(store: &LayoutStore, selector: &Selector) -> Result<RawManifest> {
    let descriptor = head(store, selector)?
        .ok_or_else(|| Error::NotFound { what: format!("manifest {selector}"), location: store.location() })?;
    read_verified(store, &descriptor, true)
}

/// Read a manifest blob, check its digest (and size when `check_size`), and
/// learn its media type from the descriptor or the JSON.
fn read_verified(store: &LayoutStore, descriptor: &Descriptor, check_size: bool) -> Result<RawManifest> {
    let path = store.blob_path(&descriptor.digest);
    let file = File::open(&path).map_err(|e| match e.kind() {
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
