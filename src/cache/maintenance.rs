//! Looking after the cache: list entries with their sizes, verify every blob
//! against its digest, evict least-recently-used entries down to a size, and
//! remove entries with the blobs only they use.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::time::SystemTime;

use super::Cache;
use crate::error::Result;
use crate::oci::annotations::REF_NAME;
use crate::oci::manifest::Manifest;
use crate::oci::{Descriptor, Digest};
use crate::store::layout::LayoutIndex;
use crate::store::{Selector, Store};

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
    /// The blobs it reaches that the cache holds, with their sizes.
    blobs: BTreeMap<Digest, u64>,
}

/// Every entry of the cache, by reference.
pub fn entries(cache: &mut Cache) -> Result<Vec<Entry>> {
    let index = LayoutIndex::load_or_empty(cache.root())?;
    let mut entries = Vec::new();
    for descriptor in &index.manifests {
        let Some(reference) = descriptor.annotation(REF_NAME) else { continue };
        let blobs = reachable(cache, descriptor);
        let last_used = fs::metadata(cache.store().blob_path(&descriptor.digest)).and_then(|m| m.modified()).ok();
        entries.push(Entry {
            reference: reference.to_string(),
            digest: descriptor.digest.clone(),
            size: blobs.values().sum(),
            last_used,
            blobs,
        });
    }
    entries.sort_by(|a, b| a.reference.cmp(&b.reference));
    Ok(entries)
}

/// Blobs a manifest reaches (itself included) that are present in the
/// cache, with their sizes.
fn reachable(cache: &mut Cache, descriptor: &Descriptor) -> BTreeMap<Digest, u64> {
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
    found
        .into_iter()
        .filter_map(|digest| {
            let metadata = fs::metadata(cache.store().blob_path(&digest)).ok().filter(|m| m.is_file())?;
            Some((digest, metadata.len()))
        })
        .collect()
}

/// Remove the entries `remove` (by reference) and the blobs no remaining
/// entry uses. Blobs of other processes' unfinished pulls are not touched:
/// only blobs reachable from the removed entries are candidates.
pub fn remove_entries(cache: &mut Cache, remove: &BTreeSet<String>) -> Result<Vec<String>> {
    if remove.is_empty() {
        return Ok(Vec::new());
    }
    let all = entries(cache)?;
    remove_from(cache, all, remove)
}

/// [`remove_entries`] with the cache's entries at hand.
fn remove_from(cache: &mut Cache, all: Vec<Entry>, remove: &BTreeSet<String>) -> Result<Vec<String>> {
    if remove.is_empty() {
        return Ok(Vec::new());
    }
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
    let still_used: BTreeSet<&Digest> = kept.iter().flat_map(|e| e.blobs.keys()).collect();
    for digest in gone.iter().flat_map(|e| e.blobs.keys()) {
        if !still_used.contains(digest) {
            cache.remove_blob(digest)?;
        }
    }
    Ok(gone.into_iter().map(|e| e.reference).collect())
}

/// Evict least-recently-used entries until the cache holds at most
/// `max_size` bytes; the references evicted.
pub fn prune(cache: &mut Cache, max_size: u64) -> Result<Vec<String>> {
    cache.store().sweep_stale_ingests();
    let all = entries(cache)?;
    let evict = {
        // How many entries use each blob, and its size.
        let mut users: BTreeMap<&Digest, (usize, u64)> = BTreeMap::new();
        for (digest, size) in all.iter().flat_map(|e| e.blobs.iter()) {
            users.entry(digest).or_insert((0, *size)).0 += 1;
        }
        let mut total: u64 = users.values().map(|(_, size)| size).sum();
        let mut oldest_first: Vec<&Entry> = all.iter().collect();
        oldest_first.sort_by_key(|e| e.last_used.unwrap_or(SystemTime::UNIX_EPOCH));
        let mut evict = BTreeSet::new();
        for entry in oldest_first {
            if total <= max_size {
                break;
            }
            evict.insert(entry.reference.clone());
            for digest in entry.blobs.keys() {
                let (count, size) = users.get_mut(digest).expect("counted above");
                *count -= 1;
                if *count == 0 {
                    total = total.saturating_sub(*size);
                }
            }
        }
        evict
    };
    remove_from(cache, all, &evict)
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
    cache.store().sweep_stale_ingests();
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
