//! The project's `wasmcloud.toml` (in the current directory): `[registry]
//! url`, `credentials` (a JSON file `{"host:port": {"username", "password",
//! "token"?, "registryType"}}`, relative to the project) and `push_insecure`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::auth::{Credential, Secret};

/// The file name looked for in the current directory.
pub const FILE_NAME: &str = "wasmcloud.toml";

#[derive(Debug, Default, Deserialize)]
struct File {
    #[serde(default)]
    registry: Option<RegistrySection>,
}

#[derive(Debug, Default, Deserialize)]
struct RegistrySection {
    url: Option<String>,
    credentials: Option<PathBuf>,
    #[serde(default)]
    push_insecure: bool,
}

#[derive(Debug, Deserialize)]
struct CredsEntry {
    username: Option<String>,
    password: Option<String>,
    token: Option<String>,
}

/// The `[registry]` settings of a project's `wasmcloud.toml`, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectFile {
    /// Default registry for short references (`host[:port]`, scheme stripped).
    pub registry_url: Option<String>,
    /// Push to the default registry over plain HTTP.
    pub push_insecure: bool,
    /// The credentials file, relative to the project directory unless absolute.
    pub credentials: Option<PathBuf>,
}

impl ProjectFile {
    /// Read `<dir>/wasmcloud.toml` when present, readable and valid.
    pub fn read(dir: &Path) -> Option<ProjectFile> {
        let text = crate::fsutil::read_project_file(&dir.join(FILE_NAME)).ok()?;
        ProjectFile::parse(&text)
    }

    /// Parse `wasmcloud.toml` text; `None` when it is not valid TOML of that shape.
    pub fn parse(text: &str) -> Option<ProjectFile> {
        let file: File = toml::from_str(text).ok()?;
        let section = file.registry.unwrap_or_default();
        Some(ProjectFile {
            registry_url: section.url.map(|u| normalize_host(&u)),
            push_insecure: section.push_insecure,
            credentials: section.credentials.filter(|p| !p.as_os_str().is_empty()),
        })
    }
}

/// What wasmship uses from `wasmcloud.toml`.
#[derive(Debug, Default)]
pub struct ProjectConfig {
    /// Default registry for short references (`host[:port]`, scheme stripped).
    pub registry_url: Option<String>,
    /// Push to the default registry over plain HTTP.
    pub push_insecure: bool,
    credentials: BTreeMap<String, Credential>,
}

impl ProjectConfig {
    /// `./wasmcloud.toml` when present and readable, read once per process (a command
    /// consults it for short references, plain HTTP and credentials).
    pub fn load() -> Option<&'static ProjectConfig> {
        static PROJECT: std::sync::OnceLock<Option<ProjectConfig>> = std::sync::OnceLock::new();
        PROJECT.get_or_init(|| Self::load_from(Path::new("."))).as_ref()
    }

    /// Read `<dir>/wasmcloud.toml` and its credentials: the content the runner handed
    /// over (`host_contract::PROJECT_CREDENTIALS`), else the file itself.
    pub fn load_from(dir: &Path) -> Option<ProjectConfig> {
        let file = ProjectFile::read(dir)?;
        let handed_over = crate::config::env::var(crate::host_contract::PROJECT_CREDENTIALS).map(String::into_bytes);
        let credentials = handed_over
            .or_else(|| {
                let path = resolve_path(dir, file.credentials.as_ref()?);
                crate::fsutil::read_project_file(&path).ok().map(String::into_bytes)
            })
            .map(|bytes| parse_credentials(&bytes))
            .unwrap_or_default();
        Some(ProjectConfig { registry_url: file.registry_url, push_insecure: file.push_insecure, credentials })
    }

    /// The credentials file's entry for `registry`.
    pub fn credential_for(&self, registry: &str) -> Option<Credential> {
        self.credentials.get(&normalize_host(registry)).cloned()
    }
}

impl CredsEntry {
    fn into_credential(self) -> Option<Credential> {
        match (self.username, self.password, self.token) {
            (Some(username), Some(password), _) => {
                Some(Credential::Basic { username, password: Secret::new(password) })
            }
            (_, _, Some(token)) => Some(Credential::Bearer(Secret::new(token))),
            _ => None,
        }
    }
}

/// A project credentials file (`{"host:port": {"username", "password", "token"?}}`),
/// keyed by [`normalize_host`]; empty when the JSON is not valid.
pub fn parse_credentials(bytes: &[u8]) -> BTreeMap<String, Credential> {
    serde_json::from_slice::<BTreeMap<String, CredsEntry>>(bytes)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(host, entry)| Some((normalize_host(&host), entry.into_credential()?)))
        .collect()
}

/// `path` relative to the project directory `dir`, made absolute against
/// the working directory with `.` and `..` collapsed, so a credentials file
/// outside the project (`../secrets/creds.json`) is found under the
/// directory the host granted for it.
fn resolve_path(dir: &Path, path: &Path) -> PathBuf {
    let joined = if path.is_absolute() { path.to_path_buf() } else { dir.join(path) };
    let absolute = match std::env::current_dir() {
        Ok(cwd) if !joined.is_absolute() => cwd.join(joined),
        _ => joined,
    };
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `https://host:port/path` → `host:port`, lowercased.
pub fn normalize_host(value: &str) -> String {
    let value = value.trim();
    let value = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .or_else(|| value.strip_prefix("oci://"))
        .unwrap_or(value);
    value.split('/').next().unwrap_or(value).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_registry_section_and_credentials_file() {
        let dir = std::env::temp_dir().join(format!("wasmship-wasmcloud-{:x}", crate::fsutil::random_u64()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(FILE_NAME),
            "name = \"hello\"\n[registry]\nurl = \"localhost:5001\"\ncredentials = \"./creds.json\"\npush_insecure = true\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("creds.json"),
            r#"{"localhost:5001": {"username": "alice", "password": "pw", "registryType": "oci"}}"#,
        )
        .unwrap();
        let config = ProjectConfig::load_from(&dir).unwrap();
        assert_eq!(config.registry_url.as_deref(), Some("localhost:5001"));
        assert!(config.push_insecure);
        match config.credential_for("localhost:5001") {
            Some(Credential::Basic { username, password }) => {
                assert_eq!(username, "alice");
                assert_eq!(password.expose(), "pw");
            }
            other => panic!("{other:?}"),
        }
        assert!(config.credential_for("ghcr.io").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn parses_project_text_and_credentials_bytes() {
        let file = ProjectFile::parse("[registry]\nurl = \"https://GHCR.io/org\"\ncredentials = \"\"\n").unwrap();
        assert_eq!(file.registry_url.as_deref(), Some("ghcr.io"));
        assert_eq!(file.credentials, None);
        assert!(ProjectFile::parse("[registry\n").is_none());
        let credentials = parse_credentials(br#"{"http://R.io:5000/x": {"token": "t"}, "u.io": {"username": "u"}}"#);
        assert!(matches!(credentials.get("r.io:5000"), Some(Credential::Bearer(_))));
        assert!(!credentials.contains_key("u.io"));
        assert!(parse_credentials(b"{").is_empty());
    }
}
