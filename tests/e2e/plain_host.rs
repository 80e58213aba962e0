//! The component under a plain WASI host, as `wasmtime run -S http --dir . wasmship.wasm ARGS`
//! runs it: only the working directory, preopened as `.`; no environment variables; WASI
//! HTTP's default outgoing handler; no runner. No cache directory is reachable there, so push,
//! inspect and pull go without one against the real registry and say so once on stderr, and
//! `drain` explains what to grant; nothing lands in the working directory by accident.

use std::path::Path;

use wasmtime_wasi::p2::bindings::Command;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx};

use crate::util::wasi_host::{compiled, host};
use crate::util::{Registry, TestDir, demo_component, parse_json, sha256_digest, str_field};

const NO_CACHE_NOTE: &str = "continuing without a cache";

#[derive(Debug)]
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Run the component's `wasi:cli/run` with `args`, `work` preopened as `.`.
fn run_plain(work: &Path, args: &[&str]) -> Outcome {
    run_granting(Some(work), args)
}

/// Run the component's `wasi:cli/run` with `args`, `work` (if any) preopened as `.`.
fn run_granting(work: Option<&Path>, args: &[&str]) -> Outcome {
    let stdout = MemoryOutputPipe::new(1 << 20);
    let stderr = MemoryOutputPipe::new(1 << 20);
    let mut builder = WasiCtx::builder();
    builder.arg("wasmship.wasm").args(args).stdout(stdout.clone()).stderr(stderr.clone());
    if let Some(work) = work {
        builder.preopened_dir(work, ".", FsPerms::ReadWrite).expect("preopen the working directory");
    }
    let wasi = builder.build();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let code = runtime.block_on(async {
        let (linker, mut store) = host(wasi);
        let command = Command::instantiate_async(&mut store, &compiled().1, &linker).await.expect("instantiate");
        match command.wasi_cli_run().call_run(&mut store).await {
            Ok(Ok(())) => 0,
            Ok(Err(())) => 1,
            Err(trap) => trap.downcast_ref::<I32Exit>().map(|exit| exit.0).unwrap_or_else(|| panic!("trap: {trap:?}")),
        }
    });
    let text = |pipe: MemoryOutputPipe| String::from_utf8_lossy(&pipe.contents()).into_owned();
    Outcome { code, stdout: text(stdout), stderr: text(stderr) }
}

#[test]
fn push_inspect_and_pull_work_without_a_cache_and_say_so_once() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let reference = reg.reference("demo/plain:1.0.0");

    let push = run_plain(dir.work(), &["push", &reference, "demo.wasm"]);
    assert_eq!(push.code, 0, "{push:#?}");

    let inspect = run_plain(dir.work(), &["inspect", &reference, "-o", "json"]);
    assert_eq!(inspect.code, 0, "{inspect:#?}");
    let info = parse_json("inspect output", inspect.stdout.as_bytes());
    assert_eq!(str_field(&info, "reference"), reference);
    assert!(inspect.stdout.contains(&sha256_digest(&wasm)), "the layer is listed: {info:#}");

    let start = reg.requests().len();
    let pull = run_plain(dir.work(), &["pull", &reference, "-d", "out.wasm"]);
    assert_eq!(pull.code, 0, "{pull:#?}");
    assert_eq!(dir.read("out.wasm"), wasm);
    assert!(
        reg.requests()[start..].iter().any(|r| r.method == "GET" && r.path.contains(&sha256_digest(&wasm))),
        "the layer came from the registry"
    );
    for run in [&inspect, &pull] {
        assert_eq!(run.stderr.matches(NO_CACHE_NOTE).count(), 1, "said once: {run:#?}");
    }
    assert_eq!(dir.listing(), ["demo.wasm", "out.wasm"].map(String::from).into(), "nothing else written");

    // Offline there is nothing to read from: a clear error.
    let offline = run_plain(dir.work(), &["pull", &reference, "-d", "offline.wasm", "--offline"]);
    assert_eq!(offline.code, 1, "{offline:#?}");
    assert!(offline.stderr.contains("no cache"), "{offline:#?}");
    assert!(!dir.path("offline.wasm").exists());

    // Nothing to drain either; said plainly, and nothing in the working directory touched.
    let drain = run_plain(dir.work(), &["drain", "oci"]);
    assert_eq!(drain.code, 1, "{drain:#?}");
    assert!(drain.stderr.contains("wasmtime run --dir"), "what to do: {drain:#?}");
    assert_eq!(dir.listing(), ["demo.wasm", "out.wasm"].map(String::from).into());
}

/// With no directory granted at all, a pull says that the host granted none, and how to
/// get one, instead of a bare "no such file or directory".
#[test]
fn a_pull_with_no_directory_granted_names_what_is_missing() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let reference = reg.reference("demo/ungranted:1.0.0");
    dir.write("demo.wasm", &demo_component());
    assert_eq!(run_plain(dir.work(), &["push", &reference, "demo.wasm"]).code, 0);

    let pull = run_granting(None, &["pull", &reference, "--no-cache"]);
    assert_eq!(pull.code, 1, "{pull:#?}");
    assert!(pull.stderr.contains("the working directory is not in a directory the host grants"), "{pull:#?}");
    assert!(!pull.stderr.contains("No such file or directory"), "{pull:#?}");
}
