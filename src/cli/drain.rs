//! `wasmship drain oci|lib|all [REF]`.

use std::path::PathBuf;

use super::{OutputFormat, output};
use crate::cache::drain::{DrainTarget, drain, drain_reference};
use crate::cache::{Cache, cache_dir};
use crate::error::{Error, Result};
use crate::plan::{FsAccess, IfMissing, Planner};
use crate::reference::Reference;

#[derive(Debug, clap::Args)]
pub struct DrainArgs {
    /// Which caches: oci, lib or all.
    #[arg(value_enum)]
    target: DrainTarget,
    /// Only this entry of the OCI cache (and the blobs only it uses).
    reference: Option<String>,
    /// Cache directory (default: $WASMSHIP_CACHE_DIR, else $TMPDIR/wasmcloud_ocicache).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

impl DrainArgs {
    /// Writes the caches it empties: the OCI cache (`oci`, `all`, or one entry) and
    /// wasmCloud's provider-binary directory (`lib`, `all`).
    pub fn plan(&mut self, planner: &mut Planner) -> Result<()> {
        let env = planner.env();
        if self.reference.is_some() || self.target != DrainTarget::Lib {
            let dir = crate::cache::cache_dir_with(self.cache_dir.as_deref(), &env.lookup());
            self.cache_dir = Some(planner.dir(&dir, FsAccess::Write, IfMissing::Create, "cache"));
        }
        if self.reference.is_none() && self.target != DrainTarget::Oci {
            let dir = crate::cache::temp_dir_with(&env.lookup()).join(crate::cache::LIB_DIR_NAME);
            planner.dir(&dir, FsAccess::Write, IfMissing::Create, "wasmCloud provider binaries");
        }
        Ok(())
    }
}

pub fn run(args: &DrainArgs) -> Result<()> {
    let drained: Vec<String> = match &args.reference {
        Some(reference) => {
            if args.target == DrainTarget::Lib {
                return Err(Error::Usage("a reference selects an OCI cache entry: use drain oci REF".into()));
            }
            let key = match crate::ops::parse_reference(reference)? {
                Reference::Registry(r) => Cache::key(&r),
                Reference::Layout(_) => {
                    return Err(Error::Usage("oci-layout references are not cached; nothing to drain".into()));
                }
            };
            let removed = drain_reference(args.cache_dir.as_deref(), &key)?;
            if removed.is_empty() {
                return Err(Error::NotFound {
                    what: format!("cache entry {key}"),
                    location: cache_dir(args.cache_dir.as_deref()).display().to_string(),
                });
            }
            removed
        }
        None => drain(args.target, args.cache_dir.as_deref())?.iter().map(|p| p.display().to_string()).collect(),
    };
    match args.output {
        OutputFormat::Text => output::print_text(&format!("Successfully cleared caches at: {drained:?}\n")),
        OutputFormat::Json => output::print_json(&serde_json::json!({"drained": drained, "success": true})),
    }
    Ok(())
}
