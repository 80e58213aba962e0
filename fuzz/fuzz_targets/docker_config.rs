//! Fuzzes Docker `config.json` parsing (`config::docker::ConfigFile::parse` and
//! its `auths` lookup) and the credential helpers' answers the runner hands over
//! (`config::docker::parse_helper_credentials`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmship::config::docker::{ConfigFile, normalize_key, parse_helper_credentials};

const REGISTRIES: [&str; 4] = ["docker.io", "ghcr.io", "localhost:5000", "https://index.docker.io/v1/"];

fuzz_target!(|bytes: &[u8]| {
    if let Some(config) = ConfigFile::parse(bytes) {
        for registry in REGISTRIES {
            let _ = config.credential_for(registry);
        }
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = normalize_key(text);
        let _ = parse_helper_credentials(text);
    }
});
