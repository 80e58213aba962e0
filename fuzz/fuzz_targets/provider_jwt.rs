//! Fuzzes provider claims JWT decoding (`provider::sign::decode`): the
//! `claims.jwt` of a provider archive, its header, wascap claims and signature.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmship::provider::sign;

fuzz_target!(|jwt: &str| {
    if let Ok(token) = sign::decode(jwt) {
        let _ = token.signature.is_valid();
        let _ = token.claims.info();
    }
});
