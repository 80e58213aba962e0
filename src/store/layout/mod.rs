//! The OCI image layout backend: a directory with `oci-layout`, `index.json`
//! (tags as `org.opencontainers.image.ref.name` annotations) and
//! `blobs/<alg>/<hex>`. Every write goes to a temporary file under
//! `.ingest/`, is verified, then renamed into place; `index.json` is replaced
//! atomically. skopeo's `oci:` transport reads what this writes.

mod blob;
mod index;
mod manifest;

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::oci::{Descriptor, Digest, RawManifest};
use crate::store::{BlobSource, Selector, Store, UploadMode};

pub use index::LayoutIndex;

/// Content of the `oci-layout` marker file.
const LAYOUT_MARKER: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;
const INGEST_DIR: &str = ".ingest";

/// An OCI image layout directory.
pub struct LayoutStore {
    root: PathBuf,
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
        Ok(LayoutStore { root })
    }

    /// Open a layout, creating the directory and its marker files if needed.
    pub fn create(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        fs::create_dir_all(root.join("blobs"))
            .map_err(|e| Error::io(root.display(), "create OCI layout directory", e))?;
        let marker = root.join("oci-layout");
        if !marker.exists() {
            crate::fsutil::write_atomic(&marker, LAYOUT_MARKER.as_bytes())?;
        }
        if !root.join("index.json").exists() {
            LayoutIndex::default().save(&root)?;
        }
        Ok(LayoutStore { root })
    }

    /// The layout directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a blob lives. The digest type guarantees a safe file name.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs").join(digest.algorithm().name()).join(digest.hex())
    }

    fn ingest_dir(&self) -> PathBuf {
        self.root.join(INGEST_DIR)
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
        blob::put(self, descriptor, &mut source.open()?)
    }

    fn blob_open(&mut self, descriptor: &Descriptor) -> Result<Box<dyn std::io::Read>> {
        blob::open(self, descriptor)
    }

    fn blob_get_ingested(&mut self, descriptor: &Descriptor, sink: &mut dyn std::io::Write) -> Result<()> {
        blob::copy_ingested(self, descriptor, sink)
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
