//! `wasmship inspect`: the JSON report of a pushed artifact (manifest, config and layer
//! descriptors, annotations, platform and the component's imports and exports), read without
//! downloading the layer.

use crate::util::{
    DEMO_EXPORT, DEMO_IMPORT, EPOCH, EPOCH_RFC3339_PREFIX, OCI_MANIFEST, Registry, TestDir, WASM_CONFIG, WASM_LAYER,
    demo_component, parse_json, sha256_digest, str_field, str_list, u64_field,
};

#[test]
fn inspect_reports_the_artifact_without_fetching_the_layer() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = demo_component();
    let layer_digest = sha256_digest(&wasm);
    dir.write("demo.wasm", &wasm);
    let reference = reg.reference("demo/inspected:1.2.3");
    dir.run_env(&["push", &reference, "demo.wasm"], &[("SOURCE_DATE_EPOCH", EPOCH)]).success();
    let mark = reg.requests().len();

    let run = dir.run(&["inspect", &reference, "-o", "json"]).success();
    let requests = reg.requests();
    let during = &requests[mark..];
    assert!(!during.iter().any(|r| r.is_blob_get(&layer_digest)), "inspect downloaded the layer: {during:#?}");
    assert!(
        during.iter().any(|r| r.method == "GET" && r.status == 200),
        "inspect read nothing from the registry: {during:#?}"
    );

    let served = reg.manifest("demo/inspected", "1.2.3").expect("pushed");
    let manifest = parse_json("manifest", &served.bytes);
    let out = run.stdout_json();
    assert_eq!(str_field(&out, "reference"), reference);
    assert_eq!(str_field(&out, "digest"), sha256_digest(&served.bytes));
    assert_eq!(str_field(&out, "mediaType"), OCI_MANIFEST);
    assert_eq!(u64_field(&out, "size"), served.bytes.len() as u64);

    let config = &out["config"];
    assert_eq!(str_field(config, "mediaType"), WASM_CONFIG);
    assert_eq!(str_field(config, "digest"), str_field(&manifest["config"], "digest"));
    assert_eq!(u64_field(config, "size"), u64_field(&manifest["config"], "size"));

    let layers = out["layers"].as_array().expect("layers is a list");
    assert_eq!(layers.len(), 1, "{out:#}");
    assert_eq!(str_field(&layers[0], "mediaType"), WASM_LAYER);
    assert_eq!(str_field(&layers[0], "digest"), layer_digest);
    assert_eq!(u64_field(&layers[0], "size"), wasm.len() as u64);
    assert_eq!(layers[0]["annotations"]["org.opencontainers.image.title"], "demo.wasm");

    assert_eq!(out["annotations"], manifest["annotations"], "{out:#}");
    assert_eq!(str_field(&out, "os"), "wasip2");
    assert_eq!(str_field(&out, "architecture"), "wasm");
    assert!(str_field(&out, "created").starts_with(EPOCH_RFC3339_PREFIX), "{out:#}");
    assert_eq!(str_list(&out["component"], "exports"), vec![DEMO_EXPORT]);
    assert_eq!(str_list(&out["component"], "imports"), vec![DEMO_IMPORT]);
}

#[test]
fn inspect_of_a_missing_tag_fails() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let run = dir.run(&["inspect", &reg.reference("demo/absent:1.0.0"), "-o", "json"]).failure();
    let err = run.stderr_json();
    assert_eq!(err["success"], false, "{err:#}");
    assert!(!str_field(&err, "error").is_empty());
}
