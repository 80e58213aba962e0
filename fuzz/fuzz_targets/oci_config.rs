//! Fuzzes the small OCI documents wasmship reads from stores: the Wasm config
//! blob (`WasmConfig`, as `inspect` reads it), a content descriptor and a
//! digest string (`Digest::from_str`). A config that parses must serialise again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmship::oci::{Descriptor, Digest, WasmConfig};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(config) = serde_json::from_slice::<WasmConfig>(bytes) {
        let _ = config.to_bytes();
    }
    if let Ok(descriptor) = serde_json::from_slice::<Descriptor>(bytes) {
        let _ = descriptor.annotation(wasmship::oci::annotations::TITLE);
    }
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Ok(digest) = text.parse::<Digest>()
    {
        assert_eq!(digest.to_string(), text);
    }
});
