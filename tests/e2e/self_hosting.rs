//! The packager packages itself: `wasmship self path` names a real component, which is pushed
//! to a registry, pulled back byte-identical, and then run with `--component` to push and pull
//! again, so the published artifact is a working packager.

use std::fs;

use crate::util::{COMPONENT_HEADER, Registry, TestDir, demo_component, sha256_digest, str_field, str_list};

#[test]
fn self_path_names_the_packager_component() {
    let dir = TestDir::new();
    let path = dir.self_path();
    let bytes = fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert_eq!(bytes[..8], COMPONENT_HEADER, "not a component: {}", path.display());
    assert!(bytes.len() > 100_000, "the packager is only {} bytes", bytes.len());
    assert_eq!(bytes, crate::util::packager_component());
}

#[test]
fn pushed_packager_pulls_back_and_runs() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    // `$(wasmship self path)`: an absolute path outside the working directory.
    let packager = dir.self_path();
    let original = fs::read(&packager).expect("read the packager");
    let reference = reg.reference("wasmship/wasmship:0.1.0");

    dir.run(&["push", &reference, packager.to_str().expect("UTF-8 path")]).success();
    dir.run(&["pull", &reference, "--destination", "pulled.wasm"]).success();
    assert_eq!(dir.read("pulled.wasm"), original);

    let out = dir.run(&["inspect", &reference, "-o", "json"]).success().stdout_json();
    let exports = str_list(&out["component"], "exports");
    for expected in ["wasi:cli/run@0.2.12", "wasmship:packager/oci@0.1.0"] {
        assert!(exports.iter().any(|e| e == expected), "the packager should export {expected}: {exports:?}");
    }

    // The pulled copy, run as the packager, pushes and pulls another component ...
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let demo_ref = reg.reference("demo/by-pulled:1.0.0");
    let push = dir.run(&["--component", "pulled.wasm", "push", &demo_ref, "demo.wasm", "-o", "json"]).success();
    let served = reg.manifest("demo/by-pulled", "1.0.0").expect("pushed");
    assert_eq!(str_field(&push.stdout_json(), "digest"), sha256_digest(&served.bytes));
    dir.run(&["--component", "pulled.wasm", "pull", &demo_ref, "--destination", "demo-again.wasm"]).success();
    assert_eq!(dir.read("demo-again.wasm"), wasm);

    // ... and republishes itself, which round-trips too.
    let again = reg.reference("wasmship/wasmship:0.1.0-again");
    dir.run(&["--component", "pulled.wasm", "push", &again, "pulled.wasm"]).success();
    dir.run(&["--component", "pulled.wasm", "pull", &again, "--destination", "pulled-again.wasm"]).success();
    assert_eq!(dir.read("pulled-again.wasm"), original);
}
