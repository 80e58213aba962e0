//! The wasmtime engine the packager is compiled for and runs on, and the facts about it that
//! decide whether a precompiled component can be reused.

use std::hash::{DefaultHasher, Hash, Hasher};

use anyhow::Result;
use wasmtime::{Config, Engine};

/// The wasmtime version locked in `Cargo.lock` (found by `build.rs`).
pub const WASMTIME_VERSION: &str = env!("WASMSHIP_WASMTIME_VERSION");

/// The runner's target triple (precompiled code is native code).
pub const TARGET: &str = env!("WASMSHIP_RUNNER_TARGET");

/// An engine with wasmtime's defaults: Cranelift, parallel compilation, and async support
/// (always available in wasmtime 48 when the `async` feature is built in), which the
/// `wasi:http` host needs.
pub fn new() -> Result<Engine> {
    Ok(Engine::new(&Config::new())?)
}

/// A fingerprint of every engine setting that affects compiled code; engines with equal
/// fingerprints can share precompiled components.
pub fn fingerprint(engine: &Engine) -> u64 {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.finish()
}
