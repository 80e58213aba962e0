//! Fuzzes wadm application manifests (`app::manifest::parse`): YAML read with positions,
//! then every image scalar located by byte span, rendered back and re-parsed after an edit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmship::app::manifest::{Source, parse};
use wasmship::app::span::{apply, render};

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let Ok(app) = parse(text, "fuzz.yaml") else { return };
    let mut edits = Vec::new();
    for entry in &app.entries {
        if let Source::Image { reference, span: Ok(span) } = &entry.source {
            // The span holds exactly the scalar, on character boundaries.
            assert!(text.get(span.bytes.clone()).is_some());
            edits.push((span.bytes.clone(), render(&format!("{reference}@sha256:00"), span.quote)));
        }
    }
    if edits.is_empty() {
        return;
    }
    let pinned = apply(text, edits);
    let again = parse(&pinned, "pinned.yaml").expect("a pinned manifest parses");
    assert_eq!(again.entries.len(), app.entries.len());
});
