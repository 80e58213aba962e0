//! `wasmship tags REF`.

use super::{OutputFormat, RegistryArgs, output};
use crate::error::Result;
use crate::ops;

#[derive(Debug, clap::Args)]
pub struct TagsArgs {
    /// Repository: host[:port]/repository (a tag, if given, is ignored) or oci-layout://DIR.
    reference: String,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

pub fn run(args: &TagsArgs) -> Result<()> {
    let tags = ops::tags(&args.reference, &args.registry.options(&args.reference, true))?;
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
