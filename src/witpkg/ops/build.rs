//! `wit build`: encode the local package and write it to a file.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::witpkg::config::WitConfig;
use crate::witpkg::encode;
use crate::witpkg::name::PackageSpec;

/// What `build` wrote.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    pub spec: PackageSpec,
    pub path: PathBuf,
    pub size: u64,
}

/// Encode the package in `wit_dir` (metadata from the project in
/// `project_dir`) into `output`, by default `<ns>-<name>-<version>.wasm` in
/// the project directory.
pub fn build(project_dir: &Path, wit_dir: &Path, output: Option<&Path>) -> Result<BuildOutcome> {
    let config = WitConfig::load(project_dir)?;
    let built = encode::build(wit_dir, &config.metadata)?;
    let path = match output {
        Some(path) => path.to_path_buf(),
        None => project_dir.join(format!("{}.wasm", built.spec.dir_name())),
    };
    crate::fsutil::write_atomic(&path, &built.bytes)?;
    Ok(BuildOutcome { spec: built.spec, path, size: built.bytes.len() as u64 })
}
