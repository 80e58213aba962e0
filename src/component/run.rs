//! `wasi:cli/run`: the command-line entry point.

use super::Packager;
use super::bindings::exports::wasi::cli::run::Guest;

impl Guest for Packager {
    fn run() -> Result<(), ()> {
        enter_host_working_directory();
        match crate::cli::run(std::env::args()) {
            0 => Ok(()),
            code => {
                // Flush what the CLI printed before the host ends the instance.
                use std::io::Write;
                let _ = std::io::stdout().flush();
                let _ = std::io::stderr().flush();
                std::process::exit(code)
            }
        }
    }
}

/// The runner names the host's working directory in `WASMSHIP_CWD` and, when
/// the command needs it, preopens it under that absolute path (not as `.`,
/// which would make every absolute path the host did not grant resolve inside
/// it); relative paths then resolve against it as on the host. A command that
/// uses no relative path is not granted it, and does not enter it. Without the
/// variable (e.g. under `wasmtime run --dir .`) the working directory stays as
/// the host set it.
fn enter_host_working_directory() {
    let Some(dir) = crate::config::env::var(crate::host_contract::CWD) else { return };
    if !crate::fsutil::reachable(std::path::Path::new(&dir)) {
        return;
    }
    if let Err(e) = std::env::set_current_dir(&dir) {
        eprintln!("note: cannot enter {dir}: {e}; relative paths may not resolve");
    }
}
