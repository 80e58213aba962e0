//! wadm applications against a real registry: `app images` lists what a manifest names,
//! `app lock` records the digests (and referrers) the tags resolve to, `app pin` rewrites
//! the references in place and nothing else — the pinned file is compared byte for byte
//! with `testdata/wadm/hello.pinned.yaml`. A missing image writes no lock and leaves the
//! manifest as it was.

use std::path::PathBuf;

use crate::util::{Registry, TestDir, demo_component, str_field};

fn testdata(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/wadm").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `testdata/wadm/hello.yaml` for `reg`, with the three images it names pushed there (two
/// components and a provider archive); their digests by placeholder.
fn hello_app(dir: &TestDir, reg: &Registry) -> Vec<(&'static str, String)> {
    dir.write("wadm.yaml", testdata("hello.yaml").replace("registry.test", &reg.host()).as_bytes());
    dir.write("hello.wasm", &demo_component());
    let mut counter = demo_component();
    counter.extend_from_slice(b"\0\x08\x07counter"); // a custom section: other bytes, another digest
    dir.write("counter.wasm", &counter);
    dir.write("http-server", b"\x7fELF an http server provider for x86_64-linux");
    dir.run(&[
        "par",
        "create",
        "--name",
        "HTTP Server",
        "--vendor",
        "wasmCloud",
        "--binary",
        "http-server",
        "--arch",
        "x86_64-linux",
        "--version",
        "0.23.0",
        "--directory",
        "keys",
        "--destination",
        "http-server.par.gz",
        "--compress",
    ])
    .success();
    let push = |reference: &str, file: &str| {
        let run = dir.run(&["push", &reg.reference(reference), file, "-o", "json"]).success();
        str_field(&run.stdout_json(), "digest").to_owned()
    };
    vec![
        ("{{HELLO}}", push("demo/hello:0.1.0", "hello.wasm")),
        ("{{COUNTER}}", push("demo/counter:0.2.0", "counter.wasm")),
        ("{{SERVER}}", push("providers/http-server:0.23.0", "http-server.par.gz")),
    ]
}

#[test]
fn images_lists_every_artifact_with_its_type_local_and_shared_ones_marked() {
    let dir = TestDir::new();
    dir.write("wadm.yaml", testdata("hello.yaml").as_bytes());
    let listed = dir.run(&["app", "images", "wadm.yaml", "-o", "json"]).success().stdout_json();
    assert_eq!(
        listed,
        serde_json::json!({
            "application": "hello-world",
            "version": "v0.1.0",
            "images": [
                {"name": "http-component", "type": "component", "image": "registry.test/demo/hello:0.1.0"},
                {"name": "http-component-eu", "type": "component", "image": "registry.test/demo/hello:0.1.0"},
                {"name": "counter", "type": "component", "image": "registry.test/demo/counter:0.2.0"},
                {"name": "httpserver", "type": "capability", "image": "registry.test/providers/http-server:0.23.0"},
                {"name": "local-dev", "type": "component", "image": "file:///home/dev/build/local.wasm", "local": true},
                {"name": "greeter", "type": "component",
                 "sharedApplication": {"name": "shared-greetings", "component": "greeter"}},
            ]
        })
    );
    let text = dir.run(&["app", "images", "wadm.yaml"]).success().stdout;
    assert!(text.contains("capability httpserver") && text.contains("(local)"), "{text}");

    dir.write("deploy.yaml", b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n");
    let run = dir.run(&["app", "images", "deploy.yaml"]).failure();
    assert!(run.stderr.contains("not a wadm application manifest"), "{run}");
}

#[test]
fn lock_records_digests_and_signatures_and_pin_rewrites_only_the_references() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let digests = hello_app(&dir, &reg);
    let digest = |placeholder: &str| digests.iter().find(|(p, _)| *p == placeholder).unwrap().1.clone();
    dir.run_env(&["key", "generate"], &[("COSIGN_PASSWORD", "app")]).success();
    let counter = reg.reference("demo/counter:0.2.0");
    dir.run_env(&["sign", &counter, "--key", "cosign.key"], &[("COSIGN_PASSWORD", "app")]).success();
    let original = dir.read("wadm.yaml");

    // The lock: each reference once, by digest, with what uses it and what refers to it.
    let run = dir.run(&["app", "lock", "wadm.yaml"]).success();
    assert!(run.stdout.contains("wadm.lock.json: written"), "{run}");
    let lock: serde_json::Value = serde_json::from_slice(&dir.read("wadm.lock.json")).unwrap();
    let artifacts = lock["artifacts"].as_array().unwrap();
    assert_eq!(lock["application"], "hello-world");
    assert_eq!(artifacts.len(), 3, "{lock:#}");
    let hello = &artifacts[0];
    assert_eq!(str_field(hello, "digest"), digest("{{HELLO}}"));
    assert_eq!(str_field(hello, "pinned"), format!("{}@{}", reg.reference("demo/hello:0.1.0"), digest("{{HELLO}}")));
    assert_eq!(str_field(hello, "configMediaType"), "application/vnd.wasm.config.v0+json");
    assert_eq!(
        hello["usedBy"],
        serde_json::json!([{"name": "http-component", "type": "component"}, {"name": "http-component-eu", "type": "component"}])
    );
    assert_eq!(hello.get("referrers"), None, "unsigned: {hello:#}");
    let hex = digest("{{COUNTER}}").trim_start_matches("sha256:").to_owned();
    assert_eq!(artifacts[1]["referrers"][0]["tag"], format!("sha256-{hex}.sig"), "{lock:#}");
    assert_eq!(str_field(&artifacts[2], "configMediaType"), "application/vnd.wasmcloud.provider.archive.config");
    assert_eq!(str_field(&artifacts[2], "digest"), digest("{{SERVER}}"));
    assert_eq!(dir.read("wadm.yaml"), original, "lock does not touch the manifest");
    let again = dir.run(&["app", "lock", "wadm.yaml"]).success();
    assert!(again.stdout.contains("up to date"), "{again}");

    // Pin: byte for byte the expected file — comments, anchors, quoting and order kept.
    let pinned = dir.run(&["app", "pin", "wadm.yaml", "--json"]).success().stdout_json();
    assert_eq!(pinned["pinned"].as_array().map(Vec::len), Some(3), "{pinned:#}");
    let mut expected = testdata("hello.pinned.yaml").replace("registry.test", &reg.host());
    for (placeholder, value) in &digests {
        expected = expected.replace(placeholder, value);
    }
    assert_eq!(String::from_utf8(dir.read("wadm.yaml")).unwrap(), expected);
    // Pinned references resolve to themselves: a second pin changes nothing.
    let second = dir.run(&["app", "pin", "wadm.yaml", "--json"]).success().stdout_json();
    assert_eq!((second["written"].as_bool(), second["alreadyPinned"].as_array().map(Vec::len)), (Some(false), Some(3)));
    assert_eq!(String::from_utf8(dir.read("wadm.yaml")).unwrap(), expected);
}

#[test]
fn a_missing_image_writes_no_lock_and_leaves_the_manifest_alone() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    dir.write("wadm.yaml", testdata("hello.yaml").replace("registry.test", &reg.host()).as_bytes());
    dir.write("hello.wasm", &demo_component());
    dir.run(&["push", &reg.reference("demo/hello:0.1.0"), "hello.wasm"]).success();
    let original = dir.read("wadm.yaml");

    let run = dir.run(&["app", "lock", "wadm.yaml"]).failure();
    assert!(run.stderr.contains("demo/counter:0.2.0") || run.stderr.contains("0.2.0"), "{run}");
    assert!(!dir.path("wadm.lock.json").exists(), "a lock was written");
    let run = dir.run(&["app", "pin", "wadm.yaml"]).failure();
    assert!(run.stderr.contains("0.2.0"), "{run}");
    assert_eq!(dir.read("wadm.yaml"), original);
}
