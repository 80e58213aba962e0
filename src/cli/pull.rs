//! `wasmship pull REF`.

use std::path::PathBuf;

use super::{CacheArgs, OutputFormat, RegistryArgs, output};
use crate::cache::LinkMode;
use crate::error::Result;
use crate::ops::{PullRequest, pull};
use crate::plan::{FsAccess, IfMissing, PathKind, Planner};
use crate::reference::LAYOUT_SCHEME;

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// What to pull: host[:port]/repository:tag[@digest] or oci-layout://DIR:TAG.
    reference: String,
    /// File to write (default: <repository name>.wasm in the current directory).
    #[arg(short = 'd', long)]
    destination: Option<PathBuf>,
    /// Expected manifest digest (sha256:…); the pull fails if it differs.
    #[arg(long)]
    digest: Option<String>,
    /// Allow pulling `:latest` or an untagged reference.
    #[arg(long)]
    allow_latest: bool,
    /// Also write the wasmCloud host's cache entry, so a host started later finds it offline.
    #[arg(long)]
    wasmcloud_host_cache: bool,
    /// The wasmCloud host's cache directory, when its entry is written.
    #[arg(skip)]
    host_cache_dir: Option<std::path::PathBuf>,
    /// How a cached layer reaches the destination: hardlink (default, else
    /// $WASMSHIP_LINK_MODE: no copy while no other pulled file shares the cached blob) or
    /// copy. Edit a linked file in place and the cache notices and fetches the blob again.
    #[arg(long, value_name = "MODE")]
    link_mode: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    verify: super::sign::VerifyKeyArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

impl PullArgs {
    /// Reads the reference's store (through the cache for registries); writes the
    /// destination (a file, or into a directory), by default in the working directory.
    pub fn plan(&mut self, planner: &mut Planner) -> Result<()> {
        if self.cache.offline() {
            planner.offline();
        }
        self.reference = self.registry.plan_reference(planner, &self.reference, FsAccess::Read)?;
        self.verify.plan(planner);
        if !self.reference.trim().starts_with(LAYOUT_SCHEME) {
            self.cache.plan(planner);
        }
        if self.wasmcloud_host_cache {
            let dir = crate::cache::host_cache_dir_with(&planner.env().lookup());
            self.host_cache_dir = Some(planner.shared_dir(&dir, IfMissing::Create, "wasmCloud host cache"));
        }
        match &self.destination {
            Some(path) => {
                let purpose = "pulled file";
                let used = planner.path(path, PathKind::FileOrDirectory, FsAccess::Write, IfMissing::Fail, purpose);
                self.destination = Some(used);
            }
            None => planner.working_dir(FsAccess::Write, "pulled file (<repository>.wasm)"),
        }
        Ok(())
    }
}

pub fn run(args: &PullArgs) -> Result<()> {
    let outcome = pull(&PullRequest {
        reference: args.reference.clone(),
        destination: args.destination.clone(),
        expected_digest: args.digest.clone(),
        options: args.registry.options(&args.reference, args.allow_latest)?,
        cache: args.cache.options()?,
        wasmcloud_host_cache: args.host_cache_dir.clone().filter(|_| args.wasmcloud_host_cache),
        link_mode: LinkMode::choose(args.link_mode.as_deref())?,
        verify: args.verify.requirement(&args.reference)?,
    })?;
    let file = outcome.destination.display().to_string();
    match args.output {
        OutputFormat::Text => {
            output::print_text(&format!("Pulled and verified {} ({}) to {file}\n", outcome.reference, outcome.digest))
        }
        OutputFormat::Json => output::print_json(&serde_json::json!({
            "success": true,
            "file": file,
            "reference": outcome.reference,
            "digest": outcome.digest.to_string(),
            "size": outcome.size,
            "cached": outcome.from_cache,
            "linked": outcome.linked,
        })),
    }
    Ok(())
}
