//! Credentials never show: passwords, `Authorization` values and bearer tokens stay out of
//! stdout, stderr and `-o json` output, whether the command succeeds, is refused, or meets a
//! registry that repeats the credentials back in its error. (The auth tests check the same on
//! every run they make; these are the cases built for it.)

use crate::util::{
    Fault, FaultProxy, Registry, Run, TestDir, TokenServer, assert_conceals, basic_authorization, demo_component,
    fresh_cache,
};

const USER: &str = "e2e-secret-user";
const PASSWORD: &str = "pw-secret-2a7c91e05d";
const WRONG: &str = "pw-wrong-6f18b3c0e2";

fn basic_value(password: &str) -> String {
    basic_authorization(USER, password).trim_start_matches("Basic ").to_owned()
}

#[track_caller]
fn conceals_passwords(run: &Run) {
    assert_conceals(run, &[PASSWORD, WRONG, &basic_value(PASSWORD), &basic_value(WRONG)]);
}

#[test]
fn basic_credentials_never_show_in_text_or_json_output() {
    let dir = TestDir::new();
    let reg = Registry::with_htpasswd(&dir, USER, PASSWORD);
    dir.write("demo.wasm", &demo_component());
    let reference = reg.reference("demo/quiet:1.0.0");
    let good = ["-u", USER, "-p", PASSWORD];
    let bad = ["-u", USER, "-p", WRONG];
    // The test's own cache: what others left in the shared one plays no part.
    let cache = fresh_cache(&dir);

    for output in ["text", "json"] {
        let commands: [Vec<&str>; 4] = [
            vec!["push", &reference, "demo.wasm"],
            vec!["pull", &reference, "--destination", "back.wasm", "--cache-dir", &cache],
            vec!["inspect", &reference, "--cache-dir", &cache],
            vec!["tags", &reference],
        ];
        for command in &commands {
            for (creds, succeeds) in [(&good, true), (&bad, false)] {
                let mut args = command.clone();
                args.extend_from_slice(creds);
                args.extend_from_slice(&["-o", output]);
                let run = dir.run(&args);
                conceals_passwords(&run);
                assert_eq!(run.code, Some(if succeeds { 0 } else { 1 }), "{run}");
                if output == "json" {
                    let printed = if succeeds { run.stdout_json() } else { run.stderr_json() };
                    let text = printed.to_string();
                    assert!(!text.contains(PASSWORD) && !text.contains(WRONG), "{text}");
                }
            }
        }
    }
}

#[test]
fn tokens_never_show_whether_accepted_or_refused() {
    let dir = TestDir::new();
    let tokens = TokenServer::start(&dir, USER, PASSWORD);
    let reg = Registry::with_token_auth(&dir, &tokens);
    dir.write("demo.wasm", &demo_component());
    let reference = reg.reference("demo/tokens:1.0.0");
    let creds = ["-u", USER, "-p", PASSWORD];
    let cache = fresh_cache(&dir);
    let mut runs = Vec::new();
    for output in ["text", "json"] {
        runs.push(dir.run(&["push", &reference, "demo.wasm", creds[0], creds[1], creds[2], creds[3], "-o", output]));
        runs.push(dir.run(&[
            "pull",
            &reference,
            "-d",
            "back.wasm",
            "--cache-dir",
            &cache,
            creds[0],
            creds[1],
            creds[2],
            creds[3],
            "-o",
            output,
        ]));
    }
    // From here on every token is refused by the registry.
    tokens.issue_stale(0, usize::MAX);
    for output in ["text", "json"] {
        runs.push(dir.run(&["push", &reference, "demo.wasm", creds[0], creds[1], creds[2], creds[3], "-o", output]));
    }
    let issued = tokens.issued();
    assert!(issued.len() >= 4, "tokens were handed out: {}", issued.len());
    let mut secrets: Vec<&str> = issued.iter().map(String::as_str).collect();
    let basic = basic_value(PASSWORD);
    secrets.extend([PASSWORD, basic.as_str()]);
    for run in &runs {
        assert_conceals(run, &secrets);
    }
    assert_eq!(runs.iter().map(|r| r.code).collect::<Vec<_>>(), [0, 0, 0, 0, 1, 1].map(Some));
}

#[test]
fn a_refused_bearer_variable_never_shows() {
    let dir = TestDir::new();
    let tokens = TokenServer::start(&dir, USER, PASSWORD);
    let reg = Registry::with_token_auth(&dir, &tokens);
    dir.write("demo.wasm", &demo_component());
    let host: String =
        reg.host().chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    let variable = format!("WKG_REGISTRY_{host}_AUTH_BEARER");
    let bogus = "not-a-valid-jwt-8c2e51f0a9d3";
    for output in ["text", "json"] {
        let run = dir
            .run_env(&["push", &reg.reference("demo/bogus:1.0.0"), "demo.wasm", "-o", output], &[(&variable, bogus)]);
        assert_conceals(&run, &[bogus]);
        run.failure();
    }
}

#[test]
fn credentials_echoed_by_the_registry_are_not_printed() {
    let dir = TestDir::new();
    let reg = Registry::with_htpasswd(&dir, USER, PASSWORD);
    let proxy = FaultProxy::start(reg.port());
    proxy.inject(
        usize::MAX,
        |r| r.method == "PUT" && r.path().contains("/manifests/"),
        Fault::EchoAuthorization { status: 400 },
    );
    dir.write("demo.wasm", &demo_component());

    for output in ["text", "json"] {
        let run = dir.run(&[
            "push",
            &proxy.reference("demo/echo:1.0.0"),
            "demo.wasm",
            "-u",
            USER,
            "-p",
            PASSWORD,
            "-o",
            output,
        ]);
        let echoed = proxy.faulted();
        assert!(
            echoed.iter().any(|e| e.authorization.is_some()),
            "the registry was sent credentials to echo: {echoed:#?}"
        );
        conceals_passwords(&run);
        let run = run.failure();
        assert!(run.stderr.contains("400") || run.stderr.contains("DENIED"), "the error itself is still shown: {run}");
    }
}
