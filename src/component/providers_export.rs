//! The typed export `wasmship:packager/providers@0.2.0`: a provider archive's claims and
//! checks, read from bytes or a file as `wasmship par inspect` reads them.

use std::path::Path;

use super::Packager;
use super::bindings::exports::wasmship::packager0_2_0::providers::{Check, Guest, ProviderInfo};
use super::bindings::exports::wasmship::packager0_2_0::types::Error as WitError;
use super::errors::to_wit;
use crate::ops::provider_info::{ProviderReport, inspect_file, read_archive};

impl Guest for Packager {
    fn inspect_archive(archive: Vec<u8>) -> Result<ProviderInfo, WitError> {
        let read = read_archive(archive.as_slice(), "the provider archive given").map_err(to_wit)?;
        ProviderReport::of(&read.archive, read.compressed).map(provider_info).map_err(to_wit)
    }

    fn inspect_archive_file(path: String) -> Result<ProviderInfo, WitError> {
        inspect_file(Path::new(&path)).map(provider_info).map_err(to_wit)
    }
}

/// A report as the WIT record.
pub(super) fn provider_info(report: ProviderReport) -> ProviderInfo {
    ProviderInfo {
        name: report.name,
        vendor: report.vendor,
        version: report.version,
        revision: report.revision,
        issuer: report.issuer,
        service: report.service,
        targets: report.targets,
        schema: report.schema.map(|schema| schema.to_string()),
        has_world: report.world,
        compressed: report.compressed,
        issued_at: report.issued_at,
        expires: report.expires,
        hashes: check(report.hashes),
        signature: check(report.signature),
    }
}

fn check(check: crate::provider::Check) -> Check {
    match check {
        crate::provider::Check::Valid => Check::Valid,
        crate::provider::Check::Invalid(reason) => Check::Invalid(reason),
    }
}
