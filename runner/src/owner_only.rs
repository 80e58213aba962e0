//! Directories and files the plan keeps to the user (the signing keys of `par create`/`par
//! insert`, the private key of `key generate`). The guest cannot set file permissions (WASI
//! 0.2 has none), so the runner does what wash and cosign do natively: such a directory is
//! created with mode 0700 (`sandbox`), and every file that appears in it during the run gets
//! mode 0600 afterwards; a private file is created under umask 077 and made 0600 after.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::sandbox::Preopen;

/// The owner-only directories of one run, with the files each held before it.
#[derive(Debug, Default)]
pub struct OwnerOnly {
    dirs: Vec<(PathBuf, BTreeSet<OsString>)>,
}

impl OwnerOnly {
    /// Notes the files already in the owner-only directories among `preopens`.
    pub fn before(preopens: &[Preopen]) -> Self {
        let dirs = preopens.iter().filter(|p| p.owner_only).map(|p| (p.host.clone(), files_in(&p.host))).collect();
        Self { dirs }
    }

    /// Restricts the files written during the run to their owner.
    pub fn finish(self) -> Result<()> {
        for (dir, before) in self.dirs {
            for name in files_in(&dir).difference(&before) {
                let path = dir.join(name);
                // Another process sharing the directory (the cache's lock) may have removed it.
                if let Err(error) = restrict(&path, 0o600)
                    && path.exists()
                {
                    return Err(error);
                }
            }
        }
        Ok(())
    }
}

/// The files of one run that only the user may read.
#[derive(Debug, Default)]
pub struct PrivateFiles {
    files: Vec<PathBuf>,
}

impl PrivateFiles {
    /// Before the run: with any private file in the plan, files are created under umask
    /// 077 for the rest of this (single-command) process, so none is readable by others
    /// even while it is written.
    pub fn before(grants: &[crate::plan::PathGrant]) -> Self {
        let files: Vec<PathBuf> = grants
            .iter()
            .filter(|g| g.guard == crate::plan::Guard::PrivateFile)
            .map(|g| PathBuf::from(&g.path))
            .collect();
        #[cfg(unix)]
        if !files.is_empty() {
            // SAFETY: umask only swaps the process's file mode creation mask.
            unsafe {
                libc::umask(0o077);
            }
        }
        Self { files }
    }

    /// After the run (and after views are settled): each private file written gets 0600.
    pub fn finish(self) -> Result<()> {
        for path in self.files {
            if path.is_file() {
                restrict(&path, 0o600)?;
            }
        }
        Ok(())
    }
}

fn files_in(dir: &Path) -> BTreeSet<OsString> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .map(|entry| entry.file_name())
        .collect()
}

/// Sets `mode` on `path`.
#[cfg(unix)]
pub fn restrict(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set mode {mode:o} on {}", path.display()))
}

#[cfg(not(unix))]
pub fn restrict(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn new_files_become_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("keys");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("old.nk"), "S").unwrap();
        std::fs::set_permissions(dir.join("old.nk"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let preopen = |dir: &Path, owner_only: bool| Preopen {
            dir: dir.to_path_buf(),
            host: dir.to_path_buf(),
            names: Vec::new(),
            writable: true,
            owner_only,
            purpose: "test".into(),
        };
        let (preopen, other) = (preopen(&dir, true), preopen(tmp.path(), false));
        let run = OwnerOnly::before(&[preopen, other]);
        std::fs::write(dir.join("new_service.nk"), "S").unwrap();
        std::fs::write(tmp.path().join("elsewhere.txt"), "x").unwrap();
        std::fs::set_permissions(tmp.path().join("elsewhere.txt"), std::fs::Permissions::from_mode(0o644)).unwrap();
        run.finish().unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.join("new_service.nk")), 0o600);
        assert_eq!(mode(&dir.join("old.nk")), 0o644, "files the run did not create are left alone");
        assert_eq!(mode(&tmp.path().join("elsewhere.txt")), 0o644, "other directories are left alone");
    }
}
