//! A registry's `/.well-known/wasm-pkg/registry.json`: where its packages
//! live in OCI. Both forms are read — the current
//! `{"preferredProtocol":"oci","oci":{"registry","namespacePrefix"}}` and the
//! older flat `{"ociRegistry","ociNamespacePrefix"}`. A registry without the
//! file (404) is its own OCI registry with no prefix. Answers are cached next
//! to the packages (`<cache>/wasm-pkg/<registry>.json`) so that offline runs
//! can still map packages to references.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::http::{Method, Request, Scheme, Transport, Url};

/// Where registries publish their metadata.
pub const PATH: &str = "/.well-known/wasm-pkg/registry.json";
/// Largest metadata document accepted.
const MAX_BYTES: u64 = 64 * 1024;
/// A cached answer younger than this is used without asking again.
const FRESH_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// A registry's metadata (either form).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci: Option<OciMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci_registry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci_namespace_prefix: Option<String>,
}

/// The `oci` block of the current form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OciMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_prefix: Option<String>,
}

impl RegistryMetadata {
    /// The OCI registry and namespace prefix for packages of registry `name`.
    pub fn oci_location(&self, name: &str) -> Result<(String, String)> {
        if let Some(protocol) = self.preferred_protocol.as_deref()
            && protocol != "oci"
        {
            return Err(Error::InvalidInput(format!(
                "registry {name} prefers the {:?} protocol; wasmship speaks only \"oci\"",
                crate::error::excerpt(protocol, crate::error::MAX_ECHO)
            )));
        }
        let oci = self.oci.clone().unwrap_or_default();
        let registry = oci.registry.or_else(|| self.oci_registry.clone()).unwrap_or_else(|| name.to_string());
        let prefix = oci.namespace_prefix.or_else(|| self.oci_namespace_prefix.clone()).unwrap_or_default();
        Ok((registry, prefix))
    }
}

/// The metadata URL of registry `name`: plain HTTP for loopback hosts.
pub fn url(name: &str) -> Url {
    let loopback = crate::reference::is_loopback_host(name);
    Url::new(if loopback { Scheme::Http } else { Scheme::Https }, name, PATH)
}

/// How metadata may be obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Use a fresh cached copy, else ask the registry.
    Normal,
    /// Use only the cache.
    Offline,
}

/// The metadata of registry `name`, from the cache under `cache_dir` or over
/// `transport`.
pub fn metadata(
    name: &str,
    transport: &dyn Transport,
    cache_dir: Option<&Path>,
    lookup: Lookup,
) -> Result<RegistryMetadata> {
    if name.is_empty() || name.contains(['/', '?', '#', '@']) || name.contains("://") {
        return Err(Error::InvalidInput(format!(
            "{name:?} is not a registry name (a host such as wasi.dev or 127.0.0.1:5000); \
             for an OCI registry with a path prefix use oci://host/prefix"
        )));
    }
    let cached = cache_dir.map(|dir| cache_file(dir, name));
    if let Some(path) = &cached
        && let Ok(bytes) = std::fs::read(path)
        && let Ok(meta) = serde_json::from_slice::<RegistryMetadata>(&bytes)
        && (lookup == Lookup::Offline || is_fresh(path))
    {
        return Ok(meta);
    }
    if lookup == Lookup::Offline {
        return Err(Error::NotFound {
            what: format!("registry metadata of {name} (offline; run once online to cache it)"),
            location: cached.map_or_else(|| "the cache (none available)".into(), |p| p.display().to_string()),
        });
    }
    let meta = fetch(name, transport)?;
    if let (Some(path), Some(dir)) = (&cached, cache_dir)
        && crate::cache::claim(dir).is_ok()
    {
        let _ = std::fs::create_dir_all(crate::fsutil::parent_dir(path));
        let _ = crate::fsutil::write_atomic(path, &serde_json::to_vec(&meta).expect("metadata serialises"));
    }
    Ok(meta)
}

/// Ask the registry. A 404 means "no metadata" (the defaults); an unreachable
/// host is reported.
pub fn fetch(name: &str, transport: &dyn Transport) -> Result<RegistryMetadata> {
    let url = url(name);
    let mut response = transport
        .send(Request::new(Method::Get, url.clone()).header("Accept", "application/json"))
        .map_err(|e| Error::Transport { target: url.to_string(), detail: e.to_string() })?;
    match response.status {
        200 => {
            let bytes = response.read_body(MAX_BYTES).map_err(|e| Error::Transport {
                target: url.to_string(),
                detail: format!("reading the response: {e}"),
            })?;
            parse(&bytes).map_err(|e| Error::InvalidInput(format!("{url}: {e}")))
        }
        404 => Ok(RegistryMetadata::default()),
        status => Err(Error::Registry {
            registry: name.to_string(),
            action: "GET".into(),
            subject: PATH.into(),
            status,
            code: None,
            message: None,
        }),
    }
}

/// Parse a `registry.json` document.
pub fn parse(bytes: &[u8]) -> std::result::Result<RegistryMetadata, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("not a wasm-pkg registry.json: {e}"))
}

/// Where the answer for registry `name` is cached.
pub fn cache_file(cache_dir: &Path, name: &str) -> PathBuf {
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
    cache_dir.join("wasm-pkg").join(format!("{safe}.json"))
}

fn is_fresh(path: &Path) -> bool {
    let modified = std::fs::metadata(path).and_then(|m| m.modified());
    matches!(modified.map(|m| SystemTime::now().duration_since(m)), Ok(Ok(age)) if age < FRESH_FOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_current_form() {
        let meta =
            parse(br#"{"preferredProtocol":"oci","oci":{"registry":"ghcr.io","namespacePrefix":"webassembly/"}}"#)
                .unwrap();
        assert_eq!(meta.oci_location("wasi.dev").unwrap(), ("ghcr.io".into(), "webassembly/".into()));
    }

    #[test]
    fn reads_the_flat_form() {
        let meta = parse(br#"{"ociRegistry":"ghcr.io","ociNamespacePrefix":"wasmcloud/interfaces/"}"#).unwrap();
        assert_eq!(meta.oci_location("wasmcloud.com").unwrap(), ("ghcr.io".into(), "wasmcloud/interfaces/".into()));
    }

    #[test]
    fn no_metadata_means_the_registry_itself() {
        let meta = RegistryMetadata::default();
        assert_eq!(meta.oci_location("localhost:5000").unwrap(), ("localhost:5000".into(), String::new()));
        let err = parse(br#"{"preferredProtocol":"warg"}"#).unwrap().oci_location("x.dev").unwrap_err();
        assert!(err.to_string().contains("warg"), "{err}");
    }

    #[test]
    fn loopback_is_plain_http() {
        assert_eq!(url("127.0.0.1:8080").to_string(), "http://127.0.0.1:8080/.well-known/wasm-pkg/registry.json");
        assert_eq!(url("localhost").to_string(), "http://localhost/.well-known/wasm-pkg/registry.json");
        assert_eq!(url("wasi.dev").to_string(), "https://wasi.dev/.well-known/wasm-pkg/registry.json");
        assert_eq!(url("127.evil.example").to_string(), "https://127.evil.example/.well-known/wasm-pkg/registry.json");
    }
}
