//! The capabilities the packager guest is given, and nothing more: its arguments, a filtered
//! environment plus the variables the runner sets (`host_contract`), the inherited stdio,
//! and exactly the directories the command's plan names (see `plan`):
//! - a file's directory (never an ancestor above it), a directory itself, or for an output
//!   that may be either, the directory when one is there;
//! - read-only unless the plan writes there;
//! - a missing directory is created when the plan says so, skipped when it may be, and
//!   otherwise refused with an error naming it — never replaced by an existing ancestor;
//! - each under its absolute host path (never as `.`), so a path the plan did not name
//!   resolves nowhere;
//! - a guarded directory never through a symbolic link, and an owner-only one only when it is
//!   the user's own (`guard`);
//! - never the home directory itself: a file there is granted through a view holding only
//!   the files the plan names (`view`), and directories above it are refused.
//!
//! Network sockets stay closed; outgoing HTTP goes through `wasi:http` (see `outbound`).
//! The resolution is pure apart from file-system checks, so it is unit-tested here.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use wasmtime_wasi::{FsPerms, WasiCtx};

use crate::host_contract;
use crate::plan::{Access, Guard, IfMissing, PathGrant, PathKind};
use crate::view::{Exposure, View, exposure};

/// `argv[0]` as the guest sees it.
pub const GUEST_ARGV0: &str = "wasmship";

/// A host directory granted to the guest under its absolute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    /// The directory, as the guest names it.
    pub dir: PathBuf,
    /// What is opened: `dir`, or a view of it.
    pub host: PathBuf,
    /// The files in it the plan names (a view shows only these).
    pub names: Vec<OsString>,
    pub writable: bool,
    /// Kept to the user (see `owner_only`).
    pub owner_only: bool,
    /// What the plan said the paths in it are for.
    pub purpose: String,
}

impl Preopen {
    /// The guest's name for the directory: its host path.
    pub fn guest_name(&self) -> Result<&str> {
        self.dir.to_str().with_context(|| format!("the path {} is not valid UTF-8", self.dir.display()))
    }
}

/// The host platform as wash names provider targets: `<arch>-<os>`.
fn host_target() -> String {
    format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS)
}

/// The inherited environment the guest sees: the variables `host_contract::PASSED` admits,
/// minus any that are not valid UTF-8 and any the runner sets itself.
pub fn guest_env(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Vec<(String, String)> {
    vars.into_iter()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .filter(|(name, _)| host_contract::passed(name))
        .collect()
}

/// The variables the runner sets for every run: the runner and plan markers, the working directory
/// and the host's platform.
pub fn contract_env(cwd: &Path) -> Result<Vec<(String, String)>> {
    let Some(cwd) = cwd.to_str() else {
        bail!("the current directory's path is not valid UTF-8");
    };
    Ok(vec![
        (host_contract::RUNNER.to_owned(), "1".to_owned()),
        (host_contract::PLANNED.to_owned(), "1".to_owned()),
        (host_contract::CWD.to_owned(), cwd.to_owned()),
        (host_contract::HOST_TARGET.to_owned(), host_target()),
    ])
}

/// The directories granted for a run, and the views to settle after it.
#[derive(Debug, Default)]
pub struct Sandbox {
    pub preopens: Vec<Preopen>,
    views: Vec<View>,
}

impl Sandbox {
    /// After the run: what the guest wrote into views moves to where it belongs.
    pub fn finish(self) -> Result<()> {
        self.views.into_iter().try_for_each(View::finish)
    }
}

/// The directories to preopen for the plan's `paths`, created where the plan asks, with
/// the user's `home` granted only through a view; an error names a missing directory the
/// plan cannot do without.
pub fn preopens(paths: &[PathGrant], home: Option<&Path>) -> Result<Sandbox> {
    let mut out: Vec<Preopen> = Vec::new();
    for grant in paths {
        let Some(dir) = directory_for(grant)? else { continue };
        let path = Path::new(&grant.path);
        let name = (dir != path).then(|| path.file_name().map(OsString::from)).flatten();
        let writable = grant.access == Access::Write;
        match out.iter_mut().find(|p| p.dir == dir) {
            Some(known) => {
                known.writable |= writable;
                known.owner_only |= grant.guard == Guard::OwnerOnly;
                known.purpose = format!("{}, {}", known.purpose, grant.purpose);
                known.names.extend(name);
            }
            None => out.push(Preopen {
                host: dir.clone(),
                dir,
                names: name.into_iter().collect(),
                writable,
                owner_only: grant.guard == Guard::OwnerOnly,
                purpose: grant.purpose.clone(),
            }),
        }
    }
    let mut sandbox = Sandbox::default();
    for mut preopen in out {
        if exposure(&preopen.dir, home)? == Exposure::View {
            let view = View::new(&preopen.dir, &preopen.names)?;
            preopen.host = view.path().to_path_buf();
            sandbox.views.push(view);
        }
        sandbox.preopens.push(preopen);
    }
    Ok(sandbox)
}

/// The directory that grants `grant`, made to exist when the plan says so; `None` when the
/// plan may do without a missing one.
fn directory_for(grant: &PathGrant) -> Result<Option<PathBuf>> {
    let path = Path::new(&grant.path);
    if !path.is_absolute() || path.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        bail!("the packager asked for {:?} ({}), which is not an absolute, normalised path", grant.path, grant.purpose);
    }
    let parent = || path.parent().unwrap_or(path).to_path_buf();
    let dir = match grant.kind {
        PathKind::Directory => path.to_path_buf(),
        PathKind::FileOrDirectory if path.is_dir() => path.to_path_buf(),
        PathKind::FileOrDirectory => parent(),
        PathKind::File if grant.access == Access::Write && path.is_dir() => bail!(
            "{}: {} is a directory{}; name the file to write",
            grant.purpose,
            path.display(),
            if path.is_symlink() { " (through a symbolic link)" } else { "" }
        ),
        PathKind::File => parent(),
    };
    if matches!(grant.guard, Guard::NoSymlink | Guard::OwnerOnly) {
        crate::guard::refuse_link(&dir, &grant.purpose)?;
    }
    if dir.is_dir() {
        crate::guard::check(&dir, grant.guard, &grant.purpose)?;
        return Ok(Some(dir));
    }
    if dir.exists() {
        bail!("{}: {} is not a directory", grant.purpose, dir.display());
    }
    match grant.if_missing {
        IfMissing::Skip => Ok(None),
        IfMissing::Create => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {} ({})", dir.display(), grant.purpose))?;
            if grant.guard == Guard::OwnerOnly {
                crate::owner_only::restrict(&dir, 0o700)?;
            }
            Ok(Some(dir))
        }
        IfMissing::Fail if dir == path => bail!("{}: the directory {} does not exist", grant.purpose, dir.display()),
        IfMissing::Fail if grant.access == Access::Read => {
            bail!("{}: {} does not exist (there is no directory {})", grant.purpose, path.display(), dir.display())
        }
        IfMissing::Fail => bail!(
            "{}: the directory {} does not exist (for {}); create it first",
            grant.purpose,
            dir.display(),
            path.display()
        ),
    }
}

/// Free bytes on the file system of each writable directory granted, as the guest reads
/// them (`host_contract::FREE_SPACE`): JSON `{"<dir>": bytes}`.
pub fn free_space(preopens: &[Preopen]) -> String {
    let figures: serde_json::Map<String, serde_json::Value> = preopens
        .iter()
        .filter(|p| p.writable)
        .filter_map(|p| Some((p.guest_name().ok()?.to_owned(), available_bytes(&p.host)?.into())))
        .collect();
    serde_json::Value::Object(figures).to_string()
}

#[cfg(unix)]
fn available_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: `path` is a valid C string and `stats` a valid out-pointer for statvfs.
    unsafe {
        let mut stats: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(path.as_ptr(), &mut stats) != 0 {
            return None;
        }
        Some((stats.f_bavail as u64).saturating_mul(stats.f_frsize as u64))
    }
}

#[cfg(not(unix))]
fn available_bytes(_dir: &Path) -> Option<u64> {
    None
}

/// The guest's WASI context: `args`, the environment `env`, stdio, and the `preopens`.
pub fn wasi_ctx(args: &[String], env: &[(String, String)], preopens: &[Preopen], cwd: &Path) -> Result<WasiCtx> {
    let mut builder = WasiCtx::builder();
    builder
        .inherit_stdio()
        // One instance per process: file operations may block this thread instead of
        // hopping to a blocking pool.
        .allow_blocking_current_thread(true)
        .arg(GUEST_ARGV0)
        .args(args)
        .envs(env);
    if let Some(cwd) = cwd.to_str() {
        builder.initial_cwd(cwd);
    }
    for preopen in preopens {
        let perms = if preopen.writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
        builder
            .preopened_dir(&preopen.host, preopen.guest_name()?, perms)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot open {} ({})", preopen.dir.display(), preopen.purpose))?;
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(path: &Path, kind: PathKind, access: Access, if_missing: IfMissing) -> PathGrant {
        PathGrant {
            path: path.to_str().unwrap().to_owned(),
            kind,
            access,
            if_missing,
            guard: Guard::None,
            purpose: "test".to_owned(),
        }
    }

    #[test]
    fn env_is_filtered() {
        let vars = [
            ("WASMSHIP_LOG", "debug"),
            ("WASMSHIP_DEBUG", "1"),
            ("WASH_REG_USER", "u"),
            ("WKG_CONFIG_FILE", "/c"),
            ("HOME", "/home/u"),
            ("SOURCE_DATE_EPOCH", "0"),
            ("WASMSHIP_RUNNER", "0"),
            ("WASMSHIP_PLANNED", "1"),
            ("WASMSHIP_CWD", "/elsewhere"),
            ("WASMSHIP_DOCKER_CONFIG_JSON", "{}"),
            ("WASMSHIP_HOST_CREDENTIALS", "{}"),
            ("WASMSHIP_PROJECT_CREDENTIALS_JSON", "{}"),
            ("PATH", "/bin"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
            ("HOMER", "x"),
        ]
        .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let names: Vec<String> = guest_env(vars).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            ["WASMSHIP_LOG", "WASMSHIP_DEBUG", "WASH_REG_USER", "WKG_CONFIG_FILE", "HOME", "SOURCE_DATE_EPOCH"]
        );
    }

    #[test]
    fn a_file_grants_its_directory_only() {
        let tmp = tempfile::tempdir().unwrap();
        let files = tmp.path().join("files");
        std::fs::create_dir(&files).unwrap();
        let got = preopens(
            &[
                grant(&files.join("app.wasm"), PathKind::File, Access::Read, IfMissing::Fail),
                grant(&files.join("out.wasm"), PathKind::File, Access::Write, IfMissing::Fail),
            ],
            None,
        )
        .unwrap()
        .preopens;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].dir, files);
        assert!(got[0].writable, "write wins when two grants share a directory");
        assert_eq!(got[0].purpose, "test, test");
    }

    #[test]
    fn a_missing_directory_is_refused_never_an_ancestor() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("new/deeper/out.wasm");
        let error = preopens(&[grant(&deep, PathKind::File, Access::Write, IfMissing::Fail)], None).unwrap_err();
        let text = format!("{error:#}");
        assert!(text.contains("new/deeper does not exist") && text.contains("create it first"), "{text}");
        assert!(!tmp.path().join("new").exists());

        let gone = grant(&tmp.path().join("gone"), PathKind::Directory, Access::Write, IfMissing::Skip);
        assert!(preopens(&[gone], None).unwrap().preopens.is_empty());
        let cache = tmp.path().join("c/cache");
        let created =
            preopens(&[grant(&cache, PathKind::Directory, Access::Write, IfMissing::Create)], None).unwrap().preopens;
        assert_eq!(created[0].dir, cache);
        assert!(cache.is_dir());
    }

    #[test]
    fn outputs_that_may_be_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&out, &link).unwrap();

        let into_dir = grant(&link, PathKind::FileOrDirectory, Access::Write, IfMissing::Fail);
        let got = preopens(&[into_dir], None).unwrap().preopens;
        assert_eq!(got[0].dir, link, "a link to a directory is written into, under the link's name");
        let as_file = grant(&out.join("x.wasm"), PathKind::FileOrDirectory, Access::Write, IfMissing::Fail);
        assert_eq!(preopens(&[as_file], None).unwrap().preopens[0].dir, out);

        let error = preopens(&[grant(&link, PathKind::File, Access::Write, IfMissing::Fail)], None).unwrap_err();
        assert!(format!("{error:#}").contains("is a directory (through a symbolic link)"), "{error:#}");
    }

    #[test]
    fn a_file_in_home_is_granted_through_a_view() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        std::fs::write(home.join("app.wasm"), "wasm").unwrap();
        let sandbox =
            preopens(&[grant(&home.join("app.wasm"), PathKind::File, Access::Read, IfMissing::Fail)], Some(&home))
                .unwrap();
        let preopen = &sandbox.preopens[0];
        assert_eq!(preopen.dir, home);
        assert_ne!(preopen.host, home);
        let listed: Vec<_> = std::fs::read_dir(&preopen.host).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(listed, ["app.wasm"]);
        sandbox.finish().unwrap();
        let left: Vec<_> = std::fs::read_dir(&home).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 2, "{left:?}");

        let above = grant(&tmp.path().join("x.wasm"), PathKind::File, Access::Read, IfMissing::Fail);
        assert!(preopens(&[above], Some(&home)).is_err(), "a directory holding home is never granted");
    }

    #[test]
    fn only_absolute_normalised_paths() {
        for path in ["relative/x", "/a/../etc/x"] {
            let g = PathGrant {
                path: path.to_owned(),
                ..grant(Path::new("/"), PathKind::File, Access::Read, IfMissing::Fail)
            };
            assert!(preopens(&[g], None).is_err(), "{path}");
        }
    }
}
