//! Issue 11, bounded disk: a manifest that claims an enormous layer is refused before a byte
//! moves (`WASMSHIP_MAX_BLOB_SIZE` raises the limit), a write larger than the free space is
//! refused up front, an interrupted pull (SIGINT, SIGTERM) leaves no temporary file behind,
//! and temporary files of runs that died are swept by the next writer.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use crate::util::{Fault, FaultProxy, Registry, TestDir, big_component, cache_dir, sha256_digest};

/// An OCI layout in `dir` whose tag `1` names a Wasm layer of `claimed` bytes that is not
/// there (only its manifest and config are).
fn layout_claiming(dir: &Path, claimed: u64) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("mkdir");
    let put = |bytes: &[u8]| {
        let digest = sha256_digest(bytes);
        std::fs::write(blobs.join(&digest["sha256:".len()..]), bytes).expect("write blob");
        digest
    };
    let config = br#"{"architecture":"wasm","os":"wasip2"}"#;
    let config_digest = put(config);
    let layer_digest = format!("sha256:{}", "ab".repeat(32));
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.wasm.config.v0+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"application/wasm","digest":"{layer_digest}","size":{claimed}}}]}}"#,
        config.len()
    );
    let manifest_digest = put(manifest.as_bytes());
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("oci-layout");
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest_digest}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"1"}}}}]}}"#,
        manifest.len()
    );
    std::fs::write(dir.join("index.json"), index).expect("index.json");
}

#[test]
fn a_terabyte_layer_is_refused_before_anything_is_written() {
    let dir = TestDir::new();
    layout_claiming(&dir.path("claims"), 1_000_000_000_000);
    for args in [
        &["pull", "oci-layout://claims:1", "-d", "out.wasm"][..],
        &["copy", "oci-layout://claims:1", "oci-layout://copied:1"][..],
    ] {
        let run = dir.run(args).failure();
        assert!(
            run.stderr.contains("(1000000000000 bytes; WASMSHIP_MAX_BLOB_SIZE=SIZE raises the limit)")
                && run.stderr.contains("is larger than the limit of 8589934592 bytes"),
            "{run}"
        );
    }
    assert!(!dir.path("out.wasm").exists());
    assert!(!dir.path("copied/blobs/sha256").join("ab".repeat(32)).exists(), "nothing of the layer was copied");

    // A higher limit lets it through to the next check: the disk has nowhere near a terabyte.
    let run = dir.run_env(&["pull", "oci-layout://claims:1", "-d", "out.wasm"], &[("WASMSHIP_MAX_BLOB_SIZE", "2000G")]);
    let run = run.failure();
    assert!(run.stderr.contains("needs 1000000000000 bytes, but the file system of"), "{run}");
    assert!(run.stderr.contains("free some space"), "{run}");
    let run =
        dir.run_env(&["copy", "oci-layout://claims:1", "oci-layout://copied:1"], &[("WASMSHIP_MAX_BLOB_SIZE", "2T")]);
    assert!(run.failure().stderr.contains("WASMSHIP_MAX_BLOB_SIZE: size \"2T\""), "a wrong limit is named");
    let run = dir
        .run_env(&["copy", "oci-layout://claims:1", "oci-layout://copied:1"], &[("WASMSHIP_MAX_BLOB_SIZE", "2000G")]);
    assert!(run.failure().stderr.contains("needs 1000000000000 bytes"), "copy checks the free space too");
    let leftovers: Vec<_> = walk(dir.work()).into_iter().filter(|p| p.ends_with(".tmp")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

#[test]
fn an_interrupted_pull_removes_its_temporary_files() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let proxy = FaultProxy::start(reg.port());
    let cache = cache_dir(&dir);
    let wasm = big_component(2 * 1024 * 1024);
    let layer_digest = sha256_digest(&wasm);
    dir.write("big.wasm", &wasm);
    let reference = proxy.reference("demo/interrupted:1.0.0");
    dir.run(&["push", &reference, "big.wasm"]).success();

    for (signal, code, no_cache) in [("INT", 130, false), ("TERM", 143, true)] {
        let layer_path = format!("/blobs/{layer_digest}");
        proxy.inject(
            1,
            move |r| r.method == "GET" && r.path().ends_with(&layer_path),
            Fault::SlowResponseBody { bytes_per_sec: 128 * 1024 },
        );
        let mut args = vec!["pull", reference.as_str(), "-d", "out.wasm"];
        if no_cache {
            args.push("--no-cache");
        }
        let mut cmd = dir.command(&args);
        cmd.env("WASMSHIP_CACHE_DIR", &cache);
        let mut child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the pull");
        // Wait until a temporary file (in the cache's .ingest, or beside the destination) grows.
        let started = Instant::now();
        while !walk(dir.root()).iter().any(|p| p.ends_with(".tmp") && file_len(p) > 64 * 1024) {
            assert!(started.elapsed() < Duration::from_secs(60), "the download never started");
            std::thread::sleep(Duration::from_millis(20));
        }
        let sent = std::process::Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        let status = child.wait().expect("reap the pull");
        assert_eq!(status.code(), Some(code), "SIG{signal}: exits as a shell reports the signal");
        let leftovers: Vec<_> = walk(dir.root()).into_iter().filter(|p| p.ends_with(".tmp")).collect();
        assert!(leftovers.is_empty(), "SIG{signal} left {leftovers:?}");
        assert!(!dir.path("out.wasm").exists());
    }
}

fn file_len(path: &str) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

#[test]
fn temporary_files_of_dead_runs_are_swept_by_the_next_writer() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    let wasm = big_component(64 * 1024);
    dir.write("app.wasm", &wasm);
    let reference = reg.reference("demo/sweep:1.0.0");
    dir.run(&["push", &reference, "app.wasm"]).success();

    // What a killed run leaves: a half-written ingest and a half-written destination, long ago.
    let ingest = cache.join(".ingest");
    std::fs::create_dir_all(&ingest).expect("mkdir");
    let old = SystemTime::now() - Duration::from_secs(2 * 3600);
    let dead = [
        ingest.join(".ingest-1234-00000000deadbeef.tmp"),
        ingest.join(format!("{}.tmp", "cd".repeat(32))),
        dir.path(".wasmship-pull-1234-00000000deadbeef.tmp"),
    ];
    let fresh = ingest.join(".ingest-5678-00000000cafef00d.tmp");
    for file in dead.iter().chain([&fresh]) {
        std::fs::write(file, vec![0u8; 4096]).expect("write");
    }
    for file in &dead {
        std::fs::File::options().write(true).open(file).unwrap().set_modified(old).unwrap();
    }
    let cache_text = cache.display().to_string();
    dir.run(&["pull", &reference, "-d", "app-pulled.wasm", "--cache-dir", &cache_text]).success();
    for file in &dead {
        assert!(!file.exists(), "{} was swept", file.display());
    }
    assert!(fresh.exists(), "a recent temporary file may belong to a running pull");
    assert_eq!(dir.read("app-pulled.wasm"), wasm);
}
