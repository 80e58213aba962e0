//! Views of the home directory. WASI grants directories, so a file directly in `$HOME`
//! (`push REF ~/app.wasm`, a pull run in `~`) would mean granting the whole home directory —
//! `~/.docker`, `~/.ssh` and all. Instead the guest gets a *view*: a fresh private
//! directory inside `$HOME` (same file system), preopened under `$HOME`'s name, holding hard
//! links (copies where linking fails) of exactly the files the plan names there. After the
//! run, what the guest created or replaced in the view moves into `$HOME` (by rename, so
//! atomically), and the view is removed. Directories above `$HOME` (`/home`, `/`) are never
//! granted.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// How a directory is granted.
#[derive(Debug, PartialEq, Eq)]
pub enum Exposure {
    /// As it is.
    Whole,
    /// Through a view holding only named files.
    View,
}

/// Whether `dir` may be granted whole, through a view, or not at all, given the user's
/// `home` directory.
pub fn exposure(dir: &Path, home: Option<&Path>) -> Result<Exposure> {
    let Some(home) = home.and_then(|h| h.canonicalize().ok()) else { return Ok(Exposure::Whole) };
    let real = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if real == home {
        return Ok(Exposure::View);
    }
    if home.starts_with(&real) {
        bail!(
            "{} holds your home directory and is never granted; move the file into a directory of its own",
            dir.display()
        );
    }
    Ok(Exposure::Whole)
}

/// A view of one directory, made for a run.
#[derive(Debug)]
pub struct View {
    /// The directory viewed.
    dir: PathBuf,
    /// The view itself (preopened under `dir`'s name).
    view: PathBuf,
    /// Files placed in the view, by name, with their inode.
    placed: BTreeMap<OsString, u64>,
}

impl View {
    /// A view of `dir` holding `names` (those that exist as regular files).
    pub fn new(dir: &Path, names: &[OsString]) -> Result<View> {
        let view = unique_dir(dir)?;
        let mut made = View { dir: dir.to_path_buf(), view, placed: BTreeMap::new() };
        for name in names {
            let source = dir.join(name);
            let target = made.view.join(name);
            // Each name once (a name granted twice is already placed); only regular files.
            if made.placed.contains_key(name) || !source.symlink_metadata().is_ok_and(|m| m.is_file()) {
                continue;
            }
            if let Err(error) = std::fs::hard_link(&source, &target) {
                // A copy only where no link could be made (another owner, another mount); never
                // over an existing name, which may be a link to the source itself.
                if error.kind() == std::io::ErrorKind::AlreadyExists {
                    continue;
                }
                std::fs::copy(&source, &target).with_context(|| format!("cannot place {}", source.display()))?;
            }
            let inode = target.metadata().map(|m| m.ino()).unwrap_or_default();
            made.placed.insert(name.clone(), inode);
        }
        Ok(made)
    }

    /// The directory to preopen.
    pub fn path(&self) -> &Path {
        &self.view
    }

    /// Moves what the run created or replaced into the viewed directory, then removes the
    /// view.
    pub fn finish(self) -> Result<()> {
        let entries = std::fs::read_dir(&self.view).with_context(|| format!("cannot read {}", self.view.display()))?;
        for entry in entries.filter_map(|e| e.ok()) {
            let name = entry.file_name();
            let Ok(meta) = entry.path().symlink_metadata() else { continue };
            let unchanged = self.placed.get(&name).is_some_and(|&inode| inode == meta.ino());
            let destination = self.dir.join(&name);
            if unchanged || (meta.is_dir() && destination.exists()) {
                continue;
            }
            std::fs::rename(entry.path(), &destination)
                .with_context(|| format!("cannot move {} into {}", name.to_string_lossy(), self.dir.display()))?;
        }
        std::fs::remove_dir_all(&self.view).with_context(|| format!("cannot remove {}", self.view.display()))
    }
}

/// A new directory `.wasmship-view-<pid>-<n>` in `dir`, mode 0700.
fn unique_dir(dir: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    for n in 0..100 {
        let path = dir.join(format!(".wasmship-view-{}-{n}", std::process::id()));
        match std::fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot create a view in {}", dir.display())),
        }
    }
    bail!("cannot create a view in {}: too many left over", dir.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_gets_a_view_its_ancestors_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home/u");
        std::fs::create_dir_all(home.join("proj")).unwrap();
        assert_eq!(exposure(&home, Some(&home)).unwrap(), Exposure::View);
        assert_eq!(exposure(&home.join("proj"), Some(&home)).unwrap(), Exposure::Whole);
        assert!(exposure(&tmp.path().join("home"), Some(&home)).is_err());
        assert!(exposure(Path::new("/"), Some(&home)).is_err());
        assert_eq!(exposure(Path::new("/"), None).unwrap(), Exposure::Whole);
    }

    #[test]
    fn a_view_shows_named_files_and_hands_back_new_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path();
        std::fs::create_dir(home.join(".docker")).unwrap();
        std::fs::write(home.join(".docker/config.json"), "{}").unwrap();
        std::fs::write(home.join("app.wasm"), "wasm").unwrap();
        std::fs::write(home.join("old.wasm"), "old").unwrap();
        let names = ["app.wasm".into(), "old.wasm".into(), "missing".into(), "app.wasm".into()];
        let view = View::new(home, &names).unwrap();
        let mut seen: Vec<_> = std::fs::read_dir(view.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        seen.sort();
        assert_eq!(seen, ["app.wasm", "old.wasm"]);

        std::fs::write(view.path().join("new.wasm"), "new").unwrap();
        std::fs::write(view.path().join(".tmp"), "new old").unwrap();
        std::fs::rename(view.path().join(".tmp"), view.path().join("old.wasm")).unwrap();
        let path = view.path().to_path_buf();
        view.finish().unwrap();
        assert!(!path.exists());
        assert_eq!(std::fs::read_to_string(home.join("new.wasm")).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(home.join("old.wasm")).unwrap(), "new old");
        assert_eq!(std::fs::read_to_string(home.join("app.wasm")).unwrap(), "wasm");
        assert!(home.join(".docker/config.json").exists());
    }
}
