//! The packager's operations — push, pull, inspect — shared by the CLI and
//! the typed `wasmship:packager/oci` export. Each takes a request struct and
//! returns an outcome or a typed [`Error`](crate::Error).

pub mod inspect;
pub mod pull;
pub mod push;
mod resolve;

pub use inspect::{ArtifactInfo, inspect};
pub use pull::{PullOutcome, PullRequest, pull};
pub use push::{PushOutcome, PushRequest, push};

use crate::error::Result;
use crate::http::default_transport;
use crate::reference::Reference;
use crate::store::Store;
use crate::store::layout::LayoutStore;
use crate::store::registry::{RegistryClient, RegistryStore};

/// How registries are reached and which references are allowed.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Hosts reached over plain HTTP (loopback always is).
    pub insecure: Vec<String>,
    /// Allow `:latest` and untagged references for push and pull.
    pub allow_latest: bool,
}

/// Open the store a reference names. Layouts are created on demand when
/// `create` is set (push); otherwise they must exist.
pub fn open_store(
    reference: &Reference,
    options: &RegistryOptions,
    create: bool,
) -> Result<Box<dyn Store>> {
    match reference {
        Reference::Registry(r) => {
            let client = RegistryClient::new(default_transport(), r, &options.insecure);
            Ok(Box::new(RegistryStore::new(client, r)))
        }
        Reference::Layout(l) => {
            let store = if create {
                LayoutStore::create(&l.dir)?
            } else {
                LayoutStore::open(&l.dir)?
            };
            Ok(Box::new(store))
        }
    }
}
