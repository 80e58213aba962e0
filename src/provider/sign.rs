//! Signed claims: the JWT in `claims.jwt`. Header `{"typ":"jwt","alg":"Ed25519"}`,
//! the claims, and the issuer's Ed25519 signature over
//! `base64url(header).base64url(claims)`, all base64url without padding.
//! Decoding checks the structure and reports whether the signature and the
//! token's validity period hold, so `inspect` can show a bad token while every
//! other reader refuses it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::claims::{ProviderClaims, now};
use super::keys::{KeyPair, PublicKey};
use crate::error::{Error, Result};

/// The largest `claims.jwt` read (wascap tokens are a few KiB; a schema can add some).
pub const JWT_MAX_BYTES: u64 = 1024 * 1024;

const TYPE: &str = "jwt";
const ALGORITHM: &str = "Ed25519";

#[derive(Serialize, Deserialize)]
struct Header {
    typ: String,
    alg: String,
}

/// A decoded `claims.jwt`.
#[derive(Debug, Clone)]
pub struct Token {
    /// The token as it was read.
    pub jwt: String,
    pub claims: ProviderClaims,
    /// Whether the issuer's signature holds and the token is within its validity period.
    pub signature: Check,
}

/// The outcome of one verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Valid,
    Invalid(String),
}

impl Check {
    /// Whether the check passed.
    pub fn is_valid(&self) -> bool {
        *self == Check::Valid
    }
}

/// Sign `claims` with `issuer`, whose public key must be the claims' `iss`.
pub fn encode(claims: &ProviderClaims, issuer: &KeyPair) -> Result<String> {
    if issuer.public_key().to_string() != claims.iss {
        return Err(Error::InvalidInput(format!(
            "the signing key {} is not the claims' issuer {}",
            issuer.public_key(),
            claims.iss
        )));
    }
    let header = Header { typ: TYPE.into(), alg: ALGORITHM.into() };
    let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("header serialises"));
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialise"));
    let signed = format!("{header}.{body}");
    let signature = URL_SAFE_NO_PAD.encode(issuer.sign(signed.as_bytes()));
    Ok(format!("{signed}.{signature}"))
}

/// Decode a token and check its signature against its issuer. A token that
/// cannot be decoded at all is an error; a bad signature is reported in
/// [`Token::signature`].
pub fn decode(jwt: &str) -> Result<Token> {
    let jwt = jwt.trim();
    let bad = |reason: String| Error::InvalidSignature { what: "claims.jwt".into(), reason };
    let segments: Vec<&str> = jwt.split('.').collect();
    let [header, body, signature] = segments.as_slice() else {
        return Err(bad(format!("a JWT has 3 segments, this one {}", segments.len())));
    };
    let header: Header = segment(header).map_err(|e| bad(format!("header: {e}")))?;
    let claims: ProviderClaims = segment(body).map_err(|e| bad(format!("claims: {e}")))?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| bad("the signature is not base64url".into()))?;

    let check = if header.typ != TYPE || header.alg != ALGORITHM {
        let shown = |value: &str| format!("{:?}", crate::error::excerpt(value, crate::error::MAX_ECHO));
        Check::Invalid(format!(
            "unsupported header typ {} alg {} (expected jwt/Ed25519)",
            shown(&header.typ),
            shown(&header.alg)
        ))
    } else {
        match PublicKey::parse(&claims.iss) {
            Err(e) => Check::Invalid(format!("issuer: {e}")),
            Ok(issuer) => {
                let signed_len = jwt.len() - segments[2].len() - 1;
                if !issuer.verify(&jwt.as_bytes()[..signed_len], &signature) {
                    Check::Invalid(format!("the signature does not match the issuer {}", claims.iss))
                } else {
                    validity_period(&claims, now())
                }
            }
        }
    };
    Ok(Token { jwt: jwt.to_string(), claims, signature: check })
}

fn validity_period(claims: &ProviderClaims, now: u64) -> Check {
    match (claims.exp, claims.nbf) {
        (Some(exp), _) if exp < now => Check::Invalid(format!("the token expired at {exp} (seconds since 1970)")),
        (_, Some(nbf)) if nbf > now => Check::Invalid(format!("the token is not valid before {nbf}")),
        _ => Check::Valid,
    }
}

fn segment<T: serde::de::DeserializeOwned>(text: &str) -> std::result::Result<T, String> {
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| "not base64url".to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::provider::claims::{ProviderInfo, file_hash};
    use crate::provider::keys::KeyRole;

    fn claims(issuer: &KeyPair, subject: &KeyPair) -> ProviderClaims {
        let info = ProviderInfo {
            name: "Demo".into(),
            vendor: "Acme".into(),
            schema: Some(serde_json::json!({"type": "object"})),
            ..Default::default()
        };
        let hashes = BTreeMap::from([("x86_64-linux".to_string(), file_hash(b"bin"))]);
        ProviderClaims::new(&info, issuer.public_key().to_string(), subject.public_key().to_string(), hashes)
    }

    #[test]
    fn signed_claims_decode_and_verify() {
        let issuer = KeyPair::generate(KeyRole::Account).unwrap();
        let subject = KeyPair::generate(KeyRole::Service).unwrap();
        let claims = claims(&issuer, &subject);
        let jwt = encode(&claims, &issuer).unwrap();
        assert!(
            jwt.starts_with("eyJ0eXAiOiJqd3QiLCJhbGciOiJFZDI1NTE5In0."),
            "header is {{\"typ\":\"jwt\",\"alg\":\"Ed25519\"}}"
        );
        assert!(!jwt.contains('='), "base64url without padding");
        let token = decode(&jwt).unwrap();
        assert_eq!(token.claims, claims);
        assert_eq!(token.signature, Check::Valid);
    }

    #[test]
    fn only_the_issuer_may_sign() {
        let issuer = KeyPair::generate(KeyRole::Account).unwrap();
        let other = KeyPair::generate(KeyRole::Account).unwrap();
        let subject = KeyPair::generate(KeyRole::Service).unwrap();
        assert!(encode(&claims(&issuer, &subject), &other).is_err());
    }

    #[test]
    fn changed_claims_break_the_signature() {
        let issuer = KeyPair::generate(KeyRole::Account).unwrap();
        let subject = KeyPair::generate(KeyRole::Service).unwrap();
        let jwt = encode(&claims(&issuer, &subject), &issuer).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        let mut changed = claims(&issuer, &subject);
        changed.wascap.as_mut().unwrap().target_hashes.insert("x86_64-linux".into(), file_hash(b"evil"));
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&changed).unwrap());
        let forged = format!("{}.{body}.{}", parts[0], parts[2]);
        let token = decode(&forged).unwrap();
        assert!(matches!(token.signature, Check::Invalid(ref r) if r.contains("signature")), "{:?}", token.signature);
    }

    #[test]
    fn a_foreign_key_claiming_the_issuer_fails() {
        // Signed by another account while naming the original issuer.
        let issuer = KeyPair::generate(KeyRole::Account).unwrap();
        let foreign = KeyPair::generate(KeyRole::Account).unwrap();
        let subject = KeyPair::generate(KeyRole::Service).unwrap();
        let mut claims = claims(&issuer, &subject);
        claims.iss = foreign.public_key().to_string();
        let jwt = encode(&claims, &foreign).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        claims.iss = issuer.public_key().to_string();
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        let token = decode(&format!("{}.{body}.{}", parts[0], parts[2])).unwrap();
        assert!(!token.signature.is_valid());
    }

    #[test]
    fn expiry_and_not_before_are_checked() {
        let issuer = KeyPair::generate(KeyRole::Account).unwrap();
        let subject = KeyPair::generate(KeyRole::Service).unwrap();
        let mut c = claims(&issuer, &subject);
        c.exp = Some(1000);
        assert!(!decode(&encode(&c, &issuer).unwrap()).unwrap().signature.is_valid());
        c.exp = None;
        c.nbf = Some(now() + 3600);
        assert!(!decode(&encode(&c, &issuer).unwrap()).unwrap().signature.is_valid());
    }

    #[test]
    fn malformed_tokens_are_errors() {
        assert!(decode("a.b").is_err());
        assert!(decode("!!.??.**").is_err());
    }
}
