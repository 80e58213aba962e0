//! One store abstraction, two backends: a registry speaking the OCI
//! distribution API ([`registry`]) and an OCI image layout directory
//! ([`layout`]). The reference picks the backend. Both verify content on the
//! way in and on the way out.

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod layout;
pub mod mirrored;
pub mod registry;
pub mod verify;

use std::io::{Read, Write};
use std::path::Path;

use crate::error::{Error, Result};
use crate::fsutil::TempFile;
use crate::http::{BodyRead, Waiter};
use crate::oci::{Descriptor, Digest, RawManifest};

/// Which manifest to read: by tag or by digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Tag(String),
    Digest(Digest),
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Selector::Tag(t) => f.write_str(t),
            Selector::Digest(d) => d.fmt(f),
        }
    }
}

/// Content to upload that can be read again from the start, so an upload
/// that failed halfway restarts cleanly.
pub trait BlobSource {
    /// A reader positioned at the start of the content.
    fn open(&self) -> Result<Box<dyn Read + '_>>;

    /// Whether the reader checks the content against the descriptor itself
    /// (as `Store::blob_open` readers do), so a store need not hash it again.
    fn verifies_itself(&self) -> bool {
        false
    }
}

impl BlobSource for Vec<u8> {
    fn open(&self) -> Result<Box<dyn Read + '_>> {
        Ok(Box::new(self.as_slice()))
    }
}

/// An upload in flight whose body is written piece by piece without waiting
/// ([`Store::blob_upload_begin`]). Dropped before [`finish`](BlobUpload::finish), it is
/// abandoned and the store keeps nothing.
pub trait BlobUpload {
    /// Write as much of `bytes` as the store takes now; 0 when it takes nothing yet.
    fn write_now(&mut self, bytes: &[u8]) -> Result<usize>;

    /// What to wait on after `write_now` took nothing.
    fn waiter(&self) -> Option<Waiter>;

    /// Every byte written: end the upload and learn whether the store took the blob.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// A blob written once, front to back, whose digest is known only at its end (a stream
/// pushed in one pass). Dropped before [`finish`](BlobWriter::finish), it is abandoned
/// and the store keeps nothing.
pub trait BlobWriter {
    fn write(&mut self, bytes: &[u8]) -> Result<()>;

    /// Every byte written: check them against `descriptor` and keep the blob.
    fn finish(self: Box<Self>, descriptor: &Descriptor) -> Result<()>;
}

/// How blobs are uploaded (registries only; a layout just writes files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadMode {
    /// `POST` then one `PUT` with the whole blob, streamed.
    Monolithic,
    /// `POST`, `PATCH` chunks of this many bytes, final `PUT`.
    Chunked(u64),
}

/// A repository in a registry, or an OCI image layout directory.
///
/// Contract: `blob_get` and `manifest_get` verify digest and size of what they
/// hand out and fail with `DigestMismatch`/`SizeMismatch` otherwise (bytes
/// already written to the sink must then be discarded by the caller);
/// `blob_put` fails unless the content matched the descriptor; a missing item
/// is `NotFound`.
pub trait Store {
    /// Where this store is, for messages (`host/repository` or `oci-layout://DIR`).
    fn location(&self) -> String;

    /// Whether a blob is present.
    fn blob_exists(&mut self, digest: &Digest) -> Result<bool>;

    /// Stream the content of `source` (exactly `descriptor.size` bytes) into
    /// the store. A failed attempt may reopen the source and start over.
    fn blob_put(&mut self, descriptor: &Descriptor, source: &dyn BlobSource, mode: UploadMode) -> Result<()>;

    /// A reader of a blob that fails (at the latest at its end) unless the
    /// content matches `descriptor`.
    fn blob_open(&mut self, descriptor: &Descriptor) -> Result<Box<dyn Read>>;

    /// A reader of a blob that checks its size but not its digest, for a copy into a store
    /// that [checks uploaded digests](Store::checks_uploaded_digests) itself, so the bytes
    /// are hashed once, at the destination, instead of twice. Stores that cannot tell
    /// what they read apart from what they trust (a mirror) keep the full check.
    fn blob_open_unhashed(&mut self, descriptor: &Descriptor) -> Result<Box<dyn Read>> {
        self.blob_open(descriptor)
    }

    /// [`blob_open_unhashed`](Store::blob_open_unhashed) as a body that can be read without
    /// waiting, for transfers that overlap; `None` when this store has none (then copy the
    /// blob with `blob_put`).
    fn blob_stream_unhashed(&mut self, _descriptor: &Descriptor) -> Result<Option<Box<dyn BodyRead>>> {
        Ok(None)
    }

    /// Begin an upload of `descriptor` whose bytes the caller writes without waiting, for
    /// transfers that overlap; `None` when this store cannot or has the blob (then use
    /// `blob_put`). The store checks the digest before it keeps anything (a registry by the
    /// digest of its `PUT`, a layout by hashing what it writes), so the source may be read
    /// [unhashed](Store::blob_stream_unhashed).
    fn blob_upload_begin(&mut self, _descriptor: &Descriptor) -> Result<Option<Box<dyn BlobUpload>>> {
        Ok(None)
    }

    /// A blob to write front to back whose digest is learnt at its end
    /// ([`BlobWriter`]); the store checks what it keeps against the descriptor given to
    /// `finish`.
    fn blob_writer(&mut self) -> Result<Box<dyn BlobWriter + '_>> {
        Err(Error::InvalidInput(format!("{} cannot take a blob whose digest is not known first", self.location())))
    }

    /// Whether [`blob_put`](Store::blob_put) has the content's digest checked at the other
    /// end whatever the source: a registry must refuse an upload whose bytes do not match
    /// the digest of its closing `PUT` (OCI distribution spec, "Pushing blobs").
    fn checks_uploaded_digests(&self) -> bool {
        false
    }

    /// Stream a blob into `sink`, verifying it against `descriptor`.
    fn blob_get(&mut self, descriptor: &Descriptor, sink: &mut dyn Write) -> Result<()> {
        let mut reader = self.blob_open(descriptor)?;
        verify::copy_verified(&mut reader, sink, "destination")?;
        Ok(())
    }

    /// Put a verified blob into `dir` under a temporary name, to be renamed
    /// over `replacing`, without copying it (a hard link), for a store that
    /// keeps blobs as files of its own and has not shared this one yet.
    /// `Ok(None)` when it cannot (no such store, shared already, another file
    /// system): copy the blob with `blob_get` instead.
    fn blob_link(
        &mut self,
        _descriptor: &Descriptor,
        _dir: &Path,
        _replacing: Option<&Path>,
    ) -> Result<Option<TempFile>> {
        Ok(None)
    }

    /// Make a blob of another repository of the same registry available here
    /// without transferring it (a cross-repository mount). `Ok(false)` when
    /// the store cannot or the registry declined; then copy it instead.
    fn blob_mount(&mut self, _descriptor: &Descriptor, _from_repository: &str) -> Result<bool> {
        Ok(false)
    }

    /// `(registry, repository)` for a registry store; `None` for a layout.
    fn registry_repository(&self) -> Option<(String, String)> {
        None
    }

    /// The manifest's descriptor, without its body; `None` when absent.
    fn manifest_head(&mut self, selector: &Selector) -> Result<Option<Descriptor>>;

    /// A manifest's bytes, verified against the requested digest if any.
    fn manifest_get(&mut self, selector: &Selector) -> Result<RawManifest>;

    /// Store a manifest (its blobs must be present) and point `tag` at it.
    fn manifest_put(&mut self, manifest: &RawManifest, tag: Option<&str>) -> Result<()>;

    /// Tags in this repository.
    fn tags(&mut self) -> Result<Vec<String>>;

    /// The manifests whose `subject` is `subject`, through the store's referrers API;
    /// `None` when it has none (a layout, an older registry): then the tag schema
    /// (`sha256-<hex>` → an index of referrers) is what lists them.
    fn referrers(&mut self, _subject: &Digest) -> Result<Option<Vec<Descriptor>>> {
        Ok(None)
    }

    /// Reads the caller makes next, which a store may start now so that they overlap
    /// (a registry sends them at once). Only a hint: results still come from the reads.
    fn prefetch(&mut self, _upcoming: &[Upcoming]) {}
}

/// A read announced to [`Store::prefetch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upcoming {
    /// [`Store::manifest_get`] of this selector.
    Manifest(Selector),
    /// [`Store::referrers`] of this subject.
    Referrers(Digest),
    /// A read of this blob ([`Store::blob_open`] or [`Store::blob_stream_unhashed`]).
    Blob(Digest),
}
