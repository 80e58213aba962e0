//! `wasmship copy SRC DST`.

use super::{OutputFormat, RegistryArgs, output};
use crate::error::Result;
use crate::ops;
use crate::plan::{FsAccess, Planner};

#[derive(Debug, clap::Args)]
pub struct CopyArgs {
    /// Source: host[:port]/repository:tag[@digest] or oci-layout://DIR:TAG.
    source: String,
    /// Destination (its tag defaults to the source's).
    destination: String,
    /// Also copy what refers to the artifact: signatures, bundles, SBOMs (OCI referrers and
    /// cosign's .sig/.att/.sbom tags), digests unchanged.
    #[arg(long, short = 'r')]
    include_referrers: bool,
    #[command(flatten)]
    verify: super::sign::VerifyKeyArgs,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

impl CopyArgs {
    /// Reads the source's store; writes to the destination's.
    pub fn plan(&mut self, planner: &mut Planner) -> Result<()> {
        self.source = self.registry.plan_reference(planner, &self.source, FsAccess::Read)?;
        self.destination = self.registry.plan_reference(planner, &self.destination, FsAccess::Write)?;
        self.verify.plan(planner);
        Ok(())
    }
}

pub fn run(args: &CopyArgs) -> Result<()> {
    let outcome = ops::copy::copy_with(
        &args.source,
        &args.destination,
        args.include_referrers,
        args.verify.requirement(&args.source)?.as_ref(),
        &args.registry.options_for(&[&args.source, &args.destination], true)?,
    )?;
    let digest = outcome.digest.as_ref().map(ToString::to_string).unwrap_or_default();
    match args.output {
        OutputFormat::Text => output::print_text(&format!(
            "{}: digest: {digest} ({} copied, {} mounted, {} already present{})\n",
            outcome.destination,
            outcome.copied_blobs,
            outcome.mounted_blobs,
            outcome.skipped_blobs,
            if args.include_referrers { format!("; {} referrers", outcome.referrers) } else { String::new() }
        )),
        OutputFormat::Json => output::print_json(&serde_json::json!({
            "source": outcome.source,
            "destination": outcome.destination,
            "tag": outcome.tag,
            "digest": digest,
            "copiedBlobs": outcome.copied_blobs,
            "mountedBlobs": outcome.mounted_blobs,
            "skippedBlobs": outcome.skipped_blobs,
            "referrers": outcome.referrers,
        })),
    }
    Ok(())
}
