//! From a package to where it is: the configured mapping ([`config`]), the
//! registry's metadata ([`wellknown`]) when the mapping names a registry, and
//! so the OCI reference `<oci registry>/<namespacePrefix><ns>/<name>:<version>`
//! with the options (plain HTTP, credentials) to reach it.
//!
//! [`config`]: super::config
//! [`wellknown`]: super::wellknown

use std::collections::BTreeMap;
use std::path::PathBuf;

use semver::Version;

use super::config::{Mapping, WitConfig};
use super::name::PackageRef;
use super::wellknown::{self, Lookup};
use crate::auth::Secret;
use crate::error::Result;
use crate::http::Transport;
use crate::ops::RegistryOptions;

/// An OCI home for packages.
#[derive(Debug, Clone)]
pub struct Location {
    /// The registry as `wkg.lock` records it (a wkg registry name, or the
    /// OCI host of an `oci://` source).
    pub registry_name: String,
    /// `host[:port]` of the OCI registry.
    pub oci_registry: String,
    /// Namespace prefix (`webassembly/`), possibly empty.
    pub prefix: String,
    /// How to reach it.
    pub options: RegistryOptions,
}

impl Location {
    /// The repository holding `package`'s versions: `<prefix><ns>/<name>`.
    pub fn repository(&self, package: &PackageRef) -> String {
        format!("{}{}/{}", self.prefix, package.namespace, package.name)
    }

    /// The reference of one version.
    pub fn reference(&self, package: &PackageRef, version: &Version) -> String {
        format!("{}/{}:{version}", self.oci_registry, self.repository(package))
    }

    /// The repository reference without a tag (for listing tags).
    pub fn repository_reference(&self, package: &PackageRef) -> String {
        format!("{}/{}", self.oci_registry, self.repository(package))
    }
}

/// Where a package is.
#[derive(Debug, Clone)]
pub enum Located {
    Oci(Location),
    File(PathBuf),
}

/// Locates packages, remembering registry metadata already looked up.
pub struct Locator<'c> {
    config: &'c WitConfig,
    transport: Box<dyn Transport>,
    cache_dir: Option<PathBuf>,
    lookup: Lookup,
    base: RegistryOptions,
    known: BTreeMap<String, (String, String)>,
}

impl<'c> Locator<'c> {
    /// A locator using `config`; metadata is cached under `cache_dir`;
    /// `base` holds options given on the command line.
    pub fn new(
        config: &'c WitConfig,
        transport: Box<dyn Transport>,
        cache_dir: Option<PathBuf>,
        lookup: Lookup,
        base: RegistryOptions,
    ) -> Self {
        Locator { config, transport, cache_dir, lookup, base, known: BTreeMap::new() }
    }

    /// Where `package` (at `version`, if known) is.
    pub fn locate(&mut self, package: &PackageRef, version: Option<&Version>) -> Result<Located> {
        let mapping = self.config.mapping(package, version)?;
        self.at(mapping)
    }

    /// Where a mapping points.
    pub fn at(&mut self, mapping: Mapping) -> Result<Located> {
        match mapping {
            Mapping::File(path) => Ok(Located::File(path)),
            Mapping::Oci { registry, prefix } => {
                let options = self.options_for(&registry, &registry)?;
                Ok(Located::Oci(Location { registry_name: registry.clone(), oci_registry: registry, prefix, options }))
            }
            Mapping::Registry { name, metadata } => self.registry(&name, metadata.as_ref()).map(Located::Oci),
        }
    }

    /// The location of the packages of registry `name` (a wkg registry name).
    pub fn registry(&mut self, name: &str, metadata: Option<&wellknown::RegistryMetadata>) -> Result<Location> {
        let (oci_registry, prefix) = match (metadata, self.known.get(name)) {
            (Some(meta), _) => meta.oci_location(name)?,
            (None, Some(known)) => known.clone(),
            (None, None) => {
                let meta = wellknown::metadata(name, self.transport.as_ref(), self.cache_dir.as_deref(), self.lookup)?;
                let location = meta.oci_location(name)?;
                self.known.insert(name.to_string(), location.clone());
                location
            }
        };
        let options = self.options_for(name, &oci_registry)?;
        Ok(Location {
            registry_name: name.to_string(),
            oci_registry: oci_registry.to_ascii_lowercase(),
            prefix,
            options,
        })
    }

    /// Command-line options plus wkg's settings for registry `name` (whose
    /// OCI host is `oci_registry`).
    fn options_for(&self, name: &str, oci_registry: &str) -> Result<RegistryOptions> {
        let mut options = self.base.clone();
        let settings = self.config.registry_settings(name)?;
        if settings.plain_http {
            options.insecure.push(oci_registry.to_ascii_lowercase());
        }
        if options.credentials.user.is_none()
            && let Some((user, password)) = settings.auth
        {
            options.credentials.user = Some(user);
            options.credentials.password = Some(Secret::new(password));
        }
        Ok(options)
    }
}
