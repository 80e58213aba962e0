//! The payload of a legacy cosign signature (the "SimpleSigning" format): which manifest
//! digest is signed, the repository it was signed in, and the signer's annotations. Written
//! in cosign's member order so the bytes match what cosign writes for the same input;
//! verifiers check the signature over the exact bytes and read the digest from them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, MAX_ECHO, Result, excerpt};
use crate::oci::Digest;

/// The payload's `critical.type`.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";

#[derive(Serialize, Deserialize)]
struct Payload {
    critical: Critical,
    optional: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Serialize, Deserialize)]
struct Critical {
    identity: Identity,
    image: Image,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Serialize, Deserialize)]
struct Identity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Serialize, Deserialize)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

/// What a payload says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The signed manifest's digest.
    pub digest: String,
    /// The repository it was signed in (`registry/repository`); verifiers ignore it.
    pub repository: String,
    /// The signer's annotations (`-a k=v`), values as text.
    pub annotations: BTreeMap<String, String>,
}

/// The payload bytes signing `digest` in `repository` with `annotations`.
pub fn payload(repository: &str, digest: &Digest, annotations: &BTreeMap<String, String>) -> Vec<u8> {
    let optional = (!annotations.is_empty())
        .then(|| annotations.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect());
    let payload = Payload {
        critical: Critical {
            identity: Identity { docker_reference: repository.to_string() },
            image: Image { docker_manifest_digest: digest.to_string() },
            kind: SIGNATURE_TYPE.to_string(),
        },
        optional,
    };
    serde_json::to_vec(&payload).expect("payload serialises")
}

/// Read a payload's claims.
pub fn claims(bytes: &[u8]) -> Result<Claims> {
    let payload: Payload = serde_json::from_slice(bytes).map_err(|e| {
        Error::InvalidInput(format!("not a cosign signature payload: {}", excerpt(&e.to_string(), MAX_ECHO)))
    })?;
    if payload.critical.kind != SIGNATURE_TYPE {
        return Err(Error::InvalidInput(format!(
            "not a cosign signature payload: its type is {:?}",
            excerpt(&payload.critical.kind, MAX_ECHO)
        )));
    }
    Ok(Claims {
        digest: payload.critical.image.docker_manifest_digest,
        repository: payload.critical.identity.docker_reference,
        annotations: super::annotation_texts(payload.optional.unwrap_or_default()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:3b5fa4fec0bfd9f1e4d1f4d8cb4f9e0c3b0f2b6a1c1e4c7f6e5d4c3b2a1f0e9d";

    #[test]
    fn the_payload_has_cosigns_bytes() {
        let digest: Digest = DIGEST.parse().unwrap();
        let bytes = payload("127.0.0.1:5000/app", &digest, &BTreeMap::new());
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"127.0.0.1:5000/app"}},"image":{{"docker-manifest-digest":"{DIGEST}"}},"type":"cosign container image signature"}},"optional":null}}"#
            )
        );
        let annotations = BTreeMap::from([("env".to_string(), "prod".to_string()), ("a".to_string(), "1".to_string())]);
        let bytes = payload("r/app", &digest, &annotations);
        assert!(String::from_utf8(bytes.clone()).unwrap().ends_with(r#""optional":{"a":"1","env":"prod"}}"#));
        let read = claims(&bytes).unwrap();
        assert_eq!(read.digest, DIGEST);
        assert_eq!(read.annotations, annotations);
    }

    /// `testdata/cosign/payload.json`: cosign's payload for this reference, digest and
    /// annotation, byte for byte (ANCHORS §9: Go's member order, no spaces).
    #[test]
    fn the_payload_matches_the_golden_file() {
        let golden = include_bytes!("../../testdata/cosign/payload.json");
        let digest: Digest = "sha256:0b1c5a44f2b9b79a5c6d3e8f1a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b".parse().unwrap();
        let annotations = BTreeMap::from([("env".to_string(), "prod".to_string())]);
        assert_eq!(payload("127.0.0.1:5000/demo/app", &digest, &annotations), golden.to_vec());
        assert_eq!(claims(golden).unwrap().annotations, annotations);
    }

    #[test]
    fn other_json_is_not_a_payload() {
        assert!(claims(br#"{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"y"},"type":"other"},"optional":null}"#).is_err());
        assert!(claims(b"{}").is_err());
    }
}
