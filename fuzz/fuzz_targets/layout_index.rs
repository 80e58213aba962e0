//! Fuzzes an OCI image layout's `index.json` (`store::layout::LayoutIndex::parse`)
//! and the tag lookups done on it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmship::store::layout::LayoutIndex;

fuzz_target!(|bytes: &[u8]| {
    let Ok(mut index) = LayoutIndex::parse(bytes, "index.json") else {
        return;
    };
    let tags = index.tags();
    if let Some(tag) = tags.first() {
        let found = index.find_tag(tag).cloned();
        if let Some(descriptor) = found {
            let _ = index.find_digest(&descriptor.digest);
            index.set(descriptor, Some("fuzz"));
        }
        index.remove_tag(tag);
    }
});
