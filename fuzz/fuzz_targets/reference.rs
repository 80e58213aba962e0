//! Fuzzes reference parsing (`Reference::parse`): registry references and
//! `oci-layout://` references as users and project files give them. A reference
//! that parses must print as text that parses back to the same reference.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmship::reference::{Reference, is_loopback_host, names_registry};

fuzz_target!(|input: &str| {
    let _ = names_registry(input);
    let _ = is_loopback_host(input);
    let Ok(reference) = Reference::parse(input) else {
        return;
    };
    let _ = reference.short_name();
    let _ = reference.check_latest_policy("push", false);
    if let Reference::Registry(registry) = &reference {
        let _ = registry.api_host();
        let _ = registry.is_loopback();
        let _ = registry.manifest_selector();
    }
    let printed = reference.to_string();
    let reparsed = Reference::parse(&printed).unwrap_or_else(|e| panic!("{printed:?} does not parse back: {e}"));
    assert_eq!(reparsed, reference, "{input:?} printed as {printed:?}");
});
