//! The host's Docker client configuration (`config.json`): where it is, and which credential
//! helper serves a registry — `credHelpers[<registry>]`, else `credsStore`. Keys are compared
//! the way Docker compares them: scheme and path stripped, lowercased, Docker Hub's names
//! (`docker.io`, `registry-1.docker.io`, `index.docker.io`) unified to `index.docker.io`.

use std::ffi::OsString;
use std::path::PathBuf;

use serde_json::Value;

/// Docker's key for Docker Hub.
pub const DOCKER_HUB_KEY: &str = "index.docker.io";

/// The server URL Docker itself gives helpers for Docker Hub (`docker login` stores Hub
/// credentials under it).
const DOCKER_HUB_SERVER_URL: &str = "https://index.docker.io/v1/";

/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`, from a variable lookup.
pub fn path(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let non_empty = |name: &str| var(name).filter(|value| !value.is_empty()).map(PathBuf::from);
    match non_empty("DOCKER_CONFIG") {
        Some(dir) => Some(dir.join("config.json")),
        None => non_empty("HOME").map(|home| home.join(".docker").join("config.json")),
    }
}

/// The credential helpers a configuration names.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Helpers {
    /// `credHelpers`: (normalised registry key, helper name).
    per_registry: Vec<(String, String)>,
    /// `credsStore`: the helper for every other registry.
    store: Option<String>,
}

impl Helpers {
    /// The helpers named in a `config.json` text; none if it is not a JSON object.
    pub fn parse(text: &str) -> Self {
        let Ok(Value::Object(config)) = serde_json::from_str::<Value>(text) else {
            return Self::default();
        };
        let per_registry = config
            .get("credHelpers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(key, helper)| Some((normalize_key(key), valid_helper(helper.as_str()?)?.to_owned())))
            .collect();
        let store = config.get("credsStore").and_then(Value::as_str).and_then(valid_helper).map(str::to_owned);
        Self { per_registry, store }
    }

    /// The helper name (`desktop` for `docker-credential-desktop`) serving `registry`.
    pub fn helper_for(&self, registry: &str) -> Option<&str> {
        let key = normalize_key(registry);
        let specific = self.per_registry.iter().find(|(k, _)| *k == key).map(|(_, helper)| helper.as_str());
        specific.or(self.store.as_deref())
    }
}

/// A helper name becomes part of a program name: it must not be empty or hold a path.
fn valid_helper(name: &str) -> Option<&str> {
    let name = name.trim();
    (!name.is_empty() && !name.contains(['/', '\\'])).then_some(name)
}

/// The `auths` entries of a `config.json` text for `registries` (compared as Docker
/// compares keys), as `{"auths": {...}}` with the keys as written; `None` when there are
/// none (or the text is not a JSON object).
pub fn auths_for(text: &str, registries: &[String]) -> Option<String> {
    let Ok(Value::Object(config)) = serde_json::from_str::<Value>(text) else {
        return None;
    };
    let wanted: Vec<String> = registries.iter().map(|r| normalize_key(r)).collect();
    let auths: serde_json::Map<String, Value> = config
        .get("auths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(key, _)| wanted.contains(&normalize_key(key)))
        .map(|(key, entry)| (key.clone(), entry.clone()))
        .collect();
    (!auths.is_empty()).then(|| serde_json::json!({ "auths": auths }).to_string())
}

/// The keys of an [`auths_for`] answer (registry names, never their entries).
pub fn auth_keys(json: &str) -> Vec<String> {
    let value: Value = serde_json::from_str(json).unwrap_or_default();
    value.get("auths").and_then(Value::as_object).map(|a| a.keys().cloned().collect()).unwrap_or_default()
}

/// Docker's normalisation of registry keys: `https://GHCR.io/v2/` → `ghcr.io`.
pub fn normalize_key(key: &str) -> String {
    let key = key.trim();
    let rest = key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")).unwrap_or(key);
    let host = rest.split('/').next().unwrap_or(rest).to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "registry-1.docker.io" | "index.docker.io" => DOCKER_HUB_KEY.to_owned(),
        _ => host,
    }
}

/// What a helper is given on stdin for `registry`: Docker Hub's historical URL, else the
/// registry key itself (`host[:port]`), as `docker login` stores them.
pub fn server_url(registry: &str) -> String {
    match normalize_key(registry) {
        key if key == DOCKER_HUB_KEY => DOCKER_HUB_SERVER_URL.to_owned(),
        key => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_path_prefers_docker_config() {
        let var = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| OsString::from(v))
        };
        assert_eq!(path(var(&[("DOCKER_CONFIG", "/d"), ("HOME", "/h")])), Some(PathBuf::from("/d/config.json")));
        assert_eq!(path(var(&[("DOCKER_CONFIG", ""), ("HOME", "/h")])), Some(PathBuf::from("/h/.docker/config.json")));
        assert_eq!(path(var(&[])), None);
    }

    #[test]
    fn keys_are_normalised() {
        assert_eq!(normalize_key("https://index.docker.io/v1/"), "index.docker.io");
        assert_eq!(normalize_key("docker.io"), "index.docker.io");
        assert_eq!(normalize_key("registry-1.docker.io"), "index.docker.io");
        assert_eq!(normalize_key("https://GHCR.io"), "ghcr.io");
        assert_eq!(normalize_key("localhost:5000"), "localhost:5000");
    }

    #[test]
    fn helper_choice() {
        let helpers = Helpers::parse(
            r#"{"auths": {}, "credsStore": "desktop",
                "credHelpers": {"https://GHCR.io/": "ghcr", "docker.io": "hub", "bad.io": "../x", "e.io": ""}}"#,
        );
        assert_eq!(helpers.helper_for("ghcr.io"), Some("ghcr"));
        assert_eq!(helpers.helper_for("docker.io"), Some("hub"));
        assert_eq!(helpers.helper_for("index.docker.io"), Some("hub"));
        assert_eq!(helpers.helper_for("localhost:5000"), Some("desktop"));
        assert_eq!(helpers.helper_for("bad.io"), Some("desktop"));
        assert_eq!(helpers.helper_for("e.io"), Some("desktop"));

        let only_specific = Helpers::parse(r#"{"credHelpers": {"ghcr.io": "ghcr"}}"#);
        assert_eq!(only_specific.helper_for("ghcr.io"), Some("ghcr"));
        assert_eq!(only_specific.helper_for("quay.io"), None);
        assert_eq!(Helpers::parse("[]"), Helpers::default());
        assert_eq!(Helpers::parse("{not json"), Helpers::default());
    }

    #[test]
    fn server_urls() {
        assert_eq!(server_url("docker.io"), "https://index.docker.io/v1/");
        assert_eq!(server_url("ghcr.io"), "ghcr.io");
        assert_eq!(server_url("127.0.0.1:5000"), "127.0.0.1:5000");
    }
}
