//! The contract between the `wasmship` runner and the packager component, beyond the WIT
//! world: the environment variables the runner sets for the guest, and which of the host's
//! own variables it passes through. Defined once, here; the runner compiles this same file
//! (`#[path]`), so neither side can drift. This module imports nothing.
//!
//! What the guest needs from the host is the other half of the contract and is typed: the
//! `wasmship:packager/plan` export (`crate::plan`) says which paths, registries and network
//! a command needs, and the runner grants exactly those.

/// Set to `1` for a guest run by the runner (not, say, `wasmtime run`): the host vouches
/// for the directories the plan guards as owner-only (the cache's seals can be believed).
pub const RUNNER: &str = "WASMSHIP_RUNNER";

/// Set to `1` by a host that granted what the command's plan names (the runner, the Node.js
/// launcher): a directory the plan allowed it to skip and it did not grant was missing.
pub const PLANNED: &str = "WASMSHIP_PLANNED";

/// The host's working directory (absolute). The runner preopens directories under their
/// absolute host paths, never as `.`; the guest enters this directory when it is granted,
/// so relative paths resolve as on the host.
pub const CWD: &str = "WASMSHIP_CWD";

/// The host platform as wash names provider targets (`x86_64-linux`): the default target
/// of `par create` (inside the component the platform is wasm32).
pub const HOST_TARGET: &str = "WASMSHIP_HOST_TARGET";

/// Docker's `config.json` reduced to the `auths` entries of the registries the command's
/// plan names (JSON `{"auths": {...}}`); unset when there are none.
pub const DOCKER_AUTHS: &str = "WASMSHIP_DOCKER_CONFIG_JSON";

/// Docker credential-helper answers for the plan's registries:
/// `{"<registry>": {"Username", "Secret"}}`; unset when there are none.
pub const HELPER_CREDENTIALS: &str = "WASMSHIP_HOST_CREDENTIALS";

/// The content of the credentials file that the project's `wasmcloud.toml` names, read by
/// the runner (the file is granted as its content, never as its directory).
pub const PROJECT_CREDENTIALS: &str = "WASMSHIP_PROJECT_CREDENTIALS_JSON";

/// Free bytes on the file system of each writable directory granted, when the run started:
/// JSON `{"<dir>": bytes}` (WASI 0.2 has no way to ask), so a large write is refused up
/// front instead of filling the disk.
pub const FREE_SPACE: &str = "WASMSHIP_FREE_SPACE";

/// This run's identifier (hex): part of every temporary file name the guest makes
/// (`.<prefix>-<run>-<random>.tmp`), so the runner can remove exactly this run's
/// temporary files when it is interrupted.
pub const RUN_ID: &str = "WASMSHIP_RUN_ID";

/// Variables only the runner sets: inherited values of these never reach the guest.
pub const RUNNER_SET: &[&str] =
    &[RUNNER, PLANNED, CWD, HOST_TARGET, DOCKER_AUTHS, HELPER_CREDENTIALS, PROJECT_CREDENTIALS, FREE_SPACE, RUN_ID];

/// Whether `name` is a temporary file of run `run` (see [`RUN_ID`]).
pub fn is_temporary_of(name: &str, run: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp") && name.contains(&format!("-{run}-"))
}

/// The host's variables passed to the guest: exact names, or prefixes ending in `*`.
/// Everything else in the host environment stays invisible to it.
pub const PASSED: &[&str] = &[
    "WASMSHIP_*",
    "WASH_*",
    "WKG_*",
    "SOURCE_DATE_EPOCH",
    // The password of cosign key files (`key generate`, `sign`).
    "COSIGN_PASSWORD",
    "NO_COLOR",
    "DOCKER_CONFIG",
    "HOME",
    "USER",
    "TMPDIR",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
];

/// Whether the host variable `name` is passed to the guest.
pub fn passed(name: &str) -> bool {
    !RUNNER_SET.contains(&name)
        && PASSED.iter().any(|rule| match rule.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == *rule,
        })
}
