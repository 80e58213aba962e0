//! The wasmCloud host's own cache entry (v1): a file named after the
//! lowercased reference with `:`, `/` and `.` replaced by `_`, holding the
//! Wasm bytes, and `<name>.digest` holding the manifest digest. Writing it
//! lets a host started afterwards find the artifact without the network.
//! Both files are replaced atomically.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::fsutil::{TempFile, write_atomic};
use crate::oci::Digest;

/// The host's file name for `reference`.
pub fn entry_name(reference: &str) -> String {
    reference.to_lowercase().replace([':', '/', '.'], "_")
}

/// Write the host's entry for `reference` into `dir`, copying the Wasm file
/// at `wasm`; returns the entry's path.
pub fn write_entry(dir: &Path, reference: &str, wasm: &Path, manifest_digest: &Digest) -> Result<PathBuf> {
    let target = dir.join(entry_name(reference));
    let mut tmp = TempFile::new_in(dir, "host-entry")?;
    let mut source = std::fs::File::open(wasm).map_err(|e| crate::Error::io(wasm.display(), "open", e))?;
    std::io::copy(&mut source, tmp.file()).map_err(|e| crate::Error::io(target.display(), "write", e))?;
    // The digest file goes last: a host that finds it finds the bytes too.
    tmp.persist(&target)?;
    write_atomic(&dir.join(format!("{}.digest", entry_name(reference))), manifest_digest.to_string().as_bytes())?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_entries_like_the_host() {
        assert_eq!(super::entry_name("ghcr.io/wasmCloud/Http-Hello:0.1.0"), "ghcr_io_wasmcloud_http-hello_0_1_0");
        assert_eq!(super::entry_name("localhost:5000/a/b:1"), "localhost_5000_a_b_1");
    }
}
