//! containerd's `hosts.toml` (`<dir>/<registry>/hosts.toml`): the hosts that serve one
//! registry, tried in the order the file lists them, then `server`, the upstream. Each host
//! says what it may do (`capabilities`: `pull` content by digest, `resolve` tags), how it is
//! reached (scheme and path of its URL, `override_path`, `skip_verify`, `ca`). Pure: text
//! in, hosts out.

use toml::de::{DeTable, DeValue};

use crate::error::{Error, Result};
use crate::http::Scheme;

/// Where a host's API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostUrl {
    pub scheme: Scheme,
    /// `host[:port]`.
    pub authority: String,
    /// The path that replaces `/v2` in API requests (`/v2` unless the URL had a path).
    pub api_root: String,
}

/// One `[host."…"]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorHost {
    pub url: HostUrl,
    /// May serve content by digest (`pull`).
    pub pull: bool,
    /// May resolve tags to digests (`resolve`): only for mirrors the site trusts.
    pub resolve: bool,
    /// Accept any TLS certificate.
    pub skip_verify: bool,
    /// CA certificate files to trust for it (as written).
    pub ca: Vec<String>,
}

/// A whole `hosts.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostsFile {
    /// `server`: the upstream, when the file names one.
    pub server: Option<HostUrl>,
    /// The `[host]` tables in file order.
    pub hosts: Vec<MirrorHost>,
}

/// Parse the `hosts.toml` at `file` (for messages).
pub fn parse(text: &str, file: &str) -> Result<HostsFile> {
    let table = DeTable::parse(text).map_err(|e| Error::Config {
        file: file.to_string(),
        reason: format!("not a hosts.toml: {}", e.to_string().trim_end()),
    })?;
    let table = table.get_ref();
    let server = match table.get("server").map(|v| v.get_ref()) {
        None => None,
        Some(DeValue::String(s)) => Some(host_url(s, false, file)?),
        Some(_) => return Err(config_error(file, "`server` must be a URL string")),
    };
    let mut hosts = Vec::new();
    if let Some(value) = table.get("host") {
        let Some(entries) = value.get_ref().as_table() else {
            return Err(config_error(file, "`host` must be tables: [host.\"https://mirror\"]"));
        };
        let mut ordered: Vec<_> = entries.iter().collect();
        ordered.sort_by_key(|(key, _)| key.span().start);
        for (key, value) in ordered {
            let name = key.get_ref().as_ref();
            let Some(entry) = value.get_ref().as_table() else {
                return Err(config_error(file, &format!("host {name:?} must be a table")));
            };
            hosts.push(mirror_host(name, entry, file)?);
        }
    }
    Ok(HostsFile { server, hosts })
}

fn mirror_host(name: &str, entry: &DeTable<'_>, file: &str) -> Result<MirrorHost> {
    let flag = |key: &str| -> Result<bool> {
        match entry.get(key).map(|v| v.get_ref()) {
            None => Ok(false),
            Some(DeValue::Boolean(b)) => Ok(*b),
            Some(_) => Err(config_error(file, &format!("host {name:?}: `{key}` must be true or false"))),
        }
    };
    let override_path = flag("override_path")?;
    let skip_verify = flag("skip_verify")?;
    let (mut pull, mut resolve) = (false, false);
    match entry.get("capabilities").map(|v| v.get_ref()) {
        // containerd's default; only `pull` and `resolve` matter to pulls.
        None => (pull, resolve) = (true, false),
        Some(DeValue::Array(list)) => {
            for item in list.iter() {
                match item.get_ref().as_str() {
                    Some("pull") => pull = true,
                    Some("resolve") => resolve = true,
                    Some("push") => {}
                    _ => {
                        return Err(config_error(
                            file,
                            &format!("host {name:?}: capabilities are \"pull\", \"resolve\" and \"push\""),
                        ));
                    }
                }
            }
        }
        Some(_) => return Err(config_error(file, &format!("host {name:?}: `capabilities` must be a list"))),
    }
    let ca = match entry.get("ca").map(|v| v.get_ref()) {
        None => Vec::new(),
        Some(DeValue::String(s)) => vec![s.to_string()],
        Some(DeValue::Array(list)) => list
            .iter()
            .map(|v| v.get_ref().as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| config_error(file, &format!("host {name:?}: `ca` must be a path or a list of paths")))?,
        Some(_) => return Err(config_error(file, &format!("host {name:?}: `ca` must be a path or a list of paths"))),
    };
    Ok(MirrorHost { url: host_url(name, override_path, file)?, pull, resolve, skip_verify, ca })
}

/// `https://host[:port][/path]`, `http://…`, or a bare `host[:port][/path]` (HTTPS).
fn host_url(text: &str, override_path: bool, file: &str) -> Result<HostUrl> {
    let text = text.trim();
    let (scheme, rest) = if let Some(rest) = text.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else if let Some(rest) = text.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else if text.contains("://") {
        return Err(config_error(file, &format!("{text:?}: only http:// and https:// hosts are supported")));
    } else {
        (Scheme::Https, text)
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let valid_authority = !authority.is_empty()
        && authority.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'));
    if !valid_authority || path.contains(['?', '#', ' ']) {
        return Err(config_error(file, &format!("{text:?} is not a host URL (scheme://host[:port][/path])")));
    }
    let path = path.trim_end_matches('/');
    let api_root = if override_path {
        if path.is_empty() {
            return Err(config_error(file, &format!("{text:?}: override_path needs the URL's path")));
        }
        path.to_string()
    } else {
        format!("{path}/v2")
    };
    Ok(HostUrl { scheme, authority: authority.to_ascii_lowercase(), api_root })
}

/// The directory names that may hold a registry's `hosts.toml`, in the order containerd
/// tries them: `host_port_` (for `host:port`), then `host:port`, then `_default`.
pub fn candidate_dirs(registry: &str) -> Vec<String> {
    let mut dirs = Vec::new();
    if let Some((host, port)) = registry.rsplit_once(':')
        && !host.is_empty()
        && !registry.ends_with(']')
    {
        dirs.push(format!("{host}_{port}_"));
    }
    dirs.push(registry.to_string());
    dirs.push("_default".to_string());
    dirs
}

fn config_error(file: &str, reason: &str) -> Error {
    Error::Config { file: file.to_string(), reason: reason.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
server = "https://registry.example:5000"

# the trusted one first in the file, though its key sorts last
[host."https://z-trusted.example"]
  capabilities = ["pull", "resolve"]
  ca = ["/etc/certs/a.pem", "/etc/certs/b.pem"]

[host."http://127.0.0.1:6000"]
  capabilities = ["pull"]
  skip_verify = true

[host."https://cache.example/some/path"]
  override_path = true

[host."plain.example/ns"]
"#;

    #[test]
    fn hosts_come_in_file_order_with_their_capabilities() {
        let file = parse(FILE, "hosts.toml").unwrap();
        assert_eq!(
            file.server,
            Some(HostUrl { scheme: Scheme::Https, authority: "registry.example:5000".into(), api_root: "/v2".into() })
        );
        let names: Vec<_> = file.hosts.iter().map(|h| h.url.authority.as_str()).collect();
        assert_eq!(names, ["z-trusted.example", "127.0.0.1:6000", "cache.example", "plain.example"]);
        let first = &file.hosts[0];
        assert!(first.pull && first.resolve && !first.skip_verify);
        assert_eq!(first.ca, ["/etc/certs/a.pem", "/etc/certs/b.pem"]);
        let second = &file.hosts[1];
        assert!(second.pull && !second.resolve && second.skip_verify);
        assert_eq!(second.url.scheme, Scheme::Http);
        assert_eq!(file.hosts[2].url.api_root, "/some/path", "override_path: the path is the API root");
        assert!(file.hosts[2].pull && !file.hosts[2].resolve, "no capabilities: pull only, never resolve");
        assert_eq!(file.hosts[3].url.api_root, "/ns/v2");
        assert_eq!(file.hosts[3].url.scheme, Scheme::Https);
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let refuse = |text: &str| parse(text, "h.toml").unwrap_err().to_string();
        assert!(refuse("server = 1").contains("URL string"));
        assert!(refuse("[host.\"ftp://x\"]").contains("only http"));
        assert!(refuse("[host.\"https://x\"]\ncapabilities = [\"delete\"]").contains("capabilities"));
        assert!(refuse("[host.\"https://x\"]\noverride_path = true").contains("needs the URL's path"));
        assert!(refuse("[host.\"https://u:p@x\"]").contains("not a host URL"));
        assert!(refuse("host = 3").contains("must be tables"));
        assert!(refuse("[host").starts_with("h.toml: not a hosts.toml"));
    }

    #[test]
    fn candidate_directories_follow_containerd() {
        assert_eq!(candidate_dirs("127.0.0.1:5000"), ["127.0.0.1_5000_", "127.0.0.1:5000", "_default"]);
        assert_eq!(candidate_dirs("docker.io"), ["docker.io", "_default"]);
    }
}
