//! The capabilities the packager guest is given, and nothing more: its arguments, a filtered
//! environment plus the variables the runner sets (see `credentials`), the inherited stdio,
//! and preopened directories — the current directory, the directories that absolute-path
//! arguments name, and the packager cache, read-write; and read-only, the directory of a
//! `wasmcloud.toml` credentials file outside the current directory; read-write again, the
//! signing-key directory of `par create`/`par insert` (see `keydir`). Never `~/.docker` or
//! the home directory. Network sockets stay closed; outgoing HTTP is granted through `wasi:http`
//! (see `outbound`).
//!
//! The path logic is pure apart from `is_dir` checks, so it is unit-tested here.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use wasmtime_wasi::{FsPerms, WasiCtx};

use crate::credentials;

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

/// Variables only the runner sets: inherited values never reach the guest.
const RUNNER_SET: &[&str] =
    &[RUNNER_MARKER.0, credentials::CONFIG_JSON_VAR, credentials::HOST_CREDENTIALS_VAR, HOST_TARGET_VAR];

/// The packager's cache directory, when not the default.
const CACHE_DIR_VAR: &str = "WASMSHIP_CACHE_DIR";
/// The packager's flag naming the cache directory.
const CACHE_DIR_FLAG: &str = "--cache-dir";
/// The cache's directory name under the temporary directory (wasmCloud's).
const CACHE_DIR_NAME: &str = "wasmcloud_ocicache";
/// wasmCloud's directory of extracted provider binaries (emptied by `drain lib`).
const LIB_DIR_NAME: &str = "wasmcloudcache";
/// Names the host platform (`x86_64-linux`) for the guest, whose own is wasm32: the
/// default target of `par create`.
const HOST_TARGET_VAR: &str = "WASMSHIP_HOST_TARGET";

/// The host platform as wash names provider targets: `<arch>-<os>`.
fn host_target() -> String {
    format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS)
}

/// Tells the guest the host's working directory.
const CWD_VAR: &str = "WASMSHIP_CWD";

/// The scheme of references to OCI image layout directories.
const OCI_LAYOUT_SCHEME: &str = "oci-layout://";

/// A host directory granted to the guest under a guest path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    pub host: PathBuf,
    pub guest: String,
}

/// What the runner grants beyond arguments, filtered environment and read-write preopens.
#[derive(Debug, Default)]
pub struct Grants {
    /// Variables the runner sets for the guest.
    pub env: Vec<(String, String)>,
    /// Directories the guest may read (not write), each under its absolute host path.
    pub read_only_dirs: Vec<PathBuf>,
    /// Further directories the guest may write (the key directory of `par` commands).
    pub read_write_dirs: Vec<PathBuf>,
}

/// Builds the guest's WASI context from the user's arguments, this process's environment,
/// the current directory `cwd`, and the runner's extra `grants`.
pub fn wasi_ctx(cwd: &Path, user_args: &[String], grants: Grants) -> Result<WasiCtx> {
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let cache_dir = cache_dir(cwd, user_args, &env);
    // The packager creates its cache on first use; it can only do so inside a preopen.
    let _ = std::fs::create_dir_all(&cache_dir);
    let lib_dir = temp_dir(&env).join(LIB_DIR_NAME);
    let wkg_config = wkg_config_dir(&env);

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
        .envs(&grants.env)
        .env(RUNNER_MARKER.0, RUNNER_MARKER.1)
        .env(CWD_VAR, cwd_name)
        .env(HOST_TARGET_VAR, host_target())
        .initial_cwd(cwd_name);

    // The current directory is preopened under its absolute path only: a `.` preopen would
    // make every absolute path the runner did not grant resolve inside the current directory.
    builder
        .preopened_dir(cwd, cwd_name, FsPerms::ReadWrite)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot open the current directory {}", cwd.display()))?;
    let mut writable = preopens(cwd, user_args, Some(&cache_dir));
    if lib_dir.is_dir() && !writable.iter().any(|p| p.host == lib_dir) {
        writable.extend(lib_dir.to_str().map(|guest| Preopen { host: lib_dir.clone(), guest: guest.to_owned() }));
    }
    for dir in &grants.read_write_dirs {
        let host = normalize(dir);
        if let Some(guest) = host.to_str().map(str::to_owned)
            && !writable.iter().any(|p| p.guest == guest)
        {
            writable.push(Preopen { host, guest });
        }
    }
    writable.retain(|p| p.guest != cwd_name);
    // wkg's configuration, read-only, so `wit` commands find registries as wkg does.
    let mut read_only_dirs = grants.read_only_dirs.clone();
    read_only_dirs.extend(wkg_config.filter(|dir| dir.is_dir() && !dir.starts_with(cwd)));
    let readable = read_only_preopens(&read_only_dirs, &writable);
    // Best effort: a directory that cannot be opened is reported by the guest when it tries
    // to use the path.
    for preopen in &writable {
        let _ = builder.preopened_dir(&preopen.host, &preopen.guest, FsPerms::ReadWrite);
    }
    for preopen in &readable {
        let _ = builder.preopened_dir(&preopen.host, &preopen.guest, FsPerms::ReadOnly);
    }
    Ok(builder.build())
}

/// The cache directory the packager will use: `--cache-dir DIR` (or `--cache-dir=DIR`),
/// else `WASMSHIP_CACHE_DIR`, else `$TMPDIR/wasmcloud_ocicache` (`/tmp` without `TMPDIR`),
/// as the packager computes it. Relative paths are taken from `cwd`.
pub fn cache_dir(cwd: &Path, args: &[String], env: &[(OsString, OsString)]) -> PathBuf {
    let flag = crate::cli::flag_value(args, CACHE_DIR_FLAG, None);
    let var = env
        .iter()
        .find(|(name, _)| name == CACHE_DIR_VAR)
        .map(|(_, v)| PathBuf::from(v))
        .filter(|v| !v.as_os_str().is_empty());
    match flag.map(PathBuf::from).or(var) {
        Some(dir) => normalize(&cwd.join(dir)),
        None => temp_dir(env).join(CACHE_DIR_NAME),
    }
}

/// The directory of wkg's `config.toml`: that of `WKG_CONFIG_FILE`, else
/// `$XDG_CONFIG_HOME/wasm-pkg` (when absolute), else `~/.config/wasm-pkg`.
pub fn wkg_config_dir(env: &[(OsString, OsString)]) -> Option<PathBuf> {
    let var = |name: &str| env.iter().find(|(n, v)| n == name && !v.is_empty()).map(|(_, v)| PathBuf::from(v));
    if let Some(file) = var("WKG_CONFIG_FILE") {
        return file.parent().filter(|p| p.is_absolute()).map(normalize);
    }
    let base = var("XDG_CONFIG_HOME").filter(|p| p.is_absolute()).or_else(|| var("HOME").map(|h| h.join(".config")))?;
    Some(normalize(&base.join("wasm-pkg")))
}

/// `TMPDIR`, else `/tmp` (the packager's and the wasmCloud host's choice).
fn temp_dir(env: &[(OsString, OsString)]) -> PathBuf {
    env.iter()
        .find(|(name, value)| name == "TMPDIR" && !value.is_empty())
        .map_or_else(|| PathBuf::from("/tmp"), |(_, value)| PathBuf::from(value))
}

/// The inherited environment the guest sees: the variables `PASSED_ENV` admits, minus any
/// that are not valid UTF-8 and any the runner sets itself (`RUNNER_SET`).
pub fn guest_env(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Vec<(String, String)> {
    vars.into_iter()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .filter(|(name, _)| !RUNNER_SET.contains(&name.as_str()) && env_passed(name))
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

/// Read-only preopens of `dirs` under their absolute paths, except those already granted
/// read-write (a second preopen under the same name would shadow the first).
fn read_only_preopens(dirs: &[PathBuf], writable: &[Preopen]) -> Vec<Preopen> {
    let mut out: Vec<Preopen> = Vec::new();
    for host in dirs.iter().filter(|dir| dir.is_absolute()).map(|dir| normalize(dir)) {
        let Some(guest) = host.to_str().map(str::to_owned) else {
            continue;
        };
        if !writable.iter().chain(&out).any(|p| p.guest == guest) {
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
            ("WASMSHIP_DEBUG", "1"),
            ("WASH_REG_USER", "u"),
            ("WKG_CONFIG_FILE", "/c"),
            ("HOME", "/home/u"),
            ("SOURCE_DATE_EPOCH", "0"),
            ("WASMSHIP_RUNNER", "0"),
            ("WASMSHIP_DOCKER_CONFIG_JSON", "{}"),
            ("WASMSHIP_HOST_CREDENTIALS", "{}"),
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
    fn cache_dir_follows_the_packager() {
        let cwd = Path::new("/work/project");
        let env = |pairs: &[(&str, &str)]| -> Vec<(OsString, OsString)> {
            pairs.iter().map(|(k, v)| (OsString::from(k), OsString::from(v))).collect()
        };
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(cache_dir(cwd, &args(&["pull", "x"]), &env(&[])), PathBuf::from("/tmp/wasmcloud_ocicache"));
        assert_eq!(
            cache_dir(cwd, &args(&["pull", "x"]), &env(&[("TMPDIR", "/var/tmp")])),
            PathBuf::from("/var/tmp/wasmcloud_ocicache")
        );
        assert_eq!(cache_dir(cwd, &args(&["pull", "x"]), &env(&[("WASMSHIP_CACHE_DIR", "/c")])), PathBuf::from("/c"));
        assert_eq!(
            cache_dir(cwd, &args(&["pull", "--cache-dir", "rel", "x"]), &env(&[("WASMSHIP_CACHE_DIR", "/c")])),
            PathBuf::from("/work/project/rel")
        );
        assert_eq!(cache_dir(cwd, &args(&["pull", "--cache-dir=/abs"]), &env(&[])), PathBuf::from("/abs"));
    }

    #[test]
    fn wkg_config_dir_follows_wkg() {
        let env = |pairs: &[(&str, &str)]| -> Vec<(OsString, OsString)> {
            pairs.iter().map(|(k, v)| (OsString::from(k), OsString::from(v))).collect()
        };
        let dir = |pairs: &[(&str, &str)]| wkg_config_dir(&env(pairs));
        assert_eq!(dir(&[("WKG_CONFIG_FILE", "/etc/wkg/c.toml"), ("HOME", "/h")]), Some(PathBuf::from("/etc/wkg")));
        assert_eq!(dir(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")]), Some(PathBuf::from("/x/wasm-pkg")));
        assert_eq!(dir(&[("HOME", "/h")]), Some(PathBuf::from("/h/.config/wasm-pkg")));
        assert_eq!(dir(&[("WKG_CONFIG_FILE", "relative.toml")]), None);
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

    #[test]
    fn read_only_dirs_do_not_shadow_writable_ones() {
        let writable = [Preopen { host: PathBuf::from("/work/p"), guest: "/work/p".to_owned() }];
        let dirs =
            [PathBuf::from("/secrets/"), PathBuf::from("/work/p"), PathBuf::from("rel"), PathBuf::from("/secrets")];
        let got = read_only_preopens(&dirs, &writable);
        assert_eq!(got, [Preopen { host: PathBuf::from("/secrets"), guest: "/secrets".to_owned() }]);
    }
}
