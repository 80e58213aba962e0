//! What the binary refuses, and how: `:latest` and untagged references without
//! `--allow-latest`, files that are not WebAssembly, and the JSON shape of errors (with their
//! category, `kind`). A refusal
//! exits 1 and leaves the registry (and the working directory) untouched.

use crate::util::{NOT_WASM, Registry, TestDir, blob_uploads, demo_component, manifest_puts, str_field};

/// Asserts that `run` was refused with a message pointing at `--allow-latest`.
#[track_caller]
fn assert_refused_for_latest(run: &crate::util::Run) {
    assert!(run.stderr.contains("--allow-latest"), "the refusal should mention --allow-latest: {run}");
}

#[test]
fn latest_and_untagged_pushes_need_allow_latest() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    dir.write("demo.wasm", &demo_component());

    for reference in [reg.reference("demo/latest:latest"), reg.reference("demo/latest")] {
        let run = dir.run(&["push", &reference, "demo.wasm"]).failure();
        assert_refused_for_latest(&run);
    }
    let requests = reg.requests();
    assert!(
        blob_uploads(&requests).is_empty() && manifest_puts(&requests).is_empty(),
        "a refused push wrote to the registry: {requests:#?}"
    );
    assert_eq!(reg.tags("demo/latest"), None);

    dir.run(&["push", &reg.reference("demo/latest:latest"), "demo.wasm", "--allow-latest"]).success();
    assert_eq!(reg.tags("demo/latest"), Some(vec!["latest".to_owned()]));
}

/// An untagged reference means `latest` (which is why it needs `--allow-latest`): the push
/// must tag the manifest `latest`, and a pull of the same untagged reference must find it.
#[test]
fn untagged_push_with_allow_latest_is_tagged_latest() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let reference = reg.reference("demo/untagged");

    dir.run(&["push", &reference, "demo.wasm", "--allow-latest"]).success();
    assert_eq!(reg.tags("demo/untagged"), Some(vec!["latest".to_owned()]), "an untagged push lands on `latest`");
    dir.run(&["pull", &reference, "--destination", "back.wasm", "--allow-latest"]).success();
    assert_eq!(dir.read("back.wasm"), wasm);
}

#[test]
fn latest_pull_needs_allow_latest() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let reference = reg.reference("demo/pull-latest:latest");
    dir.run(&["push", &reference, "demo.wasm", "--allow-latest"]).success();
    let before = dir.listing();

    let run = dir.run(&["pull", &reference, "--destination", "got.wasm"]).failure();
    assert_refused_for_latest(&run);
    assert_eq!(dir.listing(), before, "a refused pull wrote a file");

    dir.run(&["pull", &reference, "--destination", "got.wasm", "--allow-latest"]).success();
    assert_eq!(dir.read("got.wasm"), wasm);
}

#[test]
fn non_wasm_file_is_refused_before_reaching_the_registry() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    dir.write("script.sh", NOT_WASM);

    let run = dir.run(&["push", &reg.reference("demo/notwasm:1.0.0"), "script.sh"]).failure();
    let message = run.stderr.to_lowercase();
    assert!(
        message.contains("wasm") || message.contains("webassembly"),
        "the error should say the file is not WebAssembly: {run}"
    );
    let requests = reg.requests();
    let touched: Vec<_> = requests.iter().filter(|r| r.path.starts_with("/v2/demo/")).collect();
    assert!(touched.is_empty(), "a refused file reached the repository: {touched:#?}");
    assert_eq!(reg.tags("demo/notwasm"), None);
}

#[test]
fn json_errors_go_to_stderr_with_success_false() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    dir.write("script.sh", NOT_WASM);

    let push = dir.run(&["push", &reg.reference("demo/errors:1.0.0"), "script.sh", "-o", "json"]).failure();
    let err = push.stderr_json();
    assert_eq!(err["success"], false, "{err:#}");
    assert!(!str_field(&err, "error").is_empty(), "{err:#}");
    assert_eq!(err["kind"], "invalid-input", "{err:#}");

    let pull = dir.run(&["pull", &reg.reference("demo/errors:9.9.9"), "--output", "json"]).failure();
    let err = pull.stderr_json();
    assert_eq!(err["success"], false, "{err:#}");
    assert!(!str_field(&err, "error").is_empty(), "{err:#}");
    assert_eq!(err["kind"], "not-found", "{err:#}");
    assert!(!dir.path("errors.wasm").exists(), "a failed pull wrote its default destination");

    let latest = dir.run(&["pull", &reg.reference("demo/errors:latest"), "-o", "json"]).failure();
    assert_eq!(latest.stderr_json()["kind"], "policy", "{latest}");
    let size = dir.run(&["cache", "prune", "--max-size", "12X", "-o", "json"]).failure();
    assert_eq!(size.stderr_json()["kind"], "usage", "{size}");
    let reference = dir.run(&["inspect", "UPPER CASE!", "-o", "json"]).failure();
    assert_eq!(reference.stderr_json()["kind"], "invalid-reference", "{reference}");
}
