//! Registry mirrors, for pulls only: which hosts may serve a reference besides its
//! registry, read from `registries.conf` v2 ([`registries_conf`]) and containerd
//! `hosts.toml` directories ([`hosts_toml`]), and the [`Route`] a pull takes — mirrors in
//! order, then the upstream. A mirror serves content by digest; it resolves tags only where
//! the configuration says it may, and everything it serves is checked against the digest
//! a trusted source gave (`store::mirrored`). [`trail`] records which host served what.

pub mod hosts_toml;
pub mod registries_conf;
pub mod trail;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::http::Scheme;
use crate::reference::{Reference, RegistryReference};

pub use registries_conf::{PullFromMirror, RegistriesConf};

/// The most a mirror configuration file may hold.
pub const CONFIG_FILE_MAX: u64 = 256 * 1024;
/// Drop-in files read from one `registries.conf.d` at most.
const DROP_INS_MAX: usize = 256;

/// The variable naming a `registries.conf` (as `--registries-conf`).
pub const REGISTRIES_CONF_VAR: &str = "WASMSHIP_REGISTRIES_CONF";
/// The variable naming a containerd hosts directory (as `--hosts-dir`).
pub const HOSTS_DIR_VAR: &str = "WASMSHIP_HOSTS_DIR";
/// The system's `registries.conf`, read when the user has none.
pub const SYSTEM_REGISTRIES_CONF: &str = "/etc/containers/registries.conf";

/// Which mirror configuration a command reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorSources {
    /// `registries.conf` files, in order (drop-ins after their main file).
    pub registries_conf: Vec<PathBuf>,
    /// Directories whose `*.conf` files are read as drop-ins, in order.
    pub drop_in_dirs: Vec<PathBuf>,
    /// A containerd hosts directory (`<dir>/<registry>/hosts.toml`).
    pub hosts_dir: Option<PathBuf>,
}

impl MirrorSources {
    /// The configuration named by flags, else by `WASMSHIP_REGISTRIES_CONF` and
    /// `WASMSHIP_HOSTS_DIR`; with neither, the user's `registries.conf` (else the system's)
    /// and both `registries.conf.d` directories, as podman reads them.
    pub fn choose(
        registries_conf: Option<&Path>,
        hosts_dir: Option<&Path>,
        var: impl Fn(&str) -> Option<String>,
        exists: impl Fn(&Path) -> bool,
    ) -> Self {
        let named = |flag: Option<&Path>, name: &str| {
            flag.map(Path::to_path_buf).or_else(|| var(name).filter(|v| !v.is_empty()).map(PathBuf::from))
        };
        let registries_conf = named(registries_conf, REGISTRIES_CONF_VAR);
        let hosts_dir = named(hosts_dir, HOSTS_DIR_VAR);
        if registries_conf.is_some() || hosts_dir.is_some() {
            return MirrorSources {
                registries_conf: registries_conf.into_iter().collect(),
                drop_in_dirs: vec![],
                hosts_dir,
            };
        }
        let system = PathBuf::from(SYSTEM_REGISTRIES_CONF);
        let user = var("XDG_CONFIG_HOME")
            .filter(|v| Path::new(v).is_absolute())
            .map(PathBuf::from)
            .or_else(|| var("HOME").filter(|v| Path::new(v).is_absolute()).map(|h| Path::new(&h).join(".config")))
            .map(|base| base.join("containers").join("registries.conf"));
        let main = match &user {
            Some(user) if exists(user) => user.clone(),
            _ => system.clone(),
        };
        let mut drop_in_dirs = vec![with_d(&system)];
        drop_in_dirs.extend(user.as_deref().map(with_d));
        MirrorSources { registries_conf: vec![main], drop_in_dirs, hosts_dir: None }
    }

    /// Whether files were named (then a missing file is an error, not a default skipped).
    fn named(&self) -> bool {
        self.drop_in_dirs.is_empty()
    }
}

/// `registries.conf` → `registries.conf.d`.
fn with_d(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".d");
    file.with_file_name(name)
}

/// The mirror configuration a command runs with.
#[derive(Debug, Default)]
pub struct Mirrors {
    conf: RegistriesConf,
    hosts_dir: Option<PathBuf>,
    /// Each registry's `hosts.toml`, read once per run (every store a pull opens asks).
    hosts_files: std::sync::Mutex<std::collections::BTreeMap<String, Option<HostsEntry>>>,
}

/// A `hosts.toml` that was read: where, and what it says.
type HostsEntry = (PathBuf, hosts_toml::HostsFile);

/// One place a reference may be pulled from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The registry (host and repository) as the endpoint names it.
    pub reference: RegistryReference,
    /// How it is reached: the scheme a `hosts.toml` URL gave, else the usual policy.
    pub scheme: Option<Scheme>,
    /// Plain HTTP (`insecure = true` in `registries.conf`).
    pub insecure: bool,
    /// Accept any TLS certificate (`skip_verify`).
    pub skip_tls_verify: bool,
    /// The API root (`/v2`, or a `hosts.toml` path).
    pub api_root: String,
    /// The original registry, sent as `?ns=` (containerd's mirrors expect it).
    pub namespace: Option<String>,
    /// May resolve tags to digests: the upstream, and mirrors the configuration trusts.
    pub resolves_tags: bool,
    /// May serve content by digest.
    pub serves_digests: bool,
    /// A mirror (not the upstream).
    pub is_mirror: bool,
}

/// A host a pull may reach, and how its certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostGrant {
    /// `host[:port]`.
    pub host: String,
    /// Accept any certificate (`skip_verify`).
    pub skip_tls_verify: bool,
    /// CA certificates to trust for it (`ca`; relative ones from the `hosts.toml`'s directory).
    pub ca_files: Vec<PathBuf>,
}

/// Where a pull of one reference goes: mirrors in order, then the upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub mirrors: Vec<Endpoint>,
    pub upstream: Endpoint,
}

impl Mirrors {
    /// Read the configuration `sources` name. A named file that is missing or invalid is
    /// an error; a default file that is missing is skipped.
    pub fn load(sources: &MirrorSources) -> Result<Self> {
        let mut conf = RegistriesConf::default();
        for file in &sources.registries_conf {
            match read_config(file) {
                Ok(text) => conf.add(&text, &file.display().to_string())?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !sources.named() => {}
                Err(e) => return Err(Error::io(file.display(), "read registries.conf", e)),
            }
        }
        for dir in &sources.drop_in_dirs {
            for file in drop_ins(dir)? {
                let text = read_config(&file).map_err(|e| Error::io(file.display(), "read registries.conf", e))?;
                conf.add(&text, &file.display().to_string())?;
            }
        }
        if let Some(dir) = &sources.hosts_dir
            && !dir.is_dir()
        {
            return Err(Error::NotFound {
                what: "hosts directory (--hosts-dir, WASMSHIP_HOSTS_DIR)".into(),
                location: dir.display().to_string(),
            });
        }
        Ok(Mirrors { conf, hosts_dir: sources.hosts_dir.clone(), hosts_files: Default::default() })
    }

    /// Mirrors built from `registries.conf` text alone (tests, fuzzing).
    pub fn from_registries_conf(conf: RegistriesConf) -> Self {
        Mirrors { conf, ..Mirrors::default() }
    }

    /// Whether any configuration was found.
    pub fn is_empty(&self) -> bool {
        self.conf.rules.is_empty() && self.hosts_dir.is_none()
    }

    /// The route of a pull of `reference`; `None` when no configuration mentions it (it
    /// is pulled from its registry as usual). A blocked registry is an error.
    pub fn route(&self, reference: &RegistryReference) -> Result<Option<Route>> {
        let name = format!("{}/{}", reference.registry, reference.repository);
        let mut upstream = plain_endpoint(reference.clone());
        let mut mirrors = Vec::new();
        let mut configured = false;
        if let Some(matched) = self.conf.lookup(&name) {
            configured = true;
            let rule = matched.rule;
            if rule.blocked {
                return Err(Error::Policy(format!(
                    "pulls from {} are blocked by {} (prefix {:?})",
                    reference.registry, rule.file, rule.prefix
                )));
            }
            let rest = &name[matched.rest_start..];
            let location = if rule.prefix.starts_with("*.") { &name[..matched.rest_start] } else { &rule.location };
            upstream.reference = rewritten(reference, &format!("{location}{rest}"), &rule.file)?;
            upstream.insecure = rule.insecure;
            for mirror in &rule.mirrors {
                let tags = matches!(mirror.pull_from, PullFromMirror::All | PullFromMirror::TagOnly);
                let digests = matches!(mirror.pull_from, PullFromMirror::All | PullFromMirror::DigestOnly);
                mirrors.push(Endpoint {
                    reference: rewritten(reference, &format!("{}{rest}", mirror.location), &rule.file)?,
                    insecure: mirror.insecure,
                    resolves_tags: tags,
                    // A tag-only mirror serves what it resolved, never a digest asked for.
                    serves_digests: digests || (tags && reference.digest.is_none()),
                    is_mirror: true,
                    ..plain_endpoint(reference.clone())
                });
            }
        }
        if let Some((_, hosts)) = self.hosts_file(&reference.registry)? {
            configured = true;
            let upstream_repository = upstream.reference.repository.clone();
            for host in hosts.hosts {
                mirrors.push(Endpoint {
                    reference: RegistryReference {
                        registry: host.url.authority.clone(),
                        repository: upstream_repository.clone(),
                        ..reference.clone()
                    },
                    scheme: Some(host.url.scheme),
                    insecure: false,
                    skip_tls_verify: host.skip_verify,
                    api_root: host.url.api_root,
                    namespace: Some(reference.registry.clone()),
                    resolves_tags: host.resolve,
                    serves_digests: host.pull,
                    is_mirror: true,
                });
            }
            if let Some(server) = hosts.server {
                // Docker Hub's API host names the registry itself: credentials stay found.
                let same = server.authority.eq_ignore_ascii_case(reference.api_host())
                    || server.authority.eq_ignore_ascii_case(&reference.registry);
                if !same {
                    upstream.reference.registry = server.authority;
                }
                upstream.scheme = Some(server.scheme);
                upstream.api_root = server.api_root;
            }
        }
        Ok(configured.then_some(Route { mirrors, upstream }))
    }

    /// Every host a pull from `registry` may reach (mirrors and a rewritten upstream), with
    /// how its TLS certificate is checked: what a plan grants.
    pub fn hosts_for_registry(&self, registry: &str) -> Result<Vec<HostGrant>> {
        let plain = |host: &str| HostGrant { host: host.to_string(), skip_tls_verify: false, ca_files: Vec::new() };
        let mut hosts = Vec::new();
        for rule in self.conf.rules_for_registry(registry) {
            if !rule.prefix.starts_with("*.") {
                hosts.push(plain(host_of(&rule.location)));
            }
            hosts.extend(rule.mirrors.iter().map(|m| plain(host_of(&m.location))));
        }
        if let Some((path, file)) = self.hosts_file(registry)? {
            // containerd reads a relative `ca` from the hosts.toml's directory.
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            hosts.extend(file.hosts.iter().map(|h| HostGrant {
                host: h.url.authority.clone(),
                skip_tls_verify: h.skip_verify,
                ca_files: h.ca.iter().map(|f| dir.join(f)).collect(),
            }));
            hosts.extend(file.server.map(|s| plain(&s.authority)));
        }
        hosts.retain(|h| !h.host.eq_ignore_ascii_case(registry));
        Ok(hosts)
    }

    /// The `hosts.toml` for `registry` in the hosts directory, when there is one.
    fn hosts_file(&self, registry: &str) -> Result<Option<HostsEntry>> {
        let Some(dir) = &self.hosts_dir else { return Ok(None) };
        let mut known = self.hosts_files.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(entry) = known.get(registry) {
            return Ok(entry.clone());
        }
        let entry = read_hosts_file(dir, registry)?;
        known.insert(registry.to_string(), entry.clone());
        Ok(entry)
    }
}

/// The first `hosts.toml` of `registry`'s candidate directories in `dir`, parsed.
fn read_hosts_file(dir: &Path, registry: &str) -> Result<Option<HostsEntry>> {
    for candidate in hosts_toml::candidate_dirs(registry) {
        let file = dir.join(candidate).join("hosts.toml");
        match read_config(&file) {
            Ok(text) => {
                let parsed = hosts_toml::parse(&text, &file.display().to_string())?;
                return Ok(Some((file, parsed)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(file.display(), "read hosts.toml", e)),
        }
    }
    Ok(None)
}

fn plain_endpoint(reference: RegistryReference) -> Endpoint {
    Endpoint {
        reference,
        scheme: None,
        insecure: false,
        skip_tls_verify: false,
        api_root: "/v2".into(),
        namespace: None,
        resolves_tags: true,
        serves_digests: true,
        is_mirror: false,
    }
}

/// `reference` moved to `name` (`host[:port]/repository`), which must read as a reference
/// does (a registry host, a valid repository).
fn rewritten(reference: &RegistryReference, name: &str, file: &str) -> Result<RegistryReference> {
    // The first segment is the host, as in `registries.conf`, even without a dot.
    let host = name.split('/').next().unwrap_or_default();
    match Reference::parse(name) {
        Ok(Reference::Registry(moved))
            if name.contains('/') && moved.registry == host && moved.tag.is_none() && moved.digest.is_none() =>
        {
            Ok(RegistryReference { registry: moved.registry, repository: moved.repository, ..reference.clone() })
        }
        _ => Err(Error::Config {
            file: file.to_string(),
            reason: format!(
                "{}/{} maps to {name:?}, which is not host[:port]/repository",
                reference.registry, reference.repository
            ),
        }),
    }
}

fn host_of(location: &str) -> &str {
    location.split('/').next().unwrap_or(location)
}

fn read_config(path: &Path) -> std::io::Result<String> {
    let bytes = crate::fsutil::read_regular_at_most(path, CONFIG_FILE_MAX)?;
    String::from_utf8(bytes).map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// The `*.conf` files of a drop-in directory, by name; none when it does not exist.
fn drop_ins(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir.display(), "list drop-in directory", e)),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    files.sort();
    if files.len() > DROP_INS_MAX {
        return Err(Error::InvalidInput(format!(
            "{}: {} drop-in files; at most {DROP_INS_MAX} are read",
            dir.display(),
            files.len()
        )));
    }
    Ok(files)
}

#[cfg(test)]
mod tests;
