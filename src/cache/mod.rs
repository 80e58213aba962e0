//! The local OCI cache: an OCI image layout (the same code as
//! `oci-layout://`) whose `index.json` names each entry by its full reference
//! (`registry/repository:tag`), so two registries never share an entry. Blobs
//! are content-addressed and ingested through a digest check; index updates
//! are atomic; readers verify what they read, hashing a blob again unless its
//! verification seal shows the file unchanged since it was last hashed. Many
//! processes of one user may share one cache.
//!
//! The cache is the user's own (`$XDG_CACHE_HOME/wasmship/oci`, else
//! `~/.cache/wasmship/oci`): a cache another user can write could serve
//! anything under a trusted name. The runner refuses a cache directory that is
//! a symbolic link, belongs to someone else or is writable by others; only then
//! are seals believed and blobs handed out as hard links ([`Trust`]). The
//! wasmCloud host's own cache, `$TMPDIR/wasmcloud_ocicache`, is a different
//! directory ([`host_cache_dir`]): `drain oci` empties it too, as wash does.

pub mod drain;
pub mod host_compat;
mod link_mode;
pub mod maintenance;
mod policy;
pub mod signatures;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

pub use link_mode::{LINK_MODE_VAR, LinkMode};
pub use policy::PullPolicy;

use crate::error::Result;
use crate::oci::{Descriptor, Digest, RawManifest};
use crate::reference::RegistryReference;
use crate::store::Store;
use crate::store::layout::{LayoutIndex, LayoutStore};

/// The wasmCloud host's cache directory's name under the temporary directory.
pub const DIR_NAME: &str = "wasmcloud_ocicache";
/// The cache's directory under the user's cache directory (`~/.cache`).
pub const USER_DIR: &str = "wasmship/oci";
/// The file that marks a directory as a wasmship cache: `drain` and `cache`
/// empty or prune nothing else.
pub const MARKER: &str = ".wasmship-cache";
/// Everything a cache holds at its top level.
const CACHE_NAMES: &[&str] = &[
    MARKER,
    "oci-layout",
    "index.json",
    "index.json.lock",
    "blobs",
    ".ingest",
    ".seals",
    "wasm-pkg",
    signatures::DIR_NAME,
];
const MARKER_TEXT: &str = "A wasmship OCI cache (an OCI image layout). `wasmship drain oci` empties it.\n";
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
/// else `$XDG_CACHE_HOME/wasmship/oci`, else `$HOME/.cache/wasmship/oci`; with
/// neither variable set (a bare WASI host), `<temp dir>/wasmcloud_ocicache`.
pub fn cache_dir(explicit: Option<&Path>) -> PathBuf {
    cache_dir_with(explicit, &crate::config::env::var)
}

/// [`cache_dir`] in the environment `var` looks variables up in.
pub fn cache_dir_with(explicit: Option<&Path>, var: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    let set = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set(CACHE_DIR_VAR) {
        return dir;
    }
    // As the XDG base directory rules say, a relative XDG_CACHE_HOME is ignored.
    let user_cache = set("XDG_CACHE_HOME")
        .filter(|dir| dir.is_absolute())
        .or_else(|| set("HOME").filter(|home| home.is_absolute()).map(|home| home.join(".cache")));
    match user_cache {
        Some(dir) => dir.join(USER_DIR),
        None => host_cache_dir_with(var),
    }
}

/// The wasmCloud host's cache directory, `<temp dir>/wasmcloud_ocicache`: where
/// `pull --wasmcloud-host-cache` writes the host's entry and what `drain oci`
/// empties besides the cache.
pub fn host_cache_dir() -> PathBuf {
    host_cache_dir_with(&crate::config::env::var)
}

/// [`host_cache_dir`] in the environment `var` looks variables up in.
pub fn host_cache_dir_with(var: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    temp_dir_with(var).join(DIR_NAME)
}

/// How far the files of a cache can be believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// The host checked that the directory is the user's own (the runner does,
    /// for every owner-only directory of the plan): seals are believed and
    /// blobs may be handed out as hard links.
    Private,
    /// Nobody checked (a plain WASI host cannot tell who owns a file): every
    /// blob is hashed on every read and copied, never linked.
    Unchecked,
}

impl Trust {
    /// The trust this host gives: `Private` under the runner.
    pub fn of_host() -> Trust {
        if crate::config::env::under_runner() { Trust::Private } else { Trust::Unchecked }
    }
}

/// What a directory holds, for commands that empty or prune a cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contents {
    /// Nothing (or the directory is missing).
    Empty,
    /// A wasmship cache: the marker, or an OCI layout whose entries are named
    /// by full references as only the cache names them (caches made before
    /// the marker existed).
    Cache,
    /// Anything else: not ours to remove.
    Other,
}

/// What `dir` holds; a missing directory is empty.
pub fn contents(dir: &Path) -> Result<Contents> {
    let mut listing = match std::fs::read_dir(dir) {
        Ok(listing) => listing.peekable(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Contents::Empty),
        Err(e) => return Err(crate::Error::io(dir.display(), "read directory", e)),
    };
    if listing.peek().is_none() {
        return Ok(Contents::Empty);
    }
    if dir.join(MARKER).is_file() {
        return Ok(Contents::Cache);
    }
    // Only names a cache makes (another process may be creating this one right now).
    for entry in listing {
        let entry = match entry {
            Ok(entry) => entry,
            // Another process removed it while it was listed.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(crate::Error::io(dir.display(), "read directory", e)),
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let temporary = name.starts_with('.') && name.ends_with(".tmp");
        if !temporary && !CACHE_NAMES.contains(&name.as_ref()) {
            return Ok(Contents::Other);
        }
    }
    // A layout of the user's own holds tags; the cache names entries by full references.
    let Ok(index) = LayoutIndex::load(dir) else { return Ok(Contents::Cache) };
    let named_like_the_cache = index.manifests.iter().all(|entry| {
        entry.annotation(crate::oci::annotations::REF_NAME).is_some_and(
            |name| match crate::reference::Reference::parse(name) {
                // The cache names entries by the full reference, exactly as it prints.
                Ok(crate::reference::Reference::Registry(r)) => Cache::key(&r) == name,
                _ => false,
            },
        )
    });
    Ok(if named_like_the_cache { Contents::Cache } else { Contents::Other })
}

/// Refuse to empty or prune `dir` unless it is a wasmship cache (or empty).
pub fn require_cache(dir: &Path) -> Result<Contents> {
    match contents(dir)? {
        Contents::Other => Err(crate::Error::Usage(format!(
            "{} is not a wasmship cache (it has no {MARKER} file and is not an OCI layout the cache \
             wrote); nothing was removed. Name the cache with --cache-dir or WASMSHIP_CACHE_DIR",
            dir.display()
        ))),
        found => Ok(found),
    }
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

/// Whether the directory `dir` exists. The plan lets a host skip a directory
/// that does not exist, so under a host that grants by the plan one it did not grant is
/// missing; elsewhere the host must grant it.
pub fn present(dir: &Path) -> Result<bool> {
    if !crate::fsutil::reachable(dir) && crate::config::env::granted_by_plan() {
        return Ok(false);
    }
    require_granted(dir)?;
    Ok(dir.exists())
}

/// Make `dir` a cache (creating it and its marker) before anything is
/// written into it; a directory that holds something else is refused.
pub fn claim(dir: &Path) -> Result<()> {
    require_cache(dir)?;
    let marker = dir.join(MARKER);
    if !marker.exists() {
        std::fs::create_dir_all(dir).map_err(|e| crate::Error::io(dir.display(), "create directory", e))?;
        crate::fsutil::write_atomic(&marker, MARKER_TEXT.as_bytes())?;
    }
    Ok(())
}

/// Whether `error` says that something of the cache at `root` vanished while it was used
/// (a `drain` or `cache prune` in another process): fetching again brings it back.
pub fn vanished_from(root: &Path, error: &crate::Error) -> bool {
    let root = root.display().to_string();
    match error {
        crate::Error::NotFound { location, .. } => location.contains(&root),
        crate::Error::Io { path, source, .. } => source.kind() == std::io::ErrorKind::NotFound && path.contains(&root),
        _ => false,
    }
}

/// An open cache.
pub struct Cache {
    store: LayoutStore,
}

impl Cache {
    /// Open (creating if needed) the cache at `dir`, trusting its files as far
    /// as this host vouches for them ([`Trust::of_host`]).
    pub fn open(dir: &Path) -> Result<Cache> {
        Cache::open_with(dir, Trust::of_host())
    }

    /// Open (creating if needed) the cache at `dir` with `trust`. A directory
    /// that holds something other than a cache is refused, never written into.
    pub fn open_with(dir: &Path, trust: Trust) -> Result<Cache> {
        require_granted(dir)?;
        claim(dir)?;
        let store = LayoutStore::create(dir)?;
        let store = match trust {
            Trust::Private => store.with_seals(),
            Trust::Unchecked => store,
        };
        Ok(Cache { store })
    }

    /// Open the cache at `dir` when there is one (a missing cache is empty:
    /// nothing to list, verify or prune).
    pub fn open_existing(dir: &Path) -> Result<Option<Cache>> {
        if !present(dir)? || contents(dir)? == Contents::Empty {
            require_cache(dir)?;
            return Ok(None);
        }
        Cache::open(dir).map(Some)
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
        Ok(LayoutIndex::load_or_empty(self.store.root())?.find_tag(key).cloned())
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

    /// Whether `error` says that something of this cache vanished while it was used (a
    /// `drain` or `cache prune` in another process): fetching again brings it back.
    pub fn vanished(&self, error: &crate::Error) -> bool {
        vanished_from(self.root(), error)
    }

    /// Mark an entry as used now (for least-recently-used eviction).
    pub fn touch(&self, digest: &Digest) {
        let path = self.store.blob_path(digest);
        if let Ok(file) = std::fs::File::options().append(true).open(&path) {
            let _ = file.set_modified(std::time::SystemTime::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::oci::Descriptor;
    use crate::store::UploadMode;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wasmship-cache-{:x}", crate::fsutil::random_u64()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_default_cache_is_the_users_own() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        let dir = |pairs| cache_dir_with(None, &env(pairs));
        assert_eq!(dir(&[("HOME", "/home/u"), ("TMPDIR", "/t")]), Path::new("/home/u/.cache/wasmship/oci"));
        assert_eq!(dir(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "/x")]), Path::new("/x/wasmship/oci"));
        assert_eq!(dir(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "rel")]), Path::new("/home/u/.cache/wasmship/oci"));
        assert_eq!(dir(&[("HOME", "/home/u"), (CACHE_DIR_VAR, "/c")]), Path::new("/c"));
        assert_eq!(dir(&[("TMPDIR", "/t")]), Path::new("/t/wasmcloud_ocicache"), "a bare host has no home");
        assert_eq!(cache_dir_with(Some(Path::new("mine")), &env(&[("HOME", "/h")])), Path::new("mine"));
        assert_eq!(host_cache_dir_with(&env(&[("HOME", "/h")])), Path::new("/tmp/wasmcloud_ocicache"));
    }

    #[test]
    fn only_caches_count_as_caches() {
        let dir = scratch();
        assert_eq!(contents(&dir.join("missing")).unwrap(), Contents::Empty);
        assert_eq!(contents(&dir).unwrap(), Contents::Empty);
        std::fs::write(dir.join("thesis.tex"), "work").unwrap();
        assert_eq!(contents(&dir).unwrap(), Contents::Other);
        let error = Cache::open_with(&dir, Trust::Unchecked).err().expect("not a cache").to_string();
        assert!(error.contains("is not a wasmship cache"), "{error}");
        assert!(!dir.join("index.json").exists(), "nothing written into it");

        // A layout whose entries are named as only the cache names them (older caches).
        let legacy = scratch();
        let mut layout = LayoutStore::create(&legacy).unwrap();
        let manifest = crate::oci::RawManifest::from_bytes(
            crate::oci::media_type::OCI_MANIFEST.to_string(),
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.wasm.config.v0+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#.to_vec(),
        );
        layout.manifest_put(&manifest, Some("example.com/a/b:1")).unwrap();
        assert_eq!(contents(&legacy).unwrap(), Contents::Cache);
        layout.manifest_put(&manifest, Some("v1")).unwrap();
        assert_eq!(contents(&legacy).unwrap(), Contents::Other, "a user's own layout");

        let fresh = scratch();
        Cache::open_with(&fresh, Trust::Unchecked).unwrap();
        assert!(fresh.join(MARKER).is_file());
        assert_eq!(contents(&fresh).unwrap(), Contents::Cache);
    }

    #[test]
    fn an_unchecked_cache_hashes_every_read() {
        let dir = scratch();
        let mut cache = Cache::open_with(&dir, Trust::Unchecked).unwrap();
        let bytes = b"component bytes".to_vec();
        let descriptor = Descriptor::new("application/wasm", crate::oci::Digest::sha256_of(&bytes), bytes.len() as u64);
        cache.store().blob_put(&descriptor, &bytes, UploadMode::Monolithic).unwrap();
        let path = cache.store().blob_path(&descriptor.digest);
        let settled = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(settled).unwrap();
        let mut out = Vec::new();
        cache.store().blob_get(&descriptor, &mut out).unwrap();
        assert_eq!(out, bytes);

        // Another user rewrites the blob and puts its modification time back.
        std::fs::write(&path, b"COMPONENT BYTES").unwrap();
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(settled).unwrap();
        let error = cache.store().blob_get(&descriptor, &mut Vec::new()).unwrap_err();
        assert!(matches!(error, crate::Error::DigestMismatch { .. }), "{error}");
        assert!(cache.store().blob_link(&descriptor, &dir, None).unwrap().is_none(), "never handed out as a link");
    }
}
