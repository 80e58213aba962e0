//! A bundle as one `.tar`: the bundle directory's files, sorted, with fixed owners, modes
//! and times, so the same bundle makes the same bytes; and unpacking one into a directory,
//! taking only regular files under safe relative paths, within limits — a tar from across
//! an air gap is treated as hostile.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use tar::{EntryType, Header};

use crate::error::{Error, Result};

/// The most entries unpacked from one bundle.
const MAX_ENTRIES: usize = 100_000;
/// The longest entry name taken.
const MAX_NAME: usize = 512;

/// Whether `path` names a bundle tarball.
pub fn is_tarball(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tar"))
}

/// Write the files under `dir` into the tar `out`.
pub fn pack(dir: &Path, out: impl Write) -> Result<()> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
    let mut builder = tar::Builder::new(out);
    for relative in files {
        let path = dir.join(&relative);
        let file = File::open(&path).map_err(|e| Error::io(path.display(), "read", e))?;
        let size = file.metadata().map_err(|e| Error::io(path.display(), "read", e))?.len();
        let mut header = Header::new_gnu();
        header.set_entry_type(EntryType::Regular);
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        let name = relative.to_string_lossy().replace('\\', "/");
        builder.append_data(&mut header, &name, file).map_err(|e| Error::io(path.display(), "write to tar", e))?;
    }
    builder.into_inner().and_then(|mut out| out.flush()).map_err(|e| Error::io(dir.display(), "finish tar", e))
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir.display(), "list", e))? {
        let entry = entry.map_err(|e| Error::io(dir.display(), "list", e))?;
        let kind = entry.file_type().map_err(|e| Error::io(entry.path().display(), "stat", e))?;
        let path = entry.path();
        if kind.is_dir() {
            collect(root, &path, files)?;
        } else if kind.is_file() {
            files.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    Ok(())
}

/// Unpack the tar `source` (named `what`) into the empty directory `dir`.
pub fn unpack(source: impl Read, dir: &Path, what: &str) -> Result<()> {
    let refuse =
        |why: String| Error::InvalidInput(format!("{what}: {why}; not a bundle made by `wasmship app bundle`"));
    let mut archive = tar::Archive::new(source);
    let entries = archive.entries().map_err(|e| Error::io(what, "read tar", e))?;
    for (count, entry) in entries.enumerate() {
        if count >= MAX_ENTRIES {
            return Err(refuse(format!("more than {MAX_ENTRIES} entries")));
        }
        let mut entry = entry.map_err(|e| Error::io(what, "read tar", e))?;
        let name = entry.path_bytes().into_owned();
        let name = String::from_utf8(name).map_err(|_| refuse("an entry name is not UTF-8".into()))?;
        match entry.header().entry_type() {
            EntryType::Directory => continue,
            EntryType::Regular | EntryType::Continuous => {}
            other => return Err(refuse(format!("entry {name:?} is a {other:?}, not a regular file"))),
        }
        let relative =
            safe_relative(&name).ok_or_else(|| refuse(format!("entry {name:?} is not a plain relative path")))?;
        let target = dir.join(&relative);
        if target.exists() {
            return Err(refuse(format!("entry {name:?} appears twice")));
        }
        let parent = crate::fsutil::parent_dir(&target);
        fs::create_dir_all(parent).map_err(|e| Error::io(parent.display(), "create directory", e))?;
        let mut file = File::create_new(&target).map_err(|e| Error::io(target.display(), "create", e))?;
        io::copy(&mut entry, &mut file).map_err(|e| Error::io(target.display(), "unpack", e))?;
    }
    Ok(())
}

/// `name` as a relative path of normal components only.
fn safe_relative(name: &str) -> Option<PathBuf> {
    if name.is_empty() || name.len() > MAX_NAME || name.contains('\0') {
        return None;
    }
    let path = Path::new(name.trim_start_matches("./"));
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_names_are_unpacked() {
        assert_eq!(safe_relative("blobs/sha256/ab"), Some(PathBuf::from("blobs/sha256/ab")));
        assert_eq!(safe_relative("./index.json"), Some(PathBuf::from("index.json")));
        for bad in ["../x", "/etc/passwd", "a/../../b", "", "."] {
            assert_eq!(safe_relative(bad), None, "{bad}");
        }
    }
}
