//! Interoperability with skopeo, an independent OCI implementation: it reads the layouts we
//! write (manifest bytes and layer intact), and we pull from a layout that skopeo wrote from
//! our registry push. skopeo must be installed (`.ci/run` installs it): a missing skopeo fails
//! these tests instead of letting them pass unchecked.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Registry, Run, TestDir, demo_component, digest_hex, run_to_end, sha256_digest, str_field};

const SKOPEO: &str = "/usr/bin/skopeo";

/// Runs skopeo with a clean environment (no user policy or auth files), expecting success.
fn skopeo(dir: &TestDir, args: &[&str]) -> Run {
    assert!(
        Path::new(SKOPEO).is_file(),
        "{SKOPEO} is not installed: run .ci/run (it installs it) or apt-get install skopeo"
    );
    let home = dir.root().join("skopeo-home");
    fs::create_dir_all(&home).expect("create skopeo's HOME");
    let mut cmd = Command::new(SKOPEO);
    cmd.arg("--insecure-policy").args(args).current_dir(dir.work()).env_clear().env("HOME", &home);
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    run_to_end(cmd, format!("skopeo {}", args.join(" "))).success()
}

#[test]
fn skopeo_reads_the_layout_we_write() {
    let dir = TestDir::new();
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let push = dir.run(&["push", "oci-layout://store:v1", "demo.wasm", "-o", "json"]).success();
    let digest = str_field(&push.stdout_json(), "digest").to_owned();
    let store = dir.path("store");
    let ours = fs::read(store.join("blobs/sha256").join(digest_hex(&digest))).expect("the manifest blob exists");
    let source = format!("oci:{}:v1", store.display());

    let raw = skopeo(&dir, &["inspect", "--raw", &source]);
    assert_eq!(raw.stdout.as_bytes(), ours.as_slice());
    assert_eq!(sha256_digest(raw.stdout.as_bytes()), digest);

    let out: PathBuf = dir.root().join("skopeo-dir");
    let target = format!("dir:{}", out.display());
    skopeo(&dir, &["copy", &source, &target]);
    let layer = fs::read(out.join(digest_hex(&sha256_digest(&wasm)))).expect("skopeo wrote the layer under its digest");
    assert_eq!(layer, wasm);
    assert_eq!(fs::read(out.join("manifest.json")).expect("skopeo wrote manifest.json"), ours);
}

#[test]
fn we_pull_from_a_layout_skopeo_wrote() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let reference = reg.reference("demo/via-skopeo:1.0.0");
    dir.run(&["push", &reference, "demo.wasm"]).success();
    let served = reg.manifest("demo/via-skopeo", "1.0.0").expect("pushed");

    let store = dir.path("from-skopeo");
    skopeo(
        &dir,
        &[
            "copy",
            "--src-tls-verify=false",
            &format!("docker://{reference}"),
            &format!("oci:{}:copied", store.display()),
        ],
    );

    let out = dir.run(&["inspect", "oci-layout://from-skopeo:copied", "-o", "json"]).success().stdout_json();
    assert_eq!(str_field(&out, "digest"), served.digest);

    dir.run(&["pull", "oci-layout://from-skopeo:copied", "--destination", "copied.wasm"]).success();
    assert_eq!(dir.read("copied.wasm"), wasm);
}
