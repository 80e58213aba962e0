//! A directory per test, and the real `wasmship` binary run inside it with a hermetic
//! environment: a cleared environment plus `PATH`, `HOME` (inside the test's directory) and a
//! shared `WASMSHIP_PRECOMPILED_DIR`, so no run sees the user's configuration or another test's
//! files, and runs after the first do not compile the component again.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::parse_json;

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_wasmship");

/// A run that takes longer than this is a hang, not a slow run: it is killed and the test fails.
const HANG_LIMIT: Duration = Duration::from_secs(300);

/// One test's directory: `work/` is the binary's working directory, `home/` its `HOME`, and
/// the root holds whatever else the test needs (a registry's storage, skopeo's output).
pub struct TestDir {
    /// `None` once kept for a failed test (see `KEEP_VAR`).
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    work: PathBuf,
    home: PathBuf,
}

impl TestDir {
    pub fn new() -> TestDir {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e");
        fs::create_dir_all(&base).expect("create the e2e base directory");
        let root_dir = tempfile::Builder::new().prefix("t-").tempdir_in(&base).expect("create a test directory");
        let root = root_dir.path().to_path_buf();
        let work = root.join("work");
        let home = root.join("home");
        fs::create_dir(&work).expect("create work/");
        fs::create_dir(&home).expect("create home/");
        TestDir { dir: Some(root_dir), root, work, home }
    }

    /// The test's root directory (outside the binary's working directory).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The binary's temporary directory (`TMPDIR`), where its default cache lives, so no
    /// test is answered from another test's cache.
    pub fn tmp(&self) -> PathBuf {
        let tmp = self.root.join("tmp");
        fs::create_dir_all(&tmp).expect("create tmp/");
        tmp
    }

    /// The binary's working directory.
    pub fn work(&self) -> &Path {
        &self.work
    }

    /// `rel` inside the working directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.work.join(rel)
    }

    /// Writes `bytes` to `rel` inside the working directory and returns its path.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent directory");
        }
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// The bytes of `rel` inside the working directory.
    pub fn read(&self, rel: &str) -> Vec<u8> {
        let path = self.path(rel);
        fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Every file and directory under the working directory, as relative paths.
    pub fn listing(&self) -> BTreeSet<String> {
        fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
            for entry in fs::read_dir(dir).expect("read_dir") {
                let path = entry.expect("dir entry").path();
                let rel = path.strip_prefix(base).expect("under base");
                out.insert(rel.to_string_lossy().into_owned());
                if path.is_dir() {
                    walk(base, &path, out);
                }
            }
        }
        let mut out = BTreeSet::new();
        walk(&self.work, &self.work, &mut out);
        out
    }

    /// The packager component's path, as `wasmship self path` prints it for this directory's
    /// environment; checked to be absolute and to exist.
    pub fn self_path(&self) -> PathBuf {
        let run = self.run(&["self", "path"]).success();
        let path = PathBuf::from(run.stdout.trim());
        assert!(path.is_absolute(), "not an absolute path: {run}");
        assert!(path.is_file(), "no file at the printed path: {run}");
        path
    }

    /// Runs `wasmship ARGS` in the working directory.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        self.run_env(args, &[])
    }

    /// The `HOME` of every run.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// `wasmship ARGS` in the working directory with the test's hermetic environment, as a
    /// command to spawn (for runs that go in parallel or get killed).
    pub fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(&self.work)
            .env_clear()
            .env("HOME", &self.home)
            .env("TMPDIR", self.tmp())
            .env("WASMSHIP_PRECOMPILED_DIR", precompiled_dir())
            .stdin(Stdio::null());
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        cmd
    }

    /// Runs `wasmship ARGS` in the working directory with extra environment variables.
    pub fn run_env<S: AsRef<OsStr>>(&self, args: &[S], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let shown = args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ");
        run_to_end(cmd, format!("wasmship {shown}"))
    }
}

/// Set (to anything) to keep the directories of failed tests for a look at what was left.
const KEEP_VAR: &str = "WASMSHIP_E2E_KEEP";

impl Drop for TestDir {
    fn drop(&mut self) {
        if !thread::panicking() {
            return;
        }
        match self.dir.take() {
            Some(dir) if std::env::var_os(KEEP_VAR).is_some() => {
                eprintln!("test directory kept: {}", dir.keep().display());
            }
            _ => eprintln!("set {KEEP_VAR}=1 to keep the directories of failed tests"),
        }
    }
}

/// Where every run keeps the compiled component, shared by all tests of this build.
fn precompiled_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("precompiled");
    fs::create_dir_all(&dir).expect("create the precompiled directory");
    dir
}

/// Runs `cmd` to its end, capturing both streams; a run past `HANG_LIMIT` is killed.
pub fn run_to_end(mut cmd: Command, shown: String) -> Run {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn `{shown}`: {e}"));
    let mut out = child.stdout.take().expect("stdout piped");
    let mut err = child.stderr.take().expect("stderr piped");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        out.read_to_end(&mut buf).map(|_| buf)
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        err.read_to_end(&mut buf).map(|_| buf)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if started.elapsed() > HANG_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{shown}` still running after {HANG_LIMIT:?}: killed");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let stdout = out_reader.join().expect("stdout reader").expect("read stdout");
    let stderr = err_reader.join().expect("stderr reader").expect("read stderr");
    Run {
        shown,
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// What one run of a program did.
pub struct Run {
    pub shown: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit status 0.
    #[track_caller]
    pub fn success(self) -> Run {
        assert_eq!(self.code, Some(0), "expected success from {self}");
        self
    }

    /// Asserts exit status 1 (the documented failure status).
    #[track_caller]
    pub fn failure(self) -> Run {
        assert_eq!(self.code, Some(1), "expected exit status 1 from {self}");
        self
    }

    /// Stdout parsed as JSON.
    #[track_caller]
    pub fn stdout_json(&self) -> Value {
        parse_json(&format!("stdout of `{}`", self.shown), self.stdout.as_bytes())
    }

    /// Stderr parsed as JSON.
    #[track_caller]
    pub fn stderr_json(&self) -> Value {
        parse_json(&format!("stderr of `{}`", self.shown), self.stderr.as_bytes())
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`\n  exit: {:?}\n  stdout: {}\n  stderr: {}", self.shown, self.code, self.stdout, self.stderr)
    }
}
