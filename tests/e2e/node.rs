//! The packager component under a second WASI host: Node.js with jco and the WASI 0.2 shim,
//! through the launcher `examples/node/wasmship.mjs`, against the test registry. Each command
//! runs under Node and under the `wasmship` runner in the same directory, and the bytes,
//! digests and outputs are compared.
//!
//! Needs `node` (20 or later) and the launcher's pinned packages (`npm ci --prefix
//! examples/node`, which `.ci/run` does).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::{EPOCH, Registry, Run, TestDir, demo_component, run_to_end, sha256_digest, str_field, str_list};

/// The launcher's directory.
const NODE_EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/node");
/// The packager component `build.rs` built (the runner embeds the same bytes).
const PACKAGER_WASM: &str = env!("WASMSHIP_GUEST_WASM");

/// `node wasmship.mjs ARGS` in `dir`'s working directory with the environment the runner's
/// runs get there, plus `env`.
fn node(dir: &TestDir, args: &[&str], env: &[(&str, &str)]) -> Run {
    let launcher = Path::new(NODE_EXAMPLE).join("wasmship.mjs");
    let shim = Path::new(NODE_EXAMPLE).join("node_modules/@bytecodealliance/preview2-shim");
    assert!(
        shim.is_dir(),
        "the Node.js tests need the launcher's packages: run `npm ci --prefix examples/node` (.ci/run does)"
    );
    let mut cmd = Command::new("node");
    cmd.arg(&launcher)
        .args(args)
        .current_dir(dir.work())
        .env_clear()
        .env("HOME", dir.home())
        .env("TMPDIR", dir.tmp())
        .env("WASMSHIP_COMPONENT", PACKAGER_WASM)
        .stdin(Stdio::null());
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (name, value) in env {
        cmd.env(name, value);
    }
    run_to_end(cmd, format!("node wasmship.mjs {}", args.join(" ")))
}

/// A cache directory of its own for each host, outside the working directory.
fn caches(dir: &TestDir) -> (String, String) {
    let path = |name: &str| -> PathBuf { dir.root().join(name) };
    (path("node-cache").display().to_string(), path("runner-cache").display().to_string())
}

#[test]
fn push_pull_inspect_and_copy_match_the_runner() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let component = demo_component();
    dir.write("demo.wasm", &component);
    let (node_cache, runner_cache) = caches(&dir);
    let node_env = [("SOURCE_DATE_EPOCH", EPOCH), ("WASMSHIP_CACHE_DIR", node_cache.as_str())];
    let runner_env = [("SOURCE_DATE_EPOCH", EPOCH), ("WASMSHIP_CACHE_DIR", runner_cache.as_str())];

    // push: the same manifest from both hosts.
    let node_ref = reg.reference("node/demo:1.0.0");
    let runner_ref = reg.reference("runner/demo:1.0.0");
    let pushed = node(&dir, &["push", &node_ref, "demo.wasm", "-o", "json"], &node_env).success().stdout_json();
    let native = dir.run_env(&["push", &runner_ref, "demo.wasm", "-o", "json"], &runner_env).success().stdout_json();
    assert_eq!(str_field(&pushed, "digest"), str_field(&native, "digest"));
    assert_eq!(reg.manifest("node/demo", "1.0.0").expect("pushed from Node").digest, str_field(&pushed, "digest"));

    // pull through the cache, then without it: the file's bytes, and the cache's content.
    node(&dir, &["pull", &node_ref, "-d", "cached.wasm"], &node_env).success();
    assert_eq!(dir.read("cached.wasm"), component);
    node(&dir, &["pull", &node_ref, "--no-cache", "-d", "direct.wasm"], &node_env).success();
    assert_eq!(dir.read("direct.wasm"), component);
    let layer = dir.root().join("node-cache/blobs/sha256").join(&sha256_digest(&component)["sha256:".len()..]);
    assert_eq!(std::fs::read(&layer).expect("the layer in Node's cache"), component);
    let verified = node(&dir, &["cache", "verify"], &node_env).success();
    assert!(verified.stdout.contains("every blob matches its digest"), "{verified}");

    // inspect: the same report but for the reference.
    let from_node = node(&dir, &["inspect", &node_ref, "-o", "json"], &node_env).success().stdout_json();
    let from_runner = dir.run_env(&["inspect", &runner_ref, "-o", "json"], &runner_env).success().stdout_json();
    for field in ["digest", "created"] {
        assert_eq!(from_node[field], from_runner[field], "{field}: {from_node:#} / {from_runner:#}");
    }
    assert_eq!(str_list(&from_node["component"], "exports"), str_list(&from_runner["component"], "exports"));

    let tags = node(&dir, &["tags", &node_ref], &node_env).success();
    assert_eq!(tags.stdout, dir.run_env(&["tags", &runner_ref], &runner_env).success().stdout);
    assert_eq!(tags.stdout.trim(), "1.0.0");

    // copy to an OCI layout and back: the layout's files are the runner's, byte for byte.
    node(&dir, &["copy", &node_ref, "oci-layout://node-layout:1.0.0"], &node_env).success();
    dir.run_env(&["copy", &runner_ref, "oci-layout://runner-layout:1.0.0"], &runner_env).success();
    for file in ["index.json", "oci-layout"] {
        assert_eq!(dir.read(&format!("node-layout/{file}")), dir.read(&format!("runner-layout/{file}")), "{file}");
    }
    let back = reg.reference("node/back:1.0.0");
    let copied = node(&dir, &["copy", "oci-layout://node-layout:1.0.0", &back], &node_env).success();
    assert!(copied.stdout.contains(str_field(&pushed, "digest")), "{copied}");
    assert_eq!(reg.manifest("node/back", "1.0.0").expect("copied back").digest, str_field(&pushed, "digest"));

    // drain: Node's cache is emptied as the runner's would be.
    node(&dir, &["drain", "oci"], &node_env).success();
    assert!(!layer.exists(), "the cache still holds the layer after drain");
}

#[test]
fn wit_fetch_and_provider_inspect_match_the_runner() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    crate::wit::example_project(&dir, &reg);
    let (node_cache, _) = caches(&dir);
    let node_env = [("WASMSHIP_CACHE_DIR", node_cache.as_str())];
    // Published and fetched under Node: the tree and lock the runner's tests expect.
    for fixture in ["fixtures/types/wit", "fixtures/api/wit"] {
        node(&dir, &["wit", "publish", fixture], &node_env).success();
    }
    node(&dir, &["wit", "fetch"], &node_env).success();
    let expected = crate::wit::testdata().join("app/expected");
    for name in ["example-api-0.2.0/package.wit", "example-types-0.1.0/package.wit"] {
        let text = String::from_utf8(dir.read(&format!("wit/deps/{name}"))).unwrap();
        assert_eq!(text, std::fs::read_to_string(expected.join("deps").join(name)).unwrap(), "{name}");
    }
    let lock = String::from_utf8(dir.read("wkg.lock")).unwrap();
    let expected_lock =
        std::fs::read_to_string(expected.join("wkg.lock")).unwrap().replace("registry.test", &reg.host());
    assert_eq!(lock, expected_lock);

    // A provider archive made and extended under Node, inspected under both hosts.
    dir.write("my-provider", crate::par::BINARY);
    let create = crate::par::create_args("p.par", "keys");
    node(&dir, &create, &node_env).success();
    let insert =
        ["par", "insert", "p.par", "--binary", "my-provider", "--arch", "aarch64-linux", "--directory", "keys"];
    node(&dir, &insert, &node_env).success();
    let from_node = node(&dir, &["inspect", "p.par", "-o", "json"], &node_env).success().stdout_json();
    let from_runner = dir.run(&["inspect", "p.par", "-o", "json"]).success().stdout_json();
    assert_eq!(from_node, from_runner);
    assert_eq!(str_field(&from_node, "vendor"), "Acme");
    assert_eq!(str_list(&from_node, "targets"), ["aarch64-linux", "x86_64-linux"]);
    assert_eq!(from_node["hashes_valid"], true);
    // The generated signing keys are the user's alone, as under the runner.
    for key in std::fs::read_dir(dir.path("keys")).unwrap() {
        let mode = std::os::unix::fs::PermissionsExt::mode(&key.unwrap().metadata().unwrap().permissions());
        assert_eq!(mode & 0o077, 0, "a key readable by others: {mode:o}");
    }
}
