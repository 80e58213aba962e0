//! Credentials from environment variables: wash's `WASH_REG_USER` /
//! `WASH_REG_PASSWORD`, wkg's `WKG_OCI_USERNAME` / `WKG_OCI_PASSWORD`, and
//! wkg's per-host bearer token `WKG_REGISTRY_<HOST>_AUTH_BEARER`; and
//! whether the runner hosts this run.

use crate::auth::{Credential, Secret};

/// The variable `name`, unless unset or empty.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Whether the `wasmship` runner hosts this run: it granted exactly the
/// command's plan, skipping only directories the plan may do without that
/// do not exist, and checked every owner-only directory to be the user's own.
pub fn under_runner() -> bool {
    var(crate::host_contract::RUNNER).as_deref() == Some("1")
}

/// Whether the host granted what the command's plan names (see `host_contract::PLANNED`).
pub fn granted_by_plan() -> bool {
    var(crate::host_contract::PLANNED).as_deref() == Some("1")
}

/// The environment's credential for `registry`, if any.
pub fn credential_for(registry: &str) -> Option<Credential> {
    for (user, password) in [("WASH_REG_USER", "WASH_REG_PASSWORD"), ("WKG_OCI_USERNAME", "WKG_OCI_PASSWORD")] {
        if let (Some(user), Some(password)) = (var(user), var(password)) {
            return Some(Credential::Basic { username: user, password: Secret::new(password) });
        }
    }
    var(&bearer_variable(registry)).map(|token| Credential::Bearer(Secret::new(token)))
}

/// `WKG_REGISTRY_<HOST>_AUTH_BEARER` for a registry: the host uppercased,
/// every character that is not a letter or digit replaced by `_`.
pub fn bearer_variable(registry: &str) -> String {
    let host: String =
        registry.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("WKG_REGISTRY_{host}_AUTH_BEARER")
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_the_bearer_variable_like_wkg() {
        assert_eq!(super::bearer_variable("ghcr.io"), "WKG_REGISTRY_GHCR_IO_AUTH_BEARER");
        assert_eq!(super::bearer_variable("localhost:5000"), "WKG_REGISTRY_LOCALHOST_5000_AUTH_BEARER");
    }
}
