//! Verify: find every signature of the manifest a reference names — Sigstore bundles among
//! its referrers, legacy payloads under its `.sig` tag — and check each against the given
//! public keys: the signature over the exact payload bytes, the payload's digest against
//! the manifest's, and the required annotations. Nothing here trusts a tag. The gate of
//! `--verify-key` (pull, inspect, copy) runs before any blob moves and leaves a record in the
//! cache, which an offline pull checks instead.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::referrers::{image_manifest, list, small_blob};
use super::resolve::selector;
use super::sign::resolve_descriptor;
use super::{RegistryOptions, open_store, parse_reference};
use crate::auth::Access;
use crate::cache::signatures::Seen;
use crate::error::{Error, ErrorKind, Result};
use crate::oci::manifest::Manifest;
use crate::oci::{Descriptor, Digest};
use crate::signing::bundle::{self, BUNDLE_MEDIA_TYPE, MAX_BUNDLE};
use crate::signing::legacy::{signature_layers, signature_tag};
use crate::signing::{Format, PublicKey, simple_signing};
use crate::store::{Selector, Store};

/// The most bytes of a legacy signature payload read (cosign's are a few hundred).
const MAX_PAYLOAD: u64 = 256 << 10;

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
    for referrer in list(store, digest, Some(BUNDLE_MEDIA_TYPE))? {
        let outcome = check_bundle(store, &referrer, digest, keys, annotations);
        record(&mut checked, outcome, Format::Bundle, &referrer.digest, keys)?;
    }
    let tag = signature_tag(digest);
    let raw = match store.manifest_get(&Selector::Tag(tag.clone())) {
        Ok(raw) => Some(raw),
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    if let Some(raw) = raw {
        match raw.parse() {
            Ok(Manifest::Image(manifest)) => {
                for (layer, signature) in signature_layers(&manifest) {
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
fn missing(required: &BTreeMap<String, String>, present: &BTreeMap<String, String>) -> Option<String> {
    let lacking: Vec<String> =
        required.iter().filter(|(k, v)| present.get(*k) != Some(*v)).map(|(k, v)| format!("{k}={v}")).collect();
    (!lacking.is_empty()).then(|| format!("it lacks the annotation(s) {}", lacking.join(", ")))
}

/// What a pull, inspect or copy requires of an artifact's signatures (`--verify-key`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirement {
    /// Any one of these keys.
    pub keys: Vec<PublicKey>,
    pub annotations: BTreeMap<String, String>,
}

/// Verify `reference` in its store before anything of it is fetched; record what verified
/// in the cache at `cache_root` (for offline use); the verified manifest digest, which the
/// fetch that follows must get (a tag moved meanwhile is refused).
pub fn gate(
    reference: &crate::reference::Reference,
    options: &RegistryOptions,
    requirement: &Requirement,
    cache_root: Option<&std::path::Path>,
) -> Result<Digest> {
    let mut store = open_store(reference, options, Access::Pull)?;
    let shown = reference.to_string();
    let subject = resolve_descriptor(store.as_mut(), &selector(reference), &shown)?;
    let verified_reference = format!("{}@{}", store.location(), subject.digest);
    let checked = check(store.as_mut(), &subject.digest, &requirement.keys, &requirement.annotations)?;
    require_one(&verified_reference, &checked, &requirement.annotations)?;
    if let Some(root) = cache_root {
        let seen: Vec<Seen> = checked
            .verified
            .iter()
            .map(|v| Seen { key: v.key_fingerprint.clone(), annotations: v.annotations.clone() })
            .collect();
        crate::cache::signatures::record(root, &subject.digest, &seen)?;
    }
    Ok(subject.digest)
}

/// Offline: whether the cache at `cache_root` recorded a signature of `digest` that meets
/// `requirement` when it was pulled online.
pub fn gate_offline(
    cache_root: &std::path::Path,
    subject: &str,
    digest: &Digest,
    requirement: &Requirement,
) -> Result<()> {
    if crate::cache::Trust::of_host() != crate::cache::Trust::Private {
        return Err(Error::Unverified {
            subject: format!("{subject}@{digest}"),
            reason: "offline, signatures are checked against the cache's record, and this host did not check that \
                     the cache is the user's own; verify online (without --offline), or run under the wasmship runner"
                .into(),
        });
    }
    let fingerprints: Vec<String> = requirement.keys.iter().map(PublicKey::fingerprint).collect();
    let recorded = crate::cache::signatures::recorded(cache_root, digest);
    let met = recorded
        .iter()
        .any(|seen| fingerprints.contains(&seen.key) && missing(&requirement.annotations, &seen.annotations).is_none());
    if met {
        return Ok(());
    }
    Err(Error::Unverified {
        subject: format!("{subject}@{digest}"),
        reason: if recorded.is_empty() {
            "offline, and the cache has no record of a verified signature (pull it once online with --verify-key)"
                .into()
        } else {
            "offline, and none of the signatures the cache saw verified is by the given key(s) with the required \
             annotations (pull it online to check its current signatures)"
                .into()
        },
    })
}

/// The online half of `--verify-key` for an operation about to fetch `reference`: verify
/// now (unless offline from the cache) and pin the fetch to the verified digest. `expected`
/// is a digest the user asked for, which must be the verified one.
pub fn gate_before_fetch(
    reference: &crate::reference::Reference,
    options: &RegistryOptions,
    cache: &super::fetch::CacheOptions,
    requirement: Option<&Requirement>,
    expected: Option<Digest>,
) -> Result<Option<Digest>> {
    let Some(requirement) = requirement else { return Ok(expected) };
    let from_cache_only = cache.offline() && matches!(reference, crate::reference::Reference::Registry(_));
    if from_cache_only {
        return Ok(expected);
    }
    let verified = gate(reference, options, requirement, cache.root().as_deref())?;
    if let Some(expected) = &expected
        && expected != &verified
    {
        return Err(Error::DigestMismatch {
            what: format!("manifest of {reference} (verified signatures)"),
            expected: expected.to_string(),
            actual: verified.to_string(),
        });
    }
    Ok(Some(verified))
}

/// The offline half: the cache's record must show a signature that meets the requirement.
pub fn gate_after_fetch(
    reference: &crate::reference::Reference,
    cache: &super::fetch::CacheOptions,
    requirement: Option<&Requirement>,
    fetched: &super::fetch::Fetched,
) -> Result<()> {
    let Some(requirement) = requirement else { return Ok(()) };
    if !(cache.offline() && matches!(reference, crate::reference::Reference::Registry(_))) {
        return Ok(());
    }
    let digest = &fetched.resolved.top.digest;
    let Some(root) = fetched.cache_dir.as_deref() else {
        return Err(Error::Unverified {
            subject: format!("{reference}@{digest}"),
            reason: "offline and without a cache to hold a record of its signatures".into(),
        });
    };
    gate_offline(root, &reference.to_string(), digest, requirement)
}
