//! Fuzzes provider archive reading (`provider::par::load`): a `.par` or
//! `.par.gz` (tar, optionally gzipped) with `claims.jwt`, `<target>.bin` and
//! `world.wasm` entries, as pulled from a registry or read from disk.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wasmship::provider::par;

#[derive(Debug, Arbitrary)]
struct Archive<'a> {
    keep_files: bool,
    bytes: &'a [u8],
}

fuzz_target!(|archive: Archive| {
    let Ok(loaded) = par::load(archive.bytes, archive.keep_files, "fuzz.par") else {
        return;
    };
    let _ = loaded.require_valid();
    let _ = loaded.claims().info();
    if archive.keep_files
        && let Ok(builder) = loaded.into_builder()
    {
        let _ = builder.targets();
    }
});
