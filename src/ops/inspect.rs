//! Inspect: the manifest, its descriptors and annotations, and what the Wasm
//! config says about the component — without downloading the layer. For a
//! provider archive the layer is read (streamed, never kept in memory) for its
//! claims and checks.

use std::collections::BTreeMap;

use super::RegistryOptions;
use super::fetch::{CacheOptions, Fetched, fetch};
use super::provider_info::{ProviderReport, read_archive};
use crate::error::{Error, Result};
use crate::oci::media_type::{PROVIDER_ARCHIVE_LAYER, WASM_CONFIG};
use crate::oci::{CONFIG_MAX_BYTES, Descriptor, ImageManifest, WasmConfig};

/// What `inspect` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactInfo {
    pub reference: String,
    /// The manifest the reference names (an index's descriptor if it is one).
    pub manifest: Descriptor,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    pub annotations: BTreeMap<String, String>,
    /// The Wasm config, when the config is one.
    pub wasm_config: Option<WasmConfig>,
    /// The provider archive's claims and checks, when the artifact is one.
    pub provider: Option<ProviderReport>,
}

/// The provider archive layer of a manifest, if it has exactly one.
fn provider_layer(manifest: &ImageManifest) -> Option<&Descriptor> {
    let mut layers = manifest.layers.iter().filter(|l| l.media_type == PROVIDER_ARCHIVE_LAYER);
    match (layers.next(), layers.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// Inspect an artifact.
pub fn inspect(reference: &str, options: &RegistryOptions, cache: &CacheOptions) -> Result<ArtifactInfo> {
    inspect_verified(reference, options, cache, None)
}

/// [`inspect`] an artifact that must first meet `requirement` (`--verify-key`).
pub fn inspect_verified(
    reference: &str,
    options: &RegistryOptions,
    cache: &CacheOptions,
    requirement: Option<&super::verify::Requirement>,
) -> Result<ArtifactInfo> {
    let reference = super::parse_reference(reference)?;
    let expected = super::verify::gate_before_fetch(&reference, options, cache, requirement, None)?;
    let needs = |manifest: &ImageManifest| -> Result<Vec<Descriptor>> {
        // Only a Wasm config is read, and it must fit in memory.
        let mut needed = Vec::new();
        if manifest.config.media_type == WASM_CONFIG && manifest.config.size <= CONFIG_MAX_BYTES {
            needed.push(manifest.config.clone());
        }
        needed.extend(provider_layer(manifest).cloned());
        Ok(needed)
    };
    let fetched = fetch(&reference, options, cache, expected.as_ref(), &needs)?;
    super::verify::gate_after_fetch(&reference, cache, requirement, &fetched)?;
    let Fetched { mut store, resolved, .. } = fetched;
    let config = &resolved.manifest.config;
    let wasm_config = if config.media_type == WASM_CONFIG {
        if config.size > CONFIG_MAX_BYTES {
            return Err(Error::SizeLimitExceeded {
                what: format!("config {} of {reference}", config.digest),
                limit: CONFIG_MAX_BYTES,
            });
        }
        let mut bytes = Vec::new();
        store.blob_get(config, &mut bytes)?;
        Some(serde_json::from_slice::<WasmConfig>(&bytes).map_err(|e| {
            Error::InvalidInput(format!("config {} of {reference} is not a valid Wasm config: {e}", config.digest))
        })?)
    } else {
        None
    };
    let provider = match provider_layer(&resolved.manifest) {
        Some(layer) => {
            let what = format!("the provider archive of {reference}");
            let reader = store.blob_open(layer)?;
            let read = read_archive(std::io::BufReader::with_capacity(256 * 1024, reader), &what)?;
            Some(ProviderReport::of(&read.archive, read.compressed)?)
        }
        None => None,
    };
    Ok(ArtifactInfo {
        reference: reference.to_string(),
        manifest: resolved.top.descriptor(),
        config: config.clone(),
        layers: resolved.manifest.layers.clone(),
        annotations: resolved.manifest.annotations.clone().unwrap_or_default(),
        wasm_config,
        provider,
    })
}
