//! OCI 1.1 referrers: `attach` stores a file as a referrer (listed through the tag schema on
//! docker-registry 2.8, which has no referrers API), `discover` shows referrers and cosign's
//! legacy tags as a tree, `copy --include-referrers` carries signatures and attachments to
//! another registry and into an OCI layout with digests unchanged (and they still verify
//! there), and `tags` hides the machinery tags unless `--all`.

use crate::util::{Registry, TestDir, demo_component, digest_hex, str_field, str_list};

const PASSWORD: &str = "pw-for-referrers";
const SBOM_TYPE: &str = "application/spdx+json";

/// A registry with `demo/app:1.0.0`, signed in both formats and with an SBOM attached; the
/// directory holds cosign.key/cosign.pub. The component's digest and the SBOM referrer's.
fn decorated() -> (TestDir, Registry, String, String) {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let env = [("COSIGN_PASSWORD", PASSWORD)];
    dir.run_env(&["key", "generate"], &env).success();
    dir.write("app.wasm", &demo_component());
    dir.write("sbom.spdx.json", br#"{"spdxVersion":"SPDX-2.3","name":"app"}"#);
    let reference = reg.reference("demo/app:1.0.0");
    let pushed = dir.run(&["push", &reference, "app.wasm", "-o", "json"]).success();
    let digest = str_field(&pushed.stdout_json(), "digest").to_owned();
    dir.run_env(&["sign", &reference, "--key", "cosign.key"], &env).success();
    dir.run_env(&["sign", &reference, "--key", "cosign.key", "--format", "bundle"], &env).success();
    let attached = dir
        .run(&["attach", &reference, "sbom.spdx.json", "--artifact-type", SBOM_TYPE, "-a", "kind=sbom", "-o", "json"])
        .success();
    let sbom = str_field(&attached.stdout_json(), "referrer").to_owned();
    (dir, reg, digest, sbom)
}

#[test]
fn attach_stores_the_file_as_a_referrer_and_discover_shows_the_tree() {
    let (dir, reg, digest, sbom) = decorated();
    let referrer = reg.manifest_json("demo/app", &sbom);
    assert_eq!(referrer["artifactType"], SBOM_TYPE);
    assert_eq!(referrer["subject"]["digest"], digest.as_str());
    assert_eq!(referrer["annotations"]["kind"], "sbom");
    let layer = &referrer["layers"][0];
    assert_eq!(layer["annotations"]["org.opencontainers.image.title"], "sbom.spdx.json");
    assert_eq!(reg.blob("demo/app", layer["digest"].as_str().unwrap()).unwrap(), dir.read("sbom.spdx.json"));
    let index = reg.manifest_json("demo/app", &format!("sha256-{}", digest_hex(&digest)));
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2, "the bundle and the SBOM: {index}");

    let json = dir.run(&["discover", &reg.reference("demo/app:1.0.0"), "-o", "json"]).success().stdout_json();
    assert_eq!(str_field(&json, "digest"), digest);
    let referrers = json["referrers"].as_array().unwrap();
    let kinds: Vec<String> = referrers
        .iter()
        .map(|r| r["tag"].as_str().map_or_else(|| r["artifactType"].as_str().unwrap().to_owned(), |t| t.to_owned()))
        .collect();
    assert_eq!(
        kinds,
        [
            "application/vnd.dev.sigstore.bundle.v0.3+json".to_owned(),
            SBOM_TYPE.to_owned(),
            format!("sha256-{}.sig", digest_hex(&digest))
        ],
        "{json}"
    );
    let text = dir.run(&["discover", &reg.reference("demo/app:1.0.0")]).success();
    assert!(text.stdout.contains(&format!("├── {SBOM_TYPE} {sbom}")), "{text}");
    assert!(text.stdout.contains("(cosign signatures)"), "{text}");
    let only = dir
        .run(&["discover", &reg.reference("demo/app:1.0.0"), "--artifact-type", SBOM_TYPE, "-o", "json"])
        .success()
        .stdout_json();
    assert_eq!(only["referrers"].as_array().unwrap().len(), 1, "{only}");
}

#[test]
fn tags_hides_signature_and_referrer_tags_unless_all() {
    let (dir, reg, digest, _) = decorated();
    let shown = str_list(&dir.run(&["tags", &reg.reference("demo/app"), "-o", "json"]).success().stdout_json(), "tags");
    assert_eq!(shown, ["1.0.0"]);
    let mut all = str_list(
        &dir.run(&["tags", &reg.reference("demo/app"), "--all", "-o", "json"]).success().stdout_json(),
        "tags",
    );
    all.sort();
    let hex = digest_hex(&digest);
    assert_eq!(all, ["1.0.0".to_owned(), format!("sha256-{hex}"), format!("sha256-{hex}.sig")]);
}

#[test]
fn copy_with_referrers_carries_signatures_and_attachments_that_still_verify() {
    let (dir, reg, digest, sbom) = decorated();
    let other = Registry::start(&dir);
    let source = reg.reference("demo/app:1.0.0");
    let destination = other.reference("mirror/app:1.0.0");
    let run = dir.run(&["copy", &source, &destination, "--include-referrers", "-o", "json"]).success();
    assert_eq!(run.stdout_json()["referrers"], 3, "{run}");
    assert_eq!(other.manifest("mirror/app", "1.0.0").unwrap().digest, digest);
    // Digests unchanged: the SBOM referrer and the signature tag are byte-identical.
    assert_eq!(other.manifest("mirror/app", &sbom).unwrap().bytes, reg.manifest("demo/app", &sbom).unwrap().bytes);
    let sig_tag = format!("sha256-{}.sig", digest_hex(&digest));
    assert_eq!(
        other.manifest("mirror/app", &sig_tag).unwrap().bytes,
        reg.manifest("demo/app", &sig_tag).unwrap().bytes
    );
    let verified = dir.run(&["verify", &destination, "--key", "cosign.pub", "-o", "json"]).success().stdout_json();
    assert_eq!(verified["verified"].as_array().unwrap().len(), 2, "both formats verify at the copy: {verified}");

    // Into an OCI layout and out again into a third repository.
    dir.run(&["copy", &source, "oci-layout://bundle:1.0.0", "-r"]).success();
    let verified = dir.run(&["verify", "oci-layout://bundle:1.0.0", "--key", "cosign.pub", "-o", "json"]).success();
    assert_eq!(verified.stdout_json()["verified"].as_array().unwrap().len(), 2, "{verified}");
    let back = other.reference("back/app:1.0.0");
    dir.run(&["copy", "oci-layout://bundle:1.0.0", &back, "-r"]).success();
    dir.run(&["verify", &back, "--key", "cosign.pub"]).success();
    let discovered = dir.run(&["discover", &back, "--artifact-type", SBOM_TYPE, "-o", "json"]).success().stdout_json();
    assert_eq!(discovered["referrers"][0]["digest"], sbom.as_str(), "{discovered}");

    // Without the flag only the artifact moves.
    let plain = other.reference("plain/app:1.0.0");
    dir.run(&["copy", &source, &plain]).success();
    dir.run(&["verify", &plain, "--key", "cosign.pub"]).failure();
}
