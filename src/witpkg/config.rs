//! Where each package comes from, by precedence:
//! 1. the project: `[[registry.pull.sources]]` in `wasmship.toml` and
//!    `wasmcloud.toml` (`target` = `ns`, `ns:name` or `ns:name@1.2.3`; `source`
//!    = `oci://host/prefix` or `file://path`), most specific target first;
//! 2. wkg's `config.toml` (`WKG_CONFIG_FILE`, else
//!    `$XDG_CONFIG_HOME/wasm-pkg/config.toml` or `~/.config/wasm-pkg/config.toml`):
//!    `package_registry_overrides`, `namespace_registries`, `default_registry`,
//!    and per registry `oci.auth` and `oci.protocol`;
//! 3. the built-ins `wasi` → `wasi.dev`, `wasmcloud` → `wasmcloud.com`,
//!    `ba`/`wrpc` → `bytecodealliance.org`.
//!
//! Also `wasmship.toml`'s `[wit.metadata]` (or `wkg.toml`'s `[metadata]`) for
//! built packages. Nothing here talks to a network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use semver::Version;
use serde::Deserialize;

use super::encode::PackageMetadata;
use super::name::{PackageRef, PackageSpec};
use super::wellknown::RegistryMetadata;
use crate::config::env::var;
use crate::error::{Error, Result};

/// The project file of wasmship.
pub const PROJECT_FILE: &str = "wasmship.toml";
/// wkg's environment variable naming its config file.
pub const WKG_CONFIG_VAR: &str = "WKG_CONFIG_FILE";
/// Namespaces whose registries everyone knows.
pub const BUILTIN_REGISTRIES: [(&str, &str); 4] = [
    ("wasi", "wasi.dev"),
    ("wasmcloud", "wasmcloud.com"),
    ("ba", "bytecodealliance.org"),
    ("wrpc", "bytecodealliance.org"),
];

/// Where one package comes from, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping {
    /// A wkg registry name; its OCI location comes from `metadata` when the
    /// configuration gives it, else from the registry's `registry.json`.
    Registry { name: String, metadata: Option<RegistryMetadata> },
    /// An OCI registry and namespace prefix given directly (`oci://host/prefix`).
    Oci { registry: String, prefix: String },
    /// A local WIT file or directory, or a binary WIT package.
    File(PathBuf),
}

/// wkg's per-registry settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrySettings {
    /// `oci.auth`: user name and password.
    pub auth: Option<(String, String)>,
    /// `oci.protocol = "http"`.
    pub plain_http: bool,
}

/// The merged configuration.
#[derive(Debug, Clone, Default)]
pub struct WitConfig {
    /// Project sources, most specific first.
    sources: Vec<(Target, Mapping)>,
    wkg: WkgConfig,
    /// Metadata for `wit build`.
    pub metadata: PackageMetadata,
    /// `[wit] registry`: the registry `wit publish` uses by default.
    pub publish_registry: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    namespace: String,
    name: Option<String>,
    version: Option<Version>,
}

impl Target {
    fn parse(input: &str) -> Result<Target> {
        let input = input.trim();
        if !input.contains(':') {
            PackageRef::parse(&format!("{input}:x"))?;
            return Ok(Target { namespace: input.to_string(), name: None, version: None });
        }
        let spec = PackageSpec::parse(input)?;
        Ok(Target { namespace: spec.package.namespace, name: Some(spec.package.name), version: spec.version })
    }

    fn matches(&self, package: &PackageRef, version: Option<&Version>) -> bool {
        self.namespace == package.namespace
            && self.name.as_ref().is_none_or(|n| n == &package.name)
            && self.version.as_ref().is_none_or(|v| Some(v) == version)
    }

    fn specificity(&self) -> u8 {
        u8::from(self.name.is_some()) + u8::from(self.version.is_some())
    }
}

// ---- file forms ----

#[derive(Debug, Default, Deserialize)]
struct ProjectFile {
    #[serde(default)]
    registry: Option<ProjectRegistry>,
    #[serde(default)]
    wit: Option<ProjectWit>,
    #[serde(default)]
    metadata: Option<PackageMetadata>,
}

#[derive(Debug, Default, Deserialize)]
struct ProjectRegistry {
    #[serde(default)]
    pull: Option<PullSection>,
}

#[derive(Debug, Default, Deserialize)]
struct PullSection {
    #[serde(default)]
    sources: Vec<PullSource>,
}

#[derive(Debug, Deserialize)]
struct PullSource {
    target: String,
    source: String,
}

#[derive(Debug, Default, Deserialize)]
struct ProjectWit {
    registry: Option<String>,
    metadata: Option<PackageMetadata>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct WkgConfig {
    default_registry: Option<String>,
    #[serde(default)]
    namespace_registries: BTreeMap<String, WkgMapping>,
    #[serde(default)]
    package_registry_overrides: BTreeMap<String, WkgMapping>,
    #[serde(default)]
    registry: BTreeMap<String, WkgRegistry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum WkgMapping {
    Name(String),
    Custom { registry: String, metadata: RegistryMetadata },
}

#[derive(Debug, Clone, Default, Deserialize)]
struct WkgRegistry {
    #[serde(default)]
    oci: Option<WkgOci>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct WkgOci {
    auth: Option<WkgAuth>,
    protocol: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum WkgAuth {
    Basic { username: String, password: String },
    Encoded(String),
}

impl WitConfig {
    /// Load the project's files from `project_dir` and wkg's config file.
    pub fn load(project_dir: &Path) -> Result<WitConfig> {
        let mut config = WitConfig::default();
        for file in [PROJECT_FILE, crate::config::wasmcloud::FILE_NAME] {
            let path = project_dir.join(file);
            if let Some(text) = read_optional(&path)? {
                config.add_project_file(&path, &text, project_dir)?;
            }
        }
        if config.metadata == PackageMetadata::default()
            && let Some(text) = read_optional(&project_dir.join("wkg.toml"))?
            && let Ok(file) = toml::from_str::<ProjectFile>(&text)
            && let Some(metadata) = file.metadata
        {
            config.metadata = metadata;
        }
        if let Some(path) = wkg_config_path()
            && let Some(text) = read_optional(&path)?
        {
            config.wkg = toml::from_str(&text)
                .map_err(|e| Error::config(path.display(), format!("not a valid wkg config: {e}")))?;
        }
        Ok(config)
    }

    /// Add one project file's sources (a later file's are less preferred).
    fn add_project_file(&mut self, path: &Path, text: &str, project_dir: &Path) -> Result<()> {
        let file: ProjectFile = toml::from_str(text).map_err(|e| Error::config(path.display(), e))?;
        let sources = file.registry.and_then(|r| r.pull).map(|p| p.sources).unwrap_or_default();
        for source in sources {
            let target = Target::parse(&source.target)
                .map_err(|e| Error::config(path.display(), format!("target {:?}: {e}", source.target)))?;
            let mapping = parse_source(&source.source, project_dir)
                .map_err(|e| Error::config(path.display(), format!("source {:?}: {e}", source.source)))?;
            self.sources.push((target, mapping));
        }
        // Stable: equally specific targets keep file order.
        self.sources.sort_by_key(|(t, _)| std::cmp::Reverse(t.specificity()));
        if let Some(wit) = file.wit {
            if self.publish_registry.is_none() {
                self.publish_registry = wit.registry;
            }
            if let Some(metadata) = wit.metadata
                && self.metadata == PackageMetadata::default()
            {
                self.metadata = metadata;
            }
        }
        Ok(())
    }

    /// Parse configuration text directly (for tests and callers with their own files).
    pub fn from_texts(project: &[(&str, &str)], wkg: Option<&str>, project_dir: &Path) -> Result<WitConfig> {
        let mut config = WitConfig::default();
        for (name, text) in project {
            config.add_project_file(Path::new(name), text, project_dir)?;
        }
        if let Some(text) = wkg {
            config.wkg = toml::from_str(text).map_err(|e| Error::config("wkg config", e))?;
        }
        Ok(config)
    }

    /// Where `package` (at `version`, when known) comes from.
    pub fn mapping(&self, package: &PackageRef, version: Option<&Version>) -> Result<Mapping> {
        if let Some((_, mapping)) = self.sources.iter().find(|(t, _)| t.matches(package, version)) {
            return Ok(mapping.clone());
        }
        let wkg = &self.wkg;
        let configured = wkg
            .package_registry_overrides
            .get(&package.to_string())
            .or_else(|| wkg.namespace_registries.get(&package.namespace));
        if let Some(mapping) = configured {
            return Ok(match mapping {
                WkgMapping::Name(name) => Mapping::Registry { name: name.clone(), metadata: None },
                WkgMapping::Custom { registry, metadata } => {
                    Mapping::Registry { name: registry.clone(), metadata: Some(metadata.clone()) }
                }
            });
        }
        if let Some(name) = &wkg.default_registry {
            return Ok(Mapping::Registry { name: name.clone(), metadata: None });
        }
        if let Some((_, name)) = BUILTIN_REGISTRIES.iter().find(|(ns, _)| *ns == package.namespace) {
            return Ok(Mapping::Registry { name: name.to_string(), metadata: None });
        }
        Err(Error::NotFound {
            what: format!("a registry for {package}"),
            location: format!(
                "the configuration: add a [[registry.pull.sources]] entry to {PROJECT_FILE}, \
                 or set default_registry / namespace_registries in wkg's config.toml"
            ),
        })
    }

    /// The OCI registries the project's sources name (`oci://host/prefix`).
    pub fn source_registries(&self) -> Vec<&str> {
        self.sources
            .iter()
            .filter_map(|(_, mapping)| match mapping {
                Mapping::Oci { registry, .. } => Some(registry.as_str()),
                _ => None,
            })
            .collect()
    }

    /// wkg's settings for registry `name`.
    pub fn registry_settings(&self, name: &str) -> Result<RegistrySettings> {
        let Some(oci) = self.wkg.registry.get(name).and_then(|r| r.oci.as_ref()) else {
            return Ok(RegistrySettings::default());
        };
        let auth = match &oci.auth {
            None => None,
            Some(WkgAuth::Basic { username, password }) => Some((username.clone(), password.clone())),
            Some(WkgAuth::Encoded(encoded)) => Some(decode_auth(name, encoded)?),
        };
        Ok(RegistrySettings { auth, plain_http: oci.protocol.as_deref() == Some("http") })
    }
}

/// `oci://host/prefix` or `file://path` (relative to the project).
pub fn parse_source(source: &str, project_dir: &Path) -> Result<Mapping> {
    if let Some(rest) = source.strip_prefix("oci://") {
        let rest = rest.trim_end_matches('/');
        let (registry, prefix) = match rest.split_once('/') {
            Some((host, prefix)) => (host.to_ascii_lowercase(), format!("{prefix}/")),
            None => (rest.to_ascii_lowercase(), String::new()),
        };
        if registry.is_empty() {
            return Err(Error::InvalidInput("no registry host after oci://".into()));
        }
        return Ok(Mapping::Oci { registry, prefix });
    }
    if let Some(path) = source.strip_prefix("file://") {
        let path = PathBuf::from(path);
        return Ok(Mapping::File(if path.is_absolute() { path } else { project_dir.join(path) }));
    }
    Err(Error::InvalidInput("wasmship fetches from oci:// and file:// sources only".into()))
}

fn decode_auth(registry: &str, encoded: &str) -> Result<(String, String)> {
    crate::config::docker::decode_basic(encoded).ok_or_else(|| {
        Error::config("wkg config", format!("registry {registry:?}: oci.auth is not base64 of user:password"))
    })
}

/// `WKG_CONFIG_FILE`, else `$XDG_CONFIG_HOME/wasm-pkg/config.toml`, else
/// `~/.config/wasm-pkg/config.toml`.
pub fn wkg_config_path() -> Option<PathBuf> {
    wkg_config_path_with(&var)
}

/// [`wkg_config_path`] in the environment `var` looks variables up in.
pub fn wkg_config_path_with(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(file) = var(WKG_CONFIG_VAR) {
        return Some(PathBuf::from(file));
    }
    let base = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|home| Path::new(&home).join(".config")))?;
    Some(base.join("wasm-pkg").join("config.toml"))
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match crate::fsutil::read_project_file(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        // A file the sandbox does not grant is treated as absent.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Ok(None),
        Err(e) => Err(Error::io(path.display(), "read", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(s: &str) -> PackageRef {
        PackageRef::parse(s).unwrap()
    }

    #[test]
    fn project_sources_come_first_most_specific_first() {
        let project = r#"
            [[registry.pull.sources]]
            target = "example"
            source = "oci://127.0.0.1:5000/wit"

            [[registry.pull.sources]]
            target = "example:types"
            source = "file://extra/types.wit"
        "#;
        let wkg = "default_registry = \"fallback.example.com\"\n";
        let config = WitConfig::from_texts(&[("wasmcloud.toml", project)], Some(wkg), Path::new("/p")).unwrap();
        assert_eq!(
            config.mapping(&pkg("example:api"), None).unwrap(),
            Mapping::Oci { registry: "127.0.0.1:5000".into(), prefix: "wit/".into() }
        );
        assert_eq!(config.mapping(&pkg("example:types"), None).unwrap(), Mapping::File("/p/extra/types.wit".into()));
        assert_eq!(
            config.mapping(&pkg("other:thing"), None).unwrap(),
            Mapping::Registry { name: "fallback.example.com".into(), metadata: None }
        );
    }

    #[test]
    fn wkg_overrides_beat_namespaces_beat_default_beat_builtins() {
        let wkg = r#"
            default_registry = "default.example.com"
            [namespace_registries]
            example = "ns.example.com"
            custom = { registry = "custom", metadata = { preferredProtocol = "oci", oci = { registry = "ghcr.io", namespacePrefix = "acme/" } } }
            [package_registry_overrides]
            "example:special" = "special.example.com"
            [registry."ns.example.com".oci]
            auth = { username = "open", password = "sesame" }
            protocol = "http"
            [registry."default.example.com".oci]
            auth = "b3BlbjpzZXNhbWU="
        "#;
        let config = WitConfig::from_texts(&[], Some(wkg), Path::new(".")).unwrap();
        let name = |p: &str| match config.mapping(&pkg(p), None).unwrap() {
            Mapping::Registry { name, .. } => name,
            other => panic!("{other:?}"),
        };
        assert_eq!(name("example:special"), "special.example.com");
        assert_eq!(name("example:api"), "ns.example.com");
        assert_eq!(name("wasi:http"), "default.example.com");
        match config.mapping(&pkg("custom:x"), None).unwrap() {
            Mapping::Registry { name, metadata: Some(meta) } => {
                assert_eq!(name, "custom");
                assert_eq!(meta.oci_location(&name).unwrap(), ("ghcr.io".into(), "acme/".into()));
            }
            other => panic!("{other:?}"),
        }
        let ns = config.registry_settings("ns.example.com").unwrap();
        assert_eq!(ns.auth, Some(("open".into(), "sesame".into())));
        assert!(ns.plain_http);
        assert_eq!(
            config.registry_settings("default.example.com").unwrap().auth,
            Some(("open".into(), "sesame".into()))
        );
    }

    #[test]
    fn builtins_and_unknown_namespaces() {
        let config = WitConfig::default();
        for (ns, registry) in BUILTIN_REGISTRIES {
            let mapping = config.mapping(&PackageRef::new(ns, "x"), None).unwrap();
            assert_eq!(mapping, Mapping::Registry { name: registry.into(), metadata: None });
        }
        let err = config.mapping(&pkg("nobody:knows"), None).unwrap_err();
        assert!(err.to_string().contains("registry.pull.sources"), "{err}");
    }
}
