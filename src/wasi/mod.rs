//! The ground floor under WASI (wasm32 only): the bindings generated from `wit/world.wit`
//! and the few host facts the rest of the crate asks for, and positional file writes
//! (`positional`). Only `http::wasi`, `terminal`, `fsutil` and the exports in `component` use them; nothing here imports from above.

pub(crate) mod bindings;
pub mod positional;

/// Whether the host says stderr is a terminal (`wasi:cli/terminal-stderr`).
pub fn stderr_is_terminal() -> bool {
    bindings::wasi::cli::terminal_stderr::get_terminal_stderr().is_some()
}

/// The guest paths of the directories the host preopened (`wasi:filesystem/preopens`).
pub fn preopened_dirs() -> Vec<String> {
    bindings::wasi::filesystem::preopens::get_directories().into_iter().map(|(_, path)| path).collect()
}
