//! `registries.conf` version 2, as podman, skopeo and buildah read it: for each reference
//! prefix, where the registry really is (`location`), whether it is blocked or reached over
//! plain HTTP, and its mirrors with what each may serve (`pull-from-mirror`). Pure: text in,
//! rules out; the longest matching prefix wins, and a later file's entry replaces an
//! earlier one with the same prefix (drop-ins).

use serde::Deserialize;

use crate::error::{Error, Result};

/// Which pulls a mirror serves (`pull-from-mirror`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullFromMirror {
    /// Pulls by tag and by digest: the mirror is trusted to resolve tags.
    All,
    /// Pulls by digest only (the default here, and with `mirror-by-digest-only`).
    DigestOnly,
    /// Pulls by tag only: the mirror resolves tags and serves what they name.
    TagOnly,
}

/// One `[[registry.mirror]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorRule {
    /// `host[:port][/namespace]`: the rest of a matching reference is appended.
    pub location: String,
    /// Reached over plain HTTP.
    pub insecure: bool,
    pub pull_from: PullFromMirror,
}

/// One `[[registry]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRule {
    /// `host[/namespace]`, or `*.domain` for every subdomain.
    pub prefix: String,
    /// Where references matching the prefix are pulled from (the prefix when unset).
    pub location: String,
    pub insecure: bool,
    pub blocked: bool,
    pub mirrors: Vec<MirrorRule>,
    /// The file that said so, for messages.
    pub file: String,
}

/// The rules of one or more files, in the order they apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistriesConf {
    pub rules: Vec<RegistryRule>,
}

/// What a reference matched: its rule and the part of the reference after the prefix.
#[derive(Debug, Clone, Copy)]
pub struct Match<'c> {
    pub rule: &'c RegistryRule,
    /// The reference's `registry/repository` after the matched prefix (`""` or `/rest`).
    pub rest_start: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct FileV2 {
    #[serde(default)]
    registry: Vec<RegistryEntry>,
    /// Version 1's table: refused with a hint.
    registries: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RegistryEntry {
    prefix: Option<String>,
    location: Option<String>,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    blocked: bool,
    #[serde(default)]
    mirror_by_digest_only: bool,
    #[serde(default)]
    mirror: Vec<MirrorEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct MirrorEntry {
    location: String,
    #[serde(default)]
    insecure: bool,
    pull_from_mirror: Option<String>,
}

impl RegistriesConf {
    /// Add the rules of `text` (read from `file`): an entry whose prefix is already known
    /// replaces the earlier one.
    pub fn add(&mut self, text: &str, file: &str) -> Result<()> {
        let parsed: FileV2 = toml::from_str(text).map_err(|e| Error::Config {
            file: file.to_string(),
            reason: format!("not a registries.conf: {}", e.to_string().trim_end()),
        })?;
        if parsed.registries.is_some() {
            return Err(config_error(
                file,
                "version 1 format (`[registries.search]`…) is not supported; use `[[registry]]` tables (version 2)",
            ));
        }
        for entry in parsed.registry {
            let rule = rule_of(entry, file)?;
            match self.rules.iter_mut().find(|r| r.prefix == rule.prefix) {
                Some(known) => *known = rule,
                None => self.rules.push(rule),
            }
        }
        Ok(())
    }

    /// The rule with the longest prefix matching `name` (`registry/repository`).
    pub fn lookup(&self, name: &str) -> Option<Match<'_>> {
        self.rules
            .iter()
            .filter_map(|rule| matched_length(name, &rule.prefix).map(|length| Match { rule, rest_start: length }))
            .max_by_key(|m| m.rule.prefix.len())
    }

    /// Every rule whose prefix could match a repository of `registry` (`host[:port]`).
    pub fn rules_for_registry<'c>(&'c self, registry: &'c str) -> impl Iterator<Item = &'c RegistryRule> + 'c {
        self.rules.iter().filter(move |rule| {
            let host = rule.prefix.split('/').next().unwrap_or("");
            match host.strip_prefix("*.") {
                Some(domain) => subdomain_of(registry, domain),
                None => host == registry,
            }
        })
    }
}

fn rule_of(entry: RegistryEntry, file: &str) -> Result<RegistryRule> {
    let prefix = match (&entry.prefix, &entry.location) {
        (Some(p), _) if !p.trim().is_empty() => p.trim().to_ascii_lowercase(),
        (_, Some(l)) if !l.trim().is_empty() => l.trim().to_ascii_lowercase(),
        _ => return Err(config_error(file, "a [[registry]] needs a prefix or a location")),
    };
    check_name(&prefix, file, "prefix")?;
    let wildcard = prefix.starts_with("*.");
    if prefix.contains('*') && (!wildcard || prefix[2..].contains(['*', '/'])) {
        return Err(config_error(
            file,
            &format!("prefix {prefix:?}: a wildcard is only allowed as `*.domain`, with no path"),
        ));
    }
    let location = match entry.location.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        Some(_) if wildcard => {
            return Err(config_error(file, &format!("prefix {prefix:?}: a wildcard prefix cannot have a location")));
        }
        Some(l) => l.to_ascii_lowercase(),
        None => prefix.clone(),
    };
    if !wildcard {
        check_name(&location, file, "location")?;
    }
    let mut mirrors = Vec::new();
    for mirror in entry.mirror {
        let location = mirror.location.trim().to_ascii_lowercase();
        check_name(&location, file, "mirror location")?;
        let pull_from = match (mirror.pull_from_mirror.as_deref(), entry.mirror_by_digest_only) {
            (None | Some(""), _) | (Some("digest-only"), _) => PullFromMirror::DigestOnly,
            (Some("all"), false) => PullFromMirror::All,
            (Some("tag-only"), false) => PullFromMirror::TagOnly,
            (Some("all" | "tag-only"), true) => {
                return Err(config_error(
                    file,
                    &format!("mirror {location:?}: pull-from-mirror conflicts with mirror-by-digest-only = true"),
                ));
            }
            (Some(other), _) => {
                return Err(config_error(
                    file,
                    &format!(
                        "mirror {location:?}: pull-from-mirror = {other:?}; expected \"all\", \"digest-only\" or \"tag-only\""
                    ),
                ));
            }
        };
        mirrors.push(MirrorRule { location, insecure: mirror.insecure, pull_from });
    }
    Ok(RegistryRule {
        prefix,
        location,
        insecure: entry.insecure,
        blocked: entry.blocked,
        mirrors,
        file: file.to_string(),
    })
}

/// A registry name with an optional path: no scheme, no tag, no digest, no spaces.
fn check_name(name: &str, file: &str, what: &str) -> Result<()> {
    let bad = name.contains("://")
        || name.contains(['@', ' ', '\t', '?', '#'])
        || name.ends_with('/')
        || name.split('/').any(str::is_empty);
    if bad {
        return Err(config_error(
            file,
            &format!("{what} {name:?} is not `host[:port][/path]` (no scheme, tag or digest)"),
        ));
    }
    Ok(())
}

/// How much of `name` the prefix matches, or `None`: a plain prefix matches itself and
/// anything under it (`prefix/…`); `*.domain` matches any host ending in `.domain`.
fn matched_length(name: &str, prefix: &str) -> Option<usize> {
    if let Some(domain) = prefix.strip_prefix("*.") {
        let host = name.split('/').next().unwrap_or("");
        return subdomain_of(host, domain).then_some(host.len());
    }
    let rest = name.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(prefix.len())
}

/// Whether `host` (`name[:port]`) is a subdomain of `domain`.
fn subdomain_of(host: &str, domain: &str) -> bool {
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    name.len() > domain.len() + 1 && name.ends_with(domain) && name[..name.len() - domain.len()].ends_with('.')
}

fn config_error(file: &str, reason: &str) -> Error {
    Error::Config { file: file.to_string(), reason: reason.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PODMAN_STYLE: &str = r#"
unqualified-search-registries = ["docker.io"]

[[registry]]
prefix = "docker.io"
location = "docker.io"
# a comment
[[registry.mirror]]
location = "mirror.example:5000/hub"
pull-from-mirror = "all"
[[registry.mirror]]
location = "backup.example"
insecure = true

[[registry]]
prefix = "docker.io/wasmcloud"
location = "ghcr.io/wasmcloud"

[[registry]]
prefix = "*.internal.example"
blocked = true

[[registry]]
location = "ghcr.io"
mirror-by-digest-only = true
[[registry.mirror]]
location = "cache.example/ghcr"
"#;

    fn conf() -> RegistriesConf {
        let mut conf = RegistriesConf::default();
        conf.add(PODMAN_STYLE, "registries.conf").unwrap();
        conf
    }

    #[test]
    fn reads_rules_and_mirrors_in_order() {
        let conf = conf();
        let hub = &conf.rules[0];
        assert_eq!(hub.prefix, "docker.io");
        assert_eq!(
            hub.mirrors,
            [
                MirrorRule {
                    location: "mirror.example:5000/hub".into(),
                    insecure: false,
                    pull_from: PullFromMirror::All
                },
                MirrorRule { location: "backup.example".into(), insecure: true, pull_from: PullFromMirror::DigestOnly },
            ]
        );
        assert_eq!(conf.rules[3].prefix, "ghcr.io", "the location is the prefix when none is given");
        assert_eq!(conf.rules[3].mirrors[0].pull_from, PullFromMirror::DigestOnly);
    }

    #[test]
    fn the_longest_prefix_wins_at_path_boundaries() {
        let conf = conf();
        let m = conf.lookup("docker.io/wasmcloud/http-server").unwrap();
        assert_eq!(m.rule.location, "ghcr.io/wasmcloud");
        assert_eq!(&"docker.io/wasmcloud/http-server"[m.rest_start..], "/http-server");
        assert_eq!(conf.lookup("docker.io/wasmcloudx/a").unwrap().rule.prefix, "docker.io");
        assert!(conf.lookup("docker.iox/a").is_none());
        assert!(conf.lookup("registry.internal.example:5000/a").unwrap().rule.blocked);
        assert!(conf.lookup("internal.example/a").is_none(), "the wildcard covers subdomains only");
    }

    #[test]
    fn a_drop_in_replaces_the_entry_with_the_same_prefix() {
        let mut conf = conf();
        conf.add("[[registry]]\nprefix = \"docker.io\"\nblocked = true\n", "registries.conf.d/10-block.conf").unwrap();
        let m = conf.lookup("docker.io/library/alpine").unwrap();
        assert!(m.rule.blocked);
        assert!(m.rule.mirrors.is_empty());
        assert_eq!(m.rule.file, "registries.conf.d/10-block.conf");
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let refuse = |text: &str| RegistriesConf::default().add(text, "r.conf").unwrap_err().to_string();
        assert!(refuse("[registries.search]\nregistries = []").contains("version 1"));
        assert!(refuse("[[registry]]\nprefix = \"http://x.io\"").contains("no scheme"));
        assert!(refuse("[[registry]]\nprefix = \"x.*.io\"").contains("wildcard"));
        assert!(refuse("[[registry]]\nprefix = \"*.io\"\nlocation = \"y.io\"").contains("wildcard"));
        assert!(
            refuse(
                "[[registry]]\nprefix = \"x.io\"\n[[registry.mirror]]\nlocation = \"m.io\"\npull-from-mirror = \"some\""
            )
            .contains("expected")
        );
        assert!(
            refuse("[[registry]]\nprefix = \"x.io\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"m.io\"\npull-from-mirror = \"all\"")
                .contains("conflicts")
        );
        assert!(refuse("[[registry]]\ninsecure = true").contains("prefix or a location"));
        assert!(refuse("[[registry]\n").starts_with("r.conf: not a registries.conf"));
    }

    #[test]
    fn rules_for_a_registry_include_wildcards_and_namespaces() {
        let conf = conf();
        let hub: Vec<_> = conf.rules_for_registry("docker.io").map(|r| r.prefix.as_str()).collect();
        assert_eq!(hub, ["docker.io", "docker.io/wasmcloud"]);
        assert_eq!(conf.rules_for_registry("a.internal.example").count(), 1);
    }
}
