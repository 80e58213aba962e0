//! `wit build`: encode the local package and write it to a file; when
//! `wit/deps` lacks packages the WIT refers to, they are resolved in memory
//! and recorded in `wkg.lock` (see [`resolved`](super::resolved)).

use std::path::{Path, PathBuf};

use super::Project;
use super::resolved::{encode_dir, record};
use crate::error::Result;
use crate::witpkg::config::WitConfig;
use crate::witpkg::name::PackageSpec;

/// What `build` wrote.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    pub spec: PackageSpec,
    pub path: PathBuf,
    pub size: u64,
    /// What the dependencies came from.
    pub deps: DepsUsed,
}

/// Where a build or publish found the package's dependencies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DepsUsed {
    /// `wit/deps` held them all (or none were needed).
    #[default]
    Tree,
    /// Resolved as `wit fetch` resolves them, in memory.
    Resolved {
        /// Whether `wkg.lock` was written.
        lock_written: bool,
        /// Whether anything went over the network.
        network: bool,
    },
}

/// Encode the package in the project's WIT directory (metadata from the
/// project) into `output`, by default `<ns>-<name>-<version>.wasm` in the
/// project directory; then record resolved dependencies in `wkg.lock`.
pub fn build(project: &Project, output: Option<&Path>) -> Result<BuildOutcome> {
    let config = WitConfig::load(&project.dir)?;
    let encoded = encode_dir(project, &config, &project.wit_dir)?;
    let built = encoded.built;
    let path = match output {
        Some(path) => path.to_path_buf(),
        None => project.dir.join(format!("{}.wasm", built.spec.dir_name())),
    };
    crate::fsutil::write_atomic(&path, &built.bytes)?;
    // As wkg does: the lock is written once everything else succeeded.
    let deps = match &encoded.resolution {
        None => DepsUsed::Tree,
        Some(resolution) => {
            DepsUsed::Resolved { lock_written: record(project, resolution)?, network: resolution.used_network() }
        }
    };
    Ok(BuildOutcome { spec: built.spec, path, size: built.bytes.len() as u64, deps })
}
