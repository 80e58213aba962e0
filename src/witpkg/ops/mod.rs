//! The `wit` commands as operations: build and publish a package (its
//! dependencies from `wit/deps`, else resolved in memory), get one, and
//! fetch, update or check a world's dependencies. Each takes a request
//! and returns an outcome; the CLI only parses and prints.

mod build;
mod check;
mod fetch;
mod get;
mod publish;
mod resolved;

pub use build::{BuildOutcome, DepsUsed, build};
pub use check::{CheckOutcome, check};
pub use fetch::{FetchOutcome, fetch_deps};
pub use get::{GetFormat, GetOutcome, GetRequest, get};
pub use publish::{PublishOutcome, PublishRequest, publish};

use std::path::{Path, PathBuf};

use super::config::WitConfig;
use super::locate::Locator;
use super::wellknown::Lookup;
use crate::http::default_transport;
use crate::ops::RegistryOptions;
use crate::ops::fetch::CacheOptions;

/// What every dependency command needs.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project directory (configuration files, `wkg.lock`).
    pub dir: PathBuf,
    /// The WIT directory (`wit`).
    pub wit_dir: PathBuf,
    pub options: RegistryOptions,
    pub cache: CacheOptions,
    /// The signatures fetched packages must have (`--verify-key`, the signature policy).
    pub verification: crate::ops::verify::Verification,
}

impl Project {
    /// `wkg.lock`'s path.
    pub fn lock_path(&self) -> PathBuf {
        self.dir.join(super::lock::FILE_NAME)
    }

    /// `wit/deps`.
    pub fn deps_dir(&self) -> PathBuf {
        self.wit_dir.join(super::DEPS_DIR)
    }

    fn locator<'c>(&self, config: &'c WitConfig) -> Locator<'c> {
        let lookup = if self.cache.offline() { Lookup::Offline } else { Lookup::Normal };
        self.locator_with(config, lookup)
    }

    fn locator_with<'c>(&self, config: &'c WitConfig, lookup: Lookup) -> Locator<'c> {
        Locator::new(config, default_transport(), self.cache.root(), lookup, self.options.clone())
    }
}

/// `path` relative to the project directory unless absolute.
fn in_project(project_dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_path_buf() } else { project_dir.join(path) }
}
