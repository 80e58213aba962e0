//! The local OCI cache, `wasmcloud_ocicache`: an OCI image layout (the same
//! code as `oci-layout://`) whose `index.json` names each entry by its full
//! reference (`registry/repository:tag`), so two registries never share an
//! entry. Blobs are content-addressed and ingested through a digest check;
//! index updates are atomic; readers verify what they read, hashing a blob
//! again unless its verification seal shows the file unchanged since it was
//! last hashed. Many processes may share one cache.

pub mod drain;
pub mod host_compat;
mod link_mode;
pub mod maintenance;
mod policy;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

pub use link_mode::{LINK_MODE_VAR, LinkMode};
pub use policy::PullPolicy;

use crate::error::Result;
use crate::oci::{Descriptor, Digest, RawManifest};
use crate::reference::RegistryReference;
use crate::store::Store;
use crate::store::layout::{LayoutIndex, LayoutStore};

/// The cache directory's name under the temporary directory (wasmCloud's).
pub const DIR_NAME: &str = "wasmcloud_ocicache";
/// wasmCloud's directory of extracted provider binaries (`drain lib`).
pub const LIB_DIR_NAME: &str = "wasmcloudcache";
/// Environment variable naming the cache directory.
pub const CACHE_DIR_VAR: &str = "WASMSHIP_CACHE_DIR";

static UNAVAILABLE_NOTED: AtomicBool = AtomicBool::new(false);

/// The temporary directory: `TMPDIR`, else `/tmp` (as the wasmCloud host uses).
pub fn temp_dir() -> PathBuf {
    temp_dir_with(&crate::config::env::var)
}

/// [`temp_dir`] in the environment `var` looks variables up in.
pub fn temp_dir_with(var: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    var("TMPDIR").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from)
}

/// The cache directory: `explicit` (`--cache-dir`), else `WASMSHIP_CACHE_DIR`,
/// else `<temp dir>/wasmcloud_ocicache`.
pub fn cache_dir(explicit: Option<&Path>) -> PathBuf {
    cache_dir_with(explicit, &crate::config::env::var)
}

/// [`cache_dir`] in the environment `var` looks variables up in.
pub fn cache_dir_with(explicit: Option<&Path>, var: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    var(CACHE_DIR_VAR).map_or_else(|| temp_dir_with(var).join(DIR_NAME), PathBuf::from)
}

/// A cache directory the host has not granted is an error, not a directory
/// to create wherever the WASI libc would resolve its path.
pub fn require_granted(dir: &Path) -> Result<()> {
    if crate::fsutil::reachable(dir) {
        return Ok(());
    }
    Err(crate::Error::Usage(format!(
        "{} is not in a directory the host grants; run wasmship (it grants the cache), give the \
         component access (wasmtime run --dir {}), or name another with --cache-dir",
        dir.display(),
        crate::fsutil::parent_dir(dir).display()
    )))
}

/// An open cache.
pub struct Cache {
    store: LayoutStore,
}

impl Cache {
    /// Open (creating if needed) the cache at `dir`.
    pub fn open(dir: &Path) -> Result<Cache> {
        require_granted(dir)?;
        Ok(Cache { store: LayoutStore::create(dir)?.with_seals() })
    }

    /// Open the cache, or say once on stderr that there is none reachable
    /// (a host that grants no file system, or none holding the cache
    /// directory, as `wasmtime run --dir .`) and go on without.
    pub fn open_or_note(explicit: Option<&Path>) -> Option<Cache> {
        let dir = cache_dir(explicit);
        let reason = if crate::fsutil::reachable(&dir) {
            match Cache::open(&dir) {
                Ok(cache) => return Some(cache),
                Err(e) => e.to_string(),
            }
        } else {
            "the host grants no directory that holds it".to_string()
        };
        if !UNAVAILABLE_NOTED.swap(true, Ordering::Relaxed) {
            eprintln!("note: no cache at {} ({reason}); continuing without a cache", dir.display());
        }
        None
    }

    /// The cache directory.
    pub fn root(&self) -> &Path {
        self.store.root()
    }

    /// The cache as a store, given up.
    pub fn into_store(self) -> LayoutStore {
        self.store
    }

    /// The cache as a store (blobs and manifests).
    pub fn store(&mut self) -> &mut LayoutStore {
        &mut self.store
    }

    /// The entry name of a reference: `registry/repository:tag`, with
    /// `@digest` when the reference has one.
    pub fn key(reference: &RegistryReference) -> String {
        reference.to_string()
    }

    /// The manifest the cache holds for `key`.
    pub fn lookup(&self, key: &str) -> Result<Option<Descriptor>> {
        Ok(LayoutIndex::load(self.store.root())?.find_tag(key).cloned())
    }

    /// Record `manifest` (already stored, with its blobs) as the entry `key`.
    pub fn record(&mut self, key: &str, manifest: &RawManifest) -> Result<()> {
        self.store.manifest_put(manifest, Some(key))
    }

    /// Store a manifest that an entry refers to (e.g. an index's child).
    pub fn store_manifest(&mut self, manifest: &RawManifest) -> Result<()> {
        self.store.blob_put(&manifest.descriptor(), &manifest.bytes, crate::store::UploadMode::Monolithic)
    }

    /// Remove a blob (found corrupt); a later fetch brings it back.
    pub fn remove_blob(&mut self, digest: &Digest) -> Result<()> {
        self.store.blob_remove(digest)
    }

    /// Mark an entry as used now (for least-recently-used eviction).
    pub fn touch(&self, digest: &Digest) {
        let path = self.store.blob_path(digest);
        if let Ok(file) = std::fs::File::options().append(true).open(&path) {
            let _ = file.set_modified(std::time::SystemTime::now());
        }
    }
}
