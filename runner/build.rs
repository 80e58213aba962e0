//! Builds the packager guest (`wasmship.wasm`, a `wasm32-wasip2` component) so the runner can
//! embed it, and exports to the runner's compilation:
//! - `WASMSHIP_GUEST_WASM`: path of the component (for `include_bytes!` and tests);
//! - `WASMSHIP_GUEST_SHA256`: its sha256 in hex, so start-up never hashes megabytes;
//! - `WASMSHIP_WASMTIME_VERSION`: the wasmtime version locked in `Cargo.lock`;
//! - `WASMSHIP_RUNNER_TARGET`: the runner's target triple.
//!
//! The guest is built by a nested `cargo build` into its own target directory (`<target>/guest`):
//! sharing the outer build's directory would wait forever on the lock the outer build holds.
//! Variables describing the outer build (flags, wrappers, build-script inputs) are removed so
//! they cannot leak into a build for another target.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

const GUEST_TARGET: &str = "wasm32-wasip2";
const GUEST_PACKAGE: &str = "wasmship";
/// The cargo profile of the guest build (the workspace's `Cargo.toml`: size over speed, except
/// on the byte path).
const GUEST_PROFILE: &str = "guest";

/// `CARGO_*` variables the nested build keeps: where cargo lives, how it reaches the network
/// and registries, how it prints, and the jobserver shared with the outer build.
const KEPT_CARGO_VARS: &[&str] = &[
    "CARGO_HOME",
    "CARGO_MAKEFLAGS",
    "CARGO_NET_",
    "CARGO_HTTP_",
    "CARGO_REGISTRIES_",
    "CARGO_REGISTRY_",
    "CARGO_TERM_",
];

/// Other variables that belong to the outer build (set by cargo for this build script, or by
/// the user for the host build) and must not reach the guest build.
const REMOVED_VARS: &[&str] = &[
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_LINKER",
    "CLIPPY_ARGS",
    "CLIPPY_CONF_DIR",
    "OUT_DIR",
    "TARGET",
    "HOST",
    "NUM_JOBS",
    "OPT_LEVEL",
    "DEBUG",
    "PROFILE",
];

fn main() {
    if let Err(message) = run() {
        // A build script's stderr is shown when it fails; keep the cause on the last line.
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR")?);
    let workspace = manifest_dir.parent().ok_or("the runner crate has no parent directory")?.to_path_buf();

    for input in ["src", "wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", workspace.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    check_guest_target_installed()?;

    // A relative `CARGO_TARGET_DIR` is taken from the workspace root: the directory cargo was
    // started in is not known here.
    let target_dir = match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => absolute(&workspace, Path::new(&dir)).join("guest"),
        None => workspace.join("target").join("guest"),
    };
    build_guest(&workspace, &target_dir)?;

    let wasm = target_dir.join(GUEST_TARGET).join(GUEST_PROFILE).join(format!("{GUEST_PACKAGE}.wasm"));
    let bytes = fs::read(&wasm).map_err(|e| format!("the guest build produced no {}: {e}", wasm.display()))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));

    let wasmtime_version = locked_version(&workspace.join("Cargo.lock"), "wasmtime")?;
    println!("cargo:rustc-env=WASMSHIP_GUEST_WASM={}", wasm.display());
    println!("cargo:rustc-env=WASMSHIP_GUEST_SHA256={sha256}");
    println!("cargo:rustc-env=WASMSHIP_WASMTIME_VERSION={wasmtime_version}");
    println!("cargo:rustc-env=WASMSHIP_RUNNER_TARGET={}", env_var("TARGET")?);
    Ok(())
}

/// Runs `cargo build --profile guest --lib -p wasmship --target wasm32-wasip2` for the guest.
fn build_guest(workspace: &Path, target_dir: &Path) -> Result<(), String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .arg("build")
        .args(["--profile", GUEST_PROFILE])
        .arg("--lib")
        .args(["-p", GUEST_PACKAGE])
        .args(["--target", GUEST_TARGET])
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    for (name, _) in env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let outer_cargo_var = name.starts_with("CARGO_") && !KEPT_CARGO_VARS.iter().any(|k| name.starts_with(k));
        if outer_cargo_var || name.starts_with("DEP_") || REMOVED_VARS.contains(&name) {
            cmd.env_remove(name);
        }
    }
    // An inherited `build.build-dir` would point back at the outer build's locked
    // directory; keep the guest's intermediate files beside its output.
    cmd.env("CARGO_BUILD_BUILD_DIR", target_dir);
    // Cargo's stdout is reserved for `cargo:` directives; send the nested build's to stderr.
    cmd.stdout(Stdio::from(std::io::stderr()));

    eprintln!("running: {cmd:?}");
    let status = cmd.status().map_err(|e| format!("cannot run cargo for the guest build: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the {GUEST_PACKAGE} guest for {GUEST_TARGET} failed ({status}); \
             see the cargo output above"
        ));
    }
    Ok(())
}

/// Fails early, with the fix, when the standard library for the guest target is missing.
fn check_guest_target_installed() -> Result<(), String> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", Path::new(&rustc).display()))?;
    if !output.status.success() {
        return Err("`rustc --print sysroot` failed".into());
    }
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let std_dir = Path::new(&sysroot).join("lib").join("rustlib").join(GUEST_TARGET).join("lib");
    if !std_dir.is_dir() {
        return Err(format!(
            "the Rust target {GUEST_TARGET} is not installed (no {}); \
             run `rustup target add {GUEST_TARGET}`",
            std_dir.display()
        ));
    }
    Ok(())
}

/// The version of `package` recorded in a `Cargo.lock` (the first entry of that name).
fn locked_version(lock: &Path, package: &str) -> Result<String, String> {
    let text = fs::read_to_string(lock).map_err(|e| format!("cannot read {}: {e}", lock.display()))?;
    let name_line = format!("name = \"{package}\"");
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == name_line {
            let version =
                lines.next().and_then(|l| l.trim().strip_prefix("version = \"")).and_then(|v| v.strip_suffix('"'));
            if let Some(version) = version {
                return Ok(version.to_owned());
            }
        }
    }
    Err(format!("{package} is not in {}", lock.display()))
}

fn absolute(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_path_buf() } else { base.join(path) }
}

fn env_var(name: &str) -> Result<String, String> {
    env::var(name).map_err(|_| format!("cargo did not set {name}"))
}
