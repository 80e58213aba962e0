//! Fuzzes `wkg.lock` parsing (`witpkg::lock::LockFile::parse`). A lock file that
//! parses must write out as text that parses back to the same packages.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmship::witpkg::lock::LockFile;

fuzz_target!(|text: &str| {
    let Ok(lock) = LockFile::parse(text) else {
        return;
    };
    let written = lock.to_text();
    let reread = LockFile::parse(&written).unwrap_or_else(|e| panic!("{written:?} does not parse back: {e}"));
    assert_eq!(reread.to_text(), written);
});
