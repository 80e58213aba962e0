//! `wasmship drain oci|lib|all [REF]`.

use std::path::PathBuf;

use super::{OutputFormat, output};
use crate::cache::drain::{DrainTarget, drain, drain_reference};
use crate::cache::{Cache, cache_dir};
use crate::error::{Error, Result};
use crate::plan::{IfMissing, Planner};
use crate::reference::Reference;

#[derive(Debug, clap::Args)]
pub struct DrainArgs {
    /// Which caches: oci, lib or all.
    #[arg(value_enum)]
    target: DrainTarget,
    /// Only this entry of the OCI cache (and the blobs only it uses).
    reference: Option<String>,
    /// Cache directory (default: $WASMSHIP_CACHE_DIR, else ~/.cache/wasmship/oci; then the
    /// wasmCloud host's $TMPDIR/wasmcloud_ocicache is emptied too).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Whether the cache directory was named (`--cache-dir`): then only it is drained.
    #[arg(skip)]
    named_cache_dir: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

impl DrainArgs {
    /// Writes the caches it empties: the OCI cache (`oci`, `all`, or one entry), the
    /// wasmCloud host's cache (`oci`, `all`, unless a cache directory is named) and
    /// wasmCloud's provider-binary directory (`lib`, `all`). A missing one is empty: none is
    /// created; the wasmCloud host's are under `$TMPDIR` and never followed through a link.
    pub fn plan(&mut self, planner: &mut Planner) -> Result<()> {
        let env = planner.env();
        self.named_cache_dir |= self.cache_dir.is_some();
        if self.reference.is_some() || self.target != DrainTarget::Lib {
            let dir = crate::cache::cache_dir_with(self.cache_dir.as_deref(), &env.lookup());
            self.cache_dir = Some(planner.cache_dir(&dir, IfMissing::Skip));
        }
        if self.reference.is_none() && self.target != DrainTarget::Lib && !self.named_cache_dir {
            let dir = crate::cache::host_cache_dir_with(&env.lookup());
            planner.shared_dir(&dir, IfMissing::Skip, "wasmCloud host cache");
        }
        if self.reference.is_none() && self.target != DrainTarget::Oci {
            let dir = crate::cache::temp_dir_with(&env.lookup()).join(crate::cache::LIB_DIR_NAME);
            planner.shared_dir(&dir, IfMissing::Skip, "wasmCloud provider binaries");
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
        None => {
            let with_host_cache = !args.named_cache_dir;
            drain(args.target, args.cache_dir.as_deref(), with_host_cache)?
                .iter()
                .map(|p| p.display().to_string())
                .collect()
        }
    };
    match args.output {
        OutputFormat::Text => output::print_text(&format!("Successfully cleared caches at: {drained:?}\n")),
        OutputFormat::Json => output::print_json(&serde_json::json!({"drained": drained, "success": true})),
    }
    Ok(())
}
