//! Where the runner keeps its own files, and how it writes them: the runner cache root
//! (`$XDG_CACHE_HOME/wasmship`, else `~/.cache/wasmship`) and whole-file writes that go to a
//! temporary file first and are renamed into place, so no reader ever sees half a file.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The runner's cache root, from a variable lookup (the process environment in production).
/// `XDG_CACHE_HOME` counts only when absolute, as the XDG base directory spec says.
pub fn cache_root(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let non_empty = |name: &str| var(name).filter(|value| !value.is_empty()).map(PathBuf::from);
    let base = non_empty("XDG_CACHE_HOME")
        .filter(|dir| dir.is_absolute())
        .or_else(|| non_empty("HOME").map(|home| home.join(".cache")))?;
    Some(base.join("wasmship"))
}

/// Looks a variable up in this process's environment.
pub fn process_var(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// Writes `bytes` to `path` atomically: into a fresh temporary file in the same directory
/// (created if missing), synced, then renamed over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let temp = dir.join(format!(".{name}.{}-{nanos}.tmp", std::process::id()));

    let result = (|| {
        let mut file = fs::File::options().write(true).create_new(true).open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.into())
    }

    #[test]
    fn cache_root_prefers_absolute_xdg() {
        let root = cache_root(vars(&[("XDG_CACHE_HOME", "/xdg"), ("HOME", "/home/u")]));
        assert_eq!(root, Some(PathBuf::from("/xdg/wasmship")));
        let root = cache_root(vars(&[("XDG_CACHE_HOME", "rel"), ("HOME", "/home/u")]));
        assert_eq!(root, Some(PathBuf::from("/home/u/.cache/wasmship")));
        let root = cache_root(vars(&[("XDG_CACHE_HOME", ""), ("HOME", "/home/u")]));
        assert_eq!(root, Some(PathBuf::from("/home/u/.cache/wasmship")));
        assert_eq!(cache_root(vars(&[])), None);
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("sub/file.bin");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let entries = fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(entries, 1);
    }
}
