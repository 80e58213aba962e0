//! `drain`: empty the caches wasmship owns, as `wash drain` does — `oci`
//! (the OCI cache), `lib` (wasmCloud's extracted provider binaries), `all`
//! (both; WIT packages live in the OCI cache) — or one entry of the OCI
//! cache with the blobs only it uses.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::{Cache, LIB_DIR_NAME, cache_dir, maintenance, temp_dir};
use crate::error::{Error, Result};

/// What to drain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DrainTarget {
    Oci,
    Lib,
    All,
}

/// Empty the selected caches; the directories emptied.
pub fn drain(target: DrainTarget, explicit_cache_dir: Option<&Path>) -> Result<Vec<PathBuf>> {
    let mut drained = Vec::new();
    if matches!(target, DrainTarget::Oci | DrainTarget::All) {
        let dir = cache_dir(explicit_cache_dir);
        empty_dir(&dir)?;
        drained.push(dir);
    }
    if matches!(target, DrainTarget::Lib | DrainTarget::All) {
        let dir = temp_dir().join(LIB_DIR_NAME);
        empty_dir(&dir)?;
        drained.push(dir);
    }
    Ok(drained)
}

/// Remove one entry (by reference) from the OCI cache.
pub fn drain_reference(explicit_cache_dir: Option<&Path>, key: &str) -> Result<Vec<String>> {
    let dir = cache_dir(explicit_cache_dir);
    if !dir.join("index.json").is_file() {
        return Ok(Vec::new());
    }
    let mut cache = Cache::open(&dir)?;
    maintenance::remove_entries(&mut cache, &BTreeSet::from([key.to_string()]))
}

/// Remove everything inside `dir` (not `dir` itself, which may be a mount
/// point or a preopened directory). A missing directory is already empty.
fn empty_dir(dir: &Path) -> Result<()> {
    super::require_granted(dir)?;
    let listing = match fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dir.display(), "read directory", e)),
    };
    for item in listing {
        let item = item.map_err(|e| Error::io(dir.display(), "read directory", e))?;
        let path = item.path();
        let result = match item.file_type() {
            Ok(t) if t.is_dir() => fs::remove_dir_all(&path),
            _ => fs::remove_file(&path),
        };
        result.map_err(|e| Error::io(path.display(), "remove", e))?;
    }
    Ok(())
}
