//! WIT interface packages: build, publish and fetch them, and manage a
//! world's dependencies in `wit/deps` with a `wkg.lock` that wkg reads too.
//!
//! The pipeline, one module per stage:
//! - [`name`]: `ns:name@version`, requirements, `wit/deps` directory names;
//! - [`encode`] and [`decode`]: binary WIT packages (wit-component), WIT text;
//! - [`config`], [`wellknown`] and [`locate`]: which registry serves a
//!   package, and its OCI reference;
//! - [`source`]: versions and bytes of packages (registries through the OCI
//!   cache, or local files);
//! - [`resolve`] with [`graph`] and [`shape`]: requirements to versions, the
//!   packages merged with conflicts and cycles reported;
//! - [`lock`] and [`deps`]: `wkg.lock` and the `wit/deps` tree;
//! - [`ops`]: the `wit` commands.

pub mod config;
pub mod decode;
pub mod deps;
pub mod encode;
pub mod graph;
pub mod locate;
pub mod lock;
pub mod name;
pub mod ops;
pub mod resolve;
pub mod shape;
pub mod source;
pub mod wellknown;

#[cfg(test)]
mod fixture_tests;

use std::path::Path;

use wit_parser::{PackageId, Resolve};

use crate::error::{Error, Result};

/// The default WIT directory of a project.
pub const WIT_DIR: &str = "wit";
/// The dependency directory inside it.
pub const DEPS_DIR: &str = "deps";

/// Parse the package in `wit_dir` with its `deps`, as wit-parser does.
pub fn resolve_dir(wit_dir: &Path) -> Result<(Resolve, PackageId)> {
    let mut resolve = Resolve::default();
    let (package, _) =
        resolve.push_dir(wit_dir).map_err(|e| parse_failure(&format!("WIT in {}", wit_dir.display()), &e))?;
    Ok((resolve, package))
}

/// A wit-parser or wit-component failure as an error of ours, with its chain.
pub fn parse_failure(what: &str, error: &dyn std::fmt::Display) -> Error {
    Error::InvalidInput(format!("{what}: {error:#}"))
}
