//! What `wit build` and `wit publish` encode a WIT directory against:
//! `wit/deps` when it holds every package the WIT refers to (then nothing
//! else is read or asked), else the packages resolved as `wit fetch` resolves
//! them — `wkg.lock` first, then the cache, then the registries — held in
//! memory: `wit/deps` is not written, and the resolution is recorded in
//! `wkg.lock`, as wkg's `wit build` records it.

use std::path::Path;

use super::Project;
use super::fetch::resolve_in_memory;
use crate::error::{Error, ErrorKind, MAX_ECHO, Result, excerpt};
use crate::witpkg::config::WitConfig;
use crate::witpkg::encode::{self, Built};
use crate::witpkg::lock::LockFile;
use crate::witpkg::name::PackageSpec;
use crate::witpkg::resolve::{Resolution, local_package, push_world};
use crate::witpkg::{DEPS_DIR, deps};

/// A package encoded from a WIT directory.
pub(super) struct Encoded {
    pub built: Built,
    /// The dependencies resolved in memory (`None`: `wit/deps` was complete).
    pub resolution: Option<Resolution>,
}

/// Encode the package in `wit_dir` with the project's metadata.
pub(super) fn encode_dir(project: &Project, config: &WitConfig, wit_dir: &Path) -> Result<Encoded> {
    let local = local_package(wit_dir)?;
    if deps::missing(&wit_dir.join(DEPS_DIR), &local)?.is_empty() {
        return Ok(Encoded { built: encode::build(wit_dir, &config.metadata)?, resolution: None });
    }
    let lock = LockFile::load(&project.lock_path())?;
    let offline = project.cache.offline();
    let unavailable = |wanted: &PackageSpec, e: Error| unavailable(wanted, offline, e);
    let resolution = resolve_in_memory(project, config, &local, &lock, &unavailable)?;
    let (resolve, package) = push_world(wit_dir, &resolution.merged)?;
    let built = encode::build_resolved(&resolve, package, wit_dir, &config.metadata)?;
    Ok(Encoded { built, resolution: Some(resolution) })
}

/// A requirement found nowhere becomes an error naming it and `wit fetch`;
/// other failures (a registry refusing, a conflict) stay as they are.
fn unavailable(wanted: &PackageSpec, offline: bool, error: Error) -> Error {
    match error.kind() {
        ErrorKind::NotFound => Error::WitPackageUnavailable {
            package: wanted.to_string(),
            offline,
            cause: excerpt(&error.to_string(), MAX_ECHO),
        },
        _ => error,
    }
}

/// Record `resolution` in `wkg.lock` (exactly its requirements, as `wit fetch`
/// does) unless the file already says that; whether it was written.
pub(super) fn record(project: &Project, resolution: &Resolution) -> Result<bool> {
    let path = project.lock_path();
    let text = resolution.lock.to_text();
    if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
        return Ok(false);
    }
    resolution.lock.save(&path)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_package_found_nowhere_is_reported_as_unavailable() {
        let wanted = PackageSpec::parse("acc:types@0.1.0").unwrap();
        let absent = Error::NotFound { what: "acc:types@0.1.0".into(), location: "the cache".into() };
        let reported = unavailable(&wanted, true, absent).to_string();
        assert!(reported.starts_with("package acc:types@0.1.0 is not in wit/deps or the cache"), "{reported}");
        assert!(reported.contains("(acc:types@0.1.0 not found in the cache)"), "{reported}");
        let refused = Error::Unauthorized { registry: "r".into(), detail: "401".into() };
        assert_eq!(unavailable(&wanted, false, refused).kind(), ErrorKind::Unauthorized);
    }
}
