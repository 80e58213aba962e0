//! The component's exports (wasm32 only): the `wasi:cli/run`
//! export that runs the CLI, the typed `wasmship:packager/oci` export, and
//! `wasmship:packager/plan`, which tells a host what a command needs.

mod oci_export;
mod plan_export;
mod run;

use crate::wasi::bindings;

/// The exports of `wasmship.wasm`.
pub struct Packager;

bindings::export!(Packager with_types_in crate::wasi::bindings);
