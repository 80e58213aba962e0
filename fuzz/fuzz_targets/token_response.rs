//! Fuzzes token endpoint response parsing (`auth::token::parse`): the JSON a
//! registry's token service answers with.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmship::auth::token;

fuzz_target!(|body: &[u8]| {
    if let Some(token) = token::parse(body) {
        assert!(!token.value.expose().is_empty());
        // The caller adds the lifetime to the clock; it must not overflow.
        let _ = std::time::Instant::now() + token.lifetime;
    }
});
