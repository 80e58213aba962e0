//! When a pull may use the cache and when it must ask the registry.

use std::str::FromStr;

use crate::error::Error;

/// `--pull` (and `--offline`, which is `Never`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullPolicy {
    /// Ask the registry for the manifest digest (`HEAD`); transfer nothing if
    /// the cached entry has it, only missing blobs otherwise.
    #[default]
    Revalidate,
    /// Always fetch the manifest; blobs the cache has are not transferred.
    Always,
    /// Use a cached entry without asking the registry.
    IfNotPresent,
    /// Never touch the network.
    Never,
}

impl FromStr for PullPolicy {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "revalidate" => Ok(PullPolicy::Revalidate),
            "always" => Ok(PullPolicy::Always),
            "if-not-present" | "missing" => Ok(PullPolicy::IfNotPresent),
            "never" => Ok(PullPolicy::Never),
            other => Err(Error::Usage(format!(
                "unknown pull policy {other:?}: use always, if-not-present, never or revalidate"
            ))),
        }
    }
}
