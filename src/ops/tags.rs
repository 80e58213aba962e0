//! Tags: list the tags of a repository or layout.

use super::{RegistryOptions, open_store, parse_reference};
use crate::auth::Access;
use crate::error::Result;

/// The tags of the repository `reference` names (its own tag is ignored).
pub fn tags(reference: &str, options: &RegistryOptions) -> Result<Vec<String>> {
    let reference = parse_reference(reference)?;
    let mut store = open_store(&reference, options, Access::Pull)?;
    store.tags()
}
