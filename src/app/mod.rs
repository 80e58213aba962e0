//! wadm applications: what a manifest names ([`manifest`]), read from YAML whose scalars
//! know their bytes ([`yaml`], [`span`]) so that pinning and relocating rewrite references
//! and nothing else; the lock of what they resolved to ([`lock`]); and the operations
//! ([`ops`]); a bundle as one tar ([`tarball`]).

pub mod lock;
pub mod manifest;
pub mod ops;
pub mod span;
pub mod tarball;
pub mod yaml;
