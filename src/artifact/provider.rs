//! The OCI artifact of a wasmCloud provider archive, as wash pushes it: one
//! layer `application/vnd.wasmcloud.provider.archive.layer.v1+par` holding the
//! archive's bytes as they are, a config
//! `application/vnd.wasmcloud.provider.archive.config` (`{}` unless given),
//! and manifest annotations from the claims (title, vendor, version) and the user.

use std::collections::BTreeMap;

use super::build::ArtifactPlan;
use crate::oci::annotations as keys;
use crate::oci::media_type::{PROVIDER_ARCHIVE_CONFIG, PROVIDER_ARCHIVE_LAYER};
use crate::oci::{Descriptor, Digest};

/// What the artifact is made of besides the archive's bytes.
#[derive(Debug, Clone)]
pub struct ProviderArtifact<'a> {
    pub archive_digest: Digest,
    pub archive_size: u64,
    /// The archive's file name, the layer's title.
    pub file_name: String,
    /// The config blob (`{}` when none was given).
    pub config: Vec<u8>,
    pub name: Option<&'a str>,
    pub vendor: &'a str,
    pub version: Option<&'a str>,
    /// RFC 3339 creation time.
    pub created: String,
    /// User annotations; they override the others.
    pub annotations: &'a [(String, String)],
}

/// Build config and manifest for a provider archive.
pub fn build_provider_artifact(input: &ProviderArtifact<'_>) -> ArtifactPlan {
    let mut annotations = BTreeMap::new();
    annotations.insert(keys::CREATED.to_string(), input.created.clone());
    if let Some(name) = input.name.filter(|n| !n.is_empty()) {
        annotations.insert(keys::TITLE.to_string(), name.to_string());
    }
    if !input.vendor.is_empty() {
        annotations.insert(keys::VENDOR.to_string(), input.vendor.to_string());
    }
    if let Some(version) = input.version {
        annotations.insert(keys::VERSION.to_string(), version.to_string());
    }
    for (key, value) in input.annotations {
        annotations.insert(key.clone(), value.clone());
    }
    let layer = Descriptor::new(PROVIDER_ARCHIVE_LAYER, input.archive_digest.clone(), input.archive_size);
    ArtifactPlan::single_layer(PROVIDER_ARCHIVE_CONFIG, input.config.clone(), layer, &input.file_name, annotations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_artifact_has_wasmclouds_media_types() {
        let plan = build_provider_artifact(&ProviderArtifact {
            archive_digest: Digest::sha256_of(b"par"),
            archive_size: 3,
            file_name: "p.par.gz".into(),
            config: b"{}".to_vec(),
            name: Some("Demo"),
            vendor: "Acme",
            version: Some("1.0.0"),
            created: "2023-11-14T22:13:20Z".into(),
            annotations: &[("org.opencontainers.image.version".into(), "override".into())],
        });
        let manifest: serde_json::Value = serde_json::from_slice(&plan.manifest.bytes).unwrap();
        assert_eq!(manifest["config"]["mediaType"], PROVIDER_ARCHIVE_CONFIG);
        assert_eq!(manifest["config"]["digest"], Digest::sha256_of(b"{}").to_string());
        assert_eq!(manifest["layers"][0]["mediaType"], PROVIDER_ARCHIVE_LAYER);
        assert_eq!(manifest["layers"][0]["size"], 3);
        assert_eq!(manifest["layers"][0]["annotations"][keys::TITLE], "p.par.gz");
        assert_eq!(manifest["annotations"][keys::VENDOR], "Acme");
        assert_eq!(manifest["annotations"][keys::VERSION], "override");
    }
}
