//! What a push leaves in the registry, read back over HTTP: the manifest, config and layer of
//! the CNCF Wasm OCI artifact with their media types, digests and sizes, the config JSON, and
//! the manifest annotations taken from wasm-metadata and from `--annotation`.

use serde_json::Value;

use crate::util::{
    DEMO_EXPORT, DEMO_IMPORT, DEMO_METADATA, EPOCH, EPOCH_RFC3339_PREFIX, OCI_MANIFEST, Registry, TestDir, WASM_CONFIG,
    WASM_LAYER, core_module, demo_component, is_rfc3339, parse_json, sha256_digest, str_field, str_list, u64_field,
};

/// The manifest, parsed config and layer descriptor of `repo:tag`, after checking that the
/// manifest names one config and one layer whose digests and sizes match the stored blobs.
struct Stored {
    manifest: Value,
    config: Value,
    layer: Value,
}

fn read_artifact(reg: &Registry, repo: &str, tag: &str, layer_bytes: &[u8]) -> Stored {
    let served = reg.manifest(repo, tag).expect("the tag exists");
    assert_eq!(served.content_type, OCI_MANIFEST);
    let manifest = parse_json("manifest", &served.bytes);
    assert_eq!(manifest["schemaVersion"], 2, "{manifest:#}");
    assert_eq!(str_field(&manifest, "mediaType"), OCI_MANIFEST);

    let config_desc = &manifest["config"];
    assert_eq!(str_field(config_desc, "mediaType"), WASM_CONFIG);
    let config_digest = str_field(config_desc, "digest");
    let config_bytes = reg.blob(repo, config_digest).expect("the config blob exists");
    assert_eq!(sha256_digest(&config_bytes), config_digest);
    assert_eq!(u64_field(config_desc, "size"), config_bytes.len() as u64);

    let layers = manifest["layers"].as_array().expect("layers is a list");
    assert_eq!(layers.len(), 1, "exactly one layer: {manifest:#}");
    let layer = layers[0].clone();
    assert_eq!(str_field(&layer, "mediaType"), WASM_LAYER);
    assert_eq!(str_field(&layer, "digest"), sha256_digest(layer_bytes));
    assert_eq!(u64_field(&layer, "size"), layer_bytes.len() as u64);
    assert_eq!(reg.blob(repo, str_field(&layer, "digest")).as_deref(), Some(layer_bytes));

    Stored { config: parse_json("config", &config_bytes), manifest, layer }
}

#[test]
fn component_artifact_follows_the_wasm_oci_spec() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = demo_component();
    dir.write("greeter.wasm", &wasm);
    dir.run_env(&["push", &reg.reference("demo/spec:1.2.3"), "greeter.wasm"], &[("SOURCE_DATE_EPOCH", EPOCH)])
        .success();

    let stored = read_artifact(&reg, "demo/spec", "1.2.3", &wasm);
    let config = &stored.config;
    assert_eq!(str_field(config, "architecture"), "wasm");
    assert_eq!(str_field(config, "os"), "wasip2");
    assert_eq!(str_list(config, "layerDigests"), vec![sha256_digest(&wasm)], "{config:#}");
    let created = str_field(config, "created");
    assert!(is_rfc3339(created), "created is not RFC 3339: {created}");
    assert!(created.starts_with(EPOCH_RFC3339_PREFIX), "created {created} does not honour SOURCE_DATE_EPOCH={EPOCH}");
    let component = &config["component"];
    assert_eq!(str_list(component, "exports"), vec![DEMO_EXPORT]);
    assert_eq!(str_list(component, "imports"), vec![DEMO_IMPORT]);

    assert_eq!(stored.layer["annotations"]["org.opencontainers.image.title"], "greeter.wasm");
    let annotations = &stored.manifest["annotations"];
    assert!(
        annotations["org.opencontainers.image.created"].as_str().is_some_and(|c| c.starts_with(EPOCH_RFC3339_PREFIX)),
        "manifest created annotation: {annotations:#}"
    );
    for (key, value) in DEMO_METADATA {
        assert_eq!(annotations[key], value, "annotation {key} in {annotations:#}");
    }
}

#[test]
fn annotation_flags_add_to_and_override_the_metadata() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    dir.run(&[
        "push",
        &reg.reference("demo/annotated:1.0.0"),
        "demo.wasm",
        "-a",
        "com.example.team=blue",
        "--annotation",
        "org.opencontainers.image.description=Overridden on the command line",
        "-a",
        "com.example.equation=a=b",
    ])
    .success();

    let manifest = reg.manifest_json("demo/annotated", "1.0.0");
    let annotations = &manifest["annotations"];
    assert_eq!(annotations["com.example.team"], "blue", "{annotations:#}");
    assert_eq!(
        annotations["com.example.equation"], "a=b",
        "only the first `=` separates key and value: {annotations:#}"
    );
    assert_eq!(annotations["org.opencontainers.image.description"], "Overridden on the command line");
    assert_eq!(annotations["org.opencontainers.image.version"], "1.2.3", "{annotations:#}");
    let created = annotations["org.opencontainers.image.created"].as_str().unwrap_or_default();
    assert!(is_rfc3339(created), "created annotation: {annotations:#}");
}

#[test]
fn core_module_is_wasip1_without_component_section() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let module = core_module();
    dir.write("module.wasm", &module);
    dir.run(&["push", &reg.reference("demo/module:0.1.0"), "module.wasm"]).success();

    let stored = read_artifact(&reg, "demo/module", "0.1.0", &module);
    let config = &stored.config;
    assert_eq!(str_field(config, "os"), "wasip1");
    assert_eq!(str_field(config, "architecture"), "wasm");
    assert_eq!(str_list(config, "layerDigests"), vec![sha256_digest(&module)]);
    assert!(config.get("component").is_none(), "a core module has no `component` key: {config:#}");
    assert_eq!(stored.layer["annotations"]["org.opencontainers.image.title"], "module.wasm");
}
