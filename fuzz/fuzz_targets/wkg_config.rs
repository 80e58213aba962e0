//! Fuzzes WIT package configuration (`witpkg::config::WitConfig::from_texts`):
//! a project file (`wasmship.toml`/`wasmcloud.toml` `[registry.pull]` sources,
//! `[wit]`) together with wkg's `config.toml`, then asks it where packages come
//! from. The input is the project file, then a `#wkg` line, then wkg's config.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmship::witpkg::config::{WitConfig, parse_source};
use wasmship::witpkg::name::PackageRef;

/// Separates the two files in one input; a TOML comment, so both stay valid TOML.
const WKG_SEPARATOR: &str = "\n#wkg\n";
const PACKAGES: [&str; 4] = ["wasi:http", "example:api", "example:special", "custom:x"];

fuzz_target!(|input: &str| {
    let project_dir = std::path::Path::new("/project");
    let _ = parse_source(input, project_dir);
    let (project, wkg) = match input.split_once(WKG_SEPARATOR) {
        Some((project, wkg)) => (project, Some(wkg)),
        None => (input, None),
    };
    let Ok(config) = WitConfig::from_texts(&[("wasmship.toml", project)], wkg, project_dir) else {
        return;
    };
    for name in config.source_registries() {
        let _ = config.registry_settings(name);
    }
    let version = semver::Version::new(0, 2, 0);
    for package in PACKAGES {
        let package = PackageRef::parse(package).expect("a valid package name");
        if let Ok(wasmship::witpkg::config::Mapping::Registry { name, metadata }) = config.mapping(&package, None) {
            let _ = config.registry_settings(&name);
            if let Some(metadata) = metadata {
                let _ = metadata.oci_location(&name);
            }
        }
        let _ = config.mapping(&package, Some(&version));
    }
});
