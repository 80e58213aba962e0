//! `wit get ns:name[@version]`: fetch one package (the newest semver version
//! when none is given) through the OCI cache, and write it as a binary WIT
//! package or as WIT text (the package with its dependencies nested, so the
//! file stands alone).

use std::path::PathBuf;

use super::Project;
use crate::error::{Error, Result};
use crate::oci::Digest;
use crate::witpkg::config::WitConfig;
use crate::witpkg::decode::decode;
use crate::witpkg::name::PackageSpec;
use crate::witpkg::resolve::pick;
use crate::witpkg::source::{Home, PackageSource, RegistrySource};

/// Output format of `get`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GetFormat {
    #[default]
    Wit,
    Wasm,
}

/// What to get.
#[derive(Debug, Clone)]
pub struct GetRequest {
    pub spec: PackageSpec,
    pub format: GetFormat,
    /// File to write; `-` for standard output; default `<ns>-<name>-<version>.{wit,wasm}`.
    pub output: Option<PathBuf>,
}

/// What `get` did.
#[derive(Debug, Clone)]
pub struct GetOutcome {
    pub spec: PackageSpec,
    pub reference: String,
    /// Digest of the Wasm layer.
    pub digest: Digest,
    /// Where it was written (`None`: standard output).
    pub path: Option<PathBuf>,
    /// The content written, when it went to standard output.
    pub text: Option<Vec<u8>>,
}

/// Fetch and decode one package.
pub fn get(project: &Project, request: &GetRequest) -> Result<GetOutcome> {
    let config = WitConfig::load(&project.dir)?;
    let mut source = RegistrySource::new(project.locator(&config), project.cache.clone(), &project.verification);
    let package = &request.spec.package;
    let home = source.home(package, request.spec.version.as_ref())?;
    let Home::Registry(registry) = home else {
        return Err(Error::InvalidInput(format!("{package} is configured to come from a local file, not a registry")));
    };
    let version = match &request.spec.version {
        Some(v) => v.clone(),
        None => pick(package, &semver::VersionReq::STAR, &source.versions(package)?, &registry)?,
    };
    let content = source.content(package, &version, None)?;
    let decoded = decode(&content.bytes, &content.reference)?;
    let spec = PackageSpec { package: package.clone(), version: Some(version) };
    let bytes = match request.format {
        GetFormat::Wasm => content.bytes.clone(),
        GetFormat::Wit => {
            let resolve = &decoded.resolve;
            let nested: Vec<_> =
                resolve.topological_packages().into_iter().filter(|id| *id != decoded.package).collect();
            crate::witpkg::decode::print_package(resolve, decoded.package, &nested)?.into_bytes()
        }
    };
    let extension = match request.format {
        GetFormat::Wit => "wit",
        GetFormat::Wasm => "wasm",
    };
    let path = match &request.output {
        Some(p) if p.as_os_str() == "-" => None,
        Some(p) if p.is_dir() => Some(p.join(format!("{}.{extension}", spec.dir_name()))),
        Some(p) => Some(p.clone()),
        None => Some(project.dir.join(format!("{}.{extension}", spec.dir_name()))),
    };
    let text = match &path {
        Some(p) => {
            crate::fsutil::write_atomic(p, &bytes)?;
            None
        }
        None => Some(bytes),
    };
    Ok(GetOutcome { spec, reference: content.reference, digest: content.digest, path, text })
}
