//! The runner's `self` commands: `self path` writes the embedded packager component to the
//! runner cache and prints where (so the packager can publish itself:
//! `wasmship push REF $(wasmship self path)`); `self version` prints what this binary is.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::engine;
use crate::files;
use crate::guest::Guest;

/// Hex digits of the sha256 in the file name: enough to tell builds apart.
const NAME_SHA_LEN: usize = 16;

/// Writes the embedded component (unless an equally long copy is already there) and prints
/// its absolute path.
pub fn path() -> Result<()> {
    let guest = Guest::embedded();
    let root = files::cache_root(files::process_var).context("no cache directory: set XDG_CACHE_HOME or HOME")?;
    let file = std::path::absolute(root)?.join(file_name(&guest.sha256));

    let present = file.metadata().is_ok_and(|meta| meta.is_file() && meta.len() == guest.bytes.len() as u64);
    if !present {
        files::write_atomic(&file, &guest.bytes).with_context(|| format!("cannot write {}", file.display()))?;
    }
    println!("{}", file.display());
    Ok(())
}

/// Prints the runner version, the wasmtime version and the embedded component's digest.
pub fn version() -> Result<()> {
    let guest = Guest::embedded();
    let mut out = std::io::stdout().lock();
    writeln!(out, "wasmship-runner {}", env!("CARGO_PKG_VERSION"))?;
    writeln!(out, "wasmtime {} ({})", engine::WASMTIME_VERSION, engine::TARGET)?;
    writeln!(out, "component sha256:{}", guest.sha256)?;
    Ok(())
}

fn file_name(sha256: &str) -> PathBuf {
    let prefix = sha256.get(..NAME_SHA_LEN).unwrap_or(sha256);
    PathBuf::from(format!("wasmship-{prefix}.wasm"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_name_uses_a_digest_prefix() {
        let sha = "0123456789abcdef".repeat(4);
        assert_eq!(file_name(&sha), PathBuf::from("wasmship-0123456789abcdef.wasm"));
    }
}
