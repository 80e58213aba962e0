//! Fetching through the cache: decide by pull policy whether the cached
//! entry of a registry reference can be used (after a `HEAD` on the manifest,
//! by default) or must be refreshed; bring only missing blobs into the cache,
//! each through a digest check; then read from the cache. Layout references
//! and runs without a reachable cache read their store directly.

use std::cell::RefCell;
use std::io::Read;
use std::path::PathBuf;

use super::resolve::{Resolved, resolve, resolve_selector, selector};
use super::{RegistryOptions, open_store};
use crate::auth::Access;
use crate::cache::{Cache, PullPolicy};
use crate::error::{Error, Result};
use crate::oci::{Descriptor, Digest, ImageManifest};
use crate::reference::Reference;
use crate::store::{BlobSource, Selector, Store, Upcoming, UploadMode};

/// Downloads of one blob before giving up.
pub(super) const DOWNLOAD_ATTEMPTS: u32 = 3;
/// Passes through the cache before giving up when its content keeps vanishing.
const VANISHED_ATTEMPTS: u32 = 3;

/// How the cache takes part.
#[derive(Debug, Clone, Default)]
pub struct CacheOptions {
    pub policy: PullPolicy,
    /// `--cache-dir`; else `WASMSHIP_CACHE_DIR` or `~/.cache/wasmship/oci`.
    pub dir: Option<PathBuf>,
    /// Do not use a cache at all.
    pub disabled: bool,
}

impl CacheOptions {
    /// Whether the network is off limits (`--offline`, `--pull never`).
    pub fn offline(&self) -> bool {
        self.policy == PullPolicy::Never
    }

    /// The cache directory, unless the cache is disabled or the host grants
    /// no directory that holds it.
    pub fn root(&self) -> Option<PathBuf> {
        (!self.disabled)
            .then(|| crate::cache::cache_dir(self.dir.as_deref()))
            .filter(|dir| crate::fsutil::reachable(dir))
    }

    /// A blob the cache holds, read whole and checked against `digest`.
    pub fn cached_blob(&self, digest: &Digest) -> Option<Vec<u8>> {
        let bytes = std::fs::read(crate::store::layout::blob_path_in(&self.root()?, digest)).ok()?;
        let mut hasher = crate::oci::DigestWriter::new(std::io::sink(), digest.algorithm());
        std::io::Write::write_all(&mut hasher, &bytes).ok()?;
        (&hasher.finish().0 == digest).then_some(bytes)
    }
}

/// Picks the blobs an operation needs from the image manifest, or refuses
/// the artifact before anything is transferred.
pub type Needs<'a> = &'a dyn Fn(&ImageManifest) -> Result<Vec<Descriptor>>;

/// A resolved artifact and the store to read its blobs from.
pub struct Fetched {
    pub store: Box<dyn Store>,
    pub resolved: Resolved,
    /// Whether anything came over the network.
    pub from_network: bool,
    /// The cache directory used, if any.
    pub cache_dir: Option<PathBuf>,
}

/// Resolve `reference` (checking `expected`) and make the blobs in `needs`
/// readable from the returned store.
pub fn fetch(
    reference: &Reference,
    options: &RegistryOptions,
    cache_options: &CacheOptions,
    expected: Option<&Digest>,
    needs: Needs<'_>,
) -> Result<Fetched> {
    // A manifest naming a blob beyond the limit is refused before anything moves.
    let subject = reference.to_string();
    let checked = |manifest: &ImageManifest| -> Result<Vec<Descriptor>> {
        let blobs = needs(manifest)?;
        crate::config::limits::check_blobs(&blobs, &subject)?;
        Ok(blobs)
    };
    let needs: Needs<'_> = &checked;
    let registry_reference = match reference {
        Reference::Layout(_) => return direct(reference, options, expected, needs),
        Reference::Registry(r) => r,
    };
    let cache = if cache_options.disabled { None } else { Cache::open_or_note(cache_options.dir.as_deref()) };
    let Some(mut cache) = cache else {
        if cache_options.policy == PullPolicy::Never {
            return Err(Error::NotFound {
                what: format!("{reference} (offline, and there is no cache)"),
                location: crate::cache::cache_dir(cache_options.dir.as_deref()).display().to_string(),
            });
        }
        return direct(reference, options, expected, needs);
    };
    // Another process may drain or prune the cache meanwhile: what vanished is fetched again.
    // Should it keep vanishing, the registry is read directly, as with `--no-cache`.
    let mut attempt = 1;
    let from_network = loop {
        match through_cache(&mut cache, reference, registry_reference, options, cache_options, expected, needs) {
            Err(e) if cache.vanished(&e) && attempt < VANISHED_ATTEMPTS => attempt += 1,
            Err(e) if cache.vanished(&e) && cache_options.policy != PullPolicy::Never => {
                return direct(reference, options, expected, needs);
            }
            result => break result?,
        }
    };
    let (from_network, resolved) = from_network;
    let cache_dir = Some(cache.root().to_path_buf());
    Ok(Fetched { store: Box::new(cache.into_store()), resolved, from_network, cache_dir })
}

/// Resolve `reference` through `cache`, refreshing the entry when the policy says so;
/// whether anything came over the network, and the artifact.
fn through_cache(
    cache: &mut Cache,
    reference: &Reference,
    registry_reference: &crate::reference::RegistryReference,
    options: &RegistryOptions,
    cache_options: &CacheOptions,
    expected: Option<&Digest>,
    needs: Needs<'_>,
) -> Result<(bool, Resolved)> {
    let key = Cache::key(registry_reference);
    let cached = cache.lookup(&key)?;

    // Use the cached entry when the policy allows and it is complete. The
    // registry asked for the tag's digest serves the refresh too.
    let mut registry = None;
    let usable = match (&cached, cache_options.policy) {
        (None, _) | (Some(_), PullPolicy::Always) => None,
        (Some(entry), PullPolicy::Never | PullPolicy::IfNotPresent) => Some(entry.clone()),
        (Some(entry), PullPolicy::Revalidate) if registry_reference.digest.is_some() => Some(entry.clone()),
        (Some(entry), PullPolicy::Revalidate) => {
            let store = registry.insert(open_store(reference, options, Access::Pull)?);
            match store.manifest_head(&selector(reference))? {
                Some(current) if current.digest == entry.digest => Some(entry.clone()),
                _ => None,
            }
        }
    };
    if let Some(entry) = usable {
        let what = reference.to_string();
        let resolved = resolve_selector(cache.store(), &Selector::Digest(entry.digest.clone()), &what, expected)?;
        if complete(cache, &needs(&resolved.manifest)?) {
            cache.touch(&entry.digest);
            return Ok((false, resolved));
        }
    }
    if cache_options.policy == PullPolicy::Never {
        return Err(Error::NotFound {
            what: format!(
                "{reference} (offline: not in the cache; pull it once without --offline, or with a cache policy other than `offline` in the typed API)"
            ),
            location: cache.root().display().to_string(),
        });
    }
    let registry = match registry {
        Some(store) => store,
        None => open_store(reference, options, Access::Pull)?,
    };
    refresh(cache, registry, reference, expected, needs, &key)?;
    let what = reference.to_string();
    let entry = cache.lookup(&key)?.ok_or_else(|| Error::NotFound {
        what: format!("cache entry {key} (removed while pulling)"),
        location: cache.root().display().to_string(),
    })?;
    let resolved = resolve_selector(cache.store(), &Selector::Digest(entry.digest), &what, expected)?;
    Ok((true, resolved))
}

fn direct(
    reference: &Reference,
    options: &RegistryOptions,
    expected: Option<&Digest>,
    needs: Needs<'_>,
) -> Result<Fetched> {
    let mut store = open_store(reference, options, Access::Pull)?;
    let resolved = resolve(store.as_mut(), reference, expected)?;
    needs(&resolved.manifest)?;
    Ok(Fetched { store, resolved, from_network: true, cache_dir: None })
}

fn complete(cache: &mut Cache, blobs: &[Descriptor]) -> bool {
    blobs.iter().all(|d| cache.store().blob_path(&d.digest).is_file())
}

/// Bring the current manifest and the missing blobs from `registry` into
/// the cache, then record the entry (last, so it never names missing content).
fn refresh(
    cache: &mut Cache,
    mut registry: Box<dyn Store>,
    reference: &Reference,
    expected: Option<&Digest>,
    needs: Needs<'_>,
    key: &str,
) -> Result<()> {
    let resolved = resolve(registry.as_mut(), reference, expected)?;
    let mut missing = Vec::new();
    for descriptor in needs(&resolved.manifest)? {
        if !cache.store().blob_exists(&descriptor.digest)? {
            missing.push(descriptor);
        }
    }
    // Every missing blob is asked for at once: the layer's request travels while the
    // config is read.
    let upcoming: Vec<Upcoming> = missing.iter().map(|d| Upcoming::Blob(d.digest.clone())).collect();
    registry.prefetch(&upcoming);
    let registry = RefCell::new(registry);
    for descriptor in missing {
        let source = RegistrySource { store: &registry, descriptor: &descriptor };
        // A download cut off halfway starts over (the registry client
        // already retried the request itself).
        let mut attempt = 1;
        loop {
            match cache.store().blob_put(&descriptor, &source, UploadMode::Monolithic) {
                Err(Error::Transport { .. }) if attempt < DOWNLOAD_ATTEMPTS => attempt += 1,
                result => break result?,
            }
        }
    }
    if resolved.image.digest != resolved.top.digest {
        cache.store_manifest(&resolved.image)?;
    }
    cache.record(key, &resolved.top)
}

/// A registry blob as a source for the cache's ingest: each attempt fetches
/// it again.
struct RegistrySource<'s> {
    store: &'s RefCell<Box<dyn Store>>,
    descriptor: &'s Descriptor,
}

impl BlobSource for RegistrySource<'_> {
    fn open(&self) -> Result<Box<dyn Read + '_>> {
        self.store.borrow_mut().blob_open(self.descriptor)
    }

    fn verifies_itself(&self) -> bool {
        true
    }
}
