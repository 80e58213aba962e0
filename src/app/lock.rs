//! The application lock (`wadm.lock.json` beside `wadm.yaml`): for each OCI reference a
//! manifest names, the manifest it resolved to — digest, media type, size, the config's
//! media type — and what refers to it (signatures, attestations), so that what was tested
//! is what is deployed. JSON with sorted keys and a trailing newline; written atomically.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The lock format's version.
pub const LOCK_VERSION: u32 = 1;
/// The largest lock read.
pub const MAX_LOCK: u64 = 4 << 20;

/// A whole lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppLock {
    pub lock_version: u32,
    /// The application's `metadata.name`.
    pub application: String,
    /// Its `metadata.annotations.version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub artifacts: Vec<LockedArtifact>,
}

/// One reference and what it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LockedArtifact {
    /// As the manifest writes it.
    pub reference: String,
    /// The reference pinned by digest (`repo:tag@sha256:…`).
    pub pinned: String,
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    /// The config's media type (what kind of artifact it is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_media_type: Option<String>,
    /// The manifest entries that use it: `name` and `type`.
    pub used_by: Vec<LockedUse>,
    /// What refers to it: signatures, attestations, SBOMs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub referrers: Vec<LockedReferrer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedUse {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LockedReferrer {
    pub digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Set for cosign's legacy tags (`sha256-<hex>.sig`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

impl AppLock {
    /// The lock's text.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a lock serialises");
        text.push('\n');
        text
    }

    /// Read the lock at `path`.
    pub fn load(path: &Path) -> Result<AppLock> {
        let bytes = crate::fsutil::read_regular_at_most(path, MAX_LOCK)
            .map_err(|e| Error::io(path.display(), "read application lock", e))?;
        let lock: AppLock = serde_json::from_slice(&bytes)
            .map_err(|e| Error::InvalidInput(format!("{}: not an application lock: {e}", path.display())))?;
        if lock.lock_version != LOCK_VERSION {
            return Err(Error::InvalidInput(format!(
                "{}: lock version {} (this wasmship reads {LOCK_VERSION})",
                path.display(),
                lock.lock_version
            )));
        }
        Ok(lock)
    }

    /// Write it to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::fsutil::write_atomic(path, self.to_text().as_bytes())
    }
}

/// The default lock beside `manifest`: `wadm.yaml` → `wadm.lock.json`.
pub fn default_path(manifest: &Path) -> PathBuf {
    let stem = manifest.file_stem().map_or_else(|| "wadm".into(), |s| s.to_string_lossy().into_owned());
    manifest.with_file_name(format!("{stem}.lock.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_sits_beside_the_manifest_and_round_trips() {
        assert_eq!(default_path(Path::new("deploy/wadm.yaml")), Path::new("deploy/wadm.lock.json"));
        assert_eq!(default_path(Path::new("app.yml")), Path::new("app.lock.json"));
        let lock = AppLock {
            lock_version: LOCK_VERSION,
            application: "hello".into(),
            version: None,
            artifacts: vec![LockedArtifact {
                reference: "r/a:1".into(),
                pinned: "r/a:1@sha256:00".into(),
                digest: "sha256:00".into(),
                media_type: "application/vnd.oci.image.manifest.v1+json".into(),
                size: 1,
                config_media_type: None,
                used_by: vec![LockedUse { name: "a".into(), kind: "component".into() }],
                referrers: Vec::new(),
            }],
        };
        let text = lock.to_text();
        assert!(text.contains("\"lockVersion\": 1") && text.contains("\"type\": \"component\""), "{text}");
        assert_eq!(serde_json::from_str::<AppLock>(&text).unwrap(), lock);
    }
}
