//! Token endpoint responses: `{"token"|"access_token", "expires_in", "issued_at"}`.

use std::time::Duration;

use serde::Deserialize;

use super::Secret;

/// Lifetime assumed when the response gives none (distribution spec: 60 s).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);
/// The longest a token is trusted, whatever its `expires_in` says (a registry answering
/// `u64::MAX` must not overflow the clock).
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A bearer token and how long it lives.
#[derive(Debug, Clone)]
pub struct Token {
    pub value: Secret,
    pub lifetime: Duration,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Parse a token endpoint's JSON body.
pub fn parse(body: &[u8]) -> Option<Token> {
    let response: TokenResponse = serde_json::from_slice(body).ok()?;
    let value = response.token.filter(|t| !t.is_empty()).or(response.access_token.filter(|t| !t.is_empty()))?;
    let lifetime = response
        .expires_in
        .filter(|s| *s > 0)
        .map(|s| Duration::from_secs(s).min(MAX_LIFETIME))
        .unwrap_or(DEFAULT_LIFETIME);
    Some(Token { value: Secret::new(value), lifetime })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_token_or_access_token() {
        let forever = parse(br#"{"token":"abc","expires_in":18446744073709551615}"#).unwrap();
        assert_eq!(forever.lifetime, MAX_LIFETIME, "issue 11: u64::MAX overflowed Instant + Duration");
        let t = parse(br#"{"token":"abc","expires_in":300}"#).unwrap();
        assert_eq!(t.value.expose(), "abc");
        assert_eq!(t.lifetime, Duration::from_secs(300));
        let t = parse(br#"{"access_token":"xyz"}"#).unwrap();
        assert_eq!(t.value.expose(), "xyz");
        assert_eq!(t.lifetime, DEFAULT_LIFETIME);
        assert!(parse(br#"{"token":""}"#).is_none());
        assert!(parse(b"not json").is_none());
    }
}
