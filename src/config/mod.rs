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
}

/// Where a credential was found (for `-v` style diagnostics; never the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialOrigin {
    Flags,
    Environment,
    WasmcloudToml,
    DockerConfig,
}

/// The credential for `registry` (`host[:port]`), by precedence.
pub fn credential_for(registry: &str, explicit: &ExplicitCredentials) -> Option<(Credential, CredentialOrigin)> {
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
