//! The CNCF Wasm OCI artifact for one analysed Wasm file: the config
//! (`application/vnd.wasm.config.v0+json`), one `application/wasm` layer with
//! its title, and the manifest with annotations from wasm-metadata and the
//! user. The same inputs always give the same bytes.

use std::collections::BTreeMap;

use super::wasm_file::{WasmFile, WasmKind};
use crate::oci::annotations as keys;
use crate::oci::config::{ARCHITECTURE_WASM, OS_WASIP1, OS_WASIP2};
use crate::oci::media_type::{WASM_CONFIG, WASM_LAYER};
use crate::oci::{ComponentInfo, Descriptor, Digest, ImageManifest, RawManifest, WasmConfig};

/// Inputs of an artifact besides the file itself.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// File name recorded as the layer's title.
    pub file_name: String,
    /// RFC 3339 creation time (from `SOURCE_DATE_EPOCH` for reproducible pushes).
    pub created: String,
    /// User annotations; they override those read from the file.
    pub annotations: Vec<(String, String)>,
}

/// Everything to upload for one artifact.
#[derive(Debug, Clone)]
pub struct ArtifactPlan {
    pub config: Vec<u8>,
    pub config_descriptor: Descriptor,
    pub layer_descriptor: Descriptor,
    pub manifest: RawManifest,
}

impl ArtifactPlan {
    /// The plan of a single-layer artifact: `config` (of `config_media_type`),
    /// the layer `layer` titled `file_name`, and the manifest's `annotations`.
    pub fn single_layer(
        config_media_type: &str,
        config: Vec<u8>,
        mut layer: Descriptor,
        file_name: &str,
        annotations: BTreeMap<String, String>,
    ) -> ArtifactPlan {
        let config_descriptor = Descriptor::new(config_media_type, Digest::sha256_of(&config), config.len() as u64);
        layer.annotations = Some(BTreeMap::from([(keys::TITLE.to_string(), file_name.to_string())]));
        let manifest = ImageManifest::single_layer(config_descriptor.clone(), layer.clone(), annotations).to_raw();
        ArtifactPlan { config, config_descriptor, layer_descriptor: layer, manifest }
    }
}

/// Build config and manifest for `file`.
pub fn build_artifact(file: &WasmFile, options: &BuildOptions) -> ArtifactPlan {
    let (os, component) = match file.kind {
        WasmKind::Component => (
            OS_WASIP2,
            Some(ComponentInfo { exports: file.exports.clone(), imports: file.imports.clone(), target: None }),
        ),
        WasmKind::Module => (OS_WASIP1, None),
    };
    let config = WasmConfig {
        created: Some(options.created.clone()),
        author: file.metadata.authors.clone(),
        architecture: ARCHITECTURE_WASM.to_string(),
        os: os.to_string(),
        layer_digests: vec![file.digest.clone()],
        component,
    }
    .to_bytes();
    let layer = Descriptor::new(WASM_LAYER, file.digest.clone(), file.size);
    ArtifactPlan::single_layer(WASM_CONFIG, config, layer, &options.file_name, manifest_annotations(file, options))
}

fn manifest_annotations(file: &WasmFile, options: &BuildOptions) -> BTreeMap<String, String> {
    let m = &file.metadata;
    let mut annotations = BTreeMap::new();
    let from_metadata = [
        (keys::VERSION, &m.version),
        (keys::DESCRIPTION, &m.description),
        (keys::LICENSES, &m.licenses),
        (keys::SOURCE, &m.source),
        (keys::URL, &m.homepage),
        (keys::AUTHORS, &m.authors),
        (keys::REVISION, &m.revision),
    ];
    for (key, value) in from_metadata {
        if let Some(value) = value {
            annotations.insert(key.to_string(), value.clone());
        }
    }
    annotations.insert(keys::CREATED.to_string(), options.created.clone());
    for (key, value) in &options.annotations {
        annotations.insert(key.clone(), value.clone());
    }
    annotations
}

/// Format seconds since the Unix epoch as RFC 3339 UTC (`1970-01-01T00:00:00Z`).
pub fn rfc3339_utc(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rem = seconds % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, (rem / 60) % 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::wasm_file::WasmMetadata;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    fn component() -> WasmFile {
        WasmFile {
            kind: WasmKind::Component,
            imports: vec!["wasi:http/outgoing-handler@0.2.12".into()],
            exports: vec!["wasi:cli/run@0.2.12".into(), "example:demo/greet@0.1.0".into()],
            metadata: WasmMetadata {
                version: Some("0.1.0".into()),
                description: Some("demo".into()),
                licenses: Some("Apache-2.0".into()),
                ..Default::default()
            },
            digest: Digest::sha256_of(b"component bytes"),
            size: 15,
        }
    }

    fn options() -> BuildOptions {
        BuildOptions {
            file_name: "demo.wasm".into(),
            created: rfc3339_utc(1_700_000_000),
            annotations: vec![("org.opencontainers.image.description".into(), "from -a".into())],
        }
    }

    /// The encoded config and manifest are pinned in `testdata/artifact/`;
    /// `BLESS=1 cargo test` rewrites them after an intended change.
    #[test]
    fn component_artifact_matches_expected_files() {
        let plan = build_artifact(&component(), &options());
        check_expected("component.config.json", &plan.config);
        check_expected("component.manifest.json", &plan.manifest.bytes);
        assert_eq!(plan.manifest.digest, Digest::sha256_of(&plan.manifest.bytes));
    }

    #[test]
    fn core_module_artifact_matches_expected_files() {
        let mut module = component();
        module.kind = WasmKind::Module;
        module.imports.clear();
        module.exports.clear();
        let plan = build_artifact(&module, &options());
        check_expected("module.config.json", &plan.config);
    }

    #[test]
    fn same_inputs_give_the_same_digest() {
        let a = build_artifact(&component(), &options());
        let b = build_artifact(&component(), &options());
        assert_eq!(a.manifest.digest, b.manifest.digest);
        let mut later = options();
        later.created = rfc3339_utc(1_700_000_001);
        assert_ne!(build_artifact(&component(), &later).manifest.digest, a.manifest.digest);
    }

    fn check_expected(name: &str, actual: &[u8]) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/artifact").join(name);
        if std::env::var_os("BLESS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, actual).unwrap();
        }
        let expected = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run with BLESS=1)", path.display()));
        assert_eq!(String::from_utf8_lossy(actual), String::from_utf8_lossy(&expected), "{} differs", path.display());
    }
}
