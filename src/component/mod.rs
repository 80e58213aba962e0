//! The component side (wasm32 only): generated bindings, the `wasi:cli/run`
//! export that runs the CLI, the typed `wasmship:packager/oci` export, and
//! `wasmship:packager/plan`, which tells a host what a command needs.

pub(crate) mod bindings;
mod oci_export;
mod plan_export;
mod run;

/// The exports of `wasmship.wasm`.
pub struct Packager;

bindings::export!(Packager with_types_in bindings);

/// Whether the host says stderr is a terminal (`wasi:cli/terminal-stderr`).
pub fn stderr_is_terminal() -> bool {
    bindings::wasi::cli::terminal_stderr::get_terminal_stderr().is_some()
}

/// The guest paths of the directories the host preopened
/// (`wasi:filesystem/preopens`).
pub fn preopened_dirs() -> Vec<String> {
    bindings::wasi::filesystem::preopens::get_directories().into_iter().map(|(_, path)| path).collect()
}
