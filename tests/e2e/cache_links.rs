//! How a pull hands out a cached layer: as a hard link to the verified cache blob (no copy),
//! as a copy of its own with `--link-mode copy` or on another file system, and through the
//! verification seal that lets an unchanged blob skip its hash — which any write breaks, a
//! write through a pulled hard link included.

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::cache::run_cached;
use crate::util::{Registry, TestDir, cache_dir, demo_component, digest_hex, sha256_digest};

fn layer_in(cache: &Path, wasm: &[u8]) -> PathBuf {
    cache.join("blobs/sha256").join(digest_hex(&sha256_digest(wasm)))
}

fn inode(path: &Path) -> u64 {
    fs::metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display())).ino()
}

/// Flip one byte of `path` in place, keeping its size (and its inode).
fn flip_byte_in_place(path: &Path, offset: u64) {
    let mut file = fs::OpenOptions::new().read(true).write(true).open(path).expect("open for writing");
    let mut byte = [0u8; 1];
    file.seek(SeekFrom::Start(offset)).expect("seek");
    std::io::Read::read_exact(&mut file, &mut byte).expect("read a byte");
    file.seek(SeekFrom::Start(offset)).expect("seek back");
    file.write_all(&[byte[0] ^ 0x55]).expect("write the flipped byte");
}

/// A registry holding the demo component under `repo_tag`; its reference.
fn pushed(dir: &TestDir, reg: &Registry, repo_tag: &str) -> String {
    dir.write("demo.wasm", &demo_component());
    let reference = reg.reference(repo_tag);
    dir.run(&["push", &reference, "demo.wasm"]).success();
    reference
}

/// `cached` and `linked` of a `pull -o json` run.
fn pulled(dir: &TestDir, cache: &Path, reference: &str, destination: &str, extra: &[&str]) -> (bool, bool) {
    let mut args = vec!["pull", reference, "-d", destination, "-o", "json"];
    args.extend_from_slice(extra);
    let json = run_cached(dir, cache, &args).success().stdout_json();
    (json["cached"].as_bool().expect("cached"), json["linked"].as_bool().expect("linked"))
}

fn names(path: &Path) -> u64 {
    fs::metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display())).nlink()
}

#[test]
fn a_cached_layer_is_handed_out_as_a_hard_link_while_nobody_else_shares_it() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    let reference = pushed(&dir, &reg, "demo/linked:1.0.0");
    let wasm = demo_component();
    let layer = layer_in(&cache, &wasm);

    assert_eq!(pulled(&dir, &cache, &reference, "cold.wasm", &[]), (false, true));
    assert_eq!(inode(&dir.path("cold.wasm")), inode(&layer), "the cache blob itself, not a copy");
    assert_eq!(names(&layer), 2);

    // Shared already: a second destination gets a copy, so editing one pulled file in
    // place can never change another.
    assert_eq!(pulled(&dir, &cache, &reference, "warm.wasm", &[]), (true, false));
    assert_ne!(inode(&dir.path("warm.wasm")), inode(&layer));
    assert_eq!(names(&layer), 2);

    fs::remove_file(dir.path("cold.wasm")).unwrap();
    assert_eq!(pulled(&dir, &cache, &reference, "again.wasm", &[]), (true, true));
    assert_eq!(inode(&dir.path("again.wasm")), inode(&layer));
    for file in ["warm.wasm", "again.wasm"] {
        assert_eq!(dir.read(file), wasm, "{file}");
    }
}

#[test]
fn link_mode_copy_always_writes_a_file_of_its_own() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    let reference = pushed(&dir, &reg, "demo/copied:1.0.0");
    let wasm = demo_component();
    let layer = layer_in(&cache, &wasm);

    assert_eq!(pulled(&dir, &cache, &reference, "cold.wasm", &["--link-mode", "copy"]), (false, false));
    assert_eq!(pulled(&dir, &cache, &reference, "warm.wasm", &["--link-mode", "copy"]), (true, false));
    let by_env = dir
        .run_env(
            &["pull", &reference, "-d", "env.wasm", "-o", "json"],
            &[("WASMSHIP_CACHE_DIR", cache.to_str().unwrap()), ("WASMSHIP_LINK_MODE", "copy")],
        )
        .success()
        .stdout_json();
    assert_eq!(by_env["linked"].as_bool(), Some(false), "{by_env:#}");
    for copy in ["cold.wasm", "warm.wasm", "env.wasm"] {
        assert_eq!(dir.read(copy), wasm);
        assert_ne!(inode(&dir.path(copy)), inode(&layer), "{copy} is a file of its own");
    }
    assert_eq!(names(&layer), 1, "copies do not link");

    let refused = run_cached(&dir, &cache, &["pull", &reference, "-d", "bad.wasm", "--link-mode", "symlink"]).failure();
    assert!(refused.stderr.contains("hardlink or copy"), "{refused}");
    assert!(!dir.path("bad.wasm").exists());
}

#[test]
fn pulling_again_onto_the_same_link_leaves_nothing_behind() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    let reference = pushed(&dir, &reg, "demo/again:1.0.0");
    for _ in 0..3 {
        run_cached(&dir, &cache, &["pull", &reference, "-d", "out.wasm"]).success();
    }
    // Renaming a link over another name of the same file is a no-op: the temporary name must
    // still go away.
    assert_eq!(dir.listing(), ["demo.wasm", "out.wasm"].map(String::from).into());
    let layer = layer_in(&cache, &demo_component());
    assert_eq!(inode(&dir.path("out.wasm")), inode(&layer), "still the one link");
    assert_eq!(names(&layer), 2);
    assert_eq!(dir.read("out.wasm"), demo_component());
}

#[test]
fn a_pulled_file_edited_in_place_is_noticed_and_the_cache_heals() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    let reference = pushed(&dir, &reg, "demo/edited:1.0.0");
    let wasm = demo_component();
    let layer = layer_in(&cache, &wasm);
    assert_eq!(pulled(&dir, &cache, &reference, "app.wasm", &[]), (false, true));
    assert_eq!(pulled(&dir, &cache, &reference, "other.wasm", &[]), (true, false));

    // Editing the linked file in place writes the cache's blob too (one file, two names),
    // but no other pulled file.
    flip_byte_in_place(&dir.path("app.wasm"), 12);
    let edited = dir.read("app.wasm");
    assert_ne!(edited, wasm);
    assert_eq!(dir.read("other.wasm"), wasm, "the other pulled file is a copy");

    let start = reg.requests().len();
    let healed = run_cached(&dir, &cache, &["pull", &reference, "-d", "again.wasm"]).success();
    assert!(healed.stderr.contains("digest"), "the refetch is explained: {healed}");
    assert!(
        reg.requests()[start..].iter().any(|r| r.method == "GET" && r.path.contains(&sha256_digest(&wasm))),
        "the layer was fetched again"
    );
    assert_eq!(dir.read("again.wasm"), wasm);
    assert_eq!(fs::read(&layer).expect("cached layer"), wasm);
    assert_eq!(dir.read("app.wasm"), edited, "the user's edit stays theirs");
    assert_ne!(inode(&dir.path("app.wasm")), inode(&layer), "the cache let go of the edited file");
    run_cached(&dir, &cache, &["cache", "verify"]).success();
}

#[test]
fn cache_verify_hashes_blobs_whatever_their_seal_says() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    let reference = pushed(&dir, &reg, "demo/hidden:1.0.0");
    let wasm = demo_component();
    let layer = layer_in(&cache, &wasm);
    run_cached(&dir, &cache, &["pull", &reference, "-d", "first.wasm", "--link-mode", "copy"]).success();

    // A change made to look like no change (same size, same inode, modification time set
    // back): the seal cannot see it; only hashing can.
    let modified = fs::metadata(&layer).unwrap().modified().unwrap();
    flip_byte_in_place(&layer, 12);
    fs::File::options().write(true).open(&layer).unwrap().set_modified(modified).unwrap();

    let seal = cache.join(".seals/sha256").join(digest_hex(&sha256_digest(&wasm)));
    assert!(seal.is_file(), "the layer was sealed on its way in");
    let verify = run_cached(&dir, &cache, &["cache", "verify", "-o", "json"]).failure();
    assert!(verify.stdout.contains(&sha256_digest(&wasm)), "{verify}");
    assert!(!layer.exists(), "the bad blob was removed");
    assert!(!seal.exists(), "and its seal");
    run_cached(&dir, &cache, &["pull", &reference, "-d", "again.wasm"]).success();
    assert_eq!(dir.read("again.wasm"), wasm);
    assert_eq!(dir.read("first.wasm"), wasm, "a copy is not touched by changes to the cache");
}

#[test]
fn a_destination_on_another_file_system_gets_a_verified_copy() {
    let dir = TestDir::new();
    let other = Path::new("/dev/shm");
    let same_device = |a: &Path, b: &Path| fs::metadata(a).unwrap().dev() == fs::metadata(b).unwrap().dev();
    if !other.is_dir() || same_device(other, dir.root()) {
        eprintln!("skipped: no second file system at {} on this machine", other.display());
        return;
    }
    let reg = Registry::start(&dir);
    let cache = cache_dir(&dir);
    let reference = pushed(&dir, &reg, "demo/elsewhere:1.0.0");
    run_cached(&dir, &cache, &["pull", &reference, "-d", "here.wasm"]).success();

    let target_dir = tempfile_dir_in(other);
    let target = target_dir.join("there.wasm");
    let run = run_cached(&dir, &cache, &["pull", &reference, "-d", target.to_str().unwrap(), "-o", "json"])
        .success()
        .stdout_json();
    assert_eq!((run["cached"].as_bool(), run["linked"].as_bool()), (Some(true), Some(false)), "{run:#}");
    assert_eq!(fs::read(&target).unwrap(), demo_component());
    let names: Vec<_> = fs::read_dir(&target_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("there.wasm")], "no temporary file left");
    fs::remove_dir_all(&target_dir).unwrap();
}

/// A new empty directory under `parent`, named for this process and test.
fn tempfile_dir_in(parent: &Path) -> PathBuf {
    let dir = parent.join(format!("wasmship-e2e-{}-{:?}", std::process::id(), std::thread::current().id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}
