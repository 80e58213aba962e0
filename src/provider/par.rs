//! A provider archive as a whole: reading one (container checks, the signed
//! claims, every file's hash against them) and building one (hash the files,
//! sign the claims, write the container). Reading reports the hash and
//! signature checks; [`LoadedArchive::require_valid`] turns a failed check into
//! an error, which is what every reader but `inspect` wants.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use super::archive::{Content, Entry, EntryName, Keep, read_entries, valid_target, write_contents};
use super::claims::{ProviderClaims, ProviderInfo, WORLD_HASH_KEY};
use super::keys::{KeyPair, KeyRole};
use super::sign::{self, Check, Token};
use crate::error::{Error, Result};

/// A file of an archive: its size and hash, and its bytes when kept.
#[derive(Debug, Clone)]
pub struct ArchiveFile {
    pub size: u64,
    pub hash: String,
    pub data: Option<Content>,
}

/// An archive as read.
#[derive(Debug, Clone)]
pub struct LoadedArchive {
    /// The archive's name in messages.
    pub what: String,
    pub token: Token,
    /// Target → its binary.
    pub targets: BTreeMap<String, ArchiveFile>,
    pub world: Option<ArchiveFile>,
    /// Whether every file matches the hash its claims record, and every hash has its file.
    pub hashes: Check,
}

/// Read an archive from `source`. Structural problems (not a tar, unsafe or
/// duplicate entries, no claims or no binary, undecodable claims) are errors;
/// hash and signature results are in the returned value. File bytes are
/// kept in memory when `keep_files` (to write the archive again).
pub fn load(source: impl Read, keep_files: bool, what: &str) -> Result<LoadedArchive> {
    load_keeping(source, if keep_files { Keep::Memory } else { Keep::Nothing }, what)
}

/// [`load`], keeping the files' bytes as `keep` says.
pub fn load_keeping(source: impl Read, keep: Keep<'_>, what: &str) -> Result<LoadedArchive> {
    let mut token = None;
    let mut targets = BTreeMap::new();
    let mut world = None;
    for Entry { name, size, hash, data } in read_entries(source, keep, what)? {
        match name {
            EntryName::Claims => {
                let bytes = match data {
                    Some(Content::Memory(bytes)) => bytes,
                    _ => unreachable!("claims are always kept in memory"),
                };
                let text = String::from_utf8(bytes).map_err(|_| Error::InvalidSignature {
                    what: format!("claims.jwt in {what}"),
                    reason: "not UTF-8 text".into(),
                })?;
                token = Some(sign::decode(&text).map_err(|e| with_subject(e, what))?);
            }
            EntryName::World => world = Some(ArchiveFile { size, hash, data }),
            EntryName::Target(target) => {
                targets.insert(target, ArchiveFile { size, hash, data });
            }
        }
    }
    let token = token.ok_or_else(|| Error::InvalidArchive {
        what: what.to_string(),
        reason: "no claims.jwt: the archive is not signed".into(),
    })?;
    if targets.is_empty() {
        return Err(Error::InvalidArchive {
            what: what.to_string(),
            reason: "no <target>.bin: the archive holds no provider binary".into(),
        });
    }
    let hashes = check_hashes(&token.claims, &targets, world.as_ref())?;
    Ok(LoadedArchive { what: what.to_string(), token, targets, world, hashes })
}

fn with_subject(error: Error, what: &str) -> Error {
    match error {
        Error::InvalidSignature { what: inner, reason } => {
            Error::InvalidSignature { what: format!("{inner} in {what}"), reason }
        }
        other => other,
    }
}

fn check_hashes(
    claims: &ProviderClaims,
    targets: &BTreeMap<String, ArchiveFile>,
    world: Option<&ArchiveFile>,
) -> Result<Check> {
    let recorded = &claims.metadata()?.target_hashes;
    let files = targets.iter().map(|(t, f)| (t.as_str(), format!("{t}.bin"), f));
    let files = files.chain(world.map(|f| (WORLD_HASH_KEY, WORLD_HASH_KEY.to_string(), f)));
    for (key, file_name, file) in files {
        match recorded.get(key) {
            None => return Ok(Check::Invalid(format!("{file_name} has no hash in the claims"))),
            Some(expected) if !expected.eq_ignore_ascii_case(&file.hash) => {
                return Ok(Check::Invalid(format!(
                    "{file_name} does not match its hash in the claims: expected {expected}, got {}",
                    file.hash
                )));
            }
            Some(_) => {}
        }
    }
    for key in recorded.keys() {
        let present = if key == WORLD_HASH_KEY { world.is_some() } else { targets.contains_key(key) };
        if !present {
            return Ok(Check::Invalid(format!("the claims list {key} but the archive has no file for it")));
        }
    }
    Ok(Check::Valid)
}

impl LoadedArchive {
    /// Fail unless the hashes and the signature both check out.
    pub fn require_valid(&self) -> Result<()> {
        if let Check::Invalid(reason) = &self.token.signature {
            return Err(Error::InvalidSignature {
                what: format!("claims.jwt in {}", self.what),
                reason: reason.clone(),
            });
        }
        if let Check::Invalid(reason) = &self.hashes {
            return Err(Error::InvalidArchive { what: self.what.clone(), reason: reason.clone() });
        }
        Ok(())
    }

    /// The claims (decoded; see [`Self::require_valid`]).
    pub fn claims(&self) -> &ProviderClaims {
        &self.token.claims
    }

    /// The archive's contents, to add targets and sign again. Needs the
    /// files, so the archive must have been loaded with `keep_files`.
    pub fn into_builder(self) -> Result<ArchiveBuilder> {
        let info = self.token.claims.info()?;
        let missing = || Error::InvalidInput(format!("{}: the archive's files were not read", self.what));
        let mut builder = ArchiveBuilder::new(info);
        for (target, file) in self.targets {
            builder.add_target_content(&target, file.data.ok_or_else(missing)?)?;
        }
        if let Some(world) = self.world {
            builder.world = Some(world.data.ok_or_else(missing)?);
        }
        Ok(builder)
    }
}

/// An archive being built: the provider's description and its files.
#[derive(Debug, Clone)]
pub struct ArchiveBuilder {
    info: ProviderInfo,
    targets: BTreeMap<String, Content>,
    world: Option<Content>,
}

impl ArchiveBuilder {
    /// An empty archive for the provider `info`.
    pub fn new(info: ProviderInfo) -> Self {
        ArchiveBuilder { info, targets: BTreeMap::new(), world: None }
    }

    /// Add (or replace) a target's binary; `true` when it replaced one.
    pub fn add_target(&mut self, target: &str, binary: Vec<u8>) -> Result<bool> {
        self.add_target_content(target, Content::Memory(binary))
    }

    /// Add (or replace) a target's binary, in memory or spooled; `true` when it replaced one.
    pub fn add_target_content(&mut self, target: &str, binary: Content) -> Result<bool> {
        if !valid_target(target) {
            return Err(Error::InvalidInput(format!(
                "{target:?} is not a target name; use ARCH-OS such as x86_64-linux or aarch64-macos"
            )));
        }
        Ok(self.targets.insert(target.to_string(), binary).is_some())
    }

    /// Set the provider's WIT world (binary WIT).
    pub fn set_world(&mut self, world: Vec<u8>) {
        self.world = Some(Content::Memory(world));
    }

    /// The targets so far.
    pub fn targets(&self) -> Vec<String> {
        self.targets.keys().cloned().collect()
    }

    /// Sign claims over the files with `issuer` (an account) about `subject`
    /// (a service) and write the archive to `out`. Returns the signed token.
    pub fn write(&self, issuer: &KeyPair, subject: &KeyPair, compress: bool, out: impl Write) -> Result<Token> {
        if issuer.role() != KeyRole::Account {
            return Err(Error::InvalidInput(format!(
                "the issuer must be an account key (SA…), not a {} key",
                issuer.role()
            )));
        }
        if subject.role() != KeyRole::Service {
            return Err(Error::InvalidInput(format!(
                "the subject must be a service key (SV…), not a {} key",
                subject.role()
            )));
        }
        if self.targets.is_empty() {
            return Err(Error::InvalidInput("a provider archive needs at least one binary".into()));
        }
        let mut hashes: BTreeMap<String, String> = self.targets.iter().map(|(t, b)| (t.clone(), b.hash())).collect();
        if let Some(world) = &self.world {
            hashes.insert(WORLD_HASH_KEY.to_string(), world.hash());
        }
        let claims =
            ProviderClaims::new(&self.info, issuer.public_key().to_string(), subject.public_key().to_string(), hashes);
        let jwt = sign::encode(&claims, issuer)?;

        let claims_entry = Content::Memory(jwt.clone().into_bytes());
        let mut entries: Vec<(EntryName, &Content)> = vec![(EntryName::Claims, &claims_entry)];
        if let Some(world) = &self.world {
            entries.push((EntryName::World, world));
        }
        for (target, binary) in &self.targets {
            entries.push((EntryName::Target(target.clone()), binary));
        }
        write_contents(&entries, compress, out).map_err(|e| Error::io("provider archive", "write", e))?;
        Ok(Token { jwt, claims, signature: Check::Valid })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::archive::{GZIP_MAGIC, write_entries};
    use crate::provider::claims::file_hash;

    fn keys() -> (KeyPair, KeyPair) {
        (KeyPair::generate(KeyRole::Account).unwrap(), KeyPair::generate(KeyRole::Service).unwrap())
    }

    fn info() -> ProviderInfo {
        ProviderInfo {
            name: "Demo".into(),
            vendor: "Acme".into(),
            revision: Some(1),
            version: Some("0.1.0".into()),
            schema: Some(serde_json::json!({"type": "object"})),
        }
    }

    fn build(compress: bool) -> (Vec<u8>, KeyPair, KeyPair) {
        let (issuer, subject) = keys();
        let mut builder = ArchiveBuilder::new(info());
        builder.add_target("x86_64-linux", b"linux binary".to_vec()).unwrap();
        builder.add_target("aarch64-macos", b"macos binary".to_vec()).unwrap();
        builder.set_world(b"\0asm\x0d\0\x01\0".to_vec());
        let mut bytes = Vec::new();
        builder.write(&issuer, &subject, compress, &mut bytes).unwrap();
        (bytes, issuer, subject)
    }

    #[test]
    fn built_archives_load_and_verify() {
        for compress in [false, true] {
            let (bytes, issuer, subject) = build(compress);
            assert_eq!(bytes.starts_with(&GZIP_MAGIC), compress);
            let loaded = load(&bytes[..], false, "demo.par").unwrap();
            loaded.require_valid().unwrap();
            let claims = loaded.claims();
            assert_eq!(claims.iss, issuer.public_key().to_string());
            assert_eq!(claims.sub, subject.public_key().to_string());
            assert_eq!(claims.info().unwrap(), info());
            assert_eq!(loaded.targets.keys().collect::<Vec<_>>(), ["aarch64-macos", "x86_64-linux"]);
            let hashes = &claims.metadata().unwrap().target_hashes;
            assert_eq!(hashes["x86_64-linux"], file_hash(b"linux binary"));
            assert_eq!(hashes[WORLD_HASH_KEY], file_hash(b"\0asm\x0d\0\x01\0"));
            assert!(loaded.world.is_some());
        }
    }

    /// Replace one entry's bytes in an uncompressed archive, keeping its size.
    fn tamper(bytes: &mut [u8], from: &[u8], to: &[u8]) {
        let at = bytes.windows(from.len()).position(|w| w == from).expect("content present");
        bytes[at..at + to.len()].copy_from_slice(to);
    }

    #[test]
    fn a_tampered_binary_is_detected() {
        let (mut bytes, ..) = build(false);
        tamper(&mut bytes, b"linux binary", b"LINUX BINARY");
        let loaded = load(&bytes[..], false, "demo.par").unwrap();
        assert!(
            matches!(loaded.hashes, Check::Invalid(ref r) if r.contains("x86_64-linux.bin")),
            "{:?}",
            loaded.hashes
        );
        assert!(loaded.token.signature.is_valid(), "the claims themselves are intact");
        let err = loaded.require_valid().unwrap_err();
        assert!(err.to_string().contains("does not match its hash"), "{err}");
    }

    #[test]
    fn claims_signed_by_a_foreign_key_are_refused() {
        let (bytes, ..) = build(false);
        let loaded = load(&bytes[..], true, "demo.par").unwrap();
        // Same claims, the issuer kept, signed by someone else.
        let foreign = KeyPair::generate(KeyRole::Account).unwrap();
        let mut claims = loaded.claims().clone();
        let issuer = claims.iss.clone();
        claims.iss = foreign.public_key().to_string();
        let jwt = sign::encode(&claims, &foreign).unwrap();
        let forged_body = {
            use base64::Engine as _;
            claims.iss = issuer;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
        };
        let parts: Vec<&str> = jwt.split('.').collect();
        let forged = format!("{}.{forged_body}.{}", parts[0], parts[2]);
        let mut entries = vec![(EntryName::Claims, forged.as_bytes())];
        for (target, file) in &loaded.targets {
            entries.push((EntryName::Target(target.clone()), file.data.as_ref().and_then(Content::bytes).unwrap()));
        }
        let mut out = Vec::new();
        write_entries(&entries, false, &mut out).unwrap();
        let err = load(&out[..], false, "forged.par").unwrap().require_valid().unwrap_err();
        assert!(matches!(err, Error::InvalidSignature { .. }), "{err}");
    }

    #[test]
    fn a_file_without_a_hash_or_a_hash_without_a_file_is_refused() {
        let (bytes, ..) = build(false);
        let loaded = load(&bytes[..], true, "demo.par").unwrap();
        let jwt = loaded.token.jwt.clone();
        let linux = loaded.targets["x86_64-linux"].data.as_ref().and_then(Content::bytes).unwrap().to_vec();
        // Drop a target the claims list.
        let mut out = Vec::new();
        write_entries(
            &[(EntryName::Claims, jwt.as_bytes()), (EntryName::Target("x86_64-linux".into()), &linux)],
            false,
            &mut out,
        )
        .unwrap();
        let checked = load(&out[..], false, "x").unwrap();
        assert!(matches!(checked.hashes, Check::Invalid(ref r) if r.contains("aarch64-macos")), "{:?}", checked.hashes);
        // Add a target the claims do not list.
        let mut out = Vec::new();
        let entries = [
            (EntryName::Claims, jwt.as_bytes()),
            (EntryName::Target("x86_64-linux".into()), &linux[..]),
            (EntryName::Target("aarch64-macos".into()), b"macos binary"),
            (EntryName::World, b"\0asm\x0d\0\x01\0"),
            (EntryName::Target("riscv64-linux".into()), b"extra"),
        ];
        write_entries(&entries, false, &mut out).unwrap();
        let checked = load(&out[..], false, "x").unwrap();
        assert!(
            matches!(checked.hashes, Check::Invalid(ref r) if r.contains("riscv64-linux.bin")),
            "{:?}",
            checked.hashes
        );
    }

    #[test]
    fn archives_without_claims_or_binaries_are_errors() {
        let mut out = Vec::new();
        write_entries(&[(EntryName::Target("x86_64-linux".into()), b"bin")], false, &mut out).unwrap();
        assert!(load(&out[..], false, "x").unwrap_err().to_string().contains("no claims.jwt"));
        let (issuer, subject) = keys();
        assert!(ArchiveBuilder::new(info()).write(&issuer, &subject, false, Vec::new()).is_err());
    }

    #[test]
    fn insert_adds_a_target_and_signs_again() {
        let (bytes, issuer, subject) = build(true);
        let mut builder = load(&bytes[..], true, "demo.par.gz").unwrap().into_builder().unwrap();
        assert!(!builder.add_target("x86_64-windows", b"exe".to_vec()).unwrap());
        assert!(builder.add_target("x86_64-linux", b"new linux".to_vec()).unwrap());
        let mut out = Vec::new();
        builder.write(&issuer, &subject, true, &mut out).unwrap();
        let loaded = load(&out[..], false, "demo.par.gz").unwrap();
        loaded.require_valid().unwrap();
        assert_eq!(loaded.targets.len(), 3);
        assert_eq!(loaded.claims().metadata().unwrap().target_hashes["x86_64-linux"], file_hash(b"new linux"));
        assert_eq!(loaded.claims().info().unwrap(), info());
        assert!(loaded.world.is_some());
    }

    #[test]
    fn keys_must_have_their_roles() {
        let (issuer, subject) = keys();
        let mut builder = ArchiveBuilder::new(info());
        builder.add_target("x86_64-linux", b"bin".to_vec()).unwrap();
        assert!(builder.write(&subject, &issuer, false, Vec::new()).is_err());
        assert!(builder.add_target("../evil", b"x".to_vec()).is_err());
    }
}
