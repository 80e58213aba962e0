//! The signature policy: which artifacts must be signed, and by which keys, so that
//! `pull`, `inspect`, `copy` and the `wit` commands verify without `--verify-key` on every
//! command line. Read
//! from `wasmship-policy.toml` in the working directory, else
//! `$XDG_CONFIG_HOME/wasmship/policy.toml` (`~/.config/wasmship/policy.toml`):
//!
//! ```toml
//! [[rule]]
//! prefix = "ghcr.io/acme/"          # registry/repository prefix; "" matches everything
//! require = "signed"                # or "none"
//! keys = ["acme.pub"]               # files beside the policy file, or inline PEM
//! annotations = { env = "prod" }    # optional: each signature must carry these
//! ```
//!
//! The rule with the longest matching prefix decides; no matching rule means no
//! requirement. `--verify-key` on the command line replaces the policy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::PublicKey;
use crate::error::{Error, Result};

/// The project's policy file.
pub const PROJECT_FILE: &str = "wasmship-policy.toml";
/// The user's policy file, under the configuration directory.
const USER_FILE: &str = "wasmship/policy.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    rule: Vec<RuleText>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleText {
    prefix: String,
    require: String,
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// One rule, its keys read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub prefix: String,
    /// `None` for `require = "none"`.
    pub requirement: Option<crate::ops::verify::Requirement>,
}

/// A policy: its file and rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub file: PathBuf,
    pub rules: Vec<Rule>,
}

/// Where the policy is looked for: the project's file in `cwd`, then the user's.
pub fn candidates(cwd: &Path, var: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let mut found = vec![cwd.join(PROJECT_FILE)];
    let base = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|home| Path::new(&home).join(".config")));
    found.extend(base.map(|b| b.join(USER_FILE)));
    found
}

impl Policy {
    /// The first policy file among `candidates` that exists, read and checked.
    pub fn load(candidates: &[PathBuf]) -> Result<Option<Policy>> {
        for file in candidates {
            match crate::fsutil::read_project_file(file) {
                Ok(text) => return Policy::parse(&text, file).map(Some),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied) => {}
                Err(e) => return Err(Error::io(file.display(), "read policy file", e)),
            }
        }
        Ok(None)
    }

    /// Parse the policy `text` of `file`; key paths are taken from the file's directory.
    pub fn parse(text: &str, file: &Path) -> Result<Policy> {
        let parsed: PolicyFile = toml::from_str(text).map_err(|e| Error::config(file.display(), e.message()))?;
        let dir = crate::fsutil::parent_dir(file);
        let mut rules = Vec::new();
        for rule in parsed.rule {
            let requirement = match rule.require.as_str() {
                "none" => None,
                "signed" if rule.keys.is_empty() => {
                    return Err(Error::config(
                        file.display(),
                        format!("rule {:?}: require = \"signed\" needs keys = [...]", rule.prefix),
                    ));
                }
                "signed" => Some(crate::ops::verify::Requirement {
                    keys: rule.keys.iter().map(|key| read_key(key, dir, file)).collect::<Result<_>>()?,
                    annotations: rule.annotations,
                }),
                other => {
                    return Err(Error::config(
                        file.display(),
                        format!("rule {:?}: require = {other:?}; use \"signed\" or \"none\"", rule.prefix),
                    ));
                }
            };
            rules.push(Rule { prefix: rule.prefix, requirement });
        }
        Ok(Policy { file: file.to_path_buf(), rules })
    }

    /// What the policy requires of `name` (`registry/repository`): the rule with the
    /// longest matching prefix.
    pub fn requirement_for(&self, name: &str) -> Option<&crate::ops::verify::Requirement> {
        self.rules
            .iter()
            .filter(|rule| name.starts_with(rule.prefix.as_str()))
            .max_by_key(|rule| rule.prefix.len())
            .and_then(|rule| rule.requirement.as_ref())
    }
}

/// A key of a rule: inline PEM, or a file in the policy's directory.
fn read_key(key: &str, dir: &Path, file: &Path) -> Result<PublicKey> {
    if key.trim_start().starts_with("-----BEGIN") {
        return PublicKey::from_pem(key.as_bytes(), &format!("a key in {}", file.display()));
    }
    let relative = Path::new(key);
    if relative.is_absolute() || relative.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        return Err(Error::config(
            file.display(),
            format!("key {key:?}: put key files beside the policy file (a plain name) or inline the PEM"),
        ));
    }
    let path = dir.join(relative);
    let bytes = crate::fsutil::read_regular_at_most(&path, super::key_file::MAX_KEY_FILE)
        .map_err(|e| Error::io(path.display(), "read policy key", e))?;
    PublicKey::from_pem(&bytes, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_matching_prefix_decides() {
        let key = crate::signing::PrivateKey::generate().unwrap().public_key().to_pem();
        let text = format!(
            "[[rule]]\nprefix = \"\"\nrequire = \"none\"\n\n[[rule]]\nprefix = \"ghcr.io/acme/\"\nrequire = \"signed\"\nkeys = [\"\"\"{key}\"\"\"]\nannotations = {{ env = \"prod\" }}\n\n[[rule]]\nprefix = \"ghcr.io/acme/scratch/\"\nrequire = \"none\"\n"
        );
        let policy = Policy::parse(&text, Path::new("/p/wasmship-policy.toml")).unwrap();
        let required = policy.requirement_for("ghcr.io/acme/app").unwrap();
        assert_eq!(required.keys.len(), 1);
        assert_eq!(required.annotations.get("env").map(String::as_str), Some("prod"));
        assert!(policy.requirement_for("ghcr.io/acme/scratch/x").is_none());
        assert!(policy.requirement_for("docker.io/library/x").is_none());
    }

    #[test]
    fn mistakes_are_named() {
        let file = Path::new("/p/wasmship-policy.toml");
        let err = Policy::parse("[[rule]]\nprefix = \"a\"\nrequire = \"signed\"\n", file).unwrap_err().to_string();
        assert!(err.contains("needs keys"), "{err}");
        let err = Policy::parse("[[rule]]\nprefix = \"a\"\nrequire = \"maybe\"\n", file).unwrap_err().to_string();
        assert!(err.contains("use \"signed\" or \"none\""), "{err}");
        let err = Policy::parse("[[rule]]\nprefix = \"a\"\nrequire = \"signed\"\nkeys = [\"../k.pub\"]\n", file)
            .unwrap_err()
            .to_string();
        assert!(err.contains("beside the policy file"), "{err}");
    }
}
