//! OCI leaf types: media types, digests, descriptors, manifests and the Wasm
//! config. Nothing here does I/O or imports other modules of the crate but
//! `error`, so everything is unit-tested natively.

pub mod annotations;
pub mod config;
pub mod descriptor;
pub mod digest;
pub mod manifest;
pub mod media_type;
pub mod referrers;

pub use config::{ComponentInfo, WasmConfig};
pub use descriptor::Descriptor;
pub use digest::{Digest, DigestWriter};
pub use manifest::{ImageIndex, ImageManifest, RawManifest};

/// The largest manifest we accept from a store (registries cap at 4 MiB).
pub const MANIFEST_MAX_BYTES: u64 = 8 * 1024 * 1024;
/// The largest config blob we read into memory.
pub const CONFIG_MAX_BYTES: u64 = 4 * 1024 * 1024;
