//! The `--allow-host` list: which endpoints the packager may send requests to when the user
//! restricts it. A named host (`host`) admits every port, `host:port` that port only;
//! `docker.io` also names `registry-1.docker.io`, which serves Docker Hub's API.
//!
//! Registries send clients elsewhere as part of the protocol, so responses of named hosts
//! teach the list two more kinds of endpoint, each exactly (host and port):
//! - token realms: a `401` with `WWW-Authenticate: Bearer realm="https://auth.example/token"`
//!   admits the realm's endpoint, where the token flow continues;
//! - redirect targets: a `3xx` with an absolute `Location` admits its endpoint. GHCR, Docker
//!   Hub and others redirect blob downloads to object storage or a CDN
//!   (`pkg-containers.githubusercontent.com`, `production.cloudflare.docker.com`, S3).
//!
//! Only hosts the user named teach; what was learned does not teach further.

use anyhow::{Result, bail};
use http::header::{LOCATION, WWW_AUTHENTICATE};
use http::{HeaderMap, StatusCode, Uri};

use super::endpoint::{Endpoint, parse_host_port};

/// Docker Hub's names, and the host that serves its registry API.
const DOCKER_HUB_ALIASES: &[&str] = &["docker.io", "index.docker.io"];
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A host the user allowed: every port, or one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Named {
    host: String,
    port: Option<u16>,
}

/// The allowed endpoints: named by the user, or learned from their responses.
#[derive(Debug, Default)]
pub struct AllowList {
    named: Vec<Named>,
    learned: Vec<Endpoint>,
}

impl AllowList {
    /// The list of `--allow-host` values (`host` or `host:port`).
    pub fn new(hosts: &[String]) -> Result<Self> {
        let mut named = Vec::new();
        for value in hosts {
            let Some((host, port)) = parse_host_port(value) else {
                bail!("--allow-host {value:?}: expected HOST or HOST:PORT");
            };
            if DOCKER_HUB_ALIASES.contains(&host.as_str()) {
                named.push(Named { host: DOCKER_HUB_API.to_owned(), port });
            }
            named.push(Named { host, port });
        }
        Ok(Self { named, learned: Vec::new() })
    }

    /// Whether a request to `endpoint` may go out.
    pub fn permits(&self, endpoint: &Endpoint) -> bool {
        self.is_named(endpoint) || self.learned.contains(endpoint)
    }

    fn is_named(&self, endpoint: &Endpoint) -> bool {
        self.named.iter().any(|n| n.host == endpoint.host && n.port.is_none_or(|port| port == endpoint.port))
    }

    /// Learns the token realm or redirect target a response from `from` points to, if `from`
    /// is a named host. Returns the endpoint if it is new.
    pub fn learn(&mut self, from: &Endpoint, status: StatusCode, headers: &HeaderMap) -> Option<Endpoint> {
        if !self.is_named(from) {
            return None;
        }
        let target = if status == StatusCode::UNAUTHORIZED {
            headers.get_all(WWW_AUTHENTICATE).iter().filter_map(|v| bearer_realm(v.to_str().ok()?)).next()
        } else if status.is_redirection() {
            headers.get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned)
        } else {
            None
        };
        let endpoint = Endpoint::of(&target?.parse::<Uri>().ok()?)?;
        if self.permits(&endpoint) {
            return None;
        }
        self.learned.push(endpoint.clone());
        Some(endpoint)
    }
}

/// The `realm` parameter of a `Bearer` challenge (`Bearer realm="…",service="…"`).
fn bearer_realm(challenge: &str) -> Option<String> {
    let (scheme, params) = challenge.trim().split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut rest = params.trim_start();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=')?;
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => after.split_once(',').map_or((after, ""), |(v, a)| (v, a)),
        };
        if name.trim().eq_ignore_ascii_case("realm") {
            return Some(value.trim().to_owned());
        }
        rest = after.trim_start().trim_start_matches(',').trim_start();
    }
    None
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn list(hosts: &[&str]) -> AllowList {
        AllowList::new(&hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn at(host: &str, port: u16) -> Endpoint {
        Endpoint { host: host.into(), port }
    }

    fn headers(name: http::HeaderName, value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn named_hosts_with_and_without_ports() {
        let allow = list(&["GHCR.io", "127.0.0.1:5000", "[::1]:5001"]);
        assert!(allow.permits(&at("ghcr.io", 443)));
        assert!(allow.permits(&at("ghcr.io", 8443)));
        assert!(allow.permits(&at("127.0.0.1", 5000)));
        assert!(!allow.permits(&at("127.0.0.1", 5001)));
        assert!(allow.permits(&at("[::1]", 5001)));
        assert!(!allow.permits(&at("example.com", 443)));
        assert!(!allow.permits(&at("ghcr.io.evil.example", 443)));
        assert!(!list(&[]).permits(&at("ghcr.io", 443)));
    }

    #[test]
    fn docker_hub_names_its_api_host() {
        let allow = list(&["docker.io"]);
        assert!(allow.permits(&at("registry-1.docker.io", 443)));
        assert!(!allow.permits(&at("auth.docker.io", 443)));
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in ["", "user@host", "host:port", "host:70000"] {
            assert!(AllowList::new(&[bad.to_owned()]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn learns_token_realms_of_named_hosts() {
        let mut allow = list(&["registry-1.docker.io"]);
        let hub = at("registry-1.docker.io", 443);
        let challenge = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#;
        let learned = allow.learn(&hub, StatusCode::UNAUTHORIZED, &headers(WWW_AUTHENTICATE, challenge));
        assert_eq!(learned, Some(at("auth.docker.io", 443)));
        assert!(allow.permits(&at("auth.docker.io", 443)));
        assert!(!allow.permits(&at("auth.docker.io", 80)), "learned endpoints are exact");
        // Learning twice adds nothing.
        assert_eq!(allow.learn(&hub, StatusCode::UNAUTHORIZED, &headers(WWW_AUTHENTICATE, challenge)), None);
    }

    #[test]
    fn learns_redirect_targets_of_named_hosts() {
        let mut allow = list(&["ghcr.io"]);
        let location = "https://pkg-containers.githubusercontent.com/ghcr1/blobs/sha256:ab?sig=x";
        let learned = allow.learn(&at("ghcr.io", 443), StatusCode::TEMPORARY_REDIRECT, &headers(LOCATION, location));
        assert_eq!(learned, Some(at("pkg-containers.githubusercontent.com", 443)));
        // A relative redirect stays on the same host: nothing to learn.
        assert_eq!(allow.learn(&at("ghcr.io", 443), StatusCode::FOUND, &headers(LOCATION, "/v2/x")), None);
    }

    #[test]
    fn only_named_hosts_teach_and_only_in_the_right_responses() {
        let mut allow = list(&["ghcr.io"]);
        let storage = at("storage.example", 443);
        allow.learned.push(storage.clone());
        let location = headers(LOCATION, "https://elsewhere.example/x");
        assert_eq!(allow.learn(&storage, StatusCode::TEMPORARY_REDIRECT, &location), None);
        assert_eq!(allow.learn(&at("other.example", 443), StatusCode::FOUND, &location), None);
        assert_eq!(allow.learn(&at("ghcr.io", 443), StatusCode::OK, &location), None);
        let challenge = headers(WWW_AUTHENTICATE, r#"Bearer realm="https://auth.example/token""#);
        assert_eq!(allow.learn(&at("ghcr.io", 443), StatusCode::FORBIDDEN, &challenge), None);
        let basic = headers(WWW_AUTHENTICATE, r#"Basic realm="https://auth.example/token""#);
        assert_eq!(allow.learn(&at("ghcr.io", 443), StatusCode::UNAUTHORIZED, &basic), None);
        assert!(!allow.permits(&at("elsewhere.example", 443)));
        assert!(!allow.permits(&at("auth.example", 443)));
    }

    #[test]
    fn realm_parameter_parsing() {
        assert_eq!(bearer_realm(r#"Bearer realm="https://a/token",service="s""#).as_deref(), Some("https://a/token"));
        assert_eq!(bearer_realm(r#"bearer service="s", realm="http://a:81/t""#).as_deref(), Some("http://a:81/t"));
        assert_eq!(bearer_realm("Bearer realm=https://a/t,scope=x").as_deref(), Some("https://a/t"));
        assert_eq!(
            bearer_realm(r#"Bearer scope="repository:x:pull,push",realm="https://a/t""#).as_deref(),
            Some("https://a/t")
        );
        assert_eq!(bearer_realm(r#"Basic realm="x""#), None);
        assert_eq!(bearer_realm("Bearer"), None);
        assert_eq!(bearer_realm(r#"Bearer service="s""#), None);
    }
}
