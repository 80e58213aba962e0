//! The typed export `wasmship:packager/packages@0.2.0`: WIT packages fetched as the
//! `wasmship wit get` and `wit fetch`/`update` commands fetch them, with a `client`'s
//! options.

use std::path::PathBuf;

use super::Packager;
use super::bindings::exports::wasmship::packager0_2_0::client::ClientBorrow;
use super::bindings::exports::wasmship::packager0_2_0::packages::{FetchResult, Guest, PackageContent, PackageFormat};
use super::bindings::exports::wasmship::packager0_2_0::types::Error as WitError;
use super::client_export::Client;
use super::errors::to_wit;
use crate::witpkg::name::PackageSpec;
use crate::witpkg::ops::{GetFormat, GetRequest, Project, fetch_deps, get};
use crate::witpkg::resolve::Update;

impl Guest for Packager {
    fn get(
        client: ClientBorrow<'_>,
        name: String,
        format: PackageFormat,
        project_dir: Option<String>,
    ) -> Result<PackageContent, WitError> {
        let project = project(client.get::<Client>(), project_dir.unwrap_or_else(|| ".".to_owned()));
        let request = GetRequest {
            spec: PackageSpec::parse(&name).map_err(to_wit)?,
            format: match format {
                PackageFormat::Wit => GetFormat::Wit,
                PackageFormat::Wasm => GetFormat::Wasm,
            },
            // `-`: hand the content back instead of writing a file.
            output: Some(PathBuf::from("-")),
        };
        let outcome = get(&project, &request).map_err(to_wit)?;
        Ok(PackageContent {
            name: outcome.spec.to_string(),
            reference: outcome.reference,
            digest: outcome.digest.to_string(),
            content: outcome.text.unwrap_or_default(),
        })
    }

    fn fetch_deps(client: ClientBorrow<'_>, project_dir: String, update: bool) -> Result<FetchResult, WitError> {
        let project = project(client.get::<Client>(), project_dir);
        let outcome = fetch_deps(&project, if update { &Update::All } else { &Update::Nothing }).map_err(to_wit)?;
        Ok(FetchResult {
            resolved: outcome.packages.iter().map(|(wanted, got)| (wanted.to_string(), got.to_string())).collect(),
            tree: outcome.tree,
            deps_written: outcome.deps_written,
            lock_written: outcome.lock_written,
            network: outcome.network,
        })
    }
}

/// The project in `dir` (its `wit` directory the world's) with the client's options.
fn project(client: &Client, dir: String) -> Project {
    let dir = PathBuf::from(dir);
    Project {
        wit_dir: dir.join("wit"),
        dir,
        options: client.registry.clone(),
        cache: client.cache.clone(),
        verification: Default::default(),
    }
}
