//! The capabilities the packager guest is given, and nothing more: its arguments, a filtered
//! environment, the inherited stdio, and preopened directories — the current directory, the
//! directories that absolute-path arguments name, and the packager cache. Network sockets
//! stay closed; outgoing HTTP is granted through `wasi:http` (see `outbound`). The caller may
//! add directories (the signing-key directory of `par` commands).
//!
//! The path logic is pure apart from `is_dir` checks, so it is unit-tested here.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use wasmtime_wasi::{FsPerms, WasiCtx};

/// `argv[0]` as the guest sees it.
pub const GUEST_ARGV0: &str = "wasmship";

/// Environment variables passed to the guest: exact names, or prefixes ending in `*`.
/// Everything else in the host environment stays invisible to it.
pub const PASSED_ENV: &[&str] = &[
    "WASMSHIP_*",
    "WASH_*",
    "WKG_*",
    "SOURCE_DATE_EPOCH",
    "NO_COLOR",
    "DOCKER_CONFIG",
    "HOME",
    "USER",
    "TMPDIR",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
];

/// Set for the guest so it knows it runs under this runner (and not, say, `wasmtime run`).
pub const RUNNER_MARKER: (&str, &str) = ("WASMSHIP_RUNNER", "1");

/// Names the host platform (`x86_64-linux`) for the guest, whose own is wasm32: the
/// default target of `par create`.
pub const HOST_TARGET_VAR: &str = "WASMSHIP_HOST_TARGET";

/// The host platform as wash names provider targets: `<arch>-<os>`.
pub fn host_target() -> String {
    format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS)
}

/// The guest's (future) cache directory, preopened when it exists.
const CACHE_DIR_VAR: &str = "WASMSHIP_CACHE_DIR";

/// The scheme of references to OCI image layout directories.
const OCI_LAYOUT_SCHEME: &str = "oci-layout://";

/// A host directory granted to the guest under a guest path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    pub host: PathBuf,
    pub guest: String,
}

/// Builds the guest's WASI context from the user's arguments and this process's environment
/// and current directory; `extra_dirs` are granted too (under their absolute paths).
pub fn wasi_ctx(user_args: &[String], extra_dirs: &[&Path]) -> Result<WasiCtx> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let cache_dir = env.iter().find(|(name, _)| name == CACHE_DIR_VAR).map(|(_, value)| cwd.join(value));

    let Some(cwd_name) = cwd.to_str() else {
        bail!("the current directory's path is not valid UTF-8");
    };
    let mut builder = WasiCtx::builder();
    builder
        .inherit_stdio()
        // One instance per process: file operations may block this thread instead of
        // hopping to a blocking pool.
        .allow_blocking_current_thread(true)
        .arg(GUEST_ARGV0)
        .args(user_args)
        .envs(&guest_env(env))
        .env(RUNNER_MARKER.0, RUNNER_MARKER.1)
        .env(HOST_TARGET_VAR, host_target())
        .initial_cwd(cwd_name);

    builder
        .preopened_dir(&cwd, ".", FsPerms::ReadWrite)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot open the current directory {}", cwd.display()))?;
    let extra = extra_dirs.iter().filter_map(|dir| {
        let host = normalize(dir);
        let guest = host.to_str()?.to_owned();
        Some(Preopen { host, guest })
    });
    for preopen in preopens(&cwd, user_args, cache_dir.as_deref()).into_iter().chain(extra) {
        // Best effort: a directory that cannot be opened is reported by the guest when it
        // tries to use the path.
        let _ = builder.preopened_dir(&preopen.host, &preopen.guest, FsPerms::ReadWrite);
    }
    Ok(builder.build())
}

/// The environment the guest sees: the variables `PASSED_ENV` admits, minus any that are not
/// valid UTF-8 and any inherited `WASMSHIP_RUNNER` (the runner sets its own).
pub fn guest_env(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Vec<(String, String)> {
    vars.into_iter()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .filter(|(name, _)| name != RUNNER_MARKER.0 && env_passed(name))
        .collect()
}

fn env_passed(name: &str) -> bool {
    PASSED_ENV.iter().any(|rule| match rule.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == *rule,
    })
}

/// Directories preopened under their absolute host path (besides `.`): the current
/// directory, for every argument naming an absolute path the nearest existing directory on
/// that path, and the cache directory if it exists. Without duplicates, in that order.
pub fn preopens(cwd: &Path, args: &[String], cache_dir: Option<&Path>) -> Vec<Preopen> {
    let named = args.iter().filter_map(|arg| arg_path(arg)).filter_map(|path| nearest_dir(Path::new(path)));
    let cache = cache_dir.filter(|dir| dir.is_dir()).map(normalize);

    let mut out: Vec<Preopen> = Vec::new();
    for host in std::iter::once(normalize(cwd)).chain(named).chain(cache) {
        let Some(guest) = host.to_str().map(str::to_owned) else {
            continue;
        };
        if !out.iter().any(|p| p.guest == guest) {
            out.push(Preopen { host, guest });
        }
    }
    out
}

/// The absolute host path an argument names, if any: a bare `/path`, the value of
/// `--flag=/path`, or the directory of `oci-layout:///dir[:tag][@digest]` (also as a value).
pub fn arg_path(arg: &str) -> Option<&str> {
    let value = match arg.split_once('=') {
        Some((flag, value)) if flag.starts_with("--") => value,
        _ => arg,
    };
    let path = match value.strip_prefix(OCI_LAYOUT_SCHEME) {
        Some(rest) => layout_dir(rest),
        None => value,
    };
    path.starts_with('/').then_some(path)
}

/// The directory part of an OCI layout reference without its `:tag` and `@digest`; both
/// can only follow the last `/`.
fn layout_dir(reference: &str) -> &str {
    let name_start = reference.rfind('/').map_or(0, |slash| slash + 1);
    let name = &reference[name_start..];
    let name = name.split('@').next().unwrap_or(name);
    let name = name.split(':').next().unwrap_or(name);
    &reference[..name_start + name.len()]
}

/// The path itself if it is a directory, else its nearest ancestor that is one.
fn nearest_dir(path: &Path) -> Option<PathBuf> {
    path.ancestors().find(|dir| dir.is_dir()).map(normalize)
}

/// Lexical clean-up (`//`, `/./`, trailing `/`) so guest names are in one canonical form.
fn normalize(path: &Path) -> PathBuf {
    path.components().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arg_paths() {
        assert_eq!(arg_path("/abs/file.wasm"), Some("/abs/file.wasm"));
        assert_eq!(arg_path("--output=/abs/out"), Some("/abs/out"));
        assert_eq!(arg_path("relative/file.wasm"), None);
        assert_eq!(arg_path("--output=relative"), None);
        assert_eq!(arg_path("ghcr.io/org/repo:1.0"), None);
        assert_eq!(arg_path("--annotation=key=/x"), None);
        assert_eq!(arg_path("/abs/a=b"), Some("/abs/a=b"));
        assert_eq!(arg_path("-o"), None);
    }

    #[test]
    fn oci_layout_references() {
        assert_eq!(arg_path("oci-layout:///srv/layout"), Some("/srv/layout"));
        assert_eq!(arg_path("oci-layout:///srv/layout:v1"), Some("/srv/layout"));
        let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(arg_path(&format!("oci-layout:///srv/my.layout@{digest}")), Some("/srv/my.layout"));
        assert_eq!(arg_path(&format!("oci-layout:///srv/layout:v1@{digest}")), Some("/srv/layout"));
        assert_eq!(arg_path("--to=oci-layout:///a/b:t"), Some("/a/b"));
        assert_eq!(arg_path("oci-layout://relative/layout:v1"), None);
    }

    #[test]
    fn env_is_filtered() {
        let vars = [
            ("WASMSHIP_LOG", "debug"),
            ("WASH_REG_USER", "u"),
            ("WKG_CONFIG_FILE", "/c"),
            ("HOME", "/home/u"),
            ("SOURCE_DATE_EPOCH", "0"),
            ("WASMSHIP_RUNNER", "0"),
            ("PATH", "/bin"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
            ("HOMER", "x"),
        ]
        .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let names: Vec<String> = guest_env(vars).into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["WASMSHIP_LOG", "WASH_REG_USER", "WKG_CONFIG_FILE", "HOME", "SOURCE_DATE_EPOCH"]);
    }

    #[test]
    fn preopens_nearest_existing_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let cwd = root.join("cwd");
        let layout = root.join("layout");
        let files = root.join("files");
        for dir in [&cwd, &layout, &files] {
            std::fs::create_dir(dir).unwrap();
        }
        std::fs::write(files.join("app.wasm"), b"\0asm").unwrap();
        let s = |p: &Path| p.to_str().unwrap().to_owned();

        let args = vec![
            "push".to_owned(),
            format!("oci-layout://{}:v1", s(&layout)),
            s(&files.join("app.wasm")),
            format!("--output={}", s(&root.join("new/deeper/out.wasm"))),
            format!("{}/", s(&layout)),
            "relative.wasm".to_owned(),
        ];
        let got: Vec<String> = preopens(&cwd, &args, None)
            .into_iter()
            .map(|p| {
                assert_eq!(p.host.to_str().unwrap(), p.guest);
                p.guest
            })
            .collect();
        assert_eq!(got, [s(&cwd), s(&layout), s(&files), s(root)]);
    }

    #[test]
    fn cache_dir_only_when_it_exists() {
        let tmp = tempfile::tempdir().unwrap();
        let cwd = tmp.path().join("cwd");
        let cache = tmp.path().join("cache");
        std::fs::create_dir(&cwd).unwrap();

        assert_eq!(preopens(&cwd, &[], Some(&cache)).len(), 1);
        std::fs::create_dir(&cache).unwrap();
        let got = preopens(&cwd, &[], Some(&cache));
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].host, cache);
    }
}
