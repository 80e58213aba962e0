//! wadm applications against a real registry: `app images` lists what a manifest names,
//! `app lock` records the digests (and referrers) the tags resolve to, `app pin` rewrites
//! the references in place and nothing else — the pinned file is compared byte for byte
//! with `testdata/wadm/hello.pinned.yaml`. A missing image writes no lock and leaves the
//! manifest as it was.

use std::path::PathBuf;

use std::time::Duration;

use crate::util::{Fault, FaultProxy, Registry, RequestHead, TestDir, demo_component, str_field};

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

/// `testdata/wadm/hello.yaml` for `reg` with only its first image pushed (the second
/// component and the provider are missing); the manifest's bytes.
fn hello_app_missing_two_images(dir: &TestDir, reg: &Registry) -> Vec<u8> {
    dir.write("wadm.yaml", testdata("hello.yaml").replace("registry.test", &reg.host()).as_bytes());
    dir.write("hello.wasm", &demo_component());
    dir.run(&["push", &reg.reference("demo/hello:0.1.0"), "hello.wasm"]).success();
    dir.read("wadm.yaml")
}

#[test]
fn a_missing_image_writes_no_lock_and_leaves_the_manifest_alone() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let original = hello_app_missing_two_images(&dir, &reg);

    let run = dir.run(&["app", "lock", "wadm.yaml"]).failure();
    assert!(run.stderr.contains("demo/counter:0.2.0") || run.stderr.contains("0.2.0"), "{run}");
    assert!(!dir.path("wadm.lock.json").exists(), "a lock was written");
    let run = dir.run(&["app", "pin", "wadm.yaml"]).failure();
    assert!(run.stderr.contains("0.2.0"), "{run}");
    assert_eq!(dir.read("wadm.yaml"), original);
}

#[test]
fn keep_going_reports_every_missing_image_and_still_writes_nothing_half_done() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let original = hello_app_missing_two_images(&dir, &reg);

    // Without it, the first failure ends the command; with it, both missing images are named.
    let first = dir.run(&["app", "lock", "wadm.yaml"]).failure();
    assert!(!first.stderr.contains("providers/http-server"), "{first}");
    let all = dir.run(&["app", "lock", "wadm.yaml", "--keep-going"]).failure();
    assert!(all.stderr.contains("2 of 3 artifacts failed"), "{all}");
    assert!(all.stderr.contains("demo/counter:0.2.0") && all.stderr.contains("providers/http-server:0.23.0"), "{all}");
    assert!(!dir.path("wadm.lock.json").exists(), "a lock was written");
    dir.run(&["app", "pin", "wadm.yaml", "--keep-going"]).failure();
    assert_eq!(dir.read("wadm.yaml"), original);
    let bundle = dir.run(&["app", "bundle", "wadm.yaml", "-o", "bundle", "--keep-going"]).failure();
    assert!(bundle.stderr.contains("2 of 3 artifacts failed"), "{bundle}");
    assert!(!dir.path("bundle").exists(), "no half-built bundle");

    // app pull keeps what it could fetch: the image that exists is in the cache.
    let cache = crate::util::fresh_cache(&dir);
    let pull = dir.run(&["app", "pull", "wadm.yaml", "--cache-dir", &cache, "--keep-going"]).failure();
    assert!(pull.stderr.contains("2 of 3 artifacts failed"), "{pull}");
    let reference = reg.reference("demo/hello:0.1.0");
    dir.run(&["pull", &reference, "-d", "offline.wasm", "--offline", "--cache-dir", &cache]).success();
    assert_eq!(dir.read("offline.wasm"), demo_component());
}

/// The digest of the manifest `reference` names, pulled by a second look at `reg`.
fn manifest_digest(reg: &Registry, repository: &str, tag: &str) -> String {
    reg.manifest(repository, tag).unwrap_or_else(|| panic!("{repository}:{tag} is not in the registry")).digest
}

#[test]
fn a_bundle_carries_the_application_across_an_air_gap_to_another_registry() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let digests = hello_app(&dir, &reg);
    let password = [("COSIGN_PASSWORD", "air-gap")];
    dir.run_env(&["key", "generate"], &password).success();
    let counter = reg.reference("demo/counter:0.2.0");
    dir.run_env(&["sign", &counter, "--key", "cosign.key"], &password).success();
    dir.run_env(&["sign", &counter, "--key", "cosign.key", "--format", "bundle"], &password).success();

    // The bundle: one OCI layout with every artifact tagged by its reference, the manifest and the lock.
    let bundled = dir.run(&["app", "bundle", "wadm.yaml", "-o", "bundle", "--json"]).success().stdout_json();
    assert_eq!(bundled["artifacts"].as_array().map(Vec::len), Some(3), "{bundled:#}");
    assert_eq!(bundled["referrers"], 2, "both signatures travel: {bundled:#}");
    assert_eq!(dir.read("bundle/wadm.yaml"), dir.read("wadm.yaml"));
    assert!(dir.path("bundle/wadm.lock.json").is_file());
    let index: serde_json::Value = serde_json::from_slice(&dir.read("bundle/index.json")).unwrap();
    let names: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["annotations"]["org.opencontainers.image.ref.name"].as_str())
        .filter(|name| name.contains('/'))
        .collect();
    assert_eq!(names.len(), 3, "{index:#}");
    assert!(names.contains(&reg.reference("providers/http-server:0.23.0").as_str()), "{names:?}");
    // A second bundle into the same place is refused; nothing is half written.
    let run = dir.run(&["app", "bundle", "wadm.yaml", "-o", "bundle"]).failure();
    assert!(run.stderr.contains("exists"), "{run}");
    let original_host = reg.host();
    drop(reg); // the air gap: the source registry is gone

    let far = TestDir::new();
    let target = Registry::start(&far);
    let to = format!("{}/mirror", target.host());
    let relocated = dir.run(&["app", "relocate", "bundle", "--to", &to, "--json"]).success().stdout_json();
    assert_eq!(relocated["manifest"], "wadm.relocated.yaml", "{relocated:#}");
    assert_eq!(relocated["referrers"], 2, "{relocated:#}");

    // The relocated manifest: the original with only the three references rewritten.
    // (The references move under the target; the file's comment still names the source.)
    let mut expected = testdata("hello.pinned.yaml")
        .replace("registry.test/", &format!("{to}/"))
        .replace("registry.test", &original_host);
    for (placeholder, value) in &digests {
        expected = expected.replace(placeholder, value);
    }
    assert_eq!(String::from_utf8(dir.read("wadm.relocated.yaml")).unwrap(), expected);
    // Every rewritten reference resolves at the target to the same digest, and pulls byte-identically.
    for (repository, tag, placeholder) in [
        ("mirror/demo/hello", "0.1.0", "{{HELLO}}"),
        ("mirror/demo/counter", "0.2.0", "{{COUNTER}}"),
        ("mirror/providers/http-server", "0.23.0", "{{SERVER}}"),
    ] {
        let want = &digests.iter().find(|(p, _)| *p == placeholder).unwrap().1;
        assert_eq!(&manifest_digest(&target, repository, tag), want, "{repository}:{tag}");
    }
    let pulled = format!("{}/mirror/demo/hello:0.1.0@{}", target.host(), digests[0].1);
    dir.run(&["pull", &pulled, "-d", "hello.pulled.wasm", "--no-cache"]).success();
    assert_eq!(dir.read("hello.pulled.wasm"), demo_component());
    // The signatures came along and still verify at the target.
    let verified = dir
        .run(&["verify", &format!("{}/mirror/demo/counter:0.2.0", target.host()), "--key", "cosign.pub", "-o", "json"])
        .success()
        .stdout_json();
    assert_eq!(verified["verified"].as_array().map(Vec::len), Some(2), "{verified:#}");

    // The bundle checks out on its own; with a key, the unsigned artifacts are named.
    let checked = dir.run(&["app", "verify", "bundle", "--json"]).success().stdout_json();
    assert_eq!(checked["artifacts"], 3, "{checked:#}");
    let run = dir.run(&["app", "verify", "bundle", "--verify-key", "cosign.pub", "--json"]).failure();
    assert_eq!(str_field(&run.stderr_json(), "kind"), "unverified", "{run}");
    assert!(run.stderr.contains("demo/hello:0.1.0@sha256:"), "{run}");
    // A signature the lock records and the bundle lost is missed, by name.
    let status = std::process::Command::new("cp").args(["-a", "bundle", "unsigned"]).current_dir(dir.work()).status();
    assert!(status.expect("cp").success());
    let mut index: serde_json::Value = serde_json::from_slice(&dir.read("unsigned/index.json")).unwrap();
    index["manifests"].as_array_mut().unwrap().retain(|m| {
        !m["annotations"]["org.opencontainers.image.ref.name"].as_str().is_some_and(|name| name.ends_with(".sig"))
    });
    dir.write("unsigned/index.json", index.to_string().as_bytes());
    let run = dir.run(&["app", "verify", "unsigned"]).failure();
    assert!(run.stderr.contains("which the lock records for") && run.stderr.contains("demo/counter:0.2.0"), "{run}");

    // A changed byte anywhere is found.
    let hex = digests[1].1.trim_start_matches("sha256:").to_owned();
    let blob = dir.path(&format!("bundle/blobs/sha256/{hex}"));
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[10] ^= 1;
    std::fs::set_permissions(&blob, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::write(&blob, bytes).unwrap();
    let run = dir.run(&["app", "verify", "bundle", "--json"]).failure();
    assert!(run.stderr.contains(&hex), "the damaged object is named: {run}");
}

#[test]
fn relocate_straight_from_the_registries_flattened_and_a_dry_run_moves_nothing() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let digests = hello_app(&dir, &reg);
    let far = TestDir::new();
    let target = Registry::start(&far);
    let to = format!("{}/edge", target.host());

    let dry = dir.run(&["app", "relocate", "wadm.yaml", "--to", &to, "--flatten", "--dry-run", "--json"]).success();
    let moves = dry.stdout_json()["moves"].clone();
    assert_eq!(
        moves[0]["to"],
        format!("{to}/hello:0.1.0@{}", digests[0].1),
        "flattened to the last path segment: {moves:#}"
    );
    assert!(!dir.path("wadm.relocated.yaml").exists(), "a dry run wrote the manifest");
    assert!(!dir.path("wadm.relocated.lock.json").exists(), "a dry run wrote a lock");
    assert_eq!(target.tags("edge/hello"), None, "a dry run copied");

    dir.run(&["app", "relocate", "wadm.yaml", "--to", &to, "--flatten", "-o", "edge.yaml"]).success();
    // Its lock sits beside it: the same digests under the new references.
    let lock: serde_json::Value = serde_json::from_slice(&dir.read("edge.lock.json")).unwrap();
    assert_eq!(lock["artifacts"][0]["reference"], format!("{to}/hello:0.1.0"), "{lock:#}");
    assert_eq!(lock["artifacts"][0]["pinned"], format!("{to}/hello:0.1.0@{}", digests[0].1));
    assert_eq!(lock["artifacts"][0]["digest"], digests[0].1.as_str());
    assert_eq!(manifest_digest(&target, "edge/http-server", "0.23.0"), digests[2].1);
    let relocated = String::from_utf8(dir.read("edge.yaml")).unwrap();
    assert!(
        relocated.contains(&format!("image: &hello {to}/hello:0.1.0@{}   # built by CI", digests[0].1)),
        "{relocated}"
    );
    assert!(relocated.contains(&format!("image: '{to}/counter:0.2.0@{}'", digests[1].1)), "{relocated}");
    let images = dir.run(&["app", "images", "edge.yaml", "-o", "json"]).success().stdout_json();
    assert_eq!(images["images"].as_array().map(Vec::len), Some(6));
}

#[test]
fn a_tar_bundle_is_one_reproducible_file_that_verifies_and_relocates() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let digests = hello_app(&dir, &reg);
    dir.run(&["app", "bundle", "wadm.yaml", "-o", "app.tar"]).success();
    dir.run(&["app", "bundle", "wadm.yaml", "-o", "again.tar"]).success();
    assert_eq!(dir.read("app.tar"), dir.read("again.tar"), "the same bundle makes the same bytes");
    let leftovers: Vec<String> = dir.listing().into_iter().filter(|p| p.contains(".tmp")).collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    let checked = dir.run(&["app", "verify", "app.tar", "--json"]).success().stdout_json();
    assert_eq!(checked["artifacts"], 3, "{checked:#}");
    drop(reg);
    let far = TestDir::new();
    let target = Registry::start(&far);
    dir.run(&["app", "relocate", "app.tar", "--to", &target.host()]).success();
    assert_eq!(manifest_digest(&target, "providers/http-server", "0.23.0"), digests[2].1);
    let relocated = String::from_utf8(dir.read("wadm.relocated.yaml")).unwrap();
    assert!(relocated.contains(&format!("{}/demo/counter:0.2.0@{}", target.host(), digests[1].1)), "{relocated}");
    let leftovers: Vec<String> = dir.listing().into_iter().filter(|p| p.contains(".tmp")).collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // A tar that reaches outside its directory is refused before anything is copied.
    let mut evil = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(4);
    header.set_mode(0o644);
    header.as_old_mut().name[..12].copy_from_slice(b"../escape.tx");
    header.set_cksum();
    evil.append(&header, &b"evil"[..]).unwrap();
    dir.write("evil.tar", &evil.into_inner().unwrap());
    let run = dir.run(&["app", "relocate", "evil.tar", "--to", &target.host(), "-o", "evil.yaml"]).failure();
    assert!(run.stderr.contains("not a plain relative path"), "{run}");
    assert!(!dir.root().join("escape.tx").exists() && !dir.path("evil.yaml").exists());
}

#[test]
fn app_pull_fills_the_cache_and_the_hosts_cache_for_an_offline_deployment() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let digests = hello_app(&dir, &reg);
    let cache = crate::util::fresh_cache(&dir);

    // Signatures first: nothing is signed, so a key refuses the first artifact, caching nothing.
    dir.run_env(&["key", "generate"], &[("COSIGN_PASSWORD", "pull")]).success();
    let run = dir.run(&["app", "pull", "wadm.yaml", "--cache-dir", &cache, "--verify-key", "cosign.pub"]).failure();
    assert!(run.stderr.contains("has no signatures"), "{run}");
    let blobs = std::path::Path::new(&cache).join("blobs/sha256");
    assert!(!blobs.exists() || std::fs::read_dir(&blobs).unwrap().next().is_none(), "the cache got blobs");

    let pulled = dir
        .run(&["app", "pull", "wadm.yaml", "--cache-dir", &cache, "--wasmcloud-host-cache", "--json"])
        .success()
        .stdout_json();
    let got: Vec<(&str, &str)> = pulled["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (str_field(a, "reference"), str_field(a, "digest")))
        .collect();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0], (reg.reference("demo/hello:0.1.0").as_str(), digests[0].1.as_str()));
    // The host's cache: the payload under the reference as written, and its manifest digest.
    let host = dir.tmp().join("wasmcloud_ocicache");
    let name = reg.reference("demo/hello:0.1.0").to_lowercase().replace([':', '/', '.'], "_");
    assert_eq!(std::fs::read(host.join(&name)).unwrap(), demo_component());
    assert_eq!(std::fs::read_to_string(host.join(format!("{name}.digest"))).unwrap(), digests[0].1);

    // With the registry gone, every artifact pulls from the cache.
    let reference = reg.reference("providers/http-server:0.23.0");
    drop(reg);
    let offline = dir.run(&["pull", &reference, "-d", "server.par.gz", "--offline", "--cache-dir", &cache]).success();
    assert!(offline.stdout.contains("server.par.gz"), "{offline}");
    assert_eq!(dir.read("server.par.gz"), dir.read("http-server.par.gz"));
}

#[test]
fn relocate_uploads_blobs_side_by_side_and_redoes_one_that_fails() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let digests = hello_app(&dir, &reg);
    let far = TestDir::new();
    let target = Registry::start(&far);
    let proxy = FaultProxy::start(target.port());
    let is_blob_put = |r: &RequestHead| r.method == "PUT" && r.target.contains("/blobs/uploads/");
    // The first blob upload is refused; every one waits 1.5 s before the target sees it.
    proxy.inject(1, is_blob_put, Fault::Serve { status: 500, content_type: "text/plain".into(), body: b"no".to_vec() });
    proxy.inject(usize::MAX, is_blob_put, Fault::DelayResponse { millis: 1500 });

    let out = dir.run(&["app", "relocate", "wadm.yaml", "--to", &proxy.host(), "--json"]).success().stdout_json();

    // Everything arrived, byte for byte: each artifact under its digest, each layer intact.
    for (repository, tag, (_, digest)) in [("demo/hello", "0.1.0", &digests[0]), ("demo/counter", "0.2.0", &digests[1])]
    {
        assert_eq!(&manifest_digest(&target, repository, tag), digest);
        let layer = target.manifest_json(repository, tag)["layers"][0]["digest"].as_str().unwrap().to_string();
        assert_eq!(target.blob(repository, &layer), reg.blob(repository, &layer), "{repository} layer");
    }
    assert_eq!(manifest_digest(&target, "providers/http-server", "0.23.0"), digests[2].1);
    assert_eq!(out["copiedBlobs"], 6, "{out:#}");

    let puts: Vec<_> =
        proxy.exchanges().into_iter().filter(|e| e.method == "PUT" && e.path().contains("/blobs/uploads/")).collect();
    // Six blobs, one of them sent twice: refused ahead, then copied the ordinary way.
    assert_eq!(puts.len(), 7, "{puts:#?}");
    assert_eq!(puts.iter().filter(|e| e.status == Some(500)).count(), 1, "{puts:#?}");
    // Side by side: the next uploads began before the delayed answer to the first could come
    // (one at a time, each would wait for the answer before the next).
    let first = puts[0].started;
    let early = puts.iter().filter(|e| e.started.duration_since(first) < Duration::from_millis(1000)).count();
    assert!(early >= 3, "uploads went one after the other: {puts:#?}");
}

#[test]
fn app_pull_fetches_blobs_side_by_side_into_the_cache() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let digests = hello_app(&dir, &reg);
    let proxy = FaultProxy::start(reg.port());
    let text = String::from_utf8(dir.read("wadm.yaml")).unwrap().replace(&reg.host(), &proxy.host());
    dir.write("proxied.yaml", text.as_bytes());
    let cache = crate::util::fresh_cache(&dir);
    let is_blob_get = |r: &RequestHead| r.method == "GET" && r.target.contains("/blobs/sha256:");
    proxy.inject(usize::MAX, is_blob_get, Fault::DelayResponse { millis: 1500 });

    let pulled = dir.run(&["app", "pull", "proxied.yaml", "--cache-dir", &cache, "--json"]).success().stdout_json();
    assert_eq!(pulled["artifacts"].as_array().map(Vec::len), Some(3), "{pulled:#}");

    let gets: Vec<_> =
        proxy.exchanges().into_iter().filter(|e| e.method == "GET" && e.path().contains("/blobs/sha256:")).collect();
    // Each of the six blobs once: the pulls after the overlapped fetch found them cached.
    assert_eq!(gets.len(), 6, "{gets:#?}");
    let first = gets.iter().map(|e| e.started).min().unwrap();
    let early = gets.iter().filter(|e| e.started.duration_since(first) < Duration::from_millis(1000)).count();
    assert!(early >= 3, "blobs came one after the other: {gets:#?}");

    // Everything is in the cache, whole: the artifacts pull with the registry gone.
    let reference = proxy.reference("demo/counter:0.2.0");
    drop(proxy);
    drop(reg);
    dir.run(&["pull", &reference, "-d", "counter-out.wasm", "--offline", "--cache-dir", &cache]).success();
    assert_eq!(dir.read("counter-out.wasm"), dir.read("counter.wasm"));
    let inspected = dir.run(&["inspect", &reference, "--offline", "--cache-dir", &cache, "-o", "json"]).success();
    assert_eq!(str_field(&inspected.stdout_json(), "digest"), digests[1].1);
}
