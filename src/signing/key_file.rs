//! cosign's key files: the public key as a `PUBLIC KEY` PEM (SubjectPublicKeyInfo DER) and
//! the private key as an `ENCRYPTED SIGSTORE PRIVATE KEY` PEM (also read: `ENCRYPTED COSIGN
//! PRIVATE KEY`) whose body is JSON: scrypt derives a 32-byte key from the password and a
//! salt, NaCl secretbox seals the PKCS#8 DER of the ECDSA P-256 key with it. An unencrypted
//! PKCS#8 `PRIVATE KEY` PEM is read too. Decrypted key material is zeroized when dropped.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use p256::pkcs8::{DecodePublicKey, EncodePublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, MAX_ECHO, Result, excerpt};

/// The PEM label cosign writes for encrypted private keys.
pub const ENCRYPTED_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The label older cosign releases wrote, still read.
pub const LEGACY_ENCRYPTED_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// An unencrypted PKCS#8 private key.
const PLAIN_KEY_LABEL: &str = "PRIVATE KEY";
/// The public key's label.
const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// cosign's scrypt cost: N = 2^15, r = 8, p = 1.
const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;
/// The most memory a key file may make scrypt use (128·r·N bytes): 64 MiB, twice cosign's
/// own. A hostile key file could otherwise ask for gigabytes.
const SCRYPT_MAX_MEMORY: u64 = 64 << 20;
/// The most passes (p) a key file may ask for.
const SCRYPT_MAX_P: u32 = 16;
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
/// The largest key file read: cosign's are under 1 KiB.
pub const MAX_KEY_FILE: u64 = 64 << 10;

/// A private key ready to sign; zeroized on drop.
pub struct PrivateKey {
    key: SigningKey,
}

/// A public key to verify with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
}

/// The JSON body of an encrypted key PEM (securesystemslib's `encrypted` format).
#[derive(Serialize, Deserialize)]
struct SealedKey {
    kdf: Kdf,
    cipher: Cipher,
    #[serde(with = "base64_bytes")]
    ciphertext: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    #[serde(with = "base64_bytes")]
    salt: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    #[serde(with = "base64_bytes")]
    nonce: Vec<u8>,
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}

impl PrivateKey {
    /// A new random P-256 key.
    pub fn generate() -> Result<Self> {
        loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            getrandom::fill(bytes.as_mut_slice())
                .map_err(|e| Error::InvalidInput(format!("no randomness for a new key: {e}")))?;
            // A value outside the curve's order (about 2^-32 of them) is drawn again.
            if let Ok(key) = SigningKey::from_slice(bytes.as_slice()) {
                return Ok(PrivateKey { key });
            }
        }
    }

    /// Read a private key PEM (`what` names it in errors), decrypting it with `password`
    /// when it is encrypted.
    pub fn from_pem(pem: &[u8], password: &[u8], what: &str) -> Result<Self> {
        let (label, body) = pem_rfc7468::decode_vec(pem)
            .map_err(|e| Error::InvalidInput(format!("{what} is not a PEM key file: {e}")))?;
        let body = Zeroizing::new(body);
        let der = match label {
            ENCRYPTED_KEY_LABEL | LEGACY_ENCRYPTED_KEY_LABEL => open(&body, password, what)?,
            PLAIN_KEY_LABEL => Zeroizing::new(body.to_vec()),
            other => {
                return Err(Error::InvalidInput(format!(
                    "{what} is a `{}` PEM, not a cosign private key (`{ENCRYPTED_KEY_LABEL}`); \
                     create one with `wasmship key generate`",
                    excerpt(other, MAX_ECHO)
                )));
            }
        };
        let key = SigningKey::from_pkcs8_der(&der)
            .map_err(|e| Error::InvalidInput(format!("{what} does not hold an ECDSA P-256 key (PKCS#8): {e}")))?;
        Ok(PrivateKey { key })
    }

    /// The key as cosign's encrypted PEM, sealed with `password`.
    pub fn to_encrypted_pem(&self, password: &[u8]) -> Result<String> {
        let der = self.key.to_pkcs8_der().map_err(|e| Error::InvalidInput(format!("encoding the key: {e}")))?;
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut salt).map_err(|e| Error::InvalidInput(format!("no randomness for the key file: {e}")))?;
        getrandom::fill(&mut nonce).map_err(|e| Error::InvalidInput(format!("no randomness for the key file: {e}")))?;
        let params = ScryptParams { n: 1 << SCRYPT_LOG_N, r: SCRYPT_R, p: SCRYPT_P };
        let secret = derive(password, &salt, &params, "the new key")?;
        let ciphertext = XSalsa20Poly1305::new(secret.as_slice().into())
            .encrypt(Nonce::from_slice(&nonce), der.as_bytes())
            .map_err(|_| Error::InvalidInput("sealing the key failed".into()))?;
        let sealed = SealedKey {
            kdf: Kdf { name: "scrypt".into(), params, salt: salt.to_vec() },
            cipher: Cipher { name: "nacl/secretbox".into(), nonce: nonce.to_vec() },
            ciphertext,
        };
        let json = serde_json::to_vec(&sealed).expect("key JSON serialises");
        pem_rfc7468::encode_string(ENCRYPTED_KEY_LABEL, LineEnding::LF, &json)
            .map_err(|e| Error::InvalidInput(format!("encoding the key file: {e}")))
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey { key: *self.key.verifying_key() }
    }

    /// The ASN.1 DER ECDSA signature of SHA-256(`message`), as cosign makes it.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer as _;
        let signature: p256::ecdsa::DerSignature = self.key.sign(message);
        signature.as_bytes().to_vec()
    }
}

/// Derive the secretbox key of a sealed key file.
fn derive(password: &[u8], salt: &[u8], params: &ScryptParams, what: &str) -> Result<Zeroizing<[u8; 32]>> {
    let unsupported = |why: String| Error::InvalidInput(format!("{what}: unsupported scrypt parameters: {why}"));
    if !params.n.is_power_of_two() || params.n < 2 {
        return Err(unsupported(format!("N = {} is not a power of two", params.n)));
    }
    let log_n = params.n.trailing_zeros() as u8;
    let memory = 128u64.saturating_mul(u64::from(params.r)).saturating_mul(params.n);
    if params.r == 0 || memory > SCRYPT_MAX_MEMORY || params.p == 0 || params.p > SCRYPT_MAX_P {
        return Err(unsupported(format!(
            "N = {}, r = {}, p = {} (at most {} MiB of memory and p ≤ {SCRYPT_MAX_P}; cosign uses N = 32768, r = 8, p = 1)",
            params.n,
            params.r,
            params.p,
            SCRYPT_MAX_MEMORY >> 20
        )));
    }
    let scrypt_params = scrypt::Params::new(log_n, params.r, params.p).map_err(|e| unsupported(e.to_string()))?;
    let mut secret = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password, salt, &scrypt_params, secret.as_mut_slice()).map_err(|e| unsupported(e.to_string()))?;
    Ok(secret)
}

/// Decrypt the PKCS#8 DER sealed in an encrypted key PEM's JSON body.
fn open(body: &[u8], password: &[u8], what: &str) -> Result<Zeroizing<Vec<u8>>> {
    let sealed: SealedKey = serde_json::from_slice(body).map_err(|e| {
        Error::InvalidInput(format!("{what} is not a cosign key file: {}", excerpt(&e.to_string(), MAX_ECHO)))
    })?;
    if sealed.kdf.name != "scrypt" || sealed.cipher.name != "nacl/secretbox" {
        return Err(Error::InvalidInput(format!(
            "{what}: unsupported encryption {} + {} (cosign's is scrypt + nacl/secretbox)",
            excerpt(&sealed.kdf.name, 40),
            excerpt(&sealed.cipher.name, 40)
        )));
    }
    if sealed.cipher.nonce.len() != NONCE_LEN {
        return Err(Error::InvalidInput(format!("{what}: the secretbox nonce is not {NONCE_LEN} bytes")));
    }
    let secret = derive(password, &sealed.kdf.salt, &sealed.kdf.params, what)?;
    XSalsa20Poly1305::new(secret.as_slice().into())
        .decrypt(Nonce::from_slice(&sealed.cipher.nonce), sealed.ciphertext.as_slice())
        .map(Zeroizing::new)
        .map_err(|_| {
            Error::InvalidInput(format!(
                "{what}: wrong password, or the key file is damaged (the password comes from COSIGN_PASSWORD)"
            ))
        })
}

impl PublicKey {
    /// Read a `PUBLIC KEY` PEM (`what` names it in errors).
    pub fn from_pem(pem: &[u8], what: &str) -> Result<Self> {
        let text = std::str::from_utf8(pem).map_err(|_| Error::InvalidInput(format!("{what} is not a PEM file")))?;
        let label = pem_rfc7468::decode_label(text.trim_start().as_bytes())
            .map_err(|e| Error::InvalidInput(format!("{what} is not a PEM key file: {e}")))?;
        if label != PUBLIC_KEY_LABEL {
            let hint = if label.contains("PRIVATE") { " (verify with the public key, e.g. cosign.pub)" } else { "" };
            return Err(Error::InvalidInput(format!(
                "{what} is a `{}` PEM, not a public key{hint}",
                excerpt(label, MAX_ECHO)
            )));
        }
        let key = VerifyingKey::from_public_key_pem(text.trim_start())
            .map_err(|e| Error::InvalidInput(format!("{what} is not an ECDSA P-256 public key: {e}")))?;
        Ok(PublicKey { key })
    }

    /// The key as a `PUBLIC KEY` PEM.
    pub fn to_pem(&self) -> String {
        self.key.to_public_key_pem(LineEnding::LF).expect("a P-256 public key encodes")
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn to_der(&self) -> Vec<u8> {
        self.key.to_public_key_der().expect("a P-256 public key encodes").as_bytes().to_vec()
    }

    /// The key's fingerprint: `SHA256:` and the unpadded base64 SHA-256 of its DER (the form
    /// `ssh-keygen -l` uses).
    pub fn fingerprint(&self) -> String {
        let hash = Sha256::digest(self.to_der());
        format!("SHA256:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(hash))
    }

    /// The key hint of a Sigstore bundle: the standard base64 SHA-256 of its DER.
    pub fn hint(&self) -> String {
        STANDARD.encode(Sha256::digest(self.to_der()))
    }

    /// Whether `signature` (ASN.1 DER, or the 64-byte fixed form) is this key's ECDSA
    /// signature of SHA-256(`message`).
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::Verifier as _;
        let parsed =
            p256::ecdsa::Signature::from_der(signature).or_else(|_| p256::ecdsa::Signature::from_slice(signature));
        parsed.is_ok_and(|signature| self.key.verify(message, &signature).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_sealed_with_a_password_opens_only_with_it() {
        let key = PrivateKey::generate().unwrap();
        let pem = key.to_encrypted_pem(b"correct horse").unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"), "{pem}");
        let body = pem_rfc7468::decode_vec(pem.as_bytes()).unwrap().1;
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["kdf"]["name"], "scrypt");
        assert_eq!(json["kdf"]["params"], serde_json::json!({"N": 32768, "r": 8, "p": 1}));
        assert_eq!(STANDARD.decode(json["kdf"]["salt"].as_str().unwrap()).unwrap().len(), 32);
        assert_eq!(json["cipher"]["name"], "nacl/secretbox");
        assert_eq!(STANDARD.decode(json["cipher"]["nonce"].as_str().unwrap()).unwrap().len(), 24);

        let opened = PrivateKey::from_pem(pem.as_bytes(), b"correct horse", "cosign.key").unwrap();
        assert_eq!(opened.public_key(), key.public_key());
        let err = PrivateKey::from_pem(pem.as_bytes(), b"wrong", "cosign.key").err().unwrap();
        assert_eq!(
            err.to_string(),
            "cosign.key: wrong password, or the key file is damaged (the password comes from COSIGN_PASSWORD)"
        );
    }

    #[test]
    fn signatures_verify_with_the_public_key_only() {
        let key = PrivateKey::generate().unwrap();
        let other = PrivateKey::generate().unwrap();
        let signature = key.sign(b"payload");
        assert!(key.public_key().verifies(b"payload", &signature));
        assert!(!key.public_key().verifies(b"payload!", &signature));
        assert!(!other.public_key().verifies(b"payload", &signature));
        let pem = key.public_key().to_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(PublicKey::from_pem(pem.as_bytes(), "cosign.pub").unwrap(), key.public_key());
    }

    /// `testdata/cosign/payload.sig`: OpenSSL's ECDSA P-256/SHA-256 signature (base64 DER) of
    /// `payload.json`, made with the key whose public half is `openssl.pub`.
    #[test]
    fn an_openssl_signature_verifies_with_its_public_key() {
        let public = PublicKey::from_pem(include_bytes!("../../testdata/cosign/openssl.pub"), "openssl.pub").unwrap();
        let payload = include_bytes!("../../testdata/cosign/payload.json");
        let signature = STANDARD.decode(include_str!("../../testdata/cosign/payload.sig").trim()).unwrap();
        assert!(public.verifies(payload, &signature));
        let mut flipped = signature.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(!public.verifies(payload, &flipped));
        assert!(!public.verifies(&payload[1..], &signature));
    }

    /// `testdata/cosign/sigstore.key`: an encrypted key the sigstore crate wrote (password
    /// `golden-vector`); `sigstore.pub` its public key.
    #[test]
    fn a_key_file_sigstore_wrote_opens_with_its_password() {
        let sealed = include_bytes!("../../testdata/cosign/sigstore.key");
        let public = PublicKey::from_pem(include_bytes!("../../testdata/cosign/sigstore.pub"), "sigstore.pub").unwrap();
        let key = PrivateKey::from_pem(sealed, b"golden-vector", "sigstore.key").unwrap();
        assert_eq!(key.public_key(), public);
        assert!(public.verifies(b"message", &key.sign(b"message")));
        assert!(PrivateKey::from_pem(sealed, b"golden-vectors", "sigstore.key").is_err());
    }

    #[test]
    fn a_key_file_asking_for_gigabytes_of_scrypt_memory_is_refused() {
        let json = br#"{"kdf":{"name":"scrypt","params":{"N":1073741824,"r":8,"p":1},"salt":"AAAA"},"cipher":{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"ciphertext":"AAAA"}"#;
        let pem = pem_rfc7468::encode_string(ENCRYPTED_KEY_LABEL, LineEnding::LF, json).unwrap();
        let err = PrivateKey::from_pem(pem.as_bytes(), b"pw", "evil.key").err().unwrap().to_string();
        assert!(err.starts_with("evil.key: unsupported scrypt parameters: N = 1073741824, r = 8, p = 1"), "{err}");
    }

    #[test]
    fn a_private_key_given_as_the_public_one_is_named() {
        let err = PublicKey::from_pem(
            b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
            "cosign.key",
        )
        .err()
        .unwrap()
        .to_string();
        assert_eq!(
            err,
            "cosign.key is a `ENCRYPTED SIGSTORE PRIVATE KEY` PEM, not a public key (verify with the public key, e.g. cosign.pub)"
        );
    }
}
