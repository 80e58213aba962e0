//! `wasmship push REF FILE`: a Wasm component or module, or a provider archive.

use std::path::PathBuf;

use super::{OutputFormat, RegistryArgs, output};
use crate::error::{Error, Result};
use crate::ops::{PushRequest, push};
use crate::plan::{FsAccess, Planner};
use crate::store::UploadMode;

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// Where to push: host[:port]/repository:tag or oci-layout://DIR:TAG.
    reference: String,
    /// The file: a .wasm component or core module, or a provider archive (.par, .par.gz).
    file: PathBuf,
    /// Config blob of a provider archive's artifact (default `{}`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Manifest annotation key=value (repeatable); overrides values read from the file.
    #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    /// Allow pushing to `:latest` or to an untagged reference.
    #[arg(long)]
    allow_latest: bool,
    /// Upload in chunks (PATCH) instead of one streamed PUT.
    #[arg(long)]
    chunked: bool,
    /// Chunk size in bytes for chunked uploads (implies --chunked).
    #[arg(long, value_name = "BYTES")]
    chunk_size: Option<u64>,
    /// Always upload in one PUT, whatever the size (for registries with broken chunked uploads).
    #[arg(long, conflicts_with_all = ["chunked", "chunk_size"])]
    monolithic_push: bool,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

impl PushArgs {
    /// Reads the file (and config blob); writes to the reference's store.
    pub fn plan(&mut self, planner: &mut Planner) -> Result<()> {
        self.reference = self.registry.plan_reference(planner, &self.reference, FsAccess::Write)?;
        self.file = planner.input_file(&self.file, "file to push");
        if let Some(config) = &self.config {
            self.config = Some(planner.input_file(config, "config blob"));
        }
        Ok(())
    }
}

pub fn run(args: &PushArgs) -> Result<()> {
    let annotations = super::parse_annotations(&args.annotations)?;
    let upload = match (args.monolithic_push, args.chunked, args.chunk_size) {
        (_, _, Some(0)) => return Err(Error::Usage("--chunk-size must be at least 1".into())),
        (_, _, Some(size)) => Some(UploadMode::Chunked(size)),
        (_, true, None) => Some(UploadMode::Chunked(crate::ops::push::DEFAULT_CHUNK_SIZE)),
        (true, false, None) => Some(UploadMode::Monolithic),
        (false, false, None) => None,
    };
    let outcome = push(&PushRequest {
        reference: args.reference.clone(),
        file: args.file.clone(),
        annotations,
        upload,
        config: args.config.clone(),
        options: args.registry.options(&args.reference, args.allow_latest)?,
    })?;
    match args.output {
        OutputFormat::Text => {
            let name = outcome.tag.as_deref().unwrap_or(&outcome.reference);
            output::print_text(&format!("{name}: digest: {}\n", outcome.digest));
        }
        OutputFormat::Json => output::print_json(&serde_json::json!({
            "reference": outcome.reference,
            "digest": outcome.digest.to_string(),
            "tag": outcome.tag,
            "size": outcome.size,
        })),
    }
    Ok(())
}
