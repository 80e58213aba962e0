//! `wasmship attach REF FILE --artifact-type TYPE` and `wasmship discover REF`: OCI 1.1
//! referrers (and cosign's legacy tags) of an artifact.

use std::path::PathBuf;

use super::{OutputFormat, RegistryArgs, output, parse_annotations};
use crate::error::Result;
use crate::ops::attach::{AttachRequest, attach};
use crate::ops::discover::{LEGACY_SUFFIXES, Referrer, discover};
use crate::plan::{FsAccess, Planner};

#[derive(Debug, clap::Args)]
pub struct AttachArgs {
    /// The artifact to attach to: host[:port]/repository:tag[@digest] or oci-layout://DIR:TAG.
    reference: String,
    /// The file to attach (at most 64 MiB), stored as the referrer's one layer.
    file: PathBuf,
    /// The referrer's artifact type, e.g. application/spdx+json or application/vnd.cyclonedx+json.
    #[arg(long, value_name = "TYPE")]
    artifact_type: String,
    /// The layer's media type (default: the artifact type).
    #[arg(long, value_name = "TYPE")]
    media_type: Option<String>,
    /// Manifest annotation key=value (repeatable).
    #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct DiscoverArgs {
    /// The artifact: host[:port]/repository:tag[@digest] or oci-layout://DIR:TAG.
    reference: String,
    /// Only referrers of this artifact type.
    #[arg(long, value_name = "TYPE")]
    artifact_type: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Output format: text (a tree) or json.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

impl AttachArgs {
    /// Reads the file; writes into the reference's store.
    pub fn plan(&mut self, planner: &mut Planner) -> Result<()> {
        self.reference = self.registry.plan_reference(planner, &self.reference, FsAccess::Write)?;
        self.file = planner.input_file(&self.file, "file to attach");
        Ok(())
    }
}

impl DiscoverArgs {
    /// Reads the reference's store.
    pub fn plan(&mut self, planner: &mut Planner) -> Result<()> {
        self.reference = self.registry.plan_reference(planner, &self.reference, FsAccess::Read)?;
        Ok(())
    }
}

pub fn run_attach(args: &AttachArgs) -> Result<()> {
    let outcome = attach(
        &AttachRequest {
            reference: &args.reference,
            file: &args.file,
            artifact_type: &args.artifact_type,
            media_type: args.media_type.as_deref().unwrap_or(&args.artifact_type),
            annotations: parse_annotations(&args.annotations)?.into_iter().collect(),
        },
        &args.registry.options(&args.reference, true)?,
    )?;
    match args.output {
        OutputFormat::Text => output::print_text(&format!(
            "Attached {} to {}: {}\n",
            args.artifact_type, outcome.subject, outcome.referrer.digest
        )),
        OutputFormat::Json => output::print_json(&serde_json::json!({
            "subject": outcome.subject,
            "referrer": outcome.referrer.digest.to_string(),
            "artifactType": args.artifact_type,
            "size": outcome.referrer.size,
        })),
    }
    Ok(())
}

pub fn run_discover(args: &DiscoverArgs) -> Result<()> {
    let found =
        discover(&args.reference, args.artifact_type.as_deref(), &args.registry.options(&args.reference, true)?)?;
    match args.output {
        OutputFormat::Text => {
            let mut text = format!("{}\n", found.reference);
            tree(&mut text, &found.referrers, "");
            output::print_text(&text);
        }
        OutputFormat::Json => output::print_json(&serde_json::json!({
            "reference": found.reference,
            "digest": found.subject.digest.to_string(),
            "referrers": found.referrers.iter().map(json).collect::<Vec<_>>(),
        })),
    }
    Ok(())
}

fn kind(referrer: &Referrer) -> String {
    match &referrer.tag {
        Some(tag) => {
            let what = LEGACY_SUFFIXES.iter().find(|(suffix, _)| tag.ends_with(suffix)).map_or("", |(_, what)| what);
            format!("{tag} ({what})")
        }
        None => referrer.descriptor.artifact_type.clone().unwrap_or_else(|| "(no artifact type)".into()),
    }
}

fn tree(out: &mut String, referrers: &[Referrer], indent: &str) {
    for (i, referrer) in referrers.iter().enumerate() {
        let last = i + 1 == referrers.len();
        out.push_str(&format!(
            "{indent}{} {} {}\n",
            if last { "└──" } else { "├──" },
            kind(referrer),
            referrer.descriptor.digest
        ));
        tree(out, &referrer.referrers, &format!("{indent}{}", if last { "    " } else { "│   " }));
    }
}

fn json(referrer: &Referrer) -> serde_json::Value {
    serde_json::json!({
        "digest": referrer.descriptor.digest.to_string(),
        "mediaType": referrer.descriptor.media_type,
        "size": referrer.descriptor.size,
        "artifactType": referrer.descriptor.artifact_type,
        "annotations": referrer.descriptor.annotations,
        "tag": referrer.tag,
        "referrers": referrer.referrers.iter().map(json).collect::<Vec<_>>(),
    })
}
