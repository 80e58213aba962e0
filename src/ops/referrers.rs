//! Referrers in any store: attach a manifest that refers to another (its blobs, the
//! manifest by digest, then the listing: the registry's referrers API when it indexed the
//! `subject` itself, else the tag-schema index `sha256-<hex>`), and list the referrers of a
//! manifest from both places. Also the small-blob reader the signature code shares.

use crate::error::{Error, Result};
use crate::oci::manifest::{ImageIndex, ImageManifest, Manifest};
use crate::oci::referrers::{fallback_tag, listing, with_referrer};
use crate::oci::{Descriptor, Digest, RawManifest};
use crate::store::{Selector, Store, UploadMode};

/// Put `blobs` (descriptor and bytes) that are not in `store` yet.
pub fn put_blobs(store: &mut dyn Store, blobs: &[(Descriptor, Vec<u8>)]) -> Result<()> {
    for (descriptor, bytes) in blobs {
        if !store.blob_exists(&descriptor.digest)? {
            store.blob_put(descriptor, bytes, UploadMode::Monolithic)?;
        }
    }
    Ok(())
}

/// Store `manifest` (whose `subject` names the manifest it refers to) with its `blobs`, and
/// list it among the subject's referrers. Its descriptor.
pub fn attach(store: &mut dyn Store, manifest: &ImageManifest, blobs: &[(Descriptor, Vec<u8>)]) -> Result<Descriptor> {
    put_blobs(store, blobs)?;
    let raw = manifest.to_raw();
    store.manifest_put(&raw, None)?;
    register(store, &raw.descriptor(), manifest)?;
    Ok(raw.descriptor())
}

/// List the stored referrer `manifest` (of `descriptor`) among its subject's referrers:
/// nothing to do when the store's referrers API indexed it, else the tag-schema index gets
/// it (read, entry added once, written back; two writers at once can lose one entry, as
/// the distribution spec warns).
pub fn register(store: &mut dyn Store, descriptor: &Descriptor, manifest: &ImageManifest) -> Result<()> {
    let Some(subject) = manifest.subject.as_ref().map(|s| s.digest.clone()) else { return Ok(()) };
    let indexed = store.referrers(&subject)?.is_some_and(|found| found.iter().any(|d| d.digest == descriptor.digest));
    if !indexed {
        let tag = fallback_tag(&subject);
        let index = with_referrer(fallback_index(store, &subject)?, listing(descriptor, manifest));
        let bytes = serde_json::to_vec(&index).expect("index serialises");
        store.manifest_put(&RawManifest::from_bytes(crate::oci::media_type::OCI_INDEX, bytes), Some(&tag))?;
    }
    Ok(())
}

/// The tag-schema index of `subject`'s referrers, when there is one.
fn fallback_index(store: &mut dyn Store, subject: &Digest) -> Result<Option<ImageIndex>> {
    let tag = fallback_tag(subject);
    let raw = match store.manifest_get(&Selector::Tag(tag.clone())) {
        Ok(raw) => raw,
        Err(Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    match raw.parse()? {
        Manifest::Index(index) => Ok(Some(index)),
        Manifest::Image(_) => Err(Error::InvalidInput(format!(
            "{}:{tag} is an image manifest, not the index of referrers the tag schema keeps there",
            store.location()
        ))),
    }
}

/// The referrers of `subject`: those the store's referrers API lists and those in the
/// tag-schema index, each once, optionally only of `artifact_type`.
pub fn list(store: &mut dyn Store, subject: &Digest, artifact_type: Option<&str>) -> Result<Vec<Descriptor>> {
    let mut found = store.referrers(subject)?.unwrap_or_default();
    for entry in fallback_index(store, subject)?.map(|i| i.manifests).unwrap_or_default() {
        if !found.iter().any(|d| d.digest == entry.digest) {
            found.push(entry);
        }
    }
    if let Some(wanted) = artifact_type {
        found.retain(|d| d.artifact_type.as_deref() == Some(wanted));
    }
    Ok(found)
}

/// A blob of at most `limit` bytes, read into memory and verified.
pub fn small_blob(store: &mut dyn Store, descriptor: &Descriptor, limit: u64, what: &str) -> Result<Vec<u8>> {
    if descriptor.size > limit {
        return Err(Error::SizeLimitExceeded { what: format!("{what} ({})", descriptor.digest), limit });
    }
    let mut bytes = Vec::with_capacity(descriptor.size as usize);
    store.blob_get(descriptor, &mut bytes)?;
    Ok(bytes)
}

/// An image manifest by digest (`what` names it in errors).
pub fn image_manifest(store: &mut dyn Store, digest: &Digest, what: &str) -> Result<ImageManifest> {
    match store.manifest_get(&Selector::Digest(digest.clone()))?.parse()? {
        Manifest::Image(manifest) => Ok(*manifest),
        Manifest::Index(_) => Err(Error::InvalidInput(format!("{what} {digest} is an index, not an image manifest"))),
    }
}
