//! File-system helpers shared by the stores and the CLI: unique temporary
//! names, atomic replacement (temp file + rename), parent directories.

use std::collections::hash_map::RandomState;
use std::fs::{self, File, OpenOptions};
use std::hash::BuildHasher;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Bytes collected before one write to a file: under WASI every write is a
/// call into the host, so large files are written in large pieces.
pub const FILE_WRITE_BUFFER: usize = 1 << 20;

/// A random 64-bit value (seeded from the OS: `wasi:random` in the component).
pub fn random_u64() -> u64 {
    RandomState::new().hash_one(0u8)
}

/// Temporary files older than this belong to runs that died: the next writer in their
/// directory removes them (and `cache prune`/`cache verify` do, in the cache).
pub const STALE_TEMPORARY_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// This run's part of temporary names: the runner's run identifier (hex), else `0`.
fn run_id() -> &'static str {
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        crate::config::env::var(crate::host_contract::RUN_ID)
            .filter(|id| !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
            .unwrap_or_else(|| "0".to_string())
    })
}

/// Make something at a new unique name in `dir` with `create`, which must
/// fail with `AlreadyExists` when the name is taken (so two writers never
/// share one). The name is `.<prefix>-<run>-<random>.tmp`
/// (`host_contract::RUN_ID`).
fn at_unique_name<T>(
    dir: &Path,
    prefix: &str,
    mut create: impl FnMut(&Path) -> std::io::Result<T>,
) -> std::io::Result<(PathBuf, T)> {
    loop {
        let path = dir.join(format!(".{prefix}-{}-{:016x}.tmp", run_id(), random_u64()));
        match create(&path) {
            Ok(made) => return Ok((path, made)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Create `dir` and its missing parents, to write into (see [`require_reachable`]).
fn create_granted_dir(dir: &Path) -> Result<()> {
    require_reachable(dir)?;
    fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), "create directory", e))
}

/// Refuse a directory to write into that no directory the host granted holds, by name: the
/// WASI libc would report a bare "no such file or directory" for it.
pub fn require_reachable(dir: &Path) -> Result<()> {
    if reachable(dir) {
        return Ok(());
    }
    let named = if dir.components().all(|c| c == std::path::Component::CurDir) {
        "the working directory".to_string()
    } else {
        dir.display().to_string()
    };
    Err(Error::Usage(format!(
        "{named} is not in a directory the host grants; run wasmship (it grants what the command \
         needs) or give the component access to it"
    )))
}

/// A temporary directory, removed with its content on drop unless it was persisted
/// (renamed into place).
pub struct TempDir {
    path: Option<PathBuf>,
}

impl TempDir {
    /// A new empty directory in `dir`, next to where it will end up.
    pub fn new_in(dir: &Path, prefix: &str) -> Result<Self> {
        create_granted_dir(dir)?;
        let (path, ()) = at_unique_name(dir, prefix, |path| fs::create_dir(path))
            .map_err(|e| Error::io(dir.display(), "create temporary directory", e))?;
        Ok(TempDir { path: Some(path) })
    }

    pub fn path(&self) -> &Path {
        self.path.as_deref().expect("present until persisted")
    }

    /// Rename it to `target`, which must not exist.
    pub fn persist(mut self, target: &Path) -> Result<()> {
        if fs::symlink_metadata(target).is_ok() {
            return Err(Error::Policy(format!("{} exists; remove it or choose another name", target.display())));
        }
        let path = self.path.take().expect("present until persisted");
        fs::rename(&path, target).map_err(|e| {
            let _ = fs::remove_dir_all(&path);
            Error::io(target.display(), "rename into place", e)
        })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = fs::remove_dir_all(path);
        }
    }
}

/// A temporary file that is removed on drop unless it was persisted.
pub struct TempFile {
    path: PathBuf,
    file: Option<File>,
    /// Bytes written by [`TempFile::append`].
    appended: u64,
    /// Under WASI, the same file open for positional writes (`None` inside: not possible,
    /// so std's writes are used); opened by the first [`TempFile::append`].
    #[cfg(target_arch = "wasm32")]
    positional: Option<Option<crate::wasi::positional::PositionalFile>>,
}

impl TempFile {
    /// A new temporary file next to where its content will end up.
    pub fn new_in(dir: &Path, prefix: &str) -> Result<Self> {
        create_granted_dir(dir)?;
        let (path, file) =
            at_unique_name(dir, prefix, |path| OpenOptions::new().write(true).create_new(true).open(path))
                .map_err(|e| Error::io(dir.display(), "create temporary file", e))?;
        Ok(TempFile::named(path, Some(file)))
    }

    fn named(path: PathBuf, file: Option<File>) -> Self {
        TempFile {
            path,
            file,
            appended: 0,
            #[cfg(target_arch = "wasm32")]
            positional: None,
        }
    }

    /// A hard link to `source` under a new unique name in `dir` (the same
    /// file, no copy); fails across file systems or where links are not
    /// supported.
    pub fn hard_link(source: &Path, dir: &Path, prefix: &str) -> std::io::Result<Self> {
        let (path, ()) = at_unique_name(dir, prefix, |path| fs::hard_link(source, path))?;
        Ok(TempFile::named(path, None))
    }

    /// The open file.
    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("temp file is open")
    }

    /// Fill the file through a write buffer of [`FILE_WRITE_BUFFER`] bytes, flushed by
    /// [`TempFile::append`] and at the end.
    pub fn write_buffered<R>(&mut self, fill: impl FnOnce(&mut BufWriter<Appender<'_>>) -> Result<R>) -> Result<R> {
        let name = self.path.display().to_string();
        let mut buffered = BufWriter::with_capacity(FILE_WRITE_BUFFER, Appender(self));
        let filled = fill(&mut buffered)?;
        buffered.flush().map_err(|e| Error::io(&name, "write", e))?;
        Ok(filled)
    }

    /// Write `bytes` after those appended before. Under WASI in one host call where the
    /// file can be opened for positional writes ([`crate::wasi::positional`]).
    pub fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        #[cfg(target_arch = "wasm32")]
        if self.file.is_some() {
            let path = &self.path;
            let positional = self.positional.get_or_insert_with(|| {
                let cwd = std::env::current_dir().ok()?;
                crate::wasi::positional::PositionalFile::open(path, &cwd)
            });
            if let Some(positional) = positional {
                positional.write_all_at(bytes, self.appended)?;
                self.appended += bytes.len() as u64;
                return Ok(());
            }
        }
        self.file().write_all(bytes)?;
        self.appended += bytes.len() as u64;
        Ok(())
    }

    /// The temporary path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flush, sync and rename over `target`.
    pub fn persist(self, target: &Path) -> Result<()> {
        self.rename_over(target, true)
    }

    /// Flush and rename over `target` without waiting for the disk ([`write_atomic_hint`]).
    pub fn persist_unsynced(self, target: &Path) -> Result<()> {
        self.rename_over(target, false)
    }

    fn rename_over(mut self, target: &Path, sync: bool) -> Result<()> {
        let linked = self.file.is_none();
        if let Some(mut file) = self.file.take() {
            file.flush()
                .and_then(|_| if sync { file.sync_all() } else { Ok(()) })
                .map_err(|e| Error::io(self.path.display(), "sync", e))?;
        }
        fs::rename(&self.path, target).map_err(|e| Error::io(target.display(), "rename into place", e))?;
        // Renaming a hard link over another name of the same file does
        // nothing (POSIX): then the temporary name is still there; drop it.
        if linked && fs::symlink_metadata(&self.path).is_ok() {
            let _ = fs::remove_file(&self.path);
        }
        self.path = PathBuf::new();
        Ok(())
    }
}

/// A [`TempFile`] as [`Write`], each write an [`TempFile::append`].
pub struct Appender<'a>(&'a mut TempFile);

impl Write for Appender<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.append(bytes)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        #[cfg(target_arch = "wasm32")]
        self.positional.take();
        self.file.take();
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Remove the temporary files named `.<prefix>-….tmp` in `dir` that were last written
/// longer ago than [`STALE_TEMPORARY_AGE`] (left by a run that was killed); best effort.
pub fn sweep_stale_temporaries(dir: &Path, prefix: &str) {
    let start = format!(".{prefix}-");
    sweep_stale_files(dir, |name| name.starts_with(&start) && name.ends_with(".tmp"));
}

/// Remove the files in `dir` whose name `matches` and that were last written longer ago
/// than [`STALE_TEMPORARY_AGE`]; best effort.
pub fn sweep_stale_files(dir: &Path, matches: impl Fn(&str) -> bool) {
    let Ok(listing) = fs::read_dir(dir) else { return };
    for item in listing.flatten() {
        if !matches(&item.file_name().to_string_lossy()) {
            continue;
        }
        let stale = item
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMPORARY_AGE);
        if stale {
            let _ = fs::remove_file(item.path());
        }
    }
}

/// Open `path` for reading if it is a regular file (after following links). A FIFO would
/// block the open until a writer came, and a device can be read forever: both, and
/// directories, are refused with an `InvalidInput` error before anything is opened.
pub fn open_regular(path: &Path) -> std::io::Result<File> {
    let meta = fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a directory, pipe or device); name a file",
        ));
    }
    File::open(path)
}

/// The bytes of the regular file at `path` (see [`open_regular`]).
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    read_regular_at_most(path, u64::MAX)
}

/// The bytes of the regular file at `path` (see [`open_regular`]), refused with an
/// `InvalidData` error when it holds more than `limit` bytes (project and metadata files:
/// small by nature, hostile when not).
pub fn read_regular_at_most(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(open_regular(path)?, limit.saturating_add(1)), &mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("larger than {limit} bytes")));
    }
    Ok(bytes)
}

/// The most a project or configuration file (`wasmcloud.toml`, `wasmship.toml`, wkg's
/// `config.toml`, a credentials file) may hold.
pub const PROJECT_FILE_MAX: u64 = 1 << 20;

/// The text of a small project or configuration file (at most [`PROJECT_FILE_MAX`] bytes,
/// UTF-8).
pub fn read_project_file(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read_regular_at_most(path, PROJECT_FILE_MAX)?)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// Replace `target` with `bytes` atomically: readers see the old or the new
/// content, never a mix.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> Result<()> {
    written_beside(target, bytes)?.persist(target)
}

/// [`write_atomic`] without waiting for the disk, for files that are only hints: after a
/// crash `target` may hold the old content, none, or a torn file that fails to parse, so a
/// reader must treat anything it cannot parse as absent.
pub fn write_atomic_hint(target: &Path, bytes: &[u8]) -> Result<()> {
    written_beside(target, bytes)?.persist_unsynced(target)
}

/// A temporary file holding `bytes` in `target`'s directory.
fn written_beside(target: &Path, bytes: &[u8]) -> Result<TempFile> {
    let mut tmp = TempFile::new_in(parent_dir(target), "write")?;
    tmp.file().write_all(bytes).map_err(|e| Error::io(tmp.path().display(), "write", e))?;
    Ok(tmp)
}

/// Whether `path` lies in a directory the host granted. Natively, always.
/// Under WASI an absolute path must lie under a preopened directory with an
/// absolute name: with only `.` preopened (`wasmtime run --dir .`), wasi-libc
/// resolves `/tmp/x` inside the working directory, so such a path would be
/// written to the wrong place rather than fail.
pub fn reachable(path: &Path) -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        let cwd = std::env::current_dir().ok();
        granted_by(path, cwd.as_deref(), &crate::wasi::preopened_dirs())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = path;
        true
    }
}

/// Whether one of the `preopened` directories (guest paths) holds `path`; a
/// relative path is taken from the working directory `cwd` when that is
/// absolute (under the runner), else it needs a relative preopen (`.`).
#[cfg(any(target_arch = "wasm32", test))]
fn granted_by(path: &Path, cwd: Option<&Path>, preopened: &[String]) -> bool {
    let joined;
    let path = match cwd {
        Some(cwd) if !path.is_absolute() && cwd.is_absolute() && cwd != Path::new("/") => {
            joined = crate::plan::normalize(&cwd.join(path));
            joined.as_path()
        }
        _ => path,
    };
    preopened.iter().any(|dir| {
        let dir = Path::new(dir);
        if path.is_absolute() { dir.is_absolute() && path.starts_with(dir) } else { !dir.is_absolute() }
    })
}

/// The directory holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = std::env::temp_dir().join(format!("wasmship-fsutil-{:x}", random_u64()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("index.json");
        write_atomic(&target, b"one").unwrap();
        write_atomic(&target, b"two").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("index.json")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_absolute_path_needs_an_absolute_preopen_above_it() {
        let cwd_only = [".".to_string()];
        let root = Some(Path::new("/"));
        assert!(!granted_by(Path::new("/tmp/wasmcloud_ocicache"), root, &cwd_only), "`--dir .` does not grant /tmp");
        assert!(granted_by(Path::new("cache"), root, &cwd_only));
        let with_tmp = ["/work".to_string(), "/tmp".to_string()];
        assert!(granted_by(Path::new("/tmp/wasmcloud_ocicache"), None, &with_tmp));
        assert!(!granted_by(Path::new("/tmpfoo/cache"), None, &with_tmp), "components, not string prefixes");
        assert!(!granted_by(Path::new("cache"), root, &with_tmp), "no preopen for relative paths");
        assert!(granted_by(Path::new("cache"), Some(Path::new("/work")), &with_tmp), "the runner's working directory");
        assert!(!granted_by(Path::new("../cache"), Some(Path::new("/work")), &with_tmp));
        assert!(!granted_by(Path::new("/tmp/x"), None, &[]));
    }

    #[test]
    fn dropped_temp_file_is_removed() {
        let dir = std::env::temp_dir().join(format!("wasmship-fsutil-{:x}", random_u64()));
        let tmp = TempFile::new_in(&dir, "x").unwrap();
        let path = tmp.path().to_path_buf();
        assert!(path.exists());
        drop(tmp);
        assert!(!path.exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
