//! Docker credentials as users keep them: a `config.json` with `auths`, and fake
//! `docker-credential-<name>` helpers that log which servers they were asked about.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::{TestDir, basic_authorization};

/// Writes a Docker `config.json` into `config_dir` with an `auths` entry for `host`.
pub fn write_docker_config(config_dir: &std::path::Path, host: &str, user: &str, password: &str) {
    fs::create_dir_all(config_dir).expect("create the Docker config directory");
    let auth = basic_authorization(user, password).trim_start_matches("Basic ").to_owned();
    let config = serde_json::json!({"auths": {host: {"auth": auth}}});
    fs::write(config_dir.join("config.json"), config.to_string()).expect("write config.json");
}

/// Writes a fake `docker-credential-<name>` into `<root>/bin` that answers `get` for any server
/// with `user`/`password` and appends each server it was asked about to `<root>/<name>.log`;
/// returns the `PATH` that finds it first.
pub fn install_credential_helper(dir: &TestDir, name: &str, user: &str, password: &str) -> String {
    let bin = dir.root().join("bin");
    fs::create_dir_all(&bin).expect("create bin/");
    let log = dir.root().join(format!("{name}.log"));
    let script = format!(
        "#!/bin/sh\n\
         # A stand-in for a Docker credential helper: answers `get` for any server.\n\
         if [ \"$1\" != get ]; then echo \"unsupported action: $1\" >&2; exit 1; fi\n\
         read -r server || true\n\
         printf '%s\\n' \"$server\" >> '{log}'\n\
         printf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"{password}\"}}\\n' \"$server\"\n",
        log = log.display()
    );
    let path = bin.join(format!("docker-credential-{name}"));
    fs::write(&path, script).expect("write the credential helper");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("make the helper executable");
    let inherited = std::env::var("PATH").unwrap_or_default();
    format!("{}:{inherited}", bin.display())
}

/// The servers the helper `name` was asked about.
pub fn helper_queries(dir: &TestDir, name: &str) -> Vec<String> {
    fs::read_to_string(dir.root().join(format!("{name}.log"))).unwrap_or_default().lines().map(str::to_owned).collect()
}
