//! Signatures in cosign's formats against a real registry and an OCI layout: `key generate`
//! writes cosign's key files, `sign` stores a signature of the digest (legacy `.sig` tag or
//! Sigstore bundle referrer through the tag schema, since docker-registry 2.8 has no
//! referrers API), `verify` checks them; tampering — a moved tag, a signature copied from
//! other content, a flipped byte, the wrong key, a missing annotation — is refused.

use std::os::unix::fs::PermissionsExt;

use crate::util::{Registry, TestDir, big_component, demo_component, digest_hex, str_field};

const PASSWORD: &str = "s3cret-for-tests";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn with_password(dir: &TestDir, args: &[&str]) -> crate::util::Run {
    dir.run_env(args, &[("COSIGN_PASSWORD", PASSWORD)])
}

/// A directory with a key pair (`cosign.key`, `cosign.pub`), a registry and `demo/app:1.0.0`
/// pushed there; its digest.
fn signed_setup() -> (TestDir, Registry, String) {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    with_password(&dir, &["key", "generate"]).success();
    dir.write("app.wasm", &demo_component());
    let pushed = dir.run(&["push", &reg.reference("demo/app:1.0.0"), "app.wasm", "-o", "json"]).success();
    let digest = str_field(&pushed.stdout_json(), "digest").to_owned();
    (dir, reg, digest)
}

#[test]
fn key_generate_writes_cosigns_files_private_and_refuses_to_overwrite() {
    let dir = TestDir::new();
    let run = with_password(&dir, &["key", "generate", "-o", "json"]).success();
    let key = dir.read("cosign.key");
    let public = dir.read("cosign.pub");
    let key_text = String::from_utf8(key.clone()).unwrap();
    assert!(key_text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"), "{key_text}");
    assert!(String::from_utf8(public).unwrap().starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let mode = std::fs::metadata(dir.path("cosign.key")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the private key is the user's only");
    assert!(str_field(&run.stdout_json(), "fingerprint").starts_with("SHA256:"), "{run}");
    assert!(!run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD), "{run}");

    // A second run would lose the key: refused, and the file is unchanged.
    let again = with_password(&dir, &["key", "generate"]).failure();
    assert!(again.stderr.contains("cosign.key exists; pass --force"), "{again}");
    assert_eq!(dir.read("cosign.key"), key);
    // No password: refused unless asked for.
    let none = dir.run(&["key", "generate", "--output-key-prefix", "other"]).failure();
    assert!(none.stderr.contains("set COSIGN_PASSWORD"), "{none}");
    assert!(!dir.path("other.key").exists());
    dir.run(&["key", "generate", "--output-key-prefix", "keys/other", "--no-password"]).failure();
    std::fs::create_dir(dir.path("keys")).unwrap();
    dir.run(&["key", "generate", "--output-key-prefix", "keys/other", "--no-password"]).success();
    assert!(dir.path("keys/other.key").is_file() && dir.path("keys/other.pub").is_file());
}

#[test]
fn a_legacy_signature_is_stored_as_cosign_stores_it_and_verifies() {
    let (dir, reg, digest) = signed_setup();
    let reference = reg.reference("demo/app:1.0.0");
    let signed =
        with_password(&dir, &["sign", &reference, "--key", "cosign.key", "-a", "env=prod", "-o", "json"]).success();
    let signed = signed.stdout_json();
    assert_eq!(str_field(&signed, "digest"), digest);
    assert_eq!(str_field(&signed, "format"), "sig");

    // The `.sig` tag: one simplesigning layer whose blob is the payload of this digest.
    let tag = format!("sha256-{}.sig", digest_hex(&digest));
    let manifest = reg.manifest_json("demo/app", &tag);
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    assert_eq!(layers[0]["mediaType"], "application/vnd.dev.cosign.simplesigning.v1+json");
    assert!(layers[0]["annotations"]["dev.cosignproject.cosign/signature"].as_str().is_some_and(|s| !s.is_empty()));
    let payload = reg.blob("demo/app", layers[0]["digest"].as_str().unwrap()).unwrap();
    let payload: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(payload["critical"]["image"]["docker-manifest-digest"], digest.as_str());
    assert_eq!(payload["critical"]["type"], "cosign container image signature");
    assert_eq!(payload["optional"]["env"], "prod");

    let verified = dir.run(&["verify", &reference, "--key", "cosign.pub", "-a", "env=prod", "-o", "json"]).success();
    let verified = verified.stdout_json();
    assert_eq!(str_field(&verified, "digest"), digest);
    let list = verified["verified"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{verified}");
    assert_eq!(list[0]["format"], "sig");
    assert_eq!(list[0]["annotations"]["env"], "prod");
    let text = dir.run(&["verify", &reference, "--key", "cosign.pub"]).success();
    assert!(text.stdout.contains("sig signature by key SHA256:"), "{text}");

    // A second signature is appended, not replacing the first.
    with_password(&dir, &["key", "generate", "--output-key-prefix", "second"]).success();
    with_password(&dir, &["sign", &reference, "--key", "second.key"]).success();
    assert_eq!(reg.manifest_json("demo/app", &tag)["layers"].as_array().unwrap().len(), 2);
    for key in ["cosign.pub", "second.pub"] {
        dir.run(&["verify", &reference, "--key", key]).success();
    }
}

#[test]
fn a_bundle_signature_is_a_referrer_listed_by_the_tag_schema() {
    let (dir, reg, digest) = signed_setup();
    let reference = reg.reference("demo/app:1.0.0");
    let signed =
        with_password(&dir, &["sign", &reference, "--key", "cosign.key", "--format", "bundle", "-o", "json"]).success();
    let signature_manifest = str_field(&signed.stdout_json(), "signatureManifest").to_owned();

    // docker-registry 2.8 has no referrers API: the index tagged sha256-<hex> lists it.
    let index = reg.manifest_json("demo/app", &format!("sha256-{}", digest_hex(&digest)));
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{index}");
    assert_eq!(entries[0]["digest"], signature_manifest.as_str());
    assert_eq!(entries[0]["artifactType"], "application/vnd.dev.sigstore.bundle.v0.3+json");
    let referrer = reg.manifest_json("demo/app", &signature_manifest);
    assert_eq!(referrer["subject"]["digest"], digest.as_str());
    assert_eq!(referrer["config"]["mediaType"], "application/vnd.oci.empty.v1+json");
    assert_eq!(referrer["annotations"]["dev.sigstore.bundle.predicateType"], "https://sigstore.dev/cosign/sign/v1");

    let verified = dir.run(&["verify", &reference, "--key", "cosign.pub", "-o", "json"]).success().stdout_json();
    let formats: Vec<&str> =
        verified["verified"].as_array().unwrap().iter().map(|v| v["format"].as_str().unwrap()).collect();
    assert_eq!(formats, ["bundle"], "{verified}");
    // Both formats side by side.
    with_password(&dir, &["sign", &reference, "--key", "cosign.key"]).success();
    let verified = dir.run(&["verify", &reference, "--key", "cosign.pub", "-o", "json"]).success().stdout_json();
    assert_eq!(verified["verified"].as_array().unwrap().len(), 2, "{verified}");
}

#[test]
fn tampering_is_refused_with_a_clear_message() {
    let (dir, reg, digest) = signed_setup();
    let reference = reg.reference("demo/app:1.0.0");
    with_password(&dir, &["sign", &reference, "--key", "cosign.key", "-a", "env=prod"]).success();
    with_password(&dir, &["key", "generate", "--output-key-prefix", "stranger"]).success();

    // The wrong key.
    let run = dir.run(&["verify", &reference, "--key", "stranger.pub", "-o", "json"]).failure();
    assert_eq!(str_field(&run.stderr_json(), "kind"), "unverified", "{run}");
    assert!(run.stderr.contains("signed by another key"), "{run}");
    // A required annotation the signature lacks.
    let run = dir.run(&["verify", &reference, "--key", "cosign.pub", "-a", "env=dev"]).failure();
    assert!(run.stderr.contains("lacks the annotation(s) env=dev"), "{run}");

    // The tag moved to other content: that content has no signature.
    dir.write("other.wasm", &big_component(4096));
    dir.run(&["push", &reg.reference("demo/app:1.0.0"), "other.wasm"]).success();
    let run = dir.run(&["verify", &reference, "--key", "cosign.pub"]).failure();
    assert!(run.stderr.contains("has no signatures"), "{run}");
    let moved_digest = reg.manifest("demo/app", "1.0.0").unwrap().digest;

    // The signature of the original copied to the new content: its payload names the
    // original digest.
    let original_tag = format!("sha256-{}.sig", digest_hex(&digest));
    let signature = reg.manifest("demo/app", &original_tag).unwrap();
    let moved_tag = format!("sha256-{}.sig", digest_hex(&moved_digest));
    assert_eq!(reg.put_manifest("demo/app", &moved_tag, OCI_MANIFEST, &signature.bytes), 201);
    let run = dir.run(&["verify", &reference, "--key", "cosign.pub"]).failure();
    assert!(run.stderr.contains(&format!("its payload signs {digest}, not this manifest")), "{run}");

    // A flipped byte in the signature of the original.
    let mut manifest: serde_json::Value = serde_json::from_slice(&signature.bytes).unwrap();
    let annotation = &mut manifest["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"];
    let mut bytes = base64_decode(annotation.as_str().unwrap());
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    *annotation = serde_json::Value::String(base64_encode(&bytes));
    assert_eq!(reg.put_manifest("demo/app", &original_tag, OCI_MANIFEST, &serde_json::to_vec(&manifest).unwrap()), 201);
    let pinned = format!("{}@{digest}", reg.reference("demo/app"));
    let run = dir.run(&["verify", &pinned, "--key", "cosign.pub"]).failure();
    assert!(run.stderr.contains("signed by another key"), "a damaged signature verifies with no key: {run}");
}

#[test]
fn signatures_in_an_oci_layout_verify_in_both_formats() {
    let dir = TestDir::new();
    with_password(&dir, &["key", "generate"]).success();
    dir.write("app.wasm", &demo_component());
    dir.run(&["push", "oci-layout://layout:1.0.0", "app.wasm"]).success();
    for format in ["sig", "bundle"] {
        with_password(&dir, &["sign", "oci-layout://layout:1.0.0", "--key", "cosign.key", "--format", format])
            .success();
    }
    let verified = dir.run(&["verify", "oci-layout://layout:1.0.0", "--key", "cosign.pub", "-o", "json"]).success();
    let mut formats: Vec<String> = verified.stdout_json()["verified"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["format"].as_str().unwrap().to_owned())
        .collect();
    formats.sort();
    assert_eq!(formats, ["bundle", "sig"], "{verified}");
}

#[test]
fn a_wrong_password_is_named_and_never_echoed() {
    let (dir, reg, _) = signed_setup();
    let run = dir
        .run_env(
            &["sign", &reg.reference("demo/app:1.0.0"), "--key", "cosign.key"],
            &[("COSIGN_PASSWORD", "nope-wrong")],
        )
        .failure();
    assert!(run.stderr.contains("wrong password, or the key file is damaged"), "{run}");
    assert!(!run.stderr.contains("nope-wrong"), "{run}");
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn pull_inspect_and_copy_with_verify_key_refuse_unsigned_artifacts_and_write_nothing() {
    let (dir, reg, digest) = signed_setup();
    let reference = reg.reference("demo/app:1.0.0");
    let cache = crate::util::fresh_cache(&dir);

    // Unsigned: refused before anything is fetched — no file, nothing in the cache.
    let run =
        dir.run(&["pull", &reference, "--verify-key", "cosign.pub", "--cache-dir", &cache, "-o", "json"]).failure();
    assert_eq!(str_field(&run.stderr_json(), "kind"), "unverified", "{run}");
    assert!(run.stderr.contains("has no signatures"), "{run}");
    assert!(!dir.path("app.wasm.pulled").exists());
    assert_eq!(dir.read("app.wasm"), demo_component(), "the pushed file is untouched");
    let blobs = std::path::Path::new(&cache).join("blobs/sha256");
    assert!(!blobs.exists() || std::fs::read_dir(&blobs).unwrap().next().is_none(), "the cache got blobs");
    let run = dir.run(&["inspect", &reference, "--verify-key", "cosign.pub", "--cache-dir", &cache]).failure();
    assert!(run.stderr.contains("not verified"), "{run}");
    let copy = reg.reference("copied/app:1.0.0");
    dir.run(&["copy", &reference, &copy, "--verify-key", "cosign.pub"]).failure();
    assert_eq!(reg.tags("copied/app"), None, "the copy wrote to the destination");

    // Signed: all three go through, and the pulled bytes are the component's.
    with_password(&dir, &["sign", &reference, "--key", "cosign.key", "-a", "env=prod"]).success();
    let pulled = dir
        .run(&["pull", &reference, "-d", "out.wasm", "--verify-key", "cosign.pub", "--cache-dir", &cache, "-o", "json"])
        .success();
    assert_eq!(str_field(&pulled.stdout_json(), "digest"), digest);
    assert_eq!(dir.read("out.wasm"), demo_component());
    dir.run(&["inspect", &reference, "--verify-key", "cosign.pub", "--cache-dir", &cache]).success();
    dir.run(&["copy", &reference, &copy, "--verify-key", "cosign.pub", "--verify-annotation", "env=prod"]).success();
    assert_eq!(reg.manifest("copied/app", "1.0.0").unwrap().digest, digest);
    // A required annotation the signature lacks is refused like a missing signature.
    let run = dir
        .run(&["pull", &reference, "-d", "dev.wasm", "--verify-key", "cosign.pub", "--verify-annotation", "env=dev"])
        .failure();
    assert!(run.stderr.contains("lacks the annotation(s) env=dev"), "{run}");
    assert!(!dir.path("dev.wasm").exists());

    // Offline, the cache's record of the verified signature is what is checked.
    std::fs::remove_file(dir.path("out.wasm")).unwrap();
    let offline = ["pull", &reference, "-d", "out.wasm", "--offline", "--cache-dir", &cache];
    dir.run(&[&offline[..], &["--verify-key", "cosign.pub"]].concat()).success();
    assert_eq!(dir.read("out.wasm"), demo_component());
    with_password(&dir, &["key", "generate", "--output-key-prefix", "stranger"]).success();
    std::fs::remove_file(dir.path("out.wasm")).unwrap();
    let run = dir.run(&[&offline[..], &["--verify-key", "stranger.pub"]].concat()).failure();
    assert!(run.stderr.contains("offline, and none of the signatures the cache saw verified"), "{run}");
    assert!(!dir.path("out.wasm").exists());
}

#[test]
fn a_policy_file_requires_signatures_without_flags() {
    let (dir, reg, digest) = signed_setup();
    let reference = reg.reference("demo/app:1.0.0");
    let other = reg.reference("scratch/app:1.0.0");
    dir.run(&["push", &other, "app.wasm"]).success();
    let policy = format!(
        "[[rule]]\nprefix = \"{}/demo/\"\nrequire = \"signed\"\nkeys = [\"cosign.pub\"]\nannotations = {{ env = \"prod\" }}\n",
        reg.host()
    );
    dir.write("wasmship-policy.toml", policy.as_bytes());

    // Unsigned under the rule: refused, nothing written; outside it: no requirement.
    let run = dir.run(&["pull", &reference, "-d", "out.wasm", "-o", "json"]).failure();
    assert_eq!(str_field(&run.stderr_json(), "kind"), "unverified", "{run}");
    assert!(!dir.path("out.wasm").exists());
    dir.run(&["pull", &other, "-d", "scratch.wasm"]).success();

    // Signed without the annotation the rule requires: still refused; with it: pulled.
    with_password(&dir, &["sign", &reference, "--key", "cosign.key"]).success();
    let run = dir.run(&["pull", &reference, "-d", "out.wasm"]).failure();
    assert!(run.stderr.contains("lacks the annotation(s) env=prod"), "{run}");
    with_password(&dir, &["sign", &reference, "--key", "cosign.key", "-a", "env=prod"]).success();
    let pulled = dir.run(&["pull", &reference, "-d", "out.wasm", "-o", "json"]).success();
    assert_eq!(str_field(&pulled.stdout_json(), "digest"), digest);
    assert_eq!(dir.read("out.wasm"), demo_component());

    // A policy with a mistake is named, not ignored.
    dir.write("wasmship-policy.toml", b"[[rule]]\nprefix = \"\"\nrequire = \"always\"\n");
    let run = dir.run(&["pull", &reference, "-d", "again.wasm"]).failure();
    assert!(run.stderr.contains("wasmship-policy.toml") && run.stderr.contains("\"signed\" or \"none\""), "{run}");
}

#[test]
fn key_generate_and_sign_ask_for_the_password_on_a_terminal_without_echo() {
    let dir = TestDir::new();
    let typed = "typed-on-the-terminal";
    let line = format!("{typed}\n");

    // A new key: asked twice, never echoed; a mismatch writes nothing.
    let (run, screen) = crate::util::run_on_terminal(
        dir.command(&["key", "generate", "--output-key-prefix", "mismatch"]),
        "wasmship key generate (mismatch)",
        &[("Enter password for private key: ", &line), ("Enter password for private key again: ", "other\n")],
    );
    let run = run.failure();
    assert!(run.stderr.contains("do not match"), "{run}\n{screen}");
    assert!(!dir.path("mismatch.key").exists() && !dir.path("mismatch.pub").exists());
    let (run, screen) = crate::util::run_on_terminal(
        dir.command(&["key", "generate"]),
        "wasmship key generate",
        &[("Enter password for private key: ", &line), ("Enter password for private key again: ", &line)],
    );
    run.success();
    assert!(!screen.contains(typed), "the password was echoed: {screen:?}");
    assert!(dir.path("cosign.key").is_file() && dir.path("cosign.pub").is_file());

    // The key is sealed with what was typed: sign with it from the variable, then from the terminal.
    dir.write("app.wasm", &demo_component());
    let reference = "oci-layout://store:1.0.0";
    dir.run(&["push", reference, "app.wasm"]).success();
    let run = dir.run_env(&["sign", reference, "--key", "cosign.key"], &[("COSIGN_PASSWORD", "wrong")]).failure();
    assert!(run.stderr.contains("password"), "{run}");
    dir.run_env(&["sign", reference, "--key", "cosign.key"], &[("COSIGN_PASSWORD", typed)]).success();
    let (run, screen) = crate::util::run_on_terminal(
        dir.command(&["sign", reference, "--key", "cosign.key", "--format", "bundle"]),
        "wasmship sign",
        &[("Enter password for private key: ", &line)],
    );
    let run = run.success();
    assert!(!screen.contains(typed), "the password was echoed: {screen:?}");
    assert!(!run.stdout.contains(typed) && !run.stderr.contains(typed), "{run}");
    let verified = dir.run(&["verify", reference, "--key", "cosign.pub", "-o", "json"]).success().stdout_json();
    let formats: Vec<&str> = verified["verified"].as_array().unwrap().iter().map(|s| str_field(s, "format")).collect();
    assert_eq!(formats, ["bundle", "sig"], "{verified:#}");

    // Without a terminal and without the variable, the command says what to set.
    let run = dir.run(&["key", "generate", "--output-key-prefix", "piped"]).failure();
    assert!(run.stderr.contains("COSIGN_PASSWORD"), "{run}");
}

#[test]
fn verify_asks_for_the_signature_places_while_a_slow_one_is_still_answering() {
    let (dir, reg, digest) = signed_setup();
    with_password(&dir, &["sign", &reg.reference("demo/app:1.0.0"), "--key", "cosign.key"]).success();
    let proxy = crate::util::FaultProxy::start(reg.port());
    let referrers = format!("/v2/demo/app/referrers/{digest}");
    let matches = move |head: &crate::util::RequestHead| head.target == referrers;
    proxy.inject(1, matches, crate::util::Fault::DelayResponse { millis: 3000 });

    let verified = dir.run(&["verify", &proxy.reference("demo/app:1.0.0"), "--key", "cosign.pub", "-o", "json"]);
    assert_eq!(verified.success().stdout_json()["verified"].as_array().map(Vec::len), Some(1));
    let exchanges = proxy.exchanges();
    let started = |path: &str| {
        let found: Vec<_> = exchanges.iter().filter(|e| e.path() == path).collect();
        assert_eq!(found.len(), 1, "{path}: {exchanges:#?}");
        found[0].started
    };
    let hex = digest.trim_start_matches("sha256:");
    let slow = started(&format!("/v2/demo/app/referrers/{digest}"));
    // Both tag lookups went out while the referrers answer was held back (one after the
    // other they would start only after it, 3 s later).
    for tag in [format!("sha256-{hex}"), format!("sha256-{hex}.sig")] {
        let at = started(&format!("/v2/demo/app/manifests/{tag}"));
        let gap = at.saturating_duration_since(slow);
        assert!(gap < std::time::Duration::from_millis(2000), "{tag} started {gap:?} after the referrers request");
    }
}
