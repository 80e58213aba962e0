//! The provider's WIT world for `world.wasm`: the WIT package in a directory
//! (with its `deps/`), encoded as binary WIT — a type-only component, as
//! `wash par create --wit-directory` embeds it (without the wasm-metadata
//! `wit build` stamps on published packages).

use std::path::Path;

use crate::error::Result;

/// Parse the WIT package in `dir` and encode it as binary WIT.
pub fn encode_dir(dir: &Path) -> Result<Vec<u8>> {
    crate::witpkg::encode::encode_dir(dir).map(|(_, bytes)| bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_a_wit_directory_as_binary_wit() {
        let dir = std::env::temp_dir().join(format!("wasmship-wit-{:x}", crate::fsutil::random_u64()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("provider.wit"),
            "package acme:demo@0.1.0;\n\ninterface store {\n  get: func(key: string) -> option<string>;\n}\n\n\
             world provider {\n  export store;\n}\n",
        )
        .unwrap();
        let bytes = encode_dir(&dir).unwrap();
        assert!(bytes.starts_with(b"\0asm\x0d\0\x01\0"), "a component");
        let decoded = wit_component::decode(&bytes).unwrap();
        let resolve = decoded.resolve();
        let package = &resolve.packages[decoded.package()];
        assert_eq!(package.name.to_string(), "acme:demo@0.1.0");
        assert!(package.worlds.contains_key("provider"));

        std::fs::write(dir.join("provider.wit"), "package broken").unwrap();
        assert!(encode_dir(&dir).unwrap_err().to_string().contains("WIT in"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
