//! The Docker/OCI token flow against a registry in `auth.token` mode and the test's own token
//! server (ES256 JWTs with an `x5c` certificate the registry trusts): push and pull with the
//! right scopes and Basic credentials on the token request, one token per scope while it lives,
//! `access_token` answers, renewal of short-lived tokens during a long push (through a proxy
//! that refuses expired tokens outright), a fresh token after one is refused mid-push, wkg's
//! per-host bearer variable, and the failures: a wrong password, no credentials, a registry
//! that refuses every token.

use crate::util::{
    Fault, FaultProxy, Registry, Run, TestDir, TokenField, TokenServer, assert_conceals, basic_authorization,
    big_component, blob_uploads, demo_component, digest_hex, fresh_cache, manifest_puts, sha256_digest,
};

const USER: &str = "e2e-token-user";
const PASSWORD: &str = "pw-token-5be1f09d72";
const WRONG: &str = "pw-wrong-c4e9a0b713";
const CREDS: [&str; 4] = ["-u", USER, "-p", PASSWORD];

/// The token service's name, as the registry's challenge gives it.
const SERVICE: &str = "wasmship-e2e-registry";

fn setup() -> (TestDir, TokenServer, Registry) {
    let dir = TestDir::new();
    let tokens = TokenServer::start(&dir, USER, PASSWORD);
    let reg = Registry::with_token_auth(&dir, &tokens);
    assert_eq!(reg.anonymous_status("/v2/"), 401, "the registry must demand a token");
    (dir, tokens, reg)
}

/// Asserts that neither password, their `Authorization` values, nor any token the server
/// issued appears in what `run` printed.
#[track_caller]
fn conceals(run: &Run, tokens: &TokenServer) {
    let mut secrets: Vec<String> = tokens.issued();
    for password in [PASSWORD, WRONG] {
        secrets.push(password.to_owned());
        secrets.push(basic_authorization(USER, password).trim_start_matches("Basic ").to_owned());
    }
    assert_conceals(run, &secrets.iter().map(String::as_str).collect::<Vec<_>>());
}

/// Runs `args` (plus `extra`) in `dir`, checking no secret is printed.
fn run(dir: &TestDir, tokens: &TokenServer, args: &[&str], extra: &[&str], env: &[(&str, &str)]) -> Run {
    let all: Vec<&str> = args.iter().chain(extra).copied().collect();
    let run = dir.run_env(&all, env);
    conceals(&run, tokens);
    run
}

#[test]
fn push_and_pull_get_tokens_for_the_right_scopes() {
    let (dir, tokens, reg) = setup();
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let reference = reg.reference("demo/tok:1.0.0");

    run(&dir, &tokens, &["push", &reference, "demo.wasm"], &CREDS, &[]).success();
    let pushed = tokens.requests();
    assert_eq!(pushed.len(), 1, "a 300 s token serves the whole push: {pushed:#?}");
    let asked = &pushed[0];
    assert_eq!(asked.status, 200, "{asked:?}");
    assert_eq!(asked.service.as_deref(), Some(SERVICE), "{asked:?}");
    assert_eq!(asked.user.as_deref(), Some(USER), "Basic credentials go with the token request: {asked:?}");
    assert!(asked.scopes.iter().any(|s| s == "repository:demo/tok:pull,push"), "push asks for pull,push: {asked:?}");
    assert_eq!(reg.blob("demo/tok", &sha256_digest(&wasm)), Some(wasm.clone()));
    assert!(reg.manifest("demo/tok", "1.0.0").is_some(), "the manifest is stored");

    let cache = fresh_cache(&dir);
    run(&dir, &tokens, &["pull", &reference, "--destination", "back.wasm", "--cache-dir", &cache], &CREDS, &[])
        .success();
    assert_eq!(dir.read("back.wasm"), wasm);
    let pulled = &tokens.requests()[pushed.len()..];
    assert_eq!(pulled.len(), 1, "one token for the whole pull: {pulled:#?}");
    assert!(pulled[0].scopes.iter().any(|s| s == "repository:demo/tok:pull"), "{pulled:?}");
    assert!(pulled[0].scopes.iter().all(|s| !s.contains("push")), "a pull must not ask for push access: {pulled:?}");
    assert_eq!(pulled[0].user.as_deref(), Some(USER));

    let listed = run(&dir, &tokens, &["tags", &reference], &CREDS, &[]).success();
    assert_eq!(listed.stdout.lines().collect::<Vec<_>>(), ["1.0.0"], "{listed}");
}

#[test]
fn access_token_answers_are_accepted() {
    let (dir, tokens, reg) = setup();
    tokens.set_field(TokenField::AccessToken);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let reference = reg.reference("demo/oauth:1.0.0");

    run(&dir, &tokens, &["push", &reference, "demo.wasm"], &CREDS, &[]).success();
    let cache = fresh_cache(&dir);
    run(&dir, &tokens, &["pull", &reference, "--destination", "back.wasm", "--cache-dir", &cache], &CREDS, &[])
        .success();
    assert_eq!(dir.read("back.wasm"), wasm);
}

#[test]
fn short_lived_tokens_are_renewed_during_a_long_push() {
    let (dir, tokens, reg) = setup();
    // docker-registry accepts tokens up to 60 s past `exp`; the proxy in front does not.
    let proxy = FaultProxy::start(reg.port());
    proxy.refuse_expired_tokens(format!("Bearer realm=\"{}\",service=\"{SERVICE}\"", tokens.realm()));
    tokens.set_expires_in(2);
    // About 3 s to send the layer: the token used for its PUT has expired by the end.
    let wasm = big_component(768 * 1024);
    let layer_hex = digest_hex(&sha256_digest(&wasm)).to_owned();
    let slow_hex = layer_hex.clone();
    proxy.inject(
        1,
        move |r| r.method == "PUT" && r.target.contains("/blobs/uploads/") && r.target.contains(&slow_hex),
        Fault::SlowRequestBody { bytes_per_sec: 256 * 1024 },
    );
    dir.write("big.wasm", &wasm);

    let push = run(&dir, &tokens, &["push", &proxy.reference("demo/renew:1.0.0"), "big.wasm"], &CREDS, &[]);
    let exchanges = proxy.exchanges();
    let push = push.success();
    let refused: Vec<_> = exchanges.iter().filter(|e| e.fault.as_deref() == Some("expired token refused")).collect();
    assert!(refused.is_empty(), "requests went out with expired tokens: {refused:#?}\n{push}");
    let slow = exchanges
        .iter()
        .find(|e| e.fault.as_deref().is_some_and(|f| f.contains("slowed")))
        .unwrap_or_else(|| panic!("the layer upload never went through the slow path: {exchanges:#?}"));
    assert_eq!(slow.status, Some(201), "{slow:?}");
    let asked = tokens.requests();
    assert!(asked.len() >= 2, "a 2 s token must be renewed in a push that takes longer: {asked:#?}");
    assert!(
        asked.iter().any(|t| t.at > slow.started),
        "no token was fetched after the slow upload, so the manifest went with an expired one: {asked:#?}"
    );
    assert!(asked.iter().all(|t| t.status == 200 && t.user.as_deref() == Some(USER)), "{asked:#?}");
    assert_eq!(reg.blob("demo/renew", &sha256_digest(&wasm)), Some(wasm));
    assert!(reg.manifest("demo/renew", "1.0.0").is_some());
}

#[test]
fn a_token_refused_mid_push_is_replaced_once() {
    let (dir, tokens, reg) = setup();
    // The token is good for 300 s, but the manifest PUT is answered 401 with the registry's
    // challenge once, as for a revoked token: the client must fetch a new token and repeat.
    let proxy = FaultProxy::start(reg.port());
    let challenge = format!(
        "Bearer realm=\"{}\",service=\"{SERVICE}\",scope=\"repository:demo/revoked:pull,push\"",
        tokens.realm()
    );
    proxy.inject(
        1,
        |r| r.method == "PUT" && r.path().contains("/manifests/"),
        Fault::Status { status: 401, headers: vec![("WWW-Authenticate".into(), challenge)] },
    );
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);

    run(&dir, &tokens, &["push", &proxy.reference("demo/revoked:1.0.0"), "demo.wasm"], &CREDS, &[]).success();
    let asked = tokens.requests();
    assert_eq!(asked.len(), 2, "the first token, then one after the refusal: {asked:#?}");
    let puts: Vec<_> =
        proxy.exchanges().into_iter().filter(|e| e.method == "PUT" && e.path().contains("/manifests/")).collect();
    assert_eq!(puts.iter().map(|e| e.status).collect::<Vec<_>>(), [Some(401), Some(201)], "{puts:#?}");
    assert_ne!(puts[0].authorization, puts[1].authorization, "the repeat must carry the new token");
    assert!(asked[1].at > puts[0].started, "the second token was fetched after the refusal: {asked:#?}");
    assert_eq!(reg.blob("demo/revoked", &sha256_digest(&wasm)), Some(wasm));
    assert!(reg.manifest("demo/revoked", "1.0.0").is_some());
}

#[test]
fn a_registry_that_refuses_every_token_fails_clearly() {
    let (dir, tokens, reg) = setup();
    tokens.issue_stale(0, usize::MAX);
    dir.write("demo.wasm", &demo_component());

    let push = run(&dir, &tokens, &["push", &reg.reference("demo/refused:1.0.0"), "demo.wasm"], &CREDS, &[]);
    let push = push.failure();
    let text = push.stderr.to_lowercase();
    assert!(
        text.contains("401") || text.contains("refused") || text.contains("unauthorized"),
        "the message must say the registry refused the login: {push}"
    );
    assert!(tokens.requests().len() <= 10, "token requests must not loop: {:#?}", tokens.requests());
    assert_eq!(reg.tags("demo/refused"), None);
}

#[test]
fn a_wrong_password_is_refused_by_the_token_server() {
    let (dir, tokens, reg) = setup();
    dir.write("demo.wasm", &demo_component());
    let reference = reg.reference("demo/wrong:1.0.0");

    for output in [&[][..], &["-o", "json"][..]] {
        let push = run(&dir, &tokens, &["push", &reference, "demo.wasm", "-u", USER, "-p", WRONG], output, &[]);
        let push = push.failure();
        let text = push.stderr.to_lowercase();
        assert!(
            text.contains(&USER.to_lowercase())
                && (text.contains("wrong user name or password") || text.contains("401") || text.contains("refused")),
            "the message must name the user and say the login was refused: {push}"
        );
    }
    let asked = tokens.requests();
    assert!(
        !asked.is_empty() && asked.iter().all(|t| t.status == 401 && t.user.as_deref() == Some(USER)),
        "{asked:#?}"
    );
    assert!(tokens.issued().is_empty());
    assert_eq!(reg.tags("demo/wrong"), None);
    let requests = reg.requests();
    assert!(blob_uploads(&requests).is_empty() && manifest_puts(&requests).is_empty(), "{requests:#?}");
}

#[test]
fn no_credentials_are_told_to_log_in() {
    let (dir, tokens, reg) = setup();
    dir.write("demo.wasm", &demo_component());
    let push = run(&dir, &tokens, &["push", &reg.reference("demo/anon:1.0.0"), "demo.wasm"], &[], &[]).failure();
    assert!(push.stderr.contains("-u") || push.stderr.contains("--user"), "the message must say how to log in: {push}");
    let asked = tokens.requests();
    assert!(asked.iter().all(|t| t.user.is_none()), "no credentials were configured: {asked:#?}");
    assert_eq!(reg.tags("demo/anon"), None);
}

#[test]
fn wkg_bearer_variable_is_sent_as_is() {
    let (dir, tokens, reg) = setup();
    let token = tokens.minter().mint("demo/bearer", &["pull", "push"]);
    let variable = format!(
        "WKG_REGISTRY_{}_AUTH_BEARER",
        reg.host()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
            .collect::<String>()
    );
    let env = [(variable.as_str(), token.as_str())];
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let reference = reg.reference("demo/bearer:1.0.0");

    let push = run(&dir, &tokens, &["push", &reference, "demo.wasm"], &[], &env);
    assert_conceals(&push, &[&token]);
    push.success();
    let cache = fresh_cache(&dir);
    let pull =
        run(&dir, &tokens, &["pull", &reference, "--destination", "back.wasm", "--cache-dir", &cache], &[], &env);
    assert_conceals(&pull, &[&token]);
    pull.success();
    assert_eq!(dir.read("back.wasm"), wasm);
    assert!(tokens.requests().is_empty(), "the bearer token is used as is: {:#?}", tokens.requests());
}

#[test]
fn verify_asks_for_the_three_signature_places_at_once_each_once_with_the_token() {
    let (dir, tokens, reg) = setup();
    let reference = reg.reference("signed/app:1.0.0");
    dir.write("app.wasm", &demo_component());
    let password = [("COSIGN_PASSWORD", "prefetch")];
    let pushed = run(&dir, &tokens, &["push", &reference, "app.wasm", "-o", "json"], &CREDS, &[]).success();
    let digest = crate::util::str_field(&pushed.stdout_json(), "digest").to_owned();
    dir.run_env(&["key", "generate"], &password).success();
    run(&dir, &tokens, &["sign", &reference, "--key", "cosign.key"], &CREDS, &password).success();

    let before = reg.requests().len();
    let verified =
        run(&dir, &tokens, &["verify", &reference, "--key", "cosign.pub", "-o", "json"], &CREDS, &[]).success();
    assert_eq!(verified.stdout_json()["verified"].as_array().map(Vec::len), Some(1), "{verified}");
    let requests = reg.requests();
    let during = &requests[before..];
    let hex = digest.trim_start_matches("sha256:");
    let places = [
        format!("/v2/signed/app/referrers/{digest}"),
        format!("/v2/signed/app/manifests/sha256-{hex}"),
        format!("/v2/signed/app/manifests/sha256-{hex}.sig"),
    ];
    for place in &places {
        let asked: Vec<_> = during.iter().filter(|r| &r.path == place).collect();
        // Started early with the token already at hand: one request each, none refused.
        assert_eq!(asked.len(), 1, "{place} asked {} times: {during:#?}", asked.len());
        assert_ne!(asked[0].status, 401, "{place} went without the token");
    }
}
