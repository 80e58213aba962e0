//! The OCI cache (`~/.cache/wasmship/oci`): warm pulls transfer no blob, re-pushed tags are
//! noticed, `--offline` works with the registry gone, concurrent pulls share one cache,
//! corrupted blobs are caught, and `drain` removes exactly what it says.

use std::path::Path;
use std::process::Command;

use crate::util::{
    Registry, TestDir, big_component, cache_dir, demo_component, digest_hex, run_to_end, sha256_digest, str_field,
};

fn env(cache: &Path) -> [(&'static str, String); 1] {
    [("WASMSHIP_CACHE_DIR", cache.display().to_string())]
}

pub(super) fn run_cached(dir: &TestDir, cache: &Path, args: &[&str]) -> crate::util::Run {
    let [(k, v)] = env(cache);
    dir.run_env(args, &[(k, v.as_str())])
}

/// `wasmship pull REFERENCE -d DESTINATION` with the test's environment and `cache`, as a
/// command to spawn (for runs that go in parallel or get killed).
fn pull_command(dir: &TestDir, cache: &Path, reference: &str, destination: &str) -> Command {
    let mut cmd = dir.command(&["pull", reference, "-d", destination]);
    cmd.env("WASMSHIP_CACHE_DIR", cache);
    cmd
}

fn blob_gets(reg: &Registry, from: usize) -> usize {
    reg.requests()[from..].iter().filter(|r| r.method == "GET" && r.path.contains("/blobs/sha256:")).count()
}

#[test]
fn a_warm_pull_of_an_unchanged_tag_transfers_no_blob() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    dir.write("demo.wasm", &demo_component());
    dir.run(&["push", &reg.reference("demo/cached:1.0.0"), "demo.wasm"]).success();

    let start = reg.requests().len();
    let cold = run_cached(&dir, &cache, &["pull", &reg.reference("demo/cached:1.0.0"), "-d", "a.wasm", "-o", "json"])
        .success()
        .stdout_json();
    assert_eq!(cold["cached"], serde_json::json!(false), "{cold:#}");
    assert_eq!(blob_gets(&reg, start), 2, "config and layer fetched once");

    let warm_start = reg.requests().len();
    let warm = run_cached(&dir, &cache, &["pull", &reg.reference("demo/cached:1.0.0"), "-d", "b.wasm", "-o", "json"])
        .success()
        .stdout_json();
    assert_eq!(warm["cached"], serde_json::json!(true), "{warm:#}");
    let requests = reg.requests();
    let warm_requests = &requests[warm_start..];
    assert_eq!(blob_gets(&reg, warm_start), 0, "a warm pull transfers no blob: {warm_requests:#?}");
    assert!(
        warm_requests.iter().any(|r| r.method == "HEAD" && r.path.contains("/manifests/1.0.0")),
        "the tag is revalidated with a HEAD: {warm_requests:#?}"
    );
    assert_eq!(dir.read("a.wasm"), demo_component());
    assert_eq!(dir.read("b.wasm"), demo_component());
    // The cache is an OCI layout holding the layer under its digest.
    let layer = cache.join("blobs/sha256").join(digest_hex(&sha256_digest(&demo_component())));
    assert_eq!(std::fs::read(layer).expect("layer in the cache"), demo_component());
}

#[test]
fn a_re_pushed_tag_is_pulled_anew() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    let first = demo_component();
    let second = big_component(64 * 1024);
    dir.write("first.wasm", &first);
    dir.write("second.wasm", &second);
    let reference = reg.reference("demo/moving:1.0.0");
    dir.run(&["push", &reference, "first.wasm"]).success();
    run_cached(&dir, &cache, &["pull", &reference, "-d", "out.wasm"]).success();
    assert_eq!(dir.read("out.wasm"), first);

    dir.run(&["push", &reference, "second.wasm"]).success();
    let out = run_cached(&dir, &cache, &["pull", &reference, "-d", "out.wasm", "-o", "json"]).success().stdout_json();
    assert_eq!(out["cached"], serde_json::json!(false), "{out:#}");
    assert_eq!(dir.read("out.wasm"), second, "the new content replaced the old");
    assert_eq!(str_field(&out, "digest"), reg.manifest("demo/moving", "1.0.0").expect("pushed").digest);
}

#[test]
fn offline_pulls_work_with_the_registry_gone_and_fail_clearly_otherwise() {
    let dir = TestDir::new();
    let cache = cache_dir(&dir);
    let reference;
    let missing;
    {
        let reg = Registry::start(&dir);
        dir.write("demo.wasm", &demo_component());
        reference = reg.reference("demo/offline:1.0.0");
        missing = reg.reference("demo/never-pulled:1.0.0");
        dir.run(&["push", &reference, "demo.wasm"]).success();
        run_cached(&dir, &cache, &["pull", &reference, "-d", "warm.wasm"]).success();
    } // the registry is stopped here

    run_cached(&dir, &cache, &["pull", &reference, "--offline", "-d", "offline.wasm"]).success();
    assert_eq!(dir.read("offline.wasm"), demo_component());
    let inspect = run_cached(&dir, &cache, &["inspect", &reference, "--offline", "-o", "json"]).success().stdout_json();
    assert_eq!(str_field(&inspect["layers"][0], "digest"), sha256_digest(&demo_component()));

    let failed = run_cached(&dir, &cache, &["pull", &missing, "--offline", "-d", "none.wasm"]).failure();
    assert!(failed.stderr.contains("offline") && failed.stderr.contains("not in the cache"), "{failed}");
    assert!(!dir.path("none.wasm").exists());
    // Without --offline the stopped registry is an error, not a silent cache hit of something else.
    let failed = run_cached(&dir, &cache, &["pull", &missing, "-d", "none.wasm"]).failure();
    assert!(failed.stderr.contains("connection refused") || failed.stderr.contains("error"), "{failed}");
}

#[test]
fn concurrent_pulls_share_one_cache() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    let wasm = big_component(2 * 1024 * 1024);
    dir.write("big.wasm", &wasm);
    let reference = reg.reference("demo/concurrent:1.0.0");
    dir.run(&["push", &reference, "big.wasm"]).success();

    let handles: Vec<_> = (0..16)
        .map(|i| {
            let cmd = pull_command(&dir, &cache, &reference, &format!("out-{i}.wasm"));
            std::thread::spawn(move || run_to_end(cmd, format!("concurrent pull {i}")))
        })
        .collect();
    for handle in handles {
        handle.join().expect("pull thread").success();
    }
    for i in 0..16 {
        assert!(dir.read(&format!("out-{i}.wasm")) == wasm, "out-{i}.wasm differs");
    }
    // Racing for the hard link, at most one pull got it: the others wrote copies.
    let layer = cache.join("blobs/sha256").join(digest_hex(&sha256_digest(&wasm)));
    let names = std::os::unix::fs::MetadataExt::nlink(&std::fs::metadata(&layer).expect("cached layer"));
    assert!(names <= 2, "the cached layer has {names} names");
    run_cached(&dir, &cache, &["cache", "verify"]).success();
    let listed = run_cached(&dir, &cache, &["cache", "ls", "-o", "json"]).success().stdout_json();
    let entries = listed["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{listed:#}");
    assert_eq!(str_field(&entries[0], "reference"), reference);
    let leftovers: Vec<_> = std::fs::read_dir(cache.join(".ingest"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn a_corrupted_cached_blob_is_caught_and_refetched() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let reference = reg.reference("demo/corrupt:1.0.0");
    dir.run(&["push", &reference, "demo.wasm"]).success();
    run_cached(&dir, &cache, &["pull", &reference, "-d", "first.wasm"]).success();

    let layer = cache.join("blobs/sha256").join(digest_hex(&sha256_digest(&wasm)));
    let mut bad = wasm.clone();
    bad[10] ^= 0x55;
    std::fs::write(&layer, &bad).expect("corrupt the cached layer");

    // Offline there is nowhere to get good bytes: refuse, write nothing.
    let failed = run_cached(&dir, &cache, &["pull", &reference, "--offline", "-d", "offline.wasm"]).failure();
    assert!(failed.stderr.contains("digest"), "{failed}");
    assert!(!dir.path("offline.wasm").exists());

    // Online, a pull notices, drops the bad blob and fetches it again.
    let healed = run_cached(&dir, &cache, &["pull", &reference, "-d", "healed.wasm"]).success();
    assert!(healed.stderr.contains("digest"), "the refetch is explained: {healed}");
    assert_eq!(dir.read("healed.wasm"), wasm);
    assert_eq!(std::fs::read(&layer).expect("refetched"), wasm);

    // `cache verify` finds a corrupt blob and removes it; the next pull fetches it again.
    std::fs::write(&layer, &bad).expect("corrupt the cached layer again");
    let verify = run_cached(&dir, &cache, &["cache", "verify", "-o", "json"]).failure();
    assert!(verify.stdout.contains(&sha256_digest(&wasm)), "{verify}");
    assert!(!layer.exists(), "the bad blob was removed");
    run_cached(&dir, &cache, &["pull", &reference, "-d", "again.wasm"]).success();
    assert_eq!(dir.read("again.wasm"), wasm);
    assert_eq!(std::fs::read(&layer).expect("refetched"), wasm);
}

#[test]
fn drain_removes_exactly_what_it_says() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    let shared = demo_component();
    let only_b = big_component(32 * 1024);
    dir.write("a.wasm", &shared);
    dir.write("b.wasm", &only_b);
    let a = reg.reference("demo/a:1.0.0");
    let a2 = reg.reference("demo/a2:1.0.0");
    let b = reg.reference("demo/b:1.0.0");
    dir.run(&["push", &a, "a.wasm"]).success();
    dir.run(&["push", &a2, "a.wasm"]).success();
    dir.run(&["push", &b, "b.wasm"]).success();
    for r in [&a, &a2, &b] {
        run_cached(&dir, &cache, &["pull", r, "-d", "x.wasm"]).success();
    }
    let shared_blob = cache.join("blobs/sha256").join(digest_hex(&sha256_digest(&shared)));
    let b_blob = cache.join("blobs/sha256").join(digest_hex(&sha256_digest(&only_b)));

    // One entry: its own blobs go, shared ones stay.
    let out = run_cached(&dir, &cache, &["drain", "oci", &a, "-o", "json"]).success().stdout_json();
    assert_eq!(out, serde_json::json!({"drained": [a.clone()], "success": true}));
    assert!(shared_blob.exists(), "a2 still uses the layer");
    run_cached(&dir, &cache, &["drain", "oci", &b]).success();
    assert!(!b_blob.exists(), "b's layer was only b's");
    let listed = run_cached(&dir, &cache, &["cache", "ls", "-o", "json"]).success().stdout_json();
    let refs: Vec<_> =
        listed["entries"].as_array().expect("entries").iter().map(|e| str_field(e, "reference").to_string()).collect();
    assert_eq!(refs, vec![a2.clone()]);

    // Everything.
    let out = run_cached(&dir, &cache, &["drain", "oci"]).success();
    assert!(out.stdout.starts_with("Successfully cleared caches at:"), "{out}");
    assert!(std::fs::read_dir(&cache).expect("cache dir stays").next().is_none(), "the cache is empty");
}

#[test]
fn the_wasmcloud_host_cache_entry_is_written_on_request() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    dir.write("demo.wasm", &demo_component());
    let reference = reg.reference("demo/host:0.1.0");
    dir.run(&["push", &reference, "demo.wasm"]).success();
    run_cached(&dir, &cache, &["pull", &reference, "-d", "x.wasm", "--wasmcloud-host-cache"]).success();

    // The host's entry goes where the wasmCloud host looks, not into wasmship's cache.
    let host = dir.tmp().join("wasmcloud_ocicache");
    let name = reference.to_lowercase().replace([':', '/', '.'], "_");
    assert!(!cache.join(&name).exists());
    assert_eq!(std::fs::read(host.join(&name)).expect("host entry"), demo_component());
    let digest = std::fs::read_to_string(host.join(format!("{name}.digest"))).expect("host digest file");
    assert_eq!(digest, reg.manifest("demo/host", "0.1.0").expect("pushed").digest);
}

#[test]
fn concurrent_pulls_of_different_references_keep_every_entry() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    let references: Vec<String> = (0..8)
        .map(|i| {
            let wasm = big_component(1024 + i);
            dir.write(&format!("c{i}.wasm"), &wasm);
            let reference = reg.reference(&format!("demo/r{i}:1.0.0"));
            dir.run(&["push", &reference, &format!("c{i}.wasm")]).success();
            reference
        })
        .collect();

    let handles: Vec<_> = references
        .iter()
        .enumerate()
        .map(|(i, reference)| {
            let cmd = pull_command(&dir, &cache, reference, &format!("out-{i}.wasm"));
            std::thread::spawn(move || run_to_end(cmd, format!("concurrent pull {i}")))
        })
        .collect();
    for handle in handles {
        handle.join().expect("pull thread").success();
    }
    let listed = run_cached(&dir, &cache, &["cache", "ls", "-o", "json"]).success().stdout_json();
    let mut cached: Vec<String> =
        listed["entries"].as_array().expect("entries").iter().map(|e| str_field(e, "reference").to_string()).collect();
    cached.sort();
    let mut expected = references.clone();
    expected.sort();
    assert_eq!(cached, expected, "every concurrent pull left its entry");
    assert!(!cache.join("index.json.lock").exists(), "the index lock was released");
    for i in 0..8 {
        assert!(dir.read(&format!("out-{i}.wasm")) == big_component(1024 + i), "out-{i}.wasm differs");
    }
}

#[test]
fn a_pull_killed_mid_blob_leaves_no_visible_blob_and_the_next_pull_succeeds() {
    use crate::util::{Fault, FaultProxy};

    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let proxy = FaultProxy::start(reg.port());
    let cache = cache_dir(&dir);
    let wasm = big_component(2 * 1024 * 1024);
    let layer_digest = sha256_digest(&wasm);
    dir.write("big.wasm", &wasm);
    let reference = proxy.reference("demo/killed:1.0.0");
    dir.run(&["push", &reference, "big.wasm"]).success();

    // The layer trickles out at 128 KiB/s: the pull is killed long before it ends.
    let layer_path = format!("/blobs/{layer_digest}");
    proxy.inject(
        1,
        move |r| r.method == "GET" && r.path().ends_with(&layer_path),
        Fault::SlowResponseBody { bytes_per_sec: 128 * 1024 },
    );
    let mut child = pull_command(&dir, &cache, &reference, "killed.wasm")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the pull");
    // Wait until the layer is being ingested (a temporary file under .ingest grows).
    let ingest = cache.join(".ingest");
    let started = std::time::Instant::now();
    loop {
        let growing = std::fs::read_dir(&ingest)
            .map(|d| d.flatten().any(|e| e.metadata().map(|m| m.len() > 64 * 1024).unwrap_or(false)))
            .unwrap_or(false);
        if growing {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "the ingest never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL the pull");
    child.wait().expect("reap the pull");

    let blob = cache.join("blobs/sha256").join(digest_hex(&layer_digest));
    assert!(!blob.exists(), "a half-downloaded blob became visible");
    assert!(!dir.path("killed.wasm").exists(), "a killed pull left a destination file");
    let listed = run_cached(&dir, &cache, &["cache", "ls", "-o", "json"]).success().stdout_json();
    assert_eq!(listed["entries"], serde_json::json!([]), "no entry names missing content");

    run_cached(&dir, &cache, &["pull", &reference, "-d", "after.wasm"]).success();
    assert!(dir.read("after.wasm") == wasm, "the next pull gives the right bytes");
    assert!(std::fs::read(&blob).expect("layer cached now") == wasm);
    run_cached(&dir, &cache, &["cache", "verify"]).success();
}

#[test]
fn prune_evicts_least_recently_used_entries() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    let old = big_component(300 * 1024);
    let new = big_component(300 * 1024 + 1);
    dir.write("old.wasm", &old);
    dir.write("new.wasm", &new);
    let old_ref = reg.reference("demo/old:1.0.0");
    let new_ref = reg.reference("demo/new:1.0.0");
    dir.run(&["push", &old_ref, "old.wasm"]).success();
    dir.run(&["push", &new_ref, "new.wasm"]).success();
    run_cached(&dir, &cache, &["pull", &old_ref, "-d", "x.wasm"]).success();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    run_cached(&dir, &cache, &["pull", &new_ref, "-d", "y.wasm"]).success();

    // Room for one entry only: the least recently used one goes.
    let out = run_cached(&dir, &cache, &["cache", "prune", "--max-size", "400K", "-o", "json"]).success().stdout_json();
    assert_eq!(out["evicted"], serde_json::json!([old_ref]), "{out:#}");
    assert!(!cache.join("blobs/sha256").join(digest_hex(&sha256_digest(&old))).exists());
    assert!(cache.join("blobs/sha256").join(digest_hex(&sha256_digest(&new))).exists());
    run_cached(&dir, &cache, &["pull", &new_ref, "--offline", "-d", "z.wasm"]).success();
    assert!(dir.read("z.wasm") == new);
}

/// Issue 11: a relative `--cache-dir` was ignored by `pull` and broke `cache ls`/`drain`;
/// it names a directory under the working directory for every command.
#[test]
fn a_relative_cache_dir_is_taken_from_the_working_directory() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    dir.write("app.wasm", &demo_component());
    let reference = reg.reference("demo/relcache:1.0.0");
    dir.run(&["push", &reference, "app.wasm"]).success();

    let pulled = dir.run(&["pull", &reference, "-d", "back.wasm", "--cache-dir", "my-cache", "-o", "json"]).success();
    assert_eq!(dir.read("back.wasm"), demo_component());
    let layer = sha256_digest(&demo_component());
    assert!(
        dir.path("my-cache/blobs/sha256").join(digest_hex(&layer)).is_file(),
        "the layer is cached under ./my-cache: {pulled}"
    );
    let listed = dir.run(&["cache", "ls", "--cache-dir", "my-cache", "-o", "json"]).success().stdout_json();
    let entries = listed["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{listed:#}");
    assert_eq!(str_field(&entries[0], "reference"), reference);
    let drained = dir.run(&["drain", "oci", "--cache-dir", "my-cache", "-o", "json"]).success().stdout_json();
    assert_eq!(drained["success"], true, "{drained:#}");
    assert_eq!(std::fs::read_dir(dir.path("my-cache")).unwrap().count(), 0, "drained");
}

/// Issue 11: a pull whose cache entry or blobs vanish underneath it (a `drain` or `cache
/// prune` in another process) fetches them again instead of failing with a raw I/O error.
#[test]
fn pulls_during_drains_and_prunes_refetch_what_vanished() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    let wasm = big_component(512 * 1024);
    dir.write("app.wasm", &wasm);
    let reference = reg.reference("demo/raced:1.0.0");
    dir.run(&["push", &reference, "app.wasm"]).success();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let drainer = {
        let stop = stop.clone();
        let commands: Vec<Command> = (0..200)
            .map(|i| {
                let mut cmd = if i % 2 == 0 {
                    dir.command(&["drain", "oci"])
                } else {
                    dir.command(&["cache", "prune", "--max-size", "0"])
                };
                cmd.env("WASMSHIP_CACHE_DIR", &cache);
                cmd
            })
            .collect();
        std::thread::spawn(move || {
            let mut runs = Vec::new();
            for (i, cmd) in commands.into_iter().enumerate() {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                runs.push(run_to_end(cmd, format!("drain or prune {i}")));
            }
            runs
        })
    };
    for i in 0..12 {
        let out = format!("out-{i}.wasm");
        run_to_end(pull_command(&dir, &cache, &reference, &out), format!("pull {i}")).success();
        assert!(dir.read(&out) == wasm, "{out} has the pushed bytes");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for run in drainer.join().expect("drainer") {
        run.success();
    }
}
