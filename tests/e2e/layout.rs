//! `oci-layout://DIR:TAG` references: what a push writes into an OCI image layout (the
//! `oci-layout` marker, `index.json` with ref names, content-addressed blobs), round trips
//! through it with relative and absolute directories, retagging, inspect, and a tampered blob
//! that a pull must reject without leaving a file.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::util::{
    DEMO_EXPORT, OCI_MANIFEST, TestDir, WASM_CONFIG, WASM_LAYER, core_module, demo_component, digest_hex, parse_json,
    sha256_digest, str_field, str_list, u64_field,
};

const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The parsed `index.json` of the layout at `root`.
fn index(root: &Path) -> Value {
    parse_json("index.json", &fs::read(root.join("index.json")).expect("index.json exists"))
}

/// The index entries whose ref name is `tag`.
fn entries_for<'a>(index: &'a Value, tag: &str) -> Vec<&'a Value> {
    index["manifests"]
        .as_array()
        .expect("manifests is a list")
        .iter()
        .filter(|m| m["annotations"][REF_NAME] == tag)
        .collect()
}

/// The bytes of blob `digest` in the layout at `root`.
fn blob(root: &Path, digest: &str) -> Vec<u8> {
    let path = root.join("blobs/sha256").join(digest_hex(digest));
    fs::read(&path).unwrap_or_else(|e| panic!("blob {}: {e}", path.display()))
}

#[test]
fn push_writes_a_valid_layout_and_pull_round_trips() {
    let dir = TestDir::new();
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);

    let push = dir.run(&["push", "oci-layout://store:v1", "demo.wasm", "-o", "json"]).success();
    let digest = str_field(&push.stdout_json(), "digest").to_owned();
    let root = dir.path("store");

    let marker = parse_json("oci-layout", &fs::read(root.join("oci-layout")).expect("oci-layout exists"));
    assert_eq!(marker["imageLayoutVersion"], "1.0.0", "{marker:#}");

    let index = index(&root);
    assert_eq!(index["schemaVersion"], 2, "{index:#}");
    let entries = entries_for(&index, "v1");
    assert_eq!(entries.len(), 1, "one entry named v1: {index:#}");
    assert_eq!(str_field(entries[0], "mediaType"), OCI_MANIFEST);
    assert_eq!(str_field(entries[0], "digest"), digest);

    for entry in fs::read_dir(root.join("blobs/sha256")).expect("blobs/sha256 exists") {
        let path = entry.expect("blob entry").path();
        let name = path.file_name().expect("file name").to_string_lossy();
        let bytes = fs::read(&path).expect("read blob");
        assert_eq!(sha256_digest(&bytes), format!("sha256:{name}"), "blob {} does not match its name", path.display());
    }

    let manifest_bytes = blob(&root, &digest);
    assert_eq!(u64_field(entries[0], "size"), manifest_bytes.len() as u64);
    let manifest = parse_json("manifest", &manifest_bytes);
    assert_eq!(str_field(&manifest["config"], "mediaType"), WASM_CONFIG);
    let config = parse_json("config", &blob(&root, str_field(&manifest["config"], "digest")));
    assert_eq!(str_list(&config["component"], "exports"), vec![DEMO_EXPORT]);
    assert_eq!(str_field(&manifest["layers"][0], "mediaType"), WASM_LAYER);
    assert_eq!(blob(&root, str_field(&manifest["layers"][0], "digest")), wasm);

    dir.run(&["pull", "oci-layout://store:v1", "--destination", "back.wasm"]).success();
    assert_eq!(dir.read("back.wasm"), wasm);
}

#[test]
fn absolute_layout_directories_work() {
    let dir = TestDir::new();
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let store = dir.root().join("elsewhere/store");
    let reference = format!("oci-layout://{}:1.0.0", store.display());

    dir.run(&["push", &reference, "demo.wasm"]).success();
    assert!(store.join("index.json").is_file(), "the layout was not written at {}", store.display());
    assert!(!dir.path("elsewhere").exists());

    dir.run(&["pull", &reference, "--destination", "out.wasm"]).success();
    assert_eq!(dir.read("out.wasm"), wasm);
}

#[test]
fn tags_share_blobs_and_retagging_replaces_the_entry() {
    let dir = TestDir::new();
    let wasm = demo_component();
    let module = core_module();
    dir.write("demo.wasm", &wasm);
    dir.write("module.wasm", &module);
    let root = dir.path("store");

    dir.run(&["push", "oci-layout://store:a", "demo.wasm"]).success();
    dir.run(&["push", "oci-layout://store:b", "demo.wasm"]).success();
    let both = index(&root);
    assert_eq!(entries_for(&both, "a").len(), 1, "{both:#}");
    assert_eq!(entries_for(&both, "b").len(), 1, "{both:#}");
    assert!(root.join("blobs/sha256").join(digest_hex(&sha256_digest(&wasm))).is_file());

    let push = dir.run(&["push", "oci-layout://store:a", "module.wasm", "-o", "json"]).success();
    let retagged = str_field(&push.stdout_json(), "digest").to_owned();
    let after = index(&root);
    let a = entries_for(&after, "a");
    assert_eq!(a.len(), 1, "retagging keeps one entry for `a`: {after:#}");
    assert_eq!(str_field(a[0], "digest"), retagged);
    assert_eq!(entries_for(&after, "b").len(), 1, "{after:#}");

    dir.run(&["pull", "oci-layout://store:a", "--destination", "a.wasm"]).success();
    assert_eq!(dir.read("a.wasm"), module);
    dir.run(&["pull", "oci-layout://store:b", "--destination", "b.wasm"]).success();
    assert_eq!(dir.read("b.wasm"), wasm);
}

#[test]
fn inspect_reads_a_layout() {
    let dir = TestDir::new();
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let push = dir.run(&["push", "oci-layout://store:v1", "demo.wasm", "-o", "json"]).success();
    let digest = str_field(&push.stdout_json(), "digest").to_owned();

    let out = dir.run(&["inspect", "oci-layout://store:v1", "-o", "json"]).success().stdout_json();
    assert_eq!(str_field(&out, "digest"), digest);
    assert_eq!(str_field(&out, "os"), "wasip2");
    assert_eq!(str_field(&out["layers"][0], "digest"), sha256_digest(&wasm));
    assert_eq!(str_list(&out["component"], "exports"), vec![DEMO_EXPORT]);
}

#[test]
fn tampered_layer_in_a_layout_is_rejected() {
    let dir = TestDir::new();
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    dir.run(&["push", "oci-layout://store:v1", "demo.wasm"]).success();

    let layer = dir.path("store/blobs/sha256").join(digest_hex(&sha256_digest(&wasm)));
    let mut bad = fs::read(&layer).expect("the layer blob exists");
    bad[8] ^= 0x55;
    fs::write(&layer, &bad).expect("tamper with the layer");
    let before = dir.listing();

    let run = dir.run(&["pull", "oci-layout://store:v1", "--destination", "out.wasm"]).failure();
    assert!(!run.stderr.trim().is_empty(), "no error message: {run}");
    assert_eq!(dir.listing(), before, "a rejected pull left files behind");
}

/// Makes a FIFO at `path` (replacing what is there).
fn fifo(path: &Path) {
    let _ = fs::remove_file(path);
    let status = std::process::Command::new("mkfifo").arg(path).status().expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Issue 11: a FIFO planted as a layout's `index.json` or as a blob hung every reader
/// forever, and a device as the file to push was read until memory ran out. Anything but a
/// regular file is refused before it is opened.
#[test]
fn pipes_and_devices_are_refused_not_read() {
    let dir = TestDir::new();
    dir.write("demo.wasm", &demo_component());
    dir.run(&["push", "oci-layout://layout:1", "demo.wasm"]).success();
    let layer = sha256_digest(&demo_component());
    fifo(&dir.path("layout/blobs/sha256").join(digest_hex(&layer)));
    let pull = dir.run(&["pull", "oci-layout://layout:1", "-d", "out.wasm"]).failure();
    assert!(pull.stderr.contains("not a regular file"), "{pull}");
    assert!(!dir.path("out.wasm").exists());

    fifo(&dir.path("layout/index.json"));
    let inspect = dir.run(&["inspect", "oci-layout://layout:1"]).failure();
    assert!(inspect.stderr.contains("not a regular file"), "{inspect}");

    let device = dir.run(&["push", "oci-layout://other:1", "/dev/zero"]).failure();
    assert!(device.stderr.contains("not a regular file"), "{device}");
}
