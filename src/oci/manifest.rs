//! Image manifests and indexes. A manifest keeps the exact bytes it was read
//! from or will be written as: its digest is always taken from those bytes,
//! never from re-serialised JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::descriptor::Descriptor;
use super::digest::Digest;
use super::media_type;
use crate::error::{Error, MAX_ECHO, excerpt};

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
    /// field or its shape decides. Bytes that are not a manifest are refused with
    /// what they are instead: not JSON, a registry's error body, or JSON of another
    /// shape (named by the media type and the `mediaType` field).
    pub fn parse(&self) -> Result<Manifest, Error> {
        let probe: Probe = match serde_json::from_slice(&self.bytes) {
            Ok(probe) => probe,
            Err(e) if e.is_data() => Probe::default(),
            Err(e) => {
                return Err(Error::InvalidInput(format!(
                    "manifest {} is not valid JSON: {}",
                    self.digest,
                    excerpt(&e.to_string(), MAX_ECHO)
                )));
            }
        };
        if let Some(errors) = probe.error_body() {
            return Err(Error::InvalidInput(format!(
                "manifest {} is a registry's error body, not a manifest: {errors}",
                self.digest
            )));
        }
        let declared = if media_type::is_image_manifest(&self.media_type) || media_type::is_index(&self.media_type) {
            self.media_type.clone()
        } else {
            match (&probe.media_type, &probe.manifests) {
                (Some(mt), _) => mt.clone(),
                (None, Some(_)) => media_type::OCI_INDEX.to_string(),
                (None, None) => media_type::OCI_MANIFEST.to_string(),
            }
        };
        let shape = |e: serde_json::Error| self.not_a_manifest(&probe, &declared, &e);
        if media_type::is_image_manifest(&declared) {
            Ok(Manifest::Image(Box::new(serde_json::from_slice(&self.bytes).map_err(shape)?)))
        } else if media_type::is_index(&declared) {
            Ok(Manifest::Index(serde_json::from_slice(&self.bytes).map_err(shape)?))
        } else {
            Err(Error::UnsupportedMediaType {
                media_type: excerpt(&declared, MAX_ECHO),
                context: format!("manifest {}", self.digest),
            })
        }
    }

    /// The error for JSON that is not the manifest or index (`declared`) its media type says.
    fn not_a_manifest(&self, probe: &Probe, declared: &str, error: &serde_json::Error) -> Error {
        let shown = |value: &str| if value.is_empty() { "none".to_string() } else { excerpt(value, MAX_ECHO) };
        let field = probe.media_type.as_deref().map_or_else(|| "none".to_string(), shown);
        let mut missing: Vec<&str> = Vec::new();
        if probe.schema_version.is_none() {
            missing.push("schemaVersion");
        }
        if media_type::is_index(declared) {
            if probe.manifests.is_none() {
                missing.push("manifests");
            }
        } else {
            if probe.config.is_none() {
                missing.push("config");
            }
            if probe.layers.is_none() {
                missing.push("layers");
            }
        }
        let why = if missing.is_empty() {
            // Every member is there; one has the wrong type or value.
            excerpt(&error.to_string(), MAX_ECHO)
        } else {
            format!("it has no {}", missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "))
        };
        Error::InvalidInput(format!(
            "manifest {} is not an OCI image manifest or index (media type {}, mediaType field {field}): {why}",
            self.digest,
            shown(&self.media_type)
        ))
    }
}

/// The members of a JSON object that tell what it is.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    schema_version: Option<serde_json::Value>,
    media_type: Option<String>,
    config: Option<serde_json::Value>,
    layers: Option<serde_json::Value>,
    manifests: Option<serde_json::Value>,
    errors: Option<Vec<ErrorEntry>>,
}

/// One entry of a registry's error body (`{"errors":[{"code","message"}]}`).
#[derive(Deserialize)]
pub struct ErrorEntry {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl Probe {
    /// `CODE: message; …` when the JSON is a registry's error body rather than a manifest.
    fn error_body(&self) -> Option<String> {
        let errors = self.errors.as_ref().filter(|e| !e.is_empty())?;
        if self.schema_version.is_some() {
            return None;
        }
        Some(error_entries(errors.iter().map(|e| (e.code.as_str(), e.message.as_str()))))
    }
}

/// A registry's error entries (code, message) as `CODE: message; …`, cut to one short line.
pub fn error_entries<'a>(entries: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let text: Vec<String> = entries
        .map(|(code, message)| match (code.is_empty(), message.is_empty()) {
            (false, false) => format!("{code}: {message}"),
            (false, true) => code.to_string(),
            (true, _) => message.to_string(),
        })
        .collect();
    excerpt(&text.join("; "), MAX_ECHO)
}

/// `bytes` as a registry's error body (`{"errors":[…]}` and no `schemaVersion`):
/// its entries as `CODE: message; …`.
pub fn registry_error_body(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<Probe>(bytes).ok()?.error_body()
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

    fn message(media_type: &str, bytes: &[u8]) -> String {
        RawManifest::from_bytes(media_type, bytes.to_vec()).parse().unwrap_err().to_string()
    }

    const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0},"layers":[]}"#;

    #[test]
    fn an_error_body_is_named_as_one() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"1"}}]}"#;
        let text = message("application/vnd.oci.image.manifest.v1+json", body);
        let digest = Digest::sha256_of(body);
        assert_eq!(
            text,
            format!("manifest {digest} is a registry's error body, not a manifest: MANIFEST_UNKNOWN: manifest unknown")
        );
        assert_eq!(registry_error_body(body).as_deref(), Some("MANIFEST_UNKNOWN: manifest unknown"));
        assert_eq!(registry_error_body(MANIFEST.as_bytes()), None);
    }

    #[test]
    fn a_manifest_served_as_an_index_is_named_with_both_media_types() {
        let index = "application/vnd.oci.image.index.v1+json";
        let text = message(index, MANIFEST.as_bytes());
        let digest = Digest::sha256_of(MANIFEST.as_bytes());
        assert_eq!(
            text,
            format!(
                "manifest {digest} is not an OCI image manifest or index (media type {index}, \
                 mediaType field application/vnd.oci.image.manifest.v1+json): it has no `manifests`"
            )
        );
        assert!(!text.contains("missing field"), "{text}");
        // The other way round, and an object of neither shape.
        let index_bytes = br#"{"schemaVersion":2,"manifests":[]}"#;
        let text = message("application/vnd.oci.image.manifest.v1+json", index_bytes);
        assert!(text.ends_with("mediaType field none): it has no `config`, `layers`"), "{text}");
        let text = message("application/json", br#"{"hello":"world"}"#);
        assert!(
            text.ends_with(
                "(media type application/json, mediaType field none): it has no `schemaVersion`, `config`, `layers`"
            ),
            "{text}"
        );
        // Members of the wrong type are named by the JSON reader.
        let text = message("application/json", br#"{"schemaVersion":2,"config":{},"layers":"nope"}"#);
        assert!(text.contains("mediaType field none): ") && !text.contains('\n'), "{text}");
        // Not JSON at all.
        let text = message("application/json", b"<html>oops</html>");
        assert!(text.contains("is not valid JSON: expected value"), "{text}");
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
