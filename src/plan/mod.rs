//! A command resolved once, before it runs, into what it will touch and reach: the files
//! and directories it reads and writes, the cache, the registries it contacts (and gets
//! credentials for), and whether it needs any other network. The runner asks for this plan
//! through the `wasmship:packager/plan` export and grants exactly it; `wasmship plan
//! COMMAND…` prints it; and the command itself runs from the paths the plan normalised.
//!
//! Each command's flags are planned where they are defined (`cli::*::plan`), so a new flag
//! is taught once. The rules for paths live in [`planner`]: a relative path inside the
//! working directory needs the working directory; any other path needs its own directory
//! (a file's directory, never an ancestor above it), with `..` resolved first.

pub mod env;
mod paths;
mod planner;
mod render;

use std::path::PathBuf;

pub use env::HostEnv;
pub use paths::normalize;
pub use planner::Planner;
pub use render::{to_json, to_text};

/// How a path is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FsAccess {
    Read,
    Write,
}

/// What a path names; hosts grant directories only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// A file: its directory is granted.
    File,
    /// A directory, granted itself.
    Directory,
    /// A directory if one exists there, else a file.
    FileOrDirectory,
}

/// What the host does when a directory to grant is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMissing {
    Fail,
    Create,
    Skip,
}

/// How far a directory must be the user's own before the host grants it (or, for a file
/// written, that it stays the user's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Guard {
    /// Granted as the host finds it.
    #[default]
    None,
    /// Refused when it is a symbolic link (a directory in a shared place, such as
    /// `$TMPDIR`, that another user could have planted to point elsewhere).
    NoSymlink,
    /// The user's own: not a symbolic link, owned by the user running the host and not
    /// writable by group or others, nor anything in it owned by someone else; created
    /// with mode 0700, and files created in it during the run get 0600 (the cache,
    /// signing keys; WASI 0.2 can neither see owners nor set modes).
    OwnerOnly,
    /// A file written that only the user may read (a private key): the host runs the
    /// command with umask 077 and sets mode 0600 on the file after it.
    PrivateFile,
}

/// One path a command touches: absolute and normalised when the working directory is
/// known (always under the runner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathGrant {
    pub path: PathBuf,
    pub kind: PathKind,
    pub access: FsAccess,
    pub if_missing: IfMissing,
    /// How far a directory must be the user's own.
    pub guard: Guard,
    /// What the path is for, in words.
    pub purpose: String,
}

/// A registry a command contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryGrant {
    /// `host[:port]`, lowercased; `docker.io` for Docker Hub.
    pub name: String,
    pub skip_tls_verify: bool,
    /// CA certificates to trust for it (a mirror's `ca` in `hosts.toml`), absolute.
    pub ca_files: Vec<PathBuf>,
}

/// Which outgoing requests a command makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Network {
    #[default]
    None,
    /// Only the named registries (and where their responses send clients).
    Registries,
    /// Registries found while running too (WIT registry discovery).
    Any,
}

/// What a command needs from its host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    pub paths: Vec<PathGrant>,
    pub registries: Vec<RegistryGrant>,
    pub network: Network,
    /// The credentials file named by the project's `wasmcloud.toml`.
    pub project_credentials: Option<PathBuf>,
    /// A password the host may ask the user for (the variable that carries it is unset).
    pub password_prompt: Option<PasswordPrompt>,
    /// Directories outside the working directory that planning read (mirror configuration,
    /// an application manifest): a host that planned with the working directory alone
    /// plans again with these readable.
    pub consult: Vec<PathBuf>,
}

/// How a host asks the user for a password the command needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPrompt {
    /// The environment variable the answer goes into.
    pub env: String,
    pub prompt: String,
    /// Ask twice (a new key's password).
    pub confirm: bool,
}

/// A resolved command: its name (`push`, `wit fetch`, …) and its needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub command: String,
    pub needs: Needs,
}
