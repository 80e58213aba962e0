//! `app pull`: every artifact an application names brought into the OCI cache ahead of a
//! deployment — whole, each blob through a digest check, signatures checked first where
//! `--verify-key` or the policy asks — and, for hosts that read only their own cache, a
//! `wasmcloud_ocicache` entry under the reference exactly as the manifest writes it.

use std::path::Path;

use super::batch::Batch;
use super::resolve::read_manifest;
use crate::auth::Access;
use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::oci::{Descriptor, Digest, ImageManifest};
use crate::ops::fetch::{CacheOptions, fetch};
use crate::ops::overlap::{Artifact, upload_blobs_ahead};
use crate::ops::resolve::resolve;
use crate::ops::verify::{Verification, gate_after_fetch, gate_before_fetch};
use crate::ops::{RegistryOptions, open_store};
use crate::reference::Reference;
use crate::store::Store;

/// One artifact brought in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefetched {
    pub reference: String,
    pub digest: Digest,
    /// Whether anything came over the network (else the cache had it all).
    pub from_network: bool,
}

/// Bring every artifact of the manifest at `path` into the cache (and the host's cache
/// at `host_cache`), with at most `jobs` blobs in flight.
pub fn prefetch(
    path: &Path,
    options: &RegistryOptions,
    cache: &CacheOptions,
    host_cache: Option<&Path>,
    verification: &Verification,
    keep_going: bool,
    jobs: usize,
) -> Result<Vec<Prefetched>> {
    let (_, app) = read_manifest(path)?;
    if cache.disabled {
        return Err(Error::Usage("app pull fills the cache; it cannot run with --no-cache".into()));
    }
    let references = app.references();
    if !cache.offline() {
        fetch_blobs_ahead(&references, options, cache, verification, jobs);
    }
    let mut batch = Batch::new(keep_going, references.len());
    let mut done = Vec::new();
    for text in references {
        let fetched = batch.run(text, || prefetch_one(text, options, cache, host_cache, verification))?;
        if let Some(artifact) = &fetched
            && crate::terminal::stderr_is_terminal()
        {
            let how = if artifact.from_network { "fetched" } else { "already cached" };
            eprintln!("{text}: {} ({how})", artifact.digest);
        }
        done.extend(fetched);
    }
    batch.finish()?;
    Ok(done)
}

/// Bring the blobs of every artifact the cache has no entry for into it, up to `jobs` at
/// once, each hashed as it is written; the pulls that follow find them there and only
/// record their entries. Artifacts whose signatures must be checked first, and anything
/// that goes wrong here, are left to those pulls.
fn fetch_blobs_ahead(
    references: &[&str],
    options: &RegistryOptions,
    cache_options: &CacheOptions,
    verification: &Verification,
    jobs: usize,
) {
    let Some(mut cache) = Cache::open_or_note(cache_options.dir.as_deref()) else { return };
    let mut sources: Vec<(Box<dyn Store>, Digest)> = Vec::new();
    for text in references {
        let Ok(reference) = crate::ops::parse_reference(text) else { continue };
        let Reference::Registry(registry_reference) = &reference else { continue };
        if verification.requirement_for(&reference).is_some()
            || !matches!(cache.lookup(&Cache::key(registry_reference)), Ok(None))
        {
            continue;
        }
        let Ok(mut store) = open_store(&reference, options, Access::Pull) else { continue };
        let Ok(resolved) = resolve(store.as_mut(), &reference, None) else { continue };
        sources.push((store, resolved.image.digest.clone()));
    }
    let mut artifacts: Vec<Option<Artifact<'_>>> = sources
        .iter_mut()
        .map(|(store, digest)| Some(Artifact { source: store.as_mut(), destination: 0, digest: digest.clone() }))
        .collect();
    if !artifacts.is_empty() {
        upload_blobs_ahead(&mut artifacts, &mut [cache.store()], jobs);
    }
}

/// One artifact into the cache (and the host's cache).
fn prefetch_one(
    text: &str,
    options: &RegistryOptions,
    cache: &CacheOptions,
    host_cache: Option<&Path>,
    verification: &Verification,
) -> Result<Prefetched> {
    let reference = crate::ops::parse_reference(text)?;
    if !matches!(reference, Reference::Registry(_)) {
        return Err(Error::invalid_reference(text, "an application names registry references"));
    }
    let requirement = verification.requirement_for(&reference);
    let expected = gate_before_fetch(&reference, options, cache, requirement, None)?;
    let needs = |manifest: &ImageManifest| -> Result<Vec<Descriptor>> {
        Ok(std::iter::once(manifest.config.clone()).chain(manifest.layers.iter().cloned()).collect())
    };
    let fetched = fetch(&reference, options, cache, expected.as_ref(), &needs)?;
    gate_after_fetch(&reference, cache, requirement, &fetched)?;
    if let Some(dir) = host_cache {
        let Some(cache_dir) = fetched.cache_dir.as_deref() else {
            return Err(Error::Usage(format!("{text}: no cache to copy the host's entry from")));
        };
        let [layer] = fetched.resolved.manifest.layers.as_slice() else {
            return Err(Error::InvalidInput(format!(
                "{text}: {} layers; the wasmCloud host's cache holds artifacts of one layer",
                fetched.resolved.manifest.layers.len()
            )));
        };
        let blob = crate::store::layout::blob_path_in(cache_dir, &layer.digest);
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), "create directory", e))?;
        crate::cache::host_compat::write_entry(dir, text, &blob, &fetched.resolved.top.digest)?;
    }
    Ok(Prefetched {
        reference: text.to_string(),
        digest: fetched.resolved.top.digest.clone(),
        from_network: fetched.from_network,
    })
}
