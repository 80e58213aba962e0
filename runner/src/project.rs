//! What the runner needs from the project's `./wasmcloud.toml` before the packager reads it:
//! the `[registry] url` (the packager talks to it, so its credential helper is asked), and
//! where the `[registry] credentials` file lives, so a file outside the current directory
//! can be granted read-only. Everything else in the file is the packager's business.

use std::path::{Component, Path, PathBuf};

/// The project file, looked for in the current directory only (as the packager does).
pub const FILE_NAME: &str = "wasmcloud.toml";

/// The `[registry]` facts of a project file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Project {
    /// `[registry] url` as `host[:port]`: scheme and path stripped, lowercased.
    pub registry: Option<String>,
    /// `[registry] credentials` as written (relative to the project directory, or absolute).
    pub credentials: Option<PathBuf>,
}

impl Project {
    /// Reads `<cwd>/wasmcloud.toml`; a missing or unparsable file means no project.
    pub fn load(cwd: &Path) -> Self {
        std::fs::read_to_string(cwd.join(FILE_NAME)).map(|text| Self::parse(&text)).unwrap_or_default()
    }

    fn parse(text: &str) -> Self {
        let Ok(table) = text.parse::<toml::Table>() else {
            return Self::default();
        };
        let section = table.get("registry").and_then(toml::Value::as_table);
        let field = |name: &str| section.and_then(|s| s.get(name)).and_then(toml::Value::as_str);
        Self {
            registry: field("url").map(normalize_host).filter(|host| !host.is_empty()),
            credentials: field("credentials").filter(|p| !p.is_empty()).map(PathBuf::from),
        }
    }

    /// The directory holding the credentials file when that file lies outside `cwd` (which
    /// the packager can already read): to be granted read-only under its absolute path.
    /// A relative path leaving the project (`../secrets/creds.json`) gives the directory it
    /// resolves to; the packager reaches it only through that absolute path (`./../…` cannot
    /// leave the `.` preopen).
    pub fn credentials_dir_outside(&self, cwd: &Path) -> Option<PathBuf> {
        let file = lexical_absolute(cwd, self.credentials.as_deref()?);
        if file.starts_with(lexical_absolute(cwd, Path::new(""))) {
            return None;
        }
        file.parent().filter(|dir| dir.is_dir()).map(Path::to_path_buf)
    }
}

/// `https://host:port/path` → `host:port`, lowercased (the packager's reading of `url`).
fn normalize_host(url: &str) -> String {
    let url = url.trim();
    let rest = ["https://", "http://", "oci://"].iter().find_map(|scheme| url.strip_prefix(scheme)).unwrap_or(url);
    rest.split('/').next().unwrap_or(rest).to_ascii_lowercase()
}

/// `path` made absolute against `base`, with `.` and `..` resolved without touching the disk.
fn lexical_absolute(base: &Path, path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in base.join(path).components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_registry_section() {
        let project = Project::parse(
            "name = \"x\"\n[registry]\nurl = \"https://Reg.Example:5001/path\"\ncredentials = \"./c.json\"\n",
        );
        assert_eq!(project.registry.as_deref(), Some("reg.example:5001"));
        assert_eq!(project.credentials.as_deref(), Some(Path::new("./c.json")));
        assert_eq!(
            Project::parse("[registry]\nurl = \"localhost:5000\"\n").registry.as_deref(),
            Some("localhost:5000")
        );
        assert_eq!(Project::parse("name = \"x\"\n"), Project::default());
        assert_eq!(Project::parse("not toml ["), Project::default());
        assert_eq!(Project::parse("[registry]\nurl = 5\n"), Project::default());
    }

    #[test]
    fn credentials_outside_the_project_get_their_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let cwd = tmp.path().join("proj");
        let secrets = tmp.path().join("secrets");
        std::fs::create_dir_all(cwd.join("sub")).unwrap();
        std::fs::create_dir_all(&secrets).unwrap();
        let with = |path: &str| Project { registry: None, credentials: Some(PathBuf::from(path)) };

        assert_eq!(with("creds.json").credentials_dir_outside(&cwd), None);
        assert_eq!(with("./sub/../creds.json").credentials_dir_outside(&cwd), None);
        let inside = cwd.join("sub/creds.json");
        assert_eq!(with(inside.to_str().unwrap()).credentials_dir_outside(&cwd), None);
        assert_eq!(with("../secrets/creds.json").credentials_dir_outside(&cwd), Some(secrets.clone()));
        let outside = secrets.join("creds.json");
        assert_eq!(with(outside.to_str().unwrap()).credentials_dir_outside(&cwd), Some(secrets.clone()));
        assert_eq!(with("../missing/creds.json").credentials_dir_outside(&cwd), None);
        assert_eq!(Project::default().credentials_dir_outside(&cwd), None);
    }
}
