//! Attach: store a file (an SBOM, a provenance document, a scan report) as an OCI 1.1
//! referrer of an artifact — one layer, the empty config, the `artifactType` given — and
//! list it among the artifact's referrers.

use std::collections::BTreeMap;
use std::path::Path;

use super::referrers::attach as attach_manifest;
use super::resolve::selector;
use super::sign::resolve_descriptor;
use super::{RegistryOptions, open_store, parse_reference};
use crate::auth::Access;
use crate::error::{Error, Result};
use crate::oci::referrers::{EMPTY_CONTENT, empty_descriptor, referrer_manifest};
use crate::oci::{Descriptor, Digest};

/// The largest file attached (documents, not artifacts: push those).
pub const MAX_ATTACHED_FILE: u64 = 64 << 20;
/// The layer annotation naming the file.
const TITLE: &str = "org.opencontainers.image.title";

/// What to attach.
pub struct AttachRequest<'a> {
    pub reference: &'a str,
    pub file: &'a Path,
    pub artifact_type: &'a str,
    /// The layer's media type.
    pub media_type: &'a str,
    /// Manifest annotations.
    pub annotations: BTreeMap<String, String>,
}

/// What was attached to what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachOutcome {
    /// The subject, by digest.
    pub subject: String,
    pub referrer: Descriptor,
}

/// Attach a file to an artifact.
pub fn attach(request: &AttachRequest<'_>, options: &RegistryOptions) -> Result<AttachOutcome> {
    if request.artifact_type.trim().is_empty() || !request.artifact_type.contains('/') {
        return Err(Error::Usage(format!(
            "--artifact-type {:?} is not a media type (e.g. application/spdx+json)",
            request.artifact_type
        )));
    }
    let bytes = crate::fsutil::read_regular_at_most(request.file, MAX_ATTACHED_FILE).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => {
            Error::SizeLimitExceeded { what: request.file.display().to_string(), limit: MAX_ATTACHED_FILE }
        }
        _ => Error::io(request.file.display(), "read file to attach", e),
    })?;
    let reference = parse_reference(request.reference)?;
    let mut store = open_store(&reference, options, Access::PullPush)?;
    let subject = resolve_descriptor(store.as_mut(), &selector(&reference), request.reference)?;
    let mut layer = Descriptor::new(request.media_type, Digest::sha256_of(&bytes), bytes.len() as u64);
    if let Some(name) = request.file.file_name().and_then(|n| n.to_str()) {
        layer.annotations = Some(BTreeMap::from([(TITLE.to_string(), name.to_string())]));
    }
    let manifest = referrer_manifest(&subject, request.artifact_type, vec![layer.clone()], request.annotations.clone());
    let referrer =
        attach_manifest(store.as_mut(), &manifest, &[(empty_descriptor(), EMPTY_CONTENT.to_vec()), (layer, bytes)])?;
    Ok(AttachOutcome { subject: format!("{}@{}", store.location(), subject.digest), referrer })
}
