//! Resolve every OCI reference a manifest names to the manifest it points at now (by
//! digest, with what refers to it), then record that in the lock or pin the manifest's
//! references to it. Nothing is written unless every reference resolved.

use std::path::Path;

use super::batch::Batch;
use crate::app::lock::{AppLock, LOCK_VERSION, LockedArtifact, LockedReferrer, LockedUse};
use crate::app::manifest::{AppManifest, MAX_MANIFEST, Source, parse};
use crate::app::span::{apply, render};
use crate::auth::Access;
use crate::error::{Error, Result};
use crate::oci::manifest::Manifest;
use crate::ops::discover::{Budget, MAX_DEPTH, referrers_of};
use crate::ops::resolve::selector;
use crate::ops::sign::resolve_descriptor;
use crate::ops::{RegistryOptions, open_store, parse_reference};
use crate::reference::Reference;
use crate::store::Selector;

/// The manifest at `path`: its text and what it names.
pub fn read_manifest(path: &Path) -> Result<(String, AppManifest)> {
    let bytes = crate::fsutil::read_regular_at_most(path, MAX_MANIFEST)
        .map_err(|e| Error::io(path.display(), "read application manifest", e))?;
    let text =
        String::from_utf8(bytes).map_err(|_| Error::InvalidInput(format!("{}: not UTF-8 text", path.display())))?;
    let app = parse(&text, &path.display().to_string())?;
    Ok((text, app))
}

/// What every reference of `app` resolves to now (with `keep_going`, every failure is
/// reported, not only the first).
pub fn resolve(app: &AppManifest, options: &RegistryOptions, keep_going: bool) -> Result<AppLock> {
    let references = app.references();
    let mut batch = Batch::new(keep_going, references.len());
    let mut artifacts = Vec::new();
    for reference in references {
        let Some(mut artifact) = batch.run(reference, || resolve_one(reference, options))? else { continue };
        for entry in &app.entries {
            if matches!(&entry.source, Source::Image { reference: r, .. } if r == reference) {
                artifact.used_by.push(LockedUse { name: entry.name.clone(), kind: entry.kind.name().into() });
            }
        }
        artifacts.push(artifact);
    }
    batch.finish()?;
    Ok(AppLock { lock_version: LOCK_VERSION, application: app.name.clone(), version: app.version.clone(), artifacts })
}

fn resolve_one(reference: &str, options: &RegistryOptions) -> Result<LockedArtifact> {
    let parsed = parse_reference(reference)?;
    if !matches!(parsed, Reference::Registry(_)) {
        return Err(Error::invalid_reference(reference, "an application names registry references or file:// paths"));
    }
    let mut store = open_store(&parsed, options, Access::Pull)?;
    let top = resolve_descriptor(store.as_mut(), &selector(&parsed), reference)?;
    if let Some(expected) = parsed.digest()
        && expected != &top.digest
    {
        return Err(Error::DigestMismatch {
            what: format!("manifest of {reference}"),
            expected: expected.to_string(),
            actual: top.digest.to_string(),
        });
    }
    let raw = store.manifest_get(&Selector::Digest(top.digest.clone()))?;
    let config_media_type = match raw.parse()? {
        Manifest::Image(manifest) => Some(manifest.config.media_type),
        Manifest::Index(_) => None,
    };
    let referrers = referrers_of(store.as_mut(), &top.digest, None, MAX_DEPTH, &mut Budget::default())?
        .into_iter()
        .map(|r| LockedReferrer {
            digest: r.descriptor.digest.to_string(),
            artifact_type: r.descriptor.artifact_type.clone(),
            tag: r.tag,
        })
        .collect();
    let pinned = if parsed.digest().is_some() { reference.to_string() } else { format!("{reference}@{}", top.digest) };
    Ok(LockedArtifact {
        reference: reference.to_string(),
        pinned,
        digest: top.digest.to_string(),
        media_type: raw.media_type.clone(),
        size: raw.bytes.len() as u64,
        config_media_type,
        used_by: Vec::new(),
        referrers,
    })
}

/// Resolve the manifest at `manifest_path` and write the lock to `lock_path` (unless it
/// already says the same); the lock and whether it was written.
pub fn lock(
    manifest_path: &Path,
    lock_path: &Path,
    options: &RegistryOptions,
    keep_going: bool,
) -> Result<(AppLock, bool)> {
    let (_, app) = read_manifest(manifest_path)?;
    let lock = resolve(&app, options, keep_going)?;
    let unchanged = std::fs::read_to_string(lock_path).ok().as_deref() == Some(lock.to_text().as_str());
    if !unchanged {
        lock.save(lock_path)?;
    }
    Ok((lock, !unchanged))
}

/// What `pin` changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinOutcome {
    /// Each reference rewritten, and what it became.
    pub pinned: Vec<(String, String)>,
    /// References already pinned by digest (checked, left as they are).
    pub already: Vec<String>,
    pub written: bool,
}

/// Rewrite every tag reference of the manifest at `path` to `reference@digest`, in place:
/// only the bytes of those scalars change (comments, order, quoting, indentation stay).
pub fn pin(path: &Path, options: &RegistryOptions, keep_going: bool) -> Result<PinOutcome> {
    let (text, app) = read_manifest(path)?;
    // Every reference must be editable before anything is resolved or written.
    let mut spans = Vec::new();
    for entry in &app.entries {
        if let Source::Image { reference, span } = &entry.source {
            let span = span.clone().map_err(Error::InvalidInput)?;
            spans.push((reference.clone(), span));
        }
    }
    let lock = resolve(&app, options, keep_going)?;
    let mut outcome = PinOutcome { pinned: Vec::new(), already: Vec::new(), written: false };
    let mut edits = Vec::new();
    for artifact in &lock.artifacts {
        if artifact.pinned == artifact.reference {
            outcome.already.push(artifact.reference.clone());
            continue;
        }
        for (_, span) in spans.iter().filter(|(r, _)| r == &artifact.reference) {
            edits.push((span.bytes.clone(), render(&artifact.pinned, span.quote)));
        }
        outcome.pinned.push((artifact.reference.clone(), artifact.pinned.clone()));
    }
    if !edits.is_empty() {
        let rewritten = apply(&text, edits);
        // The rewritten file must read as the same application, now pinned.
        let check = parse(&rewritten, &path.display().to_string())?;
        if check.entries.len() != app.entries.len() {
            return Err(Error::InvalidInput(format!("{}: pinning would change the application", path.display())));
        }
        crate::fsutil::write_atomic(path, rewritten.as_bytes())?;
        outcome.written = true;
    }
    Ok(outcome)
}
