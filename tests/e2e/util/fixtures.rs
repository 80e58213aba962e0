//! The Wasm inputs the tests push: a small component built here from the component text format
//! and stamped with wasm-metadata, a core module, a file that is not Wasm, and the packager's
//! own component (found with `wasmship self path`).

use std::sync::OnceLock;

use wasm_metadata::{AddMetadata, AddMetadataField, Authors, Description, Homepage, Licenses, Source, Version};

use super::TestDir;

/// The interface the demo component exports.
pub const DEMO_EXPORT: &str = "example:demo/greet@0.1.0";
/// The interface the demo component imports.
pub const DEMO_IMPORT: &str = "example:demo/host@0.1.0";

/// The wasm-metadata the demo component carries, and the manifest annotation each must become.
pub const DEMO_METADATA: [(&str, &str); 6] = [
    ("org.opencontainers.image.version", "1.2.3"),
    ("org.opencontainers.image.description", "Greets whoever asks"),
    ("org.opencontainers.image.licenses", "Apache-2.0"),
    ("org.opencontainers.image.source", "https://example.com/demo/source.git"),
    ("org.opencontainers.image.url", "https://example.com/demo"),
    ("org.opencontainers.image.authors", "Demo Authors <demo@example.com>"),
];

/// The first eight bytes of a binary component: `\0asm`, version 0x0d, layer 1.
pub const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

/// Bytes that are not WebAssembly.
pub const NOT_WASM: &[u8] = b"#!/bin/sh\necho this is a shell script, not WebAssembly\n";

/// A component that imports `example:demo/host@0.1.0` (function `ping`) and exports
/// `example:demo/greet@0.1.0` (function `greet`, which calls `ping`).
const DEMO_WAT: &str = r#"
(component
  (import "example:demo/host@0.1.0" (instance $host
    (export "ping" (func))
  ))
  (core module $m
    (import "host" "ping" (func $ping))
    (func (export "greet") call $ping)
  )
  (core func $ping (canon lower (func $host "ping")))
  (core instance $host_core (export "ping" (func $ping)))
  (core instance $i (instantiate $m (with "host" (instance $host_core))))
  (func $greet (canon lift (core func $i "greet")))
  (instance $greet_instance (export "greet" (func $greet)))
  (export "example:demo/greet@0.1.0" (instance $greet_instance))
)
"#;

/// The demo component with its wasm-metadata (name, version, description, licenses, source,
/// homepage, authors).
pub fn demo_component() -> Vec<u8> {
    let bare = wat::parse_str(DEMO_WAT).expect("the demo component parses");
    let value = |key: &str| DEMO_METADATA.iter().find(|(k, _)| *k == key).map(|(_, v)| *v).expect("known key");
    let mut add = AddMetadata::default();
    add.name = AddMetadataField::Set("demo".to_owned());
    add.version = AddMetadataField::Set(Version::new(value("org.opencontainers.image.version")));
    add.description = AddMetadataField::Set(Description::new(value("org.opencontainers.image.description")));
    add.licenses =
        AddMetadataField::Set(Licenses::new(value("org.opencontainers.image.licenses")).expect("SPDX expression"));
    add.source = AddMetadataField::Set(Source::new(value("org.opencontainers.image.source")).expect("source URL"));
    add.homepage = AddMetadataField::Set(Homepage::new(value("org.opencontainers.image.url")).expect("homepage URL"));
    add.authors = AddMetadataField::Set(Authors::new(value("org.opencontainers.image.authors")));
    add.to_wasm(&bare).expect("add wasm-metadata")
}

/// A core module (not a component) with one exported function.
pub fn core_module() -> Vec<u8> {
    wat::parse_str(r#"(module (memory 1) (func (export "_start")))"#).expect("the module parses")
}

/// A valid component of `payload` bytes plus a few: an empty component with one custom section
/// of pseudo-random bytes (the same on every call), for pushes far larger than one write.
pub fn big_component(payload: usize) -> Vec<u8> {
    const NAME: &[u8] = b"wasmship-e2e-payload";
    fn leb128(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut out = COMPONENT_HEADER.to_vec();
    out.push(0); // custom section
    let mut name = Vec::new();
    leb128(NAME.len(), &mut name);
    name.extend_from_slice(NAME);
    leb128(name.len() + payload, &mut out);
    out.extend_from_slice(&name);
    // xorshift64: cheap, and incompressible enough that no layer of the stack can shortcut it.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    out.reserve(payload);
    let start = out.len();
    while out.len() - start < payload {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let take = (payload - (out.len() - start)).min(8);
        out.extend_from_slice(&state.to_le_bytes()[..take]);
    }
    out
}

/// The bytes of the packager's own component, read from the path `wasmship self path` prints
/// (asked once per test process). Tests that push it write these bytes into their own directory.
pub fn packager_component() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        // The path may lie under this directory's HOME: read it before the directory goes.
        let dir = TestDir::new();
        let path = dir.self_path();
        std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    })
}
