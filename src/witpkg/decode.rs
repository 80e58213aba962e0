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
    if !has_package_shape(bytes, what)? {
        return Err(not_a_package(what));
    }
    match wit_component::decode(bytes) {
        Ok(DecodedWasm::WitPackage(resolve, package)) => Ok(Decoded { resolve, package }),
        Ok(DecodedWasm::Component(..)) => Err(not_a_package(what)),
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

/// Whether valid `bytes` have the shape wit-parser decodes as a WIT package: a component
/// whose top level imports nothing and exports only component types, the first under
/// `ns:pkg/wit` (the first encoding) or a bare name (the current one). wit-parser infers
/// the WIT of anything else as a concrete component, which panics on some inputs
/// (`unreachable!` in its `register_type_export`); a component is refused here instead.
fn has_package_shape(bytes: &[u8], what: &str) -> Result<bool> {
    use wasmparser::names::{ComponentName, ComponentNameKind};
    use wasmparser::{ComponentExternalKind, Encoding, Payload, Validator, WasmFeatures};

    let types = Validator::new_with_features(WasmFeatures::all())
        .validate_all(bytes)
        .map_err(|e| parse_failure(&format!("{what} is not a binary WIT package"), &e))?;
    let mut depth = 0usize;
    let mut exports = Vec::new();
    let mut exported_types = std::collections::HashSet::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| parse_failure(&format!("{what} is not a binary WIT package"), &e))? {
            Payload::Version { encoding: Encoding::Module, .. } if depth == 0 => {
                return Err(Error::InvalidInput(format!("{what} is a core module, not a WIT package")));
            }
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(imports) if depth == 1 && imports.count() > 0 => return Ok(false),
            Payload::ComponentExportSection(section) if depth == 1 => {
                for export in section {
                    let export =
                        export.map_err(|e| parse_failure(&format!("{what} is not a binary WIT package"), &e))?;
                    if export.kind != ComponentExternalKind::Type {
                        return Ok(false);
                    }
                    // wit-component gives every world and interface its own type; one type
                    // under two names made wit-parser 0.263 fail an assertion (a panic).
                    if !exported_types.insert(export.index) {
                        return Err(Error::InvalidInput(format!(
                            "{what} is not a binary WIT package: it exports one type under two names (`{}` and an earlier one)",
                            crate::error::excerpt(export.name.name, crate::error::MAX_ECHO)
                        )));
                    }
                    exports.push(export.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    let exports_component_types = exports.iter().all(|name| {
        matches!(
            types.component_item_for_export(name).map(|item| &item.ty),
            Some(wasmparser::component_types::ComponentEntityType::Type {
                created: wasmparser::component_types::ComponentAnyTypeId::Component(_),
                ..
            })
        )
    });
    let package_name =
        exports.first().and_then(|name| ComponentName::new(name, 0).ok()).is_some_and(|name| match name.kind() {
            ComponentNameKind::Interface(name) => name.interface().as_str() == "wit",
            ComponentNameKind::Plain(name) => name.is_bare(),
        });
    Ok(exports_component_types && package_name)
}

fn not_a_package(what: &str) -> Error {
    Error::InvalidInput(format!("{what} is a component, not a WIT package (build one with `wasmship wit build`)"))
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

    /// Found by the `wit_package` fuzz target: a 200-byte component importing a type that
    /// is not a WIT package; wit-parser's inference of its WIT hit `unreachable!`.
    const COMPONENT_IMPORTING_A_TYPE: &str = "AGFzbQ0AAQAHVQFBAgFCBAFyAgF4egF5egQABXBvaW50AwAAAW0DA3JlZAVncmVlbgRibHVlBAAFY29sb3IDAAIEABlleGFtcGxlOnQ6cGVzL3R5cGVzQDAuMS4wBQAKCwEABXR5cGVzAwAAAFoMcGFlYWdrLWNkcGVzQDAuMS4wBWV4YW1wbGUgcDFja5WYmozR3YJ8eAAvCXByb2R1Y2VycwEMcHJvY2Vzc2VkLWJ5AQ13ZXMAAAAAWgwAAAAAAAAABDYzLjA=";

    #[test]
    fn a_component_that_is_not_a_package_is_refused_without_inferring_its_wit() {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD.decode(COMPONENT_IMPORTING_A_TYPE).unwrap();
        let err = decode(&bytes, "pkg.wasm").err().expect("not a WIT package");
        assert_eq!(err.to_string(), "pkg.wasm is a component, not a WIT package (build one with `wasmship wit build`)");
    }

    #[test]
    fn a_core_module_is_not_a_package() {
        let err = decode(b"\0asm\x01\0\0\0", "m.wasm").err().expect("not a WIT package");
        assert_eq!(err.to_string(), "m.wasm is a core module, not a WIT package");
    }

    /// Found by the `wit_package` fuzz target: a 490-byte input shaped as a WIT package
    /// that exports one component type under two names (`types`, `tvpes`); wit-parser
    /// 0.263's package decoder failed an internal assertion on it (`prev.is_none()` in
    /// `register_import`), a panic.
    const PACKAGE_WITH_A_TYPE_REGISTERED_TWICE: &str = "AGFzbQ0AAQAHVQFBAgFCBAFyAgF4eQF5egQABXBvaW50AwAAAW0DA3JlZAVncmVlbgRibHVlBAAFY29sb3IDAAAEABllbGVtOnhwYXR5cGUvc3R5cGVzQDAuMS4wBQALCwEABXR5cGVzAwAAAFoMcGFja2FnZS1kb2tzAXsiaW50ZXJmYWNlcyI6IHNoYfJlZCBieSB0aGUgZXgiR2VvbWV0cnkgc2hh8o1kIGJ5IHRoZSBleGFtdGxlIHBhY2thZ2VzLiJ9fX0ALwl3cm9kdWNlMXMBDHB8b2Nlc3NlZC1ieQENd2l0LWNvbXBvbmVudAdhc20NAAEAB1UBQQIBQgQBcgIBeHkBeXoEAAVwb2ludAMAAAFtAwNyZWQFZ3JlZW4EYmx1ZQQABWNvbG9yAwAABAAZZWxlbTp4cGF0eXBlL3N0eXBlc0AwLjEuMAUACwsBAAV0dnBlcwMAAABaDHBhY2thZ2UtZG9rcwF7ImludGVyZmFjZXMiOiBzaGHyZWQgYnkgdGhlIGV4Ikdlb21ldHJ5IHNoYfKNZCBieSB0aGUgZXhhbXRsZSBwYWNrYWdlcy4ifX19AC8Jd3JvZHVjZTJzAQxwfG9jZXNzZWQtYnkBDXdpdC1jb21wb25lbnQHMC4yNjMuMA==";

    #[test]
    fn a_package_exporting_one_type_twice_is_refused() {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD.decode(PACKAGE_WITH_A_TYPE_REGISTERED_TWICE).unwrap();
        let err = decode(&bytes, "pkg.wasm").err().expect("not a WIT package");
        assert_eq!(
            err.to_string(),
            "pkg.wasm is not a binary WIT package: it exports one type under two names (`tvpes` and an earlier one)"
        );
    }
}
