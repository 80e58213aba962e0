//! `wasmship tags REF`.

use super::{OutputFormat, RegistryArgs, output};
use crate::error::Result;
use crate::ops;
use crate::plan::{FsAccess, Planner};

#[derive(Debug, clap::Args)]
pub struct TagsArgs {
    /// Repository: host[:port]/repository (a tag, if given, is ignored) or oci-layout://DIR.
    reference: String,
    /// Also list the tags signatures and referrers live under (`sha256-<hex>`, `….sig`).
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

impl TagsArgs {
    /// Reads the repository's store.
    pub fn plan(&mut self, planner: &mut Planner) -> Result<()> {
        self.reference = self.registry.plan_reference(planner, &self.reference, FsAccess::Read)?;
        Ok(())
    }
}

pub fn run(args: &TagsArgs) -> Result<()> {
    let mut tags = ops::tags(&args.reference, &args.registry.options(&args.reference, true)?)?;
    if !args.all {
        tags.retain(|tag| !crate::oci::referrers::is_machinery_tag(tag));
    }
    match args.output {
        OutputFormat::Text => {
            let mut text = String::new();
            for tag in &tags {
                text.push_str(tag);
                text.push('\n');
            }
            output::print_text(&text);
        }
        OutputFormat::Json => output::print_json(&serde_json::json!({ "tags": tags })),
    }
    Ok(())
}
