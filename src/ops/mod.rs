//! The packager's operations — push, pull, inspect, copy, sign, verify — shared by the CLI and
//! the typed `wasmship:packager/oci` export. Each takes a request struct and
//! returns an outcome or a typed [`Error`](crate::Error).

pub mod attach;
pub mod copy;
pub mod discover;
pub mod fetch;
pub mod inspect;
pub mod overlap;
pub mod par;
pub mod provider_info;
pub mod pull;
pub mod push;
pub mod referrers;
pub mod resolve;
pub mod sign;
mod tags;
pub mod verify;

pub use copy::{CopyOutcome, copy};
pub use inspect::{ArtifactInfo, inspect};
pub use pull::{LayerOutcome, LayerSink, PullOutcome, PullRequest, pull, pull_into};
pub use push::{PushOutcome, PushRequest, push, push_bytes, push_stream};
pub use tags::tags;

use crate::auth::Access;
use crate::config::wasmcloud::ProjectConfig;
use crate::config::{ExplicitCredentials, credential_for};
use crate::error::Result;
use crate::http::default_transport;
use crate::mirror::{Endpoint, Route};
use crate::reference::{LAYOUT_SCHEME, Reference, names_registry};
use crate::store::Store;
use crate::store::layout::LayoutStore;
use crate::store::mirrored::{MirroredStore, Source};
use crate::store::registry::{ClientOptions, EndpointOptions, RegistryClient, RegistryStore};

/// How registries are reached and which references are allowed.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Hosts reached over plain HTTP (loopback always is).
    pub insecure: Vec<String>,
    /// Allow `:latest` and untagged references for push and pull.
    pub allow_latest: bool,
    /// Credentials given explicitly (flags); others come from configuration.
    pub credentials: ExplicitCredentials,
    /// Mirrors pulls may go through (`registries.conf`, `hosts.toml`).
    pub mirrors: Option<std::sync::Arc<crate::mirror::Mirrors>>,
}

/// Parse a reference; one without a registry host resolves against the
/// project's `wasmcloud.toml` `[registry] url` when there is one.
pub fn parse_reference(input: &str) -> Result<Reference> {
    let input = input.trim();
    if !input.starts_with(LAYOUT_SCHEME)
        && !names_registry(input)
        && let Some(url) = ProjectConfig::load().and_then(|p| p.registry_url.clone())
    {
        return Reference::parse(&format!("{url}/{input}"));
    }
    Reference::parse(input)
}

/// Open the store a reference names, for `access`. Layouts are created on
/// demand for pushes; otherwise they must exist.
pub fn open_store(reference: &Reference, options: &RegistryOptions, access: Access) -> Result<Box<dyn Store>> {
    match reference {
        Reference::Registry(r) => {
            if access == Access::Pull
                && let Some(mirrors) = &options.mirrors
                && let Some(route) = mirrors.route(r)?
            {
                return Ok(Box::new(mirrored_store(route, options)));
            }
            let mut insecure = options.insecure.clone();
            if access == Access::PullPush
                && let Some(project) = ProjectConfig::load()
                && project.push_insecure
                && project.registry_url.as_deref() == Some(r.registry.as_str())
            {
                insecure.push(r.registry.clone());
            }
            let credential = credential_for(&r.registry, &options.credentials).map(|(c, _)| c);
            let client = RegistryClient::new(
                default_transport(),
                r,
                access,
                ClientOptions { insecure, credential, endpoint: None },
            );
            Ok(Box::new(RegistryStore::new(client, r)))
        }
        Reference::Layout(l) => {
            let store =
                if access == Access::PullPush { LayoutStore::create(&l.dir)? } else { LayoutStore::open(&l.dir)? };
            Ok(Box::new(store))
        }
    }
}

/// A store that reads through the route's mirrors, then its upstream.
fn mirrored_store(route: Route, options: &RegistryOptions) -> MirroredStore {
    let source = |endpoint: Endpoint| {
        let mut insecure = options.insecure.clone();
        if endpoint.insecure {
            insecure.push(endpoint.reference.registry.clone());
        }
        let credential = credential_for(&endpoint.reference.registry, &options.credentials).map(|(c, _)| c);
        let configured = EndpointOptions {
            scheme: endpoint.scheme,
            api_root: endpoint.api_root.clone(),
            namespace: endpoint.namespace.clone(),
            single_attempt: endpoint.is_mirror,
        };
        let client_options = ClientOptions { insecure, credential, endpoint: Some(configured) };
        let client = RegistryClient::new(default_transport(), &endpoint.reference, Access::Pull, client_options);
        Source {
            store: Box::new(RegistryStore::new(client, &endpoint.reference)),
            host: endpoint.reference.registry.clone(),
            resolves_tags: endpoint.resolves_tags,
            serves_digests: endpoint.serves_digests,
            is_mirror: endpoint.is_mirror,
        }
    };
    let mirrors = route.mirrors.into_iter().map(source).collect();
    MirroredStore::new(mirrors, source(route.upstream))
}
