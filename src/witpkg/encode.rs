//! `wit build`: the local WIT package (resolved against its `deps`, or
//! against dependencies resolved in memory) encoded as a binary WIT package
//! with `wit_component::encode`, stamped with wasm-metadata (name, version,
//! and what the project configures).

use std::path::Path;

use wasm_metadata::{AddMetadata, AddMetadataField};
use wit_parser::{PackageId, Resolve};

use super::name::PackageSpec;
use super::{parse_failure, resolve_dir};
use crate::error::{Error, Result};

/// Descriptive metadata for a built package (from `wasmship.toml` or `wkg.toml`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageMetadata {
    pub description: Option<String>,
    pub authors: Option<String>,
    pub licenses: Option<String>,
    pub source: Option<String>,
    pub homepage: Option<String>,
    pub revision: Option<String>,
}

/// A built package.
#[derive(Debug, Clone)]
pub struct Built {
    /// The package's name and version (`ns:name@1.2.3`).
    pub spec: PackageSpec,
    pub bytes: Vec<u8>,
}

/// Encode the package in `wit_dir` (with `wit_dir/deps`) as a binary WIT
/// package, stamped with `metadata`.
pub fn build(wit_dir: &Path, metadata: &PackageMetadata) -> Result<Built> {
    let (spec, bytes) = encode_dir(wit_dir)?;
    let bytes = stamp(&bytes, &spec, metadata)?;
    Ok(Built { spec, bytes })
}

/// Encode `package` of `resolve` (the package in `wit_dir`, resolved against
/// dependencies held in memory) as [`build`] does.
pub fn build_resolved(
    resolve: &Resolve,
    package: PackageId,
    wit_dir: &Path,
    metadata: &PackageMetadata,
) -> Result<Built> {
    let (spec, bytes) = encode_package(resolve, package, wit_dir)?;
    let bytes = stamp(&bytes, &spec, metadata)?;
    Ok(Built { spec, bytes })
}

/// Encode the package in `wit_dir` (with `wit_dir/deps`) as binary WIT, as
/// it is: the package's name and version, and the bytes. A provider's
/// `world.wasm` is this, as `wash par create --wit-directory` embeds it
/// (without the wasm-metadata `wit build` stamps on published packages).
pub fn encode_dir(wit_dir: &Path) -> Result<(PackageSpec, Vec<u8>)> {
    let (resolve, package) = resolve_dir(wit_dir)?;
    encode_package(&resolve, package, wit_dir)
}

fn encode_package(resolve: &Resolve, package: PackageId, wit_dir: &Path) -> Result<(PackageSpec, Vec<u8>)> {
    let spec = PackageSpec::of(&resolve.packages[package].name);
    let bytes = wit_component::encode(resolve, package, false)
        .map_err(|e| parse_failure(&format!("encoding {spec} from {}", wit_dir.display()), &e))?;
    Ok((spec, bytes))
}

/// Add wasm-metadata to an encoded package.
pub fn stamp(bytes: &[u8], spec: &PackageSpec, metadata: &PackageMetadata) -> Result<Vec<u8>> {
    let invalid =
        |field: &str, e: &dyn std::fmt::Display| Error::InvalidInput(format!("package metadata {field}: {e:#}"));
    let mut add = AddMetadata::default();
    add.name = AddMetadataField::Set(spec.package.to_string());
    add.processed_by = vec![("wasmship".to_string(), env!("CARGO_PKG_VERSION").to_string())];
    if let Some(version) = &spec.version {
        add.version = AddMetadataField::Set(wasm_metadata::Version::new(version.to_string()));
    }
    let m = metadata;
    if let Some(v) = &m.description {
        add.description = AddMetadataField::Set(wasm_metadata::Description::new(v.clone()));
    }
    if let Some(v) = &m.authors {
        add.authors = AddMetadataField::Set(wasm_metadata::Authors::new(v.clone()));
    }
    if let Some(v) = &m.revision {
        add.revision = AddMetadataField::Set(wasm_metadata::Revision::new(v.clone()));
    }
    if let Some(v) = &m.licenses {
        add.licenses = AddMetadataField::Set(wasm_metadata::Licenses::new(v).map_err(|e| invalid("licenses", &e))?);
    }
    if let Some(v) = &m.source {
        add.source = AddMetadataField::Set(wasm_metadata::Source::new(v).map_err(|e| invalid("source", &e))?);
    }
    if let Some(v) = &m.homepage {
        add.homepage = AddMetadataField::Set(wasm_metadata::Homepage::new(v).map_err(|e| invalid("homepage", &e))?);
    }
    add.to_wasm(bytes).map_err(|e| Error::InvalidInput(format!("adding wasm-metadata to {spec}: {e:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_a_wit_directory_as_binary_wit() {
        let dir = std::env::temp_dir().join(format!("wasmship-wit-{:x}", crate::fsutil::random_u64()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("provider.wit"),
            "package acme:demo@0.1.0;\n\ninterface store {\n  get: func(key: string) -> option<string>;\n}\n\n\
             world provider {\n  export store;\n}\n",
        )
        .unwrap();
        let (_, bytes) = encode_dir(&dir).unwrap();
        assert!(bytes.starts_with(b"\0asm\x0d\0\x01\0"), "a component");
        let decoded = wit_component::decode(&bytes).unwrap();
        let resolve = decoded.resolve();
        let package = &resolve.packages[decoded.package()];
        assert_eq!(package.name.to_string(), "acme:demo@0.1.0");
        assert!(package.worlds.contains_key("provider"));

        std::fs::write(dir.join("provider.wit"), "package broken").unwrap();
        assert!(encode_dir(&dir).unwrap_err().to_string().contains("WIT in"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
