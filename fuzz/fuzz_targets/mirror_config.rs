//! Fuzzes the mirror configuration readers: `registries.conf` v2 (rules, then the route of
//! references derived from the input) and containerd `hosts.toml`. Neither may panic, and
//! every route names a repository on every endpoint.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmship::mirror::{Mirrors, RegistriesConf, hosts_toml};
use wasmship::reference::Reference;

const REFERENCES: &[&str] =
    &["docker.io/library/alpine:3", "ghcr.io/wasmcloud/http:0.1.0", "127.0.0.1:5000/a/b@sha256:0000000000000000000000000000000000000000000000000000000000000000", "a.b.example/x/y/z:1"];

fuzz_target!(|bytes: &[u8]| {
    let Some((&selector, rest)) = bytes.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    if selector % 2 == 0 {
        if let Ok(file) = hosts_toml::parse(text, "hosts.toml") {
            for host in file.hosts.iter().map(|h| &h.url).chain(file.server.as_ref()) {
                assert!(host.api_root.starts_with('/'));
                assert!(!host.authority.is_empty());
            }
        }
        return;
    }
    let mut conf = RegistriesConf::default();
    if conf.add(text, "registries.conf").is_err() {
        return;
    }
    let mirrors = Mirrors::from_registries_conf(conf);
    for reference in REFERENCES {
        let Ok(Reference::Registry(r)) = Reference::parse(reference) else { continue };
        if let Ok(Some(route)) = mirrors.route(&r) {
            for endpoint in route.mirrors.iter().chain(std::iter::once(&route.upstream)) {
                assert!(!endpoint.reference.repository.is_empty());
                assert!(!endpoint.reference.registry.is_empty());
            }
        }
        let _ = mirrors.hosts_for_registry(&r.registry);
    }
});
