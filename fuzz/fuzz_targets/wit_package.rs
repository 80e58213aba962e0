//! Fuzzes binary WIT package decoding (`witpkg::decode::decode`): a WIT package
//! pulled from a registry, then its name, exports, dependencies and WIT text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmship::witpkg::decode::{decode, print_package};

fuzz_target!(|bytes: &[u8]| {
    let Ok(decoded) = decode(bytes, "fuzz.wasm") else {
        return;
    };
    let _ = decoded.spec();
    let _ = decoded.exports();
    let _ = decoded.dependencies();
    let _ = print_package(&decoded.resolve, decoded.package, &[]);
});
