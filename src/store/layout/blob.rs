//! Blobs of a layout: ingest (temp file, hashed while written — by the source
//! itself when it verifies itself — checked, renamed into place), verified reads, and — for a layout that keeps seals (the cache) — reads
//! and hard links that skip the hash while a blob's seal holds.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::LayoutStore;
use super::file_state::{FileState, link_count};
use super::seal::{Seals, settled_modification_time};
use crate::error::{Error, Result};
use crate::fsutil::TempFile;
use crate::oci::{Descriptor, Digest, DigestWriter};
use crate::store::verify::{Origin, VerifyingReader, copy_verified};
use crate::store::{BlobUpload, BlobWriter, Store};

const READ_BUFFER: usize = 256 * 1024;
/// Prefix of the temporary files under `.ingest/`.
const INGEST_PREFIX: &str = "ingest";

/// Before a blob is ingested (and its source opened): stale temporary files of dead runs
/// go, and a blob larger than the free space is refused.
pub(super) fn prepare_put(store: &LayoutStore, descriptor: &Descriptor) -> Result<()> {
    store.sweep_stale_ingests_once();
    crate::config::limits::ensure_space(&store.ingest_dir(), descriptor.size, &format!("blob {}", descriptor.digest))
}

/// Ingest `content`, hashing it on the way unless it `verifies_itself`
/// (a reader that fails unless it matched the descriptor).
pub(super) fn put(
    store: &LayoutStore,
    descriptor: &Descriptor,
    content: &mut dyn Read,
    verifies_itself: bool,
) -> Result<()> {
    let target = store.blob_path(&descriptor.digest);
    if target.is_file() {
        return Ok(());
    }
    let mut tmp = TempFile::new_in(&store.ingest_dir(), INGEST_PREFIX)?;
    let tmp_name = tmp.path().display().to_string();
    let mut content = content.take(descriptor.size + 1);
    tmp.write_buffered(|out| {
        if verifies_itself {
            copy_verified(&mut content, out, &tmp_name)?;
            return Ok(());
        }
        let mut writer = DigestWriter::new(out, descriptor.digest.algorithm());
        copy_verified(&mut content, &mut writer, &tmp_name)?;
        writer.verify(&format!("blob {}", descriptor.digest), &descriptor.digest, Some(descriptor.size)).map(|_| ())
    })?;
    commit(tmp, store.seals.as_ref(), &descriptor.digest, &target)
}

/// Rename a verified ingest into place at `target`, sealed when the layout keeps seals.
fn commit(mut tmp: TempFile, seals: Option<&Seals>, digest: &Digest, target: &Path) -> Result<()> {
    let file = tmp.file();
    // Verified: set its modification time back so that its seal counts at
    // once, and take its state before anyone else can rename over the name.
    let sealed_state = match seals {
        Some(_) if file.set_modified(settled_modification_time()).is_ok() => FileState::of(file),
        _ => None,
    };
    let dir = crate::fsutil::parent_dir(target).to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display(), "create directory", e))?;
    tmp.persist(target)?;
    if let (Some(seals), Some(state)) = (seals, sealed_state) {
        seals.record(digest, &state, SystemTime::now());
    }
    Ok(())
}

/// An ingest written piece by piece ([`BlobUpload`]): hashed as it is written, buffered
/// into large file writes, checked, renamed into place and sealed (as [`put`] does) by
/// `finish`. `None` when the blob is present already.
pub(super) fn begin(store: &LayoutStore, descriptor: &Descriptor) -> Result<Option<Box<dyn BlobUpload>>> {
    let target = store.blob_path(&descriptor.digest);
    if target.is_file() {
        return Ok(None);
    }
    prepare_put(store, descriptor)?;
    let tmp = TempFile::new_in(&store.ingest_dir(), INGEST_PREFIX)?;
    Ok(Some(Box::new(Ingest {
        tmp,
        buffer: Vec::new(),
        hasher: DigestWriter::new(io::sink(), descriptor.digest.algorithm()),
        descriptor: descriptor.clone(),
        target,
        seals: store.seals.clone(),
        written: 0,
    })))
}

struct Ingest {
    tmp: TempFile,
    buffer: Vec<u8>,
    hasher: DigestWriter<io::Sink>,
    descriptor: Descriptor,
    target: PathBuf,
    seals: Option<Seals>,
    written: u64,
}

impl Ingest {
    fn flush_buffer(&mut self) -> Result<()> {
        let name = self.tmp.path().display().to_string();
        self.tmp.append(&self.buffer).map_err(|e| Error::io(name, "write", e))?;
        self.buffer.clear();
        Ok(())
    }
}

impl BlobUpload for Ingest {
    fn write_now(&mut self, bytes: &[u8]) -> Result<usize> {
        self.written += bytes.len() as u64;
        if self.written > self.descriptor.size {
            return Err(Error::SizeMismatch {
                what: format!("blob {}", self.descriptor.digest),
                expected: self.descriptor.size,
                actual: self.written,
            });
        }
        self.hasher.write_all(bytes).map_err(|e| Error::io("hash", "write", e))?;
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= crate::fsutil::FILE_WRITE_BUFFER {
            self.flush_buffer()?;
        }
        Ok(bytes.len())
    }

    fn waiter(&self) -> Option<crate::http::Waiter> {
        None
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.flush_buffer()?;
        let Ingest { tmp, hasher, descriptor, target, seals, .. } = *self;
        hasher.verify(&format!("blob {}", descriptor.digest), &descriptor.digest, Some(descriptor.size))?;
        commit(tmp, seals.as_ref(), &descriptor.digest, &target)
    }
}

/// An ingest of a blob whose digest is learnt only at its end ([`BlobWriter`]): hashed as
/// it is written, then checked against the descriptor, renamed into place and sealed.
pub(super) fn writer(store: &LayoutStore) -> Result<Box<dyn BlobWriter + '_>> {
    store.sweep_stale_ingests_once();
    let tmp = TempFile::new_in(&store.ingest_dir(), INGEST_PREFIX)?;
    Ok(Box::new(UnnamedIngest {
        store,
        tmp,
        buffer: Vec::new(),
        hasher: DigestWriter::new(io::sink(), crate::oci::digest::Algorithm::Sha256),
    }))
}

struct UnnamedIngest<'a> {
    store: &'a LayoutStore,
    tmp: TempFile,
    buffer: Vec<u8>,
    hasher: DigestWriter<io::Sink>,
}

impl UnnamedIngest<'_> {
    fn flush_buffer(&mut self) -> Result<()> {
        let name = self.tmp.path().display().to_string();
        self.tmp.append(&self.buffer).map_err(|e| Error::io(name, "write", e))?;
        self.buffer.clear();
        Ok(())
    }
}

impl BlobWriter for UnnamedIngest<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.hasher.write_all(bytes).map_err(|e| Error::io("hash", "write", e))?;
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= crate::fsutil::FILE_WRITE_BUFFER {
            self.flush_buffer()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>, descriptor: &Descriptor) -> Result<()> {
        self.flush_buffer()?;
        let UnnamedIngest { store, tmp, hasher, .. } = *self;
        hasher.verify(&format!("blob {}", descriptor.digest), &descriptor.digest, Some(descriptor.size))?;
        let target = store.blob_path(&descriptor.digest);
        if target.is_file() {
            // Present already: the temporary file goes when dropped.
            return Ok(());
        }
        commit(tmp, store.seals.as_ref(), &descriptor.digest, &target)
    }
}

/// A verifying reader of the blob; `hashed: false` checks its size only.
pub(super) fn open(store: &LayoutStore, descriptor: &Descriptor, hashed: bool) -> Result<Box<dyn Read>> {
    let (path, file) = open_file(store, descriptor)?;
    if hashed {
        return Ok(Box::new(verifying(store, descriptor, &path, file)));
    }
    Ok(Box::new(VerifyingReader::size_only(
        io::BufReader::with_capacity(READ_BUFFER, file),
        descriptor,
        format!("blob {} in {}", descriptor.digest, store.location()),
        Origin::File(path.display().to_string()),
    )))
}

/// Stream a blob into `sink`: hashed on the way, unless its seal holds.
pub(super) fn get(store: &LayoutStore, descriptor: &Descriptor, sink: &mut dyn io::Write) -> Result<()> {
    let (path, file) = open_file(store, descriptor)?;
    let before = FileState::of(&file);
    let Some(seals) = store.seals.as_ref().filter(|seals| sealed(seals, descriptor, before.as_ref())) else {
        return hash_and_seal(store, descriptor, &path, &file, before, sink, "destination");
    };
    let mut reader = io::BufReader::with_capacity(READ_BUFFER, &file).take(descriptor.size + 1);
    let copied = copy_verified(&mut reader, sink, "destination")?;
    if copied != descriptor.size || FileState::of(&file) != before {
        seals.remove(&descriptor.digest);
        return Err(changed_while_read(store, descriptor));
    }
    Ok(())
}

/// Hash a blob file and seal it when it matches; a mismatch removes its seal.
pub(super) fn verify(store: &LayoutStore, descriptor: &Descriptor) -> Result<()> {
    let (path, file) = open_file(store, descriptor)?;
    let before = FileState::of(&file);
    hash_and_seal(store, descriptor, &path, &file, before, &mut io::sink(), "verification")
}

/// Hard-link a verified blob into `dir` under a temporary name, to be
/// renamed over `replacing`. The blob is hashed first unless its seal holds.
/// A blob is shared with at most one file outside the cache — the one it
/// replaces may already be it — so an edit in place can reach nobody else's
/// file, and the cache notices its own change at the next read. `Ok(None)`
/// when this layout keeps no seals, the blob is shared already, the link
/// cannot be made there (another file system), or the blob changed
/// meanwhile: copy it instead.
pub(super) fn link_into(
    store: &LayoutStore,
    descriptor: &Descriptor,
    dir: &Path,
    replacing: Option<&Path>,
) -> Result<Option<TempFile>> {
    let Some(seals) = store.seals.as_ref() else { return Ok(None) };
    let (path, file) = open_file(store, descriptor)?;
    let Some(before) = FileState::of(&file) else { return Ok(None) };
    let replaces_itself = replacing.and_then(FileState::at).is_some_and(|target| target.same_file(&before));
    // The cache's own name, the new link, and the destination if it is this file already.
    let names_allowed = if replaces_itself { 3 } else { 2 };
    if link_count(&file).is_none_or(|names| names >= names_allowed) {
        return Ok(None);
    }
    if !sealed(seals, descriptor, Some(&before)) {
        hash_and_seal(store, descriptor, &path, &file, Some(before), &mut io::sink(), "verification")?;
    }
    let Ok(link) = TempFile::hard_link(&path, dir, "wasmship-pull") else { return Ok(None) };
    // Checked again with the link in place: it must be the very file that
    // was verified, unchanged, and no other pull may have linked it meanwhile
    // (of two racing, at least one sees the other's link and copies).
    let Ok(linked) = File::open(link.path()) else { return Ok(None) };
    let usable = FileState::of(&linked) == Some(before) && link_count(&linked).is_some_and(|n| n <= names_allowed);
    Ok(usable.then_some(link))
}

/// Remove a blob and its seal.
pub(super) fn remove(store: &LayoutStore, digest: &Digest) -> Result<()> {
    if let Some(seals) = store.seals.as_ref() {
        seals.remove(digest);
    }
    let path = store.blob_path(digest);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path.display(), "remove blob", e)),
    }
}

fn open_file(store: &LayoutStore, descriptor: &Descriptor) -> Result<(PathBuf, File)> {
    let path = store.blob_path(&descriptor.digest);
    let file = crate::fsutil::open_regular(&path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => {
            Error::NotFound { what: format!("blob {}", descriptor.digest), location: store.location() }
        }
        _ => Error::io(path.display(), "open blob", e),
    })?;
    Ok((path, file))
}

fn verifying<R: Read>(
    store: &LayoutStore,
    descriptor: &Descriptor,
    path: &Path,
    file: R,
) -> VerifyingReader<io::BufReader<R>> {
    VerifyingReader::new(
        io::BufReader::with_capacity(READ_BUFFER, file),
        descriptor,
        format!("blob {} in {}", descriptor.digest, store.location()),
        Origin::File(path.display().to_string()),
    )
}

/// Whether the blob file, in `state`, is the one its seal vouches for.
fn sealed(seals: &Seals, descriptor: &Descriptor, state: Option<&FileState>) -> bool {
    state.is_some_and(|state| state.size == descriptor.size && seals.holds(&descriptor.digest, state))
}

/// Stream an open blob file (in state `before` when opened) through its
/// digest check into `sink`. Where the layout keeps seals, a match seals the
/// file — if it did not change while it was hashed — and a mismatch drops
/// its seal.
fn hash_and_seal(
    store: &LayoutStore,
    descriptor: &Descriptor,
    path: &Path,
    file: &File,
    before: Option<FileState>,
    sink: &mut dyn io::Write,
    sink_name: &str,
) -> Result<()> {
    let started = SystemTime::now();
    let result = copy_verified(&mut verifying(store, descriptor, path, file), sink, sink_name);
    if let Some(seals) = store.seals.as_ref() {
        match (&result, before, FileState::of(file)) {
            (Ok(_), Some(before), Some(after)) if before == after => seals.record(&descriptor.digest, &after, started),
            _ => seals.remove(&descriptor.digest),
        }
    }
    result.map(|_| ())
}

fn changed_while_read(store: &LayoutStore, descriptor: &Descriptor) -> Error {
    Error::DigestMismatch {
        what: format!("blob {} in {}", descriptor.digest, store.location()),
        expected: descriptor.digest.to_string(),
        actual: "content that changed while it was read".to_string(),
    }
}
