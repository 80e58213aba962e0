//! Looking after the cache: list entries with their sizes, verify every blob
//! against its digest, evict least-recently-used entries down to a size, and
//! remove entries with the blobs only they use.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::Cache;
use crate::error::Result;
use crate::oci::annotations::REF_NAME;
use crate::oci::manifest::Manifest;
use crate::oci::{Descriptor, Digest};
use crate::store::layout::LayoutIndex;
use crate::store::{Selector, Store};

/// Temporary ingest files older than this belong to dead processes.
const STALE_INGEST_AGE: Duration = Duration::from_secs(3600);

/// One cache entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `registry/repository:tag`.
    pub reference: String,
    pub digest: Digest,
    /// Bytes of the manifest and every blob it reaches that the cache holds.
    pub size: u64,
    /// When it was last used (the manifest file's modification time).
    pub last_used: Option<SystemTime>,
    blobs: BTreeSet<Digest>,
}

/// Every entry of the cache.
pub fn entries(cache: &mut Cache) -> Result<Vec<Entry>> {
    let index = LayoutIndex::load(cache.root())?;
    let mut entries = Vec::new();
    for descriptor in &index.manifests {
        let Some(reference) = descriptor.annotation(REF_NAME) else { continue };
        let blobs = reachable(cache, descriptor);
        let size = blobs.iter().map(|d| blob_size(cache, d)).sum();
        let last_used = fs::metadata(cache.store().blob_path(&descriptor.digest)).and_then(|m| m.modified()).ok();
        entries.push(Entry {
            reference: reference.to_string(),
            digest: descriptor.digest.clone(),
            size,
            last_used,
            blobs,
        });
    }
    entries.sort_by(|a, b| a.reference.cmp(&b.reference));
    Ok(entries)
}

/// Blobs a manifest reaches (itself included) that are present in the cache.
fn reachable(cache: &mut Cache, descriptor: &Descriptor) -> BTreeSet<Digest> {
    let mut found = BTreeSet::new();
    let mut pending = vec![descriptor.digest.clone()];
    while let Some(digest) = pending.pop() {
        if !found.insert(digest.clone()) {
            continue;
        }
        let Ok(raw) = cache.store().manifest_get(&Selector::Digest(digest)) else { continue };
        match raw.parse() {
            Ok(Manifest::Image(m)) => {
                found.insert(m.config.digest.clone());
                found.extend(m.layers.iter().map(|l| l.digest.clone()));
            }
            Ok(Manifest::Index(i)) => pending.extend(i.manifests.iter().map(|m| m.digest.clone())),
            Err(_) => {}
        }
    }
    found.retain(|d| cache.store().blob_path(d).is_file());
    found
}

fn blob_size(cache: &mut Cache, digest: &Digest) -> u64 {
    fs::metadata(cache.store().blob_path(digest)).map(|m| m.len()).unwrap_or(0)
}

/// Remove the entries `remove` (by reference) and the blobs no remaining
/// entry uses. Blobs of other processes' unfinished pulls are not touched:
/// only blobs reachable from the removed entries are candidates.
pub fn remove_entries(cache: &mut Cache, remove: &BTreeSet<String>) -> Result<Vec<String>> {
    if remove.is_empty() {
        return Ok(Vec::new());
    }
    let all = entries(cache)?;
    LayoutIndex::update(
        cache.root(),
        |index| {
            for reference in remove {
                index.remove_tag(reference);
            }
        },
        |index| remove.iter().all(|r| index.find_tag(r).is_none()),
    )?;
    let (gone, kept): (Vec<_>, Vec<_>) = all.into_iter().partition(|e| remove.contains(&e.reference));
    let still_used: BTreeSet<&Digest> = kept.iter().flat_map(|e| e.blobs.iter()).collect();
    for digest in gone.iter().flat_map(|e| e.blobs.iter()) {
        if !still_used.contains(digest) {
            cache.remove_blob(digest)?;
        }
    }
    Ok(gone.into_iter().map(|e| e.reference).collect())
}

/// Evict least-recently-used entries until the cache holds at most
/// `max_size` bytes; the references evicted.
pub fn prune(cache: &mut Cache, max_size: u64) -> Result<Vec<String>> {
    clean_stale_ingests(cache.root());
    let mut all = entries(cache)?;
    all.sort_by_key(|e| e.last_used.unwrap_or(SystemTime::UNIX_EPOCH));
    let mut unique: BTreeMap<Digest, u64> = BTreeMap::new();
    for entry in &all {
        for digest in &entry.blobs {
            unique.entry(digest.clone()).or_insert_with(|| blob_size(cache, digest));
        }
    }
    let mut total: u64 = unique.values().sum();
    let mut evict = BTreeSet::new();
    let mut remaining: Vec<&Entry> = all.iter().collect();
    while total > max_size && !remaining.is_empty() {
        let oldest = remaining.remove(0);
        evict.insert(oldest.reference.clone());
        let still_used: BTreeSet<&Digest> = remaining.iter().flat_map(|e| e.blobs.iter()).collect();
        for digest in &oldest.blobs {
            if !still_used.contains(digest) {
                total = total.saturating_sub(unique.remove(digest).unwrap_or(0));
            }
        }
    }
    remove_entries(cache, &evict)
}

/// A blob whose content does not match its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadBlob {
    pub digest: Digest,
    pub problem: String,
}

/// Hash every blob, whatever its seal says; remove those that do not match
/// their digest (a later pull fetches them again), stale temporary files and
/// seals of blobs that are gone. The bad blobs found.
pub fn verify(cache: &mut Cache) -> Result<Vec<BadBlob>> {
    clean_stale_ingests(cache.root());
    let mut bad = Vec::new();
    let dir = cache.root().join("blobs").join("sha256");
    let Ok(listing) = fs::read_dir(&dir) else { return Ok(bad) };
    for item in listing.flatten() {
        let name = item.file_name().to_string_lossy().into_owned();
        let Ok(digest) = format!("sha256:{name}").parse::<Digest>() else { continue };
        let size = item.metadata().map(|m| m.len()).unwrap_or(0);
        let descriptor = Descriptor::new("", digest.clone(), size);
        if let Err(e) = cache.store().blob_verify(&descriptor) {
            let problem = e.to_string();
            let _ = cache.remove_blob(&digest);
            bad.push(BadBlob { digest, problem });
        }
    }
    cache.store().forget_orphan_seals();
    Ok(bad)
}

fn clean_stale_ingests(root: &Path) {
    let Ok(listing) = fs::read_dir(root.join(".ingest")) else { return };
    for item in listing.flatten() {
        let stale = item
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_INGEST_AGE);
        if stale {
            let _ = fs::remove_file(item.path());
        }
    }
}
