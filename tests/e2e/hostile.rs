//! Hostile input never crashes the packager: every command, given garbage files, broken OCI
//! layouts and caches, malformed WIT and project files, ends with a clean error (exit 1) or
//! success — never a trap (exit 101) or a Rust panic message (issue 11).

use crate::util::{Run, TestDir};

/// Inputs that are wrong in the ways files out there are wrong.
fn garbage_files(dir: &TestDir) -> Vec<&'static str> {
    let files: [(&str, Vec<u8>); 7] = [
        ("empty.wasm", Vec::new()),
        ("noise.bin", (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect()),
        ("magic-only.wasm", b"\0asm\x01\0\0\0\xff\xff\xff\xff\x0f".to_vec()),
        ("component-header.wasm", b"\0asm\x0d\0\x01\0\x07\xff\xff\xff\xff\x0f".to_vec()),
        ("fake.par.gz", [&[0x1f, 0x8b, 0x08, 0x00][..], &[0xaa; 64][..]].concat()),
        ("fake.par", [b"claims.jwt".as_slice(), &[0u8; 502], b"ustar\x0000"].concat()),
        ("not-json.json", b"{\"a\": [1, 2".to_vec()),
    ];
    files
        .iter()
        .map(|(name, bytes)| {
            dir.write(name, bytes);
            *name
        })
        .collect()
}

/// A layout whose `index.json` and manifest are broken in several ways.
fn broken_layouts(dir: &TestDir) {
    dir.write("bad-index/oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    dir.write("bad-index/index.json", b"{\"manifests\": 7");
    let manifest = b"{\"schemaVersion\": 2, \"layers\": \"nope\"}";
    let hex = crate::util::digest_hex(&crate::util::sha256_digest(manifest)).to_owned();
    dir.write(&format!("bad-manifest/blobs/sha256/{hex}"), manifest);
    dir.write("bad-manifest/oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{hex}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"1"}}}}]}}"#,
        manifest.len()
    );
    dir.write("bad-manifest/index.json", index.as_bytes());
    dir.write("bad-cache/index.json", b"[[[[");
    dir.write("bad-cache/oci-layout", b"not json");
}

#[track_caller]
fn assert_no_crash(run: &Run) {
    assert!(matches!(run.code, Some(0 | 1)), "expected a clean exit (0 or 1), not a crash: {run}");
    assert!(!run.stderr.contains("panicked") && !run.stderr.contains("wasm backtrace"), "a panic: {run}");
}

#[test]
fn no_command_crashes_on_hostile_input() {
    let dir = TestDir::new();
    let files = garbage_files(&dir);
    broken_layouts(&dir);
    dir.write("wit/broken.wit", b"package a:b@1.0.0;\ninterface x { f: func( }\n");
    dir.write("wasmship.toml", b"[[registry.pull.sources]]\ntarget = 7\n");
    dir.write("wkg.lock", b"version = \"one\"\n[[packages]]\n");

    let mut runs: Vec<Vec<String>> = Vec::new();
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for file in &files {
        runs.push(args(&["push", "oci-layout://out:1", file]));
        runs.push(args(&["push", "oci-layout://out:1", file, "--config", "not-json.json"]));
        runs.push(args(&["inspect", &format!("./{file}")]));
        runs.push(args(&["par", "insert", file, "--binary", "noise.bin", "--arch", "x86_64-linux", "-d", "keys"]));
        runs.push(args(&["wit", "publish", file, "127.0.0.1:9/wit/x:1.0.0"]));
    }
    for layout in ["bad-index", "bad-manifest", "missing"] {
        runs.push(args(&["pull", &format!("oci-layout://{layout}:1"), "-d", "x.wasm"]));
        runs.push(args(&["inspect", &format!("oci-layout://{layout}:1")]));
        runs.push(args(&["tags", &format!("oci-layout://{layout}")]));
        runs.push(args(&["copy", &format!("oci-layout://{layout}:1"), "oci-layout://copy:1"]));
    }
    for cache in [&["cache", "ls"][..], &["cache", "verify"], &["cache", "prune", "--max-size", "1"], &["drain", "oci"]]
    {
        let mut run = args(cache);
        run.extend(args(&["--cache-dir", "bad-cache"]));
        runs.push(run);
    }
    for wit in [&["wit", "build"][..], &["wit", "check", "--offline"], &["wit", "fetch", "--offline"]] {
        runs.push(args(wit));
    }
    runs.push(args(&["par", "create", "-n", "x", "-v", "y", "-b", "noise.bin", "-j", "not-json.json", "-d", "keys"]));
    runs.push(args(&["pull", "127.0.0.1:9/\u{1}/x:1"]));
    runs.push(args(&["plan", "push", "oci-layout://", ""]));

    for run in &runs {
        assert_no_crash(&dir.run(run));
    }
    // Errors in JSON go through their own path.
    for file in &files {
        assert_no_crash(&dir.run(&["push", "oci-layout://out:1", file, "-o", "json"]));
    }
}
