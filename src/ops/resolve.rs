//! From a reference to the image manifest it names: fetch, check an expected
//! digest, and pick the Wasm manifest out of an index.

use crate::error::{Error, Result};
use crate::oci::config::ARCHITECTURE_WASM;
use crate::oci::manifest::Manifest;
use crate::oci::{Descriptor, Digest, ImageManifest, RawManifest};
use crate::reference::Reference;
use crate::store::{Selector, Store};

/// The manifest a reference names, as stored and as parsed.
pub struct Resolved {
    /// The manifest the reference points at (an index, if it is one).
    pub top: RawManifest,
    /// The image manifest used (the same bytes as `top` unless `top` is an index).
    pub image: RawManifest,
    pub manifest: ImageManifest,
}

/// The selector for a reference: its digest, else its tag, else `latest`.
pub fn selector(reference: &Reference) -> Selector {
    match (reference.digest(), reference.tag()) {
        (Some(d), _) => Selector::Digest(d.clone()),
        (None, Some(t)) => Selector::Tag(t.to_string()),
        (None, None) => Selector::Tag("latest".to_string()),
    }
}

/// Fetch and parse the manifest for `reference`; `expected` is a digest the
/// top-level manifest must have.
pub fn resolve(store: &mut dyn Store, reference: &Reference, expected: Option<&Digest>) -> Result<Resolved> {
    resolve_selector(store, &selector(reference), &reference.to_string(), expected)
}

/// [`resolve`] by selector; `reference` names the artifact in messages.
pub fn resolve_selector(
    store: &mut dyn Store,
    selector: &Selector,
    reference: &str,
    expected: Option<&Digest>,
) -> Result<Resolved> {
    let top = store.manifest_get(selector)?;
    if let Some(expected) = expected
        && &top.digest != expected
    {
        return Err(Error::DigestMismatch {
            what: format!("manifest of {reference}"),
            expected: expected.to_string(),
            actual: top.digest.to_string(),
        });
    }
    match top.parse()? {
        Manifest::Image(manifest) => Ok(Resolved { image: top.clone(), top, manifest: *manifest }),
        Manifest::Index(index) => {
            let chosen = pick_wasm_manifest(&index.manifests).ok_or_else(|| Error::UnsupportedMediaType {
                media_type: top.media_type.clone(),
                context: format!(
                    "{reference}: an index without a Wasm (architecture \"wasm\") manifest among its {} entries",
                    index.manifests.len()
                ),
            })?;
            let raw = store.manifest_get(&Selector::Digest(chosen.digest.clone()))?;
            match raw.parse()? {
                Manifest::Image(manifest) => Ok(Resolved { top, image: raw, manifest: *manifest }),
                Manifest::Index(_) => Err(Error::UnsupportedMediaType {
                    media_type: raw.media_type.clone(),
                    context: format!("{reference}: nested indexes"),
                }),
            }
        }
    }
}

/// The index entry for Wasm: platform architecture `wasm`, else the only entry.
fn pick_wasm_manifest(entries: &[Descriptor]) -> Option<&Descriptor> {
    entries
        .iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| p.architecture == ARCHITECTURE_WASM))
        .or(if entries.len() == 1 { entries.first() } else { None })
}
