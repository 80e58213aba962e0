//! Fixtures shared by the end-to-end tests: a directory per test with a hermetic runner for
//! the binary (`dir`), a throwaway `docker-registry` with its access log (`registry`), the Wasm
//! inputs (`fixtures`) and small helpers for digests and JSON.

mod dir;
mod fixtures;
mod registry;

pub use dir::{Run, TestDir, run_to_end};
pub use fixtures::{
    COMPONENT_HEADER, DEMO_EXPORT, DEMO_IMPORT, DEMO_METADATA, NOT_WASM, big_component, core_module, demo_component,
    packager_component,
};
pub use registry::{Registry, blob_uploads, manifest_puts};

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
