//! Pull: resolve the manifest (checking an expected digest) and find its one
//! Wasm layer — or its provider archive layer; a layer of the generic OCI tar
//! type is told apart by content. The layer goes under a temporary name next
//! to the destination, verified: a hard link to the cache's sealed blob where
//! possible, else a copy hashed on the way. Only then — and, for a provider
//! archive, once every file hash and the claims' signature check out — is it
//! renamed over the destination.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::RegistryOptions;
use super::fetch::{CacheOptions, DOWNLOAD_ATTEMPTS, Fetched, fetch};
use crate::cache::{LinkMode, PullPolicy, host_compat};
use crate::error::{Error, Result};
use crate::fsutil::{TempFile, parent_dir};
use crate::oci::media_type::{OCI_TAR_LAYER, PROVIDER_ARCHIVE_LAYER, is_wasm_layer};
use crate::oci::{Descriptor, Digest, ImageManifest};
use crate::reference::Reference;
use crate::terminal::Progress;

/// Prefix of the temporary file a pull writes next to its destination.
const PULL_PREFIX: &str = "wasmship-pull";

/// What to pull.
#[derive(Debug, Clone)]
pub struct PullRequest {
    pub reference: String,
    /// File (or existing directory) to write to; default `<name>.wasm`, or
    /// `<name>.par.gz` (`.par` when not gzipped) for a provider archive.
    pub destination: Option<PathBuf>,
    /// Expected manifest digest.
    pub expected_digest: Option<String>,
    pub options: RegistryOptions,
    pub cache: CacheOptions,
    /// Also write the wasmCloud host's own cache entry for the reference into
    /// this directory (the host's `$TMPDIR/wasmcloud_ocicache`).
    pub wasmcloud_host_cache: Option<PathBuf>,
    /// Hard-link the cached layer to the destination, or copy it.
    pub link_mode: LinkMode,
    /// Signatures the artifact must have (`--verify-key`); checked before anything is fetched.
    pub verify: Option<super::verify::Requirement>,
}

/// What a pull did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullOutcome {
    pub reference: String,
    /// Manifest digest.
    pub digest: Digest,
    pub destination: PathBuf,
    /// Layer digest and size.
    pub layer_digest: Digest,
    pub size: u64,
    pub media_type: String,
    /// Whether the content came from the cache without transfer.
    pub from_cache: bool,
    /// Whether the destination is a hard link to the cache's blob.
    pub linked: bool,
}

/// What a pulled layer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LayerKind {
    Wasm,
    ProviderArchive,
    /// A generic tar layer: a provider archive or Wasm, by content.
    ByContent,
}

/// Pull the Wasm layer (or provider archive) of an artifact into a file.
pub fn pull(request: &PullRequest) -> Result<PullOutcome> {
    let (reference, expected) = checked_request(request)?;

    let needs = |manifest: &ImageManifest| -> Result<Vec<Descriptor>> {
        Ok(vec![manifest.config.clone(), select_layer(manifest, &reference)?.0.clone()])
    };
    let mut fetched = fetch(&reference, &request.options, &request.cache, expected.as_ref(), &needs)?;
    super::verify::gate_after_fetch(&reference, &request.cache, request.verify.as_ref(), &fetched)?;
    let (layer, kind) = select_layer(&fetched.resolved.manifest, &reference)?;
    let layer = layer.clone();
    let temp_dir = match request.destination.as_deref() {
        Some(path) if path.is_dir() => path.to_path_buf(),
        Some(path) => parent_dir(path).to_path_buf(),
        None => PathBuf::from("."),
    };
    let destination;

    // The content is verified before (or while) it reaches a temporary name,
    // which is renamed over the destination only then. A download cut off
    // halfway starts over; a cached blob that no longer matches its digest is
    // dropped and fetched again.
    let expected_destination = match (request.destination.as_deref(), kind) {
        (Some(path), _) if !path.is_dir() => Some(path.to_path_buf()),
        (_, LayerKind::Wasm) => Some(destination_for(request.destination.as_deref(), &reference, Content::Wasm)),
        _ => None,
    };
    let mut attempt = 1;
    let mut refetched = false;
    let linked;
    loop {
        let replacing = expected_destination.as_deref();
        match hand_out(&mut fetched, &layer, &temp_dir, request.link_mode, replacing, &reference) {
            Ok((tmp, is_link)) => {
                let content = check_content(tmp.path(), kind, &reference)?;
                destination = destination_for(request.destination.as_deref(), &reference, content);
                tmp.persist(&destination)?;
                linked = is_link;
                break;
            }
            Err(Error::Transport { .. }) if attempt < DOWNLOAD_ATTEMPTS => attempt += 1,
            // A drain or prune in another process took the cached blob: read it from the
            // registry directly, as with --no-cache.
            Err(e)
                if request.cache.policy != PullPolicy::Never
                    && fetched.cache_dir.as_deref().is_some_and(|dir| crate::cache::vanished_from(dir, &e)) =>
            {
                let direct = CacheOptions { disabled: true, ..request.cache.clone() };
                fetched = fetch(&reference, &request.options, &direct, expected.as_ref(), &needs)?;
            }
            Err(e @ (Error::DigestMismatch { .. } | Error::SizeMismatch { .. }))
                if !refetched && request.cache.policy != PullPolicy::Never =>
            {
                let Some(cache_dir) = fetched.cache_dir.as_deref() else { return Err(e) };
                eprintln!("note: {e}; removing it from the cache and fetching it again");
                crate::cache::Cache::open(cache_dir)?.remove_blob(&layer.digest)?;
                fetched = fetch(&reference, &request.options, &request.cache, expected.as_ref(), &needs)?;
                refetched = true;
            }
            Err(e) => return Err(e),
        }
    }

    if let Some(dir) = request.wasmcloud_host_cache.as_deref() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), "create directory", e))?;
        host_compat::write_entry(dir, &reference.to_string(), &destination, &fetched.resolved.top.digest)?;
    }

    Ok(PullOutcome {
        reference: reference.to_string(),
        digest: fetched.resolved.top.digest,
        destination,
        layer_digest: layer.digest.clone(),
        size: layer.size,
        media_type: layer.media_type,
        from_cache: !fetched.from_network,
        linked,
    })
}

/// The request's reference, checked against the `:latest` policy, and the manifest digest
/// to expect (given, or the one its required signatures verified) before anything is fetched.
fn checked_request(request: &PullRequest) -> Result<(Reference, Option<Digest>)> {
    let reference = super::parse_reference(&request.reference)?;
    reference.check_latest_policy("pulling", request.options.allow_latest)?;
    let expected = request.expected_digest.as_deref().map(str::parse::<Digest>).transpose()?;
    let expected = super::verify::gate_before_fetch(
        &reference,
        &request.options,
        &request.cache,
        request.verify.as_ref(),
        expected,
    )?;
    Ok((reference, expected))
}

/// What [`pull_into`] handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerOutcome {
    pub reference: String,
    /// Manifest digest.
    pub digest: Digest,
    /// The layer written.
    pub layer: Descriptor,
    /// Whether the content came from the cache without transfer.
    pub from_cache: bool,
}

/// Where [`pull_into`] writes the layer.
pub enum LayerSink<'a> {
    /// Into memory, for a layer of at most `max_size` bytes (refused before it is
    /// fetched otherwise). A provider archive is checked like a pulled file; a download
    /// cut off halfway starts over.
    Memory { max_size: u64, bytes: &'a mut Vec<u8> },
    /// Into a stream as the bytes arrive, hashed on the way: a mismatch is reported after
    /// the bytes were written (through the cache, only bytes verified when they were
    /// cached are written).
    Stream(&'a mut dyn Write),
}

/// Pull the layer of an artifact (as [`pull`] selects it) into memory or a stream
/// instead of a file, through the cache as `request.cache` says.
/// `request.destination` and `link_mode` do not apply.
pub fn pull_into(request: &PullRequest, sink: LayerSink<'_>) -> Result<LayerOutcome> {
    let (reference, expected) = checked_request(request)?;
    let max_size = match &sink {
        LayerSink::Memory { max_size, .. } => Some(*max_size),
        LayerSink::Stream(_) => None,
    };
    let needs = |manifest: &ImageManifest| -> Result<Vec<Descriptor>> {
        let layer = select_layer(manifest, &reference)?.0;
        if let Some(limit) = max_size.filter(|limit| layer.size > *limit) {
            return Err(Error::SizeLimitExceeded {
                what: format!("the layer of {reference} ({} bytes)", layer.size),
                limit,
            });
        }
        Ok(vec![manifest.config.clone(), layer.clone()])
    };
    let mut fetched = fetch(&reference, &request.options, &request.cache, expected.as_ref(), &needs)?;
    super::verify::gate_after_fetch(&reference, &request.cache, request.verify.as_ref(), &fetched)?;
    let (layer, kind) = select_layer(&fetched.resolved.manifest, &reference)?;
    let layer = layer.clone();
    match sink {
        LayerSink::Stream(out) => fetched.store.blob_get(&layer, out)?,
        LayerSink::Memory { bytes, .. } => {
            let mut attempt = 1;
            loop {
                bytes.clear();
                match fetched.store.blob_get(&layer, bytes) {
                    Ok(()) => break,
                    Err(Error::Transport { .. }) if attempt < DOWNLOAD_ATTEMPTS => attempt += 1,
                    Err(e) => return Err(e),
                }
            }
            check_archive_bytes(bytes, kind, &reference)?;
        }
    }
    Ok(LayerOutcome {
        reference: reference.to_string(),
        digest: fetched.resolved.top.digest,
        layer,
        from_cache: !fetched.from_network,
    })
}

/// [`check_content`] for a layer held in memory.
fn check_archive_bytes(bytes: &[u8], kind: LayerKind, reference: &Reference) -> Result<()> {
    if is_archive(kind, &bytes[..bytes.len().min(512)], reference)? {
        let what = format!("the provider archive of {reference}");
        super::provider_info::read_archive(bytes, &what)?.archive.require_valid()?;
    }
    Ok(())
}

/// Whether a layer of `kind` is a provider archive, a generic tar layer told by its first
/// bytes `head`; one that is neither Wasm nor an archive is refused.
fn is_archive(kind: LayerKind, head: &[u8], reference: &Reference) -> Result<bool> {
    match kind {
        LayerKind::Wasm => Ok(false),
        LayerKind::ProviderArchive => Ok(true),
        LayerKind::ByContent if head.starts_with(b"\0asm") => Ok(false),
        LayerKind::ByContent if crate::provider::looks_like_archive(head) => Ok(true),
        LayerKind::ByContent => Err(Error::UnsupportedMediaType {
            media_type: OCI_TAR_LAYER.to_string(),
            context: format!("{reference}: the layer is neither a provider archive nor Wasm"),
        }),
    }
}

/// The layer under a temporary name in `dir` (to be renamed over
/// `replacing`, when known), verified: a hard link to the store's blob where
/// `mode` and the store allow it (whether it is one comes back too), else a
/// copy hashed on the way.
fn hand_out(
    fetched: &mut Fetched,
    layer: &Descriptor,
    dir: &Path,
    mode: LinkMode,
    replacing: Option<&Path>,
    reference: &Reference,
) -> Result<(TempFile, bool)> {
    crate::fsutil::sweep_stale_temporaries(dir, PULL_PREFIX);
    if mode == LinkMode::Hardlink
        && let Some(link) = fetched.store.blob_link(layer, dir, replacing)?
    {
        return Ok((link, true));
    }
    crate::config::limits::ensure_space(dir, layer.size, &format!("pulling {reference}"))?;
    let mut tmp = TempFile::new_in(dir, PULL_PREFIX)?;
    let label = format!("downloading {}", reference.short_name());
    tmp.write_buffered(|out| fetched.store.blob_get(layer, &mut Progress::new(out, label, layer.size)))?;
    Ok((tmp, false))
}

/// The single Wasm layer of a manifest.
pub fn wasm_layer<'m>(manifest: &'m ImageManifest, reference: &Reference) -> Result<&'m Descriptor> {
    let wasm: Vec<&Descriptor> = manifest.layers.iter().filter(|l| is_wasm_layer(&l.media_type)).collect();
    match wasm.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::UnsupportedMediaType {
            media_type: manifest.layers.iter().map(|l| l.media_type.as_str()).collect::<Vec<_>>().join(", "),
            context: format!("{reference}: no application/wasm layer, so this is not a Wasm component artifact"),
        }),
        many => Err(Error::InvalidInput(format!(
            "{reference}: {} Wasm layers; a Wasm artifact has exactly one, so refusing to guess",
            many.len()
        ))),
    }
}

/// What the downloaded file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    Wasm,
    /// A provider archive, gzipped or not.
    ProviderArchive {
        compressed: bool,
    },
}

/// Check what was downloaded: a provider archive must verify (hashes and
/// signature); a generic tar layer must be a provider archive or Wasm.
fn check_content(path: &Path, kind: LayerKind, reference: &Reference) -> Result<Content> {
    let mut head = Vec::with_capacity(512);
    if kind == LayerKind::ByContent {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path.display(), "open", e))?;
        std::io::Read::read_to_end(&mut std::io::Read::take(file, 512), &mut head)
            .map_err(|e| Error::io(path.display(), "read", e))?;
    }
    if !is_archive(kind, &head, reference)? {
        return Ok(Content::Wasm);
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path.display(), "open", e))?;
    let what = format!("the provider archive of {reference}");
    let read = super::provider_info::read_archive(std::io::BufReader::new(file), &what)?;
    read.archive.require_valid()?;
    Ok(Content::ProviderArchive { compressed: read.compressed })
}

/// The layer to pull: the one Wasm layer, else the one provider archive
/// layer, else the one generic tar layer (decided by content).
fn select_layer<'m>(manifest: &'m ImageManifest, reference: &Reference) -> Result<(&'m Descriptor, LayerKind)> {
    if manifest.layers.iter().any(|l| is_wasm_layer(&l.media_type)) {
        return Ok((wasm_layer(manifest, reference)?, LayerKind::Wasm));
    }
    for (media_type, kind) in
        [(PROVIDER_ARCHIVE_LAYER, LayerKind::ProviderArchive), (OCI_TAR_LAYER, LayerKind::ByContent)]
    {
        let layers: Vec<&Descriptor> = manifest.layers.iter().filter(|l| l.media_type == media_type).collect();
        match layers.as_slice() {
            [one] => return Ok((one, kind)),
            [] => {}
            many => {
                return Err(Error::InvalidInput(format!(
                    "{reference}: {} layers of type {media_type}; refusing to guess which to pull",
                    many.len()
                )));
            }
        }
    }
    wasm_layer(manifest, reference).map(|l| (l, LayerKind::Wasm)).map_err(|_| Error::UnsupportedMediaType {
        media_type: manifest.layers.iter().map(|l| l.media_type.as_str()).collect::<Vec<_>>().join(", "),
        context: format!(
            "{reference}: neither a Wasm layer (application/wasm) nor a provider archive layer \
                 ({PROVIDER_ARCHIVE_LAYER})"
        ),
    })
}

fn destination_for(requested: Option<&Path>, reference: &Reference, content: Content) -> PathBuf {
    let extension = match content {
        Content::Wasm => "wasm",
        Content::ProviderArchive { compressed: true } => "par.gz",
        Content::ProviderArchive { compressed: false } => "par",
    };
    let default_name = format!("{}.{extension}", reference.short_name());
    match requested {
        Some(path) if path.is_dir() => path.join(default_name),
        Some(path) => path.to_path_buf(),
        None => PathBuf::from(default_name),
    }
}
