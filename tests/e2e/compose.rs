//! The composition examples (`examples/compose`): components that use the packager as a
//! library (`wasmship:packager/client@0.2.0`) and export `wasi:cli/run`, built for
//! wasm32-wasip2, joined with the packager component by `wac plug` into one component that
//! imports standard WASI 0.2 only, and run in a wasmtime host with WASI and WASI HTTP against
//! a real registry: `publish` with one preopened directory, `bytes` with none.
//!
//! Needs `wac` (wac-cli 0.12: the program `WAC` names, else `wac` on `PATH`; `.ci/run`
//! installs it) and the wasm32-wasip2 target. The examples are built once per test process,
//! into their workspace's own `target/`.

use std::ffi::OsString;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use wasmtime::component::Component;
use wasmtime_wasi::p2::bindings::Command as CliCommand;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};
use wit_parser::decoding::{DecodedWasm, decode};

use crate::util::wasi_host::{compiled, host};
use crate::util::{
    COMPONENT_HEADER, Registry, TestDir, WASM_LAYER, core_module, demo_component, parse_json, sha256_digest, str_field,
};

/// The examples' Cargo workspace.
const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/compose");
/// The packager component `build.rs` built: what the examples are composed with.
const PACKAGER_WASM: &str = env!("WASMSHIP_GUEST_WASM");
/// `CARGO_*` variables the examples' build keeps (the others configure this test's build):
/// where cargo lives, how it reaches registries, how it prints.
const KEPT_CARGO_VARS: &[&str] =
    &["CARGO_HOME", "CARGO_NET_", "CARGO_HTTP_", "CARGO_REGISTRIES_", "CARGO_REGISTRY_", "CARGO_TERM_"];
/// The version in the demo component's metadata (`DEMO_METADATA`).
const DEMO_VERSION: &str = "1.2.3";

/// What a composed example printed, and whether `wasi:cli/run` returned `ok`.
struct Outcome {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// `publish DIR REPOSITORY` pushes the newest component of DIR's release build directory,
/// tagged with the version in its metadata, and prints the manifest's digest.
#[tokio::test(flavor = "current_thread")]
async fn publish_pushes_the_newest_build_tagged_with_its_version() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let composed = composed(&dir, "publish");

    // A project with two builds: an older one (a core module without a version) and the
    // demo component.
    let project = dir.root().join("project");
    let release = project.join("target/wasm32-wasip2/release");
    fs::create_dir_all(&release).unwrap();
    let older = release.join("older.wasm");
    fs::write(&older, core_module()).unwrap();
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    File::options().write(true).open(&older).unwrap().set_modified(an_hour_ago).unwrap();
    let demo = demo_component();
    fs::write(release.join("demo.wasm"), &demo).unwrap();

    let project_arg = project.to_str().unwrap();
    let repository = reg.reference("examples/demo");
    let mut wasi = WasiCtx::builder();
    wasi.preopened_dir(&project, project_arg, FsPerms::ReadOnly).unwrap();
    let run = run(&composed, wasi, &["publish", project_arg, &repository]).await;
    assert!(run.ok, "publish failed:\n{}", run.stderr);

    let served = reg.manifest("examples/demo", DEMO_VERSION).expect("the version's tag exists after publish");
    assert_eq!(run.stdout.trim(), served.digest, "stderr:\n{}", run.stderr);
    assert_eq!(served.digest, sha256_digest(&served.bytes));
    assert_eq!(reg.tags("examples/demo"), Some(vec![DEMO_VERSION.to_owned()]));

    let manifest = parse_json("manifest", &served.bytes);
    let annotations = &manifest["annotations"];
    assert_eq!(str_field(annotations, "org.opencontainers.image.version"), DEMO_VERSION, "{manifest:#}");
    let layers = manifest["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 1, "{manifest:#}");
    assert_eq!(str_field(&layers[0], "mediaType"), WASM_LAYER);
    assert_eq!(str_field(&layers[0]["annotations"], "org.opencontainers.image.title"), "demo.wasm");
    let layer = reg.blob("examples/demo", str_field(&layers[0], "digest")).expect("the layer is in the registry");
    assert_eq!(layer, demo, "the layer is the file's bytes");
}

/// `publish` refuses a directory whose newest build has no version, naming the fix.
#[tokio::test(flavor = "current_thread")]
async fn publish_needs_a_version() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let composed = composed(&dir, "publish");
    let project = dir.root().join("unversioned");
    fs::create_dir_all(&project).unwrap();
    fs::write(project.join("module.wasm"), core_module()).unwrap();

    let project_arg = project.to_str().unwrap();
    let mut wasi = WasiCtx::builder();
    wasi.preopened_dir(&project, project_arg, FsPerms::ReadOnly).unwrap();
    let run = run(&composed, wasi, &["publish", project_arg, &reg.reference("examples/unversioned")]).await;
    assert!(!run.ok, "publish succeeded:\n{}", run.stdout);
    assert!(run.stderr.contains("no version") && run.stderr.contains("wasm-tools metadata add"), "{}", run.stderr);
    assert_eq!(reg.tags("examples/unversioned"), None);
}

/// `bytes REFERENCE`, granted no directory at all, pushes a component it made in memory to a
/// registry behind Basic auth with the login it was given, pulls it back and prints the
/// manifest's digest.
#[tokio::test(flavor = "current_thread")]
async fn bytes_round_trips_without_a_filesystem() {
    let dir = TestDir::new();
    let reg = Registry::with_htpasswd(&dir, "alice", "s3cret-pass");
    assert_eq!(reg.anonymous_status("/v2/"), 401, "the registry wants a login");
    let composed = composed(&dir, "bytes");
    let (imports, _) = world_names(&fs::read(examples().join("bytes.wasm")).unwrap());
    assert!(!imports.iter().any(|i| i.starts_with("wasi:filesystem/")), "bytes imports {imports:?}");

    let mut wasi = WasiCtx::builder();
    wasi.env("REGISTRY_USERNAME", "alice").env("REGISTRY_PASSWORD", "s3cret-pass");
    let run = run(&composed, wasi, &["bytes", &reg.reference("examples/bytes:v1")]).await;
    assert!(run.ok, "bytes failed:\n{}", run.stderr);
    assert!(!run.stderr.contains("s3cret-pass"), "{}", run.stderr);

    let served = reg.manifest("examples/bytes", "v1").expect("the tag exists after the push");
    assert_eq!(run.stdout.trim(), served.digest, "stderr:\n{}", run.stderr);
    assert_eq!(served.digest, sha256_digest(&served.bytes));
    let manifest = parse_json("manifest", &served.bytes);
    let layers = manifest["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 1, "{manifest:#}");
    assert_eq!(str_field(&layers[0], "mediaType"), WASM_LAYER);
    let layer = reg.blob("examples/bytes", str_field(&layers[0], "digest")).expect("the layer is in the registry");
    assert_eq!(layer[..8], COMPONENT_HEADER, "the layer is a component");
    let (_, exports) = world_names(&layer);
    assert_eq!(exports, ["answer"], "the example's sample component");
}

/// The `wasmship` runner runs a composed component (one without a plan) with what its own
/// flags grant and nothing else: the `--dir` directories and the `--allow-host` hosts.
#[test]
fn the_runner_grants_a_composed_component_its_flags_only() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let composed = composed(&dir, "publish");
    let composed = composed.to_str().unwrap();
    let demo = demo_component();
    dir.write("project/demo.wasm", &demo);
    let host = reg.host();

    let repository = reg.reference("examples/runner");
    let run = dir.run(&["--component", composed, "--dir", "project", "--allow-host", &host, "project", &repository]);
    let run = run.success();
    let served = reg.manifest("examples/runner", DEMO_VERSION).expect("published through the runner");
    assert_eq!(run.stdout.trim(), served.digest, "{run}");
    let manifest = parse_json("manifest", &served.bytes);
    let layer = reg.blob("examples/runner", str_field(&manifest["layers"][0], "digest")).expect("the layer");
    assert_eq!(layer, demo);

    // No --allow-host: no network at all, and the refusal says which flag grants it.
    let denied = dir.run(&["--component", composed, "--dir", "project", "project", &reg.reference("examples/denied")]);
    let denied = denied.failure();
    assert!(denied.stderr.contains(&format!("--allow-host {host}")), "{denied}");
    // No --dir: the project is not there to read.
    let hidden =
        dir.run(&["--component", composed, "--allow-host", &host, "project", &reg.reference("examples/hidden")]);
    hidden.failure();
    assert_eq!((reg.tags("examples/denied"), reg.tags("examples/hidden")), (None, None));
    // The packager itself is granted from its plan, never from --dir.
    let refused = dir.run(&["--dir", "project", "inspect", &repository]).failure();
    assert!(refused.stderr.contains("--dir is for components without a plan"), "{refused}");
}

/// `name`'s component joined with the packager by `wac plug` (in `dir`'s root), after
/// checking that it imports standard WASI 0.2 only and still exports `wasi:cli/run`.
fn composed(dir: &TestDir, name: &str) -> PathBuf {
    let example = examples().join(format!("{name}.wasm"));
    let (imports, _) = world_names(&fs::read(&example).unwrap());
    assert!(imports.iter().any(|i| i.starts_with("wasmship:packager/client@0.2")), "{name} imports {imports:?}");

    let out = dir.root().join(format!("{name}.composed.wasm"));
    let wac = wac();
    let plug = Command::new(&wac)
        .arg("plug")
        .arg(&example)
        .arg("--plug")
        .arg(PACKAGER_WASM)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", wac.display()));
    assert!(plug.status.success(), "wac plug {name} failed: {}", String::from_utf8_lossy(&plug.stderr));

    let (imports, exports) = world_names(&fs::read(&out).unwrap());
    let foreign: Vec<&String> = imports.iter().filter(|i| !is_wasi_0_2(i)).collect();
    assert!(foreign.is_empty(), "composed {name} imports more than WASI 0.2: {foreign:?} (all: {imports:?})");
    assert!(exports.iter().any(|e| e.starts_with("wasi:cli/run@0.2.")), "composed {name} exports {exports:?}");
    out
}

/// Whether `name` is an interface of a WASI 0.2 package (`wasi:http/types@0.2.12`).
fn is_wasi_0_2(name: &str) -> bool {
    name.starts_with("wasi:") && name.split_once('@').is_some_and(|(_, version)| version.starts_with("0.2."))
}

/// What a component imports and exports, by name (`wasi:cli/run@0.2.12`, `answer`).
fn world_names(wasm: &[u8]) -> (Vec<String>, Vec<String>) {
    let DecodedWasm::Component(resolve, world) = decode(wasm).expect("decode the component's type") else {
        panic!("not a component");
    };
    let world = &resolve.worlds[world];
    let imports = world.imports.keys().map(|key| resolve.name_world_key(key)).collect();
    let exports = world.exports.keys().map(|key| resolve.name_world_key(key)).collect();
    (imports, exports)
}

/// The directory holding the examples' release builds, built once per test process.
fn examples() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target_dir = Path::new(EXAMPLES).join("target");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--release", "--locked", "--target", "wasm32-wasip2", "--manifest-path"])
            .arg(Path::new(EXAMPLES).join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir);
        // This test's own build settings are not the examples'.
        for (name, _) in std::env::vars_os() {
            let Some(name) = name.to_str() else { continue };
            let kept = KEPT_CARGO_VARS.iter().any(|prefix| name.starts_with(prefix));
            if (name.starts_with("CARGO_") && !kept) || name.starts_with("RUSTFLAGS") || name == "RUSTC_WRAPPER" {
                cmd.env_remove(name);
            }
        }
        let out = cmd.output().expect("run cargo to build the composition examples");
        assert!(out.status.success(), "building examples/compose failed:\n{}", String::from_utf8_lossy(&out.stderr));
        target_dir.join("wasm32-wasip2/release")
    })
}

/// The `wac` program: `WAC`, else `wac` on `PATH`; fails the test with the fix when missing.
fn wac() -> PathBuf {
    let wac = std::env::var_os("WAC").map_or_else(|| PathBuf::from("wac"), PathBuf::from);
    let fix = "the composition tests need wac-cli 0.12 (`cargo install --locked wac-cli --version 0.12.0`, \
               which .ci/run does); set WAC to its path when it is not on PATH";
    match Command::new(&wac).arg("--version").output() {
        Ok(out) if out.status.success() => wac,
        Ok(out) => panic!("`{} --version` failed ({}): {fix}", wac.display(), out.status),
        Err(e) => panic!("cannot run `{}` ({e}): {fix}", wac.display()),
    }
}

/// Runs the composed component `wasm` as a command with `args` (the program's name first)
/// in a host with WASI, as `wasi` grants, and WASI HTTP; stdout and stderr are kept.
async fn run(wasm: &Path, mut wasi: WasiCtxBuilder, args: &[&str]) -> Outcome {
    let stdout = MemoryOutputPipe::new(1 << 20);
    let stderr = MemoryOutputPipe::new(1 << 20);
    wasi.args(args).stdout(stdout.clone()).stderr(stderr.clone());
    let (engine, _) = compiled();
    let component = Component::from_file(engine, wasm).expect("compile the composed component");
    let (linker, mut store) = host(wasi.build());
    let command = CliCommand::instantiate_async(&mut store, &component, &linker)
        .await
        .expect("instantiate the composed component");
    let result = command.wasi_cli_run().call_run(&mut store).await;
    let text = |pipe: &MemoryOutputPipe| String::from_utf8_lossy(&pipe.contents()).into_owned();
    let (stdout, stderr) = (text(&stdout), text(&stderr));
    match result {
        Ok(status) => Outcome { ok: status.is_ok(), stdout, stderr },
        Err(trap) => panic!("{} trapped: {trap:?}\nstderr:\n{stderr}", args[0]),
    }
}
