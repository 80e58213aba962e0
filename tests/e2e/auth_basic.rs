//! Basic auth against a registry behind a bcrypt htpasswd file: a push and pull round trip
//! authenticating through each credential source on its own (flags, wash's and wkg's
//! environment variables, `wasmcloud.toml` with its credentials file and a short reference,
//! Docker's `config.json` `auths`, a Docker credential helper through `credsStore` and
//! `credHelpers`), the order in which those sources win, and the failures: a wrong password
//! and no credentials at all, each with a clear message and nothing pushed.

use std::fs;

use crate::util::{
    Registry, Run, TestDir, assert_conceals, basic_authorization, blob_uploads, demo_component, fresh_cache,
    helper_queries, install_credential_helper, manifest_puts, sha256_digest, write_docker_config,
};

const USER: &str = "e2e-basic-user";
const PASSWORD: &str = "pw-basic-7f3a9c21e4";
const WRONG: &str = "pw-wrong-0b8d55aa31";

/// Strings that must never be printed: both passwords and the `Authorization` values they make.
fn secrets() -> Vec<String> {
    [PASSWORD, WRONG]
        .iter()
        .flat_map(|p| {
            let header = basic_authorization(USER, p);
            let value = header.trim_start_matches("Basic ").to_owned();
            [(*p).to_owned(), value]
        })
        .collect()
}

#[track_caller]
fn conceals(run: &Run) {
    let secrets = secrets();
    assert_conceals(run, &secrets.iter().map(String::as_str).collect::<Vec<_>>());
}

/// A test directory with a Basic-auth registry that refuses anonymous requests.
fn setup() -> (TestDir, Registry) {
    let dir = TestDir::new();
    let reg = Registry::with_htpasswd(&dir, USER, PASSWORD);
    assert_eq!(reg.anonymous_status("/v2/"), 401, "the registry must demand credentials");
    (dir, reg)
}

/// Pushes the demo component to `push_ref` and pulls it back from `pull_ref` into `back.wasm`,
/// both with `auth_args` and `env`; asserts the bytes round-trip and `repo:tag` is in the
/// registry (read back with Basic auth).
#[track_caller]
fn round_trip(
    dir: &TestDir,
    reg: &Registry,
    (repo, tag): (&str, &str),
    (push_ref, pull_ref): (&str, &str),
    auth_args: &[&str],
    env: &[(&str, &str)],
) {
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let mut args = vec!["push", push_ref, "demo.wasm"];
    args.extend_from_slice(auth_args);
    let push = dir.run_env(&args, env);
    conceals(&push);
    let push = push.success();
    let served = reg.manifest(repo, tag).unwrap_or_else(|| panic!("{repo}:{tag} is not in the registry after {push}"));
    assert_eq!(served.digest, sha256_digest(&served.bytes));
    assert!(push.stdout.contains(&served.digest), "push output names the digest: {push}");
    assert_eq!(reg.blob(repo, &sha256_digest(&wasm)), Some(wasm.clone()), "the layer is stored");

    let cache = fresh_cache(dir);
    let mut args = vec!["pull", pull_ref, "--destination", "back.wasm", "--cache-dir", &cache];
    args.extend_from_slice(auth_args);
    let pull = dir.run_env(&args, env);
    conceals(&pull);
    pull.success();
    assert_eq!(dir.read("back.wasm"), wasm);
}

/// Same reference for push and pull.
#[track_caller]
fn round_trip_at(dir: &TestDir, reg: &Registry, repo_tag: &str, auth_args: &[&str], env: &[(&str, &str)]) {
    let (repo, tag) = repo_tag.rsplit_once(':').expect("repo:tag");
    let reference = reg.reference(repo_tag);
    round_trip(dir, reg, (repo, tag), (&reference, &reference), auth_args, env);
}

/// Writes `wasmcloud.toml` (registry `host`) and `creds.json` into the working directory.
fn write_wasmcloud_project(dir: &TestDir, host: &str, user: &str, password: &str) {
    dir.write(
        "wasmcloud.toml",
        format!("name = \"demo\"\nversion = \"1.0.0\"\n\n[registry]\nurl = \"{host}\"\ncredentials = \"./creds.json\"\npush_insecure = false\n")
            .as_bytes(),
    );
    let creds = serde_json::json!({host: {"username": user, "password": password, "registryType": "oci"}});
    dir.write("creds.json", creds.to_string().as_bytes());
}

#[test]
fn flags_authenticate_push_pull_inspect_and_tags() {
    let (dir, reg) = setup();
    round_trip_at(&dir, &reg, "demo/flags:1.0.0", &["-u", USER, "-p", PASSWORD], &[]);
    let reference = reg.reference("demo/flags:1.0.0");
    let digest = reg.manifest("demo/flags", "1.0.0").expect("pushed").digest;

    let cache = fresh_cache(&dir);
    let inspect = dir.run(&["inspect", &reference, "--user", USER, "--password", PASSWORD, "--cache-dir", &cache]);
    conceals(&inspect);
    let inspect = inspect.success();
    assert!(inspect.stdout.contains(&digest), "inspect shows the manifest digest: {inspect}");

    let tags = dir.run(&["tags", &reference, "-u", USER, "-p", PASSWORD]);
    conceals(&tags);
    let tags = tags.success();
    assert_eq!(tags.stdout.lines().collect::<Vec<_>>(), ["1.0.0"], "{tags}");
}

#[test]
fn wash_environment_variables_authenticate() {
    let (dir, reg) = setup();
    round_trip_at(&dir, &reg, "demo/wash-env:1.0.0", &[], &[("WASH_REG_USER", USER), ("WASH_REG_PASSWORD", PASSWORD)]);
}

#[test]
fn wkg_environment_variables_authenticate() {
    let (dir, reg) = setup();
    round_trip_at(&dir, &reg, "demo/wkg-env:1.0.0", &[], &[("WKG_OCI_USERNAME", USER), ("WKG_OCI_PASSWORD", PASSWORD)]);
}

#[test]
fn wasmcloud_toml_credentials_authenticate_a_short_reference() {
    let (dir, reg) = setup();
    write_wasmcloud_project(&dir, &reg.host(), USER, PASSWORD);
    // `demo/app:1.0.0` names no host: it resolves against `[registry] url`.
    round_trip(&dir, &reg, ("demo/app", "1.0.0"), ("demo/app:1.0.0", "demo/app:1.0.0"), &[], &[]);
}

#[test]
fn docker_config_auths_in_home_authenticate() {
    let (dir, reg) = setup();
    write_docker_config(&dir.home().join(".docker"), &reg.host(), USER, PASSWORD);
    round_trip_at(&dir, &reg, "demo/docker-home:1.0.0", &[], &[]);
}

#[test]
fn docker_config_auths_in_docker_config_dir_authenticate() {
    let (dir, reg) = setup();
    let config_dir = dir.root().join("docker-config");
    write_docker_config(&config_dir, &reg.host(), USER, PASSWORD);
    let config_dir = config_dir.to_str().expect("UTF-8 path").to_owned();
    round_trip_at(&dir, &reg, "demo/docker-env:1.0.0", &[], &[("DOCKER_CONFIG", &config_dir)]);
}

#[test]
fn docker_credential_helper_from_creds_store_authenticates() {
    let (dir, reg) = setup();
    let path = install_credential_helper(&dir, "e2estore", USER, PASSWORD);
    let config = serde_json::json!({"auths": {}, "credsStore": "e2estore"});
    fs::create_dir_all(dir.home().join(".docker")).expect("create ~/.docker");
    fs::write(dir.home().join(".docker/config.json"), config.to_string()).expect("write config.json");

    round_trip_at(&dir, &reg, "demo/helper-store:1.0.0", &[], &[("PATH", &path)]);
    let asked = helper_queries(&dir, "e2estore");
    assert!(
        !asked.is_empty() && asked.iter().all(|server| server.contains(&reg.host())),
        "the helper must be asked about {}: {asked:?}",
        reg.host()
    );
}

#[test]
fn docker_credential_helper_from_cred_helpers_authenticates() {
    let (dir, reg) = setup();
    let path = install_credential_helper(&dir, "e2ehost", USER, PASSWORD);
    let config = serde_json::json!({"credHelpers": {reg.host(): "e2ehost"}});
    fs::create_dir_all(dir.home().join(".docker")).expect("create ~/.docker");
    fs::write(dir.home().join(".docker/config.json"), config.to_string()).expect("write config.json");

    round_trip_at(&dir, &reg, "demo/helper-host:1.0.0", &[], &[("PATH", &path)]);
    assert!(!helper_queries(&dir, "e2ehost").is_empty(), "the per-registry helper was never run");
}

/// Whether a failed run's message says the credentials were refused, naming the user.
fn says_refused(run: &Run) -> bool {
    let text = run.stderr.to_lowercase();
    text.contains(&USER.to_lowercase())
        && (text.contains("wrong user name or password") || text.contains("401") || text.contains("refused"))
}

/// Asserts that the registry took no blob and no manifest.
#[track_caller]
fn assert_nothing_pushed(reg: &Registry, repo: &str) {
    assert_eq!(reg.tags(repo), None, "{repo} exists after a refused push");
    let requests = reg.requests();
    let stored: Vec<_> = blob_uploads(&requests)
        .into_iter()
        .chain(manifest_puts(&requests))
        .filter(|r| (200..300).contains(&r.status) && r.method == "PUT")
        .collect();
    assert!(stored.is_empty(), "uploads completed although the credentials were refused: {stored:#?}");
}

#[test]
fn a_wrong_password_is_refused_with_a_clear_message_and_nothing_pushed() {
    let (dir, reg) = setup();
    dir.write("demo.wasm", &demo_component());
    let reference = reg.reference("demo/wrong:1.0.0");

    let push = dir.run(&["push", &reference, "demo.wasm", "-u", USER, "-p", WRONG]);
    conceals(&push);
    let push = push.failure();
    assert!(says_refused(&push), "the message must name the user and say the login was refused: {push}");

    let json = dir.run(&["push", &reference, "demo.wasm", "-u", USER, "-p", WRONG, "-o", "json"]);
    conceals(&json);
    let json = json.failure();
    let error = json.stderr_json();
    assert_eq!(error["success"], serde_json::Value::Bool(false), "{json}");
    assert!(says_refused(&json), "{json}");
    assert_nothing_pushed(&reg, "demo/wrong");

    let pull = dir.run(&["pull", &reference, "-u", USER, "-p", WRONG, "--destination", "none.wasm"]);
    conceals(&pull);
    let pull = pull.failure();
    assert!(says_refused(&pull), "{pull}");
    assert!(!dir.path("none.wasm").exists(), "a refused pull left a file");
}

#[test]
fn missing_credentials_ask_for_a_login() {
    let (dir, reg) = setup();
    dir.write("demo.wasm", &demo_component());
    let push = dir.run(&["push", &reg.reference("demo/anon:1.0.0"), "demo.wasm"]).failure();
    let text = push.stderr.to_lowercase();
    assert!(
        text.contains("-u") && text.contains("-p") || text.contains("--user") && text.contains("--password"),
        "the message must tell how to pass credentials: {push}"
    );
    assert_nothing_pushed(&reg, "demo/anon");

    let pull = dir.run(&["pull", &reg.reference("demo/anon:1.0.0")]).failure();
    assert!(pull.stderr.contains("-u") || pull.stderr.contains("--user"), "{pull}");
}

/// Every lower-precedence source holds a wrong password (under its own user name).
fn wrong_everywhere_below_flags(dir: &TestDir, reg: &Registry) -> Vec<(&'static str, String)> {
    write_wasmcloud_project(dir, &reg.host(), "toml-user", WRONG);
    write_docker_config(&dir.home().join(".docker"), &reg.host(), "docker-user", WRONG);
    vec![
        ("WASH_REG_USER", "wash-user".to_owned()),
        ("WASH_REG_PASSWORD", WRONG.to_owned()),
        ("WKG_OCI_USERNAME", "wkg-user".to_owned()),
        ("WKG_OCI_PASSWORD", WRONG.to_owned()),
    ]
}

#[test]
fn flags_beat_wrong_passwords_in_environment_and_configuration() {
    let (dir, reg) = setup();
    let env = wrong_everywhere_below_flags(&dir, &reg);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    round_trip_at(&dir, &reg, "demo/precedence-flags:1.0.0", &["-u", USER, "-p", PASSWORD], &env);
}

#[test]
fn wash_environment_beats_wkg_environment_and_configuration() {
    let (dir, reg) = setup();
    write_wasmcloud_project(&dir, &reg.host(), "toml-user", WRONG);
    write_docker_config(&dir.home().join(".docker"), &reg.host(), "docker-user", WRONG);
    let env = [
        ("WASH_REG_USER", USER),
        ("WASH_REG_PASSWORD", PASSWORD),
        ("WKG_OCI_USERNAME", "wkg-user"),
        ("WKG_OCI_PASSWORD", WRONG),
    ];
    round_trip_at(&dir, &reg, "demo/precedence-env:1.0.0", &[], &env);
}

#[test]
fn wasmcloud_toml_beats_docker_config() {
    let (dir, reg) = setup();
    write_wasmcloud_project(&dir, &reg.host(), USER, PASSWORD);
    write_docker_config(&dir.home().join(".docker"), &reg.host(), "docker-user", WRONG);
    round_trip_at(&dir, &reg, "demo/precedence-toml:1.0.0", &[], &[]);
}
