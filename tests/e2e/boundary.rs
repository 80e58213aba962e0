//! The component boundary: each command's plan (`wasmship plan -o json`, checked against the
//! expected files in `tests/e2e/plans/`), and what the runner then grants the packager —
//! named on stderr with `WASMSHIP_DEBUG=1` — and hands over: directories (never an
//! ancestor, never the home directory), credentials for the command's registries only, the
//! project's credentials file as content (or refused), and requests to its registries only.
//!
//! `WASMSHIP_BLESS=1` rewrites the expected plans from what the binary prints.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{
    Registry, Run, TestDir, demo_component, helper_queries, install_credential_helper, run_to_end, write_docker_config,
};

/// The expected plans: one JSON file per case, `{"args", "files", "plan"}`.
const PLANS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/e2e/plans");
const BLESS_VAR: &str = "WASMSHIP_BLESS";

/// The test's directories and the placeholders that stand for them in expected files,
/// children before their parent.
fn placeholders(dir: &TestDir) -> Vec<(String, &'static str)> {
    let s = |p: &Path| p.to_str().expect("UTF-8 test path").to_owned();
    vec![(s(dir.work()), "$WORK"), (s(dir.home()), "$HOME"), (s(&dir.tmp()), "$TMP"), (s(dir.root()), "$ROOT")]
}

fn expand(dir: &TestDir, text: &str) -> String {
    placeholders(dir).iter().rev().fold(text.to_owned(), |t, (real, name)| t.replace(name, real))
}

fn abstracted(dir: &TestDir, value: &Value) -> Value {
    let text = placeholders(dir).iter().fold(value.to_string(), |t, (real, name)| t.replace(real, name));
    serde_json::from_str(&text).expect("JSON stays JSON")
}

#[test]
fn every_command_plans_exactly_its_expected_paths_registries_and_network() {
    let mut files: Vec<PathBuf> = fs::read_dir(PLANS)
        .expect("read tests/e2e/plans")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "expected plan files in {PLANS}");
    let bless = std::env::var_os(BLESS_VAR).is_some();
    let mut failures = Vec::new();
    for file in &files {
        let mut case: Value = serde_json::from_str(&fs::read_to_string(file).expect("read case")).expect("case JSON");
        let dir = TestDir::new();
        for (path, content) in case["files"].as_object().into_iter().flatten() {
            let path = PathBuf::from(expand(&dir, path));
            fs::create_dir_all(path.parent().expect("parent")).expect("create parent");
            fs::write(&path, expand(&dir, content.as_str().expect("file content"))).expect("write case file");
        }
        let args: Vec<String> = case["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| expand(&dir, a.as_str().expect("string arg")))
            .collect();
        let mut all = vec!["plan".to_owned(), "-o".to_owned(), "json".to_owned()];
        all.extend(args);
        let run = dir.run(&all).success();
        let got = abstracted(&dir, &run.stdout_json());
        assert_no_secret_directories(&dir, &run.stdout_json(), file);
        if bless {
            case["plan"] = got;
            fs::write(file, format!("{}\n", serde_json::to_string_pretty(&case).expect("JSON"))).expect("bless");
        } else if got != case["plan"] {
            failures.push(format!(
                "{}:\nexpected {}\n     got {}",
                file.display(),
                serde_json::to_string_pretty(&case["plan"]).unwrap(),
                serde_json::to_string_pretty(&got).unwrap()
            ));
        }
    }
    assert!(failures.is_empty(), "plans differ (WASMSHIP_BLESS=1 rewrites them):\n{}", failures.join("\n"));
}

/// No plan names a directory that holds `~/.docker` or `~/.ssh`, or the home directory
/// itself as a directory (a file there is granted through a view).
#[track_caller]
fn assert_no_secret_directories(dir: &TestDir, plan: &Value, file: &Path) {
    let secrets = [dir.home().join(".docker"), dir.home().join(".ssh")];
    for grant in plan["paths"].as_array().expect("paths") {
        let path = Path::new(grant["path"].as_str().expect("path"));
        let granted = if grant["kind"] == "file" { path.parent().expect("parent") } else { path };
        let exposes = secrets.iter().any(|s| s.starts_with(granted));
        let viewed = grant["kind"] == "file" && granted == dir.home();
        assert!(!exposes || viewed, "{}: {granted:?} would expose the user's secrets: {plan:#}", file.display());
    }
}

/// The `wasmship: grant …` lines of a run with `WASMSHIP_DEBUG=1`, with the test's
/// directories as placeholders.
fn grants(dir: &TestDir, run: &Run) -> BTreeSet<String> {
    run.stderr
        .lines()
        .filter_map(|line| line.strip_prefix("wasmship: grant "))
        .map(|line| placeholders(dir).iter().fold(line.to_owned(), |t, (real, name)| t.replace(real, name)))
        .collect()
}

fn debug_run(dir: &TestDir, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut vars = vec![("WASMSHIP_DEBUG", "1")];
    vars.extend_from_slice(env);
    dir.run_env(args, &vars)
}

fn set(lines: &[&str]) -> BTreeSet<String> {
    lines.iter().map(|l| l.to_string()).collect()
}

#[test]
fn a_push_of_an_absolute_file_gets_that_files_directory_read_only() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let file = dir.root().join("files/app.wasm");
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(&file, demo_component()).unwrap();
    let reference = reg.reference("demo/abs:1.0.0");

    let run = debug_run(&dir, &["push", &reference, file.to_str().unwrap()], &[]).success();
    assert_eq!(
        grants(&dir, &run),
        set(&[
            "read-only $ROOT/files (file to push)",
            &format!("registry {}", reg.host()),
            "network the registries granted",
        ]),
        "{run}"
    );
    assert!(reg.manifest("demo/abs", "1.0.0").is_some(), "the push landed");
}

#[test]
fn a_file_in_the_home_directory_is_granted_through_a_view_of_it() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    fs::write(dir.home().join("app.wasm"), demo_component()).unwrap();
    write_docker_config(&dir.home().join(".docker"), "other.example:5000", "u", "secret-not-for-you");
    let reference = reg.reference("demo/home:1.0.0");

    let home_file = dir.home().join("app.wasm");
    let run = debug_run(&dir, &["push", &reference, home_file.to_str().unwrap()], &[]).success();
    let granted = grants(&dir, &run);
    assert!(granted.contains("read-only, as a view of the named files $HOME (file to push)"), "{granted:?}");
    assert!(reg.manifest("demo/home", "1.0.0").is_some(), "the push landed");
    let left: BTreeSet<String> =
        fs::read_dir(dir.home()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(left, set(&[".docker", "app.wasm"]), "the view is gone and nothing else appeared");

    // A pull into the home directory writes there through a view too.
    let out = dir.home().join("back.wasm");
    debug_run(&dir, &["pull", &reference, "-d", out.to_str().unwrap()], &[]).success();
    assert_eq!(fs::read(&out).unwrap(), demo_component());
}

#[test]
fn a_command_run_in_the_home_directory_sees_only_the_files_it_names() {
    let dir = TestDir::new();
    let home = dir.home();
    fs::write(home.join("app.wasm"), demo_component()).unwrap();
    fs::create_dir_all(home.join(".ssh")).unwrap();
    fs::write(home.join(".ssh/id_ed25519"), "PRIVATE KEY").unwrap();
    let layout = format!("oci-layout://{}:1", dir.root().join("layout").display());
    let in_home = |args: &[&str]| {
        let mut cmd = dir.command(args);
        cmd.current_dir(home).env("WASMSHIP_DEBUG", "1");
        run_to_end(cmd, format!("wasmship {} (in $HOME)", args.join(" ")))
    };

    let push = in_home(&["push", &layout, "app.wasm"]).success();
    assert!(
        grants(&dir, &push).contains("read-only, as a view of the named files $HOME (relative paths, file to push)"),
        "{push}"
    );
    let pull = in_home(&["pull", &layout, "-d", "back.wasm"]).success();
    assert_eq!(fs::read(home.join("back.wasm")).unwrap(), demo_component(), "{pull}");
    let left: BTreeSet<String> =
        fs::read_dir(home).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(left, set(&[".ssh", "app.wasm", "back.wasm"]), "the views are gone");
}

#[test]
fn a_pull_under_a_missing_directory_is_refused_and_grants_no_ancestor() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    dir.write("app.wasm", &demo_component());
    let reference = reg.reference("demo/missing:1.0.0");
    dir.run(&["push", &reference, "app.wasm"]).success();

    let deep = dir.root().join("new/deeper/x.wasm");
    let run = debug_run(&dir, &["pull", &reference, "-d", deep.to_str().unwrap()], &[]).failure();
    assert!(
        run.stderr.contains("new/deeper does not exist") && run.stderr.contains("create it first"),
        "the error names the missing directory: {run}"
    );
    assert!(grants(&dir, &run).is_empty(), "nothing is granted: {run}");
    assert!(!dir.root().join("new").exists(), "no directory was created");
}

#[test]
fn a_pull_into_a_symlinked_directory_writes_inside_it() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    dir.write("app.wasm", &demo_component());
    let reference = reg.reference("demo/linked:1.0.0");
    dir.run(&["push", &reference, "app.wasm"]).success();
    let real = dir.root().join("real");
    fs::create_dir(&real).unwrap();
    std::os::unix::fs::symlink(&real, dir.path("link")).unwrap();

    let run = debug_run(&dir, &["pull", &reference, "-d", "link"], &[]).success();
    assert_eq!(fs::read(real.join("linked.wasm")).unwrap(), demo_component(), "{run}");
    assert!(dir.path("link").symlink_metadata().unwrap().file_type().is_symlink(), "the link is left alone");
}

#[test]
fn read_only_commands_get_nothing_writable_but_the_cache() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    dir.write("app.wasm", &demo_component());
    let reference = reg.reference("demo/ro:1.0.0");
    dir.run(&["push", &reference, "app.wasm"]).success();
    let registry = format!("registry {}", reg.host());
    // The system's mirror configuration, read-only, where this machine has one.
    let mirror_configuration: Vec<&str> = [
        ("/etc/containers", "read-only /etc/containers (mirror configuration)"),
        ("/etc/containers/registries.conf.d", "read-only /etc/containers/registries.conf.d (mirror configuration)"),
    ]
    .into_iter()
    .filter(|(dir, _)| Path::new(dir).is_dir())
    .map(|(_, grant)| grant)
    .collect();

    let tags = debug_run(&dir, &["tags", &reference], &[]).success();
    let mut expected = set(&[&registry, "network the registries granted"]);
    expected.extend(set(&mirror_configuration));
    assert_eq!(grants(&dir, &tags), expected);
    let inspect = debug_run(&dir, &["inspect", &reference], &[]).success();
    expected.insert("read-write, owner only $HOME/.cache/wasmship/oci (cache)".into());
    assert_eq!(grants(&dir, &inspect), expected);
    let offline = debug_run(&dir, &["inspect", &reference, "--offline"], &[]).success();
    assert_eq!(
        grants(&dir, &offline),
        set(&["read-write, owner only $HOME/.cache/wasmship/oci (cache)", "network none"])
    );
}

#[test]
fn only_the_commands_registries_get_docker_credentials_and_helpers() {
    let dir = TestDir::new();
    let reg = Registry::with_htpasswd(&dir, "boundary-user", "boundary-pw-1c9e");
    let config_dir = dir.home().join(".docker");
    write_docker_config(&config_dir, &reg.host(), "boundary-user", "boundary-pw-1c9e");
    // A second registry's entry, and a helper for every registry, logging who it was asked about.
    let mut config: Value = serde_json::from_str(&fs::read_to_string(config_dir.join("config.json")).unwrap()).unwrap();
    config["auths"]["other.example:5000"] = serde_json::json!({"auth": "b3RoZXI6c2VjcmV0"});
    config["credsStore"] = "e2elog".into();
    fs::write(config_dir.join("config.json"), config.to_string()).unwrap();
    let path = install_credential_helper(&dir, "e2elog", "boundary-user", "boundary-pw-1c9e");
    dir.write("app.wasm", &demo_component());

    let reference = reg.reference("demo/creds:1.0.0");
    let run = debug_run(&dir, &["push", &reference, "app.wasm"], &[("PATH", &path)]).success();
    let handed = run.stderr.lines().find(|l| l.starts_with("wasmship: credentials handed over")).expect("debug line");
    assert!(handed.contains(&reg.host()) && !handed.contains("other.example"), "{handed}");
    assert_eq!(helper_queries(&dir, "e2elog"), [reg.host()], "the helper is asked about this registry only");

    // A command that talks to no registry runs no helper and gets no credentials.
    fs::remove_file(dir.root().join("e2elog.log")).ok();
    let layout = format!("oci-layout://{}:1", dir.root().join("layout").display());
    let local = debug_run(&dir, &["push", &layout, "app.wasm"], &[("PATH", &path)]).success();
    assert!(helper_queries(&dir, "e2elog").is_empty(), "no helper for a layout push: {local}");
    assert!(!local.stderr.contains("credentials handed over"), "{local}");
}

#[test]
fn inspecting_a_local_provider_archive_runs_no_credential_helper() {
    let dir = TestDir::new();
    let path = install_credential_helper(&dir, "e2elog", "u", "p");
    fs::create_dir_all(dir.home().join(".docker")).unwrap();
    fs::write(dir.home().join(".docker/config.json"), r#"{"credsStore":"e2elog"}"#).unwrap();
    dir.write("provider.bin", b"\x7fELF provider bytes");
    let keys = dir.root().join("keys");
    let keys = keys.to_str().unwrap();
    let env = [("PATH", path.as_str())];
    dir.run_env(&["par", "create", "-n", "p", "-v", "v", "-b", "provider.bin", "-d", keys], &env).success();

    let run = debug_run(&dir, &["inspect", "provider.par"], &env).success();
    assert!(run.stdout.contains("p"), "{run}");
    assert!(helper_queries(&dir, "e2elog").is_empty(), "a helper ran for a local file: {run}");
    assert_eq!(grants(&dir, &run), set(&["read-only $WORK (relative paths, provider archive)", "network none"]));
}

#[test]
fn wit_publish_authenticates_with_a_credential_helper() {
    let dir = TestDir::new();
    let reg = Registry::with_htpasswd(&dir, "wit-user", "wit-pw-8d2b");
    let path = install_credential_helper(&dir, "e2ehost", "wit-user", "wit-pw-8d2b");
    fs::create_dir_all(dir.home().join(".docker")).unwrap();
    let config = serde_json::json!({"credHelpers": {reg.host(): "e2ehost"}});
    fs::write(dir.home().join(".docker/config.json"), config.to_string()).unwrap();
    dir.write("wit/package.wit", b"package boundary:greet@0.1.0;\n\ninterface hi {\n  hello: func() -> string;\n}\n");

    let registry = format!("oci://{}/wit", reg.host());
    let run = dir.run_env(&["wit", "publish", "--registry", &registry, "--json"], &[("PATH", &path)]).success();
    assert_eq!(helper_queries(&dir, "e2ehost"), [reg.host()], "{run}");
    assert!(reg.manifest("wit/boundary/greet", "0.1.0").is_some(), "published: {run}");
}

#[test]
fn a_project_credentials_file_outside_the_project_and_home_is_refused() {
    let dir = TestDir::new();
    let reg = Registry::with_htpasswd(&dir, "proj-user", "proj-pw-77aa");
    let secrets = dir.root().join("secrets");
    fs::create_dir(&secrets).unwrap();
    let creds = serde_json::json!({reg.host(): {"username": "proj-user", "password": "proj-pw-77aa"}});
    fs::write(secrets.join("creds.json"), creds.to_string()).unwrap();
    let toml =
        format!("[registry]\nurl = \"{}\"\ncredentials = \"{}\"\n", reg.host(), secrets.join("creds.json").display());
    dir.write("wasmcloud.toml", toml.as_bytes());
    dir.write("app.wasm", &demo_component());

    let run = dir.run(&["push", "demo/outside:1.0.0", "app.wasm"]).failure();
    assert!(run.stderr.contains("outside the project"), "{run}");
    assert_eq!(reg.tags("demo/outside"), None, "nothing was pushed");

    // The same file inside the home directory is handed over.
    fs::rename(secrets.join("creds.json"), dir.home().join("creds.json")).unwrap();
    let toml = format!(
        "[registry]\nurl = \"{}\"\ncredentials = \"{}\"\n",
        reg.host(),
        dir.home().join("creds.json").display()
    );
    dir.write("wasmcloud.toml", toml.as_bytes());
    dir.run(&["push", "demo/outside:1.0.0", "app.wasm"]).success();
    assert!(reg.manifest("demo/outside", "1.0.0").is_some());
}
