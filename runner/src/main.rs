//! `wasmship`: a thin native host that runs the wasmship packager — a `wasm32-wasip2`
//! component embedded in this binary — on wasmtime, with explicit capabilities.
//!
//! The runner holds no packaging logic. It reads its own flags (`--component FILE`,
//! `self path`, `self version`; see `cli`), grants the guest its arguments, a filtered
//! environment, stdio, preopened directories (`sandbox`, and the signing-key directory of
//! `par` commands: `keydir`) and outgoing HTTP (`outbound`),
//! loads the component precompiled (`precompiled`) and calls `wasi:cli/run` (`run`).
//!
//! Exit status:
//! - `0`: the packager succeeded;
//! - `1`: the packager reported an error, or the runner could not start it;
//! - `n`: the packager called `exit(n)`;
//! - `101`: the packager trapped (it crashed: a bug), after `error: …` on stderr.
//!
//! Errors are printed as `error: {:#}`; the values of environment variables never are.

mod cli;
mod engine;
mod files;
mod guest;
mod keydir;
mod outbound;
mod precompiled;
mod run;
mod sandbox;
mod self_cmd;
mod state;

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::Invocation;
use crate::guest::Guest;
use crate::run::Exit;

/// Exit status of a run that failed before or outside the guest.
const EXIT_FAILURE: i32 = 1;
/// Exit status of a guest that trapped, as for a Rust panic.
const EXIT_TRAP: i32 = 101;

fn main() {
    let code = match real_main() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            EXIT_FAILURE
        }
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

fn real_main() -> Result<i32> {
    let args = std::env::args_os()
        .skip(1)
        .map(|arg| arg.into_string().map_err(|arg| anyhow::anyhow!("argument {arg:?} is not valid UTF-8")))
        .collect::<Result<Vec<String>>>()?;

    let (component, args) = match cli::parse(args)? {
        Invocation::SelfPath => return self_cmd::path().map(|()| 0),
        Invocation::SelfVersion => return self_cmd::version().map(|()| 0),
        Invocation::Run { component, args } => (component, args),
    };
    let guest = match component {
        Some(path) => Guest::from_file(&path)?,
        None => Guest::embedded(),
    };
    let engine = engine::new()?;
    let component = precompiled::load(&engine, &guest)?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let key_dir = keydir::prepare(&args, &cwd, |name| std::env::var(name).ok())?;
    let extra: Vec<&std::path::Path> = key_dir.iter().map(|k| k.path()).collect();
    let wasi = sandbox::wasi_ctx(&args, &extra)?;

    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
    let exit = runtime.block_on(run::run(&engine, &component, wasi));
    // Do not wait for leftover work (an idle connection, a pending stdin read): the guest is
    // done and the process exits next.
    runtime.shutdown_background();
    if let Some(key_dir) = key_dir {
        key_dir.finish()?;
    }
    match exit? {
        Exit::Code(code) => Ok(code),
        Exit::Trap(error) => {
            eprintln!("error: {error:#}");
            Ok(EXIT_TRAP)
        }
    }
}
