//! `wasmship copy`: between repositories of one registry (cross-repository mounts, no blob
//! transfer), registry → OCI layout → registry, with the manifest digest preserved everywhere.

use crate::util::{Registry, TestDir, demo_component, digest_hex, sha256_digest, str_field, u64_field};

#[test]
fn copy_within_a_registry_mounts_blobs_and_keeps_the_digest() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    dir.write("demo.wasm", &demo_component());
    dir.run(&["push", &reg.reference("src/app:1.0.0"), "demo.wasm"]).success();
    let source = reg.manifest("src/app", "1.0.0").expect("pushed");
    let before = reg.requests().len();

    let out = dir
        .run(&["copy", &reg.reference("src/app:1.0.0"), &reg.reference("dst/app:2.0.0"), "-o", "json"])
        .success()
        .stdout_json();

    let copied = reg.manifest("dst/app", "2.0.0").expect("the destination tag exists");
    assert_eq!(copied.bytes, source.bytes, "manifest bytes preserved");
    assert_eq!(str_field(&out, "digest"), source.digest);
    assert_eq!(u64_field(&out, "mountedBlobs"), 2, "{out:#}");
    assert_eq!(u64_field(&out, "copiedBlobs"), 0, "{out:#}");
    let requests = reg.requests();
    let new = &requests[before..];
    assert!(
        new.iter().filter(|r| r.method == "POST" && r.path.contains("mount=")).count() == 2,
        "two mount requests expected: {new:#?}"
    );
    assert!(!new.iter().any(|r| r.method == "PUT" && r.path.contains("/blobs/uploads/")), "no blob body was uploaded");
    assert!(!new.iter().any(|r| r.method == "GET" && r.path.contains("/blobs/")), "no blob was downloaded");
    let layer = &reg.manifest_json("dst/app", "2.0.0")["layers"][0]["digest"];
    let layer = layer.as_str().expect("layer digest");
    assert_eq!(reg.blob("dst/app", layer).expect("layer in the destination"), demo_component());
}

#[test]
fn copy_through_an_oci_layout_and_back_preserves_everything() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    dir.run(&["push", &reg.reference("demo/roundtrip:0.3.0"), "demo.wasm"]).success();
    let source = reg.manifest("demo/roundtrip", "0.3.0").expect("pushed");

    dir.run(&["copy", &reg.reference("demo/roundtrip:0.3.0"), "oci-layout://exported"]).success();
    let manifest_file = dir.read(&format!("exported/blobs/sha256/{}", digest_hex(&source.digest)));
    assert_eq!(manifest_file, source.bytes, "the layout holds the same manifest bytes");
    assert_eq!(
        sha256_digest(&dir.read(&format!("exported/blobs/sha256/{}", digest_hex(&sha256_digest(&wasm))))),
        sha256_digest(&wasm)
    );

    dir.run(&["copy", "oci-layout://exported:0.3.0", &reg.reference("demo/imported:0.3.0")]).success();
    let imported = reg.manifest("demo/imported", "0.3.0").expect("copied back");
    assert_eq!(imported.digest, source.digest);

    dir.run(&["pull", &reg.reference("demo/imported:0.3.0"), "-d", "back.wasm"]).success();
    assert_eq!(dir.read("back.wasm"), wasm);

    // A second copy finds everything present and uploads nothing.
    let before = reg.requests().len();
    let out = dir
        .run(&["copy", "oci-layout://exported:0.3.0", &reg.reference("demo/imported:0.3.0"), "-o", "json"])
        .success()
        .stdout_json();
    assert_eq!(u64_field(&out, "skippedBlobs"), 2, "{out:#}");
    let requests = reg.requests();
    assert!(!requests[before..].iter().any(|r| r.is_blob_upload()), "nothing re-uploaded: {:#?}", &requests[before..]);
}

#[test]
fn copy_refuses_a_source_tampered_in_a_layout() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    dir.run(&["push", "oci-layout://store:1.0.0", "demo.wasm"]).success();
    let layer = format!("store/blobs/sha256/{}", digest_hex(&sha256_digest(&wasm)));
    let mut tampered = wasm.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    dir.write(&layer, &tampered);

    let run = dir.run(&["copy", "oci-layout://store:1.0.0", &reg.reference("demo/tampered:1.0.0")]).failure();
    assert!(run.stderr.contains("digest mismatch") || run.stderr.contains("digest"), "{run}");
    assert!(reg.manifest("demo/tampered", "1.0.0").is_none(), "no manifest may point at a bad blob");
    assert!(reg.blob("demo/tampered", &sha256_digest(&wasm)).is_none(), "the tampered layer was not stored");
}

#[test]
fn copy_between_registries_streams_the_bytes_and_names_a_source_that_serves_wrong_ones() {
    let dir = TestDir::new();
    let source = Registry::start(&dir);
    let target = Registry::start(&dir);
    let wasm = demo_component();
    let layer = sha256_digest(&wasm);
    dir.write("demo.wasm", &wasm);
    dir.run(&["push", &source.reference("demo/app:1.0.0"), "demo.wasm"]).success();

    // Registry to registry, the layer checked by the target only: the same bytes and digests.
    dir.run(&["copy", &source.reference("demo/app:1.0.0"), &target.reference("demo/app:1.0.0")]).success();
    let copied = target.manifest("demo/app", "1.0.0").expect("copied");
    assert_eq!(copied.digest, source.manifest("demo/app", "1.0.0").expect("pushed").digest);
    assert_eq!(target.blob("demo/app", &layer).as_deref(), Some(wasm.as_slice()));

    // The source now serves other bytes of the same size under the layer's digest.
    let data = source.blob_data_path(&layer);
    let mut bad = std::fs::read(&data).expect("the layer is stored on disk");
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    std::fs::write(&data, &bad).expect("tamper with the stored layer");

    let run = dir.run(&["copy", &source.reference("demo/app:1.0.0"), &target.reference("demo/other:1.0.0")]).failure();
    assert!(run.stderr.contains("digest mismatch"), "the source's bytes are named as wrong: {run}");
    assert!(run.stderr.contains(&format!("demo/app@{layer}")), "the source blob is named: {run}");
    assert!(target.manifest("demo/other", "1.0.0").is_none(), "no manifest may point at a bad blob");
    assert!(target.blob("demo/other", &layer).is_none(), "the target refused the wrong bytes");
}
