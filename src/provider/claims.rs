//! The claims of a capability provider, as wascap writes them into `claims.jwt`:
//! the standard JWT fields (`jti`, `iat`, `iss` = account key, `sub` = service
//! key, optional `exp`/`nbf`), `wascap_revision` and the `wascap` object with
//! name, vendor, revision, version, the sha256 of every file of the archive
//! (uppercase hex, keyed by target or `world.wasm`) and an optional JSON schema
//! of the provider's link configuration.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// The claims revision wascap writes and this packager writes too.
pub const WASCAP_REVISION: u32 = 3;

/// The key of the WIT world's hash in `target_hashes`.
pub const WORLD_HASH_KEY: &str = "world.wasm";

/// A provider's JWT claims. Field order is the serialised order, wascap's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderClaims {
    /// Expiry, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// A unique id of this token.
    pub jti: String,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// The issuer: the signing account's public key (`A…`).
    pub iss: String,
    /// The subject: the provider's service public key (`V…`).
    pub sub: String,
    /// Not valid before, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// The provider metadata (`wascap`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wascap: Option<ProviderMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wascap_revision: Option<u32>,
}

/// The `wascap` object of a provider's claims.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    pub name: Option<String>,
    pub vendor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<String>,
    /// Target (`x86_64-linux`) or `world.wasm` → uppercase hex sha256 of its file.
    pub target_hashes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_schema: Option<serde_json::Value>,
}

/// What a provider says about itself, before it is signed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderInfo {
    pub name: String,
    pub vendor: String,
    pub revision: Option<i32>,
    pub version: Option<String>,
    pub schema: Option<serde_json::Value>,
}

impl ProviderClaims {
    /// New claims issued now by `issuer` about `subject` for files with `target_hashes`.
    pub fn new(info: &ProviderInfo, issuer: String, subject: String, target_hashes: BTreeMap<String, String>) -> Self {
        ProviderClaims {
            exp: None,
            jti: new_token_id(),
            iat: now(),
            iss: issuer,
            sub: subject,
            nbf: None,
            wascap: Some(ProviderMetadata {
                name: Some(info.name.clone()),
                vendor: info.vendor.clone(),
                rev: info.revision,
                ver: info.version.clone(),
                target_hashes,
                config_schema: info.schema.clone(),
            }),
            wascap_revision: Some(WASCAP_REVISION),
        }
    }

    /// The provider metadata; claims without it are not a provider's.
    pub fn metadata(&self) -> Result<&ProviderMetadata> {
        self.wascap.as_ref().ok_or_else(|| Error::InvalidSignature {
            what: "claims.jwt".into(),
            reason: "the claims carry no `wascap` provider metadata".into(),
        })
    }

    /// The provider's own description, to sign again with other files.
    pub fn info(&self) -> Result<ProviderInfo> {
        let m = self.metadata()?;
        Ok(ProviderInfo {
            name: m.name.clone().unwrap_or_default(),
            vendor: m.vendor.clone(),
            revision: m.rev,
            version: m.ver.clone(),
            schema: m.config_schema.clone(),
        })
    }
}

/// The hash wascap records for a file: uppercase hex sha256.
pub fn file_hash(bytes: &[u8]) -> String {
    hex::encode_upper(Sha256::digest(bytes))
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A unique token id: 22 random characters of `[0-9A-Za-z]`, the shape of the ids wascap writes.
fn new_token_id() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut bytes = [0u8; 22];
    if getrandom::fill(&mut bytes).is_err() {
        // Uniqueness, not secrecy, is what matters here.
        for chunk in bytes.chunks_mut(8) {
            let r = crate::fsutil::random_u64().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
    }
    bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_uppercase_hex_sha256() {
        assert_eq!(file_hash(b""), "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
    }

    #[test]
    fn serialises_in_wascaps_shape() {
        let info = ProviderInfo {
            name: "Demo".into(),
            vendor: "Acme".into(),
            revision: Some(2),
            version: Some("0.1.0".into()),
            schema: None,
        };
        let hashes = BTreeMap::from([("x86_64-linux".to_string(), file_hash(b"bin"))]);
        let claims = ProviderClaims::new(&info, "Aissuer".into(), "Vsubject".into(), hashes);
        let json: serde_json::Value = serde_json::to_value(&claims).unwrap();
        assert_eq!(json["wascap_revision"], 3);
        assert_eq!(json["iss"], "Aissuer");
        assert_eq!(json["sub"], "Vsubject");
        assert_eq!(json["wascap"]["name"], "Demo");
        assert_eq!(json["wascap"]["vendor"], "Acme");
        assert_eq!(json["wascap"]["rev"], 2);
        assert_eq!(json["wascap"]["ver"], "0.1.0");
        assert_eq!(json["wascap"]["target_hashes"]["x86_64-linux"], file_hash(b"bin"));
        assert!(json.get("exp").is_none() && json["wascap"].get("config_schema").is_none());
        assert_eq!(json["jti"].as_str().unwrap().len(), 22);
        assert!(json["iat"].as_u64().unwrap() > 1_600_000_000);
        assert_eq!(claims.info().unwrap(), info);
    }

    #[test]
    fn token_ids_differ() {
        assert_ne!(new_token_id(), new_token_id());
    }
}
