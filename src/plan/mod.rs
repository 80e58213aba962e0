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

/// One path a command touches: absolute and normalised when the working directory is
/// known (always under the runner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathGrant {
    pub path: PathBuf,
    pub kind: PathKind,
    pub access: FsAccess,
    pub if_missing: IfMissing,
    /// Created 0700; files created during the run become 0600 (signing keys).
    pub owner_only: bool,
    /// What the path is for, in words.
    pub purpose: String,
}

/// A registry a command contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryGrant {
    /// `host[:port]`, lowercased; `docker.io` for Docker Hub.
    pub name: String,
    pub skip_tls_verify: bool,
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
}

/// A resolved command: its name (`push`, `wit fetch`, …) and its needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub command: String,
    pub needs: Needs,
}
