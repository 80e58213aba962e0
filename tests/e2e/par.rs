//! Capability provider archives: `par create` (keys generated into wash's key directory with
//! private permissions), `par insert`, `inspect` of a local archive and of a pushed one, and
//! push/pull through the real registry with wasmCloud's media types. Archives that must not be
//! trusted — a tampered binary, claims re-signed by a foreign key, a tar with a `../` entry —
//! are refused by push, by inspect and, when a registry serves them under correct digests, by
//! pull, which then leaves no file behind.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::util::{OCI_MANIFEST, Registry, TestDir, parse_json, sha256_digest, str_field, str_list, write_zeros_gzip};

const PAR_LAYER: &str = "application/vnd.wasmcloud.provider.archive.layer.v1+par";
const PAR_CONFIG: &str = "application/vnd.wasmcloud.provider.archive.config";
pub(crate) const BINARY: &[u8] = b"\x7fELF a provider binary for x86_64-linux";

/// `par create` of a binary named `my-provider` into `out`, keys in `keys/`.
fn create(dir: &TestDir, out: &str, extra: &[&str]) -> Value {
    create_with_keys(dir, out, "keys", extra)
}

/// `par create` of a binary named `my-provider` into `out`, keys in `keys`.
fn create_with_keys(dir: &TestDir, out: &str, keys: &str, extra: &[&str]) -> Value {
    dir.write("my-provider", BINARY);
    let mut args = create_args(out, keys);
    args.extend_from_slice(&["-o", "json"]);
    args.extend_from_slice(extra);
    dir.run(&args).success().stdout_json()
}

/// The arguments of `par create` for the binary `my-provider` (see [`BINARY`]), named
/// "My Provider" by Acme, version 1.2.0 revision 4 for x86_64-linux, into `out` with keys in
/// `keys`.
pub(crate) fn create_args<'a>(out: &'a str, keys: &'a str) -> Vec<&'a str> {
    vec![
        "par",
        "create",
        "--name",
        "My Provider",
        "--vendor",
        "Acme",
        "--binary",
        "my-provider",
        "--arch",
        "x86_64-linux",
        "--version",
        "1.2.0",
        "--revision",
        "4",
        "--directory",
        keys,
        "--destination",
        out,
    ]
}

/// The entries (name, bytes) of an uncompressed tar.
fn tar_entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 512 <= bytes.len() && bytes[at] != 0 {
        let header = &bytes[at..at + 512];
        let name = String::from_utf8_lossy(header[..100].split(|b| *b == 0).next().unwrap()).into_owned();
        let size_text =
            String::from_utf8_lossy(&header[124..136]).trim_matches(|c: char| c == '\0' || c == ' ').to_owned();
        let size = usize::from_str_radix(&size_text, 8).expect("octal size");
        out.push((name, bytes[at + 512..at + 512 + size].to_vec()));
        at += 512 + size.div_ceil(512) * 512;
    }
    out
}

/// An uncompressed tar of regular files, headers written by hand so any name can be used.
fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in entries {
        let mut header = [0u8; 512];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[100..107].copy_from_slice(b"0000644");
        header[108..115].copy_from_slice(b"0000000");
        header[116..123].copy_from_slice(b"0000000");
        header[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        header[136..147].copy_from_slice(b"00000000000");
        header[156] = b'0';
        header[257..265].copy_from_slice(b"ustar  \0");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
        header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// A genuine uncompressed archive's entries, to build untrustworthy ones from.
fn genuine_entries(dir: &TestDir) -> Vec<(String, Vec<u8>)> {
    create(dir, "genuine.par", &[]);
    tar_entries(&dir.read("genuine.par"))
}

fn rebuild(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let borrowed: Vec<(&str, &[u8])> = entries.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
    tar_of(&borrowed)
}

/// The genuine archive with its binary changed (same length).
fn tampered_binary(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut entries = entries.to_vec();
    let bin = entries.iter_mut().find(|(n, _)| n == "x86_64-linux.bin").expect("binary entry");
    bin.1[1] ^= 0x20;
    rebuild(&entries)
}

/// The genuine archive with claims naming its issuer but signed by another account: the
/// claims of a second archive (own keys), its issuer replaced by the first archive's.
fn foreign_signed(dir: &TestDir, entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let genuine_jwt = String::from_utf8(entries.iter().find(|(n, _)| n == "claims.jwt").unwrap().1.clone()).unwrap();
    let genuine_claims = jwt_claims(&genuine_jwt);
    create_with_keys(dir, "foreign.par", "other-keys", &[]);
    let foreign = tar_entries(&dir.read("foreign.par"));
    let foreign_jwt = String::from_utf8(foreign.iter().find(|(n, _)| n == "claims.jwt").unwrap().1.clone()).unwrap();
    let parts: Vec<&str> = foreign_jwt.split('.').collect();
    let mut claims = jwt_claims(&foreign_jwt);
    claims["iss"] = genuine_claims["iss"].clone();
    claims["sub"] = genuine_claims["sub"].clone();
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let forged = format!("{}.{body}.{}", parts[0], parts[2]);
    let mut entries = entries.to_vec();
    entries.iter_mut().find(|(n, _)| n == "claims.jwt").unwrap().1 = forged.into_bytes();
    rebuild(&entries)
}

/// The genuine archive plus a `../` entry.
fn escaping(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut entries = entries.to_vec();
    entries.push(("../escape.bin".into(), b"outside".to_vec()));
    rebuild(&entries)
}

fn jwt_claims(jwt: &str) -> Value {
    let body = jwt.split('.').nth(1).expect("a JWT");
    parse_json("claims", &URL_SAFE_NO_PAD.decode(body).expect("base64url"))
}

/// Stores `archive` in the registry as a provider artifact under correct digests, past the
/// checks `wasmship push` makes: `POST` + `PUT` per blob, then the manifest.
fn raw_push(reg: &Registry, repo: &str, tag: &str, archive: &[u8]) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let base = format!("http://{}", reg.host());
    let put_blob = |bytes: &[u8]| {
        let resp = agent.post(format!("{base}/v2/{repo}/blobs/uploads/")).send_empty().expect("POST upload");
        assert_eq!(resp.status().as_u16(), 202);
        let location = resp.headers().get("location").unwrap().to_str().unwrap().to_owned();
        let location = if location.starts_with('/') { format!("{base}{location}") } else { location };
        let sep = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{sep}digest={}", sha256_digest(bytes));
        let resp = agent.put(url).header("Content-Type", "application/octet-stream").send(bytes).expect("PUT blob");
        assert_eq!(resp.status().as_u16(), 201, "blob upload");
    };
    put_blob(b"{}");
    put_blob(archive);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": PAR_CONFIG, "digest": sha256_digest(b"{}"), "size": 2},
        "layers": [{"mediaType": PAR_LAYER, "digest": sha256_digest(archive), "size": archive.len()}],
    });
    let resp = agent
        .put(format!("{base}/v2/{repo}/manifests/{tag}"))
        .header("Content-Type", OCI_MANIFEST)
        .send(serde_json::to_vec(&manifest).unwrap().as_slice())
        .expect("PUT manifest");
    assert_eq!(resp.status().as_u16(), 201, "manifest upload");
}

#[test]
fn create_generates_private_keys_in_washs_key_directory() {
    let dir = TestDir::new();
    dir.write("my-provider", BINARY);
    let args = [
        "par",
        "create",
        "--name",
        "P",
        "--vendor",
        "V",
        "--binary",
        "my-provider",
        "--arch",
        "x86_64-linux",
        "--compress",
    ];
    let run = dir.run(&args).success();
    assert!(run.stdout.contains("my-provider.par.gz"), "{run}");
    assert!(run.stderr.contains("generated"), "the generated keys are announced: {run}");
    let keys = dir.root().join("home/.wash/keys");
    let account = keys.join("user_account.nk");
    let service = keys.join("my-provider_service.nk");
    assert!(std::fs::read_to_string(&account).unwrap().starts_with("SA"));
    assert!(std::fs::read_to_string(&service).unwrap().starts_with("SV"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&account), 0o600);
        assert_eq!(mode(&service), 0o600);
        assert_eq!(mode(&keys), 0o700);
    }
    assert_eq!(&dir.read("my-provider.par.gz")[..2], &[0x1f, 0x8b]);

    // The same keys sign the next archive.
    let first = dir.run(&["inspect", "my-provider.par.gz", "-o", "json"]).success().stdout_json();
    dir.run(&args).success();
    let second = dir.run(&["inspect", "my-provider.par.gz", "-o", "json"]).success().stdout_json();
    assert_eq!(first["issuer"], second["issuer"]);
    assert_eq!(first["service"], second["service"]);
}

#[test]
fn inspect_shows_the_claims_with_washs_field_names() {
    let dir = TestDir::new();
    dir.write("schema.json", br#"{"type":"object","properties":{"url":{"type":"string"}}}"#);
    std::fs::create_dir_all(dir.path("wit")).unwrap();
    dir.write("wit/world.wit", b"package acme:store@0.1.0;\n\ninterface api {\n  get: func(k: string) -> string;\n}\n\nworld provider {\n  export api;\n}\n");
    let created = create(&dir, "p.par", &["--schema", "schema.json", "--wit-dir", "wit"]);
    let out = dir.run(&["inspect", "p.par", "-o", "json"]).success().stdout_json();
    assert_eq!(str_field(&out, "name"), "My Provider");
    assert_eq!(str_field(&out, "vendor"), "Acme");
    assert_eq!(str_field(&out, "version"), "1.2.0");
    assert_eq!(str_field(&out, "revision"), "4");
    assert_eq!(str_field(&out, "issuer"), str_field(&created, "issuer"));
    assert_eq!(str_field(&out, "service"), str_field(&created, "service"));
    assert!(str_field(&out, "issuer").starts_with('A') && str_field(&out, "service").starts_with('V'));
    assert_eq!(str_list(&out, "targets"), ["x86_64-linux"]);
    assert_eq!(out["schema"]["properties"]["url"]["type"], "string");
    assert_eq!(out["world"], true);
    assert_eq!(out["hashes_valid"], true);
    assert_eq!(out["signature_valid"], true);

    let names: Vec<String> = tar_entries(&dir.read("p.par")).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["claims.jwt", "world.wasm", "x86_64-linux.bin"]);

    let text = dir.run(&["inspect", "p.par"]).success();
    assert!(text.stdout.contains("My Provider - Capability Provider"), "{text}");
    assert!(text.stdout.contains("signature:    ok"), "{text}");
}

#[test]
fn insert_adds_a_target_signed_by_the_same_keys() {
    let dir = TestDir::new();
    let created = create(&dir, "p.par.gz", &["--compress"]);
    dir.write("mac-binary", b"\xcf\xfa\xed\xfe mac");
    let args = ["par", "insert", "p.par.gz", "--binary", "mac-binary", "--arch", "aarch64-macos", "-d", "keys"];
    dir.run(&args).success();
    let out = dir.run(&["inspect", "p.par.gz", "-o", "json"]).success().stdout_json();
    assert_eq!(str_list(&out, "targets"), ["aarch64-macos", "x86_64-linux"]);
    assert_eq!(out["service"], created["service"]);
    assert_eq!(out["signature_valid"], true);

    // Without the service's seed the archive cannot be signed again.
    dir.run(&["par", "insert", "p.par.gz", "--binary", "mac-binary", "--arch", "x86_64-windows", "-d", "nokeys"])
        .failure();
}

/// A `.par.gz` of a few tens of megabytes whose `aarch64-linux.bin` inflates to 5 GiB of
/// zeros, after the genuine archive's entries, is refused by `par insert` with one line
/// naming the entry and the limit, before gigabytes are held or written; the archive is
/// left as it was, and no temporary file stays behind.
#[test]
fn insert_refuses_an_archive_that_inflates_beyond_the_limit() {
    const HUGE: u64 = 5 << 30;
    const LIMIT: u64 = 512 * 1024 * 1024;
    let dir = TestDir::new();
    let entries = genuine_entries(&dir);
    let mut prefix = rebuild(&entries);
    prefix.truncate(prefix.len() - 1024); // the end-of-archive marker comes after the huge entry
    let header = tar_of(&[("aarch64-linux.bin", b"")]);
    let mut header = header[..512].to_vec();
    header[124..135].copy_from_slice(format!("{HUGE:011o}").as_bytes());
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    prefix.extend_from_slice(&header);
    write_zeros_gzip(&dir.path("hostile.par.gz"), &prefix, HUGE + 1024).expect("write the archive");
    let before = sha256_digest(&dir.read("hostile.par.gz"));
    dir.write("mac-binary", b"\xcf\xfa\xed\xfe mac");
    let listing = dir.listing();
    let args = ["par", "insert", "hostile.par.gz", "--binary", "mac-binary", "--arch", "aarch64-macos", "-d", "keys"];
    let run = dir.run(&args).failure();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {run}");
    assert!(
        lines[0].starts_with("error: aarch64-linux.bin in ")
            && lines[0].ends_with(&format!("hostile.par.gz is larger than the limit of {LIMIT} bytes")),
        "{run}"
    );
    assert_eq!(sha256_digest(&dir.read("hostile.par.gz")), before, "the archive is left alone");
    assert_eq!(dir.listing(), listing, "no temporary file is left behind");
}

#[test]
fn push_and_pull_carry_the_provider_media_types() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    create(&dir, "my-provider.par.gz", &["--compress"]);
    let archive = dir.read("my-provider.par.gz");
    let reference = reg.reference("providers/my-provider:1.2.0");

    dir.run(&["push", &reference, "my-provider.par.gz"]).success();
    let manifest = reg.manifest_json("providers/my-provider", "1.2.0");
    assert_eq!(str_field(&manifest["config"], "mediaType"), PAR_CONFIG);
    assert_eq!(str_field(&manifest["config"], "digest"), sha256_digest(b"{}"));
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(str_field(&layers[0], "mediaType"), PAR_LAYER);
    assert_eq!(str_field(&layers[0], "digest"), sha256_digest(&archive));
    assert_eq!(manifest["annotations"]["org.opencontainers.image.vendor"], "Acme");
    assert_eq!(reg.blob("providers/my-provider", &sha256_digest(&archive)), Some(archive.clone()));

    dir.run(&["pull", &reference]).success();
    assert_eq!(dir.read("my-provider.par.gz"), archive, "default name <repository>.par.gz");
    dir.run(&["pull", &reference, "--destination", "copy.par.gz"]).success();
    assert_eq!(dir.read("copy.par.gz"), archive);

    let out = dir.run(&["inspect", &reference, "-o", "json"]).success().stdout_json();
    assert_eq!(str_field(&out, "name"), "My Provider");
    assert_eq!(out["hashes_valid"], true);
    assert_eq!(out["signature_valid"], true);
}

#[test]
fn push_takes_a_config_file_and_uncompressed_archives() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    create(&dir, "plain.par", &[]);
    let archive = dir.read("plain.par");
    dir.write("config.json", br#"{"note":"provider config"}"#);
    let reference = reg.reference("providers/plain:0.1.0");
    // Issue 11: invalid JSON was pushed as the config, and a device was read until it failed.
    dir.write("bad.json", b"{not json");
    let bad = dir.run(&["push", &reference, "plain.par", "--config", "bad.json", "-o", "json"]).failure();
    assert!(bad.stderr.contains("not JSON"), "{bad}");
    let device = dir.run(&["push", &reference, "plain.par", "--config", "/dev/zero", "-o", "json"]).failure();
    assert!(device.stderr.contains("not a regular file"), "{device}");
    assert_eq!(reg.tags("providers/plain"), None, "nothing was pushed");

    dir.run(&["push", &reference, "plain.par", "--config", "config.json"]).success();
    let manifest = reg.manifest_json("providers/plain", "0.1.0");
    assert_eq!(str_field(&manifest["config"], "digest"), sha256_digest(br#"{"note":"provider config"}"#));
    std::fs::remove_file(dir.path("plain.par")).unwrap();
    dir.run(&["pull", &reference]).success();
    assert_eq!(dir.read("plain.par"), archive, "an uncompressed archive is pulled as <name>.par");
}

#[test]
fn untrustworthy_archives_are_refused_everywhere() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let entries = genuine_entries(&dir);
    let cases = [
        ("tampered", tampered_binary(&entries), "does not match its hash"),
        ("foreign", foreign_signed(&dir, &entries), "signature"),
        ("escape", escaping(&entries), "outside the archive root"),
    ];
    for (name, archive, why) in &cases {
        let file = format!("{name}.par");
        dir.write(&file, archive);

        let push = dir.run(&["push", &reg.reference(&format!("bad/{name}:1.0.0")), &file]).failure();
        assert!(push.stderr.contains(why), "push of {name}: {push}");
        assert!(reg.tags(&format!("bad/{name}")).is_none(), "nothing was pushed for {name}");

        let inspect = dir.run(&["inspect", &file]).failure();
        assert!(inspect.stderr.contains(why), "inspect of {name}: {inspect}");

        raw_push(&reg, &format!("served/{name}"), "1.0.0", archive);
        // The cache (under tmp/) may keep the blob: its digest is right, only what it holds is not.
        let files = || dir.listing().into_iter().filter(|f| !f.starts_with("tmp")).collect::<Vec<_>>();
        let before = files();
        let pull = dir.run(&["pull", &reg.reference(&format!("served/{name}:1.0.0"))]).failure();
        assert!(pull.stderr.contains(why), "pull of {name}: {pull}");
        assert_eq!(files(), before, "a refused pull of {name} leaves no file");
        let inspect = dir.run(&["inspect", &reg.reference(&format!("served/{name}:1.0.0"))]).failure();
        assert!(inspect.stderr.contains(why), "inspect of the pushed {name}: {inspect}");
    }
}
