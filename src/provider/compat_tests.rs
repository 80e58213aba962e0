//! Compatibility with wasmCloud's own implementation (test only): archives
//! this packager writes load in the `provider-archive` crate with the claims
//! we set and their signature verifies in `wascap`; archives `provider-archive`
//! writes load and verify here; keys are interchangeable with `nkeys`.

use std::collections::BTreeMap;

use provider_archive::ProviderArchive;
use wascap::jwt::{CapabilityProvider, validate_token};
use wascap::prelude::KeyPair as TheirKeyPair;

use super::claims::{ProviderInfo, WORLD_HASH_KEY, file_hash};
use super::keys::{KeyPair, KeyRole, PublicKey};
use super::par::{ArchiveBuilder, load};
use super::sign::Check;

const LINUX: &[u8] = b"\x7fELF linux provider binary";
const MACOS: &[u8] = b"\xcf\xfa\xed\xfe macos provider binary";
const WORLD: &[u8] = b"\0asm\x0d\0\x01\0";

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmship-compat-{:x}", crate::fsutil::random_u64()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn keys_are_interchangeable_with_nkeys() {
    let ours = KeyPair::generate(KeyRole::Account).unwrap();
    let theirs = TheirKeyPair::from_seed(&ours.seed()).unwrap();
    assert_eq!(theirs.public_key(), ours.public_key().to_string());

    let theirs = TheirKeyPair::new_service();
    let ours = KeyPair::from_seed(&theirs.seed().unwrap()).unwrap();
    assert_eq!(ours.role(), KeyRole::Service);
    assert_eq!(ours.public_key().to_string(), theirs.public_key());
    assert_eq!(PublicKey::parse(&theirs.public_key()).unwrap(), ours.public_key());

    let signature = theirs.sign(b"message").unwrap();
    assert!(ours.public_key().verify(b"message", &signature));
    theirs.verify(b"message", &ours.sign(b"message")).unwrap();
}

#[test]
fn our_archives_load_in_provider_archive() {
    let issuer = KeyPair::generate(KeyRole::Account).unwrap();
    let subject = KeyPair::generate(KeyRole::Service).unwrap();
    let schema = serde_json::json!({"type": "object", "properties": {"url": {"type": "string"}}});
    let mut builder = ArchiveBuilder::new(ProviderInfo {
        name: "Demo Provider".into(),
        vendor: "Acme".into(),
        revision: Some(7),
        version: Some("1.2.3".into()),
        schema: Some(schema.clone()),
    });
    builder.add_target("x86_64-linux", LINUX.to_vec()).unwrap();
    builder.add_target("aarch64-macos", MACOS.to_vec()).unwrap();
    builder.set_world(WORLD.to_vec());

    for compress in [true, false] {
        let mut bytes = Vec::new();
        builder.write(&issuer, &subject, compress, &mut bytes).unwrap();
        let theirs = block_on(ProviderArchive::try_load(&bytes)).expect("provider-archive loads our archive");
        let mut targets = theirs.targets();
        targets.sort();
        assert_eq!(targets, ["aarch64-macos", "x86_64-linux"]);
        assert_eq!(theirs.target_bytes("x86_64-linux").as_deref(), Some(LINUX));
        assert_eq!(theirs.wit_world(), Some(WORLD));
        assert_eq!(theirs.schema(), Some(schema.clone()));

        let claims = theirs.claims().unwrap();
        assert_eq!(claims.issuer, issuer.public_key().to_string());
        assert_eq!(claims.subject, subject.public_key().to_string());
        let metadata = claims.metadata.as_ref().unwrap();
        assert_eq!(metadata.name.as_deref(), Some("Demo Provider"));
        assert_eq!(metadata.vendor, "Acme");
        assert_eq!(metadata.rev, Some(7));
        assert_eq!(metadata.ver.as_deref(), Some("1.2.3"));
        assert_eq!(metadata.target_hashes["x86_64-linux"], file_hash(LINUX));
        assert_eq!(metadata.target_hashes[WORLD_HASH_KEY], file_hash(WORLD));

        let jwt = theirs.claims_token().unwrap().jwt;
        let validation = validate_token::<CapabilityProvider>(&jwt).expect("wascap validates our token");
        assert!(validation.signature_valid && !validation.expired && !validation.cannot_use_yet, "{validation:?}");
        let revision = serde_json::to_value(&claims).unwrap()["wascap_revision"].clone();
        assert_eq!(revision, 3);
    }
}

#[test]
fn provider_archive_archives_load_and_verify_here() {
    let dir = temp_dir();
    let issuer = TheirKeyPair::new_account();
    let subject = TheirKeyPair::new_service();
    let mut theirs = ProviderArchive::new("Their Provider", "wasmCloud", Some(3), Some("0.4.0".into()));
    theirs.add_library("x86_64-linux", LINUX).unwrap();
    theirs.add_library("aarch64-macos", MACOS).unwrap();
    theirs.add_wit_world(WORLD).unwrap();
    theirs.set_schema(serde_json::json!({"type": "object"})).unwrap();

    for (file, compress) in [("their.par", false), ("their.par.gz", true)] {
        let path = dir.join(file);
        block_on(theirs.write(&path, &issuer, &subject, compress)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let loaded = load(&bytes[..], true, file).unwrap();
        loaded.require_valid().unwrap();
        assert_eq!(loaded.token.signature, Check::Valid);
        assert_eq!(loaded.hashes, Check::Valid);
        let claims = loaded.claims();
        assert_eq!(claims.iss, issuer.public_key());
        assert_eq!(claims.sub, subject.public_key());
        let info = claims.info().unwrap();
        assert_eq!(
            (info.name.as_str(), info.vendor.as_str(), info.revision, info.version.as_deref()),
            ("Their Provider", "wasmCloud", Some(3), Some("0.4.0"))
        );
        assert_eq!(info.schema, Some(serde_json::json!({"type": "object"})));
        assert_eq!(loaded.targets["x86_64-linux"].data.as_ref().and_then(super::archive::Content::bytes), Some(LINUX));
        assert_eq!(loaded.world.as_ref().unwrap().hash, file_hash(WORLD));
        let recorded: &BTreeMap<String, String> = &claims.metadata().unwrap().target_hashes;
        assert_eq!(recorded.len(), 3);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn archives_we_sign_again_still_load_in_provider_archive() {
    // Their archive, a target inserted here with their keys, loaded back by them.
    let dir = temp_dir();
    let issuer = TheirKeyPair::new_account();
    let subject = TheirKeyPair::new_service();
    let mut theirs = ProviderArchive::new("Their Provider", "wasmCloud", None, None);
    theirs.add_library("x86_64-linux", LINUX).unwrap();
    let path = dir.join("p.par.gz");
    block_on(theirs.write(&path, &issuer, &subject, true)).unwrap();

    let bytes = std::fs::read(&path).unwrap();
    let mut builder = load(&bytes[..], true, "p.par.gz").unwrap().into_builder().unwrap();
    builder.add_target("aarch64-linux", MACOS.to_vec()).unwrap();
    let our_issuer = KeyPair::from_seed(&issuer.seed().unwrap()).unwrap();
    let our_subject = KeyPair::from_seed(&subject.seed().unwrap()).unwrap();
    let mut out = Vec::new();
    builder.write(&our_issuer, &our_subject, true, &mut out).unwrap();

    let back = block_on(ProviderArchive::try_load(&out)).unwrap();
    let mut targets = back.targets();
    targets.sort();
    assert_eq!(targets, ["aarch64-linux", "x86_64-linux"]);
    let claims = back.claims().unwrap();
    assert_eq!(claims.subject, subject.public_key());
    assert_eq!(claims.metadata.unwrap().rev, None);
    std::fs::remove_dir_all(dir).unwrap();
}
