//! Artifacts built from Wasm files: what a file is ([`wasm_file`]) and the
//! CNCF Wasm OCI artifact (config + manifest) made from it ([`build`]).

pub mod build;
pub mod wasm_file;

pub use build::{ArtifactPlan, BuildOptions, build_artifact};
pub use wasm_file::{WasmFile, WasmKind, analyze};
