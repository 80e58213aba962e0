//! The typed export `wasmship:packager/client@0.2.0`: the `client` resource holds the
//! options (policies, credentials, cache) and each method runs the operation the CLI
//! command of the same name runs, WIT records in and out.

use std::path::PathBuf;

use super::Packager;
use super::bindings::exports::wasmship::packager0_2_0::client::{
    ArtifactInfo, CopyOptions, CopyResult, Guest, GuestClient, PullOptions, PullResult, PushOptions, PushResult,
};
use super::bindings::exports::wasmship::packager0_2_0::types::{
    CachePolicy, ClientOptions, Credential, Descriptor as WitDescriptor, Error as WitError,
};
use super::bindings::wasi::io::streams::{InputStream, OutputStream};
use super::caller_streams::{StreamReader, StreamWriter};
use super::errors::to_wit;
use crate::auth::Secret;
use crate::cache::{LinkMode, PullPolicy};
use crate::config::ExplicitCredentials;
use crate::oci::Descriptor;
use crate::ops::fetch::CacheOptions;
use crate::ops::{self, LayerSink, RegistryOptions};

/// The most `pull` holds in memory unless `max-size` says otherwise.
const DEFAULT_MAX_PULL: u64 = 256 * 1024 * 1024;

impl Guest for Packager {
    type Client = Client;
}

/// A `client` resource: the options every call of it runs with.
pub struct Client {
    pub(super) registry: RegistryOptions,
    pub(super) cache: CacheOptions,
}

impl GuestClient for Client {
    fn new(options: ClientOptions) -> Self {
        let only = options.credentials.map(|list| {
            list.into_iter()
                .map(|given| {
                    let credential = match given.credential {
                        Credential::Basic(basic) => crate::auth::Credential::Basic {
                            username: basic.username,
                            password: Secret::new(basic.password),
                        },
                        Credential::Bearer(token) => crate::auth::Credential::Bearer(Secret::new(token)),
                    };
                    (given.registry, credential)
                })
                .collect()
        });
        let (policy, disabled) = match options.cache {
            CachePolicy::Revalidate => (PullPolicy::Revalidate, false),
            CachePolicy::Always => (PullPolicy::Always, false),
            CachePolicy::IfNotPresent => (PullPolicy::IfNotPresent, false),
            CachePolicy::Offline => (PullPolicy::Never, false),
            CachePolicy::Bypass => (PullPolicy::Revalidate, true),
        };
        Client {
            registry: RegistryOptions {
                insecure: options.insecure.iter().map(|h| h.to_ascii_lowercase()).collect(),
                allow_latest: options.allow_latest,
                credentials: ExplicitCredentials { user: None, password: None, only },
                mirrors: None,
            },
            cache: CacheOptions { policy, dir: options.cache_dir.map(PathBuf::from), disabled },
        }
    }

    fn push(&self, reference: String, content: Vec<u8>, options: PushOptions) -> Result<PushResult, WitError> {
        let request = self.push_request(reference, None, options);
        ops::push_bytes(&request, content).map(push_result).map_err(to_wit)
    }

    fn push_file(&self, reference: String, path: String, options: PushOptions) -> Result<PushResult, WitError> {
        let request = self.push_request(reference, Some(PathBuf::from(path)), options);
        ops::push(&request).map(push_result).map_err(to_wit)
    }

    fn push_from(&self, reference: String, input: &InputStream, options: PushOptions) -> Result<PushResult, WitError> {
        let request = self.push_request(reference, None, options);
        ops::push_stream(&request, &mut StreamReader(input)).map(push_result).map_err(to_wit)
    }

    fn pull(&self, reference: String, options: PullOptions) -> Result<(PullResult, Vec<u8>), WitError> {
        let max_size = options.max_size.unwrap_or(DEFAULT_MAX_PULL);
        let request = self.pull_request(reference, None, options.expected_digest);
        let mut bytes = Vec::new();
        let outcome = ops::pull_into(&request, LayerSink::Memory { max_size, bytes: &mut bytes }).map_err(to_wit)?;
        Ok((layer_result(outcome), bytes))
    }

    fn pull_file(
        &self,
        reference: String,
        destination: Option<String>,
        options: PullOptions,
    ) -> Result<PullResult, WitError> {
        let mut request = self.pull_request(reference, destination.map(PathBuf::from), options.expected_digest);
        request.link_mode = LinkMode::choose(None).map_err(to_wit)?;
        let outcome = ops::pull(&request).map_err(to_wit)?;
        Ok(PullResult {
            reference: outcome.reference,
            digest: outcome.digest.to_string(),
            layer: WitDescriptor {
                media_type: outcome.media_type,
                digest: outcome.layer_digest.to_string(),
                size: outcome.size,
                annotations: Vec::new(),
            },
            from_cache: outcome.from_cache,
            destination: Some(outcome.destination.display().to_string()),
        })
    }

    fn pull_into(
        &self,
        reference: String,
        output: &OutputStream,
        options: PullOptions,
    ) -> Result<PullResult, WitError> {
        let request = self.pull_request(reference, None, options.expected_digest);
        let mut writer = StreamWriter(output);
        let outcome = ops::pull_into(&request, LayerSink::Stream(&mut writer)).map_err(to_wit)?;
        std::io::Write::flush(&mut writer)
            .map_err(|e| to_wit(crate::error::Error::io("the output stream", "write", e)))?;
        Ok(layer_result(outcome))
    }

    fn inspect(&self, reference: String) -> Result<ArtifactInfo, WitError> {
        let info = ops::inspect(&reference, &self.registry, &self.cache).map_err(to_wit)?;
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
            provider: info.provider.map(super::providers_export::provider_info),
        })
    }

    fn tags(&self, reference: String) -> Result<Vec<String>, WitError> {
        ops::tags(&reference, &self.registry).map_err(to_wit)
    }

    fn copy(&self, source: String, target: String, options: CopyOptions) -> Result<CopyResult, WitError> {
        let outcome =
            ops::copy::copy_with(&source, &target, options.include_referrers, None, &self.registry).map_err(to_wit)?;
        Ok(CopyResult {
            source: outcome.source,
            target: outcome.destination,
            tag: outcome.tag,
            digest: outcome.digest.map(|d| d.to_string()),
            copied_blobs: outcome.copied_blobs,
            mounted_blobs: outcome.mounted_blobs,
            skipped_blobs: outcome.skipped_blobs,
            referrers: outcome.referrers,
        })
    }
}

impl Client {
    /// The push of `file`, or of content that is not a file (named by the title, else
    /// after the repository).
    fn push_request(&self, reference: String, file: Option<PathBuf>, options: PushOptions) -> ops::PushRequest {
        let file = match (file, options.title) {
            (Some(file), _) => file,
            (None, Some(title)) => PathBuf::from(title),
            (None, None) => PathBuf::from(default_title(&reference)),
        };
        ops::PushRequest {
            reference,
            file,
            annotations: options.annotations,
            upload: options.chunked.then_some(crate::store::UploadMode::Chunked(ops::push::DEFAULT_CHUNK_SIZE)),
            config: None,
            options: self.registry.clone(),
        }
    }

    fn pull_request(
        &self,
        reference: String,
        destination: Option<PathBuf>,
        expected_digest: Option<String>,
    ) -> ops::PullRequest {
        ops::PullRequest {
            reference,
            destination,
            expected_digest,
            options: self.registry.clone(),
            cache: self.cache.clone(),
            wasmcloud_host_cache: None,
            link_mode: LinkMode::Copy,
            verify: None,
        }
    }
}

/// `<repository's last segment>.wasm`, the title of bytes pushed without one (a reference
/// that does not parse fails the push itself).
fn default_title(reference: &str) -> String {
    let name = ops::parse_reference(reference).map(|r| r.short_name().to_owned());
    format!("{}.wasm", name.as_deref().unwrap_or("component"))
}

fn push_result(outcome: ops::PushOutcome) -> PushResult {
    PushResult {
        reference: outcome.reference,
        tag: outcome.tag,
        digest: outcome.digest.to_string(),
        size: outcome.size,
        uploaded_blobs: outcome.uploaded_blobs,
        skipped_blobs: outcome.skipped_blobs,
    }
}

fn layer_result(outcome: ops::LayerOutcome) -> PullResult {
    PullResult {
        reference: outcome.reference,
        digest: outcome.digest.to_string(),
        layer: descriptor(&outcome.layer),
        from_cache: outcome.from_cache,
        destination: None,
    }
}

pub(super) fn descriptor(d: &Descriptor) -> WitDescriptor {
    WitDescriptor {
        media_type: d.media_type.clone(),
        digest: d.digest.to_string(),
        size: d.size,
        annotations: d.annotations.iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect(),
    }
}
