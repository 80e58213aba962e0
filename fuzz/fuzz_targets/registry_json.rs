//! Fuzzes wasm-pkg `registry.json` parsing (`witpkg::wellknown::parse`, the
//! `/.well-known/wasm-pkg/registry.json` a registry serves) and the OCI location
//! it gives (`RegistryMetadata::oci_location`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmship::witpkg::wellknown;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(metadata) = wellknown::parse(bytes) {
        let _ = metadata.oci_location("example.com");
    }
});
