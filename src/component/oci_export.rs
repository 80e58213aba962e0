//! The typed export `wasmship:packager/oci`: WIT records in, operation
//! requests through [`crate::ops`], WIT results and error variants out.

use std::path::PathBuf;

use super::Packager;
use super::bindings::exports::wasmship::packager0_1_0::oci::{
    ArtifactInfo, DescriptorInfo, Error as WitError, Guest, PullRequest, PullResult, PushRequest, PushResult,
    RegistryOptions,
};
use crate::error::{Error, ErrorKind};
use crate::oci::Descriptor;
use crate::ops;

impl Guest for Packager {
    fn push(request: PushRequest) -> Result<PushResult, WitError> {
        let outcome = ops::push(&ops::PushRequest {
            reference: request.reference,
            file: PathBuf::from(request.file),
            annotations: request.annotations,
            upload: request.chunked.then_some(crate::store::UploadMode::Chunked(ops::push::DEFAULT_CHUNK_SIZE)),
            config: None,
            options: options(request.options),
        })
        .map_err(to_wit)?;
        Ok(PushResult {
            reference: outcome.reference,
            tag: outcome.tag,
            digest: outcome.digest.to_string(),
            size: outcome.size,
            uploaded_blobs: outcome.uploaded_blobs,
            skipped_blobs: outcome.skipped_blobs,
        })
    }

    fn pull(request: PullRequest) -> Result<PullResult, WitError> {
        let outcome = ops::pull(&ops::PullRequest {
            reference: request.reference,
            destination: request.destination.map(PathBuf::from),
            expected_digest: request.expected_digest,
            options: options(request.options),
            cache: Default::default(),
            wasmcloud_host_cache: None,
            link_mode: crate::cache::LinkMode::choose(None).map_err(to_wit)?,
            verify: None,
        })
        .map_err(to_wit)?;
        Ok(PullResult {
            reference: outcome.reference,
            digest: outcome.digest.to_string(),
            destination: outcome.destination.display().to_string(),
            size: outcome.size,
            media_type: outcome.media_type,
        })
    }

    fn inspect(reference: String, options_in: RegistryOptions) -> Result<ArtifactInfo, WitError> {
        let info = ops::inspect(&reference, &options(options_in), &Default::default()).map_err(to_wit)?;
        let component = info.wasm_config.as_ref().and_then(|c| c.component.clone()).unwrap_or_default();
        let mut manifest = descriptor(&info.manifest);
        manifest.annotations = info.annotations.into_iter().collect();
        Ok(ArtifactInfo {
            reference: info.reference,
            manifest,
            config: descriptor(&info.config),
            layers: info.layers.iter().map(descriptor).collect(),
            os: info.wasm_config.as_ref().map(|c| c.os.clone()),
            architecture: info.wasm_config.as_ref().map(|c| c.architecture.clone()),
            created: info.wasm_config.as_ref().and_then(|c| c.created.clone()),
            imports: component.imports,
            exports: component.exports,
        })
    }
}

fn options(o: RegistryOptions) -> ops::RegistryOptions {
    ops::RegistryOptions {
        insecure: o.insecure,
        allow_latest: o.allow_latest,
        credentials: Default::default(),
        mirrors: None,
    }
}

fn descriptor(d: &Descriptor) -> DescriptorInfo {
    DescriptorInfo {
        media_type: d.media_type.clone(),
        digest: d.digest.to_string(),
        size: d.size,
        annotations: d.annotations.iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect(),
    }
}

fn to_wit(e: Error) -> WitError {
    let message = e.to_string();
    match e.kind() {
        ErrorKind::InvalidReference => WitError::InvalidReference(message),
        ErrorKind::InvalidInput => WitError::InvalidInput(message),
        ErrorKind::Usage => WitError::Usage(message),
        ErrorKind::Config => WitError::Config(message),
        ErrorKind::InvalidArchive => WitError::InvalidArchive(message),
        ErrorKind::TooLarge => WitError::TooLarge(message),
        // `wasmship:packager/oci@0.1.0` has no `unverified` case: a failed signature
        // check is the policy that refused the artifact.
        ErrorKind::Policy | ErrorKind::Unverified => WitError::Policy(message),
        ErrorKind::NotFound => WitError::NotFound(message),
        ErrorKind::Unauthorized => WitError::Unauthorized(message),
        ErrorKind::DigestMismatch => WitError::DigestMismatch(message),
        ErrorKind::UnsupportedMediaType => WitError::UnsupportedMediaType(message),
        ErrorKind::Registry => WitError::Registry(message),
        ErrorKind::Transport => WitError::Transport(message),
        ErrorKind::Io => WitError::Io(message),
    }
}
