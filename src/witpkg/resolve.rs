//! Resolution: the foreign packages a local WIT package refers to become
//! versions (`ns:pkg/iface@1.2.3` requires exactly 1.2.3; an unversioned
//! reference the newest semver tag, unless the lock already says which), each
//! fetched once; the packages they embed come along. Everything is merged
//! into one `Resolve`, after checking that copies of one version agree, that
//! nothing depends on itself, and that an unversioned reference is not
//! ambiguous. The local package must then resolve against the result.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use semver::{Version, VersionReq};
use wit_parser::{PackageId, PackageName, Resolve, UnresolvedPackageGroup};

use super::decode::{Decoded, decode};
use super::graph::PackageGraph;
use super::lock::{LockFile, LockedVersion};
use super::name::{PackageRef, PackageSpec};
use super::parse_failure;
use super::source::{Home, PackageSource, load_file};
use crate::error::{Error, Result};
use crate::oci::Digest;

/// Which locked resolutions to ignore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// Keep what the lock says.
    Nothing,
    /// Resolve everything anew.
    All,
    /// Resolve these packages anew.
    Packages(Vec<PackageRef>),
}

impl Update {
    fn covers(&self, package: &PackageRef) -> bool {
        match self {
            Update::Nothing => false,
            Update::All => true,
            Update::Packages(list) => list.contains(package),
        }
    }
}

/// The local package: its name and what it refers to.
#[derive(Debug, Clone)]
pub struct LocalPackage {
    pub spec: PackageSpec,
    /// Foreign packages referenced, each once, sorted.
    pub requirements: Vec<PackageSpec>,
    /// The package and the packages nested in it (what `wit/deps` may refer to too).
    pub own: Vec<PackageSpec>,
}

/// Read the local package in `wit_dir` (without `deps`) and list the foreign
/// packages it (and packages nested in it) refer to.
pub fn local_package(wit_dir: &Path) -> Result<LocalPackage> {
    let group = parse_local(wit_dir)?;
    let own: BTreeSet<&PackageName> =
        std::iter::once(&group.main.name).chain(group.nested.iter().map(|p| &p.name)).collect();
    let requirements: BTreeSet<PackageSpec> = std::iter::once(&group.main)
        .chain(&group.nested)
        .flat_map(|p| p.foreign_deps.keys())
        .filter(|name| !own.contains(name))
        .map(PackageSpec::of)
        .collect();
    Ok(LocalPackage {
        spec: PackageSpec::of(&group.main.name),
        requirements: requirements.into_iter().collect(),
        own: own.into_iter().map(PackageSpec::of).collect(),
    })
}

fn parse_local(wit_dir: &Path) -> Result<UnresolvedPackageGroup> {
    UnresolvedPackageGroup::parse_dir(wit_dir).map_err(|e| parse_failure(&format!("WIT in {}", wit_dir.display()), &e))
}

/// One resolved requirement.
pub struct Resolved {
    /// The requirement as the WIT spells it.
    pub wanted: PackageSpec,
    /// The package version it resolved to.
    pub spec: PackageSpec,
    pub requirement: VersionReq,
    pub home: Home,
    /// Digest of the Wasm layer (registry packages).
    pub digest: Option<Digest>,
    pub decoded: Decoded,
    /// Where the content came from, for messages.
    pub origin: String,
    pub from_network: bool,
}

/// The outcome of a resolution.
pub struct Resolution {
    pub packages: Vec<Resolved>,
    /// Every dependency package, merged.
    pub merged: Resolve,
    /// The lock that records it.
    pub lock: LockFile,
    /// Packages the WIT refers to without a version: `merged` names them
    /// without one (so the references resolve), and they are written to
    /// `wit/deps` under the version they resolved to.
    pub unversioned: BTreeMap<PackageRef, Version>,
}

impl Resolution {
    /// Whether any content came over the network.
    pub fn used_network(&self) -> bool {
        self.packages.iter().any(|p| p.from_network)
    }
}

/// Resolve the requirements of `local` with `source`, following `lock`
/// except where `update` says otherwise.
pub fn resolve(
    local: &LocalPackage,
    lock: &LockFile,
    update: &Update,
    source: &mut dyn PackageSource,
) -> Result<Resolution> {
    resolve_naming(local, lock, update, source, &|_, e| e)
}

/// As [`resolve`]; a requirement that fails to resolve reports
/// `unavailable(requirement, error)` instead of the error itself.
pub fn resolve_naming(
    local: &LocalPackage,
    lock: &LockFile,
    update: &Update,
    source: &mut dyn PackageSource,
    unavailable: &dyn Fn(&PackageSpec, Error) -> Error,
) -> Result<Resolution> {
    let mut packages = Vec::new();
    for wanted in &local.requirements {
        packages.push(resolve_one(wanted, lock, update, source).map_err(|e| unavailable(wanted, e))?);
    }

    let mut graph = PackageGraph::default();
    for p in &packages {
        let origin = |s: &PackageSpec| {
            if s == &p.spec {
                format!("{s} from {}", p.origin)
            } else {
                format!("the copy of {s} embedded in {}", p.spec)
            }
        };
        graph.add(&p.decoded.resolve, &origin)?;
    }
    graph.add_root(&local.spec, packages.iter().map(|p| p.spec.clone()));
    graph.check_cycles()?;
    check_unversioned(local, &packages, &graph)?;

    let mut merged = Resolve::default();
    for p in &packages {
        merged
            .merge(p.decoded.resolve.clone())
            .map_err(|e| parse_failure(&format!("conflict: merging {} with the other dependencies", p.spec), &e))?;
    }

    // An unversioned reference resolves only to an unversioned package.
    let mut unversioned = BTreeMap::new();
    for p in packages.iter().filter(|p| p.wanted.version.is_none()) {
        let Some(version) = p.spec.version.clone() else { continue };
        let name = PackageName {
            namespace: p.spec.package.namespace.clone(),
            name: p.spec.package.name.clone(),
            version: Some(version.clone()),
        };
        if let Some(id) = merged.package_names.shift_remove(&name) {
            let mut bare = name.clone();
            bare.version = None;
            merged.packages[id].name = bare.clone();
            merged.package_names.insert(bare, id);
            unversioned.insert(p.spec.package.clone(), version);
        }
    }

    let mut new_lock = LockFile::default();
    for p in &packages {
        if let (Home::Registry(registry), Some(digest)) = (&p.home, &p.digest) {
            let version = p.spec.version.clone().expect("registry packages have versions");
            let locked = LockedVersion { requirement: p.requirement.clone(), version, digest: digest.clone() };
            new_lock.insert(&p.spec.package, Some(registry), locked);
        }
    }
    Ok(Resolution { packages, merged, lock: new_lock, unversioned })
}

fn resolve_one(
    wanted: &PackageSpec,
    lock: &LockFile,
    update: &Update,
    source: &mut dyn PackageSource,
) -> Result<Resolved> {
    let package = &wanted.package;
    let requirement = wanted.requirement();
    match source.home(package, wanted.version.as_ref())? {
        Home::File(path) => {
            let decoded = load_file(&path)?;
            let spec = decoded.spec();
            if spec.package != *package || wanted.version.as_ref().is_some_and(|v| spec.version.as_ref() != Some(v)) {
                return Err(Error::InvalidInput(format!(
                    "{} holds {spec}, but the source configured for {wanted} must hold that package",
                    path.display()
                )));
            }
            let origin = path.display().to_string();
            Ok(Resolved {
                wanted: wanted.clone(),
                spec,
                requirement,
                home: Home::File(path),
                digest: None,
                decoded,
                origin,
                from_network: false,
            })
        }
        Home::Registry(registry) => {
            let locked = if update.covers(package) { None } else { lock.find(package, &requirement).map(|(_, v)| v) };
            let version = match locked {
                Some(locked) => locked.version.clone(),
                None => pick(package, &requirement, &source.versions(package)?, &registry)?,
            };
            let content = source.content(package, &version, locked.map(|l| &l.digest))?;
            let decoded = decode(&content.bytes, &content.reference)?;
            let spec = PackageSpec { package: package.clone(), version: Some(version) };
            if decoded.spec() != spec {
                return Err(Error::InvalidInput(format!(
                    "{} holds the WIT package {}, not {spec}",
                    content.reference,
                    decoded.spec()
                )));
            }
            Ok(Resolved {
                wanted: wanted.clone(),
                spec,
                requirement,
                home: Home::Registry(registry),
                digest: Some(content.digest),
                decoded,
                origin: content.reference,
                from_network: content.from_network,
            })
        }
    }
}

/// The newest version meeting `requirement`.
pub fn pick(package: &PackageRef, requirement: &VersionReq, versions: &[Version], registry: &str) -> Result<Version> {
    versions.iter().filter(|v| requirement.matches(v)).max().cloned().ok_or_else(|| {
        let known = if versions.is_empty() {
            "it has no semver tags".to_string()
        } else {
            format!("it has {}", versions.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "))
        };
        Error::NotFound {
            what: format!("a version of {package} matching {requirement} ({known})"),
            location: registry.to_string(),
        }
    })
}

/// An unversioned reference with two versions of its package around is ambiguous.
fn check_unversioned(local: &LocalPackage, packages: &[Resolved], graph: &PackageGraph) -> Result<()> {
    let versions = graph.versions();
    for p in packages.iter().filter(|p| p.wanted.version.is_none()) {
        if let Some(user) = graph.dependents(&p.spec).into_iter().find(|s| **s != local.spec) {
            return Err(Error::InvalidInput(format!(
                "conflict: {} refers to {} without a version, but {user} uses {}; write the version in the \
                 reference (e.g. `{}/…@{}`) so both mean the same package",
                local.spec,
                p.spec.package,
                p.spec,
                p.spec.package,
                p.spec.version.as_ref().map(|v| v.to_string()).unwrap_or_default()
            )));
        }
        let Some(all) = versions.get(&p.spec.package.to_string()) else { continue };
        if let Some(other) = all.iter().find(|s| **s != p.spec) {
            let brought_by = packages
                .iter()
                .find(|q| q.decoded.dependencies().contains(other))
                .map_or_else(|| "another dependency".to_string(), |q| q.spec.to_string());
            return Err(Error::InvalidInput(format!(
                "conflict: {} refers to {} without a version (resolved to {}), but {brought_by} brings {other}; \
                 write the version in the reference (e.g. `{}/…@{}`) so it is clear which one is meant",
                local.spec,
                p.spec.package,
                p.spec,
                p.spec.package,
                other.version.as_ref().map(|v| v.to_string()).unwrap_or_default()
            )));
        }
    }
    Ok(())
}

/// Check that the local package in `wit_dir` resolves against `merged`.
pub fn check_world(wit_dir: &Path, merged: &Resolve) -> Result<()> {
    push_world(wit_dir, merged).map(|_| ())
}

/// The local package in `wit_dir` (without its `deps`) resolved against
/// `merged`: what `wit/deps` rendered from `merged` would give, without it.
pub fn push_world(wit_dir: &Path, merged: &Resolve) -> Result<(Resolve, PackageId)> {
    let group = parse_local(wit_dir)?;
    let mut resolve = merged.clone();
    let package = resolve.push_group(group).map_err(|e| {
        Error::InvalidInput(format!("the WIT in {} does not resolve against its dependencies: {e}", wit_dir.display()))
    })?;
    Ok((resolve, package))
}
