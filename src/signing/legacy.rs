//! cosign's legacy signature storage: an image manifest tagged `sha256-<hex>.sig` beside the
//! signed manifest, one layer per signature. Each layer's blob is the SimpleSigning payload
//! and its annotation `dev.cosignproject.cosign/signature` the base64 signature of it. A new
//! signature is appended as a layer; the config lists the layers as an image config does.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::oci::manifest::ImageManifest;
use crate::oci::referrers::fallback_tag;
use crate::oci::{Descriptor, Digest, media_type};

/// The layer media type of a signature payload.
pub const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer annotation holding the signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The config's media type.
const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";

/// The tag of the signatures of `digest`.
pub fn signature_tag(digest: &Digest) -> String {
    format!("{}.sig", fallback_tag(digest))
}

/// The layer of one signature: the payload's descriptor and the signature annotation.
pub fn signature_layer(payload: &[u8], signature_base64: String) -> Descriptor {
    let mut layer = Descriptor::new(PAYLOAD_MEDIA_TYPE, Digest::sha256_of(payload), payload.len() as u64);
    layer.annotations = Some(BTreeMap::from([(SIGNATURE_ANNOTATION.to_string(), signature_base64)]));
    layer
}

#[derive(Serialize)]
struct ImageConfig<'a> {
    architecture: &'a str,
    os: &'a str,
    config: serde_json::Value,
    rootfs: RootFs,
}

#[derive(Serialize)]
struct RootFs {
    #[serde(rename = "type")]
    kind: &'static str,
    diff_ids: Vec<String>,
}

/// The signature manifest with `layer` added to `existing` (unless an identical one is
/// there), and the bytes of its config.
pub fn with_signature(existing: Option<ImageManifest>, layer: Descriptor) -> (ImageManifest, Vec<u8>) {
    let mut layers = existing.map(|m| m.layers).unwrap_or_default();
    if !layers.contains(&layer) {
        layers.push(layer);
    }
    let config = ImageConfig {
        architecture: "",
        os: "",
        config: serde_json::json!({}),
        rootfs: RootFs { kind: "layers", diff_ids: layers.iter().map(|l| l.digest.to_string()).collect() },
    };
    let config = serde_json::to_vec(&config).expect("config serialises");
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(media_type::OCI_MANIFEST.to_string()),
        artifact_type: None,
        config: Descriptor::new(CONFIG_MEDIA_TYPE, Digest::sha256_of(&config), config.len() as u64),
        layers,
        subject: None,
        annotations: None,
    };
    (manifest, config)
}

/// The signature layers of a signature manifest: each payload's descriptor with its
/// signature (base64); layers of other types are skipped.
pub fn signature_layers(manifest: &ImageManifest) -> Vec<(&Descriptor, &str)> {
    manifest
        .layers
        .iter()
        .filter(|l| l.media_type == PAYLOAD_MEDIA_TYPE)
        .filter_map(|l| Some((l, l.annotation(SIGNATURE_ANNOTATION)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_appended_once() {
        let digest = Digest::sha256_of(b"m");
        assert_eq!(signature_tag(&digest), format!("sha256-{}.sig", digest.hex()));
        let first = signature_layer(b"payload one", "c2ln".into());
        let (manifest, config) = with_signature(None, first.clone());
        assert_eq!(manifest.layers, vec![first.clone()]);
        assert_eq!(manifest.config.digest, Digest::sha256_of(&config));
        let second = signature_layer(b"payload two", "c2lnMg==".into());
        let (manifest, _) = with_signature(Some(manifest), second.clone());
        let (manifest, config) = with_signature(Some(manifest), second.clone());
        assert_eq!(manifest.layers, vec![first, second]);
        let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
        assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 2);
        let found = signature_layers(&manifest);
        assert_eq!(found.iter().map(|(_, s)| *s).collect::<Vec<_>>(), ["c2ln", "c2lnMg=="]);
    }
}
