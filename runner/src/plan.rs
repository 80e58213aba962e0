//! Asks the packager what a command needs before anything is granted: a first instance of
//! the component, given the working directory read-only (where project files are), no
//! network and no stdin or stdout, answers `wasmship:packager/plan.capabilities` for the
//! command's arguments and environment. When the answer says planning read files outside
//! the working directory (`consult`: the mirror configuration, a manifest elsewhere), the
//! runner asks once more with those directories readable too. The runner knows nothing of
//! the packager's flags; this answer is all it grants from (see `sandbox`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use wasmtime::Store;
use wasmtime::component::InstancePre;
use wasmtime_wasi::{FsPerms, WasiCtx};

use crate::outbound::OutboundPolicy;
use crate::state::Host;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "wasmship:packager/planner@0.2.0",
        exports: { default: async },
    });
}

pub use bindings::exports::wasmship::packager0_2_0::plan::{
    Access, Grants, Guard, IfMissing, Network, PasswordPrompt, PathGrant, PathKind, RegistryGrant,
};

/// What the packager answered.
pub enum Planned {
    /// What the command needs.
    Grants(Grants),
    /// The packager could not plan the command: it runs with nothing granted and reports
    /// its own error, in its own output format.
    Unplannable,
    /// The packager trapped while planning (a bug).
    Crashed(anyhow::Error),
}

/// Planning rounds at most: the first, and one with the directories it asked to read.
const ROUNDS: usize = 2;

/// What the packager says the command with `args` needs in `env`, planned with the
/// working directory readable and then, if planning asks, the directories it consults.
pub async fn ask(
    pre: &InstancePre<Host>,
    args: &[String],
    env: &[(String, String)],
    cwd: &Path,
    home: Option<&Path>,
) -> Result<Planned> {
    let mut readable = vec![cwd.to_path_buf()];
    for _ in 1..ROUNDS {
        let planned = ask_once(pre, args, env, &readable).await?;
        let Planned::Grants(grants) = &planned else { return Ok(planned) };
        let more = wanted(&grants.consult, &readable, home);
        if more.is_empty() {
            return Ok(planned);
        }
        readable.extend(more);
    }
    ask_once(pre, args, env, &readable).await
}

/// The directories of `consult` not yet readable: absolute, existing ones only, and never
/// the home directory or a directory above it (planning does without what is there).
fn wanted(consult: &[String], readable: &[PathBuf], home: Option<&Path>) -> Vec<PathBuf> {
    consult
        .iter()
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute() && dir.is_dir() && !readable.contains(dir))
        .filter(|dir| matches!(crate::view::exposure(dir, home), Ok(crate::view::Exposure::Whole)))
        .collect()
}

async fn ask_once(
    pre: &InstancePre<Host>,
    args: &[String],
    env: &[(String, String)],
    readable: &[PathBuf],
) -> Result<Planned> {
    let mut builder = WasiCtx::builder();
    builder.inherit_stderr().allow_blocking_current_thread(true).envs(env);
    for dir in readable {
        if let Some(name) = dir.to_str() {
            // Best effort: an unreadable directory only means its files are not seen.
            let _ = builder.preopened_dir(dir, name, FsPerms::ReadOnly);
        }
    }
    let mut store = Store::new(pre.engine(), Host::new(builder.build(), OutboundPolicy::deny_all()));
    let planner = bindings::PlannerPre::new(pre.clone())
        .map_err(anyhow::Error::from)
        .context("the component does not export wasmship:packager/plan@0.2.0")?
        .instantiate_async(&mut store)
        .await
        .map_err(anyhow::Error::from)
        .context("cannot instantiate the packager component to plan the command")?;
    let answer = planner.wasmship_packager0_2_0_plan().call_capabilities(&mut store, args, env).await;
    Ok(match answer {
        Ok(Ok(grants)) => Planned::Grants(grants),
        Ok(Err(_)) => Planned::Unplannable,
        Err(trap) => Planned::Crashed(anyhow::Error::from(trap).context("the packager crashed while planning")),
    })
}
