//! The layout's `index.json`: which manifests it holds and their tags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::oci::annotations::REF_NAME;
use crate::oci::media_type::OCI_INDEX;
use crate::oci::{Descriptor, Digest};

/// How long to wait for `index.json.lock` before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(60);
/// The most a layout's `index.json` may hold (a cache with tens of thousands of entries
/// stays far below it).
const INDEX_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// A lock older than this was left by a process that died; it is broken.
const LOCK_STALE_AFTER: Duration = Duration::from_secs(30);

/// The exclusive lock on a layout's `index.json`, released on drop.
struct IndexLock {
    path: PathBuf,
}

impl IndexLock {
    fn acquire(root: &Path) -> Result<IndexLock> {
        let path = root.join("index.json.lock");
        let started = Instant::now();
        let mut pause = 1u64;
        loop {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(_) => return Ok(IndexLock { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
                    let stale = modified.is_some_and(|m| lock_is_stale(m, std::time::SystemTime::now()));
                    if stale {
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    if started.elapsed() > LOCK_WAIT {
                        return Err(Error::InvalidInput(format!(
                            "{} is held by another process for over {}s; if none is running, remove it",
                            path.display(),
                            LOCK_WAIT.as_secs()
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(pause + crate::fsutil::random_u64() % (pause + 1)));
                    pause = (pause * 2).min(50);
                }
                Err(e) => return Err(Error::io(path.display(), "create lock", e)),
            }
        }
    }
}

/// Whether a lock last modified at `modified` was left behind, seen at `now`: older than
/// [`LOCK_STALE_AFTER`], or dated in the future (a lock lives for milliseconds; one from the
/// future was planted or left by a skewed clock, and would otherwise hold every writer).
fn lock_is_stale(modified: std::time::SystemTime, now: std::time::SystemTime) -> bool {
    match now.duration_since(modified) {
        Ok(age) => age > LOCK_STALE_AFTER,
        Err(ahead) => ahead.duration() > Duration::from_secs(1),
    }
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `index.json` of an OCI image layout.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayoutIndex {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Default for LayoutIndex {
    fn default() -> Self {
        LayoutIndex {
            schema_version: 2,
            media_type: Some(OCI_INDEX.to_string()),
            manifests: Vec::new(),
            annotations: None,
        }
    }
}

impl LayoutIndex {
    /// Read `index.json` of the layout at `root`.
    pub fn load(root: &Path) -> Result<Self> {
        let path = root.join("index.json");
        let bytes = crate::fsutil::read_regular_at_most(&path, INDEX_MAX_BYTES)
            .map_err(|e| Error::io(path.display(), "read", e))?;
        LayoutIndex::parse(&bytes, &path.display().to_string())
    }

    /// Parse `index.json` bytes; `what` names the file in errors.
    pub fn parse(bytes: &[u8], what: &str) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| Error::InvalidInput(format!("{what}: not a valid OCI index: {e}")))
    }

    /// [`Self::load`], with a missing `index.json` read as empty (a cache another process
    /// just drained).
    pub fn load_or_empty(root: &Path) -> Result<Self> {
        match LayoutIndex::load(root) {
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Ok(LayoutIndex::default())
            }
            other => other,
        }
    }

    /// Replace `index.json` atomically.
    pub fn save(&self, root: &Path) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("index serialises");
        bytes.push(b'\n');
        crate::fsutil::write_atomic(&root.join("index.json"), &bytes)
    }

    /// Change `index.json` with `change`, safely against other processes
    /// doing the same: the read-modify-write happens under `index.json.lock`
    /// (an exclusively created file, as wasi:filesystem has no `flock`), and
    /// the new index replaces the old one atomically. `holds` checks the
    /// result after the write.
    pub fn update(root: &Path, change: impl Fn(&mut LayoutIndex), holds: impl Fn(&LayoutIndex) -> bool) -> Result<()> {
        let _lock = IndexLock::acquire(root)?;
        let mut index = LayoutIndex::load_or_empty(root)?;
        change(&mut index);
        index.save(root)?;
        if holds(&LayoutIndex::load(root)?) {
            Ok(())
        } else {
            Err(Error::InvalidInput(format!(
                "{}: index.json changed under its lock; is another tool writing it?",
                root.display()
            )))
        }
    }

    /// Remove the entry tagged `tag`; whether there was one.
    pub fn remove_tag(&mut self, tag: &str) -> bool {
        let before = self.manifests.len();
        self.manifests.retain(|d| d.annotation(REF_NAME) != Some(tag));
        before != self.manifests.len()
    }

    /// The manifest tagged `tag`.
    pub fn find_tag(&self, tag: &str) -> Option<&Descriptor> {
        self.manifests.iter().find(|d| d.annotation(REF_NAME) == Some(tag))
    }

    /// The entry for `digest`, if listed.
    pub fn find_digest(&self, digest: &Digest) -> Option<&Descriptor> {
        self.manifests.iter().find(|d| &d.digest == digest)
    }

    /// Point `tag` (or, untagged, just list) at `descriptor`.
    pub fn set(&mut self, mut descriptor: Descriptor, tag: Option<&str>) {
        match tag {
            Some(tag) => {
                self.remove_tag(tag);
                descriptor.annotations.get_or_insert_with(BTreeMap::new).insert(REF_NAME.to_string(), tag.to_string());
                self.manifests.push(descriptor);
            }
            None => {
                if self.find_digest(&descriptor.digest).is_none() {
                    self.manifests.push(descriptor);
                }
            }
        }
    }

    /// All tags.
    pub fn tags(&self) -> Vec<String> {
        let mut tags: Vec<String> =
            self.manifests.iter().filter_map(|d| d.annotation(REF_NAME).map(str::to_string)).collect();
        tags.sort();
        tags
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn locks_from_the_past_or_the_future_are_stale() {
        let now = std::time::SystemTime::now();
        assert!(!super::lock_is_stale(now - Duration::from_secs(1), now));
        assert!(super::lock_is_stale(now - Duration::from_secs(31), now));
        // Issue 11: a lock dated in the future made every write wait 60 s.
        assert!(super::lock_is_stale(now + Duration::from_secs(3600), now));
        assert!(!super::lock_is_stale(now + Duration::from_millis(200), now));
    }

    #[test]
    fn parses_index_bytes_and_names_the_file_in_errors() {
        let index = super::LayoutIndex::parse(br#"{"schemaVersion":2,"manifests":[]}"#, "x/index.json").unwrap();
        assert!(index.manifests.is_empty());
        let err = super::LayoutIndex::parse(b"{", "x/index.json").unwrap_err();
        assert!(err.to_string().starts_with("x/index.json: not a valid OCI index"), "{err}");
    }
}
