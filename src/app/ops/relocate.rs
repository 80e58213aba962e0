//! `app relocate`: copy every artifact an application names — from its registries, or from
//! a bundle — into one target registry (under a prefix), digests unchanged, signatures and
//! referrers along; then write the manifest with each image rewritten to its new home,
//! pinned by digest, and every other byte as it was, with its lock beside it.

use std::path::{Path, PathBuf};

use super::batch::Batch;
use super::bundle::{BUNDLE_MANIFEST, read_bundle};
use super::resolve::{read_manifest, resolve};
use crate::app::lock::AppLock;
use crate::app::manifest::{AppManifest, Source, parse};
use crate::app::span::{ScalarSpan, apply, render};
use crate::auth::Access;
use crate::error::{Error, Result};
use crate::ops::copy::{Endpoint, copy_between};
use crate::ops::overlap::{Artifact, upload_blobs_ahead};
use crate::ops::{RegistryOptions, open_store, parse_reference};
use crate::reference::Reference;
use crate::store::layout::LayoutStore;
use crate::store::{Selector, Store};

/// What to relocate, where, and how to name it there.
#[derive(Debug, Clone)]
pub struct RelocateRequest<'a> {
    /// A manifest (its images are read from their registries), a bundle directory or tar.
    pub input: &'a Path,
    /// `host[:port][/prefix]`.
    pub to: &'a str,
    /// Name each repository by its last path segment only (`prefix/name`).
    pub flatten: bool,
    /// Only say what would go where.
    pub dry_run: bool,
    /// The rewritten manifest.
    pub output: &'a Path,
    /// Go on after an artifact fails and report every failure (nothing is written then).
    pub keep_going: bool,
    /// Blob transfers in flight at most.
    pub jobs: usize,
}

/// One artifact's move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub from: String,
    /// The new reference, pinned by digest.
    pub to: String,
    pub digest: String,
}

/// What `relocate` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelocateOutcome {
    pub moves: Vec<Move>,
    pub copied_blobs: u32,
    pub mounted_blobs: u32,
    pub skipped_blobs: u32,
    pub referrers: u32,
    pub written: bool,
}

/// The manifest, its lock and where the artifacts are read from.
struct Origin {
    text: String,
    app: AppManifest,
    lock: AppLock,
    bundle: Option<PathBuf>,
    /// A tar bundle unpacked for the run (removed on drop).
    _unpacked: Option<crate::fsutil::TempDir>,
}

/// Whether `path` is a bundle (an OCI layout directory with a manifest).
pub fn is_bundle(path: &Path) -> bool {
    path.join("oci-layout").is_file() && path.join(BUNDLE_MANIFEST).is_file()
}

/// The rewritten manifest's default path: beside the manifest (`wadm.relocated.yaml`), or
/// for a bundle in the working directory.
pub fn default_output(input: &Path) -> PathBuf {
    if is_bundle(input) || input.is_dir() || crate::app::tarball::is_tarball(input) {
        return PathBuf::from("wadm.relocated.yaml");
    }
    let stem = input.file_stem().map_or_else(|| "wadm".into(), |s| s.to_string_lossy().into_owned());
    input.with_file_name(format!("{stem}.relocated.yaml"))
}

pub fn relocate(request: &RelocateRequest<'_>, options: &RegistryOptions) -> Result<RelocateOutcome> {
    let (host, prefix) = target(request.to)?;
    let origin = origin(request.input, crate::fsutil::parent_dir(request.output), options, request.keep_going)?;
    let spans = spans(&origin.app)?;
    let mut outcome = RelocateOutcome::default();
    for artifact in &origin.lock.artifacts {
        let Reference::Registry(source) = parse_reference(&artifact.reference)? else {
            return Err(Error::invalid_reference(&artifact.reference, "not a registry reference"));
        };
        let name = if request.flatten {
            source.repository.rsplit('/').next().unwrap_or(&source.repository).to_string()
        } else {
            source.repository.clone()
        };
        let repository = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        let tagged = match &source.tag {
            Some(tag) => format!("{host}/{repository}:{tag}"),
            None => format!("{host}/{repository}"),
        };
        outcome.moves.push(Move {
            from: artifact.reference.clone(),
            to: format!("{tagged}@{}", artifact.digest),
            digest: artifact.digest.clone(),
        });
    }
    if request.dry_run {
        return Ok(outcome);
    }
    // Every artifact's stores, opened once; one that cannot be opened here is opened again
    // by its copy below, which reports why.
    let mut stores: Vec<Option<StorePair>> = origin
        .lock
        .artifacts
        .iter()
        .zip(&outcome.moves)
        .map(|(artifact, planned)| open_pair(&artifact.reference, &planned.to, origin.bundle.as_deref(), options).ok())
        .collect();
    // The blobs go ahead, several at a time; the copies then find them in place.
    let mut ahead: Vec<Option<Artifact<'_>>> = Vec::new();
    let mut destinations: Vec<&mut dyn Store> = Vec::new();
    for (pair, artifact) in stores.iter_mut().zip(&origin.lock.artifacts) {
        ahead.push(match (pair.as_mut(), artifact.digest.parse()) {
            (Some((source, destination)), Ok(digest)) => {
                destinations.push(destination.as_mut());
                Some(Artifact { source: source.as_mut(), destination: destinations.len() - 1, digest })
            }
            _ => None,
        });
    }
    let uploaded = upload_blobs_ahead(&mut ahead, &mut destinations, request.jobs);
    drop((ahead, destinations));

    let mut batch = Batch::new(request.keep_going, origin.lock.artifacts.len());
    for (index, (artifact, planned)) in origin.lock.artifacts.iter().zip(outcome.moves.clone()).enumerate() {
        let mut copy = || {
            let target_reference = parse_reference(&planned.to)?;
            let mut reopened;
            let (source, destination) = match stores[index].as_mut() {
                Some(pair) => pair,
                None => {
                    reopened = open_pair(&artifact.reference, &planned.to, origin.bundle.as_deref(), options)?;
                    &mut reopened
                }
            };
            copy_between(
                Endpoint {
                    store: source.as_mut(),
                    shown: artifact.reference.clone(),
                    selector: Selector::Digest(artifact.digest.parse()?),
                },
                Endpoint {
                    store: destination.as_mut(),
                    shown: planned.to.clone(),
                    selector: Selector::Tag(target_reference.tag().unwrap_or_default().to_string()),
                },
                None,
                true,
            )
        };
        if let Some(copied) = batch.run(&artifact.reference, &mut copy)? {
            // The blobs uploaded ahead were found present by the copy.
            let ahead = uploaded[index].min(copied.skipped_blobs);
            outcome.copied_blobs += copied.copied_blobs + ahead;
            outcome.mounted_blobs += copied.mounted_blobs;
            outcome.skipped_blobs += copied.skipped_blobs - ahead;
            outcome.referrers += copied.referrers;
        }
    }
    // No relocated manifest names artifacts that are not all in the target.
    batch.finish()?;
    let mut edits = Vec::new();
    for planned in &outcome.moves {
        for (_, span) in spans.iter().filter(|(reference, _)| reference == &planned.from) {
            edits.push((span.bytes.clone(), render(&planned.to, span.quote)));
        }
    }
    let rewritten = apply(&origin.text, edits);
    let check = parse(&rewritten, &request.output.display().to_string())?;
    if check.entries.len() != origin.app.entries.len() {
        return Err(Error::InvalidInput(format!(
            "{}: relocating would change the application",
            request.input.display()
        )));
    }
    // The lock of the relocated manifest: the same artifacts, under their new references.
    let mut lock = origin.lock.clone();
    for (artifact, planned) in lock.artifacts.iter_mut().zip(&outcome.moves) {
        artifact.reference = planned.to.rsplit_once('@').map_or(planned.to.as_str(), |(tagged, _)| tagged).to_string();
        artifact.pinned = planned.to.clone();
    }
    lock.save(&crate::app::lock::default_path(request.output))?;
    crate::fsutil::write_atomic(request.output, rewritten.as_bytes())?;
    outcome.written = true;
    Ok(outcome)
}

/// An artifact's source store and its destination.
type StorePair = (Box<dyn Store>, Box<dyn Store>);

/// The stores an artifact is copied between: its registry (or the bundle), and the target.
fn open_pair(reference: &str, to: &str, bundle: Option<&Path>, options: &RegistryOptions) -> Result<StorePair> {
    let destination = open_store(&parse_reference(to)?, options, Access::PullPush)?;
    let source: Box<dyn Store> = match bundle {
        Some(layout) => Box::new(LayoutStore::open(layout)?),
        None => open_store(&parse_reference(reference)?, options, Access::Pull)?,
    };
    Ok((source, destination))
}

/// `host[:port]` and the repository prefix of `--to`.
fn target(to: &str) -> Result<(String, String)> {
    let to = to.trim().trim_end_matches('/');
    let (host, prefix) = to.split_once('/').unwrap_or((to, ""));
    if host.is_empty() || !crate::reference::names_registry(&format!("{host}/x")) {
        return Err(Error::invalid_reference(to, "--to names a registry host (host[:port][/prefix])"));
    }
    let probe = format!("{host}/{}", if prefix.is_empty() { "x".to_string() } else { format!("{prefix}/x") });
    parse_reference(&probe).map_err(|_| Error::invalid_reference(to, "not a valid registry and repository prefix"))?;
    Ok((host.to_ascii_lowercase(), prefix.to_string()))
}

/// Where the manifest, its lock and the artifacts come from; a tar bundle is unpacked in
/// `scratch` first.
fn origin(input: &Path, scratch: &Path, options: &RegistryOptions, keep_going: bool) -> Result<Origin> {
    if crate::app::tarball::is_tarball(input) {
        let unpacked = unpack(input, scratch)?;
        let mut origin = origin(unpacked.path(), scratch, options, keep_going)?;
        origin._unpacked = Some(unpacked);
        return Ok(origin);
    }
    if input.is_dir() {
        let (text, app, lock) = read_bundle(input)?;
        if app.references().len() != lock.artifacts.len() {
            return Err(Error::InvalidInput(format!(
                "{}: its lock does not list exactly the images its manifest names; bundle the application again",
                input.display()
            )));
        }
        return Ok(Origin { text, app, lock, bundle: Some(input.to_path_buf()), _unpacked: None });
    }
    let (text, app) = read_manifest(input)?;
    let lock = resolve(&app, options, keep_going)?;
    Ok(Origin { text, app, lock, bundle: None, _unpacked: None })
}

/// The tar bundle at `tar` unpacked into a new temporary directory in `scratch`.
pub fn unpack(tar: &Path, scratch: &Path) -> Result<crate::fsutil::TempDir> {
    let unpacked = crate::fsutil::TempDir::new_in(scratch, "bundle-unpacked")?;
    let file = crate::fsutil::open_regular(tar).map_err(|e| Error::io(tar.display(), "read bundle", e))?;
    crate::app::tarball::unpack(std::io::BufReader::new(file), unpacked.path(), &tar.display().to_string())?;
    Ok(unpacked)
}

/// Every image's span, or the reason one cannot be rewritten (before anything moves).
fn spans(app: &AppManifest) -> Result<Vec<(String, ScalarSpan)>> {
    let mut spans = Vec::new();
    for entry in &app.entries {
        if let Source::Image { reference, span } = &entry.source {
            spans.push((reference.clone(), span.clone().map_err(Error::InvalidInput)?));
        }
    }
    Ok(spans)
}
