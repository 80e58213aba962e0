//! Where a request goes, as the outbound policy compares it: a lowercased host (IPv6 in
//! brackets) and a port, the scheme's default when the URI has none.

use std::fmt;

use http::Uri;
use http::uri::{Authority, Scheme};

/// A host and port that requests are sent to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// The endpoint of an absolute `http`/`https` URI.
    pub fn of(uri: &Uri) -> Option<Self> {
        let default_port = default_port(uri.scheme()?)?;
        let authority = uri.authority()?;
        Some(Self { host: authority.host().to_ascii_lowercase(), port: authority.port_u16().unwrap_or(default_port) })
    }

    /// The host without IPv6 brackets, as resolvers and TLS server names want it.
    pub fn bare_host(&self) -> &str {
        self.host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(&self.host)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// `host` or `host:port` (an optional `scheme://` and `/path` are ignored): the host,
/// lowercased, and the port if one is given. `None` if it is not an authority.
pub fn parse_host_port(value: &str) -> Option<(String, Option<u16>)> {
    let value = value.trim();
    let value = value.split_once("://").map_or(value, |(_, rest)| rest);
    let value = value.split('/').next().unwrap_or(value);
    if value.is_empty() || value.contains('@') {
        return None;
    }
    let authority: Authority = value.parse().ok()?;
    let host = authority.host();
    let port = match value.get(host.len()..)? {
        "" => None,
        after => Some(after.strip_prefix(':')?.parse::<u16>().ok()?),
    };
    (!host.is_empty()).then(|| (host.to_ascii_lowercase(), port))
}

fn default_port(scheme: &Scheme) -> Option<u16> {
    if *scheme == Scheme::HTTPS {
        Some(443)
    } else if *scheme == Scheme::HTTP {
        Some(80)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(uri: &str) -> Option<Endpoint> {
        Endpoint::of(&uri.parse().unwrap())
    }

    #[test]
    fn endpoints_of_uris() {
        let e = |host: &str, port| Some(Endpoint { host: host.into(), port });
        assert_eq!(endpoint("https://GHCR.io/v2/"), e("ghcr.io", 443));
        assert_eq!(endpoint("http://127.0.0.1:5000/v2/"), e("127.0.0.1", 5000));
        assert_eq!(endpoint("http://localhost/"), e("localhost", 80));
        assert_eq!(endpoint("https://[::1]:8443/x"), e("[::1]", 8443));
        assert_eq!(endpoint("/v2/relative"), None);
        assert_eq!(endpoint("ftp://x.io/"), None);
        assert_eq!(endpoint("https://[::1]:8443/").unwrap().bare_host(), "::1");
        assert_eq!(endpoint("https://[::1]:8443/").unwrap().to_string(), "[::1]:8443");
    }

    #[test]
    fn host_and_port_arguments() {
        assert_eq!(parse_host_port("GHCR.io"), Some(("ghcr.io".into(), None)));
        assert_eq!(parse_host_port("127.0.0.1:5000"), Some(("127.0.0.1".into(), Some(5000))));
        assert_eq!(parse_host_port("[::1]:5000"), Some(("[::1]".into(), Some(5000))));
        assert_eq!(parse_host_port("https://ghcr.io/v2/"), Some(("ghcr.io".into(), None)));
        assert_eq!(parse_host_port(""), None);
        assert_eq!(parse_host_port("user@host"), None);
        assert_eq!(parse_host_port("host:port"), None);
        assert_eq!(parse_host_port("host:99999"), None);
    }
}
