//! The signatures the cache has seen verified: for each manifest digest, the key
//! fingerprints (and annotations) of the signatures that checked out when it was pulled
//! with `--verify-key`, so an offline pull still enforces the same requirement. Believed
//! only in a cache the host checked is the user's own (`Trust::Private`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::oci::Digest;

/// The directory of records inside the cache.
pub const DIR_NAME: &str = "signatures";
/// The most bytes of one record read.
const MAX_RECORD: u64 = 1 << 20;

/// One signature that verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// `SHA256:…` of the key.
    pub key: String,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Default, Serialize, Deserialize)]
struct Record {
    verified: Vec<Seen>,
}

fn record_path(root: &Path, digest: &Digest) -> PathBuf {
    root.join(DIR_NAME).join(format!("{}-{}.json", digest.algorithm().name(), digest.hex()))
}

/// The signatures of `digest` recorded as verified.
pub fn recorded(root: &Path, digest: &Digest) -> Vec<Seen> {
    crate::fsutil::read_regular_at_most(&record_path(root, digest), MAX_RECORD)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Record>(&bytes).ok())
        .map(|r| r.verified)
        .unwrap_or_default()
}

/// Add `seen` to the record of `digest` (each once).
pub fn record(root: &Path, digest: &Digest, seen: &[Seen]) -> Result<()> {
    let dir = root.join(DIR_NAME);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display(), "create directory", e))?;
    let mut verified = recorded(root, digest);
    for one in seen {
        if !verified.contains(one) {
            verified.push(one.clone());
        }
    }
    let bytes = serde_json::to_vec(&Record { verified }).expect("record serialises");
    crate::fsutil::write_atomic(&record_path(root, digest), &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_accumulate_once_per_signature() {
        let dir = tempfile_dir();
        let digest = Digest::sha256_of(b"m");
        assert!(recorded(&dir, &digest).is_empty());
        let one = Seen { key: "SHA256:a".into(), annotations: BTreeMap::new() };
        record(&dir, &digest, std::slice::from_ref(&one)).unwrap();
        record(&dir, &digest, std::slice::from_ref(&one)).unwrap();
        assert_eq!(recorded(&dir, &digest), vec![one]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wasmship-signatures-{}", crate::fsutil::random_u64()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
