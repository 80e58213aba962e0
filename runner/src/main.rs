//! `wasmship`: a thin native host that runs the wasmship packager — a `wasm32-wasip2`
//! component embedded in this binary — on wasmtime, with explicit capabilities.
//!
//! The runner holds no packaging logic and knows none of the packager's flags. For each
//! command it first asks the packager what the command needs (`plan`: a cheap first
//! instance of the component, answering `wasmship:packager/plan`), then runs the command in
//! a second instance granted exactly that: its arguments, a filtered environment, stdio,
//! the directories the plan names (`sandbox`; owner-only ones kept private: `owner_only`),
//! credentials for the plan's registries only (`credentials`: Docker `auths` entries,
//! credential-helper answers, the project's credentials file as content) and outgoing HTTP
//! to those registries only, under the user's policy (`outbound`). The component is loaded
//! precompiled (`precompiled`) and run through `wasi:cli/run` (`run`).
//!
//! Usage: `wasmship [RUNNER FLAGS] COMMAND [ARGS…]`, or `wasmship self path|version`.
//! Runner flags, before the command, each also as `--flag=VALUE`:
//! - `--component FILE`: run another build of the packager instead of the embedded one;
//! - `--allow-host HOST[:PORT]` (repeatable): allow outgoing requests only to these hosts
//!   (`HOST` alone: any port), plus the token realms and redirect targets (e.g. GHCR's blob
//!   storage) their responses point to; other requests fail as "denied by the host's
//!   outbound policy", with a line on stderr naming the `--allow-host` value that would
//!   allow them. Without the flag the plan's registries are allowed.
//! - `--ca-cert FILE` (repeatable): trust the PEM CA certificates in FILE for HTTPS, besides
//!   the bundled web PKI roots; `WASMSHIP_CA_CERTS` (`:`-separated files) adds more.
//! - `--dir DIR` (repeatable): for a `--component` that is not the packager (it exports no
//!   plan, e.g. a component composed with the packager), a directory to grant read-write;
//!   such a component gets these and the `--allow-host` hosts only (`foreign`).
//!
//! Environment read by the runner: `WASMSHIP_CA_CERTS`; `DOCKER_CONFIG`/`HOME` (Docker's
//! `config.json` and its credential helpers); `PATH` (to find helpers); `WASMSHIP_DEBUG=1`
//! (name every grant, say why a helper gave nothing, and which token realms and redirect
//! targets were learned); `WASMSHIP_PRECOMPILED_DIR`, `XDG_CACHE_HOME`. What it sets for
//! the guest is `host_contract`.
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
mod foreign;
mod guard;
mod guest;
#[path = "../../src/host_contract.rs"]
mod host_contract;
mod interrupt;
mod outbound;
mod owner_only;
mod plan;
mod precompiled;
mod prompt;
mod run;
mod sandbox;
mod self_cmd;
mod state;
mod view;

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::Invocation;
use crate::guest::Guest;
use crate::outbound::OutboundPolicy;
use crate::owner_only::{OwnerOnly, PrivateFiles};
use crate::plan::{Grants, Network, Planned};
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
    // Before any other thread starts, so that all of them leave the signals to it.
    interrupt::install();
    let args = std::env::args_os()
        .skip(1)
        .map(|arg| arg.into_string().map_err(|arg| anyhow::anyhow!("argument {arg:?} is not valid UTF-8")))
        .collect::<Result<Vec<String>>>()?;

    let invocation = match cli::parse(args)? {
        Invocation::SelfPath => return self_cmd::path().map(|()| 0),
        Invocation::SelfVersion => return self_cmd::version().map(|()| 0),
        Invocation::Run(invocation) => invocation,
    };
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let debug = files::process_var("WASMSHIP_DEBUG").is_some_and(|v| !v.is_empty() && v != "0");

    let guest = match &invocation.component {
        Some(path) => Guest::from_file(path)?,
        None => Guest::embedded(),
    };
    let engine = engine::new()?;
    let component = precompiled::load(&engine, &guest)?;
    // Imports are resolved once for the plan's instance and the command's.
    let pre = run::linker(&engine)?
        .instantiate_pre(&component)
        .map_err(anyhow::Error::from)
        .context("the component imports more than WASI 0.2 and wasi:http")?;
    let mut env = sandbox::guest_env(std::env::vars_os());
    env.extend(sandbox::contract_env(&cwd)?);

    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
    let result = runtime.block_on(async {
        let home = files::process_var("HOME").filter(|h| !h.is_empty()).map(std::path::PathBuf::from);
        let grants = if !foreign::has_plan(&engine, &component) {
            foreign::grants(&invocation.dirs, &invocation.allow_hosts, &cwd)?
        } else if !invocation.dirs.is_empty() {
            anyhow::bail!("--dir is for components without a plan; the packager is granted what its plan names");
        } else {
            match plan::ask(&pre, &invocation.args, &env, &cwd, home.as_deref()).await? {
                Planned::Grants(grants) => grants,
                Planned::Unplannable => nothing(),
                Planned::Crashed(error) => return Ok(Exit::Trap(error)),
            }
        };
        let registries: Vec<String> = grants.registries.iter().map(|r| r.name.clone()).collect();

        let mut guest_env = env.clone();
        if let Some(prompt) = &grants.password_prompt
            && !guest_env.iter().any(|(name, _)| name == &prompt.env)
            && let Some(answer) = prompt::ask(prompt)?
        {
            guest_env.push((prompt.env.clone(), answer));
        }
        guest_env.extend(credentials::guest_env(&registries, files::process_var, debug));
        if let Some(path) = &grants.project_credentials
            && let Some(text) = credentials::project_credentials(Path::new(path), &cwd, home.as_deref())?
        {
            guest_env.push((host_contract::PROJECT_CREDENTIALS.to_owned(), text));
        }

        let skip_verify: Vec<String> =
            grants.registries.iter().filter(|r| r.skip_tls_verify).map(|r| r.name.clone()).collect();
        let ca_files = outbound::ca_files(&invocation.ca_certs, files::process_var(outbound::CA_CERTS_VAR));
        let planned_hosts = match grants.network {
            Network::None => Some(&[][..]),
            Network::Registries => Some(registries.as_slice()),
            Network::Any => None,
        };
        let registry_cas: Vec<(String, Vec<std::path::PathBuf>)> = grants
            .registries
            .iter()
            .filter(|r| !r.ca_files.is_empty())
            .map(|r| (r.name.clone(), r.ca_files.iter().map(std::path::PathBuf::from).collect()))
            .collect();
        let outbound =
            OutboundPolicy::from_flags(&invocation.allow_hosts, &ca_files, &skip_verify, &registry_cas, debug)?
                .with_plan(planned_hosts)?;

        // Directories last: from here on, views made in the home directory are settled
        // (removed) whatever happens.
        let sandbox = sandbox::preopens(&grants.paths, home.as_deref())?;
        let preopens = &sandbox.preopens;
        if debug {
            say_grants(&grants, preopens);
        }
        let run_id = interrupt::run_id();
        guest_env.push((host_contract::RUN_ID.to_owned(), run_id.clone()));
        guest_env.push((host_contract::FREE_SPACE.to_owned(), sandbox::free_space(preopens)));
        let wasi = match sandbox::wasi_ctx(&invocation.args, &guest_env, preopens, &cwd) {
            Ok(wasi) => wasi,
            Err(error) => {
                sandbox.finish()?;
                return Err(error);
            }
        };
        let owner_only = OwnerOnly::before(preopens);
        let private_files = PrivateFiles::before(&grants.paths);
        interrupt::begin(&run_id, sandbox);
        let exit = run::run(&pre, wasi, outbound).await;
        let sandbox = interrupt::end();
        owner_only.finish()?;
        if let Some(sandbox) = sandbox {
            sandbox.finish()?;
        }
        private_files.finish()?;
        exit
    });
    // Do not wait for leftover work (an idle connection, a pending stdin read): the guest is
    // done and the process exits next.
    runtime.shutdown_background();
    match result? {
        Exit::Code(code) => Ok(code),
        Exit::Trap(error) => {
            eprintln!("error: {error:#}");
            Ok(EXIT_TRAP)
        }
    }
}

/// What a command the packager could not plan gets: nothing (it reports its own error).
fn nothing() -> Grants {
    Grants {
        paths: Vec::new(),
        registries: Vec::new(),
        network: Network::None,
        project_credentials: None,
        password_prompt: None,
        consult: Vec::new(),
    }
}

/// `WASMSHIP_DEBUG`: one line per grant on stderr (paths and registry names, never secrets).
fn say_grants(grants: &Grants, preopens: &[sandbox::Preopen]) {
    for preopen in preopens {
        let access = if preopen.writable { "read-write" } else { "read-only" };
        let private = if preopen.owner_only { ", owner only" } else { "" };
        let view = if preopen.host != preopen.dir { ", as a view of the named files" } else { "" };
        eprintln!("wasmship: grant {access}{private}{view} {} ({})", preopen.dir.display(), preopen.purpose);
    }
    for registry in &grants.registries {
        eprintln!("wasmship: grant registry {}", registry.name);
    }
    let network = match grants.network {
        Network::None => "none",
        Network::Registries => "the registries granted",
        Network::Any => "any (registry discovery)",
    };
    eprintln!("wasmship: grant network {network}");
}
