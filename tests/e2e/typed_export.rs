//! The packager's typed export, `wasmship:packager/oci`, called from a host generated with
//! `wasmtime::component::bindgen!`: the component the `wasmship` binary embeds pushes a
//! small component into an OCI layout directory, inspects it and pulls it back.
//!
//! Only the temporary directory is preopened (at its absolute path); no network is needed.

use std::path::Path;

use wasmtime::Store;
use wasmtime_wasi::{FsPerms, WasiCtx};

use crate::util::wasi_host::{Host, compiled, host};
use crate::util::{EPOCH, WASM_CONFIG, WASM_LAYER, sha256_digest};

use crate::util::wasi_host::bindings;
use bindings::Packager;
use bindings::exports::wasmship::packager0_1_0::oci::{Error, PullRequest, PushRequest, RegistryOptions};

/// A small but real component to publish: one exported function.
const SAMPLE_WAT: &str = r#"
(component
  (core module $m (func (export "answer") (result i32) i32.const 42))
  (core instance $i (instantiate $m))
  (func $answer (result u32) (canon lift (core func $i "answer")))
  (export "answer" (func $answer))
)"#;

/// A packager instance allowed to use `dir` (preopened at its absolute path).
async fn packager(dir: &Path) -> (Store<Host>, Packager) {
    let wasi = WasiCtx::builder()
        .inherit_stderr()
        // One `created` time, so the same content makes the same config and manifest.
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .preopened_dir(dir, dir.to_str().unwrap(), FsPerms::ReadWrite)
        .unwrap()
        .build();
    let (linker, mut store) = host(wasi);
    let packager = Packager::instantiate_async(&mut store, &compiled().1, &linker).await.unwrap();
    (store, packager)
}

fn options() -> RegistryOptions {
    RegistryOptions { insecure: Vec::new(), allow_latest: false }
}

fn assert_digest(digest: &str) {
    let hex = digest.strip_prefix("sha256:").unwrap_or_else(|| panic!("{digest}"));
    assert_eq!(hex.len(), 64, "{digest}");
    assert!(hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{digest}");
}

#[tokio::test(flavor = "current_thread")]
async fn push_inspect_pull_through_an_oci_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sample = wat::parse_str(SAMPLE_WAT).unwrap();
    let sample_path = dir.join("answer.wasm");
    std::fs::write(&sample_path, &sample).unwrap();
    let sample_digest = sha256_digest(&sample);
    let reference = format!("oci-layout://{}:v1", dir.join("layout").display());

    let (mut store, packager) = packager(dir).await;
    let oci = packager.wasmship_packager0_1_0_oci();

    let push = PushRequest {
        reference: reference.clone(),
        file: sample_path.to_str().unwrap().to_owned(),
        annotations: vec![("org.example.note".into(), "typed export test".into())],
        chunked: false,
        options: options(),
    };
    let pushed = oci.call_push(&mut store, &push).await.unwrap().unwrap();
    assert_digest(&pushed.digest);
    assert_eq!(pushed.tag.as_deref(), Some("v1"));
    assert!(pushed.size > 0);
    assert_eq!((pushed.uploaded_blobs, pushed.skipped_blobs), (2, 0));

    let info = oci.call_inspect(&mut store, &reference, &options()).await.unwrap().unwrap();
    assert_eq!(info.manifest.digest, pushed.digest);
    assert_eq!(info.manifest.size, pushed.size);
    assert_eq!(info.config.media_type, WASM_CONFIG);
    assert_digest(&info.config.digest);
    assert_eq!(info.layers.len(), 1);
    assert_eq!(info.layers[0].media_type, WASM_LAYER);
    assert_eq!(info.layers[0].digest, sample_digest);
    assert_eq!(info.layers[0].size, sample.len() as u64);

    let destination = dir.join("pulled.wasm");
    let pull = PullRequest {
        reference: reference.clone(),
        destination: Some(destination.to_str().unwrap().to_owned()),
        expected_digest: Some(pushed.digest.clone()),
        options: options(),
    };
    let pulled = oci.call_pull(&mut store, &pull).await.unwrap().unwrap();
    assert_eq!(pulled.digest, pushed.digest);
    assert_eq!(pulled.size, sample.len() as u64);
    assert_eq!(pulled.media_type, WASM_LAYER);
    assert_eq!(std::fs::read(&destination).unwrap(), sample);

    // A manifest digest other than the expected one is refused before anything is written.
    let elsewhere = dir.join("refused.wasm");
    let wrong = PullRequest {
        destination: Some(elsewhere.to_str().unwrap().to_owned()),
        expected_digest: Some(format!("sha256:{}", "0".repeat(64))),
        ..pull
    };
    let refused = oci.call_pull(&mut store, &wrong).await.unwrap();
    assert!(matches!(refused, Err(Error::DigestMismatch(_))), "{refused:?}");
    assert!(!elsewhere.exists());

    // The same content again under another tag: both blobs are already there.
    let again = PushRequest { reference: format!("oci-layout://{}:v2", dir.join("layout").display()), ..push };
    let repushed = oci.call_push(&mut store, &again).await.unwrap().unwrap();
    assert_eq!((repushed.uploaded_blobs, repushed.skipped_blobs), (0, 2));

    // The manifest carries the annotation given to push.
    assert!(
        info.manifest.annotations.contains(&("org.example.note".into(), "typed export test".into())),
        "{:?}",
        info.manifest.annotations
    );
}

#[tokio::test(flavor = "current_thread")]
async fn errors_are_typed() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut store, packager) = packager(tmp.path()).await;
    let oci = packager.wasmship_packager0_1_0_oci();

    let result = oci.call_inspect(&mut store, "Not A Reference!", &options()).await.unwrap();
    assert!(matches!(result, Err(Error::InvalidReference(_))), "{result:?}");

    let pull = PullRequest {
        reference: "no spaces allowed:here".into(),
        destination: None,
        expected_digest: None,
        options: options(),
    };
    let result = oci.call_pull(&mut store, &pull).await.unwrap();
    assert!(matches!(result, Err(Error::InvalidReference(_))), "{result:?}");
}
