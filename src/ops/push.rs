//! Push: analyse the file — a Wasm component or module, or a wasmCloud
//! provider archive (verified before anything is uploaded) — build its
//! artifact, upload the blobs the store does not have yet (streaming the
//! file), then put the manifest.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::{RegistryOptions, open_store};
use crate::artifact::build::rfc3339_utc;
use crate::artifact::provider::{ProviderArtifact, build_provider_artifact};
use crate::artifact::{ArtifactPlan, BuildOptions, WasmFile, analyze, build_artifact};
use crate::auth::Access;
use crate::error::{Error, Result};
use crate::oci::Digest;
use crate::reference::Reference;
use crate::store::{BlobSource, BlobWriter, Store, UploadMode};
use crate::terminal::Progress;

/// Blobs larger than this are uploaded in chunks even when not asked.
pub const CHUNKED_THRESHOLD: u64 = 256 * 1024 * 1024;
/// Chunk size when chunking is chosen without a size.
pub const DEFAULT_CHUNK_SIZE: u64 = 16 * 1024 * 1024;

/// What to push.
#[derive(Debug, Clone)]
pub struct PushRequest {
    pub reference: String,
    pub file: PathBuf,
    pub annotations: Vec<(String, String)>,
    /// How to upload the Wasm file; `None` picks by size.
    pub upload: Option<UploadMode>,
    /// The config blob of a provider archive (`{}` when none).
    pub config: Option<PathBuf>,
    pub options: RegistryOptions,
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    /// The normalised reference pushed to.
    pub reference: String,
    pub tag: Option<String>,
    /// Manifest digest.
    pub digest: Digest,
    /// Manifest size in bytes.
    pub size: u64,
    pub uploaded_blobs: u32,
    pub skipped_blobs: u32,
}

/// Push one Wasm file as a CNCF Wasm OCI artifact, or a provider archive as
/// wasmCloud's provider artifact.
pub fn push(request: &PushRequest) -> Result<PushOutcome> {
    push_with(request, |_| {})
}

/// [`push`], with `adjust` correcting what the analysis found before the
/// artifact is built (a binary WIT package lists its worlds and interfaces
/// as exports).
pub fn push_with(request: &PushRequest, adjust: impl FnOnce(&mut WasmFile)) -> Result<PushOutcome> {
    let reference = checked_reference(request)?;
    let path = &request.file;
    let plan = match file_kind(path)? {
        FileKind::Wasm => {
            if let Some(config) = &request.config {
                return Err(Error::InvalidInput(format!(
                    "--config {} applies to provider archives; {} is a Wasm file, whose config is generated",
                    config.display(),
                    path.display()
                )));
            }
            let mut file = analyze(&path.display().to_string(), &mut BufReader::new(open(path)?))?;
            adjust(&mut file);
            wasm_artifact(request, &file)?
        }
        FileKind::ProviderArchive => {
            provider_plan(request, BufReader::with_capacity(256 * 1024, open(path)?), &path.display().to_string())?
        }
    };
    let source = FileSource { path, size: plan.layer_descriptor.size };
    store_artifact(&reference, request, &plan, &source)
}

/// [`push_with`] for Wasm bytes held in memory (a binary WIT package built on the fly):
/// `request.file` only names the layer (its title); nothing is read from it.
pub fn push_wasm_bytes(
    request: &PushRequest,
    bytes: Vec<u8>,
    adjust: impl FnOnce(&mut WasmFile),
) -> Result<PushOutcome> {
    let reference = checked_reference(request)?;
    let mut file = analyze(&request.file.display().to_string(), &mut bytes.as_slice())?;
    adjust(&mut file);
    let plan = wasm_artifact(request, &file)?;
    store_artifact(&reference, request, &plan, &bytes)
}

/// [`push`] for content held in memory (the typed API): a Wasm binary, or a provider
/// archive (gzip or tar), told apart by its first bytes. `request.file` only names the
/// layer (its title); nothing is read from it.
pub fn push_bytes(request: &PushRequest, bytes: Vec<u8>) -> Result<PushOutcome> {
    let head = &bytes[..bytes.len().min(512)];
    if head.starts_with(b"\0asm") || !crate::provider::looks_like_archive(head) {
        return push_wasm_bytes(request, bytes, |_| {});
    }
    let reference = checked_reference(request)?;
    let plan = provider_plan(request, bytes.as_slice(), "the provider archive given")?;
    store_artifact(&reference, request, &plan, &bytes)
}

/// The request's reference, parsed and checked against the `:latest` policy, with its
/// annotation keys checked.
fn checked_reference(request: &PushRequest) -> Result<Reference> {
    let reference = super::parse_reference(&request.reference)?;
    reference.check_latest_policy("pushing", request.options.allow_latest)?;
    for (key, _) in &request.annotations {
        if key.trim().is_empty() {
            return Err(Error::Usage("annotation keys must not be empty (use -a key=value)".into()));
        }
    }
    Ok(reference)
}

/// The CNCF Wasm artifact of an analysed Wasm file.
fn wasm_artifact(request: &PushRequest, file: &WasmFile) -> Result<ArtifactPlan> {
    let options = BuildOptions {
        file_name: file_name(&request.file),
        created: created_time()?,
        annotations: request.annotations.clone(),
    };
    Ok(build_artifact(file, &options))
}

/// Uploads what `reference`'s store lacks of `plan` (the layer from `layer`), then the
/// manifest.
fn store_artifact(
    reference: &Reference,
    request: &PushRequest,
    plan: &ArtifactPlan,
    layer: &dyn BlobSource,
) -> Result<PushOutcome> {
    check_named_digest(reference, plan)?;
    let mut store = open_store(reference, &request.options, Access::PullPush)?;
    let mut counts = Counts::default();
    put_config(store.as_mut(), plan, &mut counts)?;
    if store.blob_exists(&plan.layer_descriptor.digest)? {
        counts.skipped += 1;
    } else {
        let mode = upload_mode(request.upload, plan.layer_descriptor.size);
        store.blob_put(&plan.layer_descriptor, layer, mode)?;
        counts.uploaded += 1;
    }
    put_manifest(reference, store.as_mut(), plan, counts)
}

/// [`push`] of a Wasm binary read once, to its end, from `input` (the typed API's
/// streams): analysed, hashed and written to the store as it arrives, so any size passes
/// in the memory of one upload chunk. The layer is always sent: its digest is known only
/// at the end. `request.file` only names the layer.
pub fn push_stream(request: &PushRequest, input: &mut dyn Read) -> Result<PushOutcome> {
    let reference = checked_reference(request)?;
    let mut store = open_store(&reference, &request.options, Access::PullPush)?;
    let plan = {
        let mut writer = store.blob_writer()?;
        let mut through = WriteThrough { input, writer: writer.as_mut(), failed: None };
        let analysed = analyze(&request.file.display().to_string(), &mut through);
        if let Some(failed) = through.failed.take() {
            return Err(failed);
        }
        let plan = wasm_artifact(request, &analysed?)?;
        check_named_digest(&reference, &plan)?;
        writer.finish(&plan.layer_descriptor)?;
        plan
    };
    let mut counts = Counts { uploaded: 1, skipped: 0 };
    put_config(store.as_mut(), &plan, &mut counts)?;
    put_manifest(&reference, store.as_mut(), &plan, counts)
}

/// A reader that hands every byte it reads to a [`BlobWriter`] too; the writer's error
/// is kept whole for the caller.
struct WriteThrough<'a> {
    input: &'a mut dyn Read,
    writer: &'a mut dyn BlobWriter,
    failed: Option<Error>,
}

impl Read for WriteThrough<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.input.read(buf)?;
        if n > 0
            && let Err(e) = self.writer.write(&buf[..n])
        {
            let message = e.to_string();
            self.failed = Some(e);
            return Err(std::io::Error::other(message));
        }
        Ok(n)
    }
}

/// Blobs uploaded, and blobs the store had already.
#[derive(Default)]
struct Counts {
    uploaded: u32,
    skipped: u32,
}

/// A reference that names a digest must name the manifest's.
fn check_named_digest(reference: &Reference, plan: &ArtifactPlan) -> Result<()> {
    match reference.digest() {
        Some(digest) if digest != &plan.manifest.digest => Err(Error::DigestMismatch {
            what: format!("manifest for {reference}"),
            expected: digest.to_string(),
            actual: plan.manifest.digest.to_string(),
        }),
        _ => Ok(()),
    }
}

fn put_config(store: &mut dyn Store, plan: &ArtifactPlan, counts: &mut Counts) -> Result<()> {
    if store.blob_exists(&plan.config_descriptor.digest)? {
        counts.skipped += 1;
    } else {
        store.blob_put(&plan.config_descriptor, &plan.config, UploadMode::Monolithic)?;
        counts.uploaded += 1;
    }
    Ok(())
}

/// Put the manifest (every blob is in the store) under the reference's tag.
fn put_manifest(
    reference: &Reference,
    store: &mut dyn Store,
    plan: &ArtifactPlan,
    counts: Counts,
) -> Result<PushOutcome> {
    // An untagged reference (allowed with --allow-latest) means `latest`, as
    // it does for pull; a digest-only reference stores the manifest untagged.
    let tag = match (reference.tag(), reference.digest()) {
        (Some(tag), _) => Some(tag),
        (None, Some(_)) => None,
        (None, None) => Some("latest"),
    };
    store.manifest_put(&plan.manifest, tag)?;
    Ok(PushOutcome {
        reference: reference.to_string(),
        tag: tag.map(str::to_string),
        digest: plan.manifest.digest.clone(),
        size: plan.manifest.bytes.len() as u64,
        uploaded_blobs: counts.uploaded,
        skipped_blobs: counts.skipped,
    })
}

/// What a file to push is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Wasm,
    ProviderArchive,
}

/// Decide by name and content together: a `.par`/`.par.gz` must be a gzip or
/// tar, a Wasm binary must not be named like an archive; a gzip or tar under
/// any other name is read as a provider archive too. Anything else is taken
/// as Wasm, whose analysis says what is wrong with it.
fn file_kind(path: &Path) -> Result<FileKind> {
    let mut head = Vec::with_capacity(512);
    open(path)?.take(512).read_to_end(&mut head).map_err(|e| Error::io(path.display(), "read", e))?;
    let name = file_name(path).to_ascii_lowercase();
    let par_name = name.ends_with(".par") || name.ends_with(".par.gz");
    let wasm = head.starts_with(b"\0asm");
    let archive = crate::provider::looks_like_archive(&head);
    match (par_name, wasm, archive) {
        (true, true, _) => Err(Error::InvalidInput(format!(
            "{} is named like a provider archive but is a Wasm binary; rename it to .wasm",
            path.display()
        ))),
        (true, false, false) => {
            Err(Error::InvalidArchive { what: path.display().to_string(), reason: "neither gzip nor tar".into() })
        }
        (_, false, true) => Ok(FileKind::ProviderArchive),
        _ => Ok(FileKind::Wasm),
    }
}

/// Verify the archive `source` holds (every hash and the signature) and build its artifact.
fn provider_plan(request: &PushRequest, source: impl Read, what: &str) -> Result<ArtifactPlan> {
    let read = super::provider_info::read_archive(source, what)?;
    read.archive.require_valid()?;
    let config = match &request.config {
        Some(config) => read_config(config)?,
        None => b"{}".to_vec(),
    };
    let claims = read.archive.claims();
    let metadata = claims.metadata()?;
    Ok(build_provider_artifact(&ProviderArtifact {
        archive_digest: read.digest,
        archive_size: read.size,
        file_name: file_name(&request.file),
        config,
        name: metadata.name.as_deref(),
        vendor: &metadata.vendor,
        version: metadata.ver.as_deref(),
        created: created_time()?,
        annotations: &request.annotations,
    }))
}

/// The Wasm file as an upload source: each attempt reads it afresh.
struct FileSource<'a> {
    path: &'a Path,
    size: u64,
}

impl BlobSource for FileSource<'_> {
    fn open(&self) -> Result<Box<dyn Read + '_>> {
        let reader = BufReader::with_capacity(256 * 1024, open(self.path)?);
        Ok(Box::new(Progress::new(reader, format!("uploading {}", file_name(self.path)), self.size)))
    }
}

/// The most a `--config` blob may hold (a provider's config is a small JSON object).
const MAX_CONFIG_SIZE: u64 = 1 << 20;

/// A `--config` file: a regular file (not a device or a pipe) of at most
/// [`MAX_CONFIG_SIZE`] bytes holding JSON.
fn read_config(path: &Path) -> Result<Vec<u8>> {
    let bytes = crate::fsutil::read_regular_at_most(path, MAX_CONFIG_SIZE).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidInput => Error::InvalidInput(format!("--config {}: {e}", path.display())),
        std::io::ErrorKind::InvalidData => {
            Error::SizeLimitExceeded { what: format!("--config {}", path.display()), limit: MAX_CONFIG_SIZE }
        }
        _ => Error::io(path.display(), "read config", e),
    })?;
    if let Err(e) = serde_json::from_slice::<serde_json::Value>(&bytes) {
        return Err(Error::InvalidInput(format!("--config {}: not JSON ({e})", path.display())));
    }
    Ok(bytes)
}

fn upload_mode(requested: Option<UploadMode>, size: u64) -> UploadMode {
    match requested {
        Some(mode) => mode,
        None if size > CHUNKED_THRESHOLD => UploadMode::Chunked(DEFAULT_CHUNK_SIZE),
        None => UploadMode::Monolithic,
    }
}

fn open(path: &Path) -> Result<File> {
    crate::fsutil::open_regular(path).map_err(|e| Error::io(path.display(), "open", e))
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "component.wasm".to_string())
}

/// `SOURCE_DATE_EPOCH` when set (reproducible builds), else now.
fn created_time() -> Result<String> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => {
            let seconds = value.trim().parse::<u64>().map_err(|_| {
                Error::InvalidInput(format!(
                    "SOURCE_DATE_EPOCH={value:?} is not a number of seconds since 1970; unset it or fix it"
                ))
            })?;
            Ok(rfc3339_utc(seconds))
        }
        Err(_) => {
            let now =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            Ok(rfc3339_utc(now))
        }
    }
}
