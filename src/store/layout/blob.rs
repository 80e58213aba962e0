//! Blobs of a layout: ingest (temp file, hash while writing, verify, rename)
//! and verified reads.

use std::fs::File;
use std::io::{self, Read};

use super::LayoutStore;
use crate::error::{Error, Result};
use crate::fsutil::TempFile;
use crate::oci::{Descriptor, DigestWriter};
use crate::store::verify::{Origin, VerifyingReader};

pub(super) fn put(store: &LayoutStore, descriptor: &Descriptor, content: &mut dyn Read) -> Result<()> {
    let target = store.blob_path(&descriptor.digest);
    if target.is_file() {
        return Ok(());
    }
    let mut tmp = TempFile::new_in(&store.ingest_dir(), descriptor.digest.hex())?;
    let tmp_name = tmp.path().display().to_string();
    let mut writer = DigestWriter::new(tmp.file(), descriptor.digest.algorithm());
    let copied = io::copy(&mut content.take(descriptor.size + 1), &mut writer)
        .map_err(|e| Error::io(&tmp_name, "write blob", e))?;
    let _ = copied;
    writer.verify(&format!("blob {}", descriptor.digest), &descriptor.digest, Some(descriptor.size))?;
    let dir = crate::fsutil::parent_dir(&target).to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display(), "create directory", e))?;
    tmp.persist(&target)
}

pub(super) fn open(store: &LayoutStore, descriptor: &Descriptor) -> Result<Box<dyn Read>> {
    let path = store.blob_path(&descriptor.digest);
    let file = File::open(&path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => {
            Error::NotFound { what: format!("blob {}", descriptor.digest), location: store.location_string() }
        }
        _ => Error::io(path.display(), "open blob", e),
    })?;
    Ok(Box::new(VerifyingReader::new(
        io::BufReader::with_capacity(256 * 1024, file),
        descriptor,
        format!("blob {} in {}", descriptor.digest, store.location_string()),
        Origin::File(path.display().to_string()),
    )))
}

/// Copy a blob verified on ingest by this process, checking only its size.
pub(super) fn copy_ingested(store: &LayoutStore, descriptor: &Descriptor, sink: &mut dyn io::Write) -> Result<()> {
    let path = store.blob_path(&descriptor.digest);
    let file = File::open(&path).map_err(|e| Error::io(path.display(), "open blob", e))?;
    let mut reader = io::BufReader::with_capacity(256 * 1024, file).take(descriptor.size + 1);
    let copied = crate::store::verify::copy_verified(&mut reader, sink, "destination")?;
    if copied != descriptor.size {
        return Err(Error::SizeMismatch {
            what: format!("blob {} in {}", descriptor.digest, store.location_string()),
            expected: descriptor.size,
            actual: copied,
        });
    }
    Ok(())
}

impl LayoutStore {
    fn location_string(&self) -> String {
        crate::store::Store::location(self)
    }
}
