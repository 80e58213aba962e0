//! Artifacts built from Wasm files: what a file is ([`wasm_file`]) and the
//! CNCF Wasm OCI artifact (config + manifest) made from it ([`build`]); the
//! artifact of a wasmCloud provider archive ([`provider`]).

pub mod build;
pub mod provider;
pub mod wasm_file;

pub use build::{ArtifactPlan, BuildOptions, build_artifact};
pub use wasm_file::{WasmFile, WasmKind, analyze};
