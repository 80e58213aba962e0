//! Fuzzes manifest parsing (`RawManifest::parse`): image manifests and indexes
//! (OCI and Docker) as a registry or layout serves them, under each media type
//! a store may declare. A parsed image manifest must serialise again.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wasmship::oci::manifest::Manifest;
use wasmship::oci::{RawManifest, media_type};

#[derive(Debug, Arbitrary)]
struct Served {
    /// Which `Content-Type` the store declares (see `declared_type`).
    content_type: u8,
    body: Vec<u8>,
}

fn declared_type(choice: u8) -> &'static str {
    match choice % 6 {
        0 => media_type::OCI_MANIFEST,
        1 => media_type::OCI_INDEX,
        2 => media_type::DOCKER_MANIFEST,
        3 => media_type::DOCKER_MANIFEST_LIST,
        4 => "application/json",
        _ => "",
    }
}

fuzz_target!(|served: Served| {
    let raw = RawManifest::from_bytes(declared_type(served.content_type), served.body);
    let _ = raw.descriptor();
    match raw.parse() {
        Ok(Manifest::Image(manifest)) => {
            let _ = manifest.to_raw();
        }
        Ok(Manifest::Index(index)) => {
            let _ = serde_json::to_vec(&index).expect("index serialises");
        }
        Err(_) => {}
    }
});
