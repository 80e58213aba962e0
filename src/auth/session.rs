//! One registry's authentication state for one repository and access level:
//! which `Authorization` to send, and how to get a new one after a 401 or when
//! a token expires. Tokens are cached per scope, so a pull token is never
//! used where a push token is needed and vice versa.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::challenge::Challenge;
use super::token::{self, Token};
use super::{Credential, Secret};
use crate::error::{Error, Result};
use crate::http::{Method, Request, Scheme, Transport, Url};

/// A token is renewed this long before it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(5);
/// Token responses are read up to this size.
const TOKEN_BODY_MAX: u64 = 1024 * 1024;

/// What the operation needs from the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Pull,
    PullPush,
}

impl Access {
    fn actions(self) -> &'static str {
        match self {
            Access::Pull => "pull",
            Access::PullPush => "pull,push",
        }
    }
}

#[derive(Debug, Clone)]
enum Mode {
    /// No challenge seen yet.
    Unknown,
    /// The registry asked for Basic.
    Basic,
    /// The registry asked for a bearer token from this realm.
    Bearer { realm: Url, service: Option<String> },
}

#[derive(Debug, Clone)]
struct CachedToken {
    value: Secret,
    expires_at: Instant,
    /// Renew this long before expiry: a fraction of a short lifetime.
    margin: Duration,
}

/// Authentication for one repository of one registry.
pub struct Session {
    registry: String,
    repository: String,
    access: Access,
    credential: Option<Credential>,
    /// Hosts to which credentials may go over plain HTTP.
    plain_http_ok: Vec<String>,
    mode: RefCell<Mode>,
    tokens: RefCell<HashMap<String, CachedToken>>,
}

impl Session {
    /// A session for `repository` on `registry`. `plain_http_ok` names hosts
    /// (`host` or `host:port`) that may receive credentials over plain HTTP.
    pub fn new(
        registry: &str,
        repository: &str,
        access: Access,
        credential: Option<Credential>,
        plain_http_ok: Vec<String>,
    ) -> Self {
        Session {
            registry: registry.to_string(),
            repository: repository.to_string(),
            access,
            credential,
            plain_http_ok,
            mode: RefCell::new(Mode::Unknown),
            tokens: RefCell::new(HashMap::new()),
        }
    }

    fn scope(&self) -> String {
        format!("repository:{}:{}", self.repository, self.access.actions())
    }

    /// The `Authorization` value for the next request, renewing an expired
    /// token first. `None` until a challenge says what the registry wants.
    pub fn authorization(&self, transport: &dyn Transport) -> Result<Option<String>> {
        if let Some(at_hand) = self.authorization_at_hand() {
            return Ok(at_hand);
        }
        // Only a bearer token, missing or expiring, is not at hand.
        let Mode::Bearer { realm, service } = self.mode.borrow().clone() else { return Ok(None) };
        let scope = self.scope();
        let token = self.fetch_token(transport, &realm, service.as_deref(), std::slice::from_ref(&scope))?;
        Ok(Some(self.remember(scope, token)))
    }

    /// What [`authorization`](Self::authorization) would present, when it needs no request
    /// to know: `Some(None)` for nothing, `None` when a token would have to be fetched.
    pub fn authorization_at_hand(&self) -> Option<Option<String>> {
        if let Some(Credential::Bearer(token)) = &self.credential {
            return Some(Some(format!("Bearer {}", token.expose())));
        }
        let mode = self.mode.borrow().clone();
        match mode {
            Mode::Unknown => Some(None),
            Mode::Basic => Some(self.credential.as_ref().and_then(Credential::basic_header)),
            Mode::Bearer { .. } => {
                let cached = self.tokens.borrow().get(&self.scope()).cloned();
                cached
                    .filter(|t| Instant::now() + t.margin < t.expires_at)
                    .map(|t| Some(format!("Bearer {}", t.value.expose())))
            }
        }
    }

    /// React to a 401: learn the challenge and obtain fresh authorization.
    /// Fails (with a clear message) when there is nothing new to try.
    pub fn on_unauthorized(&self, transport: &dyn Transport, www_authenticate: Option<&str>) -> Result<()> {
        let challenges = www_authenticate.map(Challenge::parse_all).unwrap_or_default();
        let bearer = challenges.iter().find(|c| c.scheme == "bearer");
        let basic = challenges.iter().find(|c| c.scheme == "basic");
        if let Some(challenge) = bearer {
            let realm_text = challenge.param("realm").ok_or_else(|| self.refused("Bearer challenge without realm"))?;
            let realm = Url::parse(realm_text).ok_or_else(|| {
                self.refused(&format!(
                    "unusable token realm {:?}",
                    crate::error::excerpt(realm_text, crate::error::MAX_ECHO)
                ))
            })?;
            let service = challenge.param("service").map(str::to_string);
            let mut scopes = vec![self.scope()];
            if let Some(asked) = challenge.param("scope")
                && !scopes.iter().any(|s| s == asked)
            {
                scopes.push(asked.to_string());
            }
            let token = self.fetch_token(transport, &realm, service.as_deref(), &scopes)?;
            self.remember(self.scope(), token);
            *self.mode.borrow_mut() = Mode::Bearer { realm, service };
            return Ok(());
        }
        if basic.is_some() {
            let previously_basic = matches!(*self.mode.borrow(), Mode::Basic);
            return match &self.credential {
                Some(Credential::Basic { .. }) if !previously_basic => {
                    *self.mode.borrow_mut() = Mode::Basic;
                    Ok(())
                }
                Some(Credential::Basic { username, .. }) => {
                    Err(self.refused(&format!("the registry refused user {username:?}: wrong user name or password")))
                }
                _ => Err(self.refused(
                    "the registry requires a login: pass -u/--user and -p/--password (or WASH_REG_USER/WASH_REG_PASSWORD), or add credentials to wasmcloud.toml or Docker's config.json",
                )),
            };
        }
        match &self.credential {
            Some(Credential::Bearer(_)) => Err(self.refused("the registry refused the bearer token")),
            _ => Err(self.refused("401 Unauthorized without a usable WWW-Authenticate challenge")),
        }
    }

    /// The error for a 401 that came back although fresh authorization was
    /// presented: the registry does not accept these credentials here.
    pub fn refused_again(&self, subject: &str) -> Error {
        let mode = self.mode.borrow().clone();
        let detail = match (&self.credential, mode) {
            (Some(Credential::Basic { username, .. }), Mode::Basic) => {
                format!("{subject}: the registry refused user {username:?}: wrong user name or password")
            }
            (Some(Credential::Basic { username, .. }), _) => format!(
                "{subject}: the registry refused the token issued for user {username:?} (401): no access to {} with these credentials",
                self.repository
            ),
            (Some(Credential::Bearer(_)), _) => format!("{subject}: the registry refused the bearer token (401)"),
            (None, _) => format!(
                "{subject}: the registry requires a login (401): pass -u/--user and -p/--password (or WASH_REG_USER/WASH_REG_PASSWORD), or add credentials to wasmcloud.toml or Docker's config.json"
            ),
        };
        self.refused(&detail)
    }

    /// Every secret this session could have sent, so text from a registry
    /// can be scrubbed of echoes before it is shown.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        match &self.credential {
            Some(credential @ Credential::Basic { password, .. }) => {
                secrets.push(password.expose().to_string());
                if let Some(header) = credential.basic_header() {
                    secrets.push(header.trim_start_matches("Basic ").to_string());
                }
            }
            Some(Credential::Bearer(token)) => secrets.push(token.expose().to_string()),
            None => {}
        }
        secrets.extend(self.tokens.borrow().values().map(|t| t.value.expose().to_string()));
        secrets.retain(|s| !s.is_empty());
        secrets
    }

    fn remember(&self, scope: String, token: Token) -> String {
        let header = format!("Bearer {}", token.value.expose());
        self.tokens.borrow_mut().insert(
            scope,
            CachedToken {
                margin: EXPIRY_MARGIN.min(token.lifetime / 4),
                value: token.value,
                expires_at: Instant::now() + token.lifetime,
            },
        );
        header
    }

    fn fetch_token(
        &self,
        transport: &dyn Transport,
        realm: &Url,
        service: Option<&str>,
        scopes: &[String],
    ) -> Result<Token> {
        let mut url = realm.clone();
        if let Some(service) = service {
            url = url.with_query("service", &percent_encode(service));
        }
        for scope in scopes {
            url = url.with_query("scope", &percent_encode(scope));
        }
        let mut request = Request::new(Method::Get, url.clone());
        if let Some(basic) = self.credential.as_ref().and_then(Credential::basic_header) {
            if url.scheme == Scheme::Http && !self.plain_http_allowed(&url.authority) {
                return Err(self.refused(&format!(
                    "token realm {} is plain HTTP on a host that is not loopback or --insecure; refusing to send credentials there",
                    display_realm(&url)
                )));
            }
            request = request.header("authorization", basic);
        }
        let mut response = transport.send(request).map_err(|e| Error::Transport {
            target: self.registry.clone(),
            detail: format!("token request to {}: {}", display_realm(&url), e.0),
        })?;
        let body = response.read_body(TOKEN_BODY_MAX).unwrap_or_default();
        match response.status {
            200 => token::parse(&body).ok_or_else(|| {
                self.refused(&format!("token endpoint {} answered without a token", display_realm(&url)))
            }),
            401 | 403 => Err(self.refused(&format!(
                "token endpoint {} refused {} (status {})",
                display_realm(&url),
                match &self.credential {
                    Some(Credential::Basic { username, .. }) =>
                        format!("user {username:?}: wrong user name or password, or no access to {}", self.repository),
                    _ => format!("anonymous access to {}: log in with -u/-p or configure credentials", self.repository),
                },
                response.status
            ))),
            status => Err(Error::Registry {
                registry: self.registry.clone(),
                action: "get token from".into(),
                subject: display_realm(&url),
                status,
                code: None,
                message: None,
            }),
        }
    }

    fn plain_http_allowed(&self, authority: &str) -> bool {
        let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
        crate::reference::is_loopback_host(authority)
            || self.plain_http_ok.iter().any(|h| h.eq_ignore_ascii_case(authority) || h.eq_ignore_ascii_case(host))
    }

    fn refused(&self, detail: &str) -> Error {
        Error::Unauthorized { registry: self.registry.clone(), detail: detail.to_string() }
    }
}

/// The realm without its query (which we built and which holds no secrets,
/// but keeps messages short).
fn display_realm(url: &Url) -> String {
    let mut shown = url.clone();
    if let Some((path, _)) = shown.path_and_query.split_once('?') {
        shown.path_and_query = path.to_string();
    }
    crate::error::excerpt(&shown.to_string(), crate::error::MAX_ECHO)
}

/// Percent-encode a query value (RFC 3986 unreserved characters stay).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleartext_credentials_go_to_loopback_and_named_hosts_only() {
        let session = Session::new("r.example", "a/b", Access::Pull, None, vec!["plain.example:5000".into()]);
        for ok in ["127.0.0.1:5000", "localhost", "[::1]:80", "plain.example:5000"] {
            assert!(session.plain_http_allowed(ok), "{ok}");
        }
        // Issue 11: `127.attacker.example` counted as loopback and received a Basic password.
        for refused in ["127.attacker.example", "127.attacker.example:5000", "r.example", "plain.example:6000"] {
            assert!(!session.plain_http_allowed(refused), "{refused}");
        }
    }

    #[test]
    fn encodes_scopes() {
        assert_eq!(percent_encode("repository:a/b:pull,push"), "repository%3Aa%2Fb%3Apull%2Cpush");
    }
}
