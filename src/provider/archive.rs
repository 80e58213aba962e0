//! The container of a provider archive: a tar (GNU headers), gzipped for
//! `.par.gz`, whose entries sit at the root — `claims.jwt`, `world.wasm` and
//! one `<target>.bin` per target. Reading streams the tar once, hashing every
//! entry; it refuses what an archive must not hold: paths outside the root
//! (`../`, absolute), subdirectories, links and other special entries,
//! duplicate names and unknown files. Entries kept to be written again (by
//! `par insert`) go to memory or to temporary files, within [`ENTRY_MAX_BYTES`]
//! each and [`KEPT_MAX_BYTES`] in all. Writing produces the same layout.

use std::collections::BTreeSet;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::Arc;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use sha2::{Digest as _, Sha256};
use tar::{EntryType, Header};

use super::sign::JWT_MAX_BYTES;
use crate::error::{Error, MAX_ECHO, Result, excerpt};
use crate::fsutil::TempFile;

/// The claims entry.
pub const CLAIMS_FILE: &str = "claims.jwt";
/// The provider's WIT world (binary WIT) entry.
pub const WORLD_FILE: &str = "world.wasm";
/// The suffix of a target's binary entry.
pub const TARGET_SUFFIX: &str = ".bin";
/// The first bytes of a gzip stream.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The largest `world.wasm` read into memory.
pub const WORLD_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// The largest provider binary `par create` and `par insert` take, and the largest
/// entry `par insert` carries over from an existing archive. Provider binaries are
/// tens of megabytes (release builds of Rust or Go providers); 512 MiB leaves room
/// for unstripped debug builds ten times that size, and refuses an archive whose few
/// megabytes of gzip inflate into gigabytes before any of it is written out.
pub const ENTRY_MAX_BYTES: u64 = 512 * 1024 * 1024;
/// The most bytes `par insert` carries over from an existing archive in all: four
/// targets of [`ENTRY_MAX_BYTES`] (inspect and push only hash entries, and take any size).
pub const KEPT_MAX_BYTES: u64 = 4 * ENTRY_MAX_BYTES;

/// What an entry is, by its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryName {
    Claims,
    World,
    /// `<target>.bin`, with the target (`x86_64-linux`).
    Target(String),
}

impl EntryName {
    /// The entry's file name in the archive.
    pub fn file_name(&self) -> String {
        match self {
            EntryName::Claims => CLAIMS_FILE.to_string(),
            EntryName::World => WORLD_FILE.to_string(),
            EntryName::Target(t) => format!("{t}{TARGET_SUFFIX}"),
        }
    }
}

/// One entry as read: its name, size, uppercase hex sha256, and its bytes
/// when they were kept.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: EntryName,
    pub size: u64,
    pub hash: String,
    pub data: Option<Content>,
}

/// What happens to the bytes of the entries other than `claims.jwt` (always
/// kept in memory) while an archive is read.
#[derive(Debug, Clone, Copy)]
pub enum Keep<'a> {
    /// Hashed, not kept (inspect, push, pull).
    Nothing,
    /// Kept in memory.
    Memory,
    /// Kept in temporary files in this directory, removed when the last
    /// [`Content`] holding them is dropped.
    Spool(&'a Path),
}

/// The bytes of a file of an archive: in memory, or in a temporary file.
#[derive(Clone)]
pub enum Content {
    Memory(Vec<u8>),
    Spooled(Arc<SpooledFile>),
}

/// An entry's bytes in a temporary file, with their size and hash.
pub struct SpooledFile {
    file: TempFile,
    size: u64,
    hash: String,
}

impl Content {
    /// The bytes when they are in memory.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Content::Memory(bytes) => Some(bytes),
            Content::Spooled(_) => None,
        }
    }

    /// How many bytes.
    pub fn size(&self) -> u64 {
        match self {
            Content::Memory(bytes) => bytes.len() as u64,
            Content::Spooled(file) => file.size,
        }
    }

    /// The uppercase hex sha256 of the bytes, as the claims record it.
    pub fn hash(&self) -> String {
        match self {
            Content::Memory(bytes) => super::claims::file_hash(bytes),
            Content::Spooled(file) => file.hash.clone(),
        }
    }

    /// A reader of exactly [`Self::size`] bytes.
    fn reader(&self) -> io::Result<Box<dyn Read + '_>> {
        match self {
            Content::Memory(bytes) => Ok(Box::new(&bytes[..])),
            Content::Spooled(file) => {
                let opened = std::fs::File::open(file.file.path())?;
                let reader = BufReader::with_capacity(crate::fsutil::FILE_WRITE_BUFFER, opened);
                Ok(Box::new(Exactly { inner: reader, left: file.size }))
            }
        }
    }
}

impl fmt::Debug for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Content::Memory(bytes) => write!(f, "Memory({} bytes)", bytes.len()),
            Content::Spooled(file) => write!(f, "Spooled({}, {} bytes)", file.file.path().display(), file.size),
        }
    }
}

/// `left` bytes of `inner`; an error when it ends sooner (a spooled file cut short
/// must not turn into a tar entry shorter than its header says).
struct Exactly<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exactly<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "a temporary file ended early"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Whether a target name is acceptable: `arch-os` style, no path characters.
pub fn valid_target(target: &str) -> bool {
    !target.is_empty()
        && target.len() <= 64
        && target != "claims"
        && target != "world"
        && target.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !target.starts_with('.')
}

/// Whether `bytes` (the start of a file, 512 bytes or more when there are)
/// look like a provider archive's container: gzip, or a tar (`ustar` magic).
/// Whether it really is one only a full read tells.
pub fn looks_like_archive(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC) || (bytes.len() >= 512 && &bytes[257..262] == b"ustar")
}

/// Read every entry of an archive (gzipped or not) from `source`, keeping
/// the bytes of `claims.jwt` always and of the other entries as `keep` says.
/// `what` names the archive in errors.
pub fn read_entries(source: impl Read, keep: Keep<'_>, what: &str) -> Result<Vec<Entry>> {
    read_entries_within(source, keep, (ENTRY_MAX_BYTES, KEPT_MAX_BYTES), what)
}

/// [`read_entries`] with the limits (per kept entry, all kept entries) given.
fn read_entries_within(source: impl Read, keep: Keep<'_>, limits: (u64, u64), what: &str) -> Result<Vec<Entry>> {
    let (entry_max, kept_max) = limits;
    let mut source = BufReader::with_capacity(256 * 1024, source);
    let head = source.fill_buf().map_err(|e| Error::io(what, "read", e))?;
    let gzip = head.starts_with(&GZIP_MAGIC);
    if head.is_empty() {
        return Err(invalid(what, "the file is empty"));
    }
    let reader: Box<dyn Read> = if gzip { Box::new(GzDecoder::new(source)) } else { Box::new(source) };
    let mut archive = tar::Archive::new(reader);
    let io_error = |e: io::Error| invalid(what, &format!("not a readable tar{}: {e}", if gzip { ".gz" } else { "" }));

    let mut seen = BTreeSet::new();
    let mut entries = Vec::new();
    let mut kept_total = 0u64;
    for entry in archive.entries().map_err(io_error)? {
        let mut entry = entry.map_err(io_error)?;
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind == EntryType::XGlobalHeader {
            continue;
        }
        let Some(name) = root_name(&raw_name).map_err(|reason| invalid(what, &reason))? else {
            // The root directory itself (`./`), written by `tar -C dir .`.
            if kind == EntryType::Directory {
                continue;
            }
            return Err(invalid(what, &format!("entry {} has no file name", shown(&raw_name))));
        };
        if !matches!(kind, EntryType::Regular | EntryType::Continuous) {
            return Err(invalid(
                what,
                &format!(
                    "entry {} is {}; a provider archive holds only regular files",
                    shown(&raw_name),
                    kind_name(kind)
                ),
            ));
        }
        let name = classify(name).map_err(|reason| invalid(what, &reason))?;
        if !seen.insert(name.clone()) {
            return Err(invalid(what, &format!("entry {} appears more than once", shown(&raw_name))));
        }
        let keep_this = match (&name, keep) {
            (EntryName::Claims, _) => Keep::Memory,
            (_, keep) => keep,
        };
        let limit = match name {
            EntryName::Claims => Some(JWT_MAX_BYTES),
            EntryName::World => Some(WORLD_MAX_BYTES.min(entry_max)),
            EntryName::Target(_) if !matches!(keep_this, Keep::Nothing) => Some(entry_max),
            EntryName::Target(_) => None,
        };
        // The size tar reads for the entry (a pax header's, when there is one).
        let size = entry.size();
        if let Some(limit) = limit
            && size > limit
        {
            return Err(Error::SizeLimitExceeded {
                what: format!("{} in {what}", excerpt(&raw_name, MAX_ECHO)),
                limit,
            });
        }
        if !matches!(keep_this, Keep::Nothing) && name != EntryName::Claims {
            kept_total = kept_total.saturating_add(size);
            if kept_total > kept_max {
                return Err(Error::SizeLimitExceeded { what: format!("the files of {what}"), limit: kept_max });
            }
        }
        let entry_limit = limit.unwrap_or(u64::MAX);
        let copy_error = |e: CopyError, kept_in: &str| match e {
            CopyError::Read(e) => io_error(e),
            CopyError::Write(e) => Error::io(kept_in, "write", e),
        };
        let (hash, size, data) = match keep_this {
            Keep::Nothing => {
                let copied = hash_entry(&mut entry, &mut io::sink(), entry_limit);
                let (hash, size) = copied.map_err(|e| copy_error(e, "memory"))?;
                (hash, size, None)
            }
            Keep::Memory => {
                let mut bytes = Vec::new();
                let copied = hash_entry(&mut entry, &mut bytes, entry_limit);
                let (hash, size) = copied.map_err(|e| copy_error(e, "memory"))?;
                (hash, size, Some(Content::Memory(bytes)))
            }
            Keep::Spool(dir) => {
                let mut file = TempFile::new_in(dir, "wasmship-par-entry")?;
                let temp = file.path().display().to_string();
                let (hash, size) = file
                    .write_buffered(|out| hash_entry(&mut entry, out, entry_limit).map_err(|e| copy_error(e, &temp)))?;
                (hash.clone(), size, Some(Content::Spooled(Arc::new(SpooledFile { file, size, hash }))))
            }
        };
        if size > entry_limit {
            return Err(Error::SizeLimitExceeded {
                what: format!("{} in {what}", excerpt(&raw_name, MAX_ECHO)),
                limit: entry_limit,
            });
        }
        entries.push(Entry { name, size, hash, data });
    }
    Ok(entries)
}

/// The file name of an entry at the archive root (`None` for the root itself),
/// or why the path is not acceptable.
fn root_name(path: &str) -> std::result::Result<Option<&str>, String> {
    let trimmed = path.strip_prefix("./").unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if path.starts_with('/') || path.starts_with('\\') || path.get(1..3) == Some(":\\") {
        return Err(format!("entry {} is an absolute path, outside the archive root", shown(path)));
    }
    if trimmed.split(['/', '\\']).any(|part| part == "..") {
        return Err(format!("entry {} points outside the archive root (`..`)", shown(path)));
    }
    if trimmed.is_empty() || trimmed == "." {
        return Ok(None);
    }
    if trimmed.contains(['/', '\\']) {
        return Err(format!("entry {} is in a subdirectory; provider archive entries sit at the root", shown(path)));
    }
    Ok(Some(trimmed))
}

fn classify(name: &str) -> std::result::Result<EntryName, String> {
    match name {
        CLAIMS_FILE => Ok(EntryName::Claims),
        WORLD_FILE => Ok(EntryName::World),
        _ => match name.strip_suffix(TARGET_SUFFIX) {
            Some(target) if valid_target(target) => Ok(EntryName::Target(target.to_string())),
            _ => Err(format!(
                "unexpected entry {}; a provider archive holds {CLAIMS_FILE}, {WORLD_FILE} and <target>{TARGET_SUFFIX}",
                shown(name)
            )),
        },
    }
}

/// An entry name from the archive as messages quote it: on one line, cut to [`MAX_ECHO`].
fn shown(name: &str) -> String {
    format!("{:?}", excerpt(name, MAX_ECHO))
}

fn kind_name(kind: EntryType) -> &'static str {
    match kind {
        EntryType::Symlink => "a symbolic link",
        EntryType::Link => "a hard link",
        EntryType::Directory => "a directory",
        EntryType::Char | EntryType::Block => "a device",
        EntryType::Fifo => "a FIFO",
        _ => "a special entry",
    }
}

/// Why copying an entry failed: reading the archive, or writing where it is kept.
enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// Copy `entry` into `out`, hashing it; stops once more than `limit` bytes came
/// (the caller then sees a size over the limit).
fn hash_entry(entry: &mut impl Read, out: &mut impl Write, limit: u64) -> Result<(String, u64), CopyError> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = match entry.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        size += n as u64;
        if size > limit {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(CopyError::Write)?;
    }
    Ok((hex::encode_upper(hasher.finalize()), size))
}

fn invalid(what: &str, reason: &str) -> Error {
    Error::InvalidArchive { what: what.to_string(), reason: reason.to_string() }
}

/// Write entries (name, bytes) as a tar, gzipped when `compress` (at the best
/// level, as wasmCloud's `provider-archive` does), into `out`.
pub fn write_entries(entries: &[(EntryName, &[u8])], compress: bool, out: impl Write) -> io::Result<()> {
    let sources = entries.iter().map(|(name, bytes)| Ok((name.file_name(), bytes.len() as u64, Box::new(*bytes) as _)));
    write_sources(sources, compress, out)
}

/// Write entries (name, content) as [`write_entries`] does, streaming spooled ones.
pub fn write_contents(entries: &[(EntryName, &Content)], compress: bool, out: impl Write) -> io::Result<()> {
    let sources = entries.iter().map(|(name, content)| Ok((name.file_name(), content.size(), content.reader()?)));
    write_sources(sources, compress, out)
}

/// An entry to write: its file name, size and a reader of its bytes.
type Source<'a> = (String, u64, Box<dyn Read + 'a>);

fn write_sources<'a>(
    sources: impl Iterator<Item = io::Result<Source<'a>>>,
    compress: bool,
    out: impl Write,
) -> io::Result<()> {
    if compress {
        let gz = GzEncoder::new(out, Compression::best());
        let gz = write_tar(sources, gz)?;
        gz.finish()?.flush()
    } else {
        write_tar(sources, out)?.flush()
    }
}

fn write_tar<'a, W: Write>(sources: impl Iterator<Item = io::Result<Source<'a>>>, out: W) -> io::Result<W> {
    let mut builder = tar::Builder::new(out);
    for source in sources {
        let (name, size, reader) = source?;
        let mut header = Header::new_gnu();
        header.set_entry_type(EntryType::Regular);
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(0);
        builder.append_data(&mut header, name, reader)?;
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar with one entry of `kind` named `name` (header fields set by hand,
    /// so names the builder refuses can be written too).
    fn tar_with(entries: &[(&str, EntryType, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, kind, data) in entries {
            let mut header = Header::new_gnu();
            let bytes = name.as_bytes();
            header.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            if *kind == EntryType::Symlink || *kind == EntryType::Link {
                header.set_link_name("/etc/passwd").unwrap();
            }
            header.set_cksum();
            out.extend_from_slice(header.as_bytes());
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
        out.extend_from_slice(&[0u8; 1024]);
        out
    }

    fn read(bytes: &[u8]) -> Result<Vec<Entry>> {
        read_entries(bytes, Keep::Memory, "test.par")
    }

    fn reason(bytes: &[u8]) -> String {
        match read(bytes) {
            Err(e @ Error::InvalidArchive { .. }) => e.to_string(),
            other => panic!("expected an invalid-archive error, got {other:?}"),
        }
    }

    #[test]
    fn gzipped_archives_use_the_best_level_as_wasmcloud_does() {
        let binary = vec![7u8; 64 * 1024];
        let mut gz = Vec::new();
        write_entries(&[(EntryName::Claims, b"jwt".as_slice()), (EntryName::World, &binary)], true, &mut gz).unwrap();
        assert_eq!(&gz[..2], &[0x1f, 0x8b], "gzip magic");
        assert_eq!(gz[8], 2, "XFL: compressor used maximum compression");
    }

    #[test]
    fn writes_and_reads_back_plain_and_gzipped() {
        let entries = [(EntryName::Claims, &b"a.b.c"[..]), (EntryName::Target("x86_64-linux".into()), &b"ELF"[..])];
        for compress in [false, true] {
            let mut bytes = Vec::new();
            write_entries(&entries, compress, &mut bytes).unwrap();
            assert_eq!(bytes.starts_with(&GZIP_MAGIC), compress);
            assert!(looks_like_archive(&bytes));
            let read = read(&bytes).unwrap();
            assert_eq!(read.len(), 2);
            assert_eq!(read[0].name, EntryName::Claims);
            assert_eq!(read[1].name, EntryName::Target("x86_64-linux".into()));
            assert_eq!(read[1].data.as_ref().and_then(Content::bytes), Some(&b"ELF"[..]));
            assert_eq!(read[1].hash, crate::provider::claims::file_hash(b"ELF"));
            assert_eq!(read[1].size, 3);
        }
    }

    #[test]
    fn written_headers_are_gnu_with_names_at_the_root() {
        let mut bytes = Vec::new();
        write_entries(&[(EntryName::Claims, b"x")], false, &mut bytes).unwrap();
        assert_eq!(&bytes[..10], b"claims.jwt");
        assert_eq!(&bytes[257..265], b"ustar  \0", "GNU magic");
    }

    #[test]
    fn binaries_are_hashed_but_not_kept_unless_asked() {
        let bytes = tar_with(&[("claims.jwt", EntryType::Regular, b"jwt"), ("a-b.bin", EntryType::Regular, b"bin")]);
        let read = read_entries(&bytes[..], Keep::Nothing, "x").unwrap();
        assert!(read[0].data.is_some());
        assert!(read[1].data.is_none());
        assert_eq!(read[1].hash, crate::provider::claims::file_hash(b"bin"));
    }

    #[test]
    fn accepts_a_leading_dot_slash_and_the_root_directory() {
        let bytes = tar_with(&[("./", EntryType::Directory, b""), ("./claims.jwt", EntryType::Regular, b"jwt")]);
        assert_eq!(read(&bytes).unwrap()[0].name, EntryName::Claims);
    }

    #[test]
    fn refuses_parent_directory_entries() {
        let bytes = tar_with(&[("../x86_64-linux.bin", EntryType::Regular, b"evil")]);
        assert!(reason(&bytes).contains("outside the archive root"), "{}", reason(&bytes));
        let bytes = tar_with(&[("a/../../claims.jwt", EntryType::Regular, b"evil")]);
        assert!(reason(&bytes).contains("outside the archive root"));
    }

    #[test]
    fn refuses_absolute_paths() {
        let bytes = tar_with(&[("/etc/x86_64-linux.bin", EntryType::Regular, b"evil")]);
        assert!(reason(&bytes).contains("absolute path"), "{}", reason(&bytes));
    }

    #[test]
    fn refuses_links() {
        let bytes = tar_with(&[("x86_64-linux.bin", EntryType::Symlink, b"")]);
        assert!(reason(&bytes).contains("symbolic link"), "{}", reason(&bytes));
        let bytes = tar_with(&[("x86_64-linux.bin", EntryType::Link, b"")]);
        assert!(reason(&bytes).contains("hard link"), "{}", reason(&bytes));
    }

    #[test]
    fn refuses_duplicate_entries() {
        let bytes =
            tar_with(&[("claims.jwt", EntryType::Regular, b"one"), ("./claims.jwt", EntryType::Regular, b"two")]);
        assert!(reason(&bytes).contains("more than once"), "{}", reason(&bytes));
    }

    #[test]
    fn refuses_subdirectories_and_unknown_files() {
        let bytes = tar_with(&[("lib/x86_64-linux.bin", EntryType::Regular, b"x")]);
        assert!(reason(&bytes).contains("subdirectory"));
        let bytes = tar_with(&[("README.md", EntryType::Regular, b"x")]);
        assert!(reason(&bytes).contains("unexpected entry"));
        let bytes = tar_with(&[("dir", EntryType::Directory, b"")]);
        assert!(reason(&bytes).contains("unexpected entry") || reason(&bytes).contains("directory"));
    }

    #[test]
    fn refuses_non_archives() {
        assert!(matches!(read(b""), Err(Error::InvalidArchive { .. })));
        assert!(read(&[0x1f, 0x8b, 1, 2, 3]).is_err());
        assert!(!looks_like_archive(b"\0asm\x01\0\0\0"));
    }

    /// A tar header for a regular `name` declaring `size` bytes (none follow).
    fn header_declaring(name: &str, size: u64) -> Vec<u8> {
        let mut header = Header::new_gnu();
        header.set_path(name).unwrap();
        header.set_entry_type(EntryType::Regular);
        header.set_size(size);
        header.set_cksum();
        header.as_bytes().to_vec()
    }

    #[test]
    fn kept_entries_are_refused_over_the_limit_before_they_are_read() {
        let bytes = header_declaring("x86_64-linux.bin", 5 << 30);
        for keep in [Keep::Memory, Keep::Spool(&std::env::temp_dir())] {
            match read_entries(&bytes[..], keep, "big.par") {
                Err(e @ Error::SizeLimitExceeded { .. }) => assert_eq!(
                    e.to_string(),
                    format!("x86_64-linux.bin in big.par is larger than the limit of {ENTRY_MAX_BYTES} bytes")
                ),
                other => panic!("expected a size error, got {other:?}"),
            }
        }
        // Not kept (inspect, push): only hashed, so any size is read (here: the data is missing).
        assert!(matches!(read_entries(&bytes[..], Keep::Nothing, "big.par"), Err(Error::InvalidArchive { .. })));
    }

    #[test]
    fn kept_entries_are_refused_over_the_total_limit() {
        let entries: Vec<(&str, EntryType, &[u8])> =
            ["a.bin", "b.bin", "c.bin"].into_iter().map(|n| (n, EntryType::Regular, &[7u8; 600][..])).collect();
        let bytes = tar_with(&entries);
        let dir = std::env::temp_dir().join(format!("wasmship-archive-{:x}", crate::fsutil::random_u64()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = read_entries_within(&bytes[..], Keep::Spool(&dir), (1000, 1500), "many.par").unwrap_err();
        assert_eq!(err.to_string(), "the files of many.par is larger than the limit of 1500 bytes");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "temporary files are removed");
        let err = read_entries_within(&bytes[..], Keep::Memory, (500, 1500), "many.par").unwrap_err();
        assert_eq!(err.to_string(), "a.bin in many.par is larger than the limit of 500 bytes");
        assert_eq!(read_entries_within(&bytes[..], Keep::Nothing, (500, 1500), "many.par").unwrap().len(), 3);
        std::fs::remove_dir(dir).unwrap();
    }

    #[test]
    fn spooled_entries_are_written_again_byte_for_byte() {
        let binary: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let entries = [(EntryName::Claims, &b"a.b.c"[..]), (EntryName::Target("x86_64-linux".into()), &binary[..])];
        let dir = std::env::temp_dir().join(format!("wasmship-archive-{:x}", crate::fsutil::random_u64()));
        std::fs::create_dir_all(&dir).unwrap();
        for compress in [false, true] {
            let mut original = Vec::new();
            write_entries(&entries, compress, &mut original).unwrap();
            let read = read_entries(&original[..], Keep::Spool(&dir), "p.par").unwrap();
            assert!(matches!(read[1].data, Some(Content::Spooled(_))), "{:?}", read[1].data);
            assert_eq!(read[1].hash, crate::provider::claims::file_hash(&binary));
            assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "the binary is in a temporary file");
            let contents: Vec<(EntryName, &Content)> =
                read.iter().map(|e| (e.name.clone(), e.data.as_ref().unwrap())).collect();
            let mut again = Vec::new();
            write_contents(&contents, compress, &mut again).unwrap();
            assert_eq!(again, original);
            drop(read);
            assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "dropped, the temporary file is removed");
        }
        std::fs::remove_dir(dir).unwrap();
    }

    #[test]
    fn target_names() {
        assert!(valid_target("x86_64-linux"));
        assert!(valid_target("aarch64-macos"));
        assert!(!valid_target(""));
        assert!(!valid_target("../x"));
        assert!(!valid_target("a/b"));
        assert!(!valid_target("world"));
    }
}
