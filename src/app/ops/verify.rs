//! `app verify BUNDLE`: a bundle checked on its own, with no registry: the manifest and the
//! lock name the same images; every manifest, blob and referrer those images hold is present
//! and hashes to its digest, and every referrer the lock records (signatures above all) is
//! there; with keys, every artifact has a signature by one of them.

use std::path::Path;

use super::bundle::read_bundle;
use crate::error::{Error, Result};
use crate::oci::Digest;
use crate::oci::manifest::Manifest;
use crate::ops::discover::{Budget, MAX_DEPTH, referrers_of};
use crate::ops::verify::{Requirement, check, require_one};
use crate::store::layout::LayoutStore;
use crate::store::{Selector, Store};

/// Nesting of indexes followed.
const MAX_NESTING: usize = 4;

/// What `verify` checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BundleCheck {
    pub artifacts: usize,
    /// Manifests and blobs hashed.
    pub objects: usize,
    /// Signatures that verified, per artifact reference.
    pub signatures: Vec<(String, usize)>,
}

/// Check the bundle at `path` (a directory, or a tar unpacked in `scratch` for the check);
/// with `requirement`, every artifact's signatures too.
pub fn verify_bundle(path: &Path, scratch: &Path, requirement: Option<&Requirement>) -> Result<BundleCheck> {
    if crate::app::tarball::is_tarball(path) {
        let unpacked = super::relocate::unpack(path, scratch)?;
        return verify_dir(unpacked.path(), requirement);
    }
    verify_dir(path, requirement)
}

fn verify_dir(dir: &Path, requirement: Option<&Requirement>) -> Result<BundleCheck> {
    let (_, _, lock) = read_bundle(dir)?;
    let mut store = LayoutStore::open(dir)?;
    let mut outcome = BundleCheck::default();
    for artifact in &lock.artifacts {
        let digest: Digest = artifact.digest.parse()?;
        let tagged = store.manifest_head(&Selector::Tag(artifact.reference.clone()))?;
        if tagged.as_ref().map(|d| &d.digest) != Some(&digest) {
            return Err(Error::DigestMismatch {
                what: format!("{} in the bundle's index (the lock pins it)", artifact.reference),
                expected: digest.to_string(),
                actual: tagged.map_or("nothing".into(), |d| d.digest.to_string()),
            });
        }
        outcome.objects += hash_tree(&mut store, &digest, 0)?;
        let referrers = referrers_of(&mut store, &digest, None, MAX_DEPTH, &mut Budget::default())?;
        // A signature the lock records and the bundle lost would pass a check without keys.
        for locked in &artifact.referrers {
            if !referrers.iter().any(|r| r.descriptor.digest.to_string() == locked.digest) {
                let kind = locked.artifact_type.as_deref().or(locked.tag.as_deref()).unwrap_or("referrer");
                return Err(Error::NotFound {
                    what: format!(
                        "{} ({kind}), which the lock records for {}; bundle the application again",
                        locked.digest, artifact.reference
                    ),
                    location: format!("the bundle {}", dir.display()),
                });
            }
        }
        for referrer in referrers {
            outcome.objects += hash_tree(&mut store, &referrer.descriptor.digest, 0)?;
        }
        if let Some(requirement) = requirement {
            let checked = check(&mut store, &digest, &requirement.keys, &requirement.annotations)?;
            require_one(&format!("{}@{digest}", artifact.reference), &checked, &requirement.annotations)?;
            outcome.signatures.push((artifact.reference.clone(), checked.verified.len()));
        }
        outcome.artifacts += 1;
    }
    Ok(outcome)
}

/// Hash the manifest `digest` and everything it holds; how many objects were hashed.
fn hash_tree(store: &mut LayoutStore, digest: &Digest, depth: usize) -> Result<usize> {
    if depth > MAX_NESTING {
        return Err(Error::InvalidInput(format!("{digest}: indexes nested too deeply")));
    }
    // Reading a manifest by digest checks its bytes.
    let raw = store.manifest_get(&Selector::Digest(digest.clone()))?;
    let mut objects = 1;
    match raw.parse()? {
        Manifest::Image(manifest) => {
            for blob in std::iter::once(&manifest.config).chain(&manifest.layers) {
                store.blob_verify(blob)?;
                objects += 1;
            }
        }
        Manifest::Index(index) => {
            for entry in &index.manifests {
                objects += hash_tree(store, &entry.digest, depth + 1)?;
            }
        }
    }
    Ok(objects)
}
