//! Credentials for the packager, which can read neither `~/.docker` (it is not granted) nor
//! run credential helpers (a component cannot start processes), for the registries the
//! command's plan names and no others:
//! - `host_contract::DOCKER_AUTHS`: the `auths` entries of the host's `config.json` for those
//!   registries (`{"auths": {...}}`), when there are any;
//! - `host_contract::HELPER_CREDENTIALS`: `{"<registry>": {"Username", "Secret"}}`, what the
//!   configured helper (`credHelpers`/`credsStore`) answers for each of them. A helper that
//!   is missing, fails, times out or knows no credentials is skipped (one line on stderr
//!   with `WASMSHIP_DEBUG=1`, never with a secret).
//!
//! And `host_contract::PROJECT_CREDENTIALS`: the content of the credentials file the
//! project's `wasmcloud.toml` names (`project_file`).

mod docker_config;
mod helper;
mod project_file;

use std::ffi::OsString;

use serde_json::{Map, Value, json};

pub use project_file::project_credentials;

use crate::host_contract::{DOCKER_AUTHS as CONFIG_JSON_VAR, HELPER_CREDENTIALS as HOST_CREDENTIALS_VAR};

/// The variables to give the guest for a command talking to `registries`, reading the
/// Docker configuration found through `var` (the process environment in production). With
/// `debug`, says on stderr why a helper gave nothing.
pub fn guest_env(registries: &[String], var: impl Fn(&str) -> Option<OsString>, debug: bool) -> Vec<(String, String)> {
    if registries.is_empty() {
        return Vec::new();
    }
    let Some(text) = docker_config::path(&var).and_then(|path| std::fs::read_to_string(path).ok()) else {
        return Vec::new();
    };
    let helpers = docker_config::Helpers::parse(&text);
    let mut env = Vec::new();
    if let Some(auths) = docker_config::auths_for(&text, registries) {
        env.push((CONFIG_JSON_VAR.to_owned(), auths));
    }

    let search_path = var("PATH");
    let asks: Vec<(&str, String)> = registries
        .iter()
        .filter_map(|registry| Some((registry.as_str(), helper::program(helpers.helper_for(registry)?))))
        .collect();
    // Helpers run side by side: each may wait on a keychain or the network.
    let answers: Vec<_> = std::thread::scope(|scope| {
        let running: Vec<_> = asks
            .iter()
            .map(|(registry, program)| {
                let server = docker_config::server_url(registry);
                let found = helper::locate(program, search_path.as_deref());
                scope.spawn(move || match found {
                    Some(file) => helper::get(file.as_os_str(), &server, helper::TIMEOUT),
                    None => Err(helper::Missing::NotInstalled),
                })
            })
            .collect();
        running.into_iter().map(|thread| thread.join().unwrap_or(Err(helper::Missing::NotFound))).collect()
    });

    let mut found = Map::new();
    for ((registry, program), answer) in asks.iter().zip(answers) {
        match answer {
            Ok(credential) => {
                let entry = json!({"Username": credential.username, "Secret": credential.secret});
                found.insert(docker_config::normalize_key(registry), entry);
            }
            Err(missing) if debug => eprintln!("wasmship: credential helper {program} for {registry}: {missing}"),
            Err(_) => {}
        }
    }
    if debug {
        let auths = env.first().map(|(_, json)| docker_config::auth_keys(json)).unwrap_or_default();
        let helped: Vec<&String> = found.keys().collect();
        eprintln!("wasmship: credentials handed over: Docker auths for {auths:?}, helper answers for {helped:?}");
    }
    if !found.is_empty() {
        env.push((HOST_CREDENTIALS_VAR.to_owned(), Value::Object(found).to_string()));
    }
    env
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use super::*;

    /// A variable lookup over fixed pairs.
    fn vars(pairs: Vec<(&'static str, OsString)>) -> impl Fn(&str) -> Option<OsString> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
    }

    fn write_helper(dir: &Path, name: &str, body: &str) {
        let path = dir.join(format!("docker-credential-{name}"));
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn passes_the_auths_and_the_helper_answers_of_the_registries_only() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        // Echoes the server URL it was given as the secret; records each call.
        let log = tmp.path().join("calls");
        write_helper(
            &bin,
            "echo",
            &format!(
                r#"read s; echo "$s" >> {}; printf '{{"ServerURL":"%s","Username":"u","Secret":"%s"}}' "$s" "$s""#,
                log.display()
            ),
        );
        write_helper(&bin, "none", "echo 'credentials not found in native keychain'; exit 1");
        let config = r#"{"auths":{"a.io":{"auth":"dTpw"},"https://b.io/v1/":{"auth":"djp3"},"127.0.0.1:5000":{"auth":"eDp5"}},
            "credsStore":"echo","credHelpers":{"n.io":"none","m.io":"missing"}}"#;
        std::fs::write(tmp.path().join("config.json"), config).unwrap();
        let var = vars(vec![("DOCKER_CONFIG", tmp.path().into()), ("PATH", bin.into())]);

        let registries = ["docker.io", "127.0.0.1:5000", "n.io", "m.io", "B.io"].map(str::to_owned);
        let env = guest_env(&registries, var, false);
        assert_eq!(env[0].0, CONFIG_JSON_VAR);
        let auths: Value = serde_json::from_str(&env[0].1).unwrap();
        assert_eq!(auths, json!({"auths": {"https://b.io/v1/": {"auth": "djp3"}, "127.0.0.1:5000": {"auth": "eDp5"}}}));
        assert_eq!(env[1].0, HOST_CREDENTIALS_VAR);
        let answers: Value = serde_json::from_str(&env[1].1).unwrap();
        assert_eq!(
            answers,
            json!({
                "index.docker.io": {"Username": "u", "Secret": "https://index.docker.io/v1/"},
                "127.0.0.1:5000": {"Username": "u", "Secret": "127.0.0.1:5000"},
                "b.io": {"Username": "u", "Secret": "b.io"},
            })
        );
        assert_eq!(env.len(), 2);
        let calls = std::fs::read_to_string(&log).unwrap();
        assert!(!calls.contains("a.io"), "no helper runs for a registry the command does not name: {calls}");
    }

    #[test]
    fn nothing_without_registries_or_a_readable_config() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join(".docker")).unwrap();
        std::fs::write(tmp.path().join(".docker/config.json"), r#"{"auths":{"a.io":{"auth":"dTpw"}}}"#).unwrap();
        assert!(guest_env(&[], vars(vec![("HOME", tmp.path().into())]), true).is_empty());
        let empty = tempfile::tempdir().unwrap();
        assert!(guest_env(&["a.io".to_owned()], vars(vec![("HOME", empty.path().into())]), true).is_empty());
        assert!(guest_env(&["a.io".to_owned()], vars(vec![]), true).is_empty());
    }

    #[test]
    fn no_entries_for_the_registry_means_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join(".docker")).unwrap();
        std::fs::write(tmp.path().join(".docker/config.json"), r#"{"auths":{"other.io":{"auth":"dTpw"}}}"#).unwrap();
        let env = guest_env(&["a.io".to_owned()], vars(vec![("HOME", tmp.path().into())]), true);
        assert!(env.is_empty(), "{env:?}");
    }
}
