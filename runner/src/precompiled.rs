//! Precompiled packager components on disk, so a warm start maps native code instead of
//! compiling megabytes of wasm.
//!
//! An entry is `Component::serialize` output named after everything that decides whether it
//! can be reused: the component's sha256, the wasmtime version, the target triple and the
//! engine's compatibility fingerprint. It lives in `$WASMSHIP_PRECOMPILED_DIR`, else in
//! `<runner cache root>/precompiled`. Entries are written whole (temp file + rename); an
//! entry that fails to load is recompiled and replaced; an unwritable directory only means
//! compiling in memory on every start. The newest `KEEP` entries are kept.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::engine;
use crate::files;
use crate::guest::Guest;

/// Variable naming the directory for precompiled components.
const DIR_VAR: &str = "WASMSHIP_PRECOMPILED_DIR";

/// File extension of entries.
const EXTENSION: &str = "cwasm";

/// Entries kept after writing a new one (several packager builds side by side during
/// development, or `--component` runs, without growing forever).
const KEEP: usize = 8;

/// The guest compiled for `engine`: loaded from the cache, or compiled (and cached).
pub fn load(engine: &Engine, guest: &Guest) -> Result<Component> {
    let Some(dir) = dir(files::process_var) else {
        return compile(engine, guest);
    };
    let path = dir.join(entry_name(&guest.sha256, engine::fingerprint(engine)));

    // SAFETY: `deserialize_file` trusts the file to be `serialize` output of a compatible
    // wasmtime. Entries are only ever created by `store` below (whole, by rename) in the
    // user's own cache directory, and wasmtime still checks the header, version and engine
    // settings, failing (not crashing) on a mismatch — which leads to a recompile.
    if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
        return Ok(component);
    }

    let component = compile(engine, guest)?;
    if let Ok(bytes) = component.serialize() {
        // Best effort: a read-only or full disk only costs the next start a compile.
        if files::write_atomic(&path, &bytes).is_ok() {
            prune(&dir, &path);
        }
    }
    Ok(component)
}

fn compile(engine: &Engine, guest: &Guest) -> Result<Component> {
    Component::new(engine, &guest.bytes).map_err(anyhow::Error::from).context("cannot compile the packager component")
}

/// The directory for entries, from a variable lookup.
fn dir(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    match var(DIR_VAR).filter(|value| !value.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => files::cache_root(var).map(|root| root.join("precompiled")),
    }
}

/// The file name of the entry for a component (hex sha256) on an engine (fingerprint).
fn entry_name(component_sha256: &str, engine_fingerprint: u64) -> String {
    format!(
        "{component_sha256}-wasmtime-{}-{}-{engine_fingerprint:016x}.{EXTENSION}",
        engine::WASMTIME_VERSION,
        engine::TARGET,
    )
}

/// Deletes all but the `KEEP` most recently written entries (never `keep`).
fn prune(dir: &Path, keep: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let is_entry = path.extension().is_some_and(|ext| ext == EXTENSION);
            let modified = path.metadata().ok()?.modified().ok()?;
            is_entry.then_some((modified, path))
        })
        .collect();
    entries.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    for (_, path) in entries.into_iter().skip(KEEP) {
        if path != keep {
            let _ = fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_prefers_the_variable() {
        let var = |name: &str| match name {
            "WASMSHIP_PRECOMPILED_DIR" => Some("/pre".into()),
            "HOME" => Some("/home/u".into()),
            _ => None,
        };
        assert_eq!(dir(var), Some(PathBuf::from("/pre")));
        let var = |name: &str| (name == "HOME").then(|| "/home/u".into());
        assert_eq!(dir(var), Some(PathBuf::from("/home/u/.cache/wasmship/precompiled")));
        assert_eq!(dir(|_| None), None);
    }

    #[test]
    fn entry_name_keys_on_component_engine_and_target() {
        let sha = "ab".repeat(32);
        let name = entry_name(&sha, 0x1234);
        assert!(name.starts_with(&format!("{sha}-wasmtime-{}-", engine::WASMTIME_VERSION)));
        assert!(name.contains(engine::TARGET));
        assert!(name.ends_with("-0000000000001234.cwasm"));
        assert_ne!(name, entry_name(&"cd".repeat(32), 0x1234));
        assert_ne!(name, entry_name(&sha, 0x1235));
    }

    #[test]
    fn fingerprint_is_stable_for_equal_configs() {
        let a = engine::new().unwrap();
        let b = engine::new().unwrap();
        assert_eq!(engine::fingerprint(&a), engine::fingerprint(&b));
    }

    #[test]
    fn prune_keeps_the_newest() {
        let tmp = tempfile::tempdir().unwrap();
        let t0 = std::time::SystemTime::now();
        let mut paths = Vec::new();
        for i in 0..KEEP + 3 {
            let path = tmp.path().join(format!("{i}.{EXTENSION}"));
            let file = fs::File::create(&path).unwrap();
            file.set_modified(t0 + std::time::Duration::from_secs(i as u64)).unwrap();
            paths.push(path);
        }
        fs::write(tmp.path().join("other.txt"), b"x").unwrap();
        prune(tmp.path(), &paths[0]);
        assert!(paths[0].exists(), "the entry just written survives");
        assert!(!paths[1].exists() && !paths[2].exists());
        assert!(paths[3..].iter().all(|p| p.exists()));
        assert!(tmp.path().join("other.txt").exists());
    }
}
