//! nkeys: Ed25519 key pairs in the text form wasmCloud and NATS use. A public
//! key is base32 (no padding) of one prefix byte naming the key's role, the 32
//! key bytes and a CRC-16/XMODEM checksum (little endian): `A…` for an account,
//! `V…` for a service. A seed (the private key) carries two prefix bytes — the
//! seed marker and the role — so it reads `SA…`, `SV…`.

use std::fmt;

use data_encoding::BASE32_NOPAD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use crate::error::{Error, Result};

/// The marker byte that starts every seed (`S` in base32).
const SEED_PREFIX: u8 = 18 << 3;

/// What a key stands for; the first letter of its public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// `A`: an account, the issuer of claims.
    Account,
    /// `V`: a service (a capability provider), the subject of its claims.
    Service,
    /// `M`: a component (module).
    Module,
    /// `O`: an operator.
    Operator,
    /// `N`: a server (host).
    Server,
    /// `C`: a cluster.
    Cluster,
    /// `U`: a user.
    User,
}

const ROLES: [(KeyRole, u8, &str); 7] = [
    (KeyRole::Account, 0, "account"),
    (KeyRole::Service, 21 << 3, "service"),
    (KeyRole::Module, 12 << 3, "module"),
    (KeyRole::Operator, 14 << 3, "operator"),
    (KeyRole::Server, 13 << 3, "server"),
    (KeyRole::Cluster, 2 << 3, "cluster"),
    (KeyRole::User, 20 << 3, "user"),
];

impl KeyRole {
    fn prefix(self) -> u8 {
        ROLES.iter().find(|(r, ..)| *r == self).map(|(_, p, _)| *p).expect("every role has a prefix")
    }

    fn from_prefix(prefix: u8) -> Option<KeyRole> {
        ROLES.iter().find(|(_, p, _)| *p == prefix).map(|(r, ..)| *r)
    }

    /// The role's name as wash writes it in key file names (`account`, `service`).
    pub fn name(self) -> &'static str {
        ROLES.iter().find(|(r, ..)| *r == self).map(|(.., n)| *n).expect("every role has a name")
    }
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A public key with its role (`A…`, `V…`).
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    role: KeyRole,
    key: VerifyingKey,
}

impl PublicKey {
    /// Parse an encoded public key, checking its checksum, role and that it is a point on the curve.
    pub fn parse(text: &str) -> Result<PublicKey> {
        let bad =
            |reason: &str| Error::InvalidInput(format!("{:?} is not an nkeys public key: {reason}", shorten(text)));
        let raw = decode_checked(text).map_err(|r| bad(&r))?;
        let [prefix, key @ ..] = raw.as_slice() else { return Err(bad("empty")) };
        let role = KeyRole::from_prefix(*prefix).ok_or_else(|| bad("unknown key type"))?;
        let bytes: [u8; 32] = key.try_into().map_err(|_| bad("wrong length"))?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| bad("not an Ed25519 public key"))?;
        Ok(PublicKey { role, key })
    }

    /// The key's role.
    pub fn role(&self) -> KeyRole {
        self.role
    }

    /// Whether `signature` is this key's signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else { return false };
        self.key.verify(message, &signature).is_ok()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![self.role.prefix()];
        raw.extend_from_slice(self.key.as_bytes());
        f.write_str(&encode_checked(raw))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

/// A key pair made from a seed. `Debug` never shows the seed.
#[derive(Clone)]
pub struct KeyPair {
    role: KeyRole,
    signing: SigningKey,
}

impl KeyPair {
    /// A new key pair from the operating system's randomness (`wasi:random` in the component).
    pub fn generate(role: KeyRole) -> Result<KeyPair> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| Error::InvalidInput(format!("no randomness to generate a {role} key: {e}")))?;
        Ok(KeyPair { role, signing: SigningKey::from_bytes(&seed) })
    }

    /// Parse an encoded seed (`SA…`, `SV…`); surrounding whitespace is ignored.
    pub fn from_seed(text: &str) -> Result<KeyPair> {
        let text = text.trim();
        // Never echo a seed: it is a secret, even when malformed.
        let bad = |reason: &str| Error::InvalidInput(format!("not an nkeys seed: {reason}"));
        let raw = decode_checked(text).map_err(|r| bad(&r))?;
        let [first, second, seed @ ..] = raw.as_slice() else { return Err(bad("too short")) };
        if first & 0xf8 != SEED_PREFIX {
            return Err(bad("it does not start with the seed marker `S`"));
        }
        let prefix = ((first & 0x07) << 5) | ((second & 0xf8) >> 3);
        let role = KeyRole::from_prefix(prefix).ok_or_else(|| bad("unknown key type"))?;
        let seed: [u8; 32] = seed.try_into().map_err(|_| bad("wrong length"))?;
        Ok(KeyPair { role, signing: SigningKey::from_bytes(&seed) })
    }

    /// The key's role.
    pub fn role(&self) -> KeyRole {
        self.role
    }

    /// The encoded seed, the secret to keep in a `.nk` file.
    pub fn seed(&self) -> String {
        let prefix = self.role.prefix();
        let mut raw = vec![SEED_PREFIX | (prefix >> 5), (prefix & 0x1f) << 3];
        raw.extend_from_slice(self.signing.as_bytes());
        encode_checked(raw)
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey { role: self.role, key: self.signing.verifying_key() }
    }

    /// The Ed25519 signature of `message` (64 bytes).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signing.sign(message).to_bytes().to_vec()
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPair({})", self.public_key())
    }
}

/// Base32 of `raw` followed by its checksum.
fn encode_checked(mut raw: Vec<u8>) -> String {
    let crc = crc16(&raw);
    raw.extend_from_slice(&crc.to_le_bytes());
    BASE32_NOPAD.encode(&raw)
}

/// The bytes of an encoded key without the checksum, after checking it.
fn decode_checked(text: &str) -> std::result::Result<Vec<u8>, String> {
    let mut raw = BASE32_NOPAD.decode(text.as_bytes()).map_err(|_| "not base32".to_string())?;
    if raw.len() < 3 {
        return Err("too short".into());
    }
    let crc = u16::from_le_bytes([raw[raw.len() - 2], raw[raw.len() - 1]]);
    raw.truncate(raw.len() - 2);
    if crc16(&raw) != crc {
        return Err("checksum mismatch".into());
    }
    Ok(raw)
}

/// CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection.
fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

/// A key for messages: public keys are short enough; anything longer is cut.
fn shorten(text: &str) -> String {
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_is_xmodem() {
        // The standard check value of CRC-16/XMODEM.
        assert_eq!(crc16(b"123456789"), 0x31c3);
    }

    #[test]
    fn seeds_and_public_keys_round_trip() {
        for role in [KeyRole::Account, KeyRole::Service, KeyRole::Module, KeyRole::User] {
            let pair = KeyPair::generate(role).unwrap();
            let seed = pair.seed();
            assert_eq!(seed.len(), 58);
            assert!(seed.starts_with('S'));
            let again = KeyPair::from_seed(&seed).unwrap();
            assert_eq!(again.role(), role);
            assert_eq!(again.seed(), seed);
            let public = pair.public_key().to_string();
            assert_eq!(public.len(), 56);
            assert_eq!(PublicKey::parse(&public).unwrap(), pair.public_key());
        }
    }

    #[test]
    fn letters_name_the_role() {
        let account = KeyPair::generate(KeyRole::Account).unwrap();
        let service = KeyPair::generate(KeyRole::Service).unwrap();
        assert!(account.seed().starts_with("SA"));
        assert!(account.public_key().to_string().starts_with('A'));
        assert!(service.seed().starts_with("SV"));
        assert!(service.public_key().to_string().starts_with('V'));
    }

    #[test]
    fn known_seed_gives_known_public_key() {
        // A fixed seed: 32 zero bytes as an account seed, and its public key.
        let pair = KeyPair { role: KeyRole::Account, signing: SigningKey::from_bytes(&[0u8; 32]) };
        let seed = pair.seed();
        assert_eq!(KeyPair::from_seed(&seed).unwrap().public_key(), pair.public_key());
        let public = pair.public_key().to_string();
        let raw = BASE32_NOPAD.decode(public.as_bytes()).unwrap();
        assert_eq!(raw[0], 0);
        assert_eq!(&raw[1..33], pair.signing.verifying_key().as_bytes());
    }

    #[test]
    fn corrupted_keys_are_refused() {
        let pair = KeyPair::generate(KeyRole::Service).unwrap();
        let mut seed = pair.seed().into_bytes();
        seed[10] = if seed[10] == b'A' { b'B' } else { b'A' };
        let err = KeyPair::from_seed(std::str::from_utf8(&seed).unwrap()).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
        assert!(!err.to_string().contains(std::str::from_utf8(&seed).unwrap()), "seeds are never echoed");

        let public = pair.public_key().to_string();
        assert!(KeyPair::from_seed(&public).is_err(), "a public key is not a seed");
        assert!(PublicKey::parse(&pair.seed()).is_err(), "a seed is not a public key");
        assert!(PublicKey::parse("not a key").is_err());
    }

    #[test]
    fn signatures_verify_with_the_public_key_only() {
        let pair = KeyPair::generate(KeyRole::Account).unwrap();
        let other = KeyPair::generate(KeyRole::Account).unwrap();
        let signature = pair.sign(b"message");
        assert!(pair.public_key().verify(b"message", &signature));
        assert!(!pair.public_key().verify(b"massage", &signature));
        assert!(!other.public_key().verify(b"message", &signature));
        assert!(!pair.public_key().verify(b"message", &signature[..10]));
    }
}
