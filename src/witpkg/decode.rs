//! Binary WIT packages read back: decoded with wit-parser into a `Resolve`
//! (the package and every package it embeds), printed as WIT text with
//! `wit_component::WitPrinter`, and described for the Wasm OCI config (its
//! worlds and interfaces as `ns:name/item@version`).

use wit_component::{DecodedWasm, WitPrinter};
use wit_parser::{PackageId, Resolve};

use super::name::PackageSpec;
use super::parse_failure;
use crate::error::{Error, Result};

/// A decoded binary WIT package.
pub struct Decoded {
    pub resolve: Resolve,
    pub package: PackageId,
}

/// Decode `bytes` (named `what` in errors) as a binary WIT package.
pub fn decode(bytes: &[u8], what: &str) -> Result<Decoded> {
    match wit_component::decode(bytes) {
        Ok(DecodedWasm::WitPackage(resolve, package)) => Ok(Decoded { resolve, package }),
        Ok(DecodedWasm::Component(..)) => Err(Error::InvalidInput(format!(
            "{what} is a component, not a WIT package (build one with `wasmship wit build`)"
        ))),
        Err(e) => Err(parse_failure(&format!("{what} is not a binary WIT package"), &e)),
    }
}

impl Decoded {
    /// The main package's name and version.
    pub fn spec(&self) -> PackageSpec {
        PackageSpec::of(&self.resolve.packages[self.package].name)
    }

    /// What the Wasm OCI config lists as exports: the worlds, then the
    /// interfaces, each as `ns:name/item@version`.
    pub fn exports(&self) -> Vec<String> {
        let package = &self.resolve.packages[self.package];
        let worlds = package.worlds.keys();
        let interfaces = package.interfaces.keys();
        worlds.chain(interfaces).map(|item| package.name.interface_id(item)).collect()
    }

    /// The packages embedded besides the main one (its dependencies).
    pub fn dependencies(&self) -> Vec<PackageSpec> {
        let mut deps: Vec<PackageSpec> = self
            .resolve
            .packages
            .iter()
            .filter(|(id, _)| *id != self.package)
            .map(|(_, p)| PackageSpec::of(&p.name))
            .collect();
        deps.sort();
        deps
    }
}

/// One package of `resolve` as WIT text, with the `nested` packages written
/// inside it.
pub fn print_package(resolve: &Resolve, package: PackageId, nested: &[PackageId]) -> Result<String> {
    let mut printer = WitPrinter::default();
    printer
        .print(resolve, package, nested)
        .map_err(|e| parse_failure(&format!("printing {}", resolve.packages[package].name), &e))?;
    Ok(printer.output.to_string())
}
