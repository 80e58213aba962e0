//! How a provider archive's report is shown: text for people, and JSON with
//! wash's field names (`name`, `issuer`, `service`, `vendor`, `version`,
//! `revision` — `"None"` when absent, as wash prints them — `targets`,
//! `schema`) plus the results of the checks.

use std::fmt::Write as _;

use crate::ops::provider_info::ProviderReport;
use crate::provider::Check;

/// The report as a JSON object.
pub fn to_json(report: &ProviderReport) -> serde_json::Value {
    let mut v = serde_json::json!({
        "name": report.name.clone().unwrap_or_else(|| "None".into()),
        "issuer": report.issuer,
        "service": report.service,
        "vendor": report.vendor,
        "version": report.version.clone().unwrap_or_else(|| "None".into()),
        "revision": report.revision.map_or_else(|| "None".to_string(), |r| r.to_string()),
        "targets": report.targets,
        "world": report.world,
        "compressed": report.compressed,
        "issued_at": report.issued_at,
        "hashes_valid": report.hashes.is_valid(),
        "signature_valid": report.signature.is_valid(),
    });
    if let Some(schema) = &report.schema {
        v["schema"] = schema.clone();
    }
    if let Some(expires) = report.expires {
        v["expires"] = expires.into();
    }
    for (key, check) in [("hash_error", &report.hashes), ("signature_error", &report.signature)] {
        if let Check::Invalid(reason) = check {
            v[key] = reason.clone().into();
        }
    }
    v
}

/// The report as text lines.
pub fn write_text(out: &mut String, report: &ProviderReport) {
    let or_none = |v: Option<String>| v.unwrap_or_else(|| "None".into());
    let check = |c: &Check| match c {
        Check::Valid => "ok".to_string(),
        Check::Invalid(reason) => format!("FAILED: {reason}"),
    };
    let _ = writeln!(out, "{} - Capability Provider", or_none(report.name.clone()));
    let _ = writeln!(out, "account:      {}", report.issuer);
    let _ = writeln!(out, "service:      {}", report.service);
    let _ = writeln!(out, "vendor:       {}", report.vendor);
    let _ = writeln!(out, "version:      {}", or_none(report.version.clone()));
    let _ = writeln!(out, "revision:     {}", or_none(report.revision.map(|r| r.to_string())));
    let _ = writeln!(out, "targets:      {}", report.targets.join(", "));
    let _ = writeln!(out, "WIT world:    {}", if report.world { "yes (world.wasm)" } else { "no" });
    if report.schema.is_some() {
        let _ = writeln!(out, "schema:       yes (shown with -o json)");
    }
    let _ = writeln!(out, "hashes:       {}", check(&report.hashes));
    let _ = writeln!(out, "signature:    {}", check(&report.signature));
}
