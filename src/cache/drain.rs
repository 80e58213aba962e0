//! `drain`: empty the caches wasmship owns, as `wash drain` does — `oci`
//! (the OCI cache and the wasmCloud host's cache), `lib` (wasmCloud's
//! extracted provider binaries), `all` (both; WIT packages live in the OCI
//! cache) — or one entry of the OCI cache with the blobs only it uses. A
//! missing directory is already empty; a directory that is not a cache is
//! refused, never emptied.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::{Cache, Contents, LIB_DIR_NAME, cache_dir, host_cache_dir, maintenance, present, require_cache, temp_dir};
use crate::error::{Error, Result};

/// Passes at removing a directory that writers keep filling.
const REMOVE_PASSES: u32 = 50;

/// What to drain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DrainTarget {
    Oci,
    Lib,
    All,
}

/// Empty the selected caches; the directories emptied. The wasmCloud host's
/// cache goes with the OCI cache when `with_host_cache`.
pub fn drain(target: DrainTarget, explicit_cache_dir: Option<&Path>, with_host_cache: bool) -> Result<Vec<PathBuf>> {
    let mut drained = Vec::new();
    if matches!(target, DrainTarget::Oci | DrainTarget::All) {
        let dir = cache_dir(explicit_cache_dir);
        if present(&dir)? && require_cache(&dir)? == Contents::Cache {
            empty_dir(&dir)?;
        }
        drained.push(dir);
        let host = host_cache_dir();
        if with_host_cache && !drained.contains(&host) {
            if present(&host)? {
                empty_dir(&host)?;
            }
            drained.push(host);
        }
    }
    if matches!(target, DrainTarget::Lib | DrainTarget::All) {
        let dir = temp_dir().join(LIB_DIR_NAME);
        if present(&dir)? {
            empty_dir(&dir)?;
        }
        drained.push(dir);
    }
    Ok(drained)
}

/// Remove one entry (by reference) from the OCI cache.
pub fn drain_reference(explicit_cache_dir: Option<&Path>, key: &str) -> Result<Vec<String>> {
    let dir = cache_dir(explicit_cache_dir);
    if !present(&dir)? || require_cache(&dir)? == Contents::Empty || !dir.join("index.json").is_file() {
        return Ok(Vec::new());
    }
    let mut cache = Cache::open(&dir)?;
    maintenance::remove_entries(&mut cache, &BTreeSet::from([key.to_string()]))
}

/// Remove the directory tree at `path`; a pull writing into it meanwhile (a new blob)
/// makes a pass fail with "directory not empty", so more passes are tried.
fn remove_tree(path: &Path) -> std::io::Result<()> {
    let mut pass = 1;
    loop {
        match fs::remove_dir_all(path) {
            Err(e) if not_empty(&e) && pass < REMOVE_PASSES => {
                pass += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            other => return other,
        }
    }
}

/// Whether `error` is "directory not empty" (which WASI's libc reports as a bare errno).
fn not_empty(error: &std::io::Error) -> bool {
    #[cfg(target_arch = "wasm32")]
    if error.raw_os_error() == Some(libc::ENOTEMPTY) {
        return true;
    }
    error.kind() == std::io::ErrorKind::DirectoryNotEmpty
}

/// Remove everything inside `dir` (not `dir` itself, which may be a mount
/// point or a preopened directory).
fn empty_dir(dir: &Path) -> Result<()> {
    let listing = match fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dir.display(), "read directory", e)),
    };
    for item in listing {
        let item = match item {
            Ok(item) => item,
            // Another process removed it while it was listed.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(dir.display(), "read directory", e)),
        };
        let path = item.path();
        let result = match item.file_type() {
            Ok(t) if t.is_dir() => remove_tree(&path),
            _ => fs::remove_file(&path),
        };
        match result {
            Ok(()) => {}
            // Another process removed it first.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(path.display(), "remove", e)),
        }
    }
    Ok(())
}
