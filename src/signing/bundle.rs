//! cosign 3's signature format: a Sigstore bundle (v0.3 JSON) holding a DSSE envelope over
//! an in-toto Statement whose subject is the signed manifest's digest and whose predicate
//! type is cosign's image signature. The signature covers the DSSE pre-authentication
//! encoding (PAE) of the statement. Key-based bundles carry a key hint and no transparency
//! log entries; the signer's annotations ride in the subject's `annotations`.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::key_file::{PrivateKey, PublicKey};
use crate::error::{Error, MAX_ECHO, Result, excerpt};
use crate::oci::Digest;

/// The bundle's media type (also the referrer's `artifactType` and layer type).
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The in-toto payload type of the envelope.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// cosign's predicate type for an image signature.
pub const SIGN_PREDICATE_TYPE: &str = "https://sigstore.dev/cosign/sign/v1";
/// The most bundle bytes read.
pub const MAX_BUNDLE: u64 = 1 << 20;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    media_type: String,
    #[serde(default)]
    verification_material: serde_json::Value,
    dsse_envelope: Option<Envelope>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload: String,
    payload_type: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Serialize, Deserialize)]
struct EnvelopeSignature {
    sig: String,
    #[serde(default)]
    keyid: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Statement {
    #[serde(rename = "_type")]
    kind: String,
    subject: Vec<Subject>,
    predicate_type: String,
    #[serde(default)]
    predicate: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
struct Subject {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    name: String,
    digest: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    annotations: Option<BTreeMap<String, serde_json::Value>>,
}

/// DSSE's pre-authentication encoding of `payload` of `payload_type`: what is signed.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The statement bytes signing `digest` (of a manifest in `repository`) with `annotations`.
pub fn statement(repository: &str, digest: &Digest, annotations: &BTreeMap<String, String>) -> Vec<u8> {
    let annotations = (!annotations.is_empty())
        .then(|| annotations.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect());
    let statement = Statement {
        kind: STATEMENT_TYPE.to_string(),
        subject: vec![Subject {
            name: repository.to_string(),
            digest: BTreeMap::from([(digest.algorithm().name().to_string(), digest.hex().to_string())]),
            annotations,
        }],
        predicate_type: SIGN_PREDICATE_TYPE.to_string(),
        predicate: serde_json::json!({}),
    };
    serde_json::to_vec(&statement).expect("statement serialises")
}

/// A bundle signing `digest` with `key`.
pub fn sign(key: &PrivateKey, repository: &str, digest: &Digest, annotations: &BTreeMap<String, String>) -> Vec<u8> {
    let payload = statement(repository, digest, annotations);
    let signature = key.sign(&pae(IN_TOTO_PAYLOAD_TYPE, &payload));
    let bundle = Bundle {
        media_type: BUNDLE_MEDIA_TYPE.to_string(),
        verification_material: serde_json::json!({
            "publicKey": { "hint": key.public_key().hint() },
            "tlogEntries": [],
        }),
        dsse_envelope: Some(Envelope {
            payload: STANDARD.encode(&payload),
            payload_type: IN_TOTO_PAYLOAD_TYPE.to_string(),
            signatures: vec![EnvelopeSignature { sig: STANDARD.encode(signature), keyid: String::new() }],
        }),
    };
    serde_json::to_vec(&bundle).expect("bundle serialises")
}

/// What a verified bundle says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The annotations of the subject naming the digest.
    pub annotations: BTreeMap<String, String>,
}

/// Check `bundle` against `keys` and `digest`: `Ok(Some(index of the key))` when one of the
/// envelope's signatures is by one of the keys and the statement signs `digest` as an image
/// signature; `Ok(None)` when no key signed it; an error when the bundle is malformed or
/// signs something else.
pub fn verify(bundle: &[u8], digest: &Digest, keys: &[PublicKey]) -> Result<Option<(usize, Verified)>> {
    let malformed = |why: String| Error::InvalidInput(format!("not a Sigstore bundle: {}", excerpt(&why, MAX_ECHO)));
    let bundle: Bundle = serde_json::from_slice(bundle).map_err(|e| malformed(e.to_string()))?;
    if !bundle.media_type.starts_with("application/vnd.dev.sigstore.bundle") {
        return Err(malformed(format!("media type {:?}", bundle.media_type)));
    }
    let Some(envelope) = bundle.dsse_envelope else {
        return Err(malformed("it holds no DSSE envelope (a message signature is not an image signature)".into()));
    };
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(malformed(format!("payload type {:?}", envelope.payload_type)));
    }
    let payload = STANDARD.decode(envelope.payload.as_bytes()).map_err(|e| malformed(format!("payload: {e}")))?;
    let signed = pae(&envelope.payload_type, &payload);
    let key = envelope.signatures.iter().find_map(|signature| {
        let bytes = STANDARD.decode(signature.sig.as_bytes()).ok()?;
        keys.iter().position(|key| key.verifies(&signed, &bytes))
    });
    let Some(key) = key else { return Ok(None) };
    let statement: Statement = serde_json::from_slice(&payload).map_err(|e| malformed(format!("statement: {e}")))?;
    if !statement.kind.starts_with("https://in-toto.io/Statement/") {
        return Err(malformed(format!("statement type {:?}", statement.kind)));
    }
    if statement.predicate_type != SIGN_PREDICATE_TYPE {
        return Err(Error::InvalidInput(format!(
            "the bundle is an attestation ({}), not an image signature",
            excerpt(&statement.predicate_type, MAX_ECHO)
        )));
    }
    let subject = statement
        .subject
        .into_iter()
        .find(|s| s.digest.get(digest.algorithm().name()).is_some_and(|hex| hex == digest.hex()));
    let Some(subject) = subject else {
        return Err(Error::DigestMismatch {
            what: "signed statement".into(),
            expected: digest.to_string(),
            actual: "a statement about other content".into(),
        });
    };
    Ok(Some((key, Verified { annotations: super::annotation_texts(subject.annotations.unwrap_or_default()) })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_dsses_encoding() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn a_bundle_verifies_with_its_key_for_its_digest_only() {
        let key = PrivateKey::generate().unwrap();
        let digest = Digest::sha256_of(b"manifest");
        let annotations = BTreeMap::from([("env".to_string(), "prod".to_string())]);
        let bundle = sign(&key, "127.0.0.1:5000/app", &digest, &annotations);
        let json: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
        assert_eq!(json["mediaType"], BUNDLE_MEDIA_TYPE);
        assert_eq!(json["dsseEnvelope"]["payloadType"], IN_TOTO_PAYLOAD_TYPE);
        let statement: serde_json::Value =
            serde_json::from_slice(&STANDARD.decode(json["dsseEnvelope"]["payload"].as_str().unwrap()).unwrap())
                .unwrap();
        assert_eq!(statement["predicateType"], SIGN_PREDICATE_TYPE);
        assert_eq!(statement["subject"][0]["digest"]["sha256"], digest.hex());

        let other = PrivateKey::generate().unwrap().public_key();
        let (index, verified) = verify(&bundle, &digest, &[other.clone(), key.public_key()]).unwrap().unwrap();
        assert_eq!(index, 1);
        assert_eq!(verified.annotations, annotations);
        assert!(verify(&bundle, &digest, &[other]).unwrap().is_none());
        let err = verify(&bundle, &Digest::sha256_of(b"other"), &[key.public_key()]).unwrap_err();
        assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    }
}
