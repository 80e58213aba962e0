//! Registry authentication: credentials (never printed), `WWW-Authenticate`
//! challenges, and the Docker/OCI token flow with a per-scope token cache.
//! The registry client asks a [`Session`] for the `Authorization` of each
//! request and hands it every 401; where credentials come from is
//! [`crate::config`]'s business.

mod challenge;
mod session;
pub mod token;

use std::fmt;

use base64::Engine as _;

pub use challenge::Challenge;
pub use session::{Access, Session, percent_encode};

/// A secret string: formatting shows `***`, never the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for building headers only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What we can present to a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// User name and password (or personal access token): Basic auth, and
    /// Basic on token requests.
    Basic { username: String, password: Secret },
    /// A bearer token used as is (e.g. `WKG_REGISTRY_<HOST>_AUTH_BEARER`).
    Bearer(Secret),
}

impl Credential {
    /// The `Authorization` value for Basic auth, if this is a user/password.
    pub fn basic_header(&self) -> Option<String> {
        match self {
            Credential::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{}", password.expose()))
            )),
            Credential::Bearer(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_format() {
        let c = Credential::Basic { username: "alice".into(), password: Secret::new("hunter2") };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(c.basic_header().unwrap(), "Basic YWxpY2U6aHVudGVyMg==");
    }
}
