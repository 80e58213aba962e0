//! Registry mirrors: Debian's `docker-registry` in proxy mode is a pull-through mirror of a
//! real upstream registry. Pulls configured through `registries.conf` or a containerd
//! hosts directory go through the mirror (its access log shows them), fall back to the
//! upstream when the mirror is down, and refuse what a tampering mirror serves; tags are
//! resolved only where the configuration trusts the mirror to.

use std::net::TcpListener;

use serde_json::Value;

use crate::util::{
    Fault, FaultProxy, Registry, TestDir, demo_component, digest_hex, fresh_cache, make_certificates, sha256_digest,
    str_field,
};

/// The binary's requests among `requests` (a pull-through mirror's own requests to its
/// upstream carry the user agent of the registry's Go client).
fn from_binary(registry: &Registry) -> Vec<crate::util::Request> {
    registry
        .requests_by_agent()
        .into_iter()
        .filter(|(_, agent)| !agent.contains("Go-http-client") && !agent.starts_with("distribution/"))
        .map(|(request, _)| request)
        .collect()
}

/// A registries.conf sending pulls of `upstream` to `mirror` first.
fn registries_conf(upstream: &str, mirror: &str, pull_from: Option<&str>) -> String {
    let pull_from = pull_from.map(|p| format!("pull-from-mirror = \"{p}\"\n")).unwrap_or_default();
    format!(
        "# site mirrors\n[[registry]]\nprefix = \"{upstream}\"\nlocation = \"{upstream}\"\n\n\
         [[registry.mirror]]\nlocation = \"{mirror}\"\n{pull_from}"
    )
}

/// Who served each item, from `servedBy` in JSON output: `(kind, host)` per digest or tag.
fn served_by(out: &Value) -> Vec<(String, String, String, bool)> {
    out["servedBy"]
        .as_array()
        .unwrap_or_else(|| panic!("servedBy in {out:#}"))
        .iter()
        .map(|s| {
            (
                str_field(s, "kind").to_string(),
                str_field(s, "digest").to_string(),
                str_field(s, "host").to_string(),
                s["mirror"].as_bool().expect("mirror flag"),
            )
        })
        .collect()
}

fn pushed(dir: &TestDir, upstream: &Registry, repo_tag: &str) -> (Vec<u8>, String, String) {
    let wasm = demo_component();
    dir.write("demo.wasm", &wasm);
    dir.run(&["push", &upstream.reference(repo_tag), "demo.wasm"]).success();
    let (repo, tag) = repo_tag.split_once(':').expect("repo:tag");
    let manifest = upstream.manifest(repo, tag).expect("pushed");
    let layer = sha256_digest(&wasm);
    (wasm, manifest.digest, layer)
}

#[test]
fn a_registries_conf_mirror_serves_content_the_upstream_resolved() {
    let dir = TestDir::new();
    let upstream = Registry::start(&dir);
    let mirror = Registry::pull_through(&dir, &upstream);
    let (wasm, manifest_digest, layer) = pushed(&dir, &upstream, "apps/hello:1.0.0");
    dir.write("registries.conf", registries_conf(&upstream.host(), &mirror.host(), None).as_bytes());
    let upstream_before = from_binary(&upstream).len();

    let out = dir
        .run(&[
            "pull",
            &upstream.reference("apps/hello:1.0.0"),
            "--registries-conf",
            "registries.conf",
            "--no-cache",
            "-d",
            "hello.wasm",
            "-o",
            "json",
        ])
        .success()
        .stdout_json();
    assert_eq!(dir.read("hello.wasm"), wasm);
    assert_eq!(str_field(&out, "digest"), manifest_digest);

    // The upstream only resolved the tag; the mirror served the manifest and the layer.
    let at_upstream: Vec<_> = from_binary(&upstream)[upstream_before..].to_vec();
    assert!(at_upstream.iter().all(|r| r.path.ends_with("/manifests/1.0.0")), "{at_upstream:#?}");
    assert!(!at_upstream.iter().any(|r| r.is_blob_get(&layer)), "{at_upstream:#?}");
    let at_mirror = from_binary(&mirror);
    assert!(at_mirror.iter().any(|r| r.is_blob_get(&layer) && r.status == 200), "{at_mirror:#?}");
    assert!(
        at_mirror.iter().any(|r| r.method == "GET" && r.path.ends_with(&format!("/manifests/{manifest_digest}"))),
        "the mirror was asked by digest: {at_mirror:#?}"
    );
    assert!(!at_mirror.iter().any(|r| r.path.ends_with("/manifests/1.0.0")), "never asked to resolve the tag");

    let served = served_by(&out);
    assert!(served.contains(&("blob".into(), layer.clone(), mirror.host(), true)), "{served:#?}");
    assert!(served.contains(&("manifest".into(), manifest_digest.clone(), mirror.host(), true)), "{served:#?}");
    assert!(
        served.contains(&("tag".into(), format!("1.0.0 → {manifest_digest}"), upstream.host(), false)),
        "{served:#?}"
    );

    // Pushes never go to a mirror, configured or not.
    let mirror_before = from_binary(&mirror).len();
    dir.run(&["push", &upstream.reference("apps/hello:1.0.1"), "demo.wasm", "--registries-conf", "registries.conf"])
        .success();
    assert!(upstream.manifest("apps/hello", "1.0.1").is_some());
    assert_eq!(from_binary(&mirror).len(), mirror_before, "the mirror saw the push");
}

#[test]
fn a_hosts_toml_mirror_trusted_to_resolve_serves_the_whole_pull() {
    let dir = TestDir::new();
    let upstream = Registry::start(&dir);
    let mirror = Registry::pull_through(&dir, &upstream);
    let (wasm, _, layer) = pushed(&dir, &upstream, "apps/hello:2.0.0");
    let hosts = format!(
        "server = \"http://{}\"\n\n[host.\"http://{}\"]\n  capabilities = [\"pull\", \"resolve\"]\n",
        upstream.host(),
        mirror.host()
    );
    // containerd's directory name for host:port.
    dir.write(&format!("certs.d/{}/hosts.toml", upstream.host().replace(':', "_") + "_"), hosts.as_bytes());
    let upstream_before = from_binary(&upstream).len();

    let cache = fresh_cache(&dir);
    let run = dir.run_env(
        &["pull", &upstream.reference("apps/hello:2.0.0"), "--cache-dir", &cache, "-d", "hello.wasm", "-v"],
        &[("WASMSHIP_HOSTS_DIR", dir.path("certs.d").to_str().expect("UTF-8"))],
    );
    let run = run.success();
    assert_eq!(dir.read("hello.wasm"), wasm);
    assert!(from_binary(&upstream)[upstream_before..].is_empty(), "the upstream was not contacted");
    let at_mirror = from_binary(&mirror);
    assert!(at_mirror.iter().any(|r| r.path.contains("/manifests/2.0.0?ns=")), "{at_mirror:#?}");
    assert!(
        at_mirror
            .iter()
            .filter(|r| r.method != "HEAD" || r.path.contains("/v2/apps/"))
            .all(|r| r.path.contains(&format!("ns={}", upstream.host().replace(':', "%3A")))
                || r.path.contains(&format!("ns={}", upstream.host()))),
        "every request names the registry it stands in for: {at_mirror:#?}"
    );
    let stderr = run.stderr.clone();
    assert!(stderr.contains(&format!("blob {layer}: served by mirror {}", mirror.host())), "{stderr}");
}

#[test]
fn pulls_fall_back_to_the_upstream_when_the_mirror_is_down() {
    let dir = TestDir::new();
    let upstream = Registry::start(&dir);
    let (wasm, _, layer) = pushed(&dir, &upstream, "apps/hello:1.0.0");
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    // Nothing listens there any more.
    let down = format!("127.0.0.1:{closed}");
    dir.write("registries.conf", registries_conf(&upstream.host(), &down, Some("all")).as_bytes());

    let out = dir
        .run(&[
            "pull",
            &upstream.reference("apps/hello:1.0.0"),
            "--registries-conf",
            "registries.conf",
            "--cache-dir",
            &fresh_cache(&dir),
            "-d",
            "hello.wasm",
            "-o",
            "json",
        ])
        .success()
        .stdout_json();
    assert_eq!(dir.read("hello.wasm"), wasm);
    let served = served_by(&out);
    assert!(served.contains(&("blob".into(), layer.clone(), upstream.host(), false)), "{served:#?}");
    assert!(!served.iter().any(|(_, _, host, _)| *host == down), "{served:#?}");
    assert!(from_binary(&upstream).iter().any(|r| r.is_blob_get(&layer)));
}

#[test]
fn a_mirror_serving_tampered_content_is_refused_and_the_upstream_serves() {
    let dir = TestDir::new();
    let upstream = Registry::start(&dir);
    let mirror = Registry::pull_through(&dir, &upstream);
    let (wasm, manifest_digest, layer) = pushed(&dir, &upstream, "apps/hello:1.0.0");
    let proxy = FaultProxy::start(mirror.port());
    let blob_path = format!("/blobs/{layer}");
    proxy.inject(usize::MAX, move |head| head.path().contains(&blob_path), Fault::CorruptResponseBody { at: 10 });
    let manifest_path = format!("/manifests/{manifest_digest}");
    proxy.inject(
        usize::MAX,
        move |head| head.path().contains(&manifest_path),
        Fault::Serve {
            status: 200,
            content_type: "application/vnd.oci.image.manifest.v1+json".into(),
            body: br#"{"schemaVersion":2,"layers":[]}"#.to_vec(),
        },
    );
    dir.write("registries.conf", registries_conf(&upstream.host(), &proxy.host(), None).as_bytes());

    for cache in [None, Some(fresh_cache(&dir))] {
        let mut args = vec![
            "pull".to_string(),
            upstream.reference("apps/hello:1.0.0"),
            "--registries-conf".into(),
            "registries.conf".into(),
            "-d".into(),
            "hello.wasm".into(),
            "-v".into(),
        ];
        match &cache {
            Some(dir) => args.extend(["--cache-dir".to_string(), dir.clone()]),
            None => args.push("--no-cache".into()),
        }
        let _ = std::fs::remove_file(dir.path("hello.wasm"));
        let run = dir.run(&args).success();
        assert_eq!(dir.read("hello.wasm"), wasm, "the upstream's bytes, never the mirror's");
        let stderr = run.stderr.clone();
        assert!(stderr.contains(&format!("mirror {} passed over", proxy.host())), "{stderr}");
        assert!(stderr.contains("digest mismatch"), "{stderr}");
        assert!(stderr.contains(&format!("blob {layer}: served by registry {}", upstream.host())), "{stderr}");
        if let Some(cache) = &cache {
            let cached = std::path::Path::new(cache).join("blobs/sha256").join(digest_hex(&layer));
            assert_eq!(std::fs::read(cached).expect("the cache holds the layer"), wasm);
        }
    }
}

#[test]
fn inspect_copy_and_app_pull_go_through_the_mirror_named_by_the_environment() {
    let dir = TestDir::new();
    let upstream = Registry::start(&dir);
    let mirror = Registry::pull_through(&dir, &upstream);
    let (wasm, manifest_digest, layer) = pushed(&dir, &upstream, "apps/hello:1.0.0");
    let conf = dir.write("mirrors/registries.conf", registries_conf(&upstream.host(), &mirror.host(), None).as_bytes());
    let env = [("WASMSHIP_REGISTRIES_CONF", conf.to_str().expect("UTF-8"))];
    let pinned = format!("{}@{manifest_digest}", upstream.reference("apps/hello"));

    let layer_gets = || from_binary(&mirror).into_iter().filter(|r| r.is_blob_get(&layer)).count();

    let out = dir.run_env(&["inspect", &pinned, "--no-cache", "-o", "json"], &env).success().stdout_json();
    let served = served_by(&out);
    assert!(served.contains(&("manifest".into(), manifest_digest.clone(), mirror.host(), true)), "{served:#?}");
    assert!(served.iter().all(|(_, _, host, _)| *host == mirror.host()), "{served:#?}");

    let before = layer_gets();
    dir.run_env(&["copy", &pinned, "oci-layout://copied:1.0.0"], &env).success();
    assert_eq!(dir.read(&format!("copied/blobs/sha256/{}", digest_hex(&layer))), wasm);
    assert_eq!(layer_gets(), before + 1, "copy read the layer from the mirror");

    let manifest = format!(
        "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata:\n  name: hello\n  annotations:\n    version: v0.0.1\n\
         spec:\n  components:\n    - name: hello\n      type: component\n      properties:\n        image: {pinned}\n"
    );
    dir.write("wadm.yaml", manifest.as_bytes());
    let upstream_before = from_binary(&upstream).len();
    let before = layer_gets();
    dir.run_env(&["app", "pull", "wadm.yaml", "--cache-dir", &fresh_cache(&dir)], &env).success();
    let at_upstream = from_binary(&upstream)[upstream_before..].to_vec();
    assert!(at_upstream.is_empty(), "a pinned reference needs nothing of the upstream: {at_upstream:#?}");
    assert_eq!(layer_gets(), before + 1, "app pull read the layer from the mirror");
}

#[test]
fn the_users_registries_conf_is_read_by_default_and_a_blocked_registry_is_refused() {
    let dir = TestDir::new();
    let upstream = Registry::start(&dir);
    let mirror = Registry::pull_through(&dir, &upstream);
    let (wasm, _, layer) = pushed(&dir, &upstream, "apps/hello:1.0.0");
    let user_conf = dir.home().join(".config/containers/registries.conf");
    std::fs::create_dir_all(user_conf.parent().expect("parent")).expect("create config dir");
    std::fs::write(&user_conf, registries_conf(&upstream.host(), &mirror.host(), None)).expect("write user conf");

    let plan = dir.run(&["plan", "pull", &upstream.reference("apps/hello:1.0.0"), "-o", "json"]).success();
    let plan = plan.stdout_json();
    let registries: Vec<&str> = plan["needs"]["registries"]
        .as_array()
        .or_else(|| plan["registries"].as_array())
        .expect("registries in the plan")
        .iter()
        .map(|r| str_field(r, "name"))
        .collect();
    assert!(registries.contains(&mirror.host().as_str()), "the mirror is granted: {plan:#}");

    dir.run(&["pull", &upstream.reference("apps/hello:1.0.0"), "--no-cache", "-d", "hello.wasm"]).success();
    assert_eq!(dir.read("hello.wasm"), wasm);
    assert!(from_binary(&mirror).iter().any(|r| r.is_blob_get(&layer)), "pulled through the user's mirror");

    let blocked = format!("[[registry]]\nprefix = \"{}/apps\"\nblocked = true\n", upstream.host());
    std::fs::create_dir_all(dir.home().join(".config/containers/registries.conf.d")).expect("drop-in dir");
    std::fs::write(dir.home().join(".config/containers/registries.conf.d/50-block.conf"), blocked).expect("write");
    let run = dir.run(&["pull", &upstream.reference("apps/hello:1.0.0"), "--no-cache", "-d", "blocked.wasm"]).failure();
    let stderr = run.stderr.clone();
    assert!(stderr.contains("blocked by") && stderr.contains("50-block.conf"), "{stderr}");
    assert!(!dir.path("blocked.wasm").exists());
}

#[test]
fn a_bad_mirror_configuration_is_an_error_that_names_the_file() {
    let dir = TestDir::new();
    let upstream = Registry::start(&dir);
    dir.write("registries.conf", b"[[registry]]\nprefix = \"https://x.io\"\n");
    let run = dir
        .run(&["pull", &upstream.reference("a/b:1"), "--registries-conf", "registries.conf", "--no-cache"])
        .failure();
    let stderr = run.stderr.clone();
    assert!(stderr.contains("registries.conf") && stderr.contains("no scheme"), "{stderr}");
    let run = dir.run(&["pull", &upstream.reference("a/b:1"), "--hosts-dir", "missing.d", "--no-cache"]).failure();
    assert!(run.stderr.clone().contains("missing.d"), "{}", run.stderr.clone());
}

#[test]
fn an_https_mirror_is_trusted_through_the_ca_its_hosts_toml_names_and_only_through_it() {
    let dir = TestDir::new();
    let upstream = Registry::start(&dir);
    let certificates = make_certificates(&dir.root().join("tls"));
    let mirror = Registry::pull_through_tls(&dir, &upstream, &certificates.certificate, &certificates.key);
    let (wasm, _, layer) = pushed(&dir, &upstream, "apps/hello:1.0.0");
    let host_dir = dir.path(&format!("certs.d/{}", upstream.host()));
    std::fs::create_dir_all(&host_dir).expect("create the host directory");
    std::fs::copy(&certificates.ca, host_dir.join("mirror-ca.pem")).expect("copy the CA");
    let hosts = |ca: &str| {
        format!(
            "server = \"http://{}\"\n[host.\"https://{}\"]\n  capabilities = [\"pull\"]\n{ca}",
            upstream.host(),
            mirror.host()
        )
    };
    let pull = |out: &str| {
        let args = ["pull", &upstream.reference("apps/hello:1.0.0"), "--hosts-dir", "certs.d", "--no-cache", "-d", out];
        let run = dir.run(&[&args[..], &["-o", "json"]].concat()).success();
        assert_eq!(dir.read(out), wasm);
        served_by(&run.stdout_json())
    };

    // Trusted through its CA (relative to the hosts.toml's directory): the mirror serves.
    std::fs::write(host_dir.join("hosts.toml"), hosts("  ca = \"mirror-ca.pem\"\n")).expect("write hosts.toml");
    let plan = dir.run(&["plan", "pull", &upstream.reference("apps/hello:1.0.0"), "--hosts-dir", "certs.d"]).success();
    assert!(plan.stdout.contains("mirror-ca.pem"), "the plan names the CA: {plan}");
    let served = pull("trusted.wasm");
    assert!(served.contains(&("blob".into(), layer.clone(), mirror.host(), true)), "{served:#?}");

    // Without it, the certificate is refused, the mirror passed over, the upstream serves.
    std::fs::write(host_dir.join("hosts.toml"), hosts("")).expect("write hosts.toml");
    let served = pull("untrusted.wasm");
    assert!(served.contains(&("blob".into(), layer, upstream.host(), false)), "{served:#?}");
    assert!(!served.iter().any(|(_, _, host, _)| *host == mirror.host()), "{served:#?}");
}
