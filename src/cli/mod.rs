//! The command line: flags parsed by clap into typed arguments, each command
//! resolved into an operation request, outcomes printed as text or JSON.
//! Exit codes: 0 success, 1 failure (usage errors included: WASI 0.2 hosts
//! only carry success or failure).

mod app;
mod cache;
mod copy;
mod drain;
mod inspect;
mod key;
mod mirrors;
mod output;
mod par;
mod plan;
mod provider_report;
mod pull;
mod push;
mod referrers;
mod sign;
mod tags;
mod wit;

use clap::{Parser, Subcommand};

pub use output::OutputFormat;

use crate::auth::Secret;
use crate::cache::PullPolicy;
use crate::config::ExplicitCredentials;
use crate::ops::RegistryOptions;
use crate::ops::fetch::CacheOptions;
use crate::plan::{FsAccess, HostEnv, IfMissing, Plan, Planner};
use crate::reference::Reference;

/// What the `wasmship` runner adds in front of these commands.
const RUNNER_HELP: &str = "With the wasmship runner (the native `wasmship` binary):
  wasmship self path             path of the packager component itself (to publish it)
  wasmship self version          runner, wasmtime and component versions
  wasmship --component FILE ...  run another build of the packager
  wasmship --allow-host HOST ... only contact these hosts (repeatable)
  wasmship --ca-cert FILE ...    also trust these PEM certificates (repeatable)
It grants each command only what `wasmship plan COMMAND...` shows; WASMSHIP_DEBUG=1 names
every grant on stderr.";

/// wasmship: push, pull and inspect WebAssembly components in OCI registries
/// and OCI image layouts.
#[derive(Debug, Parser)]
#[command(name = "wasmship", version, about, long_about = None, after_help = RUNNER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The packager's command line as clap describes it, for tools that must read
/// arguments the way the packager does (the runner checks its scan against it).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Push a Wasm component or module as an OCI artifact.
    Push(push::PushArgs),
    /// Pull the Wasm file of an OCI artifact.
    Pull(pull::PullArgs),
    /// Show an artifact's manifest, config and annotations (no layer download), or a
    /// provider archive's claims and checks (a reference or a local .par/.par.gz).
    Inspect(inspect::InspectArgs),
    /// Create or extend wasmCloud capability provider archives (.par, .par.gz).
    #[command(subcommand)]
    Par(par::ParCommand),
    /// List the tags of a repository.
    Tags(tags::TagsArgs),
    /// Copy an artifact between stores (registries, OCI layouts), keeping its digest.
    Copy(copy::CopyArgs),
    /// List, verify or prune the local OCI cache.
    #[command(subcommand)]
    Cache(cache::CacheCommand),
    /// Empty caches: oci (the OCI cache), lib (provider binaries) or all; or one entry.
    Drain(drain::DrainArgs),
    /// WIT packages: build, publish, get; fetch, update and check a world's dependencies.
    #[command(subcommand)]
    Wit(wit::WitCommand),
    /// Cosign key pairs: generate.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Sign an artifact by digest with a cosign key (legacy `.sig` tag or Sigstore bundle).
    Sign(sign::SignArgs),
    /// Verify an artifact's cosign signatures (both formats) with public keys.
    Verify(sign::VerifyArgs),
    /// Attach a file (an SBOM, an attestation) to an artifact as an OCI referrer.
    Attach(referrers::AttachArgs),
    /// Show what refers to an artifact: OCI referrers and cosign's .sig/.att/.sbom tags.
    Discover(referrers::DiscoverArgs),
    /// wadm applications: list, lock and pin the artifacts a manifest names.
    #[command(subcommand)]
    App(app::AppCommand),
    /// Show what a command would read, write and reach, without running it.
    Plan(plan::PlanArgs),
}

impl Cli {
    /// Resolves the command into its plan, rewriting its paths into the form it then uses.
    fn plan(&mut self, env: &HostEnv) -> crate::Result<Plan> {
        let mut planner = Planner::new(env);
        let command = match &mut self.command {
            Command::Push(args) => args.plan(&mut planner).map(|()| "push"),
            Command::Pull(args) => args.plan(&mut planner).map(|()| "pull"),
            Command::Inspect(args) => args.plan(&mut planner).map(|()| "inspect"),
            Command::Par(command) => command.plan(&mut planner),
            Command::Tags(args) => args.plan(&mut planner).map(|()| "tags"),
            Command::Copy(args) => args.plan(&mut planner).map(|()| "copy"),
            Command::Cache(command) => Ok(command.plan(&mut planner)),
            Command::Drain(args) => args.plan(&mut planner).map(|()| "drain"),
            Command::Wit(command) => command.plan(&mut planner),
            Command::Key(command) => command.plan(&mut planner),
            Command::Sign(args) => args.plan(&mut planner).map(|()| "sign"),
            Command::Verify(args) => args.plan(&mut planner).map(|()| "verify"),
            Command::Attach(args) => args.plan(&mut planner).map(|()| "attach"),
            Command::Discover(args) => args.plan(&mut planner).map(|()| "discover"),
            Command::App(command) => command.plan(&mut planner),
            Command::Plan(args) => Ok(args.plan(&mut planner)),
        }?;
        Ok(Plan { command: command.to_owned(), needs: planner.finish() })
    }

    fn output(&self) -> OutputFormat {
        match &self.command {
            Command::Push(args) => args.output,
            Command::Pull(args) => args.output,
            Command::Inspect(args) => args.output,
            Command::Par(command) => command.output(),
            Command::Tags(args) => args.output,
            Command::Copy(args) => args.output,
            Command::Cache(command) => command.output(),
            Command::Drain(args) => args.output,
            Command::Wit(command) => command.output(),
            Command::Key(command) => command.output(),
            Command::Sign(args) => args.output,
            Command::Verify(args) => args.output,
            Command::Attach(args) => args.output,
            Command::Discover(args) => args.output,
            Command::App(command) => command.output(),
            Command::Plan(args) => args.output(),
        }
    }

    fn execute(&self) -> crate::Result<()> {
        match &self.command {
            Command::Push(args) => push::run(args),
            Command::Pull(args) => pull::run(args),
            Command::Inspect(args) => inspect::run(args),
            Command::Par(command) => par::run(command),
            Command::Tags(args) => tags::run(args),
            Command::Copy(args) => copy::run(args),
            Command::Cache(command) => cache::run(command),
            Command::Drain(args) => drain::run(args),
            Command::Wit(command) => wit::run(command),
            Command::Key(command) => key::run(command),
            Command::Sign(args) => sign::run_sign(args),
            Command::Verify(args) => sign::run_verify(args),
            Command::Attach(args) => referrers::run_attach(args),
            Command::Discover(args) => referrers::run_discover(args),
            Command::App(command) => app::run(command),
            Command::Plan(args) => plan::run(args),
        }
    }
}

/// The plan of the command line `args` (the first is the program name) in `env`: what a
/// host must grant to run it. A command line that does not parse needs nothing.
pub fn plan_of(args: impl IntoIterator<Item = String>, env: &HostEnv) -> crate::Result<Plan> {
    match Cli::try_parse_from(args) {
        Ok(mut cli) => cli.plan(env),
        Err(_) => Ok(Plan::default()),
    }
}

/// Flags of commands that read through the cache.
#[derive(Debug, Clone, clap::Args)]
struct CacheArgs {
    /// When to ask the registry: revalidate (default: a HEAD on the manifest),
    /// always, if-not-present, never.
    #[arg(long = "pull", value_name = "POLICY", default_value = "revalidate")]
    policy: String,
    /// Never touch the network; use the cache only (same as --pull never).
    #[arg(long)]
    offline: bool,
    /// Cache directory (default: $WASMSHIP_CACHE_DIR, else ~/.cache/wasmship/oci).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<std::path::PathBuf>,
    /// Do not use or fill the cache.
    #[arg(long, conflicts_with = "offline")]
    no_cache: bool,
}

impl CacheArgs {
    /// The cache directory, for a command that reads through the cache (not with
    /// `--no-cache`), named explicitly from here on.
    fn plan(&mut self, planner: &mut Planner) {
        if self.no_cache {
            return;
        }
        let dir = crate::cache::cache_dir_with(self.cache_dir.as_deref(), &planner.env().lookup());
        self.cache_dir = Some(planner.cache_dir(&dir, IfMissing::Create));
    }

    fn offline(&self) -> bool {
        self.offline || self.policy == "never"
    }

    fn options(&self) -> crate::Result<CacheOptions> {
        let policy = if self.offline { PullPolicy::Never } else { self.policy.parse()? };
        Ok(CacheOptions { policy, dir: self.cache_dir.clone(), disabled: self.no_cache })
    }
}

/// Flags shared by commands that reach a registry.
#[derive(Debug, Clone, clap::Args)]
struct RegistryArgs {
    /// Use plain HTTP for this registry (loopback registries always do).
    #[arg(long)]
    insecure: bool,
    /// Use HTTPS without verifying the registry's certificate (done by the runner).
    #[arg(long)]
    insecure_skip_tls_verify: bool,
    /// Registry user name (else WASH_REG_USER, wasmcloud.toml, Docker's config.json).
    #[arg(short = 'u', long = "user", value_name = "USER", requires = "password")]
    user: Option<String>,
    /// Registry password or token (else WASH_REG_PASSWORD, …).
    #[arg(short = 'p', long = "password", value_name = "PASSWORD", requires = "user")]
    password: Option<String>,
    #[command(flatten)]
    mirrors: mirrors::MirrorArgs,
}

impl RegistryArgs {
    /// A reference the command reads from (`access` read: through the mirrors configured)
    /// or writes to.
    fn plan_reference(&mut self, planner: &mut Planner, reference: &str, access: FsAccess) -> crate::Result<String> {
        if access == FsAccess::Read {
            self.mirrors.plan(planner);
        }
        planner.reference(reference, access, self.insecure_skip_tls_verify)
    }

    fn options(&self, reference: &str, allow_latest: bool) -> crate::Result<RegistryOptions> {
        self.options_for(&[reference], allow_latest)
    }

    /// Options for a command that reaches the registries of all `references`.
    fn options_for(&self, references: &[&str], allow_latest: bool) -> crate::Result<RegistryOptions> {
        let mut insecure = Vec::new();
        for reference in references {
            if self.insecure
                && let Ok(Reference::Registry(r)) = crate::ops::parse_reference(reference)
            {
                insecure.push(r.registry);
            }
        }
        Ok(RegistryOptions {
            insecure,
            allow_latest,
            credentials: ExplicitCredentials {
                user: self.user.clone(),
                password: self.password.clone().map(Secret::new),
                only: None,
            },
            mirrors: self.mirrors.load()?,
        })
    }
}

/// `-a KEY=VALUE` arguments as pairs, in order.
fn parse_annotations(annotations: &[String]) -> crate::Result<Vec<(String, String)>> {
    annotations
        .iter()
        .map(|a| {
            a.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| crate::Error::Usage(format!("annotation {a:?} is not KEY=VALUE")))
        })
        .collect()
}

/// Run the CLI with `args` (the first is the program name); the exit code.
pub fn run(args: impl IntoIterator<Item = String>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let mut cli = cli;
    let format = cli.output();
    let result = cli.plan(&HostEnv::process()).and_then(|_| cli.execute());
    match result {
        Ok(()) => 0,
        Err(e) => {
            output::print_error(format, &e);
            1
        }
    }
}
