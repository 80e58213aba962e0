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
    check_well_formed(bytes, what)?;
    match wit_component::decode(bytes) {
        Ok(DecodedWasm::WitPackage(resolve, package)) => Ok(Decoded { resolve, package }),
        Ok(DecodedWasm::Component(..)) => Err(Error::InvalidInput(format!(
            "{what} is a component, not a WIT package (build one with `wasmship wit build`)"
        ))),
        Err(e) => Err(parse_failure(&format!("{what} is not a binary WIT package"), &e)),
    }
}

/// Refuse `bytes` unless every section, nested ones included, is well formed and fits in
/// them. wit-parser reads incrementally and sets aside a section's declared size before
/// reading it, so a 100-byte file declaring a 1 GB section made it allocate 1 GB.
fn check_well_formed(bytes: &[u8], what: &str) -> Result<()> {
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let Err(e) = payload {
            return Err(Error::InvalidInput(format!(
                "{what} is not a binary WIT package: not well-formed WebAssembly: {} (at byte {})",
                e.message(),
                e.offset()
            )));
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `wit_package` fuzz target: 94 bytes whose custom section declares
    /// 1.3 GB. wit-parser reads incrementally and sets aside a section's declared size
    /// before reading it, so decoding this allocated 1.3 GB.
    const SECTION_LARGER_THAN_THE_FILE: &str = "AGFzbQEAAAAAwP///gRiBMNjc20N//////////9yAgF4egF5eolyD29kdXMBAAAAAABSAAAAAAAAAAAAAAAAAAAAAAAAAAAqb20AYXNtAQAAAADBAAABBAUAYgsLAA==";

    #[test]
    fn a_section_larger_than_the_file_is_refused_before_decoding() {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD.decode(SECTION_LARGER_THAN_THE_FILE).unwrap();
        let err = decode(&bytes, "pkg.wasm").err().expect("not a WIT package");
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
        assert!(
            err.to_string().starts_with("pkg.wasm is not a binary WIT package: not well-formed WebAssembly"),
            "{err}"
        );
    }
}
