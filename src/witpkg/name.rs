//! Package names as wkg spells them: `ns:name` (a package), `ns:name@1.2.3` (a
//! version of it), the requirement a WIT reference makes (`=1.2.3`, or `*` when
//! unversioned) and the `wit/deps` directory a version is written to
//! (`ns-name-1.2.3`).

use std::fmt;

use semver::{Version, VersionReq};

use crate::error::{Error, Result};

/// A package without version: `ns:name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageRef {
    pub namespace: String,
    pub name: String,
}

impl PackageRef {
    /// A package from its namespace and name.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        PackageRef { namespace: namespace.into(), name: name.into() }
    }

    /// Parse `ns:name`.
    pub fn parse(input: &str) -> Result<Self> {
        let invalid = |why: &str| Error::InvalidInput(format!("{input:?} is not a package name ({why}); use ns:name"));
        let (namespace, name) = input.trim().split_once(':').ok_or_else(|| invalid("no ':'"))?;
        for part in [namespace, name] {
            if !is_kebab(part) {
                return Err(invalid("namespace and name are lowercase kebab-case words"));
            }
        }
        Ok(PackageRef::new(namespace, name))
    }

    /// This package's name in a wit-parser package name.
    pub fn of(name: &wit_parser::PackageName) -> Self {
        PackageRef::new(&name.namespace, &name.name)
    }
}

impl fmt::Display for PackageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.namespace, self.name)
    }
}

/// A package with an optional version: `ns:name[@1.2.3]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageSpec {
    pub package: PackageRef,
    pub version: Option<Version>,
}

impl PackageSpec {
    /// Parse `ns:name` or `ns:name@version`.
    pub fn parse(input: &str) -> Result<Self> {
        let input = input.trim();
        let (name, version) = match input.split_once('@') {
            Some((name, version)) => (name, Some(parse_version(version)?)),
            None => (input, None),
        };
        Ok(PackageSpec { package: PackageRef::parse(name)?, version })
    }

    /// From a wit-parser package name.
    pub fn of(name: &wit_parser::PackageName) -> Self {
        PackageSpec { package: PackageRef::of(name), version: name.version.clone() }
    }

    /// The requirement a reference to this spec makes: exactly the version,
    /// or any version when there is none (wkg's rule).
    pub fn requirement(&self) -> VersionReq {
        match &self.version {
            Some(v) => exact(v),
            None => VersionReq::STAR,
        }
    }

    /// The `wit/deps` directory name: `ns-name-1.2.3` (`ns-name` unversioned).
    pub fn dir_name(&self) -> String {
        dir_name(&self.package, self.version.as_ref())
    }
}

impl fmt::Display for PackageSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}@{v}", self.package),
            None => write!(f, "{}", self.package),
        }
    }
}

/// `=version`: the requirement of a versioned reference.
pub fn exact(version: &Version) -> VersionReq {
    VersionReq::parse(&format!("={version}")).expect("an exact requirement parses")
}

/// The `wit/deps` directory of a package version (`:` and `@` become `-`).
pub fn dir_name(package: &PackageRef, version: Option<&Version>) -> String {
    match version {
        Some(v) => format!("{}-{}-{v}", package.namespace, package.name),
        None => format!("{}-{}", package.namespace, package.name),
    }
}

/// Parse a semantic version, with a message that says what was expected.
pub fn parse_version(input: &str) -> Result<Version> {
    Version::parse(input.trim())
        .map_err(|e| Error::InvalidInput(format!("{input:?} is not a semantic version (like 1.2.3): {e}")))
}

fn is_kebab(word: &str) -> bool {
    !word.is_empty()
        && word.split('-').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && !part.starts_with(|c: char| c.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs_and_names_directories_like_wkg() {
        let spec = PackageSpec::parse("wasi:http@0.2.1").unwrap();
        assert_eq!(spec.to_string(), "wasi:http@0.2.1");
        assert_eq!(spec.dir_name(), "wasi-http-0.2.1");
        assert_eq!(spec.requirement().to_string(), "=0.2.1");
        let bare = PackageSpec::parse("example:my-types").unwrap();
        assert_eq!(bare.dir_name(), "example-my-types");
        assert_eq!(bare.requirement().to_string(), "*");
    }

    #[test]
    fn refuses_malformed_names() {
        for bad in ["wasi", "wasi:", ":http", "Wasi:http", "wasi:http@x", "wasi:1http"] {
            assert!(PackageSpec::parse(bad).is_err(), "{bad}");
        }
    }
}
