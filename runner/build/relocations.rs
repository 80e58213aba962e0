//! Packed relative relocations (`DT_RELR`) for the runner binary, where the system's linker
//! and C library support them.
//!
//! The runner is a position-independent executable with about 37 000 relative relocations
//! (wasmtime's and Cranelift's tables). Stored as `RELA` entries they take 900 KB that the
//! dynamic loader reads and applies at every start; packed they take 9 KB, and the loader's
//! work drops from about 0.9 ms to 0.1 ms (BENCHMARKS.md, "Start-up"). Address-space layout
//! randomisation stays as it is.
//!
//! Packing needs GNU ld 2.38, lld 15 or mold, and glibc 2.36 to run the result. Whether this
//! machine has them is probed by linking a tiny C program with the flag and running it: any
//! failure or linker warning means the runner is linked the usual way.

use std::env;
use std::fs;
use std::path::Path;
use std::process::Command;

/// The linker flag.
const FLAG: &str = "-Wl,-z,pack-relative-relocs";

/// Asks cargo to link the runner's binaries with packed relative relocations when the probe
/// in `out_dir` shows the toolchain supports them.
pub fn pack_when_supported(out_dir: &Path) {
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    let target = env::var("TARGET").unwrap_or_default();
    let host = env::var("HOST").unwrap_or_default();
    // Only for glibc Linux, and only when the probe can run here.
    if target != host || !target.contains("-linux-gnu") {
        return;
    }
    if probe(out_dir).is_some() {
        println!("cargo:rustc-link-arg-bins={FLAG}");
    }
}

/// Links and runs `int main(void) { return 0; }` with [`FLAG`] through the linker driver
/// rustc uses; `Some` when that worked without a word from the linker.
fn probe(out_dir: &Path) -> Option<()> {
    let driver = env::var_os("RUSTC_LINKER").unwrap_or_else(|| "cc".into());
    let source = out_dir.join("relr-probe.c");
    let program = out_dir.join("relr-probe");
    fs::write(&source, "int main(void) { return 0; }\n").ok()?;
    let linked =
        Command::new(driver).args(["-pie", "-fPIE", FLAG]).arg(&source).arg("-o").arg(&program).output().ok()?;
    if !linked.status.success() || !linked.stderr.is_empty() {
        return None;
    }
    Command::new(&program).status().ok()?.success().then_some(())
}
