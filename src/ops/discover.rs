//! Discover: what refers to an artifact — OCI referrers (through the referrers API or the
//! tag schema) with their own referrers in turn, and cosign's legacy `.sig`, `.att` and
//! `.sbom` tags — as a tree.

use super::referrers::list;
use super::resolve::selector;
use super::sign::resolve_descriptor;
use super::{RegistryOptions, open_store, parse_reference};
use crate::auth::Access;
use crate::error::{Error, Result};
use crate::oci::referrers::fallback_tag;
use crate::oci::{Descriptor, Digest};
use crate::store::{Selector, Store};

/// cosign's legacy tag suffixes and what each holds.
pub const LEGACY_SUFFIXES: [(&str, &str); 3] =
    [(".sig", "cosign signatures"), (".att", "cosign attestations"), (".sbom", "cosign SBOM")];
/// How deep referrers of referrers are followed.
pub const MAX_DEPTH: usize = 4;
/// The most referrers followed in one walk, across every level of the tree: a registry
/// cannot make a discover or a copy do unbounded work.
pub const MAX_REFERRERS: usize = 1000;

/// What is left of a walk's referrer allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    left: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { left: MAX_REFERRERS }
    }
}

impl Budget {
    /// Spend `count` referrers of `digest`, or refuse the walk as too large.
    pub fn spend(&mut self, count: usize, digest: &Digest) -> Result<()> {
        match self.left.checked_sub(count) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(Error::SizeLimitExceeded {
                what: format!(
                    "the referrers of {digest} ({count} more listed, beyond the {MAX_REFERRERS} one walk follows)"
                ),
                limit: MAX_REFERRERS as u64,
            }),
        }
    }
}

/// One thing that refers to a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    /// The referring manifest, with its artifact type and annotations.
    pub descriptor: Descriptor,
    /// Set for a legacy cosign tag (`sha256-<hex>.sig`, …).
    pub tag: Option<String>,
    /// What refers to it in turn.
    pub referrers: Vec<Referrer>,
}

/// What `discover` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub reference: String,
    pub subject: Descriptor,
    pub referrers: Vec<Referrer>,
}

/// Discover what refers to `reference`, optionally only referrers of `artifact_type`.
pub fn discover(reference: &str, artifact_type: Option<&str>, options: &RegistryOptions) -> Result<Discovered> {
    let parsed = parse_reference(reference)?;
    let mut store = open_store(&parsed, options, Access::Pull)?;
    let subject = resolve_descriptor(store.as_mut(), &selector(&parsed), reference)?;
    let referrers = referrers_of(store.as_mut(), &subject.digest, artifact_type, 0, &mut Budget::default())?;
    Ok(Discovered { reference: format!("{}@{}", store.location(), subject.digest), subject, referrers })
}

/// The referrers of `digest` (with theirs, to `MAX_DEPTH`) and its legacy tags, each
/// spending one of `budget`.
pub fn referrers_of(
    store: &mut dyn Store,
    digest: &Digest,
    artifact_type: Option<&str>,
    depth: usize,
    budget: &mut Budget,
) -> Result<Vec<Referrer>> {
    let mut found = Vec::new();
    let listed = list(store, digest, artifact_type)?;
    budget.spend(listed.len(), digest)?;
    for descriptor in listed {
        let referrers = if depth < MAX_DEPTH {
            referrers_of(store, &descriptor.digest, None, depth + 1, budget)?
        } else {
            Vec::new()
        };
        found.push(Referrer { descriptor, tag: None, referrers });
    }
    if artifact_type.is_none() {
        for (suffix, _) in LEGACY_SUFFIXES {
            let tag = format!("{}{suffix}", fallback_tag(digest));
            if let Some(descriptor) = store.manifest_head(&Selector::Tag(tag.clone()))? {
                budget.spend(1, digest)?;
                found.push(Referrer { descriptor, tag: Some(tag), referrers: Vec::new() });
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_allowance_covers_the_whole_walk() {
        let digest = Digest::sha256_of(b"subject");
        let mut budget = Budget::default();
        budget.spend(MAX_REFERRERS - 1, &digest).unwrap();
        budget.spend(1, &digest).unwrap();
        let refused = budget.spend(1, &digest).unwrap_err();
        assert!(matches!(refused, Error::SizeLimitExceeded { limit, .. } if limit == MAX_REFERRERS as u64));
        assert!(refused.to_string().contains(&digest.to_string()), "{refused}");
    }
}
