//! `wasmship par create` and `wasmship par insert`: build and extend wasmCloud
//! provider archives, with wash's flags (and its `WASH_ISSUER_KEY`,
//! `WASH_SUBJECT_KEY`, `WASH_KEYS` variables).

use std::path::PathBuf;

use super::{OutputFormat, output};
use crate::config::env::var;
use crate::error::{Error, Result};
use crate::ops::par::{CreateRequest, InsertRequest, KeyOptions, ParOutcome, create, insert};
use crate::plan::{FsAccess, IfMissing, PathKind, Planner};
use crate::provider::ProviderInfo;
use crate::provider::keydir;

#[derive(Debug, clap::Subcommand)]
pub enum ParCommand {
    /// Build a provider archive from a provider binary, signed with nkeys.
    Create(CreateArgs),
    /// Add (or replace) a target's binary in a provider archive and sign it again.
    Insert(InsertArgs),
}

impl ParCommand {
    /// Reads the binary (schema, WIT directory, key files); writes the archive; uses the
    /// key directory (kept to the user) unless both keys are given.
    pub fn plan(&mut self, planner: &mut Planner) -> Result<&'static str> {
        match self {
            ParCommand::Create(args) => {
                args.binary = planner.input_file(&args.binary, "provider binary");
                if let Some(schema) = &args.schema {
                    args.schema = Some(planner.input_file(schema, "link configuration schema"));
                }
                if let Some(dir) = &args.wit_dir {
                    args.wit_dir = Some(planner.dir(dir, FsAccess::Read, IfMissing::Fail, "provider WIT"));
                }
                match &args.destination {
                    Some(path) => {
                        let kind = PathKind::FileOrDirectory;
                        let used = planner.path(path, kind, FsAccess::Write, IfMissing::Fail, "provider archive");
                        args.destination = Some(used);
                    }
                    None => planner.working_dir(FsAccess::Write, "provider archive (<binary name>.par)"),
                }
                args.keys.plan(planner, true);
                Ok("par create")
            }
            ParCommand::Insert(args) => {
                args.archive = planner.output_file(&args.archive, "provider archive (rewritten)");
                args.binary = planner.input_file(&args.binary, "provider binary");
                args.keys.plan(planner, false);
                Ok("par insert")
            }
        }
    }

    pub fn output(&self) -> OutputFormat {
        match self {
            ParCommand::Create(a) => a.output,
            ParCommand::Insert(a) => a.output,
        }
    }
}

/// Where the signing keys come from.
#[derive(Debug, Clone, clap::Args)]
struct KeyArgs {
    /// Account seed (SA…) or a file holding it (else $WASH_ISSUER_KEY, else the key directory).
    #[arg(short = 'i', long, value_name = "KEY")]
    issuer: Option<String>,
    /// Service seed (SV…) or a file holding it (else $WASH_SUBJECT_KEY, else the key directory).
    #[arg(short = 's', long, value_name = "KEY")]
    subject: Option<String>,
    /// Key directory (default $WASH_KEYS, else $HOME/.wash/keys).
    #[arg(short = 'd', long, value_name = "KEYDIR")]
    directory: Option<PathBuf>,
    /// Never generate missing keys.
    #[arg(long)]
    disable_keygen: bool,
}

impl KeyArgs {
    /// Key files given instead of seeds are read; the key directory is needed unless both
    /// keys are given, created (private) when keys may be generated there.
    fn plan(&mut self, planner: &mut Planner, may_generate: bool) {
        let env = planner.env();
        let issuer = self.issuer.clone().or_else(|| env.var("WASH_ISSUER_KEY"));
        let subject = self.subject.clone().or_else(|| env.var("WASH_SUBJECT_KEY"));
        for (value, slot, purpose) in
            [(&issuer, &mut self.issuer, "issuer key file"), (&subject, &mut self.subject, "subject key file")]
        {
            if let Some(value) = value.as_deref().filter(|v| !keydir::looks_like_seed(v)) {
                *slot = Some(planner.input_file(std::path::Path::new(value), purpose).display().to_string());
            }
        }
        if issuer.is_some() && subject.is_some() {
            return;
        }
        let dir = self.directory.clone().or_else(|| keydir::default_dir_with(&env.lookup()));
        if let Some(dir) = dir {
            let create = may_generate && !self.disable_keygen;
            self.directory = Some(planner.owner_only_dir(&dir, create, "signing keys"));
        }
    }

    fn options(&self) -> KeyOptions {
        KeyOptions {
            issuer: self.issuer.clone().or_else(|| var("WASH_ISSUER_KEY")),
            subject: self.subject.clone().or_else(|| var("WASH_SUBJECT_KEY")),
            directory: self.directory.clone(),
            disable_keygen: self.disable_keygen,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Name of the capability provider.
    #[arg(short = 'n', long)]
    name: String,
    /// Vendor of the provider (e.g. wasmCloud, Acme).
    #[arg(short = 'v', long)]
    vendor: String,
    /// Path of the provider binary.
    #[arg(short = 'b', long, value_name = "PATH")]
    binary: PathBuf,
    /// Target of the binary, ARCH-OS (default: the host's, e.g. x86_64-linux).
    #[arg(short = 'a', long, value_name = "TARGET")]
    arch: Option<String>,
    /// Human-friendly version string.
    #[arg(long)]
    version: Option<String>,
    /// Monotonically increasing revision number.
    #[arg(short = 'r', long)]
    revision: Option<i32>,
    /// JSON schema of the provider's link configuration.
    #[arg(short = 'j', long, value_name = "FILE")]
    schema: Option<PathBuf>,
    /// Directory of the provider's WIT; its world is embedded as world.wasm.
    #[arg(long = "wit-dir", alias = "wit-directory", value_name = "DIR")]
    wit_dir: Option<PathBuf>,
    #[command(flatten)]
    keys: KeyArgs,
    /// Output file (default <binary name>.par, .par.gz with --compress).
    #[arg(long, value_name = "FILE")]
    destination: Option<PathBuf>,
    /// Gzip the archive (.par.gz).
    #[arg(long)]
    compress: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct InsertArgs {
    /// The provider archive (.par or .par.gz), rewritten in place.
    archive: PathBuf,
    /// Path of the provider binary to add.
    #[arg(short = 'b', long, value_name = "PATH")]
    binary: PathBuf,
    /// Target of the binary, ARCH-OS (default: the host's).
    #[arg(short = 'a', long, value_name = "TARGET")]
    arch: Option<String>,
    #[command(flatten)]
    keys: KeyArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

pub fn run(command: &ParCommand) -> Result<()> {
    match command {
        ParCommand::Create(args) => {
            let world = match &args.wit_dir {
                Some(dir) => Some(crate::witpkg::encode::encode_dir(dir)?.1),
                None => None,
            };
            let outcome = create(&CreateRequest {
                info: ProviderInfo {
                    name: args.name.clone(),
                    vendor: args.vendor.clone(),
                    revision: args.revision,
                    version: args.version.clone(),
                    schema: None,
                },
                binary: args.binary.clone(),
                target: target(args.arch.as_deref())?,
                schema: args.schema.clone(),
                world,
                keys: args.keys.options(),
                destination: args.destination.clone(),
                compress: args.compress,
            })?;
            report(args.output, &outcome, &format!("Successfully created archive {}", outcome.file.display()));
        }
        ParCommand::Insert(args) => {
            let target = target(args.arch.as_deref())?;
            let outcome = insert(&InsertRequest {
                archive: args.archive.clone(),
                binary: args.binary.clone(),
                target: target.clone(),
                keys: args.keys.options(),
            })?;
            let verb = if outcome.replaced { "replaced" } else { "inserted" };
            let text = format!(
                "Successfully {verb} {} ({target}) in archive {}",
                args.binary.display(),
                outcome.file.display()
            );
            report(args.output, &outcome, &text);
        }
    }
    Ok(())
}

fn report(format: OutputFormat, outcome: &ParOutcome, text: &str) {
    for key in &outcome.generated_keys {
        eprintln!("note: no key found; generated {} (keep it: it signs this provider)", key.display());
    }
    match format {
        OutputFormat::Text => output::print_text(&format!("{text}\n")),
        OutputFormat::Json => output::print_json(&serde_json::json!({
            "success": true,
            "file": outcome.file.display().to_string(),
            "issuer": outcome.issuer,
            "service": outcome.subject,
            "targets": outcome.targets,
            "generated_keys": outcome.generated_keys.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        })),
    }
}

/// The target: given, else the host's (`WASMSHIP_HOST_TARGET`, set by the
/// runner, since inside the component the platform is wasm32).
fn target(given: Option<&str>) -> Result<String> {
    if let Some(target) = given {
        return Ok(target.to_string());
    }
    if let Some(host) = var(crate::host_contract::HOST_TARGET) {
        return Ok(host);
    }
    if cfg!(target_arch = "wasm32") {
        return Err(Error::Usage("the host's target is unknown here; give --arch (e.g. x86_64-linux)".into()));
    }
    Ok(format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS))
}
