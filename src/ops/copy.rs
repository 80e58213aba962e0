//! Copy: an artifact from any store to any other (registry ↔ registry ↔
//! layout), byte for byte, so manifest digests are preserved. Blobs the
//! destination has are skipped; between repositories of one registry they
//! are mounted instead of transferred; otherwise they stream from source to
//! destination through a digest check. With referrers included, what refers to the
//! artifact (signatures, bundles, SBOMs: OCI referrers and cosign's legacy tags) travels
//! with it, digests unchanged, and is listed among the copy's referrers.

use std::cell::RefCell;
use std::io::Read;

use super::{RegistryOptions, open_store, parse_reference, resolve::selector};
use crate::auth::Access;
use crate::error::{Error, Result};
use crate::oci::manifest::Manifest;
use crate::oci::{Descriptor, Digest, RawManifest};
use crate::store::{BlobSource, Selector, Store, UploadMode};

/// Indexes nested deeper than this are refused.
const MAX_DEPTH: usize = 4;

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyOutcome {
    pub source: String,
    pub destination: String,
    pub tag: Option<String>,
    /// Digest of the top-level manifest (the same in both stores).
    pub digest: Option<Digest>,
    pub copied_blobs: u32,
    pub mounted_blobs: u32,
    pub skipped_blobs: u32,
    /// Referrers and legacy signature tags copied with the artifact.
    pub referrers: u32,
}

/// Copy the artifact `source` names to `destination` (whose tag defaults to
/// the source's).
pub fn copy(source: &str, destination: &str, options: &RegistryOptions) -> Result<CopyOutcome> {
    copy_with(source, destination, false, None, options)
}

/// [`copy`], with everything that refers to the artifact when `include_referrers`.
pub fn copy_with(
    source: &str,
    destination: &str,
    include_referrers: bool,
    requirement: Option<&super::verify::Requirement>,
    options: &RegistryOptions,
) -> Result<CopyOutcome> {
    let source_ref = parse_reference(source)?;
    let destination_ref = parse_reference(destination)?;
    let tag = destination_ref.tag().or(source_ref.tag()).map(str::to_string);
    let mut source_store = open_store(&source_ref, options, Access::Pull)?;
    let mut destination_store = open_store(&destination_ref, options, Access::PullPush)?;

    // With `--verify-key`, the source is verified first and copied by the digest verified.
    let source_selector = match requirement {
        Some(requirement) => Selector::Digest(super::verify::gate(&source_ref, options, requirement, None)?),
        None => selector(&source_ref),
    };
    let expected = destination_ref.digest().cloned();
    let mut outcome = copy_between(
        Endpoint { store: source_store.as_mut(), shown: source_ref.to_string(), selector: source_selector },
        Endpoint {
            store: destination_store.as_mut(),
            shown: destination_ref.to_string(),
            selector: Selector::Tag(tag.clone().unwrap_or_default()),
        },
        expected.as_ref(),
        include_referrers,
    )?;
    outcome.tag = tag;
    Ok(outcome)
}

/// One side of a copy between open stores: the store, how it is named in messages, and
/// the manifest to read (source) or the tag to write (destination; empty for none).
pub struct Endpoint<'a> {
    pub store: &'a mut dyn Store,
    pub shown: String,
    pub selector: Selector,
}

/// Copy the manifest `source` selects, with everything it refers to (and, with
/// `include_referrers`, what refers to it), into `destination` under its tag; `expected`
/// is a digest the manifest must have.
pub fn copy_between(
    source: Endpoint<'_>,
    destination: Endpoint<'_>,
    expected: Option<&Digest>,
    include_referrers: bool,
) -> Result<CopyOutcome> {
    let top = source.store.manifest_get(&source.selector)?;
    if let Some(expected) = expected
        && expected != &top.digest
    {
        return Err(Error::DigestMismatch {
            what: format!("manifest of {} (destination names a digest)", source.shown),
            expected: expected.to_string(),
            actual: top.digest.to_string(),
        });
    }
    let tag = match &destination.selector {
        Selector::Tag(tag) if !tag.is_empty() => Some(tag.clone()),
        _ => None,
    };
    let mut outcome = CopyOutcome {
        source: source.shown.clone(),
        destination: destination.shown,
        tag: tag.clone(),
        digest: Some(top.digest.clone()),
        ..Default::default()
    };
    let mut copier = Copier {
        source: RefCell::new(source.store),
        destination: destination.store,
        outcome: &mut outcome,
        source_shown: &source.shown,
        budget: super::discover::Budget::default(),
    };
    copier.manifest_tree(&top, 0)?;
    copier.destination.manifest_put(&top, tag.as_deref())?;
    if include_referrers {
        copier.referrers(&top.digest, 0)?;
    }
    Ok(outcome)
}

struct Copier<'a> {
    source: RefCell<&'a mut dyn Store>,
    destination: &'a mut dyn Store,
    outcome: &'a mut CopyOutcome,
    source_shown: &'a str,
    /// Referrers left to copy (one allowance for the whole tree).
    budget: super::discover::Budget,
}

impl Copier<'_> {
    /// Copy everything `raw` refers to (not `raw` itself).
    fn manifest_tree(&mut self, raw: &RawManifest, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::InvalidInput(format!("{}: indexes nested too deeply", self.source_shown)));
        }
        match raw.parse()? {
            Manifest::Image(manifest) => {
                self.blob(&manifest.config)?;
                for layer in &manifest.layers {
                    self.blob(layer)?;
                }
            }
            Manifest::Index(index) => {
                for entry in &index.manifests {
                    let child = self.source.borrow_mut().manifest_get(&Selector::Digest(entry.digest.clone()))?;
                    self.manifest_tree(&child, depth + 1)?;
                    self.destination.manifest_put(&child, None)?;
                }
            }
        }
        Ok(())
    }

    /// Copy what refers to `digest` (and what refers to that, to `MAX_DEPTH`): each referrer
    /// by digest, listed at the destination; each legacy cosign tag under its tag.
    fn referrers(&mut self, digest: &Digest, depth: usize) -> Result<()> {
        let found = super::discover::referrers_of(
            *self.source.get_mut(),
            digest,
            None,
            super::discover::MAX_DEPTH,
            &mut self.budget,
        )?;
        for referrer in found {
            let raw = self.source.borrow_mut().manifest_get(&Selector::Digest(referrer.descriptor.digest.clone()))?;
            self.manifest_tree(&raw, 0)?;
            self.destination.manifest_put(&raw, referrer.tag.as_deref())?;
            if referrer.tag.is_none()
                && let Manifest::Image(manifest) = raw.parse()?
            {
                super::referrers::register(self.destination, &raw.descriptor(), &manifest)?;
            }
            self.outcome.referrers += 1;
            if depth < MAX_DEPTH && referrer.tag.is_none() {
                self.referrers(&raw.digest, depth + 1)?;
            }
        }
        Ok(())
    }

    fn blob(&mut self, descriptor: &Descriptor) -> Result<()> {
        crate::config::limits::check_blobs([descriptor], &self.outcome.source)?;
        if self.destination.blob_exists(&descriptor.digest)? {
            self.outcome.skipped_blobs += 1;
            return Ok(());
        }
        let same_registry = match (self.source.borrow().registry_repository(), self.destination.registry_repository()) {
            (Some((source_registry, source_repository)), Some((destination_registry, _)))
                if source_registry == destination_registry =>
            {
                Some(source_repository)
            }
            _ => None,
        };
        if let Some(from) = same_registry
            && self.destination.blob_mount(descriptor, &from)?
        {
            self.outcome.mounted_blobs += 1;
            return Ok(());
        }
        let unhashed = self.destination.checks_uploaded_digests();
        let source = StoreSource { store: &self.source, descriptor, unhashed };
        if let Err(error) = self.destination.blob_put(descriptor, &source, UploadMode::Monolithic) {
            if unhashed && refused_content(&error) {
                // The destination found the bytes wrong: read the source once more, hashed,
                // so that a source whose bytes do not match its digest is named as the cause.
                let mut reader = self.source.borrow_mut().blob_open(descriptor)?;
                crate::store::verify::copy_verified(&mut reader, &mut std::io::sink(), "verification")?;
            }
            return Err(error);
        }
        self.outcome.copied_blobs += 1;
        Ok(())
    }
}

/// Whether a registry refused an upload for its content (OCI error codes `DIGEST_INVALID`,
/// `SIZE_INVALID`, `BLOB_UPLOAD_INVALID`, or a bare 400).
fn refused_content(error: &Error) -> bool {
    match error {
        Error::Registry { status: 400, code, .. } => {
            code.as_deref().is_none_or(|code| matches!(code, "DIGEST_INVALID" | "SIZE_INVALID" | "BLOB_UPLOAD_INVALID"))
        }
        Error::SizeMismatch { .. } => true,
        _ => false,
    }
}

/// A blob of the source store as an upload source: each attempt fetches it
/// again, through a digest check — or, when `unhashed` (the destination checks the
/// digest of what it receives), through a size check only, so it is hashed once, there.
struct StoreSource<'s, 'a> {
    store: &'s RefCell<&'a mut dyn Store>,
    descriptor: &'s Descriptor,
    unhashed: bool,
}

impl BlobSource for StoreSource<'_, '_> {
    fn open(&self) -> Result<Box<dyn Read + '_>> {
        let mut store = self.store.borrow_mut();
        if self.unhashed { store.blob_open_unhashed(self.descriptor) } else { store.blob_open(self.descriptor) }
    }

    fn verifies_itself(&self) -> bool {
        !self.unhashed
    }
}
