//! Image manifests and indexes. A manifest keeps the exact bytes it was read
//! from or will be written as: its digest is always taken from those bytes,
//! never from re-serialised JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::descriptor::Descriptor;
use super::digest::Digest;
use super::media_type;
use crate::error::Error;

/// An OCI image manifest (also read from Docker v2 schema 2 manifests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An OCI image index (also read from Docker manifest lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// A manifest as bytes, with its media type and the digest of those bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawManifest {
    pub media_type: String,
    pub bytes: Vec<u8>,
    pub digest: Digest,
}

/// A parsed manifest of either kind.
#[derive(Debug, Clone)]
pub enum Manifest {
    Image(Box<ImageManifest>),
    Index(ImageIndex),
}

impl ImageManifest {
    /// An OCI manifest of one config and one layer (the shape of every
    /// artifact wasmship pushes).
    pub fn single_layer(config: Descriptor, layer: Descriptor, annotations: BTreeMap<String, String>) -> Self {
        ImageManifest {
            schema_version: 2,
            media_type: Some(media_type::OCI_MANIFEST.to_string()),
            artifact_type: None,
            config,
            layers: vec![layer],
            subject: None,
            annotations: Some(annotations),
        }
    }

    /// Serialise to the bytes that will be stored (compact JSON, field order
    /// as declared, so the same manifest always gives the same digest).
    pub fn to_raw(&self) -> RawManifest {
        let bytes = serde_json::to_vec(self).expect("manifest serialises");
        RawManifest {
            media_type: self.media_type.clone().unwrap_or_else(|| media_type::OCI_MANIFEST.to_string()),
            digest: Digest::sha256_of(&bytes),
            bytes,
        }
    }
}

impl RawManifest {
    /// Wrap bytes received from a store, taking their digest.
    pub fn from_bytes(media_type: impl Into<String>, bytes: Vec<u8>) -> Self {
        RawManifest { media_type: media_type.into(), digest: Digest::sha256_of(&bytes), bytes }
    }

    /// The descriptor of this manifest.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(self.media_type.clone(), self.digest.clone(), self.bytes.len() as u64)
    }

    /// Parse the bytes by media type. When the store gave no usable media type
    /// (some registries answer `application/json`), the JSON's own `mediaType`
    /// field or its shape decides.
    pub fn parse(&self) -> Result<Manifest, Error> {
        let invalid =
            |e: serde_json::Error| Error::InvalidInput(format!("manifest {} is not valid JSON: {e}", self.digest));
        let declared = if media_type::is_image_manifest(&self.media_type) || media_type::is_index(&self.media_type) {
            self.media_type.clone()
        } else {
            #[derive(Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Probe {
                media_type: Option<String>,
                manifests: Option<serde_json::Value>,
            }
            let probe: Probe = serde_json::from_slice(&self.bytes).map_err(invalid)?;
            match (probe.media_type, probe.manifests) {
                (Some(mt), _) => mt,
                (None, Some(_)) => media_type::OCI_INDEX.to_string(),
                (None, None) => media_type::OCI_MANIFEST.to_string(),
            }
        };
        if media_type::is_image_manifest(&declared) {
            Ok(Manifest::Image(Box::new(serde_json::from_slice(&self.bytes).map_err(invalid)?)))
        } else if media_type::is_index(&declared) {
            Ok(Manifest::Index(serde_json::from_slice(&self.bytes).map_err(invalid)?))
        } else {
            Err(Error::UnsupportedMediaType { media_type: declared, context: format!("manifest {}", self.digest) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_comes_from_the_bytes() {
        let bytes = br#"{"schemaVersion":2,"config":{"mediaType":"a","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0},"layers":[]}"#.to_vec();
        let raw = RawManifest::from_bytes("application/json", bytes.clone());
        assert_eq!(raw.digest, Digest::sha256_of(&bytes));
        assert!(matches!(raw.parse().unwrap(), Manifest::Image(_)));
    }

    #[test]
    fn rejects_unknown_manifest_types() {
        let raw = RawManifest::from_bytes(
            "application/json",
            br#"{"schemaVersion":1,"mediaType":"application/vnd.docker.distribution.manifest.v1+json"}"#.to_vec(),
        );
        assert!(matches!(raw.parse(), Err(Error::UnsupportedMediaType { .. })));
    }
}
