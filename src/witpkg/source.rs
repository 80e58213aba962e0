//! Where package bytes come from during a resolution: a registry (versions
//! from its semver tags, content through the OCI cache, pinned content
//! straight from the cache by digest) or a local file. [`PackageSource`] is
//! the seam: resolution logic is tested against an in-memory source.

use std::path::{Path, PathBuf};

use semver::Version;
use wit_parser::Resolve;

use super::decode::{Decoded, decode};
use super::locate::{Located, Locator};
use super::name::PackageRef;
use super::parse_failure;
use crate::auth::Access;
use crate::cache::PullPolicy;
use crate::error::{Error, Result};
use crate::oci::{Descriptor, Digest, ImageManifest};
use crate::ops::fetch::{CacheOptions, fetch};
use crate::ops::pull::wasm_layer;
use crate::ops::verify::{Verification, gate_after_fetch, gate_before_fetch};
use crate::ops::{open_store, parse_reference};
use crate::reference::Reference;

/// Where a package is served from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Home {
    /// A registry, by the name `wkg.lock` records.
    Registry(String),
    /// A local file or directory (not locked).
    File(PathBuf),
}

/// A package version's bytes and where they came from.
#[derive(Debug, Clone)]
pub struct Content {
    pub bytes: Vec<u8>,
    /// Digest of the Wasm layer.
    pub digest: Digest,
    /// The reference it was fetched by (for messages).
    pub reference: String,
    /// Whether anything went over the network.
    pub from_network: bool,
}

/// Versions and content of packages.
pub trait PackageSource {
    /// Where `package` (at `version`, when known) is served from.
    fn home(&mut self, package: &PackageRef, version: Option<&Version>) -> Result<Home>;

    /// The published versions (semver tags only; others are ignored).
    fn versions(&mut self, package: &PackageRef) -> Result<Vec<Version>>;

    /// The content of one version; `pinned` is the digest the lock expects,
    /// and content with another digest is refused.
    fn content(&mut self, package: &PackageRef, version: &Version, pinned: Option<&Digest>) -> Result<Content>;
}

/// Load a local package: a binary WIT package (`.wasm`), a WIT file, or a
/// WIT directory (with its `deps`).
pub fn load_file(path: &Path) -> Result<Decoded> {
    if path.extension().is_some_and(|e| e == "wasm") {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path.display(), "read", e))?;
        return decode(&bytes, &path.display().to_string());
    }
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_path(path).map_err(|e| parse_failure(&format!("WIT at {}", path.display()), &e))?;
    Ok(Decoded { resolve, package })
}

/// Registries, through the OCI cache.
pub struct RegistrySource<'c> {
    locator: Locator<'c>,
    cache: CacheOptions,
    verification: &'c Verification,
}

impl<'c> RegistrySource<'c> {
    /// A source locating packages with `locator`, caching per `cache`
    /// (`PullPolicy::Never` is offline), taking only content whose signatures meet
    /// `verification` (checked before it is fetched).
    pub fn new(locator: Locator<'c>, cache: CacheOptions, verification: &'c Verification) -> Self {
        RegistrySource { locator, cache, verification }
    }
}

impl PackageSource for RegistrySource<'_> {
    fn home(&mut self, package: &PackageRef, version: Option<&Version>) -> Result<Home> {
        Ok(match self.locator.locate(package, version)? {
            Located::Oci(location) => Home::Registry(location.registry_name),
            Located::File(path) => Home::File(path),
        })
    }

    fn versions(&mut self, package: &PackageRef) -> Result<Vec<Version>> {
        let Located::Oci(location) = self.locator.locate(package, None)? else {
            return Ok(Vec::new());
        };
        let repository = location.repository_reference(package);
        let tags = if self.cache.offline() {
            // The versions the cache has entries for.
            let prefix = format!("{repository}:");
            self.cache
                .root()
                .and_then(|root| crate::store::layout::LayoutIndex::load(&root).ok())
                .map(|index| index.tags())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|t| t.strip_prefix(&prefix).map(str::to_string))
                .collect()
        } else {
            let reference = parse_reference(&format!("{repository}:latest"))?;
            let mut store = open_store(&reference, &location.options, Access::Pull)?;
            match store.tags() {
                Ok(tags) => tags,
                Err(Error::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(e),
            }
        };
        let mut versions: Vec<Version> = tags.iter().filter_map(|t| Version::parse(t).ok()).collect();
        versions.sort();
        Ok(versions)
    }

    fn content(&mut self, package: &PackageRef, version: &Version, pinned: Option<&Digest>) -> Result<Content> {
        let Located::Oci(location) = self.locator.locate(package, Some(version))? else {
            return Err(Error::InvalidInput(format!(
                "{package} is configured as a local file, not a registry package"
            )));
        };
        let reference_text = location.reference(package, version);
        let reference = parse_reference(&reference_text)?;
        let requirement = self.verification.requirement_for(&reference);
        // Pinned content the cache holds needs no question, unless its signatures must be
        // checked: then it is fetched by its tag, whose manifest is what was signed.
        if let Some(digest) = pinned.filter(|_| requirement.is_none())
            && let Some(bytes) = self.cache.cached_blob(digest)
        {
            return Ok(Content { bytes, digest: digest.clone(), reference: reference_text, from_network: false });
        }
        if let Reference::Registry(r) = &reference
            && r.tag.is_none()
        {
            return Err(Error::invalid_reference(&reference_text, "no version tag"));
        }
        let mut cache = self.cache.clone();
        if pinned.is_some() && cache.policy == PullPolicy::Revalidate {
            // The lock pins the content; a cached entry with it needs no question.
            cache.policy = PullPolicy::IfNotPresent;
        }
        let needs = |manifest: &ImageManifest| -> Result<Vec<Descriptor>> {
            Ok(vec![manifest.config.clone(), wasm_layer(manifest, &reference)?.clone()])
        };
        let verified = gate_before_fetch(&reference, &location.options, &cache, requirement, None)?;
        let mut fetched = fetch(&reference, &location.options, &cache, verified.as_ref(), &needs)?;
        gate_after_fetch(&reference, &cache, requirement, &fetched)?;
        let layer = wasm_layer(&fetched.resolved.manifest, &reference)?.clone();
        if let Some(digest) = pinned
            && digest != &layer.digest
        {
            return Err(Error::DigestMismatch {
                what: format!(
                    "{package}@{version} ({reference_text}) no longer has the content wkg.lock pins; \
                     if the change is intended, run `wasmship wit update {package}`"
                ),
                expected: digest.to_string(),
                actual: layer.digest.to_string(),
            });
        }
        let mut bytes = Vec::with_capacity(layer.size as usize);
        fetched.store.blob_get(&layer, &mut bytes)?;
        Ok(Content { bytes, digest: layer.digest, reference: reference_text, from_network: fetched.from_network })
    }
}
