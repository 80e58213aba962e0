//! `wasmship cache ls|verify|prune`.

use std::path::PathBuf;

use super::{OutputFormat, output};
use crate::cache::{Cache, cache_dir, cache_dir_with, maintenance};
use crate::error::{Error, Result};
use crate::plan::{IfMissing, Planner};

#[derive(Debug, clap::Subcommand)]
pub enum CacheCommand {
    /// List cache entries with their sizes.
    Ls(CacheArgs),
    /// Check every cached blob against its digest; remove the ones that do not match.
    Verify(CacheArgs),
    /// Evict least-recently-used entries until the cache holds at most SIZE bytes.
    Prune {
        /// Size limit in bytes (suffixes K, M, G are powers of 1024).
        #[arg(long, value_name = "SIZE")]
        max_size: String,
        #[command(flatten)]
        args: CacheArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct CacheArgs {
    /// Cache directory (default: $WASMSHIP_CACHE_DIR, else ~/.cache/wasmship/oci).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    output: OutputFormat,
}

impl CacheCommand {
    /// Writes the cache directory (verify and prune remove entries; listing takes its lock).
    pub fn plan(&mut self, planner: &mut Planner) -> &'static str {
        let (name, args) = match self {
            CacheCommand::Ls(a) => ("cache ls", a),
            CacheCommand::Verify(a) => ("cache verify", a),
            CacheCommand::Prune { args: a, .. } => ("cache prune", a),
        };
        let dir = cache_dir_with(args.cache_dir.as_deref(), &planner.env().lookup());
        args.cache_dir = Some(planner.cache_dir(&dir, IfMissing::Skip));
        name
    }

    /// The output format asked for.
    pub fn output(&self) -> OutputFormat {
        match self {
            CacheCommand::Ls(a) | CacheCommand::Verify(a) | CacheCommand::Prune { args: a, .. } => a.output,
        }
    }
}

pub fn run(command: &CacheCommand) -> Result<()> {
    match command {
        CacheCommand::Ls(args) => {
            let dir = cache_dir(args.cache_dir.as_deref());
            let entries = match Cache::open_existing(&dir)? {
                Some(mut cache) => maintenance::entries(&mut cache)?,
                None => Vec::new(),
            };
            match args.output {
                OutputFormat::Text => {
                    let mut text = String::new();
                    for e in &entries {
                        text.push_str(&format!("{}\t{}\t{} bytes\n", e.reference, e.digest, e.size));
                    }
                    output::print_text(&text);
                }
                OutputFormat::Json => output::print_json(&serde_json::json!({
                    "cache": dir.display().to_string(),
                    "entries": entries.iter().map(|e| serde_json::json!({
                        "reference": e.reference,
                        "digest": e.digest.to_string(),
                        "size": e.size,
                    })).collect::<Vec<_>>(),
                })),
            }
            Ok(())
        }
        CacheCommand::Verify(args) => {
            let dir = cache_dir(args.cache_dir.as_deref());
            let bad = match Cache::open_existing(&dir)? {
                Some(mut cache) => maintenance::verify(&mut cache)?,
                None => Vec::new(),
            };
            if args.output == OutputFormat::Json {
                output::print_json(&serde_json::json!({
                    "success": bad.is_empty(),
                    "removed": bad.iter().map(|b| b.digest.to_string()).collect::<Vec<_>>(),
                }));
            } else if bad.is_empty() {
                output::print_text(&format!("{}: every blob matches its digest\n", dir.display()));
            }
            match bad.as_slice() {
                [] => Ok(()),
                _ => Err(Error::DigestMismatch {
                    what: format!("{} cached blob(s) in {}", bad.len(), dir.display()),
                    expected: "content matching the digest".into(),
                    actual: format!(
                        "{} (removed; the next pull fetches them again)",
                        bad.iter().map(|b| b.digest.to_string()).collect::<Vec<_>>().join(", ")
                    ),
                }),
            }
        }
        CacheCommand::Prune { max_size, args } => {
            let limit = crate::config::limits::parse_size(max_size)?;
            let evicted = match Cache::open_existing(&cache_dir(args.cache_dir.as_deref()))? {
                Some(mut cache) => maintenance::prune(&mut cache, limit)?,
                None => Vec::new(),
            };
            match args.output {
                OutputFormat::Text => {
                    let text: String = evicted.iter().map(|r| format!("evicted {r}\n")).collect();
                    output::print_text(&text);
                }
                OutputFormat::Json => output::print_json(&serde_json::json!({"evicted": evicted, "success": true})),
            }
            Ok(())
        }
    }
}
