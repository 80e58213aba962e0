//! Runs one Docker credential helper: `docker-credential-<name> get`, the server URL on
//! stdin, `{"ServerURL","Username","Secret"}` on stdout. The helper runs on the host (a
//! component cannot start processes) with a deadline; its answer is never printed.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a helper may take (it may talk to a keychain or a cloud API).
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The most of a helper's stdout that is read (an answer is a few hundred bytes).
const MAX_ANSWER: u64 = 1 << 20;

/// How often a running helper is checked for having exited.
const POLL: Duration = Duration::from_millis(5);

/// The program name of helper `name`.
pub fn program(name: &str) -> String {
    format!("docker-credential-{name}")
}

/// The executable `program` in the directories of `path` (a `PATH` value), as a shell finds it.
pub fn locate(program: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?).filter(|dir| dir.is_absolute()).map(|dir| dir.join(program)).find(|f| executable(f))
}

#[cfg(unix)]
fn executable(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    file.metadata().is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn executable(file: &Path) -> bool {
    file.is_file()
}

/// A helper's credential for a server.
#[derive(Debug, PartialEq, Eq)]
pub struct Found {
    pub username: String,
    pub secret: String,
}

/// Why a helper gave no credential: said to be safe to print (it holds no answer text).
#[derive(Debug, PartialEq, Eq)]
pub enum Missing {
    /// The helper answered "credentials not found" (or an empty secret).
    NotFound,
    /// The program is not installed.
    NotInstalled,
    /// It ran past [`TIMEOUT`] (or the given deadline) and was killed.
    TimedOut(Duration),
    /// It failed otherwise: the reason, without any of its output.
    Failed(String),
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::NotFound => f.write_str("no credentials stored"),
            Missing::NotInstalled => f.write_str("not found on PATH"),
            Missing::TimedOut(after) => write!(f, "timed out after {} s", after.as_secs_f32()),
            Missing::Failed(reason) => f.write_str(reason),
        }
    }
}

/// Runs `program get` with `server_url` on stdin, killing it after `timeout`.
pub fn get(program: &OsStr, server_url: &str, timeout: Duration) -> Result<Found, Missing> {
    let deadline = Instant::now() + timeout;
    let mut child = Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Missing::NotInstalled,
            _ => Missing::Failed(format!("cannot start: {e}")),
        })?;

    // A helper that exits without reading its input closes the pipe: not an error here.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "{server_url}");
    }
    // Read on a thread, so a helper that never writes (or whose children keep the pipe
    // open) cannot hold the runner past the deadline.
    let (sender, answer) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stdout.take(MAX_ANSWER).read_to_end(&mut bytes);
            let _ = sender.send(bytes);
        });
    }

    let status = wait_until(&mut child, deadline).ok_or(Missing::TimedOut(timeout))?;
    let stdout = answer.recv_timeout(deadline.saturating_duration_since(Instant::now())).unwrap_or_default();
    interpret(status, &stdout)
}

/// The exit status, or `None` after killing a child still running at `deadline`.
fn wait_until(child: &mut std::process::Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// What an exited helper's status and stdout mean.
fn interpret(status: ExitStatus, stdout: &[u8]) -> Result<Found, Missing> {
    if !status.success() {
        let text = String::from_utf8_lossy(stdout).to_ascii_lowercase();
        if text.contains("credentials not found") {
            return Err(Missing::NotFound);
        }
        return Err(Missing::Failed(format!("exited with {status}")));
    }
    let Ok(Value::Object(answer)) = serde_json::from_slice::<Value>(stdout) else {
        return Err(Missing::Failed("its answer is not a JSON object".to_owned()));
    };
    let field = |name: &str| answer.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    let secret = field("Secret");
    if secret.is_empty() {
        return Err(Missing::NotFound);
    }
    Ok(Found { username: field("Username"), secret })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// Writes an executable shell script `name` into `dir`.
    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn reads_the_answer_for_the_server_url() {
        let tmp = tempfile::tempdir().unwrap();
        let helper = script(
            tmp.path(),
            "docker-credential-echo",
            r#"[ "$1" = get ] || exit 3
read server
printf '{"ServerURL":"%s","Username":"u-%s","Secret":"s3cret"}' "$server" "$server""#,
        );
        let found = get(helper.as_os_str(), "ghcr.io", TIMEOUT).unwrap();
        assert_eq!(found, Found { username: "u-ghcr.io".into(), secret: "s3cret".into() });
    }

    #[test]
    fn not_found_failures_and_absence() {
        let tmp = tempfile::tempdir().unwrap();
        let not_found = script(tmp.path(), "nf", "echo 'credentials not found in native keychain'; exit 1");
        assert_eq!(get(not_found.as_os_str(), "x.io", TIMEOUT), Err(Missing::NotFound));
        let empty = script(tmp.path(), "empty", r#"echo '{"ServerURL":"x.io","Username":"","Secret":""}'"#);
        assert_eq!(get(empty.as_os_str(), "x.io", TIMEOUT), Err(Missing::NotFound));
        let broken = script(tmp.path(), "broken", "echo 'secret-looking output'; exit 2");
        let missing = get(broken.as_os_str(), "x.io", TIMEOUT).unwrap_err();
        assert!(matches!(&missing, Missing::Failed(reason) if !reason.contains("secret")), "{missing:?}");
        let garbage = script(tmp.path(), "garbage", "echo not-json");
        assert!(matches!(get(garbage.as_os_str(), "x.io", TIMEOUT), Err(Missing::Failed(_))));
        let absent = tmp.path().join("docker-credential-absent");
        assert_eq!(get(absent.as_os_str(), "x.io", TIMEOUT), Err(Missing::NotInstalled));
    }

    #[test]
    fn locates_executables_on_the_path() {
        let tmp = tempfile::tempdir().unwrap();
        let helper = script(tmp.path(), "docker-credential-x", "true");
        std::fs::write(tmp.path().join("docker-credential-plain"), "").unwrap();
        let path = std::env::join_paths(["relative", "/nonexistent", tmp.path().to_str().unwrap()]).unwrap();
        assert_eq!(locate("docker-credential-x", Some(&path)), Some(helper));
        assert_eq!(locate("docker-credential-plain", Some(&path)), None);
        assert_eq!(locate("docker-credential-y", Some(&path)), None);
        assert_eq!(locate("docker-credential-x", None), None);
    }

    #[test]
    fn a_slow_helper_is_killed_at_the_deadline() {
        let tmp = tempfile::tempdir().unwrap();
        let slow = script(tmp.path(), "slow", "exec sleep 30");
        let started = Instant::now();
        let timeout = Duration::from_millis(200);
        assert_eq!(get(slow.as_os_str(), "x.io", timeout), Err(Missing::TimedOut(timeout)));
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
