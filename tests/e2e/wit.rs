//! WIT packages end to end: the fixture packages of `testdata/wit/` and the WASI 0.2 packages of
//! this repository's `wit/deps` published to a real registry with `wit publish`, then fetched
//! into fresh projects with `wit fetch`. Registries are found through the project's
//! `wasmship.toml`, through wkg's `config.toml`, and through a `registry.json` served by a small
//! HTTP server here. The trees and locks are compared with the expected files and parsed with
//! wit-parser; warm and offline runs must not reach the registry.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::util::{Registry, Run, TestDir, parse_json, str_field};

/// The fixture packages.
pub(crate) fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/wit")
}

/// Copies the directory `from` to `to` inside the test's working directory.
pub(crate) fn copy_tree(dir: &TestDir, from: &Path, to: &str) {
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let target = format!("{to}/{name}");
        if path.is_dir() {
            copy_tree(dir, &path, &target);
        } else {
            dir.write(&target, &std::fs::read(&path).unwrap());
        }
    }
}

/// A cache directory outside the working directory, and the environment naming it.
fn cache_env(dir: &TestDir) -> String {
    crate::util::cache_dir(dir).display().to_string()
}

fn wit(dir: &TestDir, cache: &str, args: &[&str]) -> Run {
    let mut all = vec!["wit"];
    all.extend_from_slice(args);
    dir.run_env(&all, &[("WASMSHIP_CACHE_DIR", cache)])
}

fn wit_env(dir: &TestDir, cache: &str, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut all = vec!["wit"];
    all.extend_from_slice(args);
    let mut vars = vec![("WASMSHIP_CACHE_DIR", cache)];
    vars.extend_from_slice(env);
    dir.run_env(&all, &vars)
}

/// A project whose `wasmship.toml` maps the `example` namespace to `reg` under `wit/`,
/// with the fixture packages under `fixtures/` and the app world in `wit/`.
pub(crate) fn example_project(dir: &TestDir, reg: &Registry) {
    dir.write(
        "wasmship.toml",
        format!("[[registry.pull.sources]]\ntarget = \"example\"\nsource = \"oci://{}/wit\"\n", reg.host()).as_bytes(),
    );
    copy_tree(dir, &testdata().join("types"), "fixtures/types");
    copy_tree(dir, &testdata().join("api"), "fixtures/api");
    copy_tree(dir, &testdata().join("app/wit"), "wit");
}

/// Files under `rel` in the working directory, relative to it, with their text.
fn tree(dir: &TestDir, rel: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = dir
        .listing()
        .into_iter()
        .filter(|p| p.starts_with(&format!("{rel}/")) && dir.path(p).is_file())
        .map(|p| {
            let text = String::from_utf8(dir.read(&p)).unwrap();
            (p[rel.len() + 1..].to_string(), text)
        })
        .collect();
    out.sort();
    out
}

/// The WIT in `wit_dir` parses and resolves with wit-parser; the main package's name.
fn parses(wit_dir: &Path) -> String {
    let mut resolve = wit_parser::Resolve::default();
    let (id, _) = resolve.push_dir(wit_dir).unwrap_or_else(|e| panic!("{}: {e:#}", wit_dir.display()));
    resolve.packages[id].name.to_string()
}

#[test]
fn published_fixtures_fetch_into_exactly_the_expected_tree_and_lock() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_env(&dir);
    example_project(&dir, &reg);

    wit(&dir, &cache, &["publish", "fixtures/types/wit"]).success();
    let out = wit(&dir, &cache, &["publish", "fixtures/api/wit", "--json"]).success().stdout_json();
    assert_eq!(str_field(&out, "reference"), reg.reference("wit/example/api:0.2.0"));

    // The artifact: a Wasm config listing worlds and interfaces, the version annotation.
    let manifest = reg.manifest_json("wit/example/api", "0.2.0");
    assert_eq!(manifest["annotations"]["org.opencontainers.image.version"], "0.2.0", "{manifest:#}");
    assert_eq!(manifest["layers"][0]["annotations"]["org.opencontainers.image.title"], "api.wasm");
    let config_digest = str_field(&manifest["config"], "digest");
    let config = parse_json("config", &reg.blob("wit/example/api", config_digest).expect("config blob"));
    assert_eq!(
        config["component"]["exports"],
        serde_json::json!(["example:api/shapes-provider@0.2.0", "example:api/shapes@0.2.0"])
    );
    assert_eq!(config["component"]["imports"], serde_json::json!([]));

    // A second publish of the same version is refused; --force overwrites.
    let again = wit(&dir, &cache, &["publish", "fixtures/api/wit"]).failure();
    assert!(again.stderr.contains("already exists"), "{again}");
    wit(&dir, &cache, &["publish", "fixtures/api/wit", "--force"]).success();

    wit(&dir, &cache, &["fetch"]).success();
    let expected_dir = testdata().join("app/expected");
    for (rel, text) in tree(&dir, "wit/deps") {
        let expected =
            std::fs::read_to_string(expected_dir.join("deps").join(&rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(text, expected, "wit/deps/{rel}");
    }
    let names: Vec<String> = tree(&dir, "wit/deps").into_iter().map(|(p, _)| p).collect();
    assert_eq!(names, ["example-api-0.2.0/package.wit", "example-types-0.1.0/package.wit"]);
    let lock = String::from_utf8(dir.read("wkg.lock")).unwrap();
    let expected_lock =
        std::fs::read_to_string(expected_dir.join("wkg.lock")).unwrap().replace("registry.test", &reg.host());
    assert_eq!(lock, expected_lock);
    assert_eq!(parses(&dir.path("wit")), "example:app@0.1.0");
    wit(&dir, &cache, &["check"]).success();

    // `get` decodes a package as WIT (with its dependencies nested).
    let got = wit(&dir, &cache, &["get", "example:api", "-o", "-"]).success();
    assert!(got.stdout.starts_with("package example:api@0.2.0;"), "{got}");
    assert!(got.stdout.contains("package example:types@0.1.0 {"), "{got}");
}

#[test]
fn warm_fetch_stays_off_the_network_and_offline_works_with_the_registry_gone() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_env(&dir);
    example_project(&dir, &reg);
    wit(&dir, &cache, &["publish", "fixtures/types/wit"]).success();
    wit(&dir, &cache, &["publish", "fixtures/api/wit"]).success();

    let before = reg.requests().len();
    let started = Instant::now();
    let cold = wit(&dir, &cache, &["fetch", "--json"]).success().stdout_json();
    let cold_time = started.elapsed();
    assert_eq!(cold["network"], true, "{cold:#}");
    let after_cold = reg.requests().len();
    assert!(after_cold > before);

    let started = Instant::now();
    let warm = wit(&dir, &cache, &["fetch", "--json"]).success().stdout_json();
    let warm_time = started.elapsed();
    assert_eq!(warm["network"], false, "{warm:#}");
    assert_eq!(warm["depsWritten"], false, "{warm:#}");
    let requests = reg.requests();
    assert_eq!(requests.len(), after_cold, "a warm fetch sends nothing: {:#?}", &requests[after_cold..]);
    eprintln!("wit fetch timings: cold {cold_time:?}, warm {warm_time:?}");

    // With the registry gone, the lock and the cache rebuild a deleted tree.
    let expected = tree(&dir, "wit/deps");
    drop(reg);
    std::fs::remove_dir_all(dir.path("wit/deps")).unwrap();
    wit(&dir, &cache, &["fetch", "--offline"]).success();
    assert_eq!(tree(&dir, "wit/deps"), expected);
    std::fs::remove_dir_all(dir.path("wit/deps")).unwrap();
    // Even without --offline: locked, cached content needs no registry.
    wit(&dir, &cache, &["fetch"]).success();
    assert_eq!(tree(&dir, "wit/deps"), expected);
}

#[test]
fn check_reports_a_modified_dependency() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_env(&dir);
    example_project(&dir, &reg);
    wit(&dir, &cache, &["publish", "fixtures/types/wit"]).success();
    wit(&dir, &cache, &["publish", "fixtures/api/wit"]).success();
    wit(&dir, &cache, &["fetch"]).success();
    wit(&dir, &cache, &["check"]).success();

    let file = "wit/deps/example-types-0.1.0/package.wit";
    let text = String::from_utf8(dir.read(file)).unwrap().replace("y: s32", "y: s64");
    dir.write(file, text.as_bytes());
    let run = wit(&dir, &cache, &["check"]).failure();
    assert!(run.stdout.contains("modified  example-types-0.1.0/package.wit"), "{run}");
    assert!(run.stdout.contains("-     y: s32,") && run.stdout.contains("+     y: s64,"), "{run}");
    // fetch repairs it.
    wit(&dir, &cache, &["fetch"]).success();
    wit(&dir, &cache, &["check"]).success();
    // A lock that no longer covers the world is reported too.
    dir.write("wit/world.wit", b"package example:app@0.1.0;\nworld app {\n  import example:types/types@0.1.0;\n}\n");
    let run = wit(&dir, &cache, &["check"]).failure();
    assert!(run.stdout.contains("unlocked   example:types@0.1.0"), "{run}");
    assert!(run.stdout.contains("stale      example:api =0.2.0"), "{run}");
}

#[test]
fn update_picks_a_newly_published_version_and_ignores_other_tags() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_env(&dir);
    example_project(&dir, &reg);
    dir.write("wit/world.wit", b"package example:app@0.1.0;\nworld app {\n  import example:types/types;\n}\n");
    wit(&dir, &cache, &["publish", "fixtures/types/wit"]).success();
    wit(&dir, &cache, &["fetch"]).success();
    assert!(dir.path("wit/deps/example-types-0.1.0/package.wit").is_file());
    assert!(String::from_utf8(dir.read("wkg.lock")).unwrap().contains("requirement = \"*\"\nversion = \"0.1.0\""));

    // 0.1.1 appears, and a non-semver tag that sorts after it.
    let v2 = std::fs::read_to_string(testdata().join("types/wit/types.wit")).unwrap().replace("0.1.0", "0.1.1");
    dir.write("v2/wit/types.wit", v2.as_bytes());
    wit(&dir, &cache, &["publish", "v2/wit"]).success();
    wit(&dir, &cache, &["build", "--wit-dir", "v2/wit", "-o", "v2.wasm"]).success();
    dir.run(&["push", &reg.reference("wit/example/types:zzz-not-semver"), "v2.wasm"]).success();

    wit(&dir, &cache, &["fetch"]).success();
    assert!(dir.path("wit/deps/example-types-0.1.0").is_dir(), "fetch keeps the locked version");
    wit(&dir, &cache, &["update", "example:types"]).success();
    let names: Vec<String> = tree(&dir, "wit/deps").into_iter().map(|(p, _)| p).collect();
    assert_eq!(names, ["example-types-0.1.1/package.wit"]);
    assert!(String::from_utf8(dir.read("wkg.lock")).unwrap().contains("requirement = \"*\"\nversion = \"0.1.1\""));
    wit(&dir, &cache, &["check"]).success();
}

#[test]
fn two_different_packages_of_one_version_are_a_clear_conflict() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_env(&dir);
    example_project(&dir, &reg);
    wit(&dir, &cache, &["publish", "fixtures/types/wit"]).success();
    wit(&dir, &cache, &["publish", "fixtures/api/wit"]).success();
    // example:other@1.0.0 was built against a changed example:types@0.1.0.
    let changed = std::fs::read_to_string(testdata().join("types/wit/types.wit")).unwrap().replace("y: s32", "y: s64");
    dir.write("other/wit/deps/example-types-0.1.0/package.wit", changed.as_bytes());
    dir.write(
        "other/wit/other.wit",
        b"package example:other@1.0.0;\ninterface uses {\n  use example:types/types@0.1.0.{point};\n  f: func() -> point;\n}\n",
    );
    wit(&dir, &cache, &["publish", "other/wit"]).success();
    dir.write(
        "wit/world.wit",
        b"package example:app@0.1.0;\nworld app {\n  import example:api/shapes@0.2.0;\n  import example:other/uses@1.0.0;\n}\n",
    );
    let run = wit(&dir, &cache, &["fetch"]).failure();
    assert!(run.stderr.contains("conflict: two different packages claim to be example:types@0.1.0"), "{run}");
    assert!(run.stderr.contains("`types.point`"), "{run}");
    assert!(!dir.path("wkg.lock").exists(), "nothing written on a conflict");
}

/// The lock `wit fetch` writes for the app world: the expected file, for this registry.
fn expected_app_lock(reg: &Registry) -> String {
    std::fs::read_to_string(testdata().join("app/expected/wkg.lock")).unwrap().replace("registry.test", &reg.host())
}

#[test]
fn build_and_publish_resolve_what_wit_deps_lacks_like_wkg_without_writing_wit_deps() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_env(&dir);
    example_project(&dir, &reg);
    wit(&dir, &cache, &["publish", "fixtures/types/wit"]).success();
    wit(&dir, &cache, &["publish", "fixtures/api/wit"]).success();
    assert!(!dir.path("wit/deps").exists() && !dir.path("wkg.lock").exists());

    // No wit/deps: build resolves example:api (with the example:types it embeds) from the
    // registry, records it in wkg.lock, and leaves wit/deps alone.
    let built = wit(&dir, &cache, &["build", "-o", "resolved.wasm", "--json"]).success().stdout_json();
    assert_eq!(built["deps"], "resolved", "{built:#}");
    assert_eq!(built["lockWritten"], true, "{built:#}");
    assert_eq!(built["network"], true, "{built:#}");
    assert!(!dir.path("wit/deps").exists(), "build does not write wit/deps");
    let lock = String::from_utf8(dir.read("wkg.lock")).unwrap();
    assert_eq!(lock, expected_app_lock(&reg));
    let layer = reg.manifest_json("wit/example/api", "0.2.0")["layers"][0]["digest"].as_str().unwrap().to_string();
    assert!(lock.contains(&format!("digest = \"{layer}\"")), "the lock pins the published layer {layer}: {lock}");

    // The same bytes as building after `wit fetch`; with wit/deps complete, build neither
    // resolves nor touches the lock.
    wit(&dir, &cache, &["fetch"]).success();
    let before = reg.requests().len();
    std::fs::write(dir.path("wkg.lock"), format!("{lock}# kept\n")).unwrap();
    let from_tree = wit(&dir, &cache, &["build", "-o", "fetched.wasm", "--json"]).success().stdout_json();
    assert_eq!(from_tree["deps"], "wit/deps", "{from_tree:#}");
    assert_eq!(reg.requests().len(), before, "a build from wit/deps sends nothing");
    assert_eq!(String::from_utf8(dir.read("wkg.lock")).unwrap(), format!("{lock}# kept\n"), "lock untouched");
    assert!(dir.read("resolved.wasm") == dir.read("fetched.wasm"), "the bytes differ from a build after fetch");

    // A build of a world lacking one package of two resolves both, as fetch would.
    std::fs::remove_dir_all(dir.path("wit/deps/example-types-0.1.0")).unwrap();
    std::fs::remove_file(dir.path("wkg.lock")).unwrap();
    let partial = wit(&dir, &cache, &["build", "-o", "partial.wasm", "--json"]).success().stdout_json();
    assert_eq!(partial["deps"], "resolved", "{partial:#}");
    assert!(dir.read("partial.wasm") == dir.read("fetched.wasm"));
    assert_eq!(String::from_utf8(dir.read("wkg.lock")).unwrap(), lock);
    assert_eq!(tree(&dir, "wit/deps").len(), 1, "wit/deps left as it was");

    // Publish of the project's WIT directory does the same and pushes the same bytes.
    std::fs::remove_dir_all(dir.path("wit/deps")).unwrap();
    std::fs::remove_file(dir.path("wkg.lock")).unwrap();
    let published = wit(&dir, &cache, &["publish", "--json"]).success().stdout_json();
    assert_eq!(str_field(&published, "reference"), reg.reference("wit/example/app:0.1.0"));
    assert_eq!(published["deps"], "resolved", "{published:#}");
    assert_eq!(published["lockWritten"], true, "{published:#}");
    assert!(!dir.path("wit/deps").exists(), "publish does not write wit/deps");
    assert_eq!(String::from_utf8(dir.read("wkg.lock")).unwrap(), lock);
    let manifest = reg.manifest_json("wit/example/app", "0.1.0");
    let pushed = reg.blob("wit/example/app", manifest["layers"][0]["digest"].as_str().unwrap()).expect("layer");
    assert!(pushed == dir.read("fetched.wasm"), "publish pushes what build writes");

    // Publishing another package's directory resolves it too, but leaves the project's lock be.
    dir.write(
        "other/wit/uses.wit",
        b"package example:other@1.0.0;\ninterface uses {\n  use example:types/types@0.1.0.{point};\n}\n",
    );
    let other = wit(&dir, &cache, &["publish", "other/wit", "--json"]).success().stdout_json();
    assert_eq!(other["deps"], "resolved", "{other:#}");
    assert_eq!(other["lockWritten"], false, "{other:#}");
    assert_eq!(String::from_utf8(dir.read("wkg.lock")).unwrap(), lock);
    assert!(!dir.path("other/wit/deps").exists());
}

#[test]
fn offline_builds_use_the_lock_and_cache_and_a_cold_cache_names_the_package_and_the_command() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_env(&dir);
    example_project(&dir, &reg);
    wit(&dir, &cache, &["publish", "fixtures/types/wit"]).success();
    wit(&dir, &cache, &["publish", "fixtures/api/wit"]).success();
    wit(&dir, &cache, &["build", "-o", "online.wasm"]).success();
    let lock = dir.read("wkg.lock");

    // Warm: the registry stopped, offline or not.
    drop(reg);
    let offline = wit(&dir, &cache, &["build", "--offline", "-o", "offline.wasm", "--json"]).success().stdout_json();
    assert_eq!(offline["deps"], "resolved", "{offline:#}");
    assert_eq!(offline["network"], false, "{offline:#}");
    assert_eq!(offline["lockWritten"], false, "{offline:#}");
    assert!(dir.read("offline.wasm") == dir.read("online.wasm"));
    wit(&dir, &cache, &["build", "-o", "unreachable.wasm"]).success();
    assert!(dir.read("unreachable.wasm") == dir.read("online.wasm"));
    // Without the lock, the versions the cache holds stand in for the registry's tags.
    std::fs::remove_file(dir.path("wkg.lock")).unwrap();
    wit(&dir, &cache, &["build", "--offline", "-o", "unlocked.wasm"]).success();
    assert!(dir.read("unlocked.wasm") == dir.read("online.wasm"));
    assert_eq!(dir.read("wkg.lock"), lock);

    // Cold: an empty cache, offline.
    let cold = crate::util::fresh_cache(&dir);
    for args in [&["build", "--offline"][..], &["publish", "--offline", "--registry", "oci://127.0.0.1:9/wit"]] {
        let run = wit(&dir, &cold, args).failure();
        let line =
            run.stderr.lines().find(|l| l.contains("package example:api@0.2.0")).unwrap_or_else(|| panic!("{run}"));
        assert!(line.contains("is not in wit/deps or the cache"), "{run}");
        assert!(line.contains("run `wasmship wit fetch` without --offline"), "{run}");
        assert!(!dir.path("wit/deps").exists(), "{run}");
        assert_eq!(dir.read("wkg.lock"), lock, "the lock is left as it was");
    }
    assert!(!dir.path("example-app-0.1.0.wasm").exists());

    // Online, a namespace no registry serves.
    dir.write("wit/world.wit", b"package example:app@0.1.0;\nworld app {\n  import nowhere:thing/api@1.0.0;\n}\n");
    let run = wit(&dir, &cold, &["build"]).failure();
    assert!(
        run.stderr.contains("package nowhere:thing@1.0.0 is not in wit/deps, the cache or any configured registry"),
        "{run}"
    );
    assert!(run.stderr.contains("`wasmship wit fetch` fetches it"), "{run}");
    assert_eq!(run.stderr.lines().filter(|l| l.contains("nowhere:thing")).count(), 1, "one line: {run}");
}

/// A one-file HTTP server answering `/.well-known/wasm-pkg/registry.json` with `body` (404
/// for anything else) until the test ends; its `host:port`.
fn serve_registry_json(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let (status, content) = if request_line.starts_with("GET /.well-known/wasm-pkg/registry.json ") {
                ("200 OK", body.as_str())
            } else {
                ("404 Not Found", "")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{content}",
                content.len()
            );
        }
    });
    host
}

/// The WASI packages of this repository (`wit/deps` without the packager's own earlier
/// version), each in a directory of its own with the others as its `deps`, ready for
/// `wit publish`.
fn stage_wasi_packages(dir: &TestDir) -> Vec<String> {
    let repo_deps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/deps");
    let mut names: Vec<String> = std::fs::read_dir(&repo_deps)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with("packager-"))
        .collect();
    names.sort();
    for name in &names {
        copy_tree(dir, &repo_deps.join(name), &format!("wasi/{name}/wit"));
        for other in names.iter().filter(|o| *o != name) {
            copy_tree(dir, &repo_deps.join(other), &format!("wasi/{name}/wit/deps/{other}"));
        }
    }
    names
}

#[test]
fn wasi_http_resolves_transitively_through_a_registry_json_and_wkg_config() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_env(&dir);
    let metadata = serve_registry_json(format!(
        r#"{{"preferredProtocol":"oci","oci":{{"registry":"{}","namespacePrefix":"webassembly/"}}}}"#,
        reg.host()
    ));
    let config = dir.write("wkg/config.toml", format!("[namespace_registries]\nwasi = \"{metadata}\"\n").as_bytes());
    let config = config.display().to_string();
    let env = [("WKG_CONFIG_FILE", config.as_str())];

    for name in stage_wasi_packages(&dir) {
        wit_env(&dir, &cache, &env, &["publish", &format!("wasi/{name}/wit")]).success();
    }
    assert_eq!(reg.tags("webassembly/wasi/http"), Some(vec!["0.2.12".to_string()]));

    dir.write(
        "wit/world.wit",
        b"package example:client@0.1.0;\nworld client {\n  import wasi:http/outgoing-handler@0.2.12;\n}\n",
    );
    wit_env(&dir, &cache, &env, &["fetch"]).success();
    let names: Vec<String> = tree(&dir, "wit/deps").into_iter().map(|(p, _)| p).collect();
    for needed in ["wasi-http-0.2.12", "wasi-io-0.2.12", "wasi-clocks-0.2.12"] {
        assert!(names.contains(&format!("{needed}/package.wit")), "{needed} missing from {names:?}");
    }
    assert_eq!(parses(&dir.path("wit")), "example:client@0.1.0");
    let lock = String::from_utf8(dir.read("wkg.lock")).unwrap();
    assert!(lock.contains(&format!("name = \"wasi:http\"\nregistry = \"{metadata}\"")), "{lock}");
    wit_env(&dir, &cache, &env, &["check"]).success();
}

#[test]
fn the_flat_registry_json_and_wkg_default_registry_map_packages() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_env(&dir);
    let metadata = serve_registry_json(format!(r#"{{"ociRegistry":"{}","ociNamespacePrefix":"flat/"}}"#, reg.host()));
    let config = dir.write("wkg/config.toml", format!("default_registry = \"{metadata}\"\n").as_bytes());
    let config = config.display().to_string();
    let env = [("WKG_CONFIG_FILE", config.as_str())];
    copy_tree(&dir, &testdata().join("types"), "fixtures/types");
    wit_env(&dir, &cache, &env, &["publish", "fixtures/types/wit"]).success();
    assert_eq!(reg.tags("flat/example/types"), Some(vec!["0.1.0".to_string()]));

    dir.write("wit/world.wit", b"package example:app@0.1.0;\nworld app {\n  import example:types/types@0.1.0;\n}\n");
    wit_env(&dir, &cache, &env, &["fetch"]).success();
    assert!(dir.path("wit/deps/example-types-0.1.0/package.wit").is_file());
    // The registry.json answer is cached with the packages: offline still maps the package.
    wit_env(&dir, &cache, &env, &["get", "example:types@0.1.0", "--offline", "--format", "wasm", "-o", "t.wasm"])
        .success();
    assert!(dir.read("t.wasm").starts_with(b"\0asm"));
}

#[test]
fn wit_fetch_with_verify_key_takes_only_signed_packages_online_and_offline() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let cache = cache_env(&dir);
    example_project(&dir, &reg);
    wit(&dir, &cache, &["publish", "fixtures/types/wit"]).success();
    wit(&dir, &cache, &["publish", "fixtures/api/wit"]).success();
    let password = [("COSIGN_PASSWORD", "wit-signing")];
    dir.run_env(&["key", "generate"], &password).success();
    dir.run_env(&["key", "generate", "--output-key-prefix", "stranger"], &password).success();
    let sign = |repository: &str| {
        let reference = reg.reference(repository);
        dir.run_env(&["sign", &reference, "--key", "cosign.key"], &password).success();
    };

    // Only types is signed: api, the world's dependency, is refused and nothing is written.
    // (types itself comes inside api's binary package, which is what is signed.)
    sign("wit/example/types:0.1.0");
    let run = wit(&dir, &cache, &["fetch", "--verify-key", "cosign.pub", "--json"]).failure();
    assert_eq!(str_field(&run.stderr_json(), "kind"), "unverified", "{run}");
    assert!(run.stderr.contains("wit/example/api@sha256:"), "the unsigned package is named: {run}");
    assert!(!dir.path("wit/deps").exists(), "wit/deps was written");
    assert!(!dir.path("wkg.lock").exists(), "wkg.lock was written");

    // Signed: fetched, the tree the fixtures expect.
    sign("wit/example/api:0.2.0");
    wit(&dir, &cache, &["fetch", "--verify-key", "cosign.pub"]).success();
    let names: Vec<String> = tree(&dir, "wit/deps").into_iter().map(|(p, _)| p).collect();
    assert_eq!(names, ["example-api-0.2.0/package.wit", "example-types-0.1.0/package.wit"]);
    let expected = tree(&dir, "wit/deps");

    // Offline, the cache's record of what verified is checked, key by key.
    std::fs::remove_dir_all(dir.path("wit/deps")).unwrap();
    let run = wit(&dir, &cache, &["fetch", "--offline", "--verify-key", "stranger.pub"]).failure();
    assert!(run.stderr.contains("offline, and none of the signatures the cache saw verified"), "{run}");
    assert!(!dir.path("wit/deps").exists(), "wit/deps was written");
    wit(&dir, &cache, &["fetch", "--offline", "--verify-key", "cosign.pub"]).success();
    assert_eq!(tree(&dir, "wit/deps"), expected);

    // A policy naming another key refuses the locked, cached packages too: they are checked
    // online before they are taken from the cache.
    std::fs::remove_dir_all(dir.path("wit/deps")).unwrap();
    let policy =
        format!("[[rule]]\nprefix = \"{}/wit/\"\nrequire = \"signed\"\nkeys = [\"stranger.pub\"]\n", reg.host());
    dir.write("wasmship-policy.toml", policy.as_bytes());
    let run = wit(&dir, &cache, &["fetch"]).failure();
    assert!(run.stderr.contains("is by the given key(s)"), "{run}");
    assert!(!dir.path("wit/deps").exists(), "wit/deps was written");
    std::fs::remove_file(dir.path("wasmship-policy.toml")).unwrap();
    wit(&dir, &cache, &["fetch"]).success();
    assert_eq!(tree(&dir, "wit/deps"), expected);
}

#[test]
fn wit_fetch_goes_through_a_mirror_and_gets_the_same_tree() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let mirror = Registry::pull_through(&dir, &reg);
    let cache = cache_env(&dir);
    example_project(&dir, &reg);
    wit(&dir, &cache, &["publish", "fixtures/types/wit"]).success();
    wit(&dir, &cache, &["publish", "fixtures/api/wit"]).success();
    dir.write(
        "registries.conf",
        format!("[[registry]]\nprefix = \"{0}\"\n[[registry.mirror]]\nlocation = \"{1}\"\n", reg.host(), mirror.host())
            .as_bytes(),
    );

    let fetched = wit(&dir, &cache, &["fetch", "--registries-conf", "registries.conf", "-v"]).success();
    let expected_dir = testdata().join("app/expected");
    for (rel, text) in tree(&dir, "wit/deps") {
        let expected =
            std::fs::read_to_string(expected_dir.join("deps").join(&rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(text, expected, "wit/deps/{rel}");
    }
    assert_eq!(tree(&dir, "wit/deps").len(), 2, "{fetched}");
    // The package's layer came from the mirror, by the digest the registry resolved.
    let layer = reg.manifest_json("wit/example/api", "0.2.0")["layers"][0]["digest"].as_str().unwrap().to_owned();
    assert!(fetched.stderr.contains(&format!("blob {layer}: served by mirror {}", mirror.host())), "{fetched}");
    assert!(
        mirror.requests().iter().any(|r| r.is_blob_get(&layer) && r.status == 200),
        "the mirror's log shows the layer"
    );
}
