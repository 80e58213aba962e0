//! `wasi:cli/run`: the command-line entry point.

use super::Packager;
use super::bindings::exports::wasi::cli::run::Guest;

impl Guest for Packager {
    fn run() -> Result<(), ()> {
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
