//! wasmship: moves WebAssembly components in and out of OCI registries and OCI
//! image layouts. This crate is the packager; built for `wasm32-wasip2` it is the
//! `wasmship.wasm` component (CLI through `wasi:cli/run`, library through
//! `wasmship:packager/oci`), built natively it is unit-tested with plain `cargo test`.
//!
//! The layout reads as the architecture:
//! - [`oci`] and [`reference`]: leaf types (media types, digests, descriptors,
//!   manifests, the Wasm config; references) with no I/O;
//! - [`artifact`]: what a Wasm file is and the artifact built from it;
//! - [`store`]: one [`store::Store`] trait, a registry and an OCI-layout backend;
//! - [`http`]: the HTTP transport the registry backend speaks through;
//! - [`auth`] and [`config`]: registry authentication, and where credentials
//!   come from;
//! - [`cache`]: the local OCI cache (`wasmcloud_ocicache`), an OCI layout;
//! - [`provider`]: wasmCloud capability provider archives (tar, claims,
//!   nkeys signatures);
//! - [`signing`]: cosign-format keys and signatures (legacy `.sig` and Sigstore
//!   bundles), pure computation;
//! - [`ops`]: push, pull and inspect, shared by the CLI and the typed export;
//! - [`app`]: wadm application manifests: what they name, their lock, pinning;
//! - [`plan`]: what a command needs from its host (paths, registries, network),
//!   resolved before it runs; [`host_contract`]: the variables the runner sets;
//! - [`cli`]: argument parsing and output;
//! - `wasi` (wasm32 only): the generated bindings and host facts, the ground floor;
//! - `component` (wasm32 only): the exports.

pub mod app;
pub mod artifact;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod config;
pub mod error;
pub mod fsutil;
pub mod host_contract;
pub mod http;
pub mod mirror;
pub mod oci;
pub mod ops;
pub mod plan;
pub mod provider;
pub mod reference;
pub mod signing;
pub mod store;
pub mod terminal;
pub mod witpkg;

#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod wasi;

pub use error::{Error, ErrorKind, Result};
