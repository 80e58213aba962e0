//! The runner's outbound policy, `wasmship --allow-host HOST … COMMAND`: the named registries
//! may be contacted, and so may the token realms and redirect targets they send the packager
//! to; any other host is refused with a clear error before a request leaves the machine.

use crate::util::{
    Fault, FaultProxy, ObjectStore, Registry, TestDir, TokenServer, big_component, demo_component, digest_hex,
    fresh_cache, sha256_digest,
};

#[test]
fn a_named_registry_may_be_contacted() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let reference = reg.reference("demo/allowed:1.0.0");
    let host = reg.host();

    dir.run(&["--allow-host", &host, "push", &reference, "demo.wasm"]).success();
    let cache = fresh_cache(&dir);
    dir.run(&["--allow-host", &host, "pull", &reference, "--destination", "back.wasm", "--cache-dir", &cache])
        .success();
    assert_eq!(dir.read("back.wasm"), wasm);
}

#[test]
fn other_hosts_are_refused_clearly() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    dir.write("demo.wasm", &demo_component());
    let before = reg.requests().len();

    let run = dir
        .run(&["--allow-host", "registry.example.invalid", "push", &reg.reference("demo/refused:1.0.0"), "demo.wasm"])
        .failure();
    let text = run.stderr.to_lowercase();
    assert!(
        text.contains(&reg.host())
            && (text.contains("not allowed") || text.contains("denied") || text.contains("allow-host")),
        "the message must name the refused host and say why: {run}"
    );
    let after = reg.requests();
    assert_eq!(after.len(), before, "a refused host was contacted: {:#?}", &after[before..]);
    assert_eq!(reg.tags("demo/refused"), None);
}

#[test]
fn the_token_realm_of_an_allowed_registry_may_be_contacted() {
    const USER: &str = "e2e-allow-user";
    const PASSWORD: &str = "pw-allow-1d9e4c7b20";
    let dir = TestDir::new();
    let tokens = TokenServer::start(&dir, USER, PASSWORD);
    let reg = Registry::with_token_auth(&dir, &tokens);
    dir.write("demo.wasm", &demo_component());

    let host = reg.host();
    let reference = reg.reference("demo/realm:1.0.0");
    dir.run(&["--allow-host", &host, "push", &reference, "demo.wasm", "-u", USER, "-p", PASSWORD]).success();
    assert!(!tokens.requests().is_empty(), "the token realm ({}) was asked", tokens.host());
    assert!(reg.manifest("demo/realm", "1.0.0").is_some());
}

#[test]
fn a_redirect_target_of_an_allowed_registry_may_be_contacted() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = big_component(64 * 1024);
    dir.write("big.wasm", &wasm);
    dir.run(&["push", &reg.reference("demo/redirected:1.0.0"), "big.wasm"]).success();
    let storage = ObjectStore::start(wasm.clone());
    let proxy = FaultProxy::start(reg.port());
    let hex = digest_hex(&sha256_digest(&wasm)).to_owned();
    let location = storage.url(&format!("/bucket/{hex}"));
    proxy.inject(1, move |r| r.method == "GET" && r.path().ends_with(&hex), Fault::Redirect { status: 307, location });

    let host = proxy.host();
    let reference = proxy.reference("demo/redirected:1.0.0");
    // A fresh cache, so the layer is downloaded (through the redirect) rather than reused.
    let cache = fresh_cache(&dir);
    let args = ["--allow-host", &host, "pull", &reference, "--destination", "back.wasm", "--cache-dir", &cache];
    dir.run(&args).success();
    assert_eq!(dir.read("back.wasm"), wasm);
    assert_eq!(storage.requests().len(), 1, "the layer came through the redirect");
}
