//! The component to publish: which file, and the version its metadata gives.

use std::fs;
use std::path::{Path, PathBuf};

use wasmparser::{Parser, Payload};

/// Where `cargo build --release --target wasm32-wasip2` puts components, under a project.
const RELEASE_DIR: &str = "target/wasm32-wasip2/release";

/// The newest `*.wasm` file in `dir`'s release build directory, or in `dir` itself when it
/// has none.
pub fn find(dir: &Path) -> Result<PathBuf, String> {
    let release = dir.join(RELEASE_DIR);
    let searched = if release.is_dir() { release } else { dir.to_path_buf() };
    let entries = fs::read_dir(&searched)
        .map_err(|e| format!("{}: cannot read the directory ({e}); is it granted (`--dir`)?", searched.display()))?;
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "wasm"))
        .filter_map(|entry| {
            let metadata = entry.metadata().ok().filter(fs::Metadata::is_file)?;
            Some((metadata.modified().ok()?, entry.path()))
        })
        .max_by_key(|(modified, _)| *modified)
        .map(|(_, path)| path)
        .ok_or_else(|| format!("{}: no *.wasm file", searched.display()))
}

/// The version in `file`'s top-level `version` custom section (what
/// `wasm-tools metadata add --version` writes, and what the packager turns into the
/// `org.opencontainers.image.version` annotation).
pub fn version(file: &Path) -> Result<String, String> {
    let wasm = fs::read(file).map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
    let invalid = |e: wasmparser::BinaryReaderError| format!("{}: not WebAssembly: {e}", file.display());
    // Sections of nested modules and components are theirs, not the component's.
    let mut depth = 0u32;
    for payload in Parser::new(0).parse_all(&wasm) {
        match payload.map_err(invalid)? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) if depth > 0 => depth -= 1,
            Payload::CustomSection(section) if depth == 0 && section.name() == "version" => {
                return String::from_utf8(section.data().to_vec())
                    .map_err(|_| format!("{}: the `version` section is not UTF-8", file.display()));
            }
            _ => {}
        }
    }
    Err(format!("{}: no version in its metadata; add one with `wasm-tools metadata add --version X`", file.display()))
}

/// `version` as an OCI tag: `+` (semver build metadata, not allowed in tags) becomes `_`.
pub fn tag(version: &str) -> Result<String, String> {
    let tag = version.replace('+', "_");
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
    let valid = tag.len() <= 128
        && tag.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && tag.bytes().all(allowed);
    if valid { Ok(tag) } else { Err(format!("version {version:?} cannot be an OCI tag")) }
}
