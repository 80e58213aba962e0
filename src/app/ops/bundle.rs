//! `app bundle`: one self-contained OCI image layout holding every artifact an application
//! names — byte for byte, with their signatures and other referrers — beside the manifest
//! and its lock, so the application can be carried where its registries are not. Each
//! artifact is tagged in the layout by its reference as the manifest writes it. The
//! layout is built in a temporary directory and renamed into place when complete, or,
//! for an output named `*.tar`, packed into one file.

use std::path::Path;

use super::batch::Batch;
use super::resolve::{read_manifest, resolve};
use crate::app::lock::AppLock;
use crate::app::manifest::AppManifest;
use crate::auth::Access;
use crate::error::{Error, Result};
use crate::ops::copy::{Endpoint, copy_between};
use crate::ops::overlap::{Artifact, upload_blobs_ahead};
use crate::ops::{RegistryOptions, open_store, parse_reference};
use crate::store::layout::LayoutStore;
use crate::store::{Selector, Store};

/// The manifest's and the lock's names inside a bundle.
pub const BUNDLE_MANIFEST: &str = "wadm.yaml";
pub const BUNDLE_LOCK: &str = "wadm.lock.json";

/// A bundle directory's manifest (text and contents) and lock, the lock covering every
/// image the manifest names.
pub fn read_bundle(dir: &Path) -> Result<(String, AppManifest, AppLock)> {
    if !super::relocate::is_bundle(dir) {
        return Err(Error::InvalidInput(format!(
            "{} is not a bundle (made by `wasmship app bundle`: an OCI layout with {BUNDLE_MANIFEST})",
            dir.display()
        )));
    }
    let (text, app) = read_manifest(&dir.join(BUNDLE_MANIFEST))?;
    let lock = AppLock::load(&dir.join(BUNDLE_LOCK))?;
    for reference in app.references() {
        if !lock.artifacts.iter().any(|a| a.reference == reference) {
            return Err(Error::InvalidInput(format!("{}: the lock has no entry for {reference}", dir.display())));
        }
    }
    Ok((text, app, lock))
}

/// What `bundle` made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleOutcome {
    pub lock: AppLock,
    /// Blobs and manifests copied (referrers included).
    pub copied_blobs: u32,
    pub referrers: u32,
}

/// Bundle the application at `manifest_path` into the new directory `out` (or the tar
/// file, when `out` ends in `.tar`), with at most `jobs` blobs in flight.
pub fn bundle(
    manifest_path: &Path,
    out: &Path,
    options: &RegistryOptions,
    keep_going: bool,
    jobs: usize,
) -> Result<BundleOutcome> {
    if std::fs::symlink_metadata(out).is_ok() {
        return Err(Error::Policy(format!("{} exists; remove it or choose another -o", out.display())));
    }
    let (text, app) = read_manifest(manifest_path)?;
    let lock = resolve(&app, options, keep_going)?;
    let parent = crate::fsutil::parent_dir(out);
    let building = crate::fsutil::TempDir::new_in(parent, "bundle")?;
    let mut layout = LayoutStore::create(building.path())?;
    let mut outcome = BundleOutcome { lock: lock.clone(), copied_blobs: 0, referrers: 0 };
    // Every artifact's registry, opened once; one that cannot be opened here is opened again
    // by its copy below, which reports why.
    let mut sources: Vec<Option<Box<dyn Store>>> = lock
        .artifacts
        .iter()
        .map(|artifact| open_store(&parse_reference(&artifact.reference).ok()?, options, Access::Pull).ok())
        .collect();
    // The blobs go ahead, several at a time; the copies then find them in the bundle.
    let mut ahead: Vec<Option<Artifact<'_>>> = sources
        .iter_mut()
        .zip(&lock.artifacts)
        .map(|(source, artifact)| {
            Some(Artifact { source: source.as_mut()?.as_mut(), destination: 0, digest: artifact.digest.parse().ok()? })
        })
        .collect();
    let uploaded = upload_blobs_ahead(&mut ahead, &mut [&mut layout], jobs);
    drop(ahead);

    let mut batch = Batch::new(keep_going, lock.artifacts.len());
    for (index, artifact) in lock.artifacts.iter().enumerate() {
        let mut copy = || {
            let mut reopened;
            let source = match sources[index].as_mut() {
                Some(source) => source,
                None => {
                    reopened = open_store(&parse_reference(&artifact.reference)?, options, Access::Pull)?;
                    &mut reopened
                }
            };
            let digest = artifact.digest.parse()?;
            copy_between(
                Endpoint {
                    store: source.as_mut(),
                    shown: artifact.reference.clone(),
                    selector: Selector::Digest(digest),
                },
                Endpoint {
                    store: &mut layout,
                    shown: out.display().to_string(),
                    selector: Selector::Tag(artifact.reference.clone()),
                },
                None,
                true,
            )
        };
        if let Some(copied) = batch.run(&artifact.reference, &mut copy)? {
            // The blobs written ahead were found present by the copy.
            outcome.copied_blobs += copied.copied_blobs + uploaded[index].min(copied.skipped_blobs);
            outcome.referrers += copied.referrers;
        }
    }
    // The half-built layout goes with `building` when any artifact failed.
    batch.finish()?;
    crate::fsutil::write_atomic(&building.path().join(BUNDLE_MANIFEST), text.as_bytes())?;
    lock.save(&building.path().join(BUNDLE_LOCK))?;
    if crate::app::tarball::is_tarball(out) {
        // One file to carry: the directory packed, then removed.
        let mut tar = crate::fsutil::TempFile::new_in(parent, "bundle-tar")?;
        tar.write_buffered(|writer| crate::app::tarball::pack(building.path(), writer))?;
        tar.persist(out)?;
    } else {
        building.persist(out)?;
    }
    Ok(outcome)
}
