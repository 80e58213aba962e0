//! The `wit/deps` tree: every dependency package printed as WIT into
//! `<ns>-<name>-<version>/package.wit`; read back from disk; compared with a
//! diff-like report; and replaced as a whole (the new tree is written beside
//! the old one and renamed into place).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use wit_parser::{Resolve, UnresolvedPackageGroup};

use super::decode::print_package;
use semver::Version;

use super::name::{PackageRef, PackageSpec, dir_name};
use super::parse_failure;
use super::resolve::LocalPackage;
use crate::error::{Error, Result};
use crate::fsutil::random_u64;

/// The file each package directory holds.
pub const PACKAGE_FILE: &str = "package.wit";
/// Lines of a changed file shown in a report.
const SHOWN_LINES: usize = 12;

/// Relative path (`example-types-0.1.0/package.wit`) → content.
pub type Tree = BTreeMap<String, String>;

/// Every package of `merged` printed as WIT; packages named without a
/// version go to the directory of the version they resolved to
/// (`unversioned`).
pub fn render(merged: &Resolve, unversioned: &BTreeMap<PackageRef, Version>) -> Result<Tree> {
    let mut tree = Tree::new();
    for (id, package) in merged.packages.iter() {
        let spec = PackageSpec::of(&package.name);
        let dir = match (&spec.version, unversioned.get(&spec.package)) {
            (None, Some(version)) => dir_name(&spec.package, Some(version)),
            _ => spec.dir_name(),
        };
        tree.insert(format!("{dir}/{PACKAGE_FILE}"), print_package(merged, id, &[])?);
    }
    Ok(tree)
}

/// The files under `deps_dir` (one level of directories); empty when absent.
pub fn read(deps_dir: &Path) -> Result<Tree> {
    let mut tree = Tree::new();
    let entries = match std::fs::read_dir(deps_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(tree),
        Err(e) => return Err(Error::io(deps_dir.display(), "read directory", e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(deps_dir.display(), "read directory", e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() {
            let files = std::fs::read_dir(&path).map_err(|e| Error::io(path.display(), "read directory", e))?;
            let mut any = false;
            for file in files {
                let file = file.map_err(|e| Error::io(path.display(), "read directory", e))?;
                let file_name = file.file_name().to_string_lossy().into_owned();
                tree.insert(format!("{name}/{file_name}"), read_text(&file.path())?);
                any = true;
            }
            if !any {
                tree.insert(format!("{name}/"), String::new());
            }
        } else {
            tree.insert(name, read_text(&path)?);
        }
    }
    Ok(tree)
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path.display(), "read", e))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Replace `deps_dir` with `tree`.
pub fn write(deps_dir: &Path, tree: &Tree) -> Result<()> {
    let parent = crate::fsutil::parent_dir(deps_dir);
    let fresh = parent.join(format!(".deps-new-{:016x}", random_u64()));
    let result = write_into(&fresh, tree).and_then(|()| swap(deps_dir, &fresh));
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&fresh);
    }
    result
}

fn write_into(dir: &Path, tree: &Tree) -> Result<()> {
    for (rel, content) in tree {
        let path = dir.join(rel);
        let parent = crate::fsutil::parent_dir(&path);
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent.display(), "create directory", e))?;
        std::fs::write(&path, content).map_err(|e| Error::io(path.display(), "write", e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), "create directory", e))
}

fn swap(deps_dir: &Path, fresh: &Path) -> Result<()> {
    let old = crate::fsutil::parent_dir(deps_dir).join(format!(".deps-old-{:016x}", random_u64()));
    let had_old = match std::fs::rename(deps_dir, &old) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(Error::io(deps_dir.display(), "move the old dependencies aside", e)),
    };
    if let Err(e) = std::fs::rename(fresh, deps_dir) {
        if had_old {
            let _ = std::fs::rename(&old, deps_dir);
        }
        return Err(Error::io(deps_dir.display(), "move the new dependencies into place", e));
    }
    if had_old {
        std::fs::remove_dir_all(&old).map_err(|e| Error::io(old.display(), "remove the old dependencies", e))?;
    }
    Ok(())
}

/// The packages needed but absent from `deps_dir`: of what `local` refers to
/// and of what the packages in `deps_dir` refer to, those neither an entry
/// nor `local` itself provides (a dependency may use the local package). Entries are read as wit-parser reads a `deps`
/// directory (directories and `.wit` files as WIT, `.wasm`/`.wat` files as
/// binary packages with their dependencies embedded; other files ignored);
/// one that does not parse is an error, as it is when the world is built.
pub fn missing(deps_dir: &Path, local: &LocalPackage) -> Result<Vec<PackageSpec>> {
    let mut entries: Vec<_> = match std::fs::read_dir(deps_dir) {
        Ok(entries) => {
            entries.collect::<std::io::Result<_>>().map_err(|e| Error::io(deps_dir.display(), "read directory", e))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(deps_dir.display(), "read directory", e)),
    };
    entries.sort_by_key(|e| e.file_name());
    let mut provided: Vec<(PackageSpec, Vec<PackageSpec>)> =
        local.own.iter().map(|s| (s.clone(), Vec::new())).collect();
    for entry in entries {
        let path = entry.path();
        let what = || format!("WIT dependency {}", path.display());
        let extension = path.extension().and_then(|e| e.to_str());
        let groups = if path.is_dir() {
            vec![UnresolvedPackageGroup::parse_dir(&path).map_err(|e| parse_failure(&what(), &e))?]
        } else if extension == Some("wit") {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(path.display(), "read", e))?;
            let group = UnresolvedPackageGroup::parse(&path, &text)
                .map_err(|(map, e)| parse_failure(&what(), &e.render(&map)))?;
            vec![group]
        } else if matches!(extension, Some("wasm" | "wat")) {
            let mut resolve = Resolve::default();
            resolve.push_file(&path).map_err(|e| parse_failure(&what(), &e))?;
            provided.extend(resolve.packages.iter().map(|(_, p)| (PackageSpec::of(&p.name), Vec::new())));
            continue;
        } else {
            continue;
        };
        for group in &groups {
            for package in std::iter::once(&group.main).chain(&group.nested) {
                let refers: Vec<PackageSpec> = package.foreign_deps.keys().map(PackageSpec::of).collect();
                provided.push((PackageSpec::of(&package.name), refers));
            }
        }
    }
    Ok(unmet(&local.requirements, &provided))
}

/// Of `requirements` and of what the `provided` packages refer to, what no
/// provided package is.
fn unmet(requirements: &[PackageSpec], provided: &[(PackageSpec, Vec<PackageSpec>)]) -> Vec<PackageSpec> {
    let present: BTreeSet<&PackageSpec> = provided.iter().map(|(spec, _)| spec).collect();
    let needed: BTreeSet<&PackageSpec> =
        requirements.iter().chain(provided.iter().flat_map(|(_, refers)| refers)).collect();
    needed.into_iter().filter(|spec| !present.contains(spec)).cloned().collect()
}

/// What differs between the `expected` and the `actual` tree, as report
/// lines (empty when they are equal).
pub fn diff(expected: &Tree, actual: &Tree) -> Vec<String> {
    let mut lines = Vec::new();
    for (path, want) in expected {
        match actual.get(path) {
            None => lines.push(format!("missing   {path}")),
            Some(have) if have != want => {
                lines.push(format!("modified  {path}"));
                lines.extend(changed_lines(want, have));
            }
            Some(_) => {}
        }
    }
    for path in actual.keys().filter(|p| !expected.contains_key(*p)) {
        lines.push(format!("unexpected {path}"));
    }
    lines
}

/// Lines only in `want` (`-`) and only in `have` (`+`), a few of each.
fn changed_lines(want: &str, have: &str) -> Vec<String> {
    let want_lines: Vec<&str> = want.lines().collect();
    let have_lines: Vec<&str> = have.lines().collect();
    let removed = want_lines.iter().filter(|l| !have_lines.contains(l)).map(|l| format!("    - {l}"));
    let added = have_lines.iter().filter(|l| !want_lines.contains(l)).map(|l| format!("    + {l}"));
    let mut out: Vec<String> = removed.chain(added).collect();
    if out.len() > SHOWN_LINES {
        let more = out.len() - SHOWN_LINES;
        out.truncate(SHOWN_LINES);
        out.push(format!("    … {more} more changed lines"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_missing_modified_and_unexpected_files() {
        let expected = Tree::from([
            ("a-b-1.0.0/package.wit".to_string(), "package a:b@1.0.0;\n\ninterface t {\n}\n".to_string()),
            ("a-c-1.0.0/package.wit".to_string(), "package a:c@1.0.0;\n".to_string()),
        ]);
        let actual = Tree::from([
            ("a-b-1.0.0/package.wit".to_string(), "package a:b@1.0.0;\n\ninterface u {\n}\n".to_string()),
            ("x-y-2.0.0/package.wit".to_string(), "package x:y@2.0.0;\n".to_string()),
        ]);
        assert_eq!(
            diff(&expected, &actual),
            [
                "modified  a-b-1.0.0/package.wit",
                "    - interface t {",
                "    + interface u {",
                "missing   a-c-1.0.0/package.wit",
                "unexpected x-y-2.0.0/package.wit",
            ]
        );
        assert!(diff(&expected, &expected).is_empty());
    }

    fn spec(s: &str) -> PackageSpec {
        PackageSpec::parse(s).unwrap()
    }

    #[test]
    fn a_requirement_or_a_dependency_of_a_dependency_that_nothing_provides_is_missing() {
        let provided = vec![
            (spec("ex:api@0.2.0"), vec![spec("ex:types@0.1.0")]),
            (spec("ex:types@0.1.0"), vec![]),
            (spec("ex:bare"), vec![]),
        ];
        let wanted = [spec("ex:api@0.2.0"), spec("ex:bare")];
        assert!(unmet(&wanted, &provided).is_empty());
        // Versions count: a package of another version does not stand in.
        assert_eq!(
            unmet(&[spec("ex:api@0.3.0"), spec("ex:types")], &provided),
            [spec("ex:api@0.3.0"), spec("ex:types")]
        );
        assert_eq!(unmet(&wanted, &provided[..1]), [spec("ex:bare"), spec("ex:types@0.1.0")]);
        assert_eq!(unmet(&wanted, &[]), wanted);
    }

    #[test]
    fn missing_reads_a_deps_directory_as_wit_parser_does() {
        let dir = std::env::temp_dir().join(format!("wasmship-deps-{:x}", random_u64()));
        let deps = dir.join("deps");
        let wanted = [spec("ex:api@0.2.0")];
        let local =
            LocalPackage { spec: spec("ex:app@0.1.0"), requirements: wanted.to_vec(), own: vec![spec("ex:app@0.1.0")] };
        assert_eq!(missing(&deps, &local).unwrap(), wanted, "no deps directory");
        std::fs::create_dir_all(deps.join("ex-api-0.2.0")).unwrap();
        std::fs::write(
            deps.join("ex-api-0.2.0/package.wit"),
            "package ex:api@0.2.0;\ninterface a {\n  use ex:types/t@0.1.0.{p};\n}\n",
        )
        .unwrap();
        std::fs::write(deps.join("notes.txt"), "ignored").unwrap();
        assert_eq!(missing(&deps, &local).unwrap(), [spec("ex:types@0.1.0")]);
        std::fs::write(deps.join("types.wit"), "package ex:types@0.1.0;\ninterface t {\n  type p = u32;\n}\n").unwrap();
        assert!(missing(&deps, &local).unwrap().is_empty());
        // A dependency may use the local package (wasi:http uses wasi:cli).
        std::fs::write(deps.join("user.wit"), "package ex:user@1.0.0;\nworld w {\n  import ex:app/i@0.1.0;\n}\n")
            .unwrap();
        assert!(missing(&deps, &local).unwrap().is_empty());
        std::fs::write(deps.join("broken.wit"), "package").unwrap();
        assert!(missing(&deps, &local).unwrap_err().to_string().contains("broken.wit"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn writes_replace_the_whole_tree() {
        let dir = std::env::temp_dir().join(format!("wasmship-deps-{:x}", random_u64()));
        let deps = dir.join("deps");
        write(&deps, &Tree::from([("old-pkg-1.0.0/package.wit".into(), "old".into())])).unwrap();
        let tree = Tree::from([("new-pkg-1.0.0/package.wit".to_string(), "new".to_string())]);
        write(&deps, &tree).unwrap();
        assert_eq!(read(&deps).unwrap(), tree);
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, [std::ffi::OsString::from("deps")], "no temporary directories left");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
