//! The OCI image layout backend: a directory with `oci-layout`, `index.json`
//! (tags as `org.opencontainers.image.ref.name` annotations) and
//! `blobs/<alg>/<hex>`. Every write goes to a temporary file under
//! `.ingest/`, is verified, then renamed into place; `index.json` is replaced
//! atomically. skopeo's `oci:` transport reads what this writes. A layout
//! that keeps seals (the cache) also remembers which blob files were verified
//! and are unchanged since ([`seal`]), and can hand them out as hard links.

mod blob;
mod file_state;
mod index;
mod manifest;
pub mod seal;

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fsutil::TempFile;
use crate::oci::{Descriptor, Digest, RawManifest};
use crate::store::{BlobSource, Selector, Store, UploadMode};
use seal::Seals;

pub use index::LayoutIndex;

/// Content of the `oci-layout` marker file.
const LAYOUT_MARKER: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;
const INGEST_DIR: &str = ".ingest";

/// Where a blob lives in the layout at `root`. The digest type guarantees a
/// safe file name.
pub fn blob_path_in(root: &Path, digest: &Digest) -> PathBuf {
    root.join("blobs").join(digest.algorithm().name()).join(digest.hex())
}

/// An OCI image layout directory.
pub struct LayoutStore {
    root: PathBuf,
    /// Verification seals, for a layout this program owns (the cache).
    seals: Option<Seals>,
}

impl LayoutStore {
    /// Open an existing layout.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let marker = root.join("oci-layout");
        if !marker.is_file() {
            return Err(Error::NotFound {
                what: "OCI image layout (no oci-layout file)".to_string(),
                location: root.display().to_string(),
            });
        }
        Ok(LayoutStore { root, seals: None })
    }

    /// Open a layout, creating the directory and its marker files if needed.
    pub fn create(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        crate::fsutil::require_reachable(&root)?;
        fs::create_dir_all(root.join("blobs"))
            .map_err(|e| Error::io(root.display(), "create OCI layout directory", e))?;
        let marker = root.join("oci-layout");
        if !marker.exists() {
            crate::fsutil::write_atomic(&marker, LAYOUT_MARKER.as_bytes())?;
        }
        if !root.join("index.json").exists() {
            LayoutIndex::default().save(&root)?;
        }
        Ok(LayoutStore { root, seals: None })
    }

    /// Keep verification seals (in `.seals/`), so unchanged blobs are not
    /// hashed on every read and can be handed out as hard links.
    pub fn with_seals(mut self) -> Self {
        self.seals = Some(Seals::new(&self.root));
        self
    }

    /// Hash a blob against its digest (and seal it when it matches).
    pub fn blob_verify(&self, descriptor: &Descriptor) -> Result<()> {
        blob::verify(self, descriptor)
    }

    /// Drop the seals of blobs that are gone.
    pub fn forget_orphan_seals(&self) {
        if let Some(seals) = self.seals.as_ref() {
            seals.forget_missing(|digest| self.blob_path(digest).is_file());
        }
    }

    /// Remove a blob (and its seal); a missing blob is already removed.
    pub fn blob_remove(&self, digest: &Digest) -> Result<()> {
        blob::remove(self, digest)
    }

    /// The layout directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a blob lives.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        blob_path_in(&self.root, digest)
    }

    fn ingest_dir(&self) -> PathBuf {
        self.root.join(INGEST_DIR)
    }

    /// Remove temporary ingest files that runs which died left behind (older than
    /// `fsutil::STALE_TEMPORARY_AGE`), including those of earlier versions.
    pub fn sweep_stale_ingests(&self) {
        // Any temporary name: earlier versions named ingest files after the blob's digest.
        crate::fsutil::sweep_stale_files(&self.ingest_dir(), |name| name.ends_with(".tmp"));
    }

    /// [`Self::sweep_stale_ingests`], once per process (by the first writer).
    fn sweep_stale_ingests_once(&self) {
        static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if !SWEPT.swap(true, std::sync::atomic::Ordering::Relaxed) {
            self.sweep_stale_ingests();
        }
    }
}

impl Store for LayoutStore {
    fn location(&self) -> String {
        format!("{}{}", crate::reference::LAYOUT_SCHEME, self.root.display())
    }

    fn blob_exists(&mut self, digest: &Digest) -> Result<bool> {
        Ok(self.blob_path(digest).is_file())
    }

    fn blob_put(&mut self, descriptor: &Descriptor, source: &dyn BlobSource, _mode: UploadMode) -> Result<()> {
        if self.blob_path(&descriptor.digest).is_file() {
            return Ok(());
        }
        blob::prepare_put(self, descriptor)?;
        blob::put(self, descriptor, &mut source.open()?, source.verifies_itself())
    }

    fn blob_open(&mut self, descriptor: &Descriptor) -> Result<Box<dyn std::io::Read>> {
        blob::open(self, descriptor, true)
    }

    fn blob_open_unhashed(&mut self, descriptor: &Descriptor) -> Result<Box<dyn std::io::Read>> {
        blob::open(self, descriptor, false)
    }

    fn blob_upload_begin(&mut self, descriptor: &Descriptor) -> Result<Option<Box<dyn crate::store::BlobUpload>>> {
        blob::begin(self, descriptor)
    }

    fn blob_writer(&mut self) -> Result<Box<dyn crate::store::BlobWriter + '_>> {
        blob::writer(self)
    }

    fn blob_stream_unhashed(&mut self, descriptor: &Descriptor) -> Result<Option<Box<dyn crate::http::BodyRead>>> {
        // A local file is always ready: its reads do not wait on anyone.
        Ok(Some(Box::new(crate::http::nonblocking::Blocking(blob::open(self, descriptor, false)?))))
    }

    fn blob_get(&mut self, descriptor: &Descriptor, sink: &mut dyn std::io::Write) -> Result<()> {
        blob::get(self, descriptor, sink)
    }

    fn blob_link(&mut self, descriptor: &Descriptor, dir: &Path, replacing: Option<&Path>) -> Result<Option<TempFile>> {
        blob::link_into(self, descriptor, dir, replacing)
    }

    fn manifest_head(&mut self, selector: &Selector) -> Result<Option<Descriptor>> {
        manifest::head(self, selector)
    }

    fn manifest_get(&mut self, selector: &Selector) -> Result<RawManifest> {
        manifest::get(self, selector)
    }

    fn manifest_put(&mut self, raw: &RawManifest, tag: Option<&str>) -> Result<()> {
        manifest::put(self, raw, tag)
    }

    fn tags(&mut self) -> Result<Vec<String>> {
        Ok(LayoutIndex::load(&self.root)?.tags())
    }
}
