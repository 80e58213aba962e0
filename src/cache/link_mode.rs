//! How a pull puts a cached layer at its destination: as a hard link to the
//! verified cache blob (no copy; the default) while no other pulled file
//! shares that blob, else — and on another file system — as a copy; or
//! always as a copy of its own.

use std::str::FromStr;

use crate::error::{Error, Result};

/// Environment variable giving the default of `--link-mode`.
pub const LINK_MODE_VAR: &str = "WASMSHIP_LINK_MODE";

/// `--link-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkMode {
    /// Hard-link the cache blob unless another file shares it already or
    /// it is on another file system; copy then.
    #[default]
    Hardlink,
    /// Always write a copy of its own.
    Copy,
}

impl LinkMode {
    /// `explicit` (`--link-mode`), else `WASMSHIP_LINK_MODE`, else hard links.
    pub fn choose(explicit: Option<&str>) -> Result<LinkMode> {
        match explicit {
            Some(mode) => mode.parse(),
            None => match std::env::var(LINK_MODE_VAR) {
                Ok(mode) if !mode.is_empty() => mode.parse().map_err(|e| match e {
                    Error::Usage(message) => Error::Usage(format!("{LINK_MODE_VAR}: {message}")),
                    other => other,
                }),
                _ => Ok(LinkMode::default()),
            },
        }
    }
}

impl FromStr for LinkMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "hardlink" => Ok(LinkMode::Hardlink),
            "copy" => Ok(LinkMode::Copy),
            other => Err(Error::Usage(format!("unknown link mode {other:?}: use hardlink or copy"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_two_modes_and_explains_anything_else() {
        assert_eq!("hardlink".parse::<LinkMode>().unwrap(), LinkMode::Hardlink);
        assert_eq!("copy".parse::<LinkMode>().unwrap(), LinkMode::Copy);
        let error = "symlink".parse::<LinkMode>().unwrap_err().to_string();
        assert!(error.contains("hardlink or copy"), "{error}");
        assert_eq!(LinkMode::choose(Some("copy")).unwrap(), LinkMode::Copy);
    }
}
