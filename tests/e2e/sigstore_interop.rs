//! Signatures across implementations: the Rust `sigstore` crate (0.15, cosign's formats as
//! sigstore-rs reads and writes them) judges what `wasmship key generate`, `sign` and `verify`
//! produce, and produces what they must accept. The format is cosign's legacy one: signatures in
//! the `<repo>:sha256-<hex>.sig` tag, one simple-signing layer per signature, the base64 DER
//! ECDSA-P256 signature in the layer annotation `dev.cosignproject.cosign/signature`; keys are
//! cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` (scrypt + nacl/secretbox around PKCS#8) and a
//! `PUBLIC KEY` PEM. Everything stays on the test's own registry: no Rekor, Fulcio or TUF.
//!
//! `sigstore_round_trip_on_the_test_registry` checks the judge on its own (sigstore signs and
//! verifies, and what it stores has cosign's layout); the others put wasmship on one side.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use serde_json::Value;
use sigstore::cosign::constraint::{AnnotationMarker, PrivateKeySigner};
use sigstore::cosign::verification_constraint::{AnnotationVerifier, PublicKeyVerifier, VerificationConstraintVec};
use sigstore::cosign::{Client, ClientBuilder, Constraint, CosignCapabilities, SignatureLayer, verify_constraints};
use sigstore::crypto::SigningScheme;
use sigstore::crypto::signing_key::SigStoreKeyPair;
use sigstore::registry::{Auth, ClientConfig, ClientProtocol, OciReference};

use crate::util::{
    OCI_MANIFEST, Registry, Run, TestDir, demo_component, digest_hex, parse_json, sha256_digest, str_field,
};

/// The scheme of cosign's default keys: ECDSA P-256, SHA-256, ASN.1 DER signatures.
const SCHEME: SigningScheme = SigningScheme::ECDSA_P256_SHA256_ASN1;

/// The password of every encrypted key in these tests (`COSIGN_PASSWORD`).
const PASSWORD: &str = "interop-password";

/// cosign's media types and annotation for the legacy format (ANCHORS §9).
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const CRITICAL_TYPE: &str = "cosign container image signature";

/// PEM labels of cosign's keys.
const PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// The sigstore crate's cosign client, pointed at one test registry over plain HTTP, with a
/// current-thread runtime to drive its async API.
struct Judge {
    runtime: tokio::runtime::Runtime,
    client: Client,
    host: String,
}

impl Judge {
    fn new(reg: &Registry) -> Judge {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("build a tokio runtime");
        let config =
            ClientConfig { protocol: ClientProtocol::HttpsExcept(vec![reg.host()]), ..ClientConfig::default() };
        let client =
            ClientBuilder::default().with_oci_client_config(config).build().expect("build sigstore's cosign client");
        Judge { runtime, client, host: reg.host() }
    }

    /// `repo_tag` (`repo:tag` or `repo`) in the test registry, as sigstore parses references.
    fn reference(&self, repo_tag: &str) -> OciReference {
        let whole = format!("{}/{repo_tag}", self.host);
        whole.parse().unwrap_or_else(|e| panic!("sigstore does not parse {whole}: {e}"))
    }

    /// The digest `repo_tag` resolves to and the `.sig` reference sigstore derives from it.
    fn triangulate(&mut self, repo_tag: &str) -> (OciReference, String) {
        let image = self.reference(repo_tag);
        self.runtime
            .block_on(self.client.triangulate(&image, &Auth::Anonymous))
            .unwrap_or_else(|e| panic!("sigstore cannot resolve {image}: {e}"))
    }

    /// The signature layers sigstore finds for `repo_tag`: those of its `.sig` tag that carry a
    /// signature annotation and whose payload names the digest the tag resolves to. Not yet
    /// checked against any key.
    fn layers(&mut self, repo_tag: &str) -> Vec<SignatureLayer> {
        let image = self.reference(repo_tag);
        self.runtime
            .block_on(self.client.trusted_signature_layers(&Auth::Anonymous, &image))
            .unwrap_or_else(|e| panic!("sigstore cannot read the signatures of {image}: {e}"))
    }

    /// `Ok` when one signature layer of `repo_tag` is signed by `public_pem` and its payload
    /// carries every one of `annotations` (both constraints on the same layer).
    fn verify(&mut self, repo_tag: &str, public_pem: &[u8], annotations: &[(&str, &str)]) -> Result<(), String> {
        let layers = self.layers(repo_tag);
        if layers.is_empty() {
            return Err(format!("sigstore finds no signature layer for {repo_tag}"));
        }
        let key = PublicKeyVerifier::new(public_pem, &SCHEME)
            .unwrap_or_else(|e| panic!("sigstore does not read the public key ({e}):\n{}", lossy(public_pem)));
        let mut constraints: VerificationConstraintVec = vec![Box::new(key)];
        if !annotations.is_empty() {
            let annotations: BTreeMap<String, String> =
                annotations.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            constraints.push(Box::new(AnnotationVerifier { annotations }));
        }
        if layers.iter().any(|layer| verify_constraints(std::slice::from_ref(layer), constraints.iter()).is_ok()) {
            Ok(())
        } else {
            Err(format!("none of the {} signature layers of {repo_tag} satisfies {constraints:?}", layers.len()))
        }
    }

    /// Signs `repo_tag` with `key` in cosign's legacy format, `annotations` in the payload's
    /// `optional`, and pushes the `.sig` manifest (replacing any). Returns the `.sig` tag.
    fn sign(&mut self, repo_tag: &str, key: &SigStoreKeyPair, annotations: &[(&str, &str)]) -> String {
        let (signatures, digest) = self.triangulate(repo_tag);
        // cosign's `docker-reference` is the repository, without tag or digest; sigstore's
        // reference parser adds `:latest` to it (verifiers ignore this field).
        let repository = repo_tag.split_once(':').map_or(repo_tag, |(repo, _)| repo);
        let mut layer =
            SignatureLayer::new_unsigned(&self.reference(repository), &digest).expect("an unsigned signature layer");
        if !annotations.is_empty() {
            let marker = AnnotationMarker::new(
                annotations.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<HashMap<_, _>>(),
            );
            assert!(marker.add_constraint(&mut layer).expect("annotate the payload"), "annotations not added");
        }
        let signer = PrivateKeySigner::new_with_signer(key.to_sigstore_signer(&SCHEME).expect("a P-256 signer"));
        assert!(signer.add_constraint(&mut layer).expect("sign the payload"), "the layer was not signed");
        self.runtime
            .block_on(self.client.push_signature(None, &Auth::Anonymous, &signatures, vec![layer]))
            .unwrap_or_else(|e| panic!("sigstore cannot push the signature {signatures}: {e}"));
        signatures.tag().expect("the .sig reference has a tag").to_owned()
    }
}

/// A fresh P-256 key pair made by sigstore.
fn sigstore_key() -> SigStoreKeyPair {
    SCHEME.create_signer().and_then(|s| s.to_sigstore_keypair()).expect("sigstore generates a P-256 key pair")
}

/// The public key of `key` as sigstore writes it (PEM `PUBLIC KEY`).
fn public_pem(key: &SigStoreKeyPair) -> String {
    key.public_key_to_pem().expect("sigstore exports the public key")
}

/// The DER body of the one `label` PEM block in `text`.
fn pem_der(text: &[u8], label: &str) -> Vec<u8> {
    let text = lossy(text);
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin).unwrap_or_else(|| panic!("no `{begin}` in:\n{text}")) + begin.len();
    let stop = start + text[start..].find(&end).unwrap_or_else(|| panic!("no `{end}` in:\n{text}"));
    let body: String = text[start..stop].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(&body)
        .unwrap_or_else(|e| panic!("the body of the {label} PEM is not base64 ({e}):\n{text}"))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Pushes the demo component to `repo_tag` with `wasmship push`; returns its manifest digest.
fn push_demo(dir: &TestDir, reg: &Registry, repo_tag: &str) -> String {
    dir.write("demo.wasm", &demo_component());
    dir.run(&["push", &reg.reference(repo_tag), "demo.wasm"]).success();
    let (repo, tag) = repo_tag.rsplit_once(':').expect("repo:tag");
    reg.manifest(repo, tag).unwrap_or_else(|| panic!("{repo_tag} is not in the registry after a push")).digest
}

/// The tag cosign keeps the signatures of `digest` under.
fn sig_tag(digest: &str) -> String {
    format!("sha256-{}.sig", digest_hex(digest))
}

/// What a `.sig` manifest holds, read over plain HTTP.
struct SigManifest {
    bytes: Vec<u8>,
    json: Value,
    /// The simple-signing payload of each layer, as stored.
    payloads: Vec<Vec<u8>>,
}

/// Reads the `.sig` manifest of `digest` in `repo` and checks cosign's legacy layout on it:
/// an OCI image manifest, an OCI image config, one simple-signing layer per signature with a
/// signature annotation that is base64, and a payload that names `digest` as the signed image.
fn read_sig_manifest(reg: &Registry, repo: &str, digest: &str) -> SigManifest {
    let tag = sig_tag(digest);
    let served = reg.manifest(repo, &tag).unwrap_or_else(|| panic!("no {repo}:{tag} in the registry"));
    let json = parse_json("the .sig manifest", &served.bytes);
    assert_eq!(served.content_type, OCI_MANIFEST, "content type of {repo}:{tag}");
    assert_eq!(json["schemaVersion"], 2, "{json:#}");
    assert_eq!(str_field(&json["config"], "mediaType"), OCI_CONFIG, "{json:#}");
    let layers = json["layers"].as_array().unwrap_or_else(|| panic!("no layers in {json:#}"));
    assert!(!layers.is_empty(), "a .sig manifest without layers: {json:#}");
    let mut payloads = Vec::new();
    for layer in layers {
        assert_eq!(str_field(layer, "mediaType"), SIMPLE_SIGNING, "{json:#}");
        let signature = str_field(&layer["annotations"], SIGNATURE_ANNOTATION);
        let der = base64::engine::general_purpose::STANDARD
            .decode(signature)
            .unwrap_or_else(|e| panic!("the signature annotation is not standard base64 ({e}): {json:#}"));
        assert_eq!(der.first(), Some(&0x30), "not an ASN.1 DER SEQUENCE (ECDSA signature): {signature}");
        let layer_digest = str_field(layer, "digest");
        let payload = reg.blob(repo, layer_digest).unwrap_or_else(|| panic!("no blob {layer_digest} in {repo}"));
        assert_eq!(sha256_digest(&payload), layer_digest);
        let simple = parse_json("a simple-signing payload", &payload);
        assert_eq!(str_field(&simple["critical"]["image"], "docker-manifest-digest"), digest, "{simple:#}");
        assert_eq!(str_field(&simple["critical"], "type"), CRITICAL_TYPE, "{simple:#}");
        payloads.push(payload);
    }
    SigManifest { bytes: served.bytes, json, payloads }
}

/// Asserts that a successful `wasmship verify` names the signature it accepted: the `.sig` tag
/// it came from or the digest of its layer.
#[track_caller]
fn assert_names_signature(run: &Run, sig_tag: &str, layer_digest: &str) {
    let text = format!("{}{}", run.stdout, run.stderr);
    assert!(
        text.contains(sig_tag) || text.contains(layer_digest),
        "`{}` names neither the signature tag {sig_tag} nor its layer {layer_digest}:\n{run}",
        run.shown
    );
}

/// The judge alone: sigstore signs a component wasmship pushed and verifies it again, on the
/// same docker-registry, and what it stored has cosign's layout (printed under `--nocapture`).
#[test]
fn sigstore_round_trip_on_the_test_registry() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let digest = push_demo(&dir, &reg, "demo/judge:1.0.0");
    let key = sigstore_key();
    let mut judge = Judge::new(&reg);

    let (signatures, resolved) = judge.triangulate("demo/judge:1.0.0");
    assert_eq!(resolved, digest, "sigstore resolves the tag to the pushed digest");
    assert_eq!(signatures.to_string(), format!("{}/demo/judge:{}", reg.host(), sig_tag(&digest)));
    assert!(judge.layers("demo/judge:1.0.0").is_empty(), "signature layers before any signature");
    assert!(judge.verify("demo/judge:1.0.0", public_pem(&key).as_bytes(), &[]).is_err());

    let tag = judge.sign("demo/judge:1.0.0", &key, &[("env", "prod")]);
    assert_eq!(tag, sig_tag(&digest));
    assert_eq!(reg.tags("demo/judge").expect("the repository exists"), vec!["1.0.0".to_owned(), tag.clone()]);

    let stored = read_sig_manifest(&reg, "demo/judge", &digest);
    assert_eq!(stored.payloads.len(), 1, "{:#}", stored.json);
    let payload = parse_json("the payload", &stored.payloads[0]);
    assert_eq!(payload["optional"]["env"], "prod", "{payload:#}");
    let layer_annotations: Vec<&String> =
        stored.json["layers"][0]["annotations"].as_object().expect("layer annotations").keys().collect();
    assert_eq!(layer_annotations, [SIGNATURE_ANNOTATION], "sigstore adds no certificate, chain or bundle");
    println!(
        "== the .sig manifest sigstore pushed ({}:{tag}), as served:\n{}",
        reg.reference("demo/judge"),
        lossy(&stored.bytes)
    );
    println!("== its layer annotations: {layer_annotations:?}");
    println!("== its layer (the simple-signing payload), as stored:\n{}", lossy(&stored.payloads[0]));
    println!(
        "== the config blob: {}",
        lossy(&reg.blob("demo/judge", str_field(&stored.json["config"], "digest")).expect("config blob"))
    );

    let requests: Vec<String> = reg
        .requests()
        .iter()
        .map(|r| format!("{} {} {}", r.method, r.path.split('?').next().unwrap_or_default(), r.status))
        .collect();
    println!("== every request that reached the registry so far (wasmship's push, then sigstore's):");
    for request in &requests {
        println!("   {request}");
    }

    let layers = judge.layers("demo/judge:1.0.0");
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0].simple_signing.critical.image.docker_manifest_digest, digest);
    assert_eq!(layers[0].oci_digest, sha256_digest(&stored.payloads[0]));
    assert_eq!(layers[0].raw_data, stored.payloads[0], "sigstore checks the payload bytes as stored");

    let pem = public_pem(&key);
    judge.verify("demo/judge:1.0.0", pem.as_bytes(), &[]).expect("sigstore verifies its own signature");
    judge.verify("demo/judge:1.0.0", pem.as_bytes(), &[("env", "prod")]).expect("with the annotation it signed");
    assert!(judge.verify("demo/judge:1.0.0", pem.as_bytes(), &[("env", "dev")]).is_err(), "another annotation value");
    assert!(judge.verify("demo/judge:1.0.0", public_pem(&sigstore_key()).as_bytes(), &[]).is_err(), "another key");

    // A signature of one tag does not vouch for another digest in the repository.
    // (The same file under another manifest annotation: another manifest digest.)
    dir.run(&["push", &reg.reference("demo/judge:2.0.0"), "demo.wasm", "-a", "rev=2"]).success();
    let other = reg.manifest("demo/judge", "2.0.0").expect("pushed").digest;
    assert_ne!(other, digest);
    assert!(judge.verify("demo/judge:2.0.0", pem.as_bytes(), &[]).is_err(), "a digest nobody signed");
    // Nor when its signatures are replayed under the other digest's `.sig` tag: the payload
    // names the digest it was made for.
    let replayed = reg.reference(&format!("demo/judge:{}", sig_tag(&other)));
    dir.run(&["copy", &reg.reference(&format!("demo/judge:{tag}")), &replayed]).success();
    assert!(reg.manifest("demo/judge", &sig_tag(&other)).is_some(), "the replayed .sig tag exists");
    assert!(judge.layers("demo/judge:2.0.0").is_empty(), "sigstore takes a replayed layer");
    assert!(judge.verify("demo/judge:2.0.0", pem.as_bytes(), &[]).is_err(), "a replayed signature");
}

#[test]
fn sigstore_verifies_what_wasmship_signed() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let digest = push_demo(&dir, &reg, "demo/signed:1.0.0");
    let password = [("COSIGN_PASSWORD", PASSWORD)];

    dir.run_env(&["key", "generate"], &password).success();
    pem_der(&dir.read("cosign.key"), PRIVATE_KEY_LABEL);
    pem_der(&dir.read("cosign.pub"), PUBLIC_KEY_LABEL);
    let reference = reg.reference("demo/signed:1.0.0");
    dir.run_env(&["sign", &reference, "--key", "cosign.key", "-a", "env=prod", "--format", "sig"], &password).success();

    let stored = read_sig_manifest(&reg, "demo/signed", &digest);
    assert_eq!(stored.payloads.len(), 1, "{:#}", stored.json);
    let payload = parse_json("the payload", &stored.payloads[0]);
    assert_eq!(payload["optional"]["env"], "prod", "{payload:#}");

    let mut judge = Judge::new(&reg);
    let layers = judge.layers("demo/signed:1.0.0");
    assert_eq!(layers.len(), 1, "sigstore reads the one signature layer wasmship wrote");
    assert_eq!(layers[0].simple_signing.critical.image.docker_manifest_digest, digest);
    let public = dir.read("cosign.pub");
    judge.verify("demo/signed:1.0.0", &public, &[("env", "prod")]).expect("sigstore verifies wasmship's signature");
    judge.verify("demo/signed:1.0.0", &public, &[]).expect("without annotations too");
    assert!(judge.verify("demo/signed:1.0.0", &public, &[("env", "dev")]).is_err(), "another annotation value");
    assert!(judge.verify("demo/signed:1.0.0", public_pem(&sigstore_key()).as_bytes(), &[]).is_err(), "another key");
}

#[test]
fn wasmship_verifies_what_sigstore_signed() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let digest = push_demo(&dir, &reg, "demo/theirs:1.0.0");
    let key = sigstore_key();
    dir.write("sigstore.pub", public_pem(&key).as_bytes());
    dir.write("other.pub", public_pem(&sigstore_key()).as_bytes());

    let mut judge = Judge::new(&reg);
    let tag = judge.sign("demo/theirs:1.0.0", &key, &[("env", "prod")]);
    let layer_digest = judge.layers("demo/theirs:1.0.0")[0].oci_digest.clone();
    judge.verify("demo/theirs:1.0.0", public_pem(&key).as_bytes(), &[("env", "prod")]).expect("sigstore's own check");
    assert_eq!(tag, sig_tag(&digest));

    let reference = reg.reference("demo/theirs:1.0.0");
    let run = dir.run(&["verify", &reference, "--key", "sigstore.pub"]).success();
    assert_names_signature(&run, &tag, &layer_digest);
    dir.run(&["verify", &reference, "--key", "sigstore.pub", "-a", "env=prod"]).success();
    dir.run(&["verify", &reference, "--key", "sigstore.pub", "-a", "env=dev"]).failure();
    dir.run(&["verify", &reference, "--key", "other.pub"]).failure();
}

#[test]
fn wasmship_reads_a_sigstore_encrypted_key() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let digest = push_demo(&dir, &reg, "demo/borrowed:1.0.0");
    let key = sigstore_key();
    let encrypted = key.private_key_to_encrypted_pem(PASSWORD.as_bytes()).expect("sigstore encrypts the key");
    pem_der(encrypted.as_bytes(), PRIVATE_KEY_LABEL);
    dir.write("sigstore.key", encrypted.as_bytes());
    let sign = |repo_tag: &str, password: &str| {
        dir.run_env(
            &["sign", &reg.reference(repo_tag), "--key", "sigstore.key", "--format", "sig"],
            &[("COSIGN_PASSWORD", password)],
        )
    };

    sign("demo/borrowed:1.0.0", PASSWORD).success();
    read_sig_manifest(&reg, "demo/borrowed", &digest);
    let mut judge = Judge::new(&reg);
    judge
        .verify("demo/borrowed:1.0.0", public_pem(&key).as_bytes(), &[])
        .expect("sigstore verifies what wasmship signed with sigstore's key");
    assert!(judge.verify("demo/borrowed:1.0.0", public_pem(&sigstore_key()).as_bytes(), &[]).is_err(), "another key");

    // With a wrong password (once `sign` is known to work): no signature, nothing stored.
    dir.run(&["push", &reg.reference("demo/borrowed:2.0.0"), "demo.wasm", "-a", "rev=2"]).success();
    let second = reg.manifest("demo/borrowed", "2.0.0").expect("pushed").digest;
    sign("demo/borrowed:2.0.0", "not-the-password").failure();
    assert!(
        !reg.tags("demo/borrowed").expect("the repository exists").contains(&sig_tag(&second)),
        "a signature was stored although the key could not be opened"
    );
}

#[test]
fn sigstore_reads_a_wasmship_key() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let digest = push_demo(&dir, &reg, "demo/lent:1.0.0");

    dir.run_env(&["key", "generate", "--output-key-prefix", "release"], &[("COSIGN_PASSWORD", PASSWORD)]).success();
    let private = dir.read("release.key");
    let public = dir.read("release.pub");
    pem_der(&private, PRIVATE_KEY_LABEL);
    assert!(SigStoreKeyPair::from_encrypted_pem(&private, b"not-the-password").is_err(), "a wrong password opens it");
    let key = SigStoreKeyPair::from_encrypted_pem(&private, PASSWORD.as_bytes())
        .unwrap_or_else(|e| panic!("sigstore cannot open wasmship's key ({e}):\n{}", lossy(&private)));
    assert_eq!(
        key.public_key_to_der().expect("sigstore exports the public key"),
        pem_der(&public, PUBLIC_KEY_LABEL),
        "the private key and the .pub wasmship wrote are not one pair"
    );

    let mut judge = Judge::new(&reg);
    let tag = judge.sign("demo/lent:1.0.0", &key, &[]);
    assert_eq!(tag, sig_tag(&digest));
    judge.verify("demo/lent:1.0.0", &public, &[]).expect("sigstore's own check with wasmship's .pub");
    let layer_digest = judge.layers("demo/lent:1.0.0")[0].oci_digest.clone();
    let run = dir.run(&["verify", &reg.reference("demo/lent:1.0.0"), "--key", "release.pub"]).success();
    assert_names_signature(&run, &tag, &layer_digest);
}

/// The password of `testdata/cosign/sigstore.key`.
const GOLDEN_PASSWORD: &str = "golden-vector";

/// `testdata/cosign/sigstore.key` is an encrypted key the sigstore crate wrote (with
/// `GOLDEN_PASSWORD`), `sigstore.pub` its public key; the packager's unit tests open it
/// too. `WASMSHIP_BLESS=1` writes a new pair.
#[test]
fn the_golden_sigstore_key_opens_with_its_password() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/cosign");
    if std::env::var_os("WASMSHIP_BLESS").is_some() {
        let key = sigstore_key();
        let sealed = key.private_key_to_encrypted_pem(GOLDEN_PASSWORD.as_bytes()).expect("sigstore encrypts the key");
        std::fs::write(dir.join("sigstore.key"), sealed.as_bytes()).unwrap();
        std::fs::write(dir.join("sigstore.pub"), public_pem(&key)).unwrap();
    }
    let sealed = std::fs::read(dir.join("sigstore.key")).unwrap();
    let key = SigStoreKeyPair::from_encrypted_pem(&sealed, GOLDEN_PASSWORD.as_bytes()).expect("sigstore opens its key");
    assert_eq!(
        key.public_key_to_der().unwrap(),
        pem_der(&std::fs::read(dir.join("sigstore.pub")).unwrap(), PUBLIC_KEY_LABEL)
    );
}
