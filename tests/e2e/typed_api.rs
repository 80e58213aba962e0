//! The typed library `wasmship:packager@0.2.0` called from a host generated with
//! `wasmtime::component::bindgen!`, against the test registry: every function of `client`,
//! `providers` and `packages` once, and the error categories callers branch on.
//!
//! The bytes functions run with no directory preopened at all, the way a wasmCloud host
//! runs components; the file, layout, provider and WIT functions with the test's working
//! directory preopened at its absolute path.

use std::path::Path;

use wasmtime::Store;
use wasmtime::component::Resource;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, InputStream, OutputStream};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiView};

use crate::util::wasi_host::{Host, compiled, host};
use crate::util::{
    DEMO_EXPORT, EPOCH, NOT_WASM, Registry, TestDir, WASM_CONFIG, WASM_LAYER, big_component, demo_component,
    sha256_digest, str_field,
};

use crate::util::wasi_host::bindings;
use bindings::Packager;
use bindings::exports::wasmship::packager0_2_0::client::{CopyOptions, PullOptions, PushOptions};
use bindings::exports::wasmship::packager0_2_0::packages::PackageFormat;
use bindings::exports::wasmship::packager0_2_0::providers::Check;
use bindings::exports::wasmship::packager0_2_0::types::{
    BasicCredential, CachePolicy, ClientOptions, Credential, Error, RegistryCredential,
};

/// A packager instance with `wasi` (its preopens and environment).
async fn packager(wasi: WasiCtx) -> (Store<Host>, Packager) {
    let (linker, mut store) = host(wasi);
    let packager = Packager::instantiate_async(&mut store, &compiled().1, &linker).await.unwrap();
    (store, packager)
}

/// No preopened directory, no environment.
fn bare() -> WasiCtx {
    WasiCtx::builder().inherit_stderr().build()
}

/// `dir` preopened at its absolute path.
fn granting(dir: &Path) -> WasiCtx {
    WasiCtx::builder().inherit_stderr().preopened_dir(dir, dir.to_str().unwrap(), FsPerms::ReadWrite).unwrap().build()
}

fn options(
    credentials: Option<Vec<RegistryCredential>>,
    cache: CachePolicy,
    cache_dir: Option<&Path>,
) -> ClientOptions {
    ClientOptions {
        insecure: Vec::new(),
        allow_latest: false,
        credentials,
        cache,
        cache_dir: cache_dir.map(|d| d.display().to_string()),
    }
}

fn basic(registry: &Registry, username: &str, password: &str) -> RegistryCredential {
    RegistryCredential {
        registry: registry.host(),
        credential: Credential::Basic(BasicCredential { username: username.into(), password: password.into() }),
    }
}

/// A `wasi:io` input stream the host owns, holding `bytes`, borrowed for one call.
fn input_stream(store: &mut Store<Host>, bytes: Vec<u8>) -> Resource<DynInputStream> {
    let pipe = MemoryInputPipe::new(bytes);
    let stream: Resource<DynInputStream> =
        store.data_mut().ctx().table.push(Box::new(pipe) as Box<dyn InputStream>).unwrap();
    Resource::new_borrow(stream.rep())
}

fn push_options() -> PushOptions {
    PushOptions { annotations: vec![("org.example.via".into(), "typed api".into())], title: None, chunked: false }
}

fn pull_options() -> PullOptions {
    PullOptions { expected_digest: None, max_size: None }
}

#[tokio::test(flavor = "current_thread")]
async fn bytes_in_and_out_with_no_directory_granted() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let component = demo_component();
    let layer_digest = sha256_digest(&component);
    let reference = reg.reference("typed/demo:1.0.0");

    let (mut store, packager) = packager(bare()).await;
    let api = packager.wasmship_packager0_2_0_client().client();
    let client = api.call_constructor(&mut store, &options(Some(Vec::new()), CachePolicy::Bypass, None)).await.unwrap();

    // push: the registry holds the manifest whose digest came back, and the bytes.
    let pushed = api.call_push(&mut store, client, &reference, &component, &push_options()).await.unwrap().unwrap();
    assert_eq!(pushed.tag.as_deref(), Some("1.0.0"));
    let served = reg.manifest("typed/demo", "1.0.0").expect("manifest pushed");
    assert_eq!(pushed.digest, served.digest);
    let manifest = reg.manifest_json("typed/demo", "1.0.0");
    assert_eq!(str_field(&manifest["layers"][0], "digest"), layer_digest);
    assert_eq!(manifest["layers"][0]["annotations"]["org.opencontainers.image.title"], "demo.wasm");
    assert_eq!(manifest["annotations"]["org.example.via"], "typed api");
    assert_eq!(reg.blob("typed/demo", &layer_digest).as_deref(), Some(component.as_slice()));

    // pull: the same bytes, and what they are.
    let (pulled, bytes) = api.call_pull(&mut store, client, &reference, &pull_options()).await.unwrap().unwrap();
    assert_eq!(bytes, component);
    assert_eq!(pulled.digest, pushed.digest);
    assert_eq!(pulled.layer.digest, layer_digest);
    assert_eq!(pulled.layer.media_type, WASM_LAYER);
    assert_eq!(pulled.layer.size, component.len() as u64);
    assert!(!pulled.from_cache && pulled.destination.is_none(), "{pulled:?}");

    // pull-into: the bytes into a stream the host owns.
    let pipe = MemoryOutputPipe::new(1 << 20);
    let stream: Resource<DynOutputStream> =
        store.data_mut().ctx().table.push(Box::new(pipe.clone()) as Box<dyn OutputStream>).unwrap();
    let borrowed = Resource::new_borrow(stream.rep());
    let streamed =
        api.call_pull_into(&mut store, client, &reference, borrowed, &pull_options()).await.unwrap().unwrap();
    assert_eq!(streamed.layer.digest, layer_digest);
    assert_eq!(pipe.contents().as_ref(), component.as_slice());

    // inspect, tags, copy.
    let info = api.call_inspect(&mut store, client, &reference).await.unwrap().unwrap();
    assert_eq!(info.manifest.digest, pushed.digest);
    assert_eq!(info.config.media_type, WASM_CONFIG);
    assert_eq!(info.layers.len(), 1);
    assert_eq!(info.layers[0].digest, layer_digest);
    assert!(info.exports.iter().any(|e| e == DEMO_EXPORT), "{:?}", info.exports);
    assert!(info.provider.is_none());
    let tags = api.call_tags(&mut store, client, &reference).await.unwrap().unwrap();
    assert_eq!(tags, ["1.0.0"]);
    let target = reg.reference("typed/copied:2.0.0");
    let copied = api
        .call_copy(&mut store, client, &reference, &target, CopyOptions { include_referrers: true })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(copied.digest.as_deref(), Some(pushed.digest.as_str()));
    assert_eq!(copied.tag.as_deref(), Some("2.0.0"));
    assert_eq!(reg.manifest("typed/copied", "2.0.0").expect("copied").digest, pushed.digest);
    assert_eq!(reg.blob("typed/copied", &layer_digest).as_deref(), Some(component.as_slice()));

    // push-from: a component larger than one upload chunk (8 MiB), read once from a stream.
    let big = big_component(9 * 1024 * 1024);
    let big_digest = sha256_digest(&big);
    let streamed_ref = reg.reference("typed/streamed:1.0.0");
    let input = input_stream(&mut store, big.clone());
    let options = PushOptions { title: Some("big.wasm".into()), ..push_options() };
    let from = api.call_push_from(&mut store, client, &streamed_ref, input, &options).await.unwrap().unwrap();
    assert_eq!((from.uploaded_blobs, from.skipped_blobs), (2, 0));
    assert_eq!(reg.manifest("typed/streamed", "1.0.0").expect("pushed").digest, from.digest);
    let manifest = reg.manifest_json("typed/streamed", "1.0.0");
    assert_eq!(str_field(&manifest["layers"][0], "digest"), big_digest);
    assert_eq!(manifest["layers"][0]["annotations"]["org.opencontainers.image.title"], "big.wasm");
    assert!(reg.blob("typed/streamed", &big_digest) == Some(big), "the streamed layer is stored byte for byte");
    let not_wasm = input_stream(&mut store, NOT_WASM.to_vec());
    let refused = api.call_push_from(&mut store, client, &streamed_ref, not_wasm, &push_options()).await.unwrap();
    assert!(matches!(refused, Err(Error::InvalidInput(_))), "{refused:?}");

    // The error categories.
    let pull = |reference: String, options: PullOptions| (reference, options);
    let cases = [
        ("a bad reference", pull("Not A Reference!".into(), pull_options())),
        ("a missing tag", pull(reg.reference("typed/demo:9.9.9"), pull_options())),
        (
            "a digest the tag does not have",
            pull(
                reference.clone(),
                PullOptions { expected_digest: Some(format!("sha256:{}", "0".repeat(64))), max_size: None },
            ),
        ),
        ("a layer above max-size", pull(reference.clone(), PullOptions { expected_digest: None, max_size: Some(16) })),
    ];
    let mut got = Vec::new();
    for (what, (reference, options)) in &cases {
        let result = api.call_pull(&mut store, client, reference, options).await.unwrap();
        got.push((*what, result.map(|_| ()).unwrap_err()));
    }
    assert!(matches!(got[0].1, Error::InvalidReference(_)), "{got:?}");
    assert!(matches!(got[1].1, Error::NotFound(_)), "{got:?}");
    assert!(matches!(got[2].1, Error::DigestMismatch(_)), "{got:?}");
    assert!(matches!(&got[3].1, Error::TooLarge(m) if m.contains("16")), "{got:?}");
    let latest = reg.reference("typed/demo:latest");
    let latest = api.call_push(&mut store, client, &latest, &component, &push_options()).await.unwrap();
    assert!(matches!(&latest, Err(Error::Policy(m)) if m.contains("`allow-latest`")), "{latest:?}");
    let not_wasm = api.call_push(&mut store, client, &reference, NOT_WASM, &push_options()).await.unwrap();
    assert!(matches!(not_wasm, Err(Error::InvalidInput(_))), "{not_wasm:?}");
    let layout = api.call_tags(&mut store, client, "oci-layout://nowhere:1").await.unwrap();
    assert!(matches!(layout, Err(Error::Io(_) | Error::NotFound(_))), "{layout:?}");
    client.resource_drop_async(&mut store).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn given_credentials_are_the_only_ones() {
    let dir = TestDir::new();
    let reg = Registry::with_htpasswd(&dir, "alice", "s3cret-pass");
    let component = demo_component();
    let reference = reg.reference("private/demo:1.0.0");

    // The right credentials are in the environment, but an empty list means anonymous.
    let wasi = WasiCtx::builder()
        .inherit_stderr()
        .env("WASH_REG_USER", "alice")
        .env("WASH_REG_PASSWORD", "s3cret-pass")
        // One `created` time, so the same content makes the same manifest.
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .build();
    let (mut store, packager) = packager(wasi).await;
    let api = packager.wasmship_packager0_2_0_client().client();
    let call = async |store: &mut Store<Host>, credentials: Option<Vec<RegistryCredential>>| {
        let client = api.call_constructor(&mut *store, &options(credentials, CachePolicy::Bypass, None)).await.unwrap();
        let result = api.call_push(&mut *store, client, &reference, &component, &push_options()).await.unwrap();
        client.resource_drop_async(&mut *store).await.unwrap();
        result
    };
    let anonymous = call(&mut store, Some(Vec::new())).await;
    assert!(matches!(&anonymous, Err(Error::Unauthorized(m)) if !m.contains("s3cret")), "{anonymous:?}");
    let wrong = call(&mut store, Some(vec![basic(&reg, "alice", "wrong-pass")])).await;
    assert!(matches!(&wrong, Err(Error::Unauthorized(m)) if !m.contains("wrong-pass")), "{wrong:?}");
    assert!(reg.manifest("private/demo", "1.0.0").is_none());

    let given = call(&mut store, Some(vec![basic(&reg, "alice", "s3cret-pass")])).await.expect("given credentials");
    assert_eq!(reg.manifest("private/demo", "1.0.0").expect("pushed").digest, given.digest);
    // `none`: the command line's sources, here the environment.
    let ambient = call(&mut store, None).await.expect("credentials from the environment");
    assert_eq!(ambient.digest, given.digest);
    assert_eq!(ambient.skipped_blobs, 2);
}

#[tokio::test(flavor = "current_thread")]
async fn files_layouts_providers_and_wit_packages() {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    let work = dir.work().to_path_buf();
    let cache = work.join("cache");
    let component = demo_component();
    let file = dir.write("demo.wasm", &component);

    // Fixtures made with the command line: a provider archive and two published WIT packages.
    crate::wit::example_project(&dir, &reg);
    let cache_var = crate::util::cache_dir(&dir).display().to_string();
    for fixture in ["fixtures/types/wit", "fixtures/api/wit"] {
        dir.run_env(&["wit", "publish", fixture], &[("WASMSHIP_CACHE_DIR", &cache_var)]).success();
    }
    dir.write("my-provider", crate::par::BINARY);
    let mut create = crate::par::create_args("provider.par.gz", "keys");
    create.push("--compress");
    dir.run(&create).success();

    let (mut store, packager) = packager(granting(&work)).await;
    let api = packager.wasmship_packager0_2_0_client().client();
    let client = api.call_constructor(&mut store, &options(None, CachePolicy::Revalidate, Some(&cache))).await.unwrap();

    // push-file to a registry and to an OCI layout; pull-file back from each.
    let reference = reg.reference("typed/file:1.0.0");
    let path = file.display().to_string();
    let pushed = api.call_push_file(&mut store, client, &reference, &path, &push_options()).await.unwrap().unwrap();
    assert_eq!(reg.manifest("typed/file", "1.0.0").expect("pushed").digest, pushed.digest);
    let layout = format!("oci-layout://{}:1.0.0", work.join("layout").display());
    let in_layout = api.call_push_file(&mut store, client, &layout, &path, &push_options()).await.unwrap().unwrap();
    assert_eq!(in_layout.digest, pushed.digest);

    let streamed = format!("oci-layout://{}:streamed", work.join("layout").display());
    let input = input_stream(&mut store, component.clone());
    let from = api.call_push_from(&mut store, client, &streamed, input, &push_options()).await.unwrap().unwrap();
    let layer_path = work.join("layout/blobs/sha256").join(&sha256_digest(&component)["sha256:".len()..]);
    assert_eq!(std::fs::read(layer_path).unwrap(), component);
    assert_eq!(from.tag.as_deref(), Some("streamed"));

    let out = work.join("out.wasm").display().to_string();
    let pulled =
        api.call_pull_file(&mut store, client, &reference, Some(&out), &pull_options()).await.unwrap().unwrap();
    assert_eq!(pulled.destination.as_deref(), Some(out.as_str()));
    assert_eq!(pulled.layer.digest, sha256_digest(&component));
    assert_eq!(std::fs::read(&out).unwrap(), component);
    assert!(cache.join("oci-layout").is_file(), "pulled through the cache");
    let from_layout = work.join("from-layout.wasm").display().to_string();
    api.call_pull_file(&mut store, client, &layout, Some(&from_layout), &pull_options()).await.unwrap().unwrap();
    assert_eq!(std::fs::read(&from_layout).unwrap(), component);

    // providers: an archive as bytes and as a file; a tampered one fails its check.
    let archive = std::fs::read(dir.path("provider.par.gz")).unwrap();
    let providers = packager.wasmship_packager0_2_0_providers();
    let info = providers.call_inspect_archive(&mut store, &archive).await.unwrap().unwrap();
    assert_eq!((info.name.as_deref(), info.vendor.as_str()), (Some("My Provider"), "Acme"));
    assert_eq!(info.targets, ["x86_64-linux"]);
    assert!(info.compressed && info.issuer.starts_with('A') && info.service.starts_with('V'), "{info:?}");
    assert!(matches!((&info.hashes, &info.signature), (Check::Valid, Check::Valid)), "{info:?}");
    let path = dir.path("provider.par.gz").display().to_string();
    let from_file = providers.call_inspect_archive_file(&mut store, &path).await.unwrap().unwrap();
    assert_eq!(from_file.service, info.service);
    let broken = providers.call_inspect_archive(&mut store, b"\x1f\x8b not really gzip").await.unwrap();
    assert!(matches!(broken, Err(Error::InvalidArchive(_))), "{broken:?}");

    // packages: one package as WIT and as Wasm; the world's dependencies into wit/deps.
    let packages = packager.wasmship_packager0_2_0_packages();
    let project = work.display().to_string();
    let wit = packages
        .call_get(&mut store, client, "example:api", PackageFormat::Wit, Some(&project))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(wit.name, "example:api@0.2.0");
    assert_eq!(wit.reference, reg.reference("wit/example/api:0.2.0"));
    let text = String::from_utf8(wit.content).unwrap();
    assert!(text.starts_with("package example:api@0.2.0;") && text.contains("package example:types@0.1.0 {"));
    let wasm = packages
        .call_get(&mut store, client, "example:types@0.1.0", PackageFormat::Wasm, Some(&project))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sha256_digest(&wasm.content), wasm.digest);
    let missing = packages.call_get(&mut store, client, "example:nothing", PackageFormat::Wit, Some(&project)).await;
    assert!(matches!(missing.unwrap(), Err(Error::NotFound(_))));

    let fetched = packages.call_fetch_deps(&mut store, client, &project, false).await.unwrap().unwrap();
    assert!(fetched.deps_written && fetched.lock_written, "{fetched:?}");
    let expected = crate::wit::testdata().join("app/expected");
    for name in ["example-api-0.2.0/package.wit", "example-types-0.1.0/package.wit"] {
        assert_eq!(
            std::fs::read_to_string(work.join("wit/deps").join(name)).unwrap(),
            std::fs::read_to_string(expected.join("deps").join(name)).unwrap(),
            "{name}"
        );
    }
    let again = packages.call_fetch_deps(&mut store, client, &project, false).await.unwrap().unwrap();
    assert!(!again.deps_written && !again.lock_written && !again.network, "{again:?}");
    client.resource_drop_async(&mut store).await.unwrap();
}
