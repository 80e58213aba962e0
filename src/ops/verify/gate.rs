//! The `--verify-key` gate of pull, inspect, copy and WIT fetches: verify before any blob
//! moves and pin the fetch to the verified digest; leave a record in the cache, which an
//! offline fetch checks instead of the registry.

use std::collections::BTreeMap;

use super::{check, missing, require_one};
use crate::auth::Access;
use crate::cache::signatures::Seen;
use crate::error::{Error, Result};
use crate::oci::Digest;
use crate::ops::resolve::selector;
use crate::ops::sign::resolve_descriptor;
use crate::ops::{RegistryOptions, open_store};
use crate::signing::PublicKey;

/// What a pull, inspect or copy requires of an artifact's signatures (`--verify-key`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirement {
    /// Any one of these keys.
    pub keys: Vec<PublicKey>,
    pub annotations: BTreeMap<String, String>,
}

/// Which signatures the artifacts a command takes must have: those `--verify-key` names
/// (every artifact), or the signature policy's rule for each one's registry and repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Verification {
    /// Nothing is required.
    #[default]
    Nothing,
    Every(Requirement),
    Policy(crate::signing::policy::Policy),
}

impl Verification {
    /// What `reference` must have, if anything.
    pub fn requirement_for(&self, reference: &crate::reference::Reference) -> Option<&Requirement> {
        match self {
            Verification::Nothing => None,
            Verification::Every(requirement) => Some(requirement),
            Verification::Policy(policy) => policy.requirement_for(&policy_name(reference)),
        }
    }
}

/// The name a policy prefix is matched against: `registry/repository`, or the layout's
/// `oci-layout://DIR`.
fn policy_name(reference: &crate::reference::Reference) -> String {
    match reference {
        crate::reference::Reference::Registry(r) => format!("{}/{}", r.registry, r.repository),
        crate::reference::Reference::Layout(l) => format!("{}{}", crate::reference::LAYOUT_SCHEME, l.dir),
    }
}

/// Verify `reference` in its store before anything of it is fetched; record what verified
/// in the cache at `cache_root` (for offline use); the verified manifest digest, which the
/// fetch that follows must get (a tag moved meanwhile is refused).
pub fn gate(
    reference: &crate::reference::Reference,
    options: &RegistryOptions,
    requirement: &Requirement,
    cache_root: Option<&std::path::Path>,
) -> Result<Digest> {
    let mut store = open_store(reference, options, Access::Pull)?;
    let shown = reference.to_string();
    let subject = resolve_descriptor(store.as_mut(), &selector(reference), &shown)?;
    let verified_reference = format!("{}@{}", store.location(), subject.digest);
    let checked = check(store.as_mut(), &subject.digest, &requirement.keys, &requirement.annotations)?;
    require_one(&verified_reference, &checked, &requirement.annotations)?;
    if let Some(root) = cache_root {
        let seen: Vec<Seen> = checked
            .verified
            .iter()
            .map(|v| Seen { key: v.key_fingerprint.clone(), annotations: v.annotations.clone() })
            .collect();
        crate::cache::signatures::record(root, &subject.digest, &seen)?;
    }
    Ok(subject.digest)
}

/// Offline: whether the cache at `cache_root` recorded a signature of `digest` that meets
/// `requirement` when it was pulled online.
pub fn gate_offline(
    cache_root: &std::path::Path,
    subject: &str,
    digest: &Digest,
    requirement: &Requirement,
) -> Result<()> {
    if crate::cache::Trust::of_host() != crate::cache::Trust::Private {
        return Err(Error::Unverified {
            subject: format!("{subject}@{digest}"),
            reason: "offline, signatures are checked against the cache's record, and this host did not check that \
                     the cache is the user's own; verify online (without --offline), or run under the wasmship runner"
                .into(),
        });
    }
    let fingerprints: Vec<String> = requirement.keys.iter().map(PublicKey::fingerprint).collect();
    let recorded = crate::cache::signatures::recorded(cache_root, digest);
    let met = recorded
        .iter()
        .any(|seen| fingerprints.contains(&seen.key) && missing(&requirement.annotations, &seen.annotations).is_none());
    if met {
        return Ok(());
    }
    Err(Error::Unverified {
        subject: format!("{subject}@{digest}"),
        reason: if recorded.is_empty() {
            "offline, and the cache has no record of a verified signature (pull it once online with --verify-key)"
                .into()
        } else {
            "offline, and none of the signatures the cache saw verified is by the given key(s) with the required \
             annotations (pull it online to check its current signatures)"
                .into()
        },
    })
}

/// The online half of `--verify-key` for an operation about to fetch `reference`: verify
/// now (unless offline from the cache) and pin the fetch to the verified digest. `expected`
/// is a digest the user asked for, which must be the verified one.
pub fn gate_before_fetch(
    reference: &crate::reference::Reference,
    options: &RegistryOptions,
    cache: &crate::ops::fetch::CacheOptions,
    requirement: Option<&Requirement>,
    expected: Option<Digest>,
) -> Result<Option<Digest>> {
    let Some(requirement) = requirement else { return Ok(expected) };
    let from_cache_only = cache.offline() && matches!(reference, crate::reference::Reference::Registry(_));
    if from_cache_only {
        return Ok(expected);
    }
    let verified = gate(reference, options, requirement, cache.root().as_deref())?;
    if let Some(expected) = &expected
        && expected != &verified
    {
        return Err(Error::DigestMismatch {
            what: format!("manifest of {reference} (verified signatures)"),
            expected: expected.to_string(),
            actual: verified.to_string(),
        });
    }
    Ok(Some(verified))
}

/// The offline half: the cache's record must show a signature that meets the requirement.
pub fn gate_after_fetch(
    reference: &crate::reference::Reference,
    cache: &crate::ops::fetch::CacheOptions,
    requirement: Option<&Requirement>,
    fetched: &crate::ops::fetch::Fetched,
) -> Result<()> {
    let Some(requirement) = requirement else { return Ok(()) };
    if !(cache.offline() && matches!(reference, crate::reference::Reference::Registry(_))) {
        return Ok(());
    }
    let digest = &fetched.resolved.top.digest;
    let Some(root) = fetched.cache_dir.as_deref() else {
        return Err(Error::Unverified {
            subject: format!("{reference}@{digest}"),
            reason: "offline and without a cache to hold a record of its signatures".into(),
        });
    };
    gate_offline(root, &reference.to_string(), digest, requirement)
}
