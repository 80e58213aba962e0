//! Issue 11, the shared default cache: the cache is the user's own (`~/.cache/wasmship/oci`,
//! created 0700), a cache directory another user could write is refused before anything
//! is read from it, a symbolic link planted where a cache is expected is never followed,
//! `drain` and `cache prune` empty nothing that is not a cache, and a missing cache is
//! simply empty.

use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;

use crate::util::{Registry, TestDir, demo_component, digest_hex, sha256_digest};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).mode() & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A pushed demo component: (registry, reference, bytes).
fn pushed(dir: &TestDir, name: &str) -> (Registry, String, Vec<u8>) {
    let reg = Registry::start(dir);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let reference = reg.reference(&format!("demo/{name}:1.0.0"));
    dir.run(&["push", &reference, "demo.wasm"]).success();
    (reg, reference, wasm)
}

#[test]
fn the_default_cache_is_per_user_and_private() {
    let dir = TestDir::new();
    let (_reg, reference, wasm) = pushed(&dir, "home");
    dir.run(&["pull", &reference, "-d", "out.wasm"]).success();
    assert_eq!(dir.read("out.wasm"), wasm);

    let cache = dir.home().join(".cache/wasmship/oci");
    assert!(cache.join("index.json").is_file() && cache.join(".wasmship-cache").is_file(), "cache at {cache:?}");
    assert_eq!(mode(&cache), 0o700, "created for the user alone");
    let index = std::fs::read_to_string(cache.join("index.json")).expect("index.json");
    assert!(index.contains(&reference), "{index}");
    assert!(!dir.tmp().join("wasmcloud_ocicache").exists(), "nothing lands in the shared temporary directory");

    // XDG_CACHE_HOME wins over HOME.
    let xdg = dir.root().join("xdg");
    std::fs::create_dir(&xdg).expect("mkdir");
    let xdg_text = xdg.display().to_string();
    dir.run_env(&["pull", &reference, "-d", "xdg.wasm"], &[("XDG_CACHE_HOME", &xdg_text)]).success();
    assert!(xdg.join("wasmship/oci/index.json").is_file());
}

#[test]
fn a_cache_others_can_write_is_refused_before_it_is_read() {
    let dir = TestDir::new();
    let (_reg, reference, _wasm) = pushed(&dir, "shared");
    let cache = dir.root().join("shared-cache");
    let cache_text = cache.display().to_string();
    dir.run(&["pull", &reference, "-d", "first.wasm", "--cache-dir", &cache_text]).success();

    set_mode(&cache, 0o777);
    let run = dir.run(&["pull", &reference, "-d", "second.wasm", "--cache-dir", &cache_text]).failure();
    assert!(run.stderr.contains("is writable by group or others (mode 777)"), "{run}");
    assert!(run.stderr.contains("--cache-dir"), "says how to use another cache: {run}");
    assert!(!dir.path("second.wasm").exists());
    dir.run(&["cache", "ls", "--cache-dir", &cache_text]).failure();

    // A blob writable by others inside a directory they can enter is just as bad.
    set_mode(&cache, 0o755);
    let blob = cache.join("blobs/sha256").join(digest_hex(&sha256_digest(&demo_component())));
    set_mode(&blob, 0o666);
    let run = dir.run(&["pull", &reference, "-d", "third.wasm", "--cache-dir", &cache_text]).failure();
    assert!(run.stderr.contains("is writable by group or others (mode 666)"), "{run}");
    set_mode(&blob, 0o644);
    dir.run(&["pull", &reference, "-d", "fourth.wasm", "--cache-dir", &cache_text]).success();
}

#[test]
fn a_cache_or_blob_of_another_user_is_refused() {
    if !is_root() {
        eprintln!("skipped: only root can give files to another user (CI runs as root)");
        return;
    }
    let dir = TestDir::new();
    let (_reg, reference, _wasm) = pushed(&dir, "other");
    let cache = dir.root().join("their-cache");
    let cache_text = cache.display().to_string();
    dir.run(&["pull", &reference, "-d", "first.wasm", "--cache-dir", &cache_text]).success();

    // A blob that another user owns could be rewritten by them at any time.
    let blob = cache.join("blobs/sha256").join(digest_hex(&sha256_digest(&demo_component())));
    std::os::unix::fs::chown(&blob, Some(65534), Some(65534)).expect("chown");
    let run = dir.run(&["pull", &reference, "-d", "second.wasm", "--cache-dir", &cache_text]).failure();
    assert!(run.stderr.contains("belongs to another user (uid 65534)"), "{run}");
    assert!(!dir.path("second.wasm").exists());

    // So could a cache directory they created first (its index could name anything).
    std::os::unix::fs::chown(&blob, Some(0), Some(0)).expect("chown");
    std::os::unix::fs::chown(&cache, Some(65534), Some(65534)).expect("chown");
    let run = dir.run(&["pull", &reference, "-d", "third.wasm", "--cache-dir", &cache_text, "--offline"]).failure();
    assert!(run.stderr.contains("belongs to another user (uid 65534)"), "{run}");
}

#[test]
fn a_planted_link_is_never_followed_and_drain_empties_only_caches() {
    let dir = TestDir::new();
    let victim = dir.root().join("victim");
    std::fs::create_dir(&victim).expect("mkdir");
    std::fs::write(victim.join("thesis.tex"), "years of work").expect("write");

    // Another user plants the wasmCloud host's cache directory as a link to the victim's files.
    symlink(&victim, dir.tmp().join("wasmcloud_ocicache")).expect("symlink");
    let run = dir.run(&["drain", "oci"]).failure();
    assert!(run.stderr.contains("is a symbolic link") && run.stderr.contains("victim"), "{run}");
    assert_eq!(std::fs::read(victim.join("thesis.tex")).expect("kept"), b"years of work");

    // And a cache named by a link is not used either.
    let link = dir.root().join("cache-link");
    symlink(&victim, &link).expect("symlink");
    let link_text = link.display().to_string();
    let run = dir.run(&["drain", "oci", "--cache-dir", &link_text]).failure();
    assert!(run.stderr.contains("is a symbolic link"), "{run}");

    // A directory that is not a cache is never emptied or pruned.
    let victim_text = victim.display().to_string();
    let run = dir.run(&["drain", "oci", "--cache-dir", &victim_text]).failure();
    assert!(run.stderr.contains("is not a wasmship cache") && run.stderr.contains("nothing was removed"), "{run}");
    let run = dir.run(&["cache", "prune", "--max-size", "0", "--cache-dir", &victim_text]).failure();
    assert!(run.stderr.contains("is not a wasmship cache"), "{run}");
    assert_eq!(std::fs::read(victim.join("thesis.tex")).expect("kept"), b"years of work");
}

#[test]
fn drain_oci_empties_the_cache_and_the_wasmcloud_host_cache() {
    let dir = TestDir::new();
    let (_reg, reference, _wasm) = pushed(&dir, "drain");
    dir.run(&["pull", &reference, "-d", "x.wasm", "--wasmcloud-host-cache"]).success();
    let cache = dir.home().join(".cache/wasmship/oci");
    let host = dir.tmp().join("wasmcloud_ocicache");
    let entry = reference.to_lowercase().replace([':', '/', '.'], "_");
    assert!(host.join(&entry).is_file(), "the host's entry is where the wasmCloud host looks");
    assert!(!cache.join(&entry).exists(), "not in wasmship's own cache");

    let out = dir.run(&["drain", "oci", "-o", "json"]).success().stdout_json();
    let drained: Vec<&str> = out["drained"].as_array().expect("drained").iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(drained, [cache.display().to_string(), host.display().to_string()]);
    assert_eq!(std::fs::read_dir(&cache).expect("kept").count(), 0);
    assert_eq!(std::fs::read_dir(&host).expect("kept").count(), 0);
}

#[test]
fn missing_caches_are_empty_and_never_created() {
    let dir = TestDir::new();
    let tmp = dir.tmp();
    dir.run(&["drain", "all"]).success();
    dir.run(&["drain", "lib"]).success();
    dir.run(&["drain", "oci"]).success();
    let listed = dir.run(&["cache", "ls", "-o", "json"]).success().stdout_json();
    assert_eq!(listed["entries"], serde_json::json!([]));
    dir.run(&["cache", "verify"]).success();
    dir.run(&["cache", "prune", "--max-size", "0"]).success();
    assert_eq!(std::fs::read_dir(&tmp).expect("tmp").count(), 0, "nothing created under TMPDIR");
    assert!(!dir.home().join(".cache/wasmship/oci").exists(), "no cache created to be emptied");
}
