//! Checks that a directory the plan guards is fit to grant (WASI 0.2 can see neither links
//! nor owners, so the guest relies on these): a guarded directory is never a symbolic link
//! (another user may plant one in `$TMPDIR` pointing at the victim's files), and an
//! owner-only one (the cache, signing keys) belongs to the user running wasmship, is not
//! writable by group or others, and holds nothing another user owns — or, when others can
//! enter it, nothing they can write. Otherwise the command is refused with the fix; the
//! guest trusts what the runner grants (seals, hard links, cached tags).

use std::path::Path;

use anyhow::{Result, bail};

use crate::plan::Guard;

/// Entries looked at inside an owner-only directory before the check stops (a cache holds
/// a few files per artifact; this is far beyond any real one).
const MAX_ENTRIES: usize = 200_000;

/// Refuses `dir` (which exists) unless it satisfies `guard`.
pub fn check(dir: &Path, guard: Guard, purpose: &str) -> Result<()> {
    if matches!(guard, Guard::None | Guard::PrivateFile) {
        return Ok(());
    }
    refuse_link(dir, purpose)?;
    if guard == Guard::OwnerOnly {
        check_owned(dir, purpose)?;
    }
    Ok(())
}

/// Refuses `path` when it is a symbolic link (dangling or not).
pub fn refuse_link(path: &Path, purpose: &str) -> Result<()> {
    let Ok(metadata) = std::fs::symlink_metadata(path) else { return Ok(()) };
    if metadata.file_type().is_symlink() {
        let target = std::fs::read_link(path).map(|t| format!(" (to {})", t.display())).unwrap_or_default();
        bail!(
            "{purpose}: {} is a symbolic link{target}; wasmship does not follow a link there, since another \
             user could have planted it. Remove the link, or name the real directory",
            path.display()
        );
    }
    Ok(())
}

#[cfg(unix)]
fn check_owned(dir: &Path, purpose: &str) -> Result<()> {
    use std::os::unix::fs::MetadataExt;

    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let root = std::fs::symlink_metadata(dir)?;
    owned_and_closed(dir, &root, me, purpose)?;
    // Others who can enter the directory reach what is in it: then nothing in it may be
    // writable by them either.
    let open_to_others = root.mode() & 0o011 != 0;
    let mut pending = vec![dir.to_path_buf()];
    let mut seen = 0usize;
    while let Some(current) = pending.pop() {
        let Ok(listing) = std::fs::read_dir(&current) else { continue };
        for entry in listing.flatten() {
            seen += 1;
            if seen > MAX_ENTRIES {
                return Ok(());
            }
            let path = entry.path();
            let Ok(metadata) = std::fs::symlink_metadata(&path) else { continue };
            if metadata.uid() != me {
                bail!(
                    "{purpose}: {} belongs to another user (uid {}), who could change what wasmship reads from {}; \
                     remove it, or use a directory of your own{}",
                    path.display(),
                    metadata.uid(),
                    dir.display(),
                    cache_hint(purpose)
                );
            }
            if open_to_others && !metadata.file_type().is_symlink() && metadata.mode() & 0o022 != 0 {
                bail!(
                    "{purpose}: {} is writable by group or others (mode {:o}), and they can reach it; run \
                     `chmod -R go-w {}`, or use a directory of your own{}",
                    path.display(),
                    metadata.mode() & 0o7777,
                    dir.display(),
                    cache_hint(purpose)
                );
            }
            if metadata.is_dir() {
                pending.push(path);
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
fn owned_and_closed(dir: &Path, metadata: &std::fs::Metadata, me: u32, purpose: &str) -> Result<()> {
    use std::os::unix::fs::MetadataExt;

    if metadata.uid() != me {
        bail!(
            "{purpose}: {} belongs to another user (uid {}), who could change what wasmship reads from it; \
             use a directory of your own{}",
            dir.display(),
            metadata.uid(),
            cache_hint(purpose)
        );
    }
    if metadata.mode() & 0o022 != 0 {
        bail!(
            "{purpose}: {} is writable by group or others (mode {:o}); run `chmod go-w {}`, or use a \
             directory of your own{}",
            dir.display(),
            metadata.mode() & 0o7777,
            dir.display(),
            cache_hint(purpose)
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owned(_dir: &Path, _purpose: &str) -> Result<()> {
    Ok(())
}

fn cache_hint(purpose: &str) -> &'static str {
    if purpose.split(", ").any(|p| p == "cache") { " (--cache-dir DIR or WASMSHIP_CACHE_DIR=DIR)" } else { "" }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{PermissionsExt, symlink};

    use super::*;

    fn set_mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_link_is_never_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("victim");
        std::fs::create_dir(&real).unwrap();
        let link = tmp.path().join("wasmcloud_ocicache");
        symlink(&real, &link).unwrap();
        for guard in [Guard::NoSymlink, Guard::OwnerOnly] {
            let error = check(&link, guard, "cache").unwrap_err().to_string();
            assert!(error.contains("is a symbolic link") && error.contains("victim"), "{error}");
        }
        check(&link, Guard::None, "cache").unwrap();
        check(&real, Guard::NoSymlink, "cache").unwrap();
    }

    #[test]
    fn owner_only_directories_are_closed_to_others() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cache");
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("blobs/sha256/ab"), "x").unwrap();
        set_mode(&dir, 0o755);
        set_mode(&dir.join("blobs/sha256/ab"), 0o644);
        check(&dir, Guard::OwnerOnly, "cache").unwrap();

        set_mode(&dir, 0o777);
        let error = check(&dir, Guard::OwnerOnly, "cache").unwrap_err().to_string();
        assert!(error.contains("writable by group or others (mode 777)") && error.contains("--cache-dir"), "{error}");
        check(&dir, Guard::NoSymlink, "cache").unwrap();

        set_mode(&dir, 0o755);
        set_mode(&dir.join("blobs/sha256/ab"), 0o666);
        let error = check(&dir, Guard::OwnerOnly, "cache").unwrap_err().to_string();
        assert!(error.contains("blobs/sha256/ab is writable by group or others"), "{error}");
        // Closed to others, the directory's contents are out of their reach whatever their modes.
        set_mode(&dir, 0o700);
        check(&dir, Guard::OwnerOnly, "cache").unwrap();
    }

    #[test]
    fn another_users_files_are_refused() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return; // Only root can give a file away; CI runs as root.
        }
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cache");
        std::fs::create_dir_all(dir.join("blobs")).unwrap();
        std::fs::write(dir.join("blobs/planted"), "x").unwrap();
        set_mode(&dir, 0o700);
        std::os::unix::fs::lchown(dir.join("blobs/planted"), Some(65534), Some(65534)).unwrap();
        let error = check(&dir, Guard::OwnerOnly, "cache").unwrap_err().to_string();
        assert!(error.contains("planted belongs to another user (uid 65534)"), "{error}");
        std::os::unix::fs::lchown(&dir, Some(65534), Some(65534)).unwrap();
        let error = check(&dir, Guard::OwnerOnly, "signing keys").unwrap_err().to_string();
        assert!(error.starts_with("signing keys: ") && error.contains("(uid 65534)"), "{error}");
    }
}
