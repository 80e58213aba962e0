//! The packages of one resolution as a graph: every `ns:name@version` seen
//! (fetched, or embedded in a fetched package), what it depends on, and where
//! each copy came from. Two copies of one version must agree (see [`shape`]);
//! the dependencies must not loop back. Both failures name the packages
//! involved.
//!
//! [`shape`]: super::shape

use std::collections::{BTreeMap, BTreeSet};

use wit_parser::Resolve;

use super::name::PackageSpec;
use super::shape::{Shape, first_difference, package_shape};
use crate::error::{Error, Result};

#[derive(Debug, Default)]
struct Node {
    deps: BTreeSet<PackageSpec>,
    copies: Vec<(String, Shape)>,
}

/// Packages, their dependencies, and their copies.
#[derive(Debug, Default)]
pub struct PackageGraph {
    nodes: BTreeMap<PackageSpec, Node>,
}

impl PackageGraph {
    /// Add every package of `resolve`; `origin` says where the copy of one came
    /// from. Fails when a copy disagrees with one added before.
    pub fn add(&mut self, resolve: &Resolve, origin: &dyn Fn(&PackageSpec) -> String) -> Result<()> {
        for (id, package) in resolve.packages.iter() {
            let spec = PackageSpec::of(&package.name);
            let deps = resolve.package_direct_deps(id).map(|d| PackageSpec::of(&resolve.packages[d].name));
            let shape = package_shape(resolve, id);
            let here = origin(&spec);
            let node = self.nodes.entry(spec.clone()).or_default();
            for (there, other) in &node.copies {
                if let Some((item, a, b)) = first_difference(other, &shape) {
                    return Err(Error::InvalidInput(format!(
                        "conflict: two different packages claim to be {spec}: {there} and {here} disagree on \
                         `{item}` ({a} vs {b}); publish changed WIT under a new version, or update the package that \
                         embeds the old copy"
                    )));
                }
            }
            node.deps.extend(deps);
            node.copies.push((here, shape));
        }
        Ok(())
    }

    /// Add the local package (it has no copy to compare) and its dependencies.
    pub fn add_root(&mut self, spec: &PackageSpec, deps: impl IntoIterator<Item = PackageSpec>) {
        self.nodes.entry(spec.clone()).or_default().deps.extend(deps);
    }

    /// The packages that depend on `spec`.
    pub fn dependents(&self, spec: &PackageSpec) -> Vec<&PackageSpec> {
        self.nodes.iter().filter(|(_, node)| node.deps.contains(spec)).map(|(s, _)| s).collect()
    }

    /// The versions of each package name present.
    pub fn versions(&self) -> BTreeMap<String, Vec<PackageSpec>> {
        let mut by_name: BTreeMap<String, Vec<PackageSpec>> = BTreeMap::new();
        for spec in self.nodes.keys() {
            by_name.entry(spec.package.to_string()).or_default().push(spec.clone());
        }
        by_name
    }

    /// Fail on the first dependency cycle, naming it.
    pub fn check_cycles(&self) -> Result<()> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Active,
            Done,
        }
        fn visit<'a>(
            graph: &'a PackageGraph,
            spec: &'a PackageSpec,
            marks: &mut BTreeMap<&'a PackageSpec, Mark>,
            path: &mut Vec<&'a PackageSpec>,
        ) -> Result<()> {
            match marks.get(spec) {
                Some(Mark::Done) => return Ok(()),
                Some(Mark::Active) => {
                    let start = path.iter().position(|s| *s == spec).unwrap_or(0);
                    let mut names: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
                    names.push(spec.to_string());
                    return Err(Error::InvalidInput(format!(
                        "dependency cycle: {}; WIT packages cannot depend on themselves",
                        names.join(" → ")
                    )));
                }
                None => {}
            }
            marks.insert(spec, Mark::Active);
            path.push(spec);
            if let Some(node) = graph.nodes.get(spec) {
                for dep in &node.deps {
                    visit(graph, dep, marks, path)?;
                }
            }
            path.pop();
            marks.insert(spec, Mark::Done);
            Ok(())
        }
        let mut marks = BTreeMap::new();
        for spec in self.nodes.keys() {
            visit(self, spec, &mut marks, &mut Vec::new())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_of(wits: &[&str]) -> Resolve {
        let mut resolve = Resolve::default();
        for (i, wit) in wits.iter().enumerate() {
            resolve.push_str(format!("{i}.wit"), wit).unwrap();
        }
        resolve
    }

    #[test]
    fn a_disagreeing_copy_is_a_conflict() {
        let mut graph = PackageGraph::default();
        let published = resolve_of(&["package ex:types@0.1.0; interface t { record p { x: s32 } }"]);
        graph.add(&published, &|s| format!("{s} as published")).unwrap();
        let same = resolve_of(&["package ex:types@0.1.0; interface t { record p { x: s32 } }"]);
        graph.add(&same, &|s| format!("{s} embedded in ex:api@0.2.0")).unwrap();
        let changed = resolve_of(&["package ex:types@0.1.0; interface t { record p { x: s32, y: s32 } }"]);
        let err = graph.add(&changed, &|s| format!("{s} embedded in ex:other@1.0.0")).unwrap_err().to_string();
        assert!(err.contains("conflict: two different packages claim to be ex:types@0.1.0"), "{err}");
        assert!(err.contains("embedded in ex:other@1.0.0"), "{err}");
        assert!(err.contains("`t.p`"), "{err}");
    }

    #[test]
    fn cycles_are_named() {
        let mut graph = PackageGraph::default();
        let root = PackageSpec::parse("ex:app@0.1.0").unwrap();
        let api = PackageSpec::parse("ex:api@0.2.0").unwrap();
        graph.add_root(&root, [api.clone()]);
        graph.add_root(&api, [root.clone()]);
        let err = graph.check_cycles().unwrap_err().to_string();
        assert!(err.contains("ex:api@0.2.0 → ex:app@0.1.0 → ex:api@0.2.0"), "{err}");
        let mut fine = PackageGraph::default();
        fine.add_root(&root, [api.clone()]);
        fine.check_cycles().unwrap();
    }
}
