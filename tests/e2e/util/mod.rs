//! Fixtures shared by the end-to-end tests: a directory per test with a hermetic runner for
//! the binary (`dir`), a throwaway `docker-registry` with its access log, open or behind Basic
//! or token auth (`registry`), a token server for the latter (`token_server`), a
//! fault-injecting proxy and a redirect target (`fault_proxy`, on the small HTTP/1.1 of
//! `http_wire`, which also carries a native transport for the packager's registry store,
//! `tcp_transport`), the Wasm inputs (`fixtures`), gzip streams of gigabytes of zeros
//! (`zeros_gzip`), a wasmtime host of the packager component
//! without the runner (`wasi_host`), a pseudo-terminal for runs that ask the user
//! (`terminal`) and small helpers for digests, JSON and secrets.

mod certificates;
mod dir;
mod docker;
mod fault_proxy;
mod fixtures;
mod http_wire;
mod registry;
mod tcp_transport;
mod terminal;
mod token_server;
pub mod wasi_host;
mod zeros_gzip;

pub use certificates::make_certificates;
pub use dir::{Run, TestDir, run_to_end};
pub use docker::{helper_queries, install_credential_helper, write_docker_config};
pub use fault_proxy::{Fault, FaultProxy, ObjectStore};
pub use fixtures::{
    COMPONENT_HEADER, DEMO_EXPORT, DEMO_IMPORT, DEMO_METADATA, NOT_WASM, big_component, core_module, demo_component,
    packager_component,
};
pub use http_wire::RequestHead;
pub use registry::{Registry, Request, blob_uploads, manifest_puts};
pub use tcp_transport::TcpTransport;
pub use terminal::run_on_terminal;
pub use token_server::{TokenField, TokenServer};
pub use zeros_gzip::write_zeros_gzip;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Media types of the CNCF Wasm OCI artifact, as the tests expect them on the wire.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
pub const WASM_LAYER: &str = "application/wasm";

/// A fixed `SOURCE_DATE_EPOCH` (2023-11-14T22:13:20Z) for reproducible pushes.
pub const EPOCH: &str = "1700000000";
/// The RFC 3339 date and time `EPOCH` stands for, without the zone suffix (`Z` or `+00:00`).
pub const EPOCH_RFC3339_PREFIX: &str = "2023-11-14T22:13:20";

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The hex part of a `sha256:<hex>` digest.
pub fn digest_hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or_else(|| panic!("not a sha256 digest: {digest}"))
}

/// Parses JSON, naming what was being parsed when it is not JSON.
pub fn parse_json(what: &str, bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("{what} is not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

/// `value[key]` as a string, panicking with the whole value when it is missing or not a string.
pub fn str_field<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_else(|| panic!("`{key}` is not a string in {value:#}"))
}

/// `value[key]` as an unsigned integer, panicking with the whole value otherwise.
pub fn u64_field(value: &Value, key: &str) -> u64 {
    value[key].as_u64().unwrap_or_else(|| panic!("`{key}` is not an unsigned integer in {value:#}"))
}

/// `value[key]` as a list of strings, panicking with the whole value otherwise.
pub fn str_list(value: &Value, key: &str) -> Vec<String> {
    value[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is not a list in {value:#}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_else(|| panic!("`{key}` holds a non-string in {value:#}")).to_owned())
        .collect()
}

/// Whether `s` looks like an RFC 3339 UTC timestamp (`YYYY-MM-DDTHH:MM:SS[.frac](Z|+00:00)`).
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && (b[10] == b'T' || b[10] == b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    shape && matches!(rest, "Z" | "z" | "+00:00")
}

/// The cache directory of a test (outside its working directory), created.
pub fn cache_dir(dir: &TestDir) -> std::path::PathBuf {
    let cache = dir.root().join("cache");
    std::fs::create_dir_all(&cache).expect("create cache dir");
    cache
}

/// A cache directory no run has used yet (under the test's root), for `--cache-dir`: a pull
/// given it downloads from the registry instead of reusing blobs that an earlier command, or
/// another test with the same bytes, left in the shared default cache.
pub fn fresh_cache(dir: &TestDir) -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    dir.root().join(format!("cache-{n}")).to_str().expect("UTF-8 test path").to_owned()
}

/// `Authorization: Basic` value for `user`/`password`.
pub fn basic_authorization(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// Asserts that none of `secrets` (passwords, tokens, `Authorization` values) appears in what
/// `run` printed, on either stream; empty strings are ignored.
#[track_caller]
pub fn assert_conceals(run: &Run, secrets: &[&str]) {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(!text.contains(secret), "{stream} of `{}` shows the secret {secret:?}:\n{text}", run.shown);
        }
    }
}
