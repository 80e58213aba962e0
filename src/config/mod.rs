//! Where credentials and project settings come from, in wash's order of
//! precedence: flags and environment, the project's `wasmcloud.toml` (and its
//! credentials file), Docker's `config.json` (with credential-helper results
//! the runner hands over), then anonymous. Nothing here talks to a registry.

pub mod docker;
pub mod env;
pub mod limits;
pub mod wasmcloud;

use crate::auth::{Credential, Secret};

/// Credentials given on the command line (or by a caller of the library).
#[derive(Debug, Clone, Default)]
pub struct ExplicitCredentials {
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Credentials per registry (`host[:port]`) handed over by a caller of the typed API:
    /// when set, the only source (a registry not listed is accessed anonymously) and
    /// nothing is read from the environment or configuration files.
    pub only: Option<Vec<(String, Credential)>>,
}

/// Where a credential was found (for `-v` style diagnostics; never the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialOrigin {
    Flags,
    /// Handed over by a caller of the typed API.
    Given,
    Environment,
    WasmcloudToml,
    DockerConfig,
}

/// The credential for `registry` (`host[:port]`), by precedence.
pub fn credential_for(registry: &str, explicit: &ExplicitCredentials) -> Option<(Credential, CredentialOrigin)> {
    if let Some(given) = &explicit.only {
        let wanted = docker::normalize_key(registry);
        return given
            .iter()
            .find(|(name, _)| docker::normalize_key(name) == wanted)
            .map(|(_, credential)| (credential.clone(), CredentialOrigin::Given));
    }
    if let (Some(user), Some(password)) = (&explicit.user, &explicit.password) {
        return Some((
            Credential::Basic { username: user.clone(), password: password.clone() },
            CredentialOrigin::Flags,
        ));
    }
    if let Some(credential) = env::credential_for(registry) {
        return Some((credential, CredentialOrigin::Environment));
    }
    if let Some(credential) = wasmcloud::ProjectConfig::load().and_then(|p| p.credential_for(registry)) {
        return Some((credential, CredentialOrigin::WasmcloudToml));
    }
    docker::credential_for(registry).map(|c| (c, CredentialOrigin::DockerConfig))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_credentials_are_the_only_source_and_match_docker_hubs_names() {
        let token = Credential::Bearer(Secret::new("t0ken"));
        let explicit = ExplicitCredentials {
            user: Some("flag-user".into()),
            password: Some(Secret::new("flag-pass")),
            only: Some(vec![("docker.io".into(), token.clone())]),
        };
        assert_eq!(credential_for("index.docker.io", &explicit), Some((token, CredentialOrigin::Given)));
        // Not listed: anonymous, whatever the flags (or environment and files) hold.
        assert_eq!(credential_for("ghcr.io", &explicit), None);
    }
}
