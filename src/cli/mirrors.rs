//! The mirror flags of commands that pull (`--registries-conf`, `--hosts-dir`, `-v`):
//! planned once (the files are granted, and read while planning to grant the mirrors they
//! name), then loaded into the options every pull of the command opens its stores with.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::Result;
use crate::mirror::{MirrorSources, Mirrors, trail};
use crate::plan::Planner;

/// Flags naming the mirror configuration pulls go through.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MirrorArgs {
    /// A registries.conf (v2) naming mirrors, rewritten locations and blocked registries
    /// (else $WASMSHIP_REGISTRIES_CONF; with neither flag, the user's registries.conf or
    /// /etc/containers/registries.conf, and their registries.conf.d, as podman reads them).
    #[arg(long, value_name = "FILE", help_heading = "Mirrors (pulls only)")]
    registries_conf: Option<PathBuf>,
    /// A containerd hosts directory: DIR/<registry>/hosts.toml names a registry's mirrors
    /// (else $WASMSHIP_HOSTS_DIR).
    #[arg(long, value_name = "DIR", help_heading = "Mirrors (pulls only)")]
    hosts_dir: Option<PathBuf>,
    /// Say on stderr which host (mirror or registry) served each manifest and blob.
    #[arg(short = 'v', long, help_heading = "Mirrors (pulls only)")]
    verbose: bool,
    /// The configuration chosen while planning, in the form the command uses.
    #[arg(skip)]
    planned: Option<MirrorSources>,
}

impl MirrorArgs {
    /// Grant the configuration files (once), and the mirrors they name from here on.
    pub fn plan(&mut self, planner: &mut Planner) {
        // Offline, no registry is contacted, so no mirror is either.
        if self.planned.is_some() || planner.is_offline() {
            return;
        }
        let env = planner.env();
        let sources = MirrorSources::choose(
            self.registries_conf.as_deref(),
            self.hosts_dir.as_deref(),
            |name| env.var(name).map(|v| v.to_string()),
            |path| path.is_file(),
        );
        self.planned = Some(planner.mirror_configuration(&sources));
    }

    /// The mirrors pulls go through; `None` when no configuration names any.
    pub fn load(&self) -> Result<Option<Arc<Mirrors>>> {
        trail::set_verbose(self.verbose);
        // Commands plan before they run; one that pulls nothing planned no mirrors.
        let Some(sources) = &self.planned else { return Ok(None) };
        let mirrors = Mirrors::load(sources)?;
        Ok((!mirrors.is_empty()).then(|| Arc::new(mirrors)))
    }
}
