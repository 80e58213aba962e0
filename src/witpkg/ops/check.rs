//! `wit check`: whether `wkg.lock` covers the world's requirements, `wit/deps`
//! is exactly what the locked packages render to, and the world resolves.
//! Problems come back as report lines (for CI); nothing is written.

use super::Project;
use super::fetch::lock_problems;
use crate::error::Result;
use crate::witpkg::config::WitConfig;
use crate::witpkg::deps;
use crate::witpkg::lock::LockFile;
use crate::witpkg::resolve::{Update, local_package, resolve};
use crate::witpkg::source::RegistrySource;

/// What `check` found.
#[derive(Debug, Clone, Default)]
pub struct CheckOutcome {
    /// Report lines; empty when everything matches.
    pub problems: Vec<String>,
    /// Packages checked in `wit/deps`.
    pub checked: usize,
}

/// Check the project's lock and `wit/deps`.
pub fn check(project: &Project) -> Result<CheckOutcome> {
    let config = WitConfig::load(&project.dir)?;
    let local = local_package(&project.wit_dir)?;
    let lock = LockFile::load(&project.lock_path())?;
    let mut problems = lock_problems(&config, &local, &lock)?;
    let on_disk = deps::read(&project.deps_dir())?;
    let mut checked = 0;
    if problems.is_empty() {
        let mut source = RegistrySource::new(project.locator(&config), project.cache.clone(), &project.verification);
        let resolution = resolve(&local, &lock, &Update::Nothing, &mut source)?;
        let expected = deps::render(&resolution.merged, &resolution.unversioned)?;
        checked = expected.len();
        problems.extend(deps::diff(&expected, &on_disk).into_iter().map(|line| format!("wit/deps: {line}")));
    }
    if let Err(e) = crate::witpkg::resolve_dir(&project.wit_dir) {
        problems.push(format!("the world does not resolve: {e}"));
    }
    Ok(CheckOutcome { problems, checked })
}
