//! Transfers through a fault-injecting proxy in front of a real registry: 503s and connection
//! cuts during uploads (the upload restarts from a fresh read of the file), 503s on manifest
//! reads, a 429 rate limit with `Retry-After`, a 416 on a chunk (resumed from the registry's
//! `Range`), a connection cut in the middle of a layer download (no partial file), a layer
//! served with wrong bytes (refused, never cached), redirects
//! of layer and manifest downloads to another host (followed, without `Authorization`), and a registry
//! that keeps failing (bounded retries, a clear error). Each run ends in success or a clear
//! error, with nothing partial left behind.

use crate::util::{
    Fault, FaultProxy, ObjectStore, Registry, Run, TestDir, assert_conceals, basic_authorization, big_component,
    blob_uploads, demo_component, digest_hex, fresh_cache, sha256_digest,
};

/// Whether `r` is the request that completes the upload of the blob with hex digest `hex`.
fn is_upload_put(r: &crate::util::RequestHead, hex: &str) -> bool {
    r.method == "PUT" && r.target.contains("/blobs/uploads/") && r.target.contains(hex)
}

/// Whether `r` downloads the blob with hex digest `hex`.
fn is_blob_get(r: &crate::util::RequestHead, hex: &str) -> bool {
    r.method == "GET" && r.path().ends_with(&format!("/blobs/sha256:{hex}"))
}

/// What a broken transfer may have left anywhere under the working directory: temporary
/// files (`*.tmp`) and files in a cache's ingest area (`.ingest/`).
fn partial_files(dir: &TestDir) -> Vec<String> {
    dir.listing()
        .into_iter()
        .filter(|p| dir.path(p).is_file() && (p.ends_with(".tmp") || p.split('/').any(|part| part == ".ingest")))
        .collect()
}

#[test]
fn a_503_on_the_layer_upload_restarts_it_from_a_fresh_read() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let proxy = FaultProxy::start(reg.port());
    let wasm = big_component(2 * 1024 * 1024);
    let hex = digest_hex(&sha256_digest(&wasm)).to_owned();
    let matched = hex.clone();
    proxy.inject(1, move |r| is_upload_put(r, &matched), Fault::Status { status: 503, headers: vec![] });
    dir.write("big.wasm", &wasm);

    dir.run(&["push", &proxy.reference("demo/retry-put:1.0.0"), "big.wasm"]).success();
    let faulted = proxy.faulted();
    assert_eq!(faulted.len(), 1, "{faulted:#?}");
    let puts: Vec<_> = proxy
        .exchanges()
        .into_iter()
        .filter(|e| e.method == "PUT" && e.target.contains("/blobs/uploads/") && e.target.contains(&hex))
        .map(|e| e.status)
        .collect();
    assert_eq!(puts, [Some(503), Some(201)], "the layer PUT is refused once, then sent again");
    let requests = reg.requests();
    let uploads = blob_uploads(&requests);
    let layer_puts: Vec<_> = uploads.iter().filter(|r| r.method == "PUT" && r.path.contains(&hex)).collect();
    assert_eq!(layer_puts.len(), 1, "only the retried PUT reached the registry: {requests:#?}");
    assert_eq!(layer_puts[0].status, 201);
    assert_eq!(
        uploads.iter().filter(|r| r.method == "POST").count(),
        3,
        "two blobs, plus a fresh upload session for the retry: {requests:#?}"
    );
    assert_eq!(reg.blob("demo/retry-put", &sha256_digest(&wasm)), Some(wasm));
    assert!(reg.manifest("demo/retry-put", "1.0.0").is_some());
}

#[test]
fn a_connection_cut_during_the_layer_upload_restarts_it() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let proxy = FaultProxy::start(reg.port());
    let wasm = big_component(2 * 1024 * 1024);
    let hex = digest_hex(&sha256_digest(&wasm)).to_owned();
    let matched = hex.clone();
    proxy.inject(1, move |r| is_upload_put(r, &matched), Fault::CutRequestBody { after: 300 * 1024 });
    dir.write("big.wasm", &wasm);

    let push = dir.run(&["push", &proxy.reference("demo/cut-put:1.0.0"), "big.wasm"]);
    let faulted = proxy.faulted();
    push.success();
    assert_eq!(faulted.len(), 1, "{faulted:#?}");
    assert_eq!(faulted[0].status, None, "the cut request got no answer: {faulted:#?}");
    let requests = reg.requests();
    let layer_puts: Vec<_> =
        blob_uploads(&requests).into_iter().filter(|r| r.method == "PUT" && r.path.contains(&hex)).collect();
    assert_eq!(layer_puts.len(), 1, "{requests:#?}");
    assert_eq!(reg.blob("demo/cut-put", &sha256_digest(&wasm)), Some(wasm.clone()));

    let cache = fresh_cache(&dir);
    dir.run(&["pull", &reg.reference("demo/cut-put:1.0.0"), "--destination", "back.wasm", "--cache-dir", &cache])
        .success();
    assert_eq!(dir.read("back.wasm"), wasm);
}

/// A registry that stops reading an upload held the push for as long as the host let a
/// write wait, and then for its answer. The stall timeout (`WASMSHIP_TIMEOUT`, here 2 s) ends
/// both waits; the error names the registry and says how to wait longer; the registry holds
/// neither the layer nor the tag.
#[test]
fn a_registry_that_stops_taking_an_upload_fails_after_the_stall_timeout() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let proxy = FaultProxy::start(reg.port());
    // More than the loopback socket buffers hold, so the writes stop.
    let wasm = big_component(24 * 1024 * 1024);
    let digest = sha256_digest(&wasm);
    let matched = digest_hex(&digest).to_owned();
    proxy.inject(
        usize::MAX,
        move |r| is_upload_put(r, &matched),
        Fault::StallRequestBody { after: 64 * 1024, secs: 30 },
    );
    dir.write("big.wasm", &wasm);

    let reference = proxy.reference("demo/stall-put:1.0.0");
    gives_up_after_the_stall_timeout(&dir, &proxy, &["push", &reference, "big.wasm"], "took nothing more of the body");
    assert!(proxy.faulted().iter().all(|e| e.status.is_none()), "{:#?}", proxy.faulted());
    assert_eq!(reg.blob("demo/stall-put", &digest), None);
    assert!(reg.manifest("demo/stall-put", "1.0.0").is_none());
}

#[test]
fn a_503_on_the_manifest_read_is_retried() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    dir.run(&["push", &reg.reference("demo/retry-get:1.0.0"), "demo.wasm"]).success();
    let before = reg.requests().len();
    let proxy = FaultProxy::start(reg.port());
    proxy.inject(
        2,
        |r| r.method == "GET" && r.path().contains("/manifests/"),
        Fault::Status { status: 503, headers: vec![("Retry-After".into(), "0".into())] },
    );

    let cache = fresh_cache(&dir);
    dir.run(&["pull", &proxy.reference("demo/retry-get:1.0.0"), "--destination", "back.wasm", "--cache-dir", &cache])
        .success();
    assert_eq!(dir.read("back.wasm"), wasm);
    let manifest_gets: Vec<_> = proxy
        .exchanges()
        .into_iter()
        .filter(|e| e.method == "GET" && e.path().contains("/manifests/"))
        .map(|e| e.status)
        .collect();
    assert_eq!(manifest_gets, [Some(503), Some(503), Some(200)]);
    let requests = reg.requests();
    let reached: Vec<_> =
        requests[before..].iter().filter(|r| r.method == "GET" && r.path.contains("/manifests/")).collect();
    assert_eq!(reached.len(), 1, "the refused reads never reached the registry: {reached:#?}");
}

#[test]
fn a_429_with_retry_after_is_waited_out() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let proxy = FaultProxy::start(reg.port());
    // A rate limiter: 429 with `Retry-After: 1`, and 429 again to any manifest PUT that comes
    // back before that second is over. A client that waits as told meets exactly one.
    proxy.inject(
        1,
        |r| r.method == "PUT" && r.path().contains("/manifests/"),
        Fault::RateLimit { retry_after_secs: 1 },
    );
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);

    dir.run(&["push", &proxy.reference("demo/limited:1.0.0"), "demo.wasm"]).success();
    let puts: Vec<_> = proxy
        .exchanges()
        .into_iter()
        .filter(|e| e.method == "PUT" && e.path().contains("/manifests/"))
        .map(|e| e.status)
        .collect();
    assert_eq!(puts, [Some(429), Some(201)], "one 429, then the manifest after the wait");
    assert!(reg.manifest("demo/limited", "1.0.0").is_some());
}

#[test]
fn a_416_on_a_chunk_resumes_from_the_registry_range() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let proxy = FaultProxy::start(reg.port());
    // The third chunk is "lost": the proxy answers 416 with the Range the registry really holds.
    proxy.inject(
        1,
        |r| r.method == "PATCH" && r.header("content-range").is_some_and(|c| !c.starts_with("0-")),
        Fault::RangeNotSatisfiable,
    );
    let wasm = big_component(300 * 1024);
    dir.write("big.wasm", &wasm);

    let push =
        dir.run(&["push", &proxy.reference("demo/resume:1.0.0"), "big.wasm", "--chunked", "--chunk-size", "65536"]);
    let faulted = proxy.faulted();
    push.success();
    assert_eq!(faulted.len(), 1, "{faulted:#?}");
    assert!(faulted[0].fault.as_deref().is_some_and(|f| f.contains("Some")), "416 without a Range: {faulted:#?}");
    assert_eq!(reg.blob("demo/resume", &sha256_digest(&wasm)), Some(wasm.clone()));
    let cache = fresh_cache(&dir);
    dir.run(&["pull", &reg.reference("demo/resume:1.0.0"), "--destination", "back.wasm", "--cache-dir", &cache])
        .success();
    assert_eq!(dir.read("back.wasm"), wasm);
}

/// Runs `args` with a stall timeout of 2 s against `proxy`, whose stalled exchanges each hold
/// it for 30 s: the command fails, saying `words` about the 2 s, how to wait longer and which
/// registry, well before a single stall would have ended.
fn gives_up_after_the_stall_timeout(dir: &TestDir, proxy: &FaultProxy, args: &[&str], words: &str) -> Run {
    let started = std::time::Instant::now();
    let out = dir.run_env(args, &[("WASMSHIP_TIMEOUT", "2")]);
    let waited = started.elapsed();
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr.contains(&format!("{words} for 2 s")) && out.stderr.contains("WASMSHIP_TIMEOUT"),
        "the error says how long it waited and how to wait longer: {out}"
    );
    assert!(out.stderr.contains(&proxy.host()), "the error names the registry: {out}");
    assert!(waited < std::time::Duration::from_secs(29), "the command waited out the stall ({waited:?}): {out}");
    out
}

/// A 1 MiB component pushed to a fresh registry as `repo_tag`, and a fault proxy in front of
/// the registry: (registry, proxy, the component's bytes, the hex of its layer digest).
fn big_layer_behind_proxy(dir: &TestDir, repo_tag: &str) -> (Registry, FaultProxy, Vec<u8>, String) {
    let reg = Registry::start(dir);
    let wasm = big_component(1024 * 1024);
    dir.write("big.wasm", &wasm);
    dir.run(&["push", &reg.reference(repo_tag), "big.wasm"]).success();
    let proxy = FaultProxy::start(reg.port());
    let hex = digest_hex(&sha256_digest(&wasm)).to_owned();
    (reg, proxy, wasm, hex)
}

#[test]
fn a_connection_cut_mid_layer_download_leaves_no_partial_file() {
    let dir = TestDir::new();
    let (_reg, proxy, wasm, hex) = big_layer_behind_proxy(&dir, "demo/cut-get:1.0.0");
    let matched = hex.clone();
    proxy.inject(1, move |r| is_blob_get(r, &matched), Fault::CutResponseBody { after: 64 * 1024 });

    let cache = fresh_cache(&dir);
    let pull =
        dir.run(&["pull", &proxy.reference("demo/cut-get:1.0.0"), "--destination", "out.wasm", "--cache-dir", &cache]);
    assert_eq!(proxy.faulted().len(), 1, "the cut happened: {:#?}", proxy.exchanges());
    match pull.code {
        Some(0) => assert_eq!(dir.read("out.wasm"), wasm, "a retried pull must give the whole file"),
        Some(1) => {
            assert!(!dir.path("out.wasm").exists(), "a failed pull left a partial file: {pull}");
            let kept: Vec<_> = dir.listing().into_iter().filter(|p| p.contains(&hex)).collect();
            assert!(kept.is_empty(), "the broken layer was kept (in a cache?): {kept:?}");
            let text = pull.stderr.to_lowercase();
            assert!(
                text.starts_with("error:")
                    && (text.contains("blob") || text.contains("body") || text.contains("connection")),
                "the message must say the download broke off: {pull}"
            );
        }
        _ => panic!("neither success nor a clean failure: {pull}"),
    }
    assert_eq!(partial_files(&dir), Vec::<String>::new(), "temporary files left: {pull}");
}

#[test]
fn a_layer_served_with_wrong_bytes_is_refused_and_never_cached() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = big_component(1024 * 1024);
    dir.write("big.wasm", &wasm);
    dir.run(&["push", &reg.reference("demo/tampered:1.0.0"), "big.wasm"]).success();
    let proxy = FaultProxy::start(reg.port());
    let hex = digest_hex(&sha256_digest(&wasm)).to_owned();
    let matched = hex.clone();
    proxy.inject(2, move |r| is_blob_get(r, &matched), Fault::CorruptResponseBody { at: 700_000 });
    let reference = proxy.reference("demo/tampered:1.0.0");
    let cache = fresh_cache(&dir);
    let cached_layer = std::path::Path::new(&cache).join("blobs/sha256").join(&hex);

    for extra in [&["--cache-dir", cache.as_str()][..], &["--no-cache"][..]] {
        let mut args = vec!["pull", reference.as_str(), "--destination", "out.wasm"];
        args.extend_from_slice(extra);
        let pull = dir.run(&args).failure();
        assert!(pull.stderr.contains("digest"), "the mismatch is named: {pull}");
        assert!(!dir.path("out.wasm").exists(), "nothing written: {pull}");
        assert!(!cached_layer.exists(), "wrong bytes in the cache: {pull}");
        assert_eq!(partial_files(&dir), Vec::<String>::new(), "temporary files left: {pull}");
    }
    assert_eq!(proxy.faulted().len(), 2, "{:#?}", proxy.exchanges());
    let ingest = std::fs::read_dir(std::path::Path::new(&cache).join(".ingest"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
        .unwrap_or_default();
    assert!(ingest.is_empty(), "ingest leftovers: {ingest:?}");

    // The registry serves the right bytes again: the pull goes through.
    dir.run(&["pull", &reference, "--destination", "out.wasm", "--cache-dir", &cache]).success();
    assert_eq!(dir.read("out.wasm"), wasm);
    assert_eq!(std::fs::read(&cached_layer).expect("cached now"), wasm);
}

#[test]
fn redirected_layer_downloads_carry_no_authorization_to_the_other_host() {
    const USER: &str = "e2e-redirect-user";
    const PASSWORD: &str = "pw-redirect-93d0e7a1";
    let dir = TestDir::new();
    let reg = Registry::with_htpasswd(&dir, USER, PASSWORD);
    let wasm = big_component(256 * 1024);
    dir.write("big.wasm", &wasm);
    let creds = ["-u", USER, "-p", PASSWORD];
    let mut push = vec!["push".to_owned(), reg.reference("demo/redirect:1.0.0"), "big.wasm".to_owned()];
    push.extend(creds.iter().map(|s| (*s).to_owned()));
    dir.run(&push).success();

    let hex = digest_hex(&sha256_digest(&wasm)).to_owned();
    let storage = ObjectStore::start(wasm.clone());
    let proxy = FaultProxy::start(reg.port());
    let statuses = [301, 302, 303, 307, 308];
    for status in statuses {
        let location = storage.url(&format!("/bucket/{hex}?X-Signature=e2e-{status}"));
        let matched = hex.clone();
        proxy.inject(1, move |r| is_blob_get(r, &matched), Fault::Redirect { status, location });
        let out = format!("out-{status}.wasm");
        // A cache of its own for each pull, so each one downloads the layer.
        let cache = fresh_cache(&dir);
        let mut pull = vec!["pull", "--destination", &out, "--cache-dir", &cache];
        let reference = proxy.reference("demo/redirect:1.0.0");
        pull.push(&reference);
        pull.extend_from_slice(&creds);
        let run = dir.run(&pull);
        assert_conceals(&run, &[PASSWORD, basic_authorization(USER, PASSWORD).trim_start_matches("Basic ")]);
        run.success();
        assert_eq!(dir.read(&out), wasm, "after a {status} redirect");
    }

    let layer_gets: Vec<_> = proxy.exchanges().into_iter().filter(|e| e.path().ends_with(&hex)).collect();
    assert_eq!(layer_gets.len(), statuses.len(), "{layer_gets:#?}");
    assert!(
        layer_gets.iter().all(|e| e.authorization.as_deref() == Some(basic_authorization(USER, PASSWORD).as_str())),
        "the registry's own requests carry the credentials: {layer_gets:#?}"
    );
    let seen = storage.requests();
    assert_eq!(seen.len(), statuses.len(), "one download per redirect: {seen:#?}");
    for request in &seen {
        assert_eq!(request.method, "GET", "{request:?}");
        assert!(request.target.starts_with(&format!("/bucket/{hex}?X-Signature=")), "{request:?}");
        assert_eq!(request.header("authorization"), None, "credentials leaked to another host: {request:?}");
    }
}

#[test]
fn a_redirected_manifest_read_carries_no_authorization_to_the_other_host() {
    const USER: &str = "e2e-redirect-user";
    const PASSWORD: &str = "pw-redirect-5c72b9e0";
    let dir = TestDir::new();
    let reg = Registry::with_htpasswd(&dir, USER, PASSWORD);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    let creds = ["-u", USER, "-p", PASSWORD];
    let reference = reg.reference("demo/moved:1.0.0");
    dir.run(&["push", &reference, "demo.wasm", creds[0], creds[1], creds[2], creds[3]]).success();
    let served = reg.manifest("demo/moved", "1.0.0").expect("pushed");

    let storage = ObjectStore::serving(served.bytes.clone(), &served.content_type);
    let proxy = FaultProxy::start(reg.port());
    let location = storage.url("/manifests/demo-moved-1.0.0");
    proxy.inject(
        1,
        // The first, anonymous read only learns that the registry wants Basic auth.
        |r| r.method == "GET" && r.path().contains("/manifests/") && r.header("authorization").is_some(),
        Fault::Redirect { status: 307, location },
    );
    let reference = proxy.reference("demo/moved:1.0.0");
    let cache = fresh_cache(&dir);
    let pull = dir.run(&[
        "pull",
        &reference,
        "--destination",
        "back.wasm",
        "--cache-dir",
        &cache,
        creds[0],
        creds[1],
        creds[2],
        creds[3],
    ]);
    assert_conceals(&pull, &[PASSWORD, basic_authorization(USER, PASSWORD).trim_start_matches("Basic ")]);
    pull.success();
    assert_eq!(dir.read("back.wasm"), wasm);
    let redirected: Vec<_> = proxy.faulted();
    assert_eq!(redirected.len(), 1, "{redirected:#?}");
    assert!(redirected[0].authorization.is_some(), "the registry's own request carries the credentials");
    let seen = storage.requests();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(seen[0].header("authorization"), None, "credentials leaked to another host: {seen:#?}");
}

#[test]
fn a_registry_that_keeps_failing_gives_up_with_a_clear_error() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    dir.run(&["push", &reg.reference("demo/down:1.0.0"), "demo.wasm"]).success();
    let proxy = FaultProxy::start(reg.port());
    proxy.inject(
        usize::MAX,
        |r| r.path().contains("/manifests/"),
        Fault::Status { status: 503, headers: vec![("Retry-After".into(), "0".into())] },
    );

    let cache = fresh_cache(&dir);
    let reference = proxy.reference("demo/down:1.0.0");
    let pull: Run = dir.run(&["pull", &reference, "--destination", "out.wasm", "--cache-dir", &cache]).failure();
    assert!(pull.stderr.contains("503"), "the message must give the registry's status: {pull}");
    let attempts = proxy.exchanges().len();
    assert!((2..=5).contains(&attempts), "{attempts} attempts; retries are bounded at 5");
    assert!(!dir.path("out.wasm").exists());
    assert_eq!(partial_files(&dir), Vec::<String>::new());
}

/// Issue 11: a registry that sends a response head and part of a blob, then goes silent, held
/// a pull for 600 s per wait. The stall timeout (`WASMSHIP_TIMEOUT`, here 2 s) ends each wait;
/// the error names the registry and the wait; nothing is left behind.
#[test]
fn a_registry_that_goes_silent_mid_blob_fails_after_the_stall_timeout() {
    let dir = TestDir::new();
    let (_reg, proxy, _wasm, hex) = big_layer_behind_proxy(&dir, "demo/stall:1.0.0");
    let matched = hex.clone();
    proxy.inject(10, move |r| is_blob_get(r, &matched), Fault::StallResponseBody { after: 64 * 1024, secs: 30 });

    let cache = fresh_cache(&dir);
    let reference = proxy.reference("demo/stall:1.0.0");
    let args = ["pull", &reference, "--destination", "out.wasm", "--cache-dir", &cache];
    let pull = gives_up_after_the_stall_timeout(&dir, &proxy, &args, "sent nothing");
    assert!(!dir.path("out.wasm").exists(), "a failed pull left a file: {pull}");
    let kept: Vec<_> = dir.listing().into_iter().filter(|p| p.contains(&hex)).collect();
    assert!(kept.is_empty(), "the partial layer was kept: {kept:?}");
}

/// Issue 11: a redirect whose `Location` carries `user:password@` printed the password in the
/// error. Such a location is refused, and shown without its credentials.
#[test]
fn a_redirect_carrying_credentials_is_refused_without_printing_them() {
    let dir = TestDir::new();
    let (_reg, proxy, _wasm, hex) = big_layer_behind_proxy(&dir, "demo/userinfo:1.0.0");
    let matched = hex.clone();
    let location = format!("http://someone:pw-in-url-5e1f@{}/v2/x/blobs/sha256:{hex}", proxy.host());
    proxy.inject(10, move |r| is_blob_get(r, &matched), Fault::Redirect { status: 307, location });

    let cache = fresh_cache(&dir);
    let reference = proxy.reference("demo/userinfo:1.0.0");
    let pull = dir.run(&["pull", &reference, "-d", "out.wasm", "--cache-dir", &cache, "-o", "json"]).failure();
    assert!(pull.stderr.contains("unusable redirect location"), "{pull}");
    assert_conceals(&pull, &["pw-in-url-5e1f", "someone:"]);
    assert!(!dir.path("out.wasm").exists());
}

/// Whether `r` reads a manifest.
fn is_manifest_get(r: &crate::util::RequestHead) -> bool {
    r.method == "GET" && r.path().contains("/manifests/")
}

/// The single line of a failed run's stderr, checked to carry no Debug dump or JSON-reader
/// wording.
#[track_caller]
fn one_line(run: &Run) -> &str {
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {run}");
    for dump in ["{", "missing field", "Some(", "ErrorCode", "Http"] {
        assert!(!lines[0].contains(dump), "{dump:?} in {run}");
    }
    lines[0]
}

/// A pull through `proxy` of `repo_tag` (pushed first, straight to the registry) that fails.
fn failed_pull(dir: &TestDir, proxy: &FaultProxy, repo_tag: &str) -> Run {
    let cache = fresh_cache(dir);
    let run = dir.run(&["pull", &proxy.reference(repo_tag), "--destination", "out.wasm", "--cache-dir", &cache]);
    let run = run.failure();
    assert!(!dir.path("out.wasm").exists());
    run
}

/// A registry that answers a manifest read with 200 and `{"errors":[…]}`: the error names the
/// registry, the manifest and the registry's code and message, in one line.
#[test]
fn a_manifest_read_answered_200_with_an_error_body_says_so() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    dir.write("demo.wasm", &demo_component());
    dir.run(&["push", &reg.reference("demo/error-body:1.0.0"), "demo.wasm"]).success();
    let proxy = FaultProxy::start(reg.port());
    let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"1.0.0"}}]}"#;
    let fault = Fault::Serve {
        status: 200,
        content_type: "application/vnd.oci.image.manifest.v1+json".into(),
        body: body.to_vec(),
    };
    proxy.inject(usize::MAX, is_manifest_get, fault);

    let pull = failed_pull(&dir, &proxy, "demo/error-body:1.0.0");
    assert_eq!(
        one_line(&pull),
        format!(
            "error: {}: get manifest demo/error-body:1.0.0: 200: the registry answered 200 with an error body: \
             MANIFEST_UNKNOWN: manifest unknown",
            proxy.host()
        )
    );
}

/// A manifest served as an image index: the error names both media types and what is missing.
#[test]
fn a_manifest_served_under_the_wrong_media_type_says_so() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    dir.write("demo.wasm", &demo_component());
    let pushed = dir.run(&["push", &reg.reference("demo/relabelled:1.0.0"), "demo.wasm", "-o", "json"]).success();
    let digest = pushed.stdout_json()["digest"].as_str().expect("the manifest digest").to_owned();
    let proxy = FaultProxy::start(reg.port());
    let index = "application/vnd.oci.image.index.v1+json";
    proxy.inject(usize::MAX, is_manifest_get, Fault::RelabelResponse { content_type: index.into() });

    let pull = failed_pull(&dir, &proxy, "demo/relabelled:1.0.0");
    assert_eq!(
        one_line(&pull),
        format!(
            "error: manifest {digest} is not an OCI image manifest or index (media type {index}, \
             mediaType field application/vnd.oci.image.manifest.v1+json): it has no `manifests`"
        )
    );
}

/// A registry that closes the connection before answering (the host reports an HTTP protocol
/// error): the error says so in words, naming the registry, after the bounded retries.
#[test]
fn a_connection_closed_before_the_answer_is_said_in_words() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    dir.write("demo.wasm", &demo_component());
    dir.run(&["push", &reg.reference("demo/closed:1.0.0"), "demo.wasm"]).success();
    let proxy = FaultProxy::start(reg.port());
    proxy.inject(usize::MAX, is_manifest_get, Fault::CutRequestBody { after: 0 });

    let pull = failed_pull(&dir, &proxy, "demo/closed:1.0.0");
    let line = one_line(&pull);
    let host = proxy.host();
    assert!(line.starts_with(&format!("error: {host}: GET http://{host}/v2/demo/closed/manifests/")), "{pull}");
    assert!(
        line.ends_with(&format!(
            ": request failed: the registry {host} closed the connection or broke the HTTP protocol before \
             answering in full"
        )),
        "{pull}"
    );
}
