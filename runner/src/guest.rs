//! The packager component the runner executes: the build embedded at compile time (its
//! sha256 computed by `build.rs`), or another build given with `--component FILE`.

use std::borrow::Cow;
use std::path::Path;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// The component built from this workspace's `src/` by `build.rs`.
static EMBEDDED: &[u8] = include_bytes!(env!("WASMSHIP_GUEST_WASM"));

/// Hex sha256 of [`EMBEDDED`].
const EMBEDDED_SHA256: &str = env!("WASMSHIP_GUEST_SHA256");

/// A packager component: its bytes and their hex sha256.
pub struct Guest {
    pub bytes: Cow<'static, [u8]>,
    pub sha256: Cow<'static, str>,
}

impl Guest {
    /// The embedded packager.
    pub fn embedded() -> Self {
        Self { bytes: Cow::Borrowed(EMBEDDED), sha256: Cow::Borrowed(EMBEDDED_SHA256) }
    }

    /// Another build of the packager, read from a `.wasm` file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read the component {}", path.display()))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        Ok(Self { bytes: Cow::Owned(bytes), sha256: Cow::Owned(sha256) })
    }
}
