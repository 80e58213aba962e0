//! `wasmship`: a thin native host that runs the wasmship packager — a `wasm32-wasip2`
//! component embedded in this binary — on wasmtime, with explicit capabilities.
//!
//! The runner holds no packaging logic. It reads its own flags and commands (see `cli`),
//! grants the guest its arguments, a filtered environment, stdio, preopened directories
//! (`sandbox`; for `par create`/`par insert` also the signing-key directory, made private:
//! `keydir`), Docker credentials it cannot fetch itself (`credentials`, for the registries
//! the command names: `registries`, `project`) and outgoing HTTP under a policy
//! (`outbound`), loads the component precompiled (`precompiled`) and calls `wasi:cli/run`
//! (`run`).
//!
//! Usage: `wasmship [RUNNER FLAGS] COMMAND [ARGS…]`, or `wasmship self path|version`.
//! Runner flags, before the command, each also as `--flag=VALUE`:
//! - `--component FILE`: run another build of the packager instead of the embedded one;
//! - `--allow-host HOST[:PORT]` (repeatable): allow outgoing requests only to these hosts
//!   (`HOST` alone: any port), plus the token realms and redirect targets (e.g. GHCR's blob
//!   storage) their responses point to; other requests fail as "denied by the host's
//!   outbound policy", with a line on stderr naming the `--allow-host` value that would
//!   allow them. Without the flag every host is allowed.
//! - `--ca-cert FILE` (repeatable): trust the PEM CA certificates in FILE for HTTPS, besides
//!   the bundled web PKI roots; `WASMSHIP_CA_CERTS` (`:`-separated files) adds more.
//!
//! Also read from the packager's arguments: `--insecure-skip-tls-verify` anywhere makes the
//! registries the command names accept any TLS certificate (with a warning on stderr).
//!
//! Environment read by the runner: `WASMSHIP_CA_CERTS`; `DOCKER_CONFIG`/`HOME` (Docker's
//! `config.json`, passed to the guest as `WASMSHIP_DOCKER_CONFIG_JSON`, and its credential
//! helpers, whose answers become `WASMSHIP_HOST_CREDENTIALS`); `PATH` (to find helpers);
//! `WASMSHIP_DEBUG=1` (say why a helper gave nothing, and which token realms and redirect
//! targets `--allow-host` learned); `WASMSHIP_PRECOMPILED_DIR`,
//! `XDG_CACHE_HOME`, `WASMSHIP_CACHE_DIR`.
//!
//! Exit status:
//! - `0`: the packager succeeded;
//! - `1`: the packager reported an error, or the runner could not start it;
//! - `n`: the packager called `exit(n)`;
//! - `101`: the packager trapped (it crashed: a bug), after `error: …` on stderr.
//!
//! Errors are printed as `error: {:#}`; the values of environment variables never are.

mod cli;
mod credentials;
mod engine;
mod files;
mod guest;
mod keydir;
mod outbound;
mod precompiled;
mod project;
mod registries;
mod run;
mod sandbox;
mod self_cmd;
mod state;

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::Invocation;
use crate::guest::Guest;
use crate::outbound::OutboundPolicy;
use crate::project::Project;
use crate::run::Exit;
use crate::sandbox::Grants;

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

    let plan = match cli::parse(args)? {
        Invocation::SelfPath => return self_cmd::path().map(|()| 0),
        Invocation::SelfVersion => return self_cmd::version().map(|()| 0),
        Invocation::Run(plan) => plan,
    };
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let project = Project::load(&cwd);
    let registries = registries::named(&plan.args, project.registry.as_deref());
    let skip_verify = if registries::skip_tls_verify(&plan.args) { registries.as_slice() } else { &[] };
    let ca_files = outbound::ca_files(&plan.ca_certs, files::process_var(outbound::CA_CERTS_VAR));
    let debug = files::process_var("WASMSHIP_DEBUG").is_some_and(|v| !v.is_empty() && v != "0");
    let outbound = OutboundPolicy::from_flags(&plan.allow_hosts, &ca_files, skip_verify, debug)?;

    let guest = match &plan.component {
        Some(path) => Guest::from_file(path)?,
        None => Guest::embedded(),
    };
    let engine = engine::new()?;
    let component = precompiled::load(&engine, &guest)?;
    let key_dir = keydir::prepare(&plan.args, &cwd, |name| std::env::var(name).ok())?;
    let grants = Grants {
        env: credentials::guest_env(&registries, files::process_var, debug),
        read_only_dirs: project.credentials_dir_outside(&cwd).into_iter().collect(),
        read_write_dirs: key_dir.iter().map(|k| k.path().to_path_buf()).collect(),
    };
    let wasi = sandbox::wasi_ctx(&cwd, &plan.args, grants)?;

    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
    let exit = runtime.block_on(run::run(&engine, &component, wasi, outbound));
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
