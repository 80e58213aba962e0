//! The layout's `index.json`: which manifests it holds and their tags.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::oci::annotations::REF_NAME;
use crate::oci::media_type::OCI_INDEX;
use crate::oci::{Descriptor, Digest};

/// Read-modify-write rounds before giving up on a contended `index.json`.
const UPDATE_ATTEMPTS: usize = 20;

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
        let bytes = std::fs::read(&path).map_err(|e| Error::io(path.display(), "read", e))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::InvalidInput(format!("{}: not a valid OCI index: {e}", path.display())))
    }

    /// Replace `index.json` atomically.
    pub fn save(&self, root: &Path) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("index serialises");
        bytes.push(b'\n');
        crate::fsutil::write_atomic(&root.join("index.json"), &bytes)
    }

    /// Change `index.json` with `change`, safely against other processes
    /// doing the same: write atomically, read back, and redo the change if
    /// another writer's replacement lost it (`holds` says whether it is there).
    pub fn update(root: &Path, change: impl Fn(&mut LayoutIndex), holds: impl Fn(&LayoutIndex) -> bool) -> Result<()> {
        for attempt in 0..UPDATE_ATTEMPTS {
            let mut index = LayoutIndex::load(root)?;
            change(&mut index);
            index.save(root)?;
            if holds(&LayoutIndex::load(root)?) {
                return Ok(());
            }
            // Another process replaced the file between our read and write.
            let pause = 1 + crate::fsutil::random_u64() % (5 * (attempt as u64 + 1));
            std::thread::sleep(std::time::Duration::from_millis(pause));
        }
        Err(Error::InvalidInput(format!(
            "{}: index.json kept changing under concurrent writers; try again",
            root.display()
        )))
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
                self.manifests.retain(|d| d.annotation(REF_NAME) != Some(tag));
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
