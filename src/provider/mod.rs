//! wasmCloud capability provider archives (PAR): a tar (usually gzipped) of
//! signed claims (`claims.jwt`), one native binary per target and optionally
//! the provider's WIT world, in the format of wasmCloud's `provider-archive`
//! and `wascap` crates.
//!
//! - [`archive`]: the tar container, read with safety checks and written;
//! - [`claims`]: the wascap claims of a provider and the file hashes;
//! - [`sign`]: the signed JWT (Ed25519), encoded and verified;
//! - [`keys`]: nkeys seeds and public keys;
//! - [`keydir`]: where keys come from (arguments, wash's key directory);
//! - [`par`]: a whole archive: load and verify, build and sign.
//!
//! The provider's WIT world (`world.wasm`) is binary WIT from
//! `witpkg::encode`; the CLI hands it in, so this module stays below `witpkg`.

pub mod archive;
pub mod claims;
pub mod keydir;
pub mod keys;
pub mod par;
pub mod sign;

pub use archive::looks_like_archive;
pub use claims::{ProviderClaims, ProviderInfo};
pub use keys::{KeyPair, KeyRole, PublicKey};
pub use par::{ArchiveBuilder, LoadedArchive, load};
pub use sign::Check;

#[cfg(test)]
mod compat_tests;
