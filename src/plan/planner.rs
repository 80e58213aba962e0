//! Builds a command's [`Needs`] from its arguments, one path or reference at a time, and
//! gives back each path in the form the command then uses:
//! - a relative path that stays inside the working directory stays relative and needs the
//!   working directory (read-only unless something is written there);
//! - any other path is made absolute with `..` resolved, and needs its own directory: a
//!   file's directory, a directory itself — never an ancestor, never the home directory
//!   because a file happens to be in it;
//! - a registry reference needs that registry (and the project file, when one is there:
//!   it may name the registry of short references, and credentials);
//! - an `oci-layout://` reference needs its directory.

use std::path::{Path, PathBuf};

use super::{FsAccess, Guard, HostEnv, IfMissing, Needs, Network, PathGrant, PathKind, RegistryGrant, normalize};
use crate::config::wasmcloud::ProjectFile;
use crate::error::Result;
use crate::host_contract;
use crate::reference::{LAYOUT_SCHEME, Reference, names_registry};

/// Collects what a command needs.
pub struct Planner<'e> {
    env: &'e HostEnv,
    /// The host's working directory, absolute; unknown outside the runner.
    cwd: Option<PathBuf>,
    needs: Needs,
    /// `./wasmcloud.toml`, read at most once.
    project: Option<Option<ProjectFile>>,
    /// The command never touches the network (`--offline`): registries are not contacted.
    offline: bool,
    /// The mirror configuration pulls read, once planned: the hosts it names are granted
    /// with the registries they stand in for.
    mirrors: Option<crate::mirror::Mirrors>,
}

impl<'e> Planner<'e> {
    /// A planner for a command run in `env` (whose `WASMSHIP_CWD` names the working
    /// directory under the runner).
    pub fn new(env: &'e HostEnv) -> Self {
        let cwd = env.var(host_contract::CWD).map(PathBuf::from).filter(|p| p.is_absolute()).map(|p| normalize(&p));
        Self { env, cwd, needs: Needs::default(), project: None, offline: false, mirrors: None }
    }

    /// From here on, registry references are resolved but their registries not contacted.
    pub fn offline(&mut self) {
        self.offline = true;
    }

    /// Whether registries are left alone (`--offline`).
    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// Whether `path` names a file the planner can see (relative paths are taken from the
    /// working directory).
    pub fn is_file(&self, path: &Path) -> bool {
        self.absolute(path).is_file()
    }

    /// Whether `path` names a directory the planner can see.
    pub fn is_dir(&self, path: &Path) -> bool {
        self.absolute(path).is_dir()
    }

    /// The bytes of a small file the plan depends on (an application manifest naming the
    /// registries to reach), when the planner can read it.
    pub fn peek(&mut self, path: &Path, limit: u64) -> Option<Vec<u8>> {
        let absolute = self.absolute(path);
        self.consult(absolute.parent().unwrap_or(&absolute));
        crate::fsutil::read_regular_at_most(&absolute, limit).ok()
    }

    /// Planning reads inside `dir` (a file the plan depends on, outside the working
    /// directory): a host that grants only the working directory while planning asks again
    /// with `dir` readable too.
    fn consult(&mut self, dir: &Path) {
        let Some(cwd) = &self.cwd else { return };
        if dir.starts_with(cwd) || !dir.is_absolute() || self.needs.consult.iter().any(|known| dir.starts_with(known)) {
            return;
        }
        self.needs.consult.retain(|known| !known.starts_with(dir));
        self.needs.consult.push(dir.to_path_buf());
    }

    /// A directory another command's planning reads (for `wasmship plan COMMAND`), read
    /// while planning and while running.
    pub fn consulted_dir(&mut self, dir: &Path) {
        self.consult(dir);
        self.grant(
            dir.to_path_buf(),
            PathKind::Directory,
            FsAccess::Read,
            IfMissing::Skip,
            Guard::None,
            "read to plan",
        );
    }

    /// The mirror configuration pulls read (`--registries-conf`, `--hosts-dir`, or the
    /// default `registries.conf` files): its files are read by the command, and read now
    /// to grant the mirrors they name. Returns the sources in the form the command uses.
    pub fn mirror_configuration(&mut self, sources: &crate::mirror::MirrorSources) -> crate::mirror::MirrorSources {
        let named = sources.drop_in_dirs.is_empty();
        let if_missing = if named { IfMissing::Fail } else { IfMissing::Skip };
        let mut used = sources.clone();
        let mut absolute = sources.clone();
        for (file, seen) in used.registries_conf.iter_mut().zip(absolute.registries_conf.iter_mut()) {
            *seen = self.absolute(file);
            let parent = seen.parent().unwrap_or(seen).to_path_buf();
            self.consult(&parent);
            *file = self.path(file, PathKind::File, FsAccess::Read, if_missing, "mirror configuration");
        }
        for (dir, seen) in used.drop_in_dirs.iter_mut().zip(absolute.drop_in_dirs.iter_mut()) {
            *seen = self.absolute(dir);
            // Its parent holds the `registries.conf` that, when present, is chosen over the
            // system's: planning must see it to choose.
            let parent = seen.parent().unwrap_or(seen).to_path_buf();
            self.consult(&parent);
            *dir = self.path(dir, PathKind::Directory, FsAccess::Read, IfMissing::Skip, "mirror configuration");
        }
        if let (Some(dir), Some(seen)) = (used.hosts_dir.as_mut(), absolute.hosts_dir.as_mut()) {
            *seen = self.absolute(dir);
            self.consult(&seen.clone());
            *dir = self.path(dir, PathKind::Directory, FsAccess::Read, IfMissing::Fail, "containerd hosts directory");
        }
        // A configuration that does not load grants no mirror; the command reports why.
        self.mirrors = crate::mirror::Mirrors::load(&absolute).ok();
        used
    }

    /// The environment planned for.
    pub fn env(&self) -> &'e HostEnv {
        self.env
    }

    /// Records that the command uses `path` (a `kind`, with `access`) for `purpose`; returns
    /// the path the command should use.
    pub fn path(
        &mut self,
        path: &Path,
        kind: PathKind,
        access: FsAccess,
        if_missing: IfMissing,
        purpose: &str,
    ) -> PathBuf {
        let cleaned = normalize(path);
        if let (Some(cwd), false) = (self.cwd.clone(), cleaned.is_absolute()) {
            let absolute = normalize(&cwd.join(&cleaned));
            if let Ok(inside) = absolute.strip_prefix(&cwd) {
                let inside = if inside.as_os_str().is_empty() { PathBuf::from(".") } else { inside.to_path_buf() };
                // Relative paths resolve from the working directory, so the command enters it;
                // the path itself is named too (the host may grant the working directory as a
                // view of the named files only: see the runner's `sandbox`).
                self.working_dir(FsAccess::Read, "relative paths");
                if absolute != cwd {
                    self.grant(absolute, kind, access, if_missing, Guard::None, purpose);
                } else {
                    self.working_dir(access, purpose);
                }
                return inside;
            }
            self.grant(absolute.clone(), kind, access, if_missing, Guard::None, purpose);
            return absolute;
        }
        self.grant(cleaned.clone(), kind, access, if_missing, Guard::None, purpose);
        cleaned
    }

    /// A file the command reads.
    pub fn input_file(&mut self, path: &Path, purpose: &str) -> PathBuf {
        self.path(path, PathKind::File, FsAccess::Read, IfMissing::Fail, purpose)
    }

    /// A file the command writes (through a temporary file beside it).
    pub fn output_file(&mut self, path: &Path, purpose: &str) -> PathBuf {
        self.path(path, PathKind::File, FsAccess::Write, IfMissing::Fail, purpose)
    }

    /// A file the command writes that only the user may read (a private key).
    pub fn private_output_file(&mut self, path: &Path, purpose: &str) -> PathBuf {
        let used = self.output_file(path, purpose);
        let absolute = self.absolute(&used);
        if let Some(grant) = self.needs.paths.iter_mut().find(|g| g.path == absolute && g.kind == PathKind::File) {
            grant.guard = grant.guard.max(Guard::PrivateFile);
        }
        used
    }

    /// A directory the command reads or writes.
    pub fn dir(&mut self, path: &Path, access: FsAccess, if_missing: IfMissing, purpose: &str) -> PathBuf {
        self.path(path, PathKind::Directory, access, if_missing, purpose)
    }

    /// The command needs a password carried in `env`: unless the variable is set (even
    /// empty, as cosign reads it), the host may ask the user with `prompt`.
    pub fn password(&mut self, env: &str, prompt: &str, confirm: bool) {
        if !self.env.is_set(env) {
            self.needs.password_prompt =
                Some(super::PasswordPrompt { env: env.to_string(), prompt: prompt.to_string(), confirm });
        }
    }

    /// A directory only the user may read (signing keys), created when missing unless
    /// `create` is false.
    pub fn owner_only_dir(&mut self, path: &Path, create: bool, purpose: &str) -> PathBuf {
        let if_missing = if create { IfMissing::Create } else { IfMissing::Skip };
        self.guarded_dir(path, if_missing, Guard::OwnerOnly, purpose)
    }

    /// The cache (written), which must be the user's own: a cache someone else can
    /// write could serve anything under a trusted name.
    pub fn cache_dir(&mut self, path: &Path, if_missing: IfMissing) -> PathBuf {
        self.guarded_dir(path, if_missing, Guard::OwnerOnly, "cache")
    }

    /// A directory written in a shared place (the wasmCloud host's caches under
    /// `$TMPDIR`), never through a symbolic link planted there.
    pub fn shared_dir(&mut self, path: &Path, if_missing: IfMissing, purpose: &str) -> PathBuf {
        self.guarded_dir(path, if_missing, Guard::NoSymlink, purpose)
    }

    fn guarded_dir(&mut self, path: &Path, if_missing: IfMissing, guard: Guard, purpose: &str) -> PathBuf {
        let used = self.dir(path, FsAccess::Write, if_missing, purpose);
        let absolute = self.absolute(&used);
        if let Some(grant) = self.needs.paths.iter_mut().rev().find(|g| g.path == absolute) {
            grant.guard = grant.guard.max(guard);
        } else {
            // Inside the working directory: granted on its own too, so the host can check
            // and keep it.
            self.grant(absolute, PathKind::Directory, FsAccess::Write, if_missing, guard, purpose);
        }
        used
    }

    /// The working directory itself.
    pub fn working_dir(&mut self, access: FsAccess, purpose: &str) {
        let dir = self.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
        self.grant(dir, PathKind::Directory, access, IfMissing::Fail, Guard::None, purpose);
    }

    /// A reference the command reads from (`access` read) or writes to; returns the
    /// reference the command should use (an `oci-layout://` directory normalised).
    pub fn reference(&mut self, input: &str, access: FsAccess, skip_tls_verify: bool) -> Result<String> {
        let trimmed = input.trim();
        if trimmed.starts_with(LAYOUT_SCHEME) {
            let Reference::Layout(layout) = Reference::parse(trimmed)? else { unreachable!("layout scheme") };
            let (if_missing, purpose) = match access {
                FsAccess::Read => (IfMissing::Fail, "OCI layout read"),
                FsAccess::Write => (IfMissing::Create, "OCI layout written"),
            };
            let dir = self.dir(Path::new(&layout.dir), access, if_missing, purpose);
            let mut used = format!("{LAYOUT_SCHEME}{}", dir.display());
            if let Some(tag) = &layout.tag {
                used.push_str(&format!(":{tag}"));
            }
            if let Some(digest) = &layout.digest {
                used.push_str(&format!("@{digest}"));
            }
            return Ok(used);
        }
        let project_url = self.project().and_then(|p| p.registry_url.clone());
        let parsed = match project_url {
            Some(url) if !names_registry(trimmed) => Reference::parse(&format!("{url}/{trimmed}"))?,
            _ => Reference::parse(trimmed)?,
        };
        if let Reference::Registry(r) = parsed {
            match access {
                FsAccess::Read => self.pull_registry(&r.registry, skip_tls_verify),
                FsAccess::Write => self.registry(&r.registry, skip_tls_verify),
            }
        }
        Ok(input.to_string())
    }

    /// A registry the command contacts (`host[:port]`).
    pub fn registry(&mut self, name: &str, skip_tls_verify: bool) {
        self.registry_trusting(name, skip_tls_verify, &[]);
    }

    /// A registry the command contacts, whose certificates may also be signed by the CAs
    /// of `ca_files`.
    fn registry_trusting(&mut self, name: &str, skip_tls_verify: bool, ca_files: &[PathBuf]) {
        if self.offline {
            return;
        }
        let name = name.to_ascii_lowercase();
        let ca_files: Vec<PathBuf> = ca_files.iter().map(|f| self.absolute(f)).collect();
        match self.needs.registries.iter_mut().find(|r| r.name == name) {
            Some(known) => {
                known.skip_tls_verify |= skip_tls_verify;
                for file in ca_files {
                    if !known.ca_files.contains(&file) {
                        known.ca_files.push(file);
                    }
                }
            }
            None => self.needs.registries.push(RegistryGrant { name, skip_tls_verify, ca_files }),
        }
        self.needs.network = self.needs.network.max(Network::Registries);
    }

    /// A registry the command pulls from, and the mirrors that may serve it.
    pub fn pull_registry(&mut self, name: &str, skip_tls_verify: bool) {
        self.registry(name, skip_tls_verify);
        let hosts = self.mirrors.as_ref().and_then(|m| m.hosts_for_registry(&name.to_ascii_lowercase()).ok());
        for host in hosts.unwrap_or_default() {
            self.registry_trusting(&host.host, host.skip_tls_verify, &host.ca_files);
        }
    }

    /// The command may reach registries it finds while running (WIT registry discovery).
    pub fn any_network(&mut self) {
        self.needs.network = Network::Any;
    }

    /// The project's `wasmcloud.toml`, when the working directory has one: reading it needs
    /// the working directory, and a credentials file it names is handed over by the host.
    pub fn project(&mut self) -> Option<&ProjectFile> {
        if self.project.is_none() {
            let dir = self.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
            let loaded = ProjectFile::read(&dir);
            if loaded.is_some() {
                self.input_file(Path::new(crate::config::wasmcloud::FILE_NAME), "project file");
            }
            if let Some(file) = &loaded {
                self.needs.project_credentials = file.credentials.as_ref().map(|p| normalize(&dir.join(p)));
            }
            self.project = Some(loaded);
        }
        self.project.as_ref().and_then(Option::as_ref)
    }

    /// The project's WIT configuration files (`wasmship.toml`, `wasmcloud.toml`,
    /// `wkg.toml`) and wkg's `config.toml`, read when present.
    pub fn wit_configuration(&mut self) {
        self.project();
        let dir = self.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
        let mut texts = Vec::new();
        for name in [crate::witpkg::config::PROJECT_FILE, crate::config::wasmcloud::FILE_NAME, "wkg.toml"] {
            if let Ok(text) = crate::fsutil::read_project_file(&dir.join(name)) {
                self.input_file(Path::new(name), "project file");
                texts.push((name, text));
            }
        }
        // Registries the project's sources name get credentials; a file that does not parse
        // is the command's to report.
        let project: Vec<(&str, &str)> =
            texts.iter().filter(|(n, _)| *n != "wkg.toml").map(|(n, t)| (*n, t.as_str())).collect();
        if let Ok(config) = crate::witpkg::config::WitConfig::from_texts(&project, None, &dir) {
            for registry in config.source_registries() {
                self.pull_registry(registry, false);
            }
        }
        if let Some(path) = crate::witpkg::config::wkg_config_path_with(&self.env.lookup()) {
            self.path(&path, PathKind::File, FsAccess::Read, IfMissing::Skip, "wkg configuration");
        }
    }

    /// `path` as an absolute path when the working directory is known.
    fn absolute(&self, path: &Path) -> PathBuf {
        match &self.cwd {
            Some(cwd) if !path.is_absolute() => normalize(&cwd.join(path)),
            _ => path.to_path_buf(),
        }
    }

    fn grant(
        &mut self,
        path: PathBuf,
        kind: PathKind,
        access: FsAccess,
        if_missing: IfMissing,
        guard: Guard,
        purpose: &str,
    ) {
        if let Some(known) = self.needs.paths.iter_mut().find(|g| g.path == path && g.kind == kind) {
            known.access = known.access.max(access);
            known.guard = known.guard.max(guard);
            known.if_missing = match (known.if_missing, if_missing) {
                (IfMissing::Create, _) | (_, IfMissing::Create) => IfMissing::Create,
                (IfMissing::Fail, _) | (_, IfMissing::Fail) => IfMissing::Fail,
                _ => IfMissing::Skip,
            };
            if !known.purpose.split(", ").any(|p| p == purpose) {
                known.purpose.push_str(", ");
                known.purpose.push_str(purpose);
            }
            return;
        }
        self.needs.paths.push(PathGrant { path, kind, access, if_missing, guard, purpose: purpose.to_owned() });
    }

    /// What was collected.
    pub fn finish(self) -> Needs {
        self.needs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(cwd: &str) -> HostEnv {
        HostEnv::from_pairs(vec![(host_contract::CWD.to_owned(), cwd.to_owned())])
    }

    #[test]
    fn relative_paths_inside_the_working_directory_need_it() {
        let env = env("/work/p");
        let mut planner = Planner::new(&env);
        assert_eq!(planner.input_file(Path::new("./sub/../app.wasm"), "input"), PathBuf::from("app.wasm"));
        assert_eq!(planner.output_file(Path::new("out.wasm"), "output"), PathBuf::from("out.wasm"));
        let needs = planner.finish();
        let paths: Vec<_> = needs.paths.iter().map(|g| (g.path.to_str().unwrap(), g.kind, g.access)).collect();
        assert_eq!(
            paths,
            [
                ("/work/p", PathKind::Directory, FsAccess::Read),
                ("/work/p/app.wasm", PathKind::File, FsAccess::Read),
                ("/work/p/out.wasm", PathKind::File, FsAccess::Write),
            ]
        );
    }

    #[test]
    fn other_paths_need_their_own_directory_only() {
        let env = env("/work/p");
        let mut planner = Planner::new(&env);
        assert_eq!(planner.input_file(Path::new("../x/app.wasm"), "input"), PathBuf::from("/work/x/app.wasm"));
        assert_eq!(planner.input_file(Path::new("/home/u/app.wasm"), "input"), PathBuf::from("/home/u/app.wasm"));
        let used = planner.reference("oci-layout:///a/../../etc:x", FsAccess::Write, false).unwrap();
        assert_eq!(used, "oci-layout:///etc:x");
        let needs = planner.finish();
        let paths: Vec<_> = needs.paths.iter().map(|g| (g.path.to_str().unwrap(), g.kind, g.access)).collect();
        assert_eq!(
            paths,
            [
                ("/work/x/app.wasm", PathKind::File, FsAccess::Read),
                ("/home/u/app.wasm", PathKind::File, FsAccess::Read),
                ("/etc", PathKind::Directory, FsAccess::Write),
            ]
        );
        assert_eq!(needs.network, Network::None);
    }

    #[test]
    fn registries_are_named_once() {
        let env = env("/nonexistent-project-dir");
        let mut planner = Planner::new(&env);
        planner.reference("127.0.0.1:5000/a/b:1", FsAccess::Read, false).unwrap();
        planner.reference("oci://127.0.0.1:5000/a/c:1", FsAccess::Write, true).unwrap();
        planner.reference("alpine:1", FsAccess::Read, false).unwrap();
        let needs = planner.finish();
        let names: Vec<_> = needs.registries.iter().map(|r| (r.name.as_str(), r.skip_tls_verify)).collect();
        assert_eq!(names, [("127.0.0.1:5000", true), ("docker.io", false)]);
        assert_eq!(needs.network, Network::Registries);
        assert!(needs.paths.is_empty());
    }
}
