//! `wit publish`: push a binary WIT package (built from a WIT directory, or
//! an existing `.wasm`) to its registry as a Wasm OCI artifact, through the
//! same push path as components. The config lists the package's worlds and
//! interfaces as exports. An existing version is not overwritten unless
//! forced: others may have locked its digest. A WIT directory whose `deps`
//! lack packages is built against them resolved in memory, as `wit build`
//! does; the resolution is recorded in `wkg.lock` when the directory is the
//! project's WIT directory (the lock is that package's).

use std::path::{Path, PathBuf};

use super::build::DepsUsed;
use super::resolved::{encode_dir, record};
use super::{Project, in_project};
use crate::artifact::WasmKind;
use crate::auth::Access;
use crate::error::{Error, Result};
use crate::oci::Digest;
use crate::oci::annotations::VERSION;
use crate::ops::push::{PushRequest, push_wasm_bytes};
use crate::ops::{open_store, parse_reference};
use crate::reference::Reference;
use crate::store::Selector;
use crate::witpkg::config::{Mapping, WitConfig, parse_source};
use crate::witpkg::decode::decode;
use crate::witpkg::locate::Located;
use crate::witpkg::name::PackageSpec;
use crate::witpkg::wellknown::Lookup;

/// What to publish, and where.
#[derive(Debug, Clone)]
pub struct PublishRequest {
    /// A `.wasm` WIT package, or a WIT directory (default: the project's).
    pub input: Option<PathBuf>,
    /// A registry name (or `oci://host/prefix`) instead of the configured one.
    pub registry: Option<String>,
    /// An explicit reference instead of the package's own location.
    pub reference: Option<String>,
    /// Overwrite an existing version.
    pub force: bool,
}

/// What was published.
#[derive(Debug, Clone)]
pub struct PublishOutcome {
    pub spec: PackageSpec,
    pub reference: String,
    /// Manifest digest.
    pub digest: Digest,
    /// What the dependencies came from (a `.wasm` input: none needed).
    pub deps: DepsUsed,
}

/// Publish a WIT package.
pub fn publish(project: &Project, request: &PublishRequest) -> Result<PublishOutcome> {
    let config = WitConfig::load(&project.dir)?;
    let input = request.input.as_deref().map_or_else(|| project.wit_dir.clone(), |p| in_project(&project.dir, p));
    let (bytes, resolution) = if input.is_dir() {
        let encoded = encode_dir(project, &config, &input)?;
        (encoded.built.bytes, encoded.resolution)
    } else {
        (crate::fsutil::read_regular(&input).map_err(|e| Error::io(input.display(), "read", e))?, None)
    };
    let decoded = decode(&bytes, &input.display().to_string())?;
    let spec = decoded.spec();
    let version = spec.version.clone().ok_or_else(|| {
        Error::InvalidInput(format!("{spec} has no version; write `package {spec}@0.1.0;` to publish it"))
    })?;

    let (reference, options) = match (&request.reference, &request.registry) {
        (Some(reference), _) => {
            let mut reference = reference.clone();
            if let Ok(Reference::Registry(r)) = parse_reference(&reference)
                && r.tag.is_none()
                && r.digest.is_none()
            {
                reference = format!("{reference}:{version}");
            }
            (reference, project.options.clone())
        }
        (None, registry) => {
            // Where to publish is looked up even offline (`--offline` is about the dependencies).
            let mut locator = project.locator_with(&config, Lookup::Normal);
            let located = match registry.clone().or(config.publish_registry.clone()) {
                Some(r) if r.contains("://") => locator.at(parse_source(&r, &project.dir)?)?,
                Some(name) => locator.at(Mapping::Registry { name, metadata: None })?,
                None => locator.locate(&spec.package, Some(&version))?,
            };
            let Located::Oci(location) = located else {
                return Err(Error::InvalidInput(format!(
                    "{spec} is configured to come from a local file; name a registry with --registry"
                )));
            };
            (location.reference(&spec.package, &version), location.options)
        }
    };

    let parsed = parse_reference(&reference)?;
    if !request.force {
        let mut store = open_store(&parsed, &options, Access::Pull)?;
        let tag = parsed.tag().unwrap_or("latest").to_string();
        let existing = match store.manifest_head(&Selector::Tag(tag)) {
            Ok(existing) => existing,
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        if let Some(existing) = existing {
            return Err(Error::Policy(format!(
                "{parsed} already exists ({}); a published version is what others lock, so it is not \
                 overwritten: publish a new version, or pass --force",
                existing.digest
            )));
        }
    }

    // The layer is titled `<name>.wasm`, as wkg titles it.
    let exports = decoded.exports();
    let push = PushRequest {
        reference: reference.clone(),
        file: PathBuf::from(format!("{}.wasm", spec.package.name)),
        annotations: vec![(VERSION.to_string(), version.to_string())],
        upload: None,
        config: None,
        options,
    };
    let outcome = push_wasm_bytes(&push, bytes, |analysed| {
        analysed.kind = WasmKind::Component;
        analysed.exports = exports;
        analysed.imports.clear();
    })?;
    // As `wit build` does, once everything else succeeded; another package's
    // dependencies are not the project's lock.
    let deps = match &resolution {
        None => DepsUsed::Tree,
        Some(resolution) => DepsUsed::Resolved {
            lock_written: same_dir(&input, &project.wit_dir) && record(project, resolution)?,
            network: resolution.used_network(),
        },
    };
    Ok(PublishOutcome { spec, reference: outcome.reference, digest: outcome.digest, deps })
}

/// Whether `a` and `b` name one directory.
fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(a), Ok(b)) if a == b)
}
