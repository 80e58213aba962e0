//! Docker's `config.json`: `auths` entries (keys normalised: scheme and path
//! stripped, Docker Hub's aliases unified), and the credential-helper results
//! the runner obtained on the host (`credHelpers`/`credsStore` need a
//! process, which a component cannot start).

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use serde::Deserialize;

use crate::auth::{Credential, Secret};

/// Set by the runner: the `auths` of the host's `config.json` for this command's registries.
use crate::host_contract::DOCKER_AUTHS as CONFIG_JSON_VAR;
/// Set by the runner: `{"<registry>": {"Username", "Secret"}}` from
/// `docker-credential-<helper> get` for the registries of this command.
use crate::host_contract::HELPER_CREDENTIALS as HELPER_CREDENTIALS_VAR;
/// The key Docker uses for Docker Hub.
const DOCKER_HUB_KEY: &str = "index.docker.io";

/// The part of Docker's `config.json` wasmship reads: its `auths`.
#[derive(Debug, Default, Deserialize)]
pub struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    registrytoken: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperEntry {
    username: Option<String>,
    secret: Option<String>,
}

/// The Docker credential for `registry`: a helper's answer first, then `auths`.
pub fn credential_for(registry: &str) -> Option<Credential> {
    let key = normalize_key(registry);
    if let Some(helper) = helper_credentials().remove(&key) {
        return Some(helper);
    }
    load_config()?.credential_for(registry)
}

impl ConfigFile {
    /// Parse `config.json` bytes; `None` when they are not a valid Docker config.
    pub fn parse(bytes: &[u8]) -> Option<ConfigFile> {
        serde_json::from_slice(bytes).ok()
    }

    /// The `auths` entry for `registry`, keys compared after [`normalize_key`].
    pub fn credential_for(&self, registry: &str) -> Option<Credential> {
        let key = normalize_key(registry);
        self.auths.iter().find(|(k, _)| normalize_key(k) == key).and_then(|(_, entry)| entry.credential())
    }
}

/// Docker's configuration, read once per process.
fn load_config() -> Option<&'static ConfigFile> {
    static CONFIG: std::sync::OnceLock<Option<ConfigFile>> = std::sync::OnceLock::new();
    CONFIG.get_or_init(read_config).as_ref()
}

fn read_config() -> Option<ConfigFile> {
    let bytes = match std::env::var(CONFIG_JSON_VAR) {
        Ok(json) => json.into_bytes(),
        Err(_) => crate::fsutil::read_project_file(&config_path()?).ok()?.into_bytes(),
    };
    ConfigFile::parse(&bytes)
}

fn config_path() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var("HOME").ok().map(|home| PathBuf::from(home).join(".docker").join("config.json"))
}

fn helper_credentials() -> BTreeMap<String, Credential> {
    let Ok(json) = std::env::var(HELPER_CREDENTIALS_VAR) else {
        return BTreeMap::new();
    };
    parse_helper_credentials(&json)
}

/// The credential helpers' answers the runner hands over (`{"<registry>": {"Username",
/// "Secret"}}`), keyed by [`normalize_key`]; empty when the JSON is not valid.
pub fn parse_helper_credentials(json: &str) -> BTreeMap<String, Credential> {
    serde_json::from_str::<BTreeMap<String, HelperEntry>>(json)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(host, entry)| {
            let secret = entry.secret.filter(|s| !s.is_empty())?;
            let credential = match entry.username.filter(|u| !u.is_empty()) {
                // `<token>` marks an identity token, which needs an OAuth2
                // exchange this client does not do; use it as a bearer token.
                Some(u) if u == "<token>" => Credential::Bearer(Secret::new(secret)),
                Some(username) => Credential::Basic { username, password: Secret::new(secret) },
                None => Credential::Bearer(Secret::new(secret)),
            };
            Some((normalize_key(&host), credential))
        })
        .collect()
}

/// `user:password` from its base64 form (Docker's `auth`, wkg's `oci.auth`).
pub(crate) fn decode_basic(encoded: &str) -> Option<(String, String)> {
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

impl AuthEntry {
    fn credential(&self) -> Option<Credential> {
        if let (Some(username), Some(password)) = (&self.username, &self.password) {
            return Some(Credential::Basic { username: username.clone(), password: Secret::new(password.clone()) });
        }
        if let Some(auth) = self.auth.as_deref().filter(|a| !a.is_empty()) {
            let (username, password) = decode_basic(auth)?;
            return Some(Credential::Basic { username, password: Secret::new(password) });
        }
        self.registrytoken.clone().map(|t| Credential::Bearer(Secret::new(t)))
    }
}

/// Docker's normalisation of `auths` keys: no scheme, no path, lowercase,
/// Docker Hub's names unified to `index.docker.io`.
pub fn normalize_key(key: &str) -> String {
    let host = super::wasmcloud::normalize_host(key);
    match host.as_str() {
        "docker.io" | "registry-1.docker.io" | "index.docker.io" => DOCKER_HUB_KEY.to_string(),
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_keys() {
        assert_eq!(normalize_key("https://index.docker.io/v1/"), "index.docker.io");
        assert_eq!(normalize_key("docker.io"), "index.docker.io");
        assert_eq!(normalize_key("https://GHCR.io"), "ghcr.io");
        assert_eq!(normalize_key("localhost:5000"), "localhost:5000");
    }

    #[test]
    fn decodes_auth_entries() {
        let config = ConfigFile::parse(
            br#"{"auths":{"https://index.docker.io/v1/":{"auth":"YWxpY2U6czNjcmV0"},"r.io":{"username":"u","password":"p"}}}"#,
        )
        .unwrap();
        match config.credential_for("docker.io") {
            Some(Credential::Basic { username, password }) => {
                assert_eq!(username, "alice");
                assert_eq!(password.expose(), "s3cret");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(config.credential_for("R.io"), Some(Credential::Basic { .. })));
        assert!(config.credential_for("ghcr.io").is_none());
        assert!(ConfigFile::parse(b"not json").is_none());
    }

    #[test]
    fn parses_helper_answers() {
        let helpers = parse_helper_credentials(
            r#"{"https://GHCR.io":{"Username":"bob","Secret":"pw"},"r.io":{"Username":"<token>","Secret":"t"},"e.io":{"Secret":""}}"#,
        );
        assert!(matches!(helpers.get("ghcr.io"), Some(Credential::Basic { username, .. }) if username == "bob"));
        assert!(matches!(helpers.get("r.io"), Some(Credential::Bearer(_))));
        assert!(!helpers.contains_key("e.io"));
        assert!(parse_helper_credentials("[").is_empty());
    }
}
