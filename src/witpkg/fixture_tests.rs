//! Resolution against the fixture packages in `testdata/wit/` (built here
//! with `wit build`'s encoder and served from memory): the `wit/deps` tree and
//! `wkg.lock` of a world importing `example:api` must equal the files in
//! `testdata/wit/app/expected/` (`BLESS=1 cargo test` rewrites them), the
//! tree must parse with wit-parser, and conflicts, cycles and updates behave.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use semver::Version;

use super::deps;
use super::encode::{PackageMetadata, build};
use super::lock::LockFile;
use super::name::PackageRef;
use super::resolve::{Update, local_package, resolve};
use super::source::{Content, Home, PackageSource};
use crate::error::{Error, Result};
use crate::oci::Digest;

const REGISTRY: &str = "registry.test";

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/wit")
}

/// Packages served from memory, as a registry would.
#[derive(Default)]
struct Memory {
    packages: BTreeMap<(PackageRef, Version), Vec<u8>>,
    fetched: Vec<String>,
}

impl Memory {
    fn publish_dir(&mut self, wit_dir: &Path) {
        let built = build(wit_dir, &PackageMetadata::default()).unwrap();
        self.publish(built.spec.package, built.spec.version.unwrap(), built.bytes);
    }

    fn publish(&mut self, package: PackageRef, version: Version, bytes: Vec<u8>) {
        self.packages.insert((package, version), bytes);
    }

    fn publish_wit(&mut self, name: &str, wit: &str, deps: &[(&str, &str)]) {
        let dir = scratch(name);
        std::fs::write(dir.join("package.wit"), wit).unwrap();
        for (dep, text) in deps {
            std::fs::create_dir_all(dir.join("deps").join(dep)).unwrap();
            std::fs::write(dir.join("deps").join(dep).join("package.wit"), text).unwrap();
        }
        self.publish_dir(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

impl PackageSource for Memory {
    fn home(&mut self, _: &PackageRef, _: Option<&Version>) -> Result<Home> {
        Ok(Home::Registry(REGISTRY.into()))
    }

    fn versions(&mut self, package: &PackageRef) -> Result<Vec<Version>> {
        Ok(self.packages.keys().filter(|(p, _)| p == package).map(|(_, v)| v.clone()).collect())
    }

    fn content(&mut self, package: &PackageRef, version: &Version, pinned: Option<&Digest>) -> Result<Content> {
        let bytes = self
            .packages
            .get(&(package.clone(), version.clone()))
            .cloned()
            .ok_or_else(|| Error::NotFound { what: format!("{package}@{version}"), location: REGISTRY.into() })?;
        let digest = Digest::sha256_of(&bytes);
        if let Some(pinned) = pinned {
            assert_eq!(pinned, &digest, "pinned content");
        }
        self.fetched.push(format!("{package}@{version}"));
        Ok(Content { bytes, digest, reference: format!("{REGISTRY}/{package}:{version}"), from_network: true })
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmship-witpkg-{name}-{:x}", crate::fsutil::random_u64()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fixtures() -> Memory {
    let mut memory = Memory::default();
    memory.publish_dir(&testdata().join("types/wit"));
    memory.publish_dir(&testdata().join("api/wit"));
    memory
}

/// A project directory with `wit/world.wit` = `world`.
fn project(name: &str, world: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::create_dir_all(dir.join("wit")).unwrap();
    std::fs::write(dir.join("wit/world.wit"), world).unwrap();
    dir
}

fn check_expected(rel: &str, actual: &str) {
    let path = testdata().join(rel);
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (run with BLESS=1)", path.display()));
    assert_eq!(actual, expected, "{} differs (BLESS=1 rewrites it)", path.display());
}

#[test]
fn fetching_for_the_app_world_gives_the_expected_tree_and_lock() {
    let mut memory = fixtures();
    let app = testdata().join("app/wit");
    let local = local_package(&app).unwrap();
    assert_eq!(local.requirements.iter().map(|r| r.to_string()).collect::<Vec<_>>(), ["example:api@0.2.0"]);

    let resolution = resolve(&local, &LockFile::default(), &Update::Nothing, &mut memory).unwrap();
    let tree = deps::render(&resolution.merged, &resolution.unversioned).unwrap();
    assert_eq!(tree.keys().collect::<Vec<_>>(), ["example-api-0.2.0/package.wit", "example-types-0.1.0/package.wit"]);
    for (rel, text) in &tree {
        check_expected(&format!("app/expected/deps/{rel}"), text);
    }
    check_expected("app/expected/wkg.lock", &resolution.lock.to_text());

    // The tree and the world parse together with wit-parser.
    let dir = project("parse", &std::fs::read_to_string(app.join("world.wit")).unwrap());
    deps::write(&dir.join("wit/deps"), &tree).unwrap();
    let (parsed, id) = super::resolve_dir(&dir.join("wit")).unwrap();
    assert_eq!(parsed.packages[id].name.to_string(), "example:app@0.1.0");
    std::fs::remove_dir_all(&dir).unwrap();

    // With the lock, the same content is asked for by digest.
    let again = resolve(&local, &resolution.lock, &Update::Nothing, &mut memory).unwrap();
    assert_eq!(deps::render(&again.merged, &again.unversioned).unwrap(), tree);
    assert_eq!(again.lock, resolution.lock);
}

#[test]
fn unversioned_imports_take_the_newest_semver_version_and_update_moves_on() {
    let mut memory = fixtures();
    let types_v2 = std::fs::read_to_string(testdata().join("types/wit/types.wit")).unwrap().replace("0.1.0", "0.1.1");
    let dir = project("update", "package example:app@0.1.0;\nworld app {\n  import example:types/types;\n}\n");
    let local = local_package(&dir.join("wit")).unwrap();
    let first = resolve(&local, &LockFile::default(), &Update::Nothing, &mut memory).unwrap();
    assert_eq!(first.packages[0].spec.to_string(), "example:types@0.1.0");
    assert_eq!(first.lock.packages[0].versions[0].requirement.to_string(), "*");
    // The unversioned reference resolves against the package named without a version.
    let tree = deps::render(&first.merged, &first.unversioned).unwrap();
    assert_eq!(tree.keys().collect::<Vec<_>>(), ["example-types-0.1.0/package.wit"]);
    assert!(tree["example-types-0.1.0/package.wit"].starts_with("package example:types;"));
    super::resolve::check_world(&dir.join("wit"), &first.merged).unwrap();

    memory.publish_wit("types-0.1.1", &types_v2, &[]);
    let kept = resolve(&local, &first.lock, &Update::Nothing, &mut memory).unwrap();
    assert_eq!(kept.packages[0].spec.to_string(), "example:types@0.1.0", "the lock holds");
    let updated = resolve(&local, &first.lock, &Update::All, &mut memory).unwrap();
    assert_eq!(updated.packages[0].spec.to_string(), "example:types@0.1.1");
    let named = resolve(&local, &first.lock, &Update::Packages(vec![PackageRef::new("example", "types")]), &mut memory);
    assert_eq!(named.unwrap().packages[0].spec.to_string(), "example:types@0.1.1");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_different_packages_with_one_name_and_version_conflict() {
    let mut memory = fixtures();
    // example:other@1.0.0 embeds a *different* example:types@0.1.0.
    let changed = std::fs::read_to_string(testdata().join("types/wit/types.wit")).unwrap().replace("y: s32", "y: s64");
    let other = "package example:other@1.0.0;\ninterface uses {\n  use example:types/types@0.1.0.{point};\n  f: func() -> point;\n}\n";
    memory.publish_wit("other", other, &[("example-types-0.1.0", &changed)]);
    let dir = project(
        "conflict",
        "package example:app@0.1.0;\nworld app {\n  import example:api/shapes@0.2.0;\n  import example:other/uses@1.0.0;\n}\n",
    );
    let local = local_package(&dir.join("wit")).unwrap();
    let err = resolve(&local, &LockFile::default(), &Update::Nothing, &mut memory).err().unwrap().to_string();
    assert!(err.contains("conflict: two different packages claim to be example:types@0.1.0"), "{err}");
    assert!(err.contains("`types.point`"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unversioned_import_with_two_versions_around_is_a_conflict() {
    let mut memory = fixtures();
    let types_v2 = std::fs::read_to_string(testdata().join("types/wit/types.wit")).unwrap().replace("0.1.0", "0.2.0");
    memory.publish_wit("types-0.2.0", &types_v2, &[]);
    let dir = project(
        "ambiguous",
        "package example:app@0.1.0;\nworld app {\n  import example:api/shapes@0.2.0;\n  import example:types/types;\n}\n",
    );
    let local = local_package(&dir.join("wit")).unwrap();
    let err = resolve(&local, &LockFile::default(), &Update::Nothing, &mut memory).err().unwrap().to_string();
    assert!(err.contains("refers to example:types without a version (resolved to example:types@0.2.0)"), "{err}");
    assert!(err.contains("example:api@0.2.0 brings example:types@0.1.0"), "{err}");
    // Unversioned, while a dependency uses that very version, is a conflict too.
    let mut memory = fixtures();
    let local = local_package(&dir.join("wit")).unwrap();
    let err = resolve(&local, &LockFile::default(), &Update::Nothing, &mut memory).err().unwrap().to_string();
    assert!(err.contains("but example:api@0.2.0 uses example:types@0.1.0"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_dependency_that_embeds_the_local_package_is_a_cycle() {
    let mut memory = Memory::default();
    let app = "package example:app@0.1.0;\ninterface base {\n  type id = u32;\n}\n";
    let loop_pkg =
        "package example:loop@1.0.0;\ninterface uses {\n  use example:app/base@0.1.0.{id};\n  get: func() -> id;\n}\n";
    memory.publish_wit("loop", loop_pkg, &[("example-app-0.1.0", app)]);
    let dir = project(
        "cycle",
        "package example:app@0.1.0;\ninterface base {\n  use example:loop/uses@1.0.0.{id};\n}\nworld app {\n  import base;\n}\n",
    );
    let local = local_package(&dir.join("wit")).unwrap();
    let err = resolve(&local, &LockFile::default(), &Update::Nothing, &mut memory).err().unwrap().to_string();
    assert!(err.contains("dependency cycle:"), "{err}");
    assert!(err.contains("example:app@0.1.0 → example:loop@1.0.0 → example:app@0.1.0"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_version_names_what_there_is() {
    let mut memory = fixtures();
    let dir = project("missing", "package example:app@0.1.0;\nworld app {\n  import example:api/shapes@9.9.9;\n}\n");
    let local = local_package(&dir.join("wit")).unwrap();
    let err = resolve(&local, &LockFile::default(), &Update::Nothing, &mut memory).err().unwrap().to_string();
    assert!(err.contains("a version of example:api matching =9.9.9 (it has 0.2.0)"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn building_against_resolved_dependencies_gives_the_bytes_of_building_after_fetch() {
    let metadata = PackageMetadata::default();
    // A world importing example:api, and one referring to example:types without a version.
    for (name, world) in [
        ("app", "package example:app@0.1.0;\nworld app {\n  import example:api/shapes@0.2.0;\n}\n"),
        ("bare", "package example:bare@0.1.0;\nworld app {\n  import example:types/types;\n}\n"),
    ] {
        let mut memory = fixtures();
        let dir = project(name, world);
        let wit = dir.join("wit");
        let local = local_package(&wit).unwrap();
        let resolution = resolve(&local, &LockFile::default(), &Update::Nothing, &mut memory).unwrap();
        assert!(!deps::missing(&wit.join("deps"), &local).unwrap().is_empty());
        let (merged, package) = super::resolve::push_world(&wit, &resolution.merged).unwrap();
        let in_memory = super::encode::build_resolved(&merged, package, &wit, &metadata).unwrap();
        assert!(!wit.join("deps").exists());

        deps::write(&wit.join("deps"), &deps::render(&resolution.merged, &resolution.unversioned).unwrap()).unwrap();
        assert!(deps::missing(&wit.join("deps"), &local).unwrap().is_empty(), "{name}");
        let after_fetch = build(&wit, &metadata).unwrap();
        assert_eq!(in_memory.spec, after_fetch.spec);
        assert!(in_memory.bytes == after_fetch.bytes, "{name}: the bytes differ");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
