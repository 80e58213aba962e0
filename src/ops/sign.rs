//! Sign: resolve the reference to the digest of its manifest (a tag can move; a digest
//! cannot), sign that digest with a cosign key, and store the signature beside it in the
//! chosen format: appended to the `sha256-<hex>.sig` manifest, or as a Sigstore bundle
//! referrer. Works the same in registries and OCI layouts.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::referrers::{attach, put_blobs};
use super::resolve::selector;
use super::{RegistryOptions, open_store, parse_reference};
use crate::auth::Access;
use crate::error::{Error, Result};
use crate::oci::manifest::Manifest;
use crate::oci::referrers::EMPTY_CONTENT;
use crate::oci::referrers::{empty_descriptor, referrer_manifest};
use crate::oci::{Descriptor, Digest};
use crate::signing::bundle::{self, BUNDLE_MEDIA_TYPE, SIGN_PREDICATE_TYPE};
use crate::signing::legacy::{signature_layer, signature_tag, with_signature};
use crate::signing::{Format, PrivateKey, simple_signing};
use crate::store::{Selector, Store};

/// What to sign, and how.
pub struct SignRequest<'a> {
    pub reference: &'a str,
    pub key: &'a PrivateKey,
    pub annotations: BTreeMap<String, String>,
    pub format: Format,
}

/// Where the signature went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOutcome {
    /// The reference signed, by digest.
    pub signed: String,
    pub digest: Digest,
    pub format: Format,
    /// The signature's manifest: the `.sig` tag's, or the bundle referrer's.
    pub signature: Descriptor,
    /// The tag it is stored under (legacy format).
    pub tag: Option<String>,
    pub key_fingerprint: String,
}

/// Sign an artifact.
pub fn sign(request: &SignRequest<'_>, options: &RegistryOptions) -> Result<SignOutcome> {
    let reference = parse_reference(request.reference)?;
    let mut store = open_store(&reference, options, Access::PullPush)?;
    let subject = resolve_descriptor(store.as_mut(), &selector(&reference), request.reference)?;
    let repository = store.location();
    let (signature, tag) = match request.format {
        Format::Sig => {
            let (descriptor, tag) = sign_legacy(store.as_mut(), request, &repository, &subject.digest)?;
            (descriptor, Some(tag))
        }
        Format::Bundle => (sign_bundle(store.as_mut(), request, &repository, &subject)?, None),
    };
    Ok(SignOutcome {
        signed: format!("{repository}@{}", subject.digest),
        digest: subject.digest,
        format: request.format,
        signature,
        tag,
        key_fingerprint: request.key.public_key().fingerprint(),
    })
}

/// The descriptor of the manifest `selector` names (`what` in messages).
pub fn resolve_descriptor(store: &mut dyn Store, selector: &Selector, what: &str) -> Result<Descriptor> {
    match store.manifest_head(selector)? {
        Some(descriptor) => Ok(descriptor),
        None => Err(Error::NotFound { what: format!("manifest {selector} ({what})"), location: store.location() }),
    }
}

fn sign_legacy(
    store: &mut dyn Store,
    request: &SignRequest<'_>,
    repository: &str,
    digest: &Digest,
) -> Result<(Descriptor, String)> {
    let payload = simple_signing::payload(repository, digest, &request.annotations);
    let signature = STANDARD.encode(request.key.sign(&payload));
    let layer = signature_layer(&payload, signature);
    let tag = signature_tag(digest);
    let existing = match store.manifest_get(&Selector::Tag(tag.clone())) {
        Ok(raw) => match raw.parse()? {
            Manifest::Image(manifest) => Some(*manifest),
            Manifest::Index(_) => {
                return Err(Error::InvalidInput(format!(
                    "{repository}:{tag} is an index, not a cosign signature manifest; remove the tag or sign with --format bundle"
                )));
            }
        },
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let (manifest, config) = with_signature(existing, layer.clone());
    put_blobs(store, &[(layer, payload), (manifest.config.clone(), config)])?;
    let raw = manifest.to_raw();
    store.manifest_put(&raw, Some(&tag))?;
    Ok((raw.descriptor(), tag))
}

fn sign_bundle(
    store: &mut dyn Store,
    request: &SignRequest<'_>,
    repository: &str,
    subject: &Descriptor,
) -> Result<Descriptor> {
    let bundle = bundle::sign(request.key, repository, &subject.digest, &request.annotations);
    let layer = Descriptor::new(BUNDLE_MEDIA_TYPE, Digest::sha256_of(&bundle), bundle.len() as u64);
    let annotations = BTreeMap::from([
        ("dev.sigstore.bundle.content".to_string(), "dsse-envelope".to_string()),
        ("dev.sigstore.bundle.predicateType".to_string(), SIGN_PREDICATE_TYPE.to_string()),
    ]);
    let manifest = referrer_manifest(subject, BUNDLE_MEDIA_TYPE, vec![layer.clone()], annotations);
    attach(store, &manifest, &[(empty_descriptor(), EMPTY_CONTENT.to_vec()), (layer, bundle)])
}
