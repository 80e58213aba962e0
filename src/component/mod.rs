//! The component's exports (wasm32 only): the `wasi:cli/run` export that runs the CLI,
//! the typed library `wasmship:packager@0.2.0` (`client`, `providers`, `packages`), the
//! first typed interface `wasmship:packager/oci@0.1.0`, and `plan`, which tells a host
//! what a command needs.

mod caller_streams;
mod client_export;
mod errors;
mod oci_export;
mod packages_export;
mod plan_export;
mod providers_export;
mod run;

use crate::wasi::bindings;

/// The exports of `wasmship.wasm`.
pub struct Packager;

bindings::export!(Packager with_types_in crate::wasi::bindings);
