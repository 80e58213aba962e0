//! References: which store holds an artifact and under which name.
//!
//! - registry: `[oci://]host[:port]/repo/path[:tag][@sha256:…]`; a first path
//!   component without `.` or `:` (and not `localhost`) is a Docker Hub
//!   repository (`docker.io`, `library/` for single names). Host and
//!   repository are lowercased, as wash does.
//! - OCI image layout: `oci-layout://DIR[:TAG][@digest]`.

use std::fmt;

use crate::error::{Error, Result};
use crate::oci::Digest;

/// The scheme of OCI image layout references.
pub const LAYOUT_SCHEME: &str = "oci-layout://";
const OCI_SCHEME: &str = "oci://";
/// Docker Hub's canonical registry name.
pub const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";
const MAX_TAG_LEN: usize = 128;
const MAX_NAME_LEN: usize = 255;

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Registry(RegistryReference),
    Layout(LayoutReference),
}

/// Whether `authority` (`host`, `host:port`, `[v6]` or `[v6]:port`) names the loopback
/// interface: `localhost`, an IPv4 literal in 127.0.0.0/8, or `::1` — nothing else, so
/// `127.attacker.example` is not (credentials only travel in cleartext to loopback).
pub fn is_loopback_host(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => match authority.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => authority,
        },
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// An artifact in a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryReference {
    /// `host[:port]`, lowercased; `docker.io` for Docker Hub.
    pub registry: String,
    /// Repository path, lowercased.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// An artifact in an OCI image layout directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutReference {
    pub dir: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parse a reference string.
    pub fn parse(input: &str) -> Result<Self> {
        let input = input.trim();
        if input.is_empty() {
            return Err(Error::invalid_reference(input, "empty reference"));
        }
        if let Some(rest) = input.strip_prefix(LAYOUT_SCHEME) {
            return LayoutReference::parse(input, rest).map(Reference::Layout);
        }
        if input.contains("://") && !input.starts_with(OCI_SCHEME) {
            return Err(Error::invalid_reference(
                input,
                "unknown scheme; use host/repository:tag, oci://host/repository:tag or oci-layout://DIR:TAG",
            ));
        }
        RegistryReference::parse(input).map(Reference::Registry)
    }

    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        match self {
            Reference::Registry(r) => r.tag.as_deref(),
            Reference::Layout(r) => r.tag.as_deref(),
        }
    }

    /// The digest, if any.
    pub fn digest(&self) -> Option<&Digest> {
        match self {
            Reference::Registry(r) => r.digest.as_ref(),
            Reference::Layout(r) => r.digest.as_ref(),
        }
    }

    /// The last path component of the repository (or the layout directory):
    /// the default file name of a pulled artifact.
    pub fn short_name(&self) -> &str {
        let path = match self {
            Reference::Registry(r) => r.repository.as_str(),
            Reference::Layout(r) => r.dir.trim_end_matches('/'),
        };
        path.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("artifact")
    }

    /// Refuse `:latest` and untagged references unless `allow_latest`
    /// (wash's policy). A digest-only reference is exact and always allowed.
    pub fn check_latest_policy(&self, action: &str, allow_latest: bool) -> Result<()> {
        if allow_latest {
            return Ok(());
        }
        match (self.tag(), self.digest()) {
            (None, Some(_)) => Ok(()),
            (Some("latest"), _) => Err(Error::Policy(format!(
                "{action} artifacts with the 'latest' tag is not allowed ({self}); use a version tag, or pass --allow-latest (`allow-latest` in the typed API)"
            ))),
            (None, None) => Err(Error::Policy(format!(
                "{action} artifacts without a tag is not allowed ({self} would mean 'latest'); add a version tag (REF:1.0.0), or pass --allow-latest (`allow-latest` in the typed API)"
            ))),
            _ => Ok(()),
        }
    }
}

/// Whether a registry reference string names its registry host (rather
/// than meaning Docker Hub, or the project's default registry).
pub fn names_registry(input: &str) -> bool {
    let body = input.trim().strip_prefix(OCI_SCHEME).unwrap_or(input.trim());
    body.split_once('/').is_some_and(|(first, _)| is_host_segment(first))
}

/// Whether the first path segment of a reference is a registry host:
/// it has a `.` or a `:`, or is `localhost`.
fn is_host_segment(first: &str) -> bool {
    first.contains('.') || first.contains(':') || first.eq_ignore_ascii_case("localhost")
}

impl RegistryReference {
    fn parse(input: &str) -> Result<Self> {
        let body = input.strip_prefix(OCI_SCHEME).unwrap_or(input);
        if let Some((first, _)) = body.split_once('/')
            && let Some((_, host)) = first.rsplit_once('@')
        {
            // Not echoed: what precedes `@` is likely a password.
            return Err(Error::invalid_reference(
                &format!("…@{host}/…"),
                "user names and passwords do not belong in a reference; give them with -u/-p, \
                 WASH_REG_USER/WASH_REG_PASSWORD or a Docker login",
            ));
        }
        let (name_and_tag, digest) = split_digest(input, body)?;
        let (host, path) = match name_and_tag.split_once('/') {
            Some((first, rest)) if is_host_segment(first) => (first.to_ascii_lowercase(), rest),
            _ => (DOCKER_HUB.to_string(), name_and_tag),
        };
        let (path, tag) = split_tag(input, path)?;
        let host = match host.as_str() {
            "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
            _ => host,
        };
        validate_host(input, &host)?;
        let mut repository = path.to_ascii_lowercase();
        if host == DOCKER_HUB && !repository.contains('/') {
            repository = format!("library/{repository}");
        }
        validate_repository(input, &repository)?;
        Ok(RegistryReference { registry: host, repository, tag, digest })
    }

    /// The host that answers the distribution API for this registry.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB { DOCKER_HUB_API } else { &self.registry }
    }

    /// The host name without port.
    pub fn hostname(&self) -> &str {
        let host = &self.registry;
        if let Some(rest) = host.strip_prefix('[') {
            return rest.split(']').next().unwrap_or(rest);
        }
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    }

    /// Whether this registry is on the loopback interface (plain HTTP by default).
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(self.hostname())
    }

    /// `tag` or `digest`: what to ask the registry's manifest endpoint for.
    pub fn manifest_selector(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }
}

impl LayoutReference {
    fn parse(input: &str, rest: &str) -> Result<Self> {
        let (dir_and_tag, digest) = split_digest(input, rest)?;
        let (dir, tag) = split_tag(input, dir_and_tag)?;
        if dir.is_empty() {
            return Err(Error::invalid_reference(input, "missing directory; use oci-layout://DIR:TAG"));
        }
        Ok(LayoutReference { dir: dir.to_string(), tag, digest })
    }
}

fn split_digest<'a>(input: &str, body: &'a str) -> Result<(&'a str, Option<Digest>)> {
    match body.rsplit_once('@') {
        Some((name, digest)) => {
            let digest = digest.parse::<Digest>().map_err(|e| Error::invalid_reference(input, e.to_string()))?;
            Ok((name, Some(digest)))
        }
        None => Ok((body, None)),
    }
}

/// A tag follows the last `:` after the last `/`.
fn split_tag<'a>(input: &str, path: &'a str) -> Result<(&'a str, Option<String>)> {
    let slash = path.rfind('/').map_or(0, |i| i + 1);
    match path[slash..].rfind(':') {
        Some(i) => {
            let tag = &path[slash + i + 1..];
            validate_tag(input, tag)?;
            Ok((&path[..slash + i], Some(tag.to_string())))
        }
        None => Ok((path, None)),
    }
}

fn validate_tag(input: &str, tag: &str) -> Result<()> {
    let ok = !tag.is_empty()
        && tag.len() <= MAX_TAG_LEN
        && tag.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_reference(
            input,
            format!("invalid tag {tag:?}: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'"),
        ))
    }
}

/// `name[:port]` or `[ipv6][:port]`: a name of dot-separated labels of letters, digits
/// and inner hyphens, or an IPv6 literal in brackets; a port of 1 to 65535. Nothing else.
fn validate_host(input: &str, host: &str) -> Result<()> {
    let (name_ok, port) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((ip, after)) => {
                let port = match after {
                    "" => None,
                    _ => Some(after.strip_prefix(':').unwrap_or("not a port")),
                };
                (ip.parse::<std::net::Ipv6Addr>().is_ok(), port)
            }
            None => return Err(Error::invalid_reference(input, "unterminated IPv6 address")),
        },
        None => {
            let (name, port) = match host.split_once(':') {
                Some((name, port)) => (name, Some(port)),
                None => (host, None),
            };
            let label_ok = |label: &str| {
                !label.is_empty()
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            };
            (name.split('.').all(label_ok), port)
        }
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n > 0)
    });
    if name_ok && port_ok {
        Ok(())
    } else {
        Err(Error::invalid_reference(input, format!("invalid registry host {host:?}")))
    }
}

fn validate_repository(input: &str, repository: &str) -> Result<()> {
    if repository.is_empty() {
        return Err(Error::invalid_reference(input, "missing repository name"));
    }
    if repository.len() > MAX_NAME_LEN {
        return Err(Error::invalid_reference(input, "repository name longer than 255 characters"));
    }
    for component in repository.split('/') {
        if !valid_path_component(component) {
            return Err(Error::invalid_reference(
                input,
                format!(
                    "invalid repository path component {component:?}: use lowercase letters and digits separated by '.', '_', '__' or '-'"
                ),
            ));
        }
    }
    Ok(())
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` from the distribution spec.
fn valid_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &s[start..i];
        let dashes = sep.bytes().all(|c| c == b'-');
        if !(sep == "." || sep == "_" || sep == "__" || dashes) {
            return false;
        }
    }
    true
}

impl fmt::Display for RegistryReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl fmt::Display for LayoutReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{LAYOUT_SCHEME}{}", self.dir)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Registry(r) => r.fmt(f),
            Reference::Layout(r) => r.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `testdata/references.txt`: `input => expected` per line, where expected
    /// is the normalised reference, or `error: <substring of the message>`.
    #[test]
    fn reference_table() {
        let table = include_str!("../testdata/references.txt");
        let mut checked = 0;
        for (n, line) in table.lines().enumerate() {
            let line = line.trim_end();
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (input, expected) = line.split_once(" => ").unwrap_or_else(|| panic!("line {}: missing ' => '", n + 1));
            let got = match Reference::parse(input) {
                Ok(r) => r.to_string(),
                Err(e) => format!("error: {e}"),
            };
            if let Some(fragment) = expected.strip_prefix("error: ") {
                assert!(
                    got.starts_with("error: ") && got.contains(fragment),
                    "line {}: {input}: expected an error containing {fragment:?}, got {got:?}",
                    n + 1
                );
            } else {
                assert_eq!(got, expected, "line {}: {input}", n + 1);
            }
            checked += 1;
        }
        assert!(checked > 20, "only {checked} cases read");
    }

    #[test]
    fn latest_policy() {
        let parse = |s| Reference::parse(s).unwrap();
        assert!(parse("localhost:5000/a:latest").check_latest_policy("pushing", false).is_err());
        assert!(parse("localhost:5000/a").check_latest_policy("pushing", false).is_err());
        assert!(parse("localhost:5000/a:latest").check_latest_policy("pushing", true).is_ok());
        assert!(parse("localhost:5000/a:1.0").check_latest_policy("pushing", false).is_ok());
        let by_digest = "localhost:5000/a@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert!(parse(by_digest).check_latest_policy("pulling", false).is_ok());
        let msg = parse("oci-layout://out:latest").check_latest_policy("pushing", false).unwrap_err().to_string();
        assert!(msg.contains("--allow-latest"), "{msg}");
    }

    #[test]
    fn loopback_and_api_host() {
        let Reference::Registry(r) = Reference::parse("127.0.0.1:5000/x/y:1").unwrap() else { panic!() };
        assert!(r.is_loopback());
        assert_eq!(r.hostname(), "127.0.0.1");
        let Reference::Registry(r) = Reference::parse("alpine:3").unwrap() else { panic!() };
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert!(!r.is_loopback());
    }

    #[test]
    fn credentials_in_a_reference_are_refused_without_being_echoed() {
        let error = Reference::parse("user:s3cr3t@ghcr.io/a/b:1").unwrap_err().to_string();
        assert!(error.contains("do not belong in a reference") && error.contains("ghcr.io"), "{error}");
        assert!(!error.contains("s3cr3t") && !error.contains("user:"), "issue 11: the password was echoed: {error}");
    }

    #[test]
    fn loopback_means_loopback_addresses_only() {
        for host in ["localhost", "LocalHost:5000", "127.0.0.1", "127.9.8.7:80", "::1", "[::1]", "[::1]:5000"] {
            assert!(is_loopback_host(host), "{host}");
        }
        // Issue 11: a name that merely starts with `127.` got Basic credentials in cleartext.
        for host in ["127.attacker.example", "127.attacker.example:5000", "127.0.0.1.nip.io", "10.0.0.1", "[::2]"] {
            assert!(!is_loopback_host(host), "{host}");
        }
        let Reference::Registry(r) = Reference::parse("127.attacker.example/x/y:1").unwrap() else { panic!() };
        assert!(!r.is_loopback());
    }
}
