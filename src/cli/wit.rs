//! `wasmship wit build|publish|get|fetch|update|check`: WIT packages and a
//! world's dependencies (see `crate::witpkg`).

use std::path::{Path, PathBuf};

use super::{CacheArgs, OutputFormat, output};
use crate::auth::Secret;
use crate::config::ExplicitCredentials;
use crate::error::{Error, Result};
use crate::ops::RegistryOptions;
use crate::plan::{FsAccess, IfMissing, PathKind, Planner};
use crate::witpkg::name::{PackageRef, PackageSpec};
use crate::witpkg::ops::{self, DepsUsed, GetFormat, GetRequest, Project, PublishRequest};
use crate::witpkg::resolve::Update;

#[derive(Debug, clap::Subcommand)]
pub enum WitCommand {
    /// Encode the local WIT package as a binary WIT package (dependencies missing from wit/deps
    /// are resolved as `wit fetch` resolves them, recorded in wkg.lock, and not written to wit/deps).
    Build {
        /// File to write (default: <ns>-<name>-<version>.wasm).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        file: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Publish a WIT package (a .wasm, or a WIT directory built on the fly) to its registry.
    Publish {
        /// A binary WIT package or a WIT directory (default: the --wit-dir).
        input: Option<PathBuf>,
        /// Explicit reference (host/repository[:tag]) instead of the package's registry location.
        reference: Option<String>,
        /// Registry to publish to: a wkg registry name or oci://host/prefix.
        #[arg(long, value_name = "REGISTRY")]
        registry: Option<String>,
        /// Overwrite an existing version.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        common: Common,
        /// For the dependencies of a WIT directory (as `build`); the push itself is never cached.
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Fetch one package and write it as WIT or as a binary package.
    Get {
        /// ns:name or ns:name@version (default: the newest version).
        package: String,
        /// wit (the package with its dependencies nested) or wasm.
        #[arg(long, value_name = "FORMAT", default_value = "wit")]
        format: String,
        /// File or directory to write; `-` for standard output.
        #[arg(short = 'o', long = "output", value_name = "PATH")]
        path: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Fetch the world's dependencies into wit/deps and write wkg.lock.
    Fetch {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Resolve dependencies anew (all, or the packages named) and rewrite wkg.lock and wit/deps.
    Update {
        /// Packages (ns:name) to update; all when none.
        packages: Vec<String>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Exit 0 when wit/deps matches wkg.lock and the world resolves; report what differs otherwise.
    Check {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        cache: CacheArgs,
    },
}

/// Flags of every `wit` command.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// The WIT directory.
    #[arg(long, value_name = "DIR", default_value = crate::witpkg::WIT_DIR)]
    wit_dir: PathBuf,
    /// Reach this registry host over plain HTTP (repeatable; loopback always is).
    #[arg(long, value_name = "HOST")]
    insecure: Vec<String>,
    /// Registry user name (else WKG config, WASH_REG_USER, …).
    #[arg(short = 'u', long = "user", value_name = "USER", requires = "password")]
    user: Option<String>,
    /// Registry password or token.
    #[arg(short = 'p', long = "password", value_name = "PASSWORD", requires = "user")]
    password: Option<String>,
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
    /// Signatures the packages fetched from registries must have.
    #[command(flatten)]
    verify: super::sign::VerifyKeyArgs,
    #[command(flatten)]
    mirrors: super::mirrors::MirrorArgs,
}

impl WitCommand {
    /// Every `wit` command works in the project (the working directory: configuration,
    /// `wkg.lock`, `wit/`); fetch and update write `wkg.lock` and `wit/deps`, build its
    /// package; build and publish (of a WIT directory) resolve dependencies `wit/deps` lacks
    /// through the cache and record them in `wkg.lock`. Registries are found while running
    /// (discovery), so the network is open unless offline or, for publishing a `.wasm`, the
    /// registry is named (`publish --registry oci://…` or a reference).
    pub fn plan(&mut self, planner: &mut Planner) -> Result<&'static str> {
        // Publishing a `.wasm` fetches nothing, so no signature is checked.
        let fetches = !matches!(self, WitCommand::Publish { input: Some(p), .. } if planner.is_file(p));
        if fetches {
            self.common_mut().mirrors.plan(planner);
        }
        planner.wit_configuration();
        planner.working_dir(FsAccess::Read, "WIT project");
        let verify = &mut self.common_mut().verify;
        if fetches {
            verify.plan(planner);
        } else {
            *verify = Default::default();
        }
        let lock = Path::new(crate::witpkg::lock::FILE_NAME);
        let name = match self {
            WitCommand::Build { .. } => "wit build",
            WitCommand::Publish { .. } => "wit publish",
            WitCommand::Get { .. } => "wit get",
            WitCommand::Fetch { .. } => "wit fetch",
            WitCommand::Update { .. } => "wit update",
            WitCommand::Check { .. } => "wit check",
        };
        match self {
            WitCommand::Fetch { .. } | WitCommand::Update { .. } | WitCommand::Build { .. } => {
                planner.output_file(lock, "wkg.lock");
            }
            WitCommand::Publish { input, .. } if !input.as_deref().is_some_and(|p| planner.is_file(p)) => {
                planner.output_file(lock, "wkg.lock");
            }
            WitCommand::Check { .. } => {
                planner.input_file(lock, "wkg.lock");
            }
            _ => {}
        }
        match self {
            WitCommand::Build { file, common, cache } => {
                common.wit_dir = planner.dir(&common.wit_dir, FsAccess::Read, IfMissing::Fail, "WIT package");
                match file {
                    Some(path) => *file = Some(planner.output_file(path, "binary WIT package")),
                    None => planner.working_dir(FsAccess::Write, "binary WIT package (<ns>-<name>-<version>.wasm)"),
                }
                plan_fetching(planner, cache);
            }
            WitCommand::Publish { input, reference, registry, common, cache, .. } => {
                // A `.wasm` is pushed as it is; a WIT directory is built, as `build` builds it.
                let built = !input.as_deref().is_some_and(|p| planner.is_file(p));
                match input {
                    Some(path) => {
                        let (kind, access) = (PathKind::FileOrDirectory, FsAccess::Read);
                        *input = Some(planner.path(path, kind, access, IfMissing::Fail, "WIT package to publish"));
                    }
                    None => {
                        common.wit_dir = planner.dir(&common.wit_dir, FsAccess::Read, IfMissing::Fail, "WIT package");
                    }
                }
                if built {
                    plan_fetching(planner, cache);
                }
                match (reference.as_deref(), registry.as_deref()) {
                    (Some(r), _) => *reference = Some(planner.reference(r, FsAccess::Write, false)?),
                    (None, Some(r)) if r.starts_with("oci://") => {
                        if let crate::witpkg::config::Mapping::Oci { registry, .. } =
                            crate::witpkg::config::parse_source(r, std::path::Path::new("."))?
                        {
                            planner.registry(&registry, false);
                        }
                    }
                    _ => planner.any_network(),
                }
            }
            WitCommand::Get { path, common, cache, .. } => {
                common.wit_dir = planner.dir(&common.wit_dir, FsAccess::Read, IfMissing::Skip, "WIT directory");
                if let Some(out) = path.as_deref().filter(|p| *p != std::path::Path::new("-")) {
                    let kind = PathKind::FileOrDirectory;
                    *path = Some(planner.path(out, kind, FsAccess::Write, IfMissing::Fail, "package written"));
                }
                plan_fetching(planner, cache);
            }
            WitCommand::Fetch { common, cache } | WitCommand::Update { common, cache, .. } => {
                common.wit_dir = planner.dir(&common.wit_dir, FsAccess::Write, IfMissing::Fail, "WIT world");
                plan_fetching(planner, cache);
            }
            WitCommand::Check { common, cache } => {
                common.wit_dir = planner.dir(&common.wit_dir, FsAccess::Read, IfMissing::Fail, "WIT world");
                plan_fetching(planner, cache);
            }
        }
        Ok(name)
    }

    /// The output format asked for.
    pub fn output(&self) -> OutputFormat {
        if self.common().json { OutputFormat::Json } else { OutputFormat::Text }
    }

    fn common(&self) -> &Common {
        match self {
            WitCommand::Build { common, .. }
            | WitCommand::Publish { common, .. }
            | WitCommand::Get { common, .. }
            | WitCommand::Fetch { common, .. }
            | WitCommand::Update { common, .. }
            | WitCommand::Check { common, .. } => common,
        }
    }

    fn common_mut(&mut self) -> &mut Common {
        match self {
            WitCommand::Build { common, .. }
            | WitCommand::Publish { common, .. }
            | WitCommand::Get { common, .. }
            | WitCommand::Fetch { common, .. }
            | WitCommand::Update { common, .. }
            | WitCommand::Check { common, .. } => common,
        }
    }

    fn project(&self) -> Result<Project> {
        let common = self.common();
        let cache = match self {
            WitCommand::Build { cache, .. }
            | WitCommand::Publish { cache, .. }
            | WitCommand::Get { cache, .. }
            | WitCommand::Fetch { cache, .. }
            | WitCommand::Update { cache, .. }
            | WitCommand::Check { cache, .. } => cache.options()?,
        };
        Ok(Project {
            dir: PathBuf::from("."),
            wit_dir: common.wit_dir.clone(),
            options: RegistryOptions {
                insecure: common.insecure.iter().map(|h| h.to_ascii_lowercase()).collect(),
                allow_latest: false,
                credentials: ExplicitCredentials {
                    user: common.user.clone(),
                    password: common.password.clone().map(Secret::new),
                    only: None,
                },
                mirrors: common.mirrors.load()?,
            },
            cache,
            verification: common.verify.verification()?,
        })
    }
}

/// A command that fetches packages: through the cache, from registries found while
/// running (none when offline).
fn plan_fetching(planner: &mut Planner, cache: &mut CacheArgs) {
    cache.plan(planner);
    if !cache.offline() {
        planner.any_network();
    }
}

/// Where a build's dependencies came from, in `--json` output: `"deps"` is `"wit/deps"` or
/// `"resolved"` (then with `"lockWritten"` and `"network"`).
fn deps_json(value: &mut serde_json::Value, deps: &DepsUsed) {
    match deps {
        DepsUsed::Tree => value["deps"] = "wit/deps".into(),
        DepsUsed::Resolved { lock_written, network } => {
            value["deps"] = "resolved".into();
            value["lockWritten"] = (*lock_written).into();
            value["network"] = (*network).into();
        }
    }
}

/// The line saying that dependencies were resolved (nothing when `wit/deps` had them).
fn deps_text(deps: &DepsUsed) -> String {
    match deps {
        DepsUsed::Tree => String::new(),
        DepsUsed::Resolved { lock_written, .. } => format!(
            "dependencies missing from wit/deps were resolved (wit/deps left as it is); wkg.lock {}\n",
            if *lock_written { "written" } else { "unchanged" }
        ),
    }
}

pub fn run(command: &WitCommand) -> Result<()> {
    let project = command.project()?;
    let json = command.output() == OutputFormat::Json;
    match command {
        WitCommand::Build { file, .. } => {
            let built = ops::build(&project, file.as_deref())?;
            let path = built.path.display().to_string();
            if json {
                let mut value =
                    serde_json::json!({"package": built.spec.to_string(), "file": path, "size": built.size});
                deps_json(&mut value, &built.deps);
                output::print_json(&value);
            } else {
                output::print_text(&format!(
                    "Built {} ({} bytes) to {path}\n{}",
                    built.spec,
                    built.size,
                    deps_text(&built.deps)
                ));
            }
        }
        WitCommand::Publish { input, reference, registry, force, .. } => {
            let request = PublishRequest {
                input: input.clone(),
                registry: registry.clone(),
                reference: reference.clone(),
                force: *force,
            };
            let published = ops::publish(&project, &request)?;
            if json {
                let mut value = serde_json::json!({
                    "package": published.spec.to_string(),
                    "reference": published.reference,
                    "digest": published.digest.to_string(),
                });
                deps_json(&mut value, &published.deps);
                output::print_json(&value);
            } else {
                output::print_text(&format!(
                    "Published {} to {} ({})\n{}",
                    published.spec,
                    published.reference,
                    published.digest,
                    deps_text(&published.deps)
                ));
            }
        }
        WitCommand::Get { package, format, path, .. } => {
            let format = match format.as_str() {
                "wit" => GetFormat::Wit,
                "wasm" => GetFormat::Wasm,
                other => return Err(Error::Usage(format!("unknown format {other:?}: use wit or wasm"))),
            };
            let request = GetRequest { spec: PackageSpec::parse(package)?, format, output: path.clone() };
            let got = ops::get(&project, &request)?;
            match (&got.text, json) {
                (Some(text), _) => output::print_text(&String::from_utf8_lossy(text)),
                (None, true) => output::print_json(&serde_json::json!({
                    "package": got.spec.to_string(),
                    "reference": got.reference,
                    "digest": got.digest.to_string(),
                    "file": got.path.as_ref().map(|p| p.display().to_string()),
                })),
                (None, false) => output::print_text(&format!(
                    "Got {} from {} to {}\n",
                    got.spec,
                    got.reference,
                    got.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
                )),
            }
        }
        WitCommand::Fetch { .. } | WitCommand::Update { .. } => {
            let update = match command {
                WitCommand::Update { packages, .. } if packages.is_empty() => Update::All,
                WitCommand::Update { packages, .. } => {
                    Update::Packages(packages.iter().map(|p| PackageRef::parse(p)).collect::<Result<_>>()?)
                }
                _ => Update::Nothing,
            };
            let fetched = ops::fetch_deps(&project, &update)?;
            if json {
                output::print_json(&serde_json::json!({
                    "packages": fetched.packages.iter().map(|(wanted, got)| serde_json::json!({
                        "requirement": wanted.to_string(), "resolved": got.to_string()
                    })).collect::<Vec<_>>(),
                    "deps": fetched.tree,
                    "depsWritten": fetched.deps_written,
                    "lockWritten": fetched.lock_written,
                    "network": fetched.network,
                }));
            } else {
                let mut text = String::new();
                for (wanted, got) in &fetched.packages {
                    text.push_str(&format!("{wanted} → {got}\n"));
                }
                let state = match (fetched.deps_written, fetched.lock_written) {
                    (false, false) => "up to date",
                    (true, false) => "wit/deps written",
                    (false, true) => "wkg.lock written",
                    (true, true) => "wit/deps and wkg.lock written",
                };
                text.push_str(&format!("{} packages in wit/deps: {state}\n", fetched.tree.len()));
                output::print_text(&text);
            }
        }
        WitCommand::Check { .. } => {
            let checked = ops::check(&project)?;
            if json {
                output::print_json(
                    &serde_json::json!({"ok": checked.problems.is_empty(), "problems": checked.problems}),
                );
            } else if checked.problems.is_empty() {
                output::print_text(&format!(
                    "wit/deps matches wkg.lock ({} packages); the world resolves\n",
                    checked.checked
                ));
            } else {
                output::print_text(&format!("{}\n", checked.problems.join("\n")));
            }
            if !checked.problems.is_empty() {
                return Err(Error::Policy(format!(
                    "wit/deps or wkg.lock is out of date ({} problems); run `wasmship wit fetch`",
                    checked.problems.len()
                )));
            }
        }
    }
    Ok(())
}
