//! `wasmship app`: the artifacts a wadm application manifest names — list them, lock them
//! by digest, pin the manifest to those digests in place, bundle them into one OCI layout,
//! relocate them to another registry.

use std::path::{Path, PathBuf};

use super::{OutputFormat, RegistryArgs, output};
use crate::app::lock::{AppLock, default_path};
use crate::app::manifest::{MAX_MANIFEST, Source};
use crate::app::ops::{
    RelocateRequest, bundle, default_output, is_bundle, lock, pin, prefetch, read_manifest, relocate, verify_bundle,
};
use crate::error::Result;
use crate::plan::{FsAccess, IfMissing, PathKind, Planner};

#[derive(Debug, clap::Subcommand)]
pub enum AppCommand {
    /// List every artifact the manifest names: component name, type and image.
    Images(ImagesArgs),
    /// Resolve every image to its manifest digest and write the lock (wadm.lock.json).
    Lock(LockArgs),
    /// Rewrite the manifest's image references in place to repo:tag@sha256:… (nothing else changes).
    Pin(PinArgs),
    /// Copy every artifact (with its signatures and referrers), the manifest and its lock
    /// into one new OCI image layout directory, to carry across an air gap.
    Bundle(BundleArgs),
    /// Copy every artifact (from its registries or a bundle) into another registry and
    /// write the manifest with each image rewritten there, pinned by digest.
    Relocate(RelocateArgs),
    /// Check a bundle on its own: every digest, and with --verify-key every signature.
    Verify(VerifyBundleArgs),
    /// Bring every artifact into the cache ahead of a deployment (and the wasmCloud host's cache).
    Pull(AppPullArgs),
}

/// Flags of the commands that work through every artifact of a manifest.
#[derive(Debug, clap::Args)]
pub struct EachArtifactArgs {
    /// Go on after an artifact fails and report every failure at the end (nothing is
    /// written unless all succeed).
    #[arg(long)]
    keep_going: bool,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct AppPullArgs {
    /// The wadm application manifest (YAML).
    manifest: PathBuf,
    /// Also write the wasmCloud host's cache entries ($TMPDIR/wasmcloud_ocicache), under each
    /// reference as the manifest writes it.
    #[arg(long)]
    wasmcloud_host_cache: bool,
    #[arg(skip)]
    host_cache_dir: Option<PathBuf>,
    #[command(flatten)]
    cache: super::CacheArgs,
    #[command(flatten)]
    verify: super::sign::VerifyKeyArgs,
    #[command(flatten)]
    jobs: JobsArgs,
    #[command(flatten)]
    each: EachArtifactArgs,
}

#[derive(Debug, clap::Args)]
pub struct VerifyBundleArgs {
    /// The bundle made by `app bundle`: a directory or a .tar.
    bundle: PathBuf,
    /// Require every artifact to be signed by this public key (repeatable: any one of them).
    #[arg(long = "verify-key", value_name = "FILE")]
    verify_key: Vec<PathBuf>,
    /// With --verify-key: an annotation key=value each signature must carry (repeatable).
    #[arg(long = "verify-annotation", value_name = "KEY=VALUE", requires = "verify_key")]
    verify_annotations: Vec<String>,
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct BundleArgs {
    /// The wadm application manifest (YAML).
    manifest: PathBuf,
    /// The bundle to create (must not exist): a directory, or one file when it ends in .tar.
    #[arg(short = 'o', long = "output", value_name = "DIR|FILE.tar")]
    out: PathBuf,
    #[command(flatten)]
    jobs: JobsArgs,
    #[command(flatten)]
    each: EachArtifactArgs,
}

/// How many transfers overlap.
#[derive(Debug, clap::Args)]
pub struct JobsArgs {
    /// Blobs in flight at once (1: one after the other).
    #[arg(short = 'j', long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
}

impl JobsArgs {
    fn count(&self) -> usize {
        usize::from(self.jobs)
    }
}

#[derive(Debug, clap::Args)]
pub struct RelocateArgs {
    /// A wadm application manifest, or a bundle made by `app bundle` (directory or .tar).
    input: PathBuf,
    /// The target: host[:port][/prefix]; each repository keeps its path under the prefix.
    #[arg(long, value_name = "REGISTRY[/PREFIX]")]
    to: String,
    /// Name each repository by its last path segment only (prefix/name).
    #[arg(long)]
    flatten: bool,
    /// Print what would be copied where; copy and write nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    jobs: JobsArgs,
    /// The rewritten manifest (default: <name>.relocated.yaml beside the manifest, or
    /// wadm.relocated.yaml for a bundle).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    each: EachArtifactArgs,
}

#[derive(Debug, clap::Args)]
pub struct ImagesArgs {
    /// The wadm application manifest (YAML).
    manifest: PathBuf,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct LockArgs {
    /// The wadm application manifest (YAML).
    manifest: PathBuf,
    /// The lock to write (default: beside the manifest, <name>.lock.json).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    lock: Option<PathBuf>,
    #[command(flatten)]
    each: EachArtifactArgs,
}

#[derive(Debug, clap::Args)]
pub struct PinArgs {
    /// The wadm application manifest (YAML), rewritten in place.
    manifest: PathBuf,
    #[command(flatten)]
    each: EachArtifactArgs,
}

impl AppCommand {
    /// Reads the manifest; lock writes its lock, pin the manifest; both reach the
    /// registries the manifest names (read while planning; any, when it cannot be read).
    pub fn plan(&mut self, planner: &mut Planner) -> Result<&'static str> {
        Ok(match self {
            AppCommand::Images(args) => {
                args.manifest = planner.input_file(&args.manifest, "application manifest");
                "app images"
            }
            AppCommand::Lock(args) => {
                let lock = args.lock.clone().unwrap_or_else(|| default_path(&args.manifest));
                plan_registries(planner, &args.manifest, &mut args.each.registry);
                args.manifest = planner.input_file(&args.manifest, "application manifest");
                args.lock = Some(planner.output_file(&lock, "application lock"));
                "app lock"
            }
            AppCommand::Pin(args) => {
                plan_registries(planner, &args.manifest, &mut args.each.registry);
                args.manifest = planner.output_file(&args.manifest, "application manifest (pinned in place)");
                "app pin"
            }
            AppCommand::Bundle(args) => {
                plan_registries(planner, &args.manifest, &mut args.each.registry);
                args.manifest = planner.input_file(&args.manifest, "application manifest");
                // An existing directory is granted as it is, for the command to refuse by name.
                let kind = PathKind::FileOrDirectory;
                let purpose = "application bundle (a new directory)";
                args.out = planner.path(&args.out, kind, FsAccess::Write, IfMissing::Fail, purpose);
                "app bundle"
            }
            AppCommand::Relocate(args) => {
                let out = args.out.clone().unwrap_or_else(|| default_output(&args.input));
                if planner.is_dir(&args.input) {
                    args.input = planner.dir(&args.input, FsAccess::Read, IfMissing::Fail, "application bundle");
                } else if crate::app::tarball::is_tarball(&args.input) {
                    args.input =
                        planner.input_file(&args.input, "application bundle (tar, unpacked beside the output)");
                } else {
                    plan_registries(planner, &args.input, &mut args.each.registry);
                    args.input = planner.input_file(&args.input, "application manifest");
                }
                let host = args.to.trim().split('/').next().unwrap_or_default();
                planner.registry(host, args.each.registry.insecure_skip_tls_verify);
                if !args.dry_run {
                    planner.output_file(&default_path(&out), "the relocated manifest's lock");
                    args.out = Some(planner.output_file(&out, "relocated application manifest"));
                }
                "app relocate"
            }
            AppCommand::Pull(args) => {
                if !args.cache.offline() {
                    plan_registries(planner, &args.manifest, &mut args.each.registry);
                }
                args.manifest = planner.input_file(&args.manifest, "application manifest");
                args.cache.plan(planner);
                args.verify.plan(planner);
                if args.wasmcloud_host_cache {
                    let dir = crate::cache::host_cache_dir_with(&planner.env().lookup());
                    args.host_cache_dir = Some(planner.shared_dir(&dir, IfMissing::Create, "wasmCloud host cache"));
                }
                "app pull"
            }
            AppCommand::Verify(args) => {
                args.bundle = if crate::app::tarball::is_tarball(&args.bundle) {
                    planner.working_dir(FsAccess::Write, "the bundle unpacked for the check (removed after)");
                    planner.input_file(&args.bundle, "application bundle (tar)")
                } else {
                    planner.dir(&args.bundle, FsAccess::Read, IfMissing::Fail, "application bundle")
                };
                for key in &mut args.verify_key {
                    *key = planner.input_file(key, "public key");
                }
                "app verify"
            }
        })
    }

    pub fn output(&self) -> OutputFormat {
        let json = match self {
            AppCommand::Images(args) => return args.output,
            AppCommand::Lock(args) => args.each.json,
            AppCommand::Pin(args) => args.each.json,
            AppCommand::Bundle(args) => args.each.json,
            AppCommand::Relocate(args) => args.each.json,
            AppCommand::Verify(args) => args.json,
            AppCommand::Pull(args) => args.each.json,
        };
        if json { OutputFormat::Json } else { OutputFormat::Text }
    }
}

/// The registries of the manifest's images, read now; without the manifest, any.
fn plan_registries(planner: &mut Planner, manifest: &Path, registry: &mut RegistryArgs) {
    registry.mirrors.plan(planner);
    let parsed = planner
        .peek(manifest, MAX_MANIFEST)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| crate::app::manifest::parse(&text, "").ok());
    let Some(app) = parsed else {
        planner.any_network();
        return;
    };
    for reference in app.references() {
        if let Ok(crate::reference::Reference::Registry(r)) = crate::ops::parse_reference(reference) {
            planner.pull_registry(&r.registry, registry.insecure_skip_tls_verify);
        }
    }
}

pub fn run(command: &AppCommand) -> Result<()> {
    match command {
        AppCommand::Images(args) => images(args),
        AppCommand::Bundle(args) => run_bundle(args),
        AppCommand::Relocate(args) => run_relocate(args),
        AppCommand::Verify(args) => run_verify(args),
        AppCommand::Pull(args) => run_pull(args),
        AppCommand::Lock(args) => {
            let (_, app) = read_manifest(&args.manifest)?;
            let options = args.each.registry.options_for(&app.references(), true)?;
            let path = args.lock.clone().unwrap_or_else(|| default_path(&args.manifest));
            let (lock, written) = lock(&args.manifest, &path, &options, args.each.keep_going)?;
            if args.each.json {
                output::print_json(&serde_json::to_value(&lock).unwrap_or_default());
            } else {
                output::print_text(&lock_text(&lock, &path, written));
            }
            Ok(())
        }
        AppCommand::Pin(args) => {
            let (_, app) = read_manifest(&args.manifest)?;
            let options = args.each.registry.options_for(&app.references(), true)?;
            let outcome = pin(&args.manifest, &options, args.each.keep_going)?;
            if args.each.json {
                output::print_json(&serde_json::json!({
                    "manifest": args.manifest.display().to_string(),
                    "pinned": outcome.pinned.iter().map(|(from, to)| serde_json::json!({"from": from, "to": to})).collect::<Vec<_>>(),
                    "alreadyPinned": outcome.already,
                    "written": outcome.written,
                }));
            } else {
                let mut text = String::new();
                for (from, to) in &outcome.pinned {
                    text.push_str(&format!("{from} → {to}\n"));
                }
                text.push_str(&match (outcome.written, outcome.already.len()) {
                    (true, 0) => format!("{} pinned\n", args.manifest.display()),
                    (true, n) => format!("{} pinned ({n} already pinned by digest)\n", args.manifest.display()),
                    (false, _) => format!("{}: every image is already pinned by digest\n", args.manifest.display()),
                });
                output::print_text(&text);
            }
            Ok(())
        }
    }
}

fn run_bundle(args: &BundleArgs) -> Result<()> {
    let (_, app) = read_manifest(&args.manifest)?;
    let options = args.each.registry.options_for(&app.references(), true)?;
    let outcome = bundle(&args.manifest, &args.out, &options, args.each.keep_going, args.jobs.count())?;
    if args.each.json {
        output::print_json(&serde_json::json!({
            "bundle": args.out.display().to_string(),
            "artifacts": outcome.lock.artifacts.iter().map(|a| serde_json::json!({
                "reference": a.reference, "digest": a.digest,
            })).collect::<Vec<_>>(),
            "copiedBlobs": outcome.copied_blobs,
            "referrers": outcome.referrers,
        }));
    } else {
        let mut text = String::new();
        for artifact in &outcome.lock.artifacts {
            text.push_str(&format!("{} → {}\n", artifact.reference, artifact.digest));
        }
        text.push_str(&format!(
            "{}: {} artifact(s), {} referrer(s), {} blob(s)\n",
            args.out.display(),
            outcome.lock.artifacts.len(),
            outcome.referrers,
            outcome.copied_blobs
        ));
        output::print_text(&text);
    }
    Ok(())
}

fn run_relocate(args: &RelocateArgs) -> Result<()> {
    let out = args.out.clone().unwrap_or_else(|| default_output(&args.input));
    let mut references = vec![format!("{}/x", args.to.trim().trim_end_matches('/'))];
    if !is_bundle(&args.input)
        && !crate::app::tarball::is_tarball(&args.input)
        && let Ok((_, app)) = read_manifest(&args.input)
    {
        references.extend(app.references().into_iter().map(str::to_string));
    }
    let references: Vec<&str> = references.iter().map(String::as_str).collect();
    let options = args.each.registry.options_for(&references, true)?;
    let request = RelocateRequest {
        input: &args.input,
        to: &args.to,
        flatten: args.flatten,
        dry_run: args.dry_run,
        output: &out,
        keep_going: args.each.keep_going,
        jobs: args.jobs.count(),
    };
    let outcome = relocate(&request, &options)?;
    if args.each.json {
        output::print_json(&serde_json::json!({
            "moves": outcome.moves.iter().map(|m| serde_json::json!({"from": m.from, "to": m.to, "digest": m.digest})).collect::<Vec<_>>(),
            "manifest": outcome.written.then(|| out.display().to_string()),
            "copiedBlobs": outcome.copied_blobs,
            "mountedBlobs": outcome.mounted_blobs,
            "skippedBlobs": outcome.skipped_blobs,
            "referrers": outcome.referrers,
            "dryRun": args.dry_run,
        }));
    } else {
        let mut text = String::new();
        for planned in &outcome.moves {
            text.push_str(&format!("{} → {}\n", planned.from, planned.to));
        }
        if outcome.written {
            text.push_str(&format!(
                "{} written ({} blob(s) copied, {} mounted, {} already there; {} referrer(s))\n",
                out.display(),
                outcome.copied_blobs,
                outcome.mounted_blobs,
                outcome.skipped_blobs,
                outcome.referrers
            ));
        }
        output::print_text(&text);
    }
    Ok(())
}

fn run_verify(args: &VerifyBundleArgs) -> Result<()> {
    let requirement = if args.verify_key.is_empty() {
        None
    } else {
        Some(crate::ops::verify::Requirement {
            keys: super::sign::public_keys(&args.verify_key)?,
            annotations: super::parse_annotations(&args.verify_annotations)?.into_iter().collect(),
        })
    };
    let checked = verify_bundle(&args.bundle, Path::new("."), requirement.as_ref())?;
    if args.json {
        output::print_json(&serde_json::json!({
            "bundle": args.bundle.display().to_string(),
            "artifacts": checked.artifacts,
            "objects": checked.objects,
            "signatures": checked.signatures.iter().map(|(r, n)| serde_json::json!({"reference": r, "verified": n})).collect::<Vec<_>>(),
        }));
    } else {
        let signed = if requirement.is_some() { ", each signed by a given key" } else { "" };
        output::print_text(&format!(
            "{}: {} artifact(s), {} manifest(s) and blob(s) match their digests{signed}\n",
            args.bundle.display(),
            checked.artifacts,
            checked.objects
        ));
    }
    Ok(())
}

fn run_pull(args: &AppPullArgs) -> Result<()> {
    let (_, app) = read_manifest(&args.manifest)?;
    let options = args.each.registry.options_for(&app.references(), true)?;
    let host_cache = args.host_cache_dir.as_deref().filter(|_| args.wasmcloud_host_cache);
    let verification = args.verify.verification()?;
    let done = prefetch(
        &args.manifest,
        &options,
        &args.cache.options()?,
        host_cache,
        &verification,
        args.each.keep_going,
        args.jobs.count(),
    )?;
    if args.each.json {
        output::print_json(&serde_json::json!({
            "artifacts": done.iter().map(|p| serde_json::json!({
                "reference": p.reference, "digest": p.digest.to_string(), "network": p.from_network,
            })).collect::<Vec<_>>(),
            "hostCache": host_cache.map(|d| d.display().to_string()),
        }));
    } else {
        let mut text = String::new();
        for p in &done {
            let how = if p.from_network { "fetched" } else { "cached" };
            text.push_str(&format!("{} → {} ({how})\n", p.reference, p.digest));
        }
        output::print_text(&text);
    }
    Ok(())
}

fn images(args: &ImagesArgs) -> Result<()> {
    let (_, app) = read_manifest(&args.manifest)?;
    match args.output {
        OutputFormat::Json => output::print_json(&serde_json::json!({
            "application": app.name,
            "version": app.version,
            "images": app.entries.iter().map(|entry| {
                let mut value = serde_json::json!({"name": entry.name, "type": entry.kind.name()});
                match &entry.source {
                    Source::Image { reference, .. } => value["image"] = reference.as_str().into(),
                    Source::File(url) => {
                        value["image"] = url.as_str().into();
                        value["local"] = true.into();
                    }
                    Source::Shared { application, component } => {
                        value["sharedApplication"] = serde_json::json!({"name": application, "component": component});
                    }
                }
                value
            }).collect::<Vec<_>>(),
        })),
        OutputFormat::Text => {
            let mut text = String::new();
            for entry in &app.entries {
                let source = match &entry.source {
                    Source::Image { reference, .. } => reference.clone(),
                    Source::File(url) => format!("{url} (local)"),
                    Source::Shared { application, component } => {
                        format!("component {component} of shared application {application}")
                    }
                };
                text.push_str(&format!("{:<10} {:<24} {source}\n", entry.kind.name(), entry.name));
            }
            output::print_text(&text);
        }
    }
    Ok(())
}

fn lock_text(lock: &AppLock, path: &Path, written: bool) -> String {
    let mut text = String::new();
    for artifact in &lock.artifacts {
        let signed = if artifact.referrers.is_empty() {
            String::new()
        } else {
            format!(" ({} referrer(s))", artifact.referrers.len())
        };
        text.push_str(&format!("{} → {}{signed}\n", artifact.reference, artifact.digest));
    }
    let verb = if written { "written" } else { "up to date" };
    text.push_str(&format!("{}: {verb}\n", path.display()));
    text
}
