//! Push and pull against a real registry: byte-identical round trips (up to a 20 MB
//! component), the text and JSON outputs, reproducible digests under `SOURCE_DATE_EPOCH`,
//! skipping blobs the registry already has, chunked uploads, and pulls that must fail without
//! leaving a file behind.

use crate::util::{
    EPOCH, Registry, TestDir, big_component, blob_uploads, demo_component, digest_hex, manifest_puts,
    packager_component, sha256_digest, str_field, u64_field,
};

/// Pushes the demo component (as `demo.wasm`) to `repo_tag` and returns the manifest digest
/// the registry holds for the tag.
fn push_demo(dir: &TestDir, reg: &Registry, repo_tag: &str, env: &[(&str, &str)]) -> String {
    dir.write("demo.wasm", &demo_component());
    dir.run_env(&["push", &reg.reference(repo_tag), "demo.wasm"], env).success();
    let (repo, tag) = repo_tag.rsplit_once(':').expect("repo:tag");
    reg.manifest(repo, tag).unwrap_or_else(|| panic!("{repo_tag} is not in the registry after a push")).digest
}

#[test]
fn push_then_pull_round_trips_the_bytes() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);

    let push = dir.run(&["push", &reg.reference("demo/greeter:1.2.3"), "demo.wasm"]).success();
    let served = reg.manifest("demo/greeter", "1.2.3").expect("the tag exists after the push");
    assert_eq!(served.digest, sha256_digest(&served.bytes));
    assert_eq!(push.stdout.trim(), format!("1.2.3: digest: {}", served.digest), "text output of {push}");

    dir.run(&["pull", &reg.reference("demo/greeter:1.2.3"), "--destination", "pulled.wasm"]).success();
    assert_eq!(dir.read("pulled.wasm"), wasm);
}

#[test]
fn json_outputs_describe_what_was_stored() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let reference = reg.reference("demo/json:0.1.0");

    let push = dir.run(&["push", &reference, "demo.wasm", "-o", "json"]).success();
    let out = push.stdout_json();
    let served = reg.manifest("demo/json", "0.1.0").expect("pushed");
    assert_eq!(str_field(&out, "reference"), reference);
    assert_eq!(str_field(&out, "tag"), "0.1.0");
    assert_eq!(str_field(&out, "digest"), sha256_digest(&served.bytes));
    assert_eq!(u64_field(&out, "size"), served.bytes.len() as u64);

    let pull = dir.run(&["pull", &reference, "--destination", "out.wasm", "--output", "json"]).success();
    let out = pull.stdout_json();
    assert_eq!(out["success"], serde_json::Value::Bool(true), "{out:#}");
    assert_eq!(str_field(&out, "reference"), reference);
    assert_eq!(str_field(&out, "digest"), served.digest);
    assert_eq!(u64_field(&out, "size"), wasm.len() as u64);
    let file = dir.work().join(str_field(&out, "file"));
    assert_eq!(
        file.canonicalize().expect("the reported file exists"),
        dir.path("out.wasm").canonicalize().expect("out.wasm exists")
    );
    assert_eq!(dir.read("out.wasm"), wasm);
}

#[test]
fn pull_defaults_to_the_last_repository_segment() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    push_demo(&dir, &reg, "team/apps/hello-app:2.0.0", &[]);

    dir.run(&["pull", &reg.reference("team/apps/hello-app:2.0.0")]).success();
    assert_eq!(dir.read("hello-app.wasm"), demo_component());
}

#[test]
fn second_push_of_the_same_file_uploads_no_blob() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let env = [("SOURCE_DATE_EPOCH", EPOCH)];

    let first = push_demo(&dir, &reg, "demo/again:1.0.0", &env);
    let after_first = reg.requests();
    assert_eq!(
        blob_uploads(&after_first).iter().filter(|r| r.method == "PUT").count(),
        2,
        "the first push completes two uploads (config and layer): {after_first:#?}"
    );

    let second = push_demo(&dir, &reg, "demo/again:1.0.0", &env);
    let requests = reg.requests();
    let new = &requests[after_first.len()..];
    assert!(blob_uploads(new).is_empty(), "the second push uploaded blobs: {new:#?}");
    assert_eq!(manifest_puts(new).len(), 1, "{new:#?}");
    assert_eq!(first, second);
}

#[test]
fn a_new_created_date_uploads_the_config_but_not_the_layer() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    push_demo(&dir, &reg, "demo/dates:1", &[("SOURCE_DATE_EPOCH", EPOCH)]);
    let mark = reg.requests().len();

    push_demo(&dir, &reg, "demo/dates:2", &[("SOURCE_DATE_EPOCH", "1800000000")]);
    let requests = reg.requests();
    let new = &requests[mark..];
    let completed: Vec<_> = blob_uploads(new).into_iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(completed.len(), 1, "only the new config is uploaded: {new:#?}");
    let layer = sha256_digest(&demo_component());
    assert!(!completed[0].path.contains(digest_hex(&layer)), "the layer was uploaded again: {new:#?}");
}

#[test]
fn same_bytes_and_source_date_epoch_give_the_same_digest() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let env = [("SOURCE_DATE_EPOCH", EPOCH)];

    let a = push_demo(&dir, &reg, "demo/repro:a", &env);
    let b = push_demo(&dir, &reg, "demo/repro:b", &env);
    assert_eq!(a, b, "same bytes and epoch must give the same manifest");

    let c = push_demo(&dir, &reg, "demo/repro:c", &[("SOURCE_DATE_EPOCH", "1800000000")]);
    assert_ne!(a, c, "another epoch must change `created` and so the digest");
}

#[test]
fn chunked_push_of_the_packager_round_trips() {
    const CHUNK: u64 = 65536;
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = packager_component().to_vec();
    dir.write("wasmship.wasm", &wasm);
    let reference = reg.reference("wasmship/chunked:0.1.0");

    dir.run(&["push", reference.as_str(), "wasmship.wasm", "--chunked", "--chunk-size", "65536"]).success();
    let requests = reg.requests();
    let patches = requests.iter().filter(|r| r.method == "PATCH" && r.is_blob_upload()).count() as u64;
    let layer_chunks = (wasm.len() as u64).div_ceil(CHUNK);
    assert!(layer_chunks >= 2, "the packager ({} bytes) should need several chunks", wasm.len());
    assert!(patches >= layer_chunks, "{patches} PATCH requests for a {}-byte layer in {CHUNK}-byte chunks", wasm.len());
    let layer = sha256_digest(&wasm);
    assert_eq!(reg.blob("wasmship/chunked", &layer), Some(wasm.clone()));

    dir.run(&["pull", &reference, "--destination", "back.wasm"]).success();
    assert_eq!(dir.read("back.wasm"), wasm);
}

#[test]
fn twenty_megabyte_component_round_trips() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = big_component(20 * 1024 * 1024);
    dir.write("big.wasm", &wasm);
    let reference = reg.reference("demo/big:1.0.0");

    dir.run(&["push", &reference, "big.wasm"]).success();
    assert_eq!(reg.blob("demo/big", &sha256_digest(&wasm)).as_deref(), Some(wasm.as_slice()));
    dir.run(&["pull", &reference, "--destination", "back.wasm"]).success();
    assert!(dir.read("back.wasm") == wasm, "the pulled bytes differ");
}

#[test]
fn pull_checks_the_expected_manifest_digest() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let digest = push_demo(&dir, &reg, "demo/pinned:1.0.0", &[]);
    let reference = reg.reference("demo/pinned:1.0.0");
    let before = dir.listing();

    let wrong = format!("sha256:{}", "0".repeat(64));
    dir.run(&["pull", &reference, "--digest", &wrong, "--destination", "x.wasm"]).failure();
    assert_eq!(dir.listing(), before, "a failed pull must leave no file");

    dir.run(&["pull", &reference, "--digest", &digest, "--destination", "x.wasm"]).success();
    assert_eq!(dir.read("x.wasm"), demo_component());
}

#[test]
fn pull_by_tag_and_digest_reference() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let digest = push_demo(&dir, &reg, "demo/bydigest:1.0.0", &[]);

    let reference = format!("{}@{digest}", reg.reference("demo/bydigest:1.0.0"));
    dir.run(&["pull", &reference, "--destination", "d.wasm"]).success();
    assert_eq!(dir.read("d.wasm"), demo_component());
}

#[test]
fn tampered_registry_blob_is_rejected() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    push_demo(&dir, &reg, "demo/tampered:1.0.0", &[]);
    let wasm = demo_component();
    let data = reg.blob_data_path(&sha256_digest(&wasm));
    let mut bad = std::fs::read(&data).expect("the layer is stored on disk");
    assert_eq!(bad, wasm);
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    std::fs::write(&data, &bad).expect("tamper with the stored layer");
    dir.write("keep.wasm", b"previous contents");
    let before = dir.listing();

    dir.run(&["pull", &reg.reference("demo/tampered:1.0.0"), "--destination", "keep.wasm"]).failure();
    assert_eq!(dir.listing(), before, "no file may be left behind");
    assert_eq!(dir.read("keep.wasm"), b"previous contents", "a failed pull must not touch an existing destination");

    dir.run(&["pull", &reg.reference("demo/tampered:1.0.0")]).failure();
    assert_eq!(dir.listing(), before, "no file may be left behind");
}

/// A component that is not valid (a name in its core module is not UTF-8) is refused by push
/// with one line from the validator, and nothing reaches the registry; a file that is not
/// WebAssembly at all is named as such, with its first bytes, in one line.
#[test]
fn push_refuses_invalid_wasm_in_one_line() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let marker = b"name-to-break";
    let mut wasm = wat::parse_str(r#"(component (core module (func (export "name-to-break"))))"#).unwrap();
    let at = wasm.windows(marker.len()).position(|w| w == marker).expect("the name is in the binary");
    wasm[at] = 0xff;
    wasm[at + 1] = 0xfe;
    dir.write("bad-name.wasm", &wasm);
    let push = dir.run(&["push", &reg.reference("demo/invalid:1.0.0"), "bad-name.wasm"]).failure();
    let lines: Vec<&str> = push.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{push}");
    assert!(
        lines[0].starts_with("error: bad-name.wasm is not a valid WebAssembly component: ")
            && lines[0].contains("UTF-8")
            && lines[0].contains("(at byte "),
        "{push}"
    );
    assert!(reg.requests().iter().all(|r| !r.path.contains("/demo/invalid/")), "nothing was sent: {push}");
    let tags = dir.run(&["tags", &reg.reference("demo/invalid")]);
    assert!(!tags.stdout.contains("1.0.0"), "{tags}");

    dir.write("script.wasm", b"#!/bin/sh\necho not wasm\n");
    let push = dir.run(&["push", &reg.reference("demo/invalid:1.0.1"), "script.wasm"]).failure();
    assert_eq!(
        push.stderr.trim_end(),
        "error: script.wasm is not a WebAssembly file (it starts with 23 21 2f 62 69 6e 2f 73 \"#!/bin/s\", \
         not the magic number 00 61 73 6d)",
        "{push}"
    );
}
