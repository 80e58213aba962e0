//! `wasmship app`: the artifacts a wadm application manifest names — list them, lock them
//! by digest, pin the manifest to those digests in place.

use std::path::{Path, PathBuf};

use super::{OutputFormat, RegistryArgs, output};
use crate::app::lock::{AppLock, default_path};
use crate::app::manifest::{MAX_MANIFEST, Source};
use crate::app::ops::{lock, pin, read_manifest};
use crate::error::Result;
use crate::plan::Planner;

#[derive(Debug, clap::Subcommand)]
pub enum AppCommand {
    /// List every artifact the manifest names: component name, type and image.
    Images(ImagesArgs),
    /// Resolve every image to its manifest digest and write the lock (wadm.lock.json).
    Lock(LockArgs),
    /// Rewrite the manifest's image references in place to repo:tag@sha256:… (nothing else changes).
    Pin(PinArgs),
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
    registry: RegistryArgs,
    /// Print the lock as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct PinArgs {
    /// The wadm application manifest (YAML), rewritten in place.
    manifest: PathBuf,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
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
                plan_registries(planner, &args.manifest, &args.registry);
                args.manifest = planner.input_file(&args.manifest, "application manifest");
                args.lock = Some(planner.output_file(&lock, "application lock"));
                "app lock"
            }
            AppCommand::Pin(args) => {
                plan_registries(planner, &args.manifest, &args.registry);
                args.manifest = planner.output_file(&args.manifest, "application manifest (pinned in place)");
                "app pin"
            }
        })
    }

    pub fn output(&self) -> OutputFormat {
        let json = match self {
            AppCommand::Images(args) => return args.output,
            AppCommand::Lock(args) => args.json,
            AppCommand::Pin(args) => args.json,
        };
        if json { OutputFormat::Json } else { OutputFormat::Text }
    }
}

/// The registries of the manifest's images, read now; without the manifest, any.
fn plan_registries(planner: &mut Planner, manifest: &Path, registry: &RegistryArgs) {
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
            planner.registry(&r.registry, registry.insecure_skip_tls_verify);
        }
    }
}

pub fn run(command: &AppCommand) -> Result<()> {
    match command {
        AppCommand::Images(args) => images(args),
        AppCommand::Lock(args) => {
            let (_, app) = read_manifest(&args.manifest)?;
            let options = args.registry.options_for(&app.references(), true);
            let path = args.lock.clone().unwrap_or_else(|| default_path(&args.manifest));
            let (lock, written) = lock(&args.manifest, &path, &options)?;
            if args.json {
                output::print_json(&serde_json::to_value(&lock).unwrap_or_default());
            } else {
                output::print_text(&lock_text(&lock, &path, written));
            }
            Ok(())
        }
        AppCommand::Pin(args) => {
            let (_, app) = read_manifest(&args.manifest)?;
            let options = args.registry.options_for(&app.references(), true);
            let outcome = pin(&args.manifest, &options)?;
            if args.json {
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
