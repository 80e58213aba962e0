//! The `Store` conformance suite (`wasmship::store::conformance`) against the registry
//! backend: the packager's `RegistryStore` on a native transport, talking to a real
//! `docker-registry`, each fresh store a repository of its own. Blobs with other bytes or cut
//! short are planted in the registry's own storage (a registry whose disk went bad); manifests
//! with other bytes are served by the fault proxy, which cannot be planted in storage without
//! the registry itself refusing the manifest as unreadable. A second run goes through the
//! proxy, with tag lists paginated.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use wasmship::auth::Access;
use wasmship::oci::Digest;
use wasmship::reference::Reference;
use wasmship::store::Store;
use wasmship::store::conformance::{self, Expectations, Harness, Plant};
use wasmship::store::registry::{ClientOptions, RegistryClient, RegistryStore};

use crate::util::{Fault, FaultProxy, Registry, RequestHead, TcpTransport, TestDir};

/// Registry stores, reached directly or through a fault proxy.
struct Registries<'a> {
    dir: &'a TestDir,
    registry: &'a Registry,
    proxy: Option<&'a FaultProxy>,
    made: u32,
}

impl Registries<'_> {
    fn host(&self) -> String {
        self.proxy.map_or_else(|| self.registry.host(), FaultProxy::host)
    }

    fn open(&self, repository: &str) -> RegistryStore {
        let Ok(Reference::Registry(reference)) = Reference::parse(&format!("{}/{repository}", self.host())) else {
            panic!("not a registry reference: {repository}");
        };
        let client =
            RegistryClient::new(Box::new(TcpTransport), &reference, Access::PullPush, ClientOptions::default());
        RegistryStore::new(client, &reference)
    }

    /// The repository of a store this harness made.
    fn repository(store: &dyn Store) -> String {
        store.registry_repository().expect("a registry store").1
    }

    /// Rewrites the registry's own copy of blob `digest`.
    fn rewrite_stored(&self, digest: &Digest, change: impl FnOnce(&mut Vec<u8>)) {
        let path = self.registry.blob_data_path(&digest.to_string());
        let mut bytes = fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        change(&mut bytes);
        fs::write(&path, bytes).unwrap();
    }
}

impl Harness for Registries<'_> {
    fn name(&self) -> String {
        if self.proxy.is_some() { "registry through a proxy" } else { "registry" }.to_string()
    }

    fn fresh(&mut self) -> Box<dyn Store> {
        self.made += 1;
        Box::new(self.open(&format!("conformance/store-{}", self.made)))
    }

    fn scratch_dir(&mut self) -> PathBuf {
        self.made += 1;
        let dir = self.dir.root().join(format!("scratch-{}", self.made));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn expectations(&self) -> Expectations {
        // docker-registry mounts blobs across repositories; a registry store never links.
        Expectations { links: false, mounts: true }
    }

    fn plant(&mut self, store: &dyn Store, plant: Plant<'_>) -> bool {
        match plant {
            Plant::BlobBytes(digest) => self.rewrite_stored(digest, |bytes| bytes[0] = bytes[0].wrapping_add(1)),
            Plant::BlobTruncated(digest) => self.rewrite_stored(digest, |bytes| {
                bytes.pop();
            }),
            Plant::ManifestBytes { digest, tag } => {
                let Some(proxy) = self.proxy else { return false };
                let base = format!("/v2/{}/manifests/", Self::repository(store));
                let paths = [format!("{base}{digest}"), format!("{base}{tag}")];
                let reads = move |r: &RequestHead| r.method == "GET" && paths.iter().any(|p| p == r.path());
                proxy.inject(1, reads, Fault::CorruptResponseBody { at: 0 });
            }
        }
        true
    }
}

#[test]
fn the_registry_store_keeps_the_store_contract() {
    let dir = TestDir::new();
    let registry = Registry::start(&dir);
    let mut harness = Registries { dir: &dir, registry: &registry, proxy: None, made: 0 };
    let report = conformance::run_all(&mut harness);
    assert_eq!(report.not_exercised_names(), ["manifest_read_refuses_other_bytes"], "{report:#?}");
}

#[test]
fn the_registry_store_keeps_the_store_contract_through_a_proxy() {
    let dir = TestDir::new();
    let registry = Registry::start(&dir);
    let proxy = FaultProxy::start(registry.port());
    proxy.paginate_tags(2);
    let mut harness = Registries { dir: &dir, registry: &registry, proxy: Some(&proxy), made: 0 };
    let report = conformance::run_all(&mut harness);
    assert!(report.not_exercised.is_empty(), "{report:#?}");
    // The proxy logs an exchange once its connection is closed, which may be after the client
    // has read the whole answer.
    let waited = Instant::now();
    while proxy.faulted().len() < 2 && waited.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let corrupted = proxy.faulted();
    assert_eq!(corrupted.len(), 2, "manifest reads by tag and by digest served other bytes: {corrupted:#?}");
    assert!(corrupted.iter().all(|e| e.method == "GET" && e.path().contains("/manifests/")), "{corrupted:#?}");
    let paged = proxy.exchanges().into_iter().filter(|e| e.target.contains("/tags/list?")).count();
    assert!(paged > 0, "tag lists were read a page at a time");
}
