//! Fuzzes `WWW-Authenticate` header parsing (`Challenge::parse_all`): the
//! challenges a registry answers a 401 with.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmship::auth::Challenge;

fuzz_target!(|header: &str| {
    for challenge in Challenge::parse_all(header) {
        let _ = challenge.param("realm");
        let _ = challenge.param("service");
        let _ = challenge.param("scope");
    }
});
