//! Routes built from both configuration formats.

use std::path::{Path, PathBuf};

use super::*;
use crate::reference::Reference;

fn registry_reference(text: &str) -> RegistryReference {
    match Reference::parse(text).unwrap() {
        Reference::Registry(r) => r,
        Reference::Layout(_) => unreachable!(),
    }
}

fn conf(text: &str) -> Mirrors {
    let mut conf = RegistriesConf::default();
    conf.add(text, "registries.conf").unwrap();
    Mirrors::from_registries_conf(conf)
}

fn summary(route: &Route) -> Vec<String> {
    route
        .mirrors
        .iter()
        .chain(std::iter::once(&route.upstream))
        .map(|e| {
            format!(
                "{}/{} tags={} digests={}",
                e.reference.registry, e.reference.repository, e.resolves_tags, e.serves_digests
            )
        })
        .collect()
}

#[test]
fn registries_conf_mirrors_come_first_and_keep_the_rest_of_the_path() {
    let mirrors = conf(
        r#"
[[registry]]
prefix = "ghcr.io/wasmcloud"
location = "registry.corp/wasmcloud"
[[registry.mirror]]
location = "mirror-a.corp/ghcr/wasmcloud"
[[registry.mirror]]
location = "mirror-b.corp/cache"
pull-from-mirror = "all"
"#,
    );
    let route = mirrors.route(&registry_reference("ghcr.io/wasmcloud/components/http:0.1.0")).unwrap().unwrap();
    assert_eq!(
        summary(&route),
        [
            "mirror-a.corp/ghcr/wasmcloud/components/http tags=false digests=true",
            "mirror-b.corp/cache/components/http tags=true digests=true",
            "registry.corp/wasmcloud/components/http tags=true digests=true",
        ]
    );
    assert_eq!(route.upstream.reference.tag.as_deref(), Some("0.1.0"));
    assert!(mirrors.route(&registry_reference("ghcr.io/other/x:1")).unwrap().is_none());
}

#[test]
fn a_tag_only_mirror_never_serves_a_digest_asked_for() {
    let mirrors = conf(
        "[[registry]]\nprefix = \"r.io\"\n[[registry.mirror]]\nlocation = \"m.io\"\npull-from-mirror = \"tag-only\"\n",
    );
    let digest = format!("r.io/a/b@sha256:{}", "0".repeat(64));
    let by_digest = mirrors.route(&registry_reference(&digest)).unwrap().unwrap();
    assert!(!by_digest.mirrors[0].serves_digests);
    let by_tag = mirrors.route(&registry_reference("r.io/a/b:1")).unwrap().unwrap();
    assert!(by_tag.mirrors[0].serves_digests && by_tag.mirrors[0].resolves_tags);
}

#[test]
fn blocked_registries_are_refused_naming_the_file() {
    let mirrors = conf("[[registry]]\nprefix = \"*.blocked.example\"\nblocked = true\n");
    let error = mirrors.route(&registry_reference("a.blocked.example/x:1")).unwrap_err().to_string();
    assert!(error.contains("blocked by registries.conf"), "{error}");
}

#[test]
fn a_wildcard_rule_keeps_the_host_and_mirrors_get_the_path() {
    let mirrors =
        conf("[[registry]]\nprefix = \"*.corp.example\"\n[[registry.mirror]]\nlocation = \"cache.example/corp\"\n");
    let route = mirrors.route(&registry_reference("eu.corp.example/team/app:2")).unwrap().unwrap();
    assert_eq!(
        summary(&route),
        ["cache.example/corp/team/app tags=false digests=true", "eu.corp.example/team/app tags=true digests=true"]
    );
}

#[test]
fn hosts_toml_mirrors_carry_scheme_root_and_namespace() {
    let dir = crate::fsutil::TempDir::new_in(&std::env::temp_dir(), "mirror-test").unwrap();
    let host_dir = dir.path().join("127.0.0.1_5000_");
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(
        host_dir.join("hosts.toml"),
        "server = \"http://127.0.0.1:5000\"\n[host.\"http://127.0.0.1:6000\"]\ncapabilities = [\"pull\"]\n\
         [host.\"https://trusted.example/proxy\"]\ncapabilities = [\"pull\", \"resolve\"]\nskip_verify = true\n",
    )
    .unwrap();
    let sources = MirrorSources { hosts_dir: Some(dir.path().to_path_buf()), ..Default::default() };
    let mirrors = Mirrors::load(&sources).unwrap();
    let route = mirrors.route(&registry_reference("127.0.0.1:5000/a/b:1")).unwrap().unwrap();
    assert_eq!(
        summary(&route),
        [
            "127.0.0.1:6000/a/b tags=false digests=true",
            "trusted.example/a/b tags=true digests=true",
            "127.0.0.1:5000/a/b tags=true digests=true",
        ]
    );
    assert_eq!(route.mirrors[0].scheme, Some(Scheme::Http));
    assert_eq!(route.mirrors[0].namespace.as_deref(), Some("127.0.0.1:5000"));
    assert_eq!(route.mirrors[1].api_root, "/proxy/v2");
    assert_eq!(route.upstream.scheme, Some(Scheme::Http));
    let hosts: Vec<_> = mirrors
        .hosts_for_registry("127.0.0.1:5000")
        .unwrap()
        .into_iter()
        .map(|h| (h.host, h.skip_tls_verify))
        .collect();
    assert_eq!(hosts, [("127.0.0.1:6000".to_string(), false), ("trusted.example".to_string(), true)]);
    assert!(mirrors.route(&registry_reference("127.0.0.1:7000/a/b:1")).unwrap().is_none());
}

#[test]
fn podman_defaults_user_file_over_system_file_with_both_drop_in_dirs() {
    let vars = |name: &str| (name == "HOME").then(|| "/home/u".to_string());
    let with_user =
        MirrorSources::choose(None, None, vars, |p| p == Path::new("/home/u/.config/containers/registries.conf"));
    assert_eq!(with_user.registries_conf, [PathBuf::from("/home/u/.config/containers/registries.conf")]);
    assert_eq!(
        with_user.drop_in_dirs,
        [
            PathBuf::from("/etc/containers/registries.conf.d"),
            PathBuf::from("/home/u/.config/containers/registries.conf.d")
        ]
    );
    let without = MirrorSources::choose(None, None, vars, |_| false);
    assert_eq!(without.registries_conf, [PathBuf::from(SYSTEM_REGISTRIES_CONF)]);
    let named = MirrorSources::choose(None, Some(Path::new("/etc/hosts.d")), vars, |_| true);
    assert_eq!(named, MirrorSources { hosts_dir: Some("/etc/hosts.d".into()), ..Default::default() });
    let by_env = MirrorSources::choose(None, None, |n| (n == REGISTRIES_CONF_VAR).then(|| "/x.conf".into()), |_| true);
    assert_eq!(by_env.registries_conf, [PathBuf::from("/x.conf")]);
}

#[test]
fn debian_shortnames_drop_in_is_read_and_names_no_mirror() {
    let mut conf = RegistriesConf::default();
    conf.add("[aliases]\n  # docker\n  \"alpine\" = \"docker.io/library/alpine\"\n", "shortnames.conf").unwrap();
    conf.add("unqualified-search-registries = [\"docker.io\"]\nshort-name-mode = \"enforcing\"\n", "r.conf").unwrap();
    assert!(Mirrors::from_registries_conf(conf).is_empty());
}
