//! Fuzzes the project's `wasmcloud.toml` (`config::wasmcloud::ProjectFile::parse`)
//! and the credentials file it names (`config::wasmcloud::parse_credentials`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmship::config::wasmcloud::{ProjectFile, normalize_host, parse_credentials};

fuzz_target!(|bytes: &[u8]| {
    let _ = parse_credentials(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = ProjectFile::parse(text);
        let _ = normalize_host(text);
    }
});
