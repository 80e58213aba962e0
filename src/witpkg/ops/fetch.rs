//! `wit fetch` and `wit update`: resolve the world's dependencies, write
//! `wit/deps` and `wkg.lock` where they differ from the result.
//!
//! When the lock covers every requirement and `wit/deps` holds every locked
//! package, nothing goes over the network: the tree is compared with what
//! the cached, pinned content renders to (or trusted when that content is
//! not cached), and left alone when it matches.

use semver::Version;

use super::Project;
use crate::error::{Error, Result};
use crate::oci::Digest;
use crate::witpkg::config::{Mapping, WitConfig};
use crate::witpkg::deps::{self, Tree};
use crate::witpkg::lock::LockFile;
use crate::witpkg::name::{PackageRef, PackageSpec};
use crate::witpkg::resolve::{LocalPackage, Resolution, Update, check_world, local_package, resolve, resolve_naming};
use crate::witpkg::source::{Content, Home, PackageSource, RegistrySource};

/// What `fetch` did.
#[derive(Debug, Clone)]
pub struct FetchOutcome {
    /// The direct dependencies and the versions they resolved to.
    pub packages: Vec<(PackageSpec, PackageSpec)>,
    /// Every package written to `wit/deps`.
    pub tree: Vec<String>,
    pub deps_written: bool,
    pub lock_written: bool,
    /// Whether anything went over the network.
    pub network: bool,
}

/// Fetch (or, with `update`, re-resolve) the dependencies of the project's world.
pub fn fetch_deps(project: &Project, update: &Update) -> Result<FetchOutcome> {
    let config = WitConfig::load(&project.dir)?;
    let local = local_package(&project.wit_dir)?;
    let lock_path = project.lock_path();
    let lock = LockFile::load(&lock_path)?;
    let on_disk = deps::read(&project.deps_dir())?;

    if *update == Update::Nothing
        && let Some(outcome) = up_to_date(project, &config, &local, &lock, &on_disk)?
    {
        return Ok(outcome);
    }

    let mut source = RegistrySource::new(project.locator(&config), project.cache.clone(), &project.verification);
    let resolution = resolve(&local, &lock, update, &mut source)?;
    check_world(&project.wit_dir, &resolution.merged)?;
    let tree = deps::render(&resolution.merged, &resolution.unversioned)?;
    let deps_written = tree != on_disk;
    if deps_written {
        deps::write(&project.deps_dir(), &tree)?;
    }
    // The lock records exactly the current requirements (entries no longer
    // needed go; with `update PKG`, the others kept their locked versions).
    let new_lock = &resolution.lock;
    let lock_text = new_lock.to_text();
    let lock_written = std::fs::read_to_string(&lock_path).ok().as_deref() != Some(lock_text.as_str());
    if lock_written {
        new_lock.save(&lock_path)?;
    }
    Ok(outcome(&resolution, &tree, deps_written, lock_written, resolution.used_network()))
}

fn outcome(
    resolution: &Resolution,
    tree: &Tree,
    deps_written: bool,
    lock_written: bool,
    network: bool,
) -> FetchOutcome {
    FetchOutcome {
        packages: resolution.packages.iter().map(|p| (p.wanted.clone(), p.spec.clone())).collect(),
        tree: tree.keys().cloned().collect(),
        deps_written,
        lock_written,
        network,
    }
}

/// `Some` when the lock covers the requirements exactly and `wit/deps`
/// matches it, decided without the network.
fn up_to_date(
    project: &Project,
    config: &WitConfig,
    local: &LocalPackage,
    lock: &LockFile,
    on_disk: &Tree,
) -> Result<Option<FetchOutcome>> {
    if !lock_covers(config, local, lock)? {
        return Ok(None);
    }
    let mut cached = PinnedCache { config, project };
    match resolve(local, lock, &Update::Nothing, &mut cached) {
        Ok(resolution) => {
            let tree = deps::render(&resolution.merged, &resolution.unversioned)?;
            if &tree == on_disk {
                return Ok(Some(outcome(&resolution, &tree, false, false, false)));
            }
            // Pinned content is cached: rewrite the tree from it, offline.
            check_world(&project.wit_dir, &resolution.merged)?;
            deps::write(&project.deps_dir(), &tree)?;
            Ok(Some(outcome(&resolution, &tree, true, false, false)))
        }
        Err(_) => {
            // Not all content cached: trust a tree that holds every locked
            // package and lets the world resolve.
            let complete = lock.packages.iter().all(|p| {
                p.versions.iter().all(|v| {
                    let dir = PackageSpec { package: p.name.clone(), version: Some(v.version.clone()) }.dir_name();
                    on_disk.keys().any(|k| k.starts_with(&format!("{dir}/")))
                })
            });
            if complete && crate::witpkg::resolve_dir(&project.wit_dir).is_ok() {
                return Ok(Some(FetchOutcome {
                    packages: Vec::new(),
                    tree: on_disk.keys().cloned().collect(),
                    deps_written: false,
                    lock_written: false,
                    network: false,
                }));
            }
            Ok(None)
        }
    }
}

/// Resolve the requirements of `local` as `fetch` does, in memory (nothing is
/// written): when the lock covers them, from the cache alone if it holds all
/// the pinned content; else through the registries, the lock first. A
/// requirement that cannot be resolved reports `unavailable(requirement, error)`.
pub(super) fn resolve_in_memory(
    project: &Project,
    config: &WitConfig,
    local: &LocalPackage,
    lock: &LockFile,
    unavailable: &dyn Fn(&PackageSpec, Error) -> Error,
) -> Result<Resolution> {
    // A requirement no configuration maps is reported by the resolution below.
    if lock_covers(config, local, lock).unwrap_or(false) {
        let mut cached = PinnedCache { config, project };
        if let Ok(resolution) = resolve(local, lock, &Update::Nothing, &mut cached) {
            return Ok(resolution);
        }
    }
    let mut source = RegistrySource::new(project.locator(config), project.cache.clone(), &project.verification);
    resolve_naming(local, lock, &Update::Nothing, &mut source, unavailable)
}

/// Whether every registry requirement has a lock entry and the lock has no others.
pub fn lock_covers(config: &WitConfig, local: &LocalPackage, lock: &LockFile) -> Result<bool> {
    Ok(lock_problems(config, local, lock)?.is_empty())
}

/// Requirements without a lock entry, and lock entries no requirement has.
pub fn lock_problems(config: &WitConfig, local: &LocalPackage, lock: &LockFile) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut wanted = Vec::new();
    for spec in &local.requirements {
        if matches!(config.mapping(&spec.package, spec.version.as_ref())?, Mapping::File(_)) {
            continue;
        }
        let requirement = spec.requirement();
        if lock.find(&spec.package, &requirement).is_none() {
            problems.push(format!("unlocked   {} (requirement {requirement}): not in wkg.lock", spec));
        }
        wanted.push((spec.package.clone(), requirement));
    }
    for p in &lock.packages {
        for v in &p.versions {
            if !wanted.iter().any(|(pkg, req)| pkg == &p.name && req == &v.requirement) {
                problems.push(format!(
                    "stale      {} {} → {}: in wkg.lock, but the WIT no longer needs it",
                    p.name, v.requirement, v.version
                ));
            }
        }
    }
    Ok(problems)
}

/// Locked content from the cache only: no network, no version listing. When signatures
/// are required (`--verify-key`, a signature policy) it has no content: packages are then
/// taken through [`RegistrySource`], which checks them (offline, against the cache's record).
struct PinnedCache<'a> {
    config: &'a WitConfig,
    project: &'a Project,
}

impl PackageSource for PinnedCache<'_> {
    fn home(&mut self, package: &PackageRef, version: Option<&Version>) -> Result<Home> {
        Ok(match self.config.mapping(package, version)? {
            Mapping::File(path) => Home::File(path),
            Mapping::Oci { registry, .. } => Home::Registry(registry),
            Mapping::Registry { name, .. } => Home::Registry(name),
        })
    }

    fn versions(&mut self, package: &PackageRef) -> Result<Vec<Version>> {
        Err(Error::NotFound { what: format!("versions of {package}"), location: "the lock".into() })
    }

    fn content(&mut self, package: &PackageRef, version: &Version, pinned: Option<&Digest>) -> Result<Content> {
        let not_cached = || Error::NotFound { what: format!("{package}@{version}"), location: "the cache".into() };
        if self.project.verification != crate::ops::verify::Verification::Nothing {
            return Err(not_cached());
        }
        let digest = pinned.ok_or_else(not_cached)?;
        let bytes = self.project.cache.cached_blob(digest).ok_or_else(not_cached)?;
        Ok(Content {
            bytes,
            digest: digest.clone(),
            reference: format!("{package}@{version} (cached)"),
            from_network: false,
        })
    }
}
