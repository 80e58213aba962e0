//! Verify: find every signature of the manifest a reference names — Sigstore bundles among
//! its referrers, legacy payloads under its `.sig` tag — and check each against the given
//! public keys: the signature over the exact payload bytes, the payload's digest against
//! the manifest's, and the required annotations. Nothing here trusts a tag. The gate that
//! other commands pass through is in [`gate`].

mod gate;

pub use gate::{Requirement, Verification, gate, gate_after_fetch, gate_before_fetch, gate_offline};

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::referrers::{image_manifest, list, small_blob};
use super::resolve::selector;
use super::sign::resolve_descriptor;
use super::{RegistryOptions, open_store, parse_reference};
use crate::auth::Access;
use crate::error::{Error, ErrorKind, Result};
use crate::oci::manifest::Manifest;
use crate::oci::referrers::fallback_tag;
use crate::oci::{Descriptor, Digest};
use crate::signing::bundle::{self, BUNDLE_MEDIA_TYPE, MAX_BUNDLE};
use crate::signing::legacy::{signature_layers, signature_tag};
use crate::signing::{Format, PublicKey, simple_signing};
use crate::store::{Selector, Store, Upcoming};

/// The most bytes of a legacy signature payload read (cosign's are a few hundred).
const MAX_PAYLOAD: u64 = 256 << 10;
/// The most signatures of one manifest checked (bundles and legacy layers together); a
/// manifest with more is refused rather than checked without end.
const MAX_SIGNATURES: usize = 100;

/// One signature that checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    pub format: Format,
    /// The fingerprint of the key that made it.
    pub key_fingerprint: String,
    /// The signer's annotations.
    pub annotations: BTreeMap<String, String>,
    /// The manifest the signature is stored in.
    pub stored_in: Digest,
}

/// Every signature found for one manifest, split into those that verified and why the
/// others did not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub verified: Vec<VerifiedSignature>,
    /// One line per signature that did not verify.
    pub rejected: Vec<String>,
}

/// What `verify` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOutcome {
    /// The reference verified, by digest.
    pub verified_reference: String,
    pub digest: Digest,
    pub checked: Checked,
}

/// Verify the signatures of `reference` with `keys`, requiring `annotations`.
pub fn verify(
    reference: &str,
    keys: &[PublicKey],
    annotations: &BTreeMap<String, String>,
    options: &RegistryOptions,
) -> Result<VerifyOutcome> {
    let parsed = parse_reference(reference)?;
    let mut store = open_store(&parsed, options, Access::Pull)?;
    let subject = resolve_descriptor(store.as_mut(), &selector(&parsed), reference)?;
    let verified_reference = format!("{}@{}", store.location(), subject.digest);
    let checked = check(store.as_mut(), &subject.digest, keys, annotations)?;
    require_one(&verified_reference, &checked, annotations)?;
    Ok(VerifyOutcome { verified_reference, digest: subject.digest, checked })
}

/// An error unless `checked` holds a verified signature.
pub fn require_one(subject: &str, checked: &Checked, annotations: &BTreeMap<String, String>) -> Result<()> {
    if !checked.verified.is_empty() {
        return Ok(());
    }
    let reason = if checked.rejected.is_empty() {
        "it has no signatures (sign it with `wasmship sign REF --key cosign.key`)".to_string()
    } else {
        let wanted = if annotations.is_empty() { String::new() } else { " with the required annotations".into() };
        format!(
            "none of its {} signature(s) is by the given key(s){wanted}: {}",
            checked.rejected.len(),
            crate::error::excerpt(&checked.rejected.join("; "), 600)
        )
    };
    Err(Error::Unverified { subject: subject.to_string(), reason })
}

/// Find and check every signature of `digest` in `store`.
pub fn check(
    store: &mut dyn Store,
    digest: &Digest,
    keys: &[PublicKey],
    annotations: &BTreeMap<String, String>,
) -> Result<Checked> {
    let mut checked = Checked::default();
    let tag = signature_tag(digest);
    // The three places signatures live, asked for at once.
    store.prefetch(&[
        Upcoming::Referrers(digest.clone()),
        Upcoming::Manifest(Selector::Tag(fallback_tag(digest))),
        Upcoming::Manifest(Selector::Tag(tag.clone())),
    ]);
    let bundles = list(store, digest, Some(BUNDLE_MEDIA_TYPE))?;
    too_many(bundles.len(), digest)?;
    for referrer in bundles {
        let outcome = check_bundle(store, &referrer, digest, keys, annotations);
        record(&mut checked, outcome, Format::Bundle, &referrer.digest, keys)?;
    }
    let raw = match store.manifest_get(&Selector::Tag(tag.clone())) {
        Ok(raw) => Some(raw),
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    if let Some(raw) = raw {
        match raw.parse() {
            Ok(Manifest::Image(manifest)) => {
                let layers = signature_layers(&manifest);
                too_many(checked.verified.len() + checked.rejected.len() + layers.len(), digest)?;
                for (layer, signature) in layers {
                    let outcome = check_legacy(store, layer, signature, digest, keys, annotations);
                    record(&mut checked, outcome, Format::Sig, &raw.digest, keys)?;
                }
            }
            Ok(Manifest::Index(_)) => checked.rejected.push(format!("{tag} is an index, not a signature manifest")),
            Err(e) => checked.rejected.push(format!("{tag}: {e}")),
        }
    }
    Ok(checked)
}

/// Refuse to check more than [`MAX_SIGNATURES`] signatures of `digest`.
fn too_many(count: usize, digest: &Digest) -> Result<()> {
    if count <= MAX_SIGNATURES {
        return Ok(());
    }
    Err(Error::SizeLimitExceeded {
        what: format!("the signatures of {digest} ({count}; remove stale ones, or copy it without them)"),
        limit: MAX_SIGNATURES as u64,
    })
}

/// Why one signature did not verify, or what it says when it did.
type Outcome = Result<std::result::Result<(usize, BTreeMap<String, String>), String>>;

fn record(
    checked: &mut Checked,
    outcome: Outcome,
    format: Format,
    stored_in: &Digest,
    keys: &[PublicKey],
) -> Result<()> {
    match outcome {
        Ok(Ok((key, annotations))) => checked.verified.push(VerifiedSignature {
            format,
            key_fingerprint: keys[key].fingerprint(),
            annotations,
            stored_in: stored_in.clone(),
        }),
        Ok(Err(why)) => checked.rejected.push(format!("{} in {stored_in}: {why}", format.name())),
        // A store that cannot be read stops the check; content that is wrong is a rejection.
        Err(e) if is_unreadable(&e) => return Err(e),
        Err(e) => checked.rejected.push(format!("{} in {stored_in}: {e}", format.name())),
    }
    Ok(())
}

fn is_unreadable(error: &Error) -> bool {
    matches!(error.kind(), ErrorKind::Transport | ErrorKind::Unauthorized | ErrorKind::Registry | ErrorKind::Io)
}

fn check_bundle(
    store: &mut dyn Store,
    referrer: &Descriptor,
    digest: &Digest,
    keys: &[PublicKey],
    annotations: &BTreeMap<String, String>,
) -> Outcome {
    let manifest = image_manifest(store, &referrer.digest, "signature bundle manifest")?;
    if manifest.subject.as_ref().map(|s| &s.digest) != Some(digest) {
        return Ok(Err("its subject is another manifest".into()));
    }
    let mut why = "it holds no bundle".to_string();
    for layer in manifest.layers.iter().filter(|l| l.media_type == BUNDLE_MEDIA_TYPE) {
        let bytes = small_blob(store, layer, MAX_BUNDLE, "signature bundle")?;
        match bundle::verify(&bytes, digest, keys) {
            Ok(Some((key, verified))) => match missing(annotations, &verified.annotations) {
                None => return Ok(Ok((key, verified.annotations))),
                Some(missing) => why = missing,
            },
            Ok(None) => why = "signed by another key".into(),
            Err(e) => why = e.to_string(),
        }
    }
    Ok(Err(why))
}

fn check_legacy(
    store: &mut dyn Store,
    layer: &Descriptor,
    signature: &str,
    digest: &Digest,
    keys: &[PublicKey],
    annotations: &BTreeMap<String, String>,
) -> Outcome {
    let payload = small_blob(store, layer, MAX_PAYLOAD, "signature payload")?;
    let Ok(signature) = STANDARD.decode(signature.trim().as_bytes()) else {
        return Ok(Err("its signature annotation is not base64".into()));
    };
    let Some(key) = keys.iter().position(|key| key.verifies(&payload, &signature)) else {
        return Ok(Err("signed by another key".into()));
    };
    let claims = match simple_signing::claims(&payload) {
        Ok(claims) => claims,
        Err(e) => return Ok(Err(e.to_string())),
    };
    if claims.digest != digest.to_string() {
        return Ok(Err(format!(
            "its payload signs {}, not this manifest (a signature copied from other content)",
            crate::error::excerpt(&claims.digest, 100)
        )));
    }
    match missing(annotations, &claims.annotations) {
        None => Ok(Ok((key, claims.annotations))),
        Some(missing) => Ok(Err(missing)),
    }
}

/// The required annotations a signature lacks, in words; `None` when it has them all.
pub(super) fn missing(required: &BTreeMap<String, String>, present: &BTreeMap<String, String>) -> Option<String> {
    let lacking: Vec<String> =
        required.iter().filter(|(k, v)| present.get(*k) != Some(*v)).map(|(k, v)| format!("{k}={v}")).collect();
    (!lacking.is_empty()).then(|| format!("it lacks the annotation(s) {}", lacking.join(", ")))
}
