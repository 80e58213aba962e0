//! `wasmship inspect REF|FILE`: an artifact's manifest and config; for a
//! provider archive (a local `.par`/`.par.gz`, or a provider in a store) its
//! claims and whether its hashes and signature check out — a failed check is
//! shown, then reported as an error.

use std::fmt::Write as _;
use std::path::Path;

use super::{CacheArgs, OutputFormat, RegistryArgs, output, provider_report};
use crate::error::{Error, Result};
use crate::oci::Descriptor;
use crate::ops::ArtifactInfo;
use crate::plan::{FsAccess, Planner};
use crate::reference::LAYOUT_SCHEME;

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// What to inspect: host[:port]/repository:tag[@digest], oci-layout://DIR:TAG,
    /// or a local provider archive file (.par, .par.gz).
    reference: String,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    verify: super::sign::VerifyKeyArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
    /// Whether `reference` names a local file (decided by the plan).
    #[arg(skip)]
    local: bool,
}

impl InspectArgs {
    /// A local provider archive (a path: absolute, `./…`, `../…`, or a file in the working
    /// directory) is read; anything else is a reference, read through the cache.
    pub fn plan(&mut self, planner: &mut Planner) -> Result<()> {
        let text = self.reference.as_str();
        self.local = !text.contains("://")
            && (text.starts_with('/')
                || text.starts_with("./")
                || text.starts_with("../")
                || planner.is_file(Path::new(text)));
        if self.local {
            let used = planner.input_file(Path::new(text), "provider archive");
            self.reference = used.display().to_string();
            return Ok(());
        }
        if self.cache.offline() {
            planner.offline();
        }
        self.reference = self.registry.plan_reference(planner, &self.reference, FsAccess::Read)?;
        self.verify.plan(planner);
        if !self.reference.trim().starts_with(LAYOUT_SCHEME) {
            self.cache.plan(planner);
        }
        Ok(())
    }
}

pub fn run(args: &InspectArgs) -> Result<()> {
    if args.local {
        return inspect_file(Path::new(&args.reference), args.output);
    }
    let info = crate::ops::inspect::inspect_verified(
        &args.reference,
        &args.registry.options(&args.reference, true)?,
        &args.cache.options()?,
        args.verify.requirement(&args.reference)?.as_ref(),
    )?;
    match args.output {
        OutputFormat::Json => output::print_json(&to_json(&info)),
        OutputFormat::Text => print_text(&info),
    }
    match &info.provider {
        Some(report) => report.require_valid(&format!("the provider archive of {}", info.reference)),
        None => Ok(()),
    }
}

/// A local file: a provider archive.
fn inspect_file(path: &Path, format: OutputFormat) -> Result<()> {
    let mut head = [0u8; 4];
    let n = crate::fsutil::open_regular(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .map_err(|e| Error::io(path.display(), "read", e))?;
    if head[..n] == *b"\0asm" {
        return Err(Error::InvalidInput(format!(
            "{}: local inspection reads provider archives (.par, .par.gz); inspect a component by its reference",
            path.display()
        )));
    }
    let report = crate::ops::provider_info::inspect_file(path)?;
    match format {
        OutputFormat::Json => output::print_json(&provider_report::to_json(&report)),
        OutputFormat::Text => {
            let mut out = String::new();
            provider_report::write_text(&mut out, &report);
            output::print_text(&out);
        }
    }
    report.require_valid(&path.display().to_string())
}

fn descriptor_json(d: &Descriptor) -> serde_json::Value {
    let mut v = serde_json::json!({
        "mediaType": d.media_type,
        "digest": d.digest.to_string(),
        "size": d.size,
    });
    if let Some(a) = &d.annotations {
        v["annotations"] = serde_json::json!(a);
    }
    v
}

fn to_json(info: &ArtifactInfo) -> serde_json::Value {
    if let Some(report) = &info.provider {
        // wash's provider fields at the top, and where they came from.
        let mut v = provider_report::to_json(report);
        v["reference"] = info.reference.clone().into();
        v["digest"] = info.manifest.digest.to_string().into();
        v["mediaType"] = info.manifest.media_type.clone().into();
        v["config"] = descriptor_json(&info.config);
        v["layers"] = info.layers.iter().map(descriptor_json).collect::<Vec<_>>().into();
        v["annotations"] = serde_json::json!(info.annotations);
        return v;
    }
    let config = info.wasm_config.as_ref();
    let mut v = serde_json::json!({
        "reference": info.reference,
        "digest": info.manifest.digest.to_string(),
        "mediaType": info.manifest.media_type,
        "size": info.manifest.size,
        "config": descriptor_json(&info.config),
        "layers": info.layers.iter().map(descriptor_json).collect::<Vec<_>>(),
        "annotations": info.annotations,
        "os": config.map(|c| c.os.clone()),
        "architecture": config.map(|c| c.architecture.clone()),
        "created": config.and_then(|c| c.created.clone()),
    });
    if let Some(component) = config.and_then(|c| c.component.as_ref()) {
        v["component"] = serde_json::json!({
            "imports": component.imports,
            "exports": component.exports,
        });
    }
    v
}

fn print_text(info: &ArtifactInfo) {
    let mut out = String::new();
    write_text(&mut out, info);
    output::print_text(&out);
}

fn write_text(out: &mut String, info: &ArtifactInfo) {
    let _ = writeln!(out, "reference:    {}", info.reference);
    let _ = writeln!(out, "digest:       {}", info.manifest.digest);
    let _ = writeln!(out, "media type:   {}", info.manifest.media_type);
    let _ = writeln!(out, "size:         {} bytes", info.manifest.size);
    let _ =
        writeln!(out, "config:       {} {} ({} bytes)", info.config.media_type, info.config.digest, info.config.size);
    let _ = writeln!(out, "layers:");
    for layer in &info.layers {
        let title = layer.annotation(crate::oci::annotations::TITLE).map(|t| format!(" {t}")).unwrap_or_default();
        let _ = writeln!(out, "  {} {} ({} bytes){title}", layer.media_type, layer.digest, layer.size);
    }
    if let Some(config) = &info.wasm_config {
        let _ = writeln!(out, "os:           {}", config.os);
        let _ = writeln!(out, "architecture: {}", config.architecture);
        if let Some(created) = &config.created {
            let _ = writeln!(out, "created:      {created}");
        }
        if let Some(component) = &config.component {
            let _ = writeln!(out, "exports:");
            for e in &component.exports {
                let _ = writeln!(out, "  {e}");
            }
            let _ = writeln!(out, "imports:");
            for i in &component.imports {
                let _ = writeln!(out, "  {i}");
            }
        }
    }
    if let Some(report) = &info.provider {
        provider_report::write_text(out, report);
    }
    if !info.annotations.is_empty() {
        let _ = writeln!(out, "annotations:");
        for (k, v) in &info.annotations {
            let _ = writeln!(out, "  {k}: {v}");
        }
    }
}
