//! Components that are not the packager: `--component` of one that exports no
//! `wasmship:packager/plan` (a component composed with the packager, say) has no plan to
//! ask, so it is granted what the runner's own flags name and nothing else — the `--dir`
//! directories read-write, and outgoing requests only to the `--allow-host` hosts (none
//! without the flag), with their credentials handed over as for the packager.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::plan::{Access, Grants, Guard, IfMissing, Network, PathGrant, PathKind, RegistryGrant};

/// The export a packager answers planning through.
const PLAN_EXPORT: &str = "wasmship:packager/plan@0.2.0";

/// Whether `component` can be asked for a plan.
pub fn has_plan(engine: &Engine, component: &Component) -> bool {
    component.component_type().exports(engine).any(|(name, _)| name == PLAN_EXPORT)
}

/// What a component without a plan gets: `dirs` (relative to `cwd`) read-write, and the
/// network to `allow_hosts` only.
pub fn grants(dirs: &[PathBuf], allow_hosts: &[String], cwd: &Path) -> Result<Grants> {
    let mut paths = Vec::new();
    for dir in dirs {
        let absolute = cwd.join(dir);
        if !absolute.is_dir() {
            bail!("--dir {}: no such directory", dir.display());
        }
        let path = absolute.canonicalize().with_context(|| format!("--dir {}", dir.display()))?;
        let Some(path) = path.to_str() else { bail!("--dir {}: the path is not UTF-8", dir.display()) };
        paths.push(PathGrant {
            path: path.to_owned(),
            kind: PathKind::Directory,
            access: Access::Write,
            if_missing: IfMissing::Fail,
            guard: Guard::None,
            purpose: "--dir".to_owned(),
        });
    }
    let registries: Vec<RegistryGrant> = allow_hosts
        .iter()
        .map(|host| RegistryGrant { name: host.clone(), skip_tls_verify: false, ca_files: Vec::new() })
        .collect();
    Ok(Grants {
        paths,
        network: if registries.is_empty() { Network::None } else { Network::Registries },
        registries,
        project_credentials: None,
        password_prompt: None,
        consult: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_name_the_flags_directories_and_hosts_only() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("work")).unwrap();
        let got = grants(&[PathBuf::from("work")], &["127.0.0.1:5000".to_owned()], tmp.path()).unwrap();
        let work = tmp.path().join("work").canonicalize().unwrap();
        assert_eq!(got.paths.len(), 1);
        assert_eq!(got.paths[0].path, work.to_str().unwrap());
        assert!(matches!((got.paths[0].kind, got.paths[0].access), (PathKind::Directory, Access::Write)));
        assert_eq!(got.registries.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["127.0.0.1:5000"]);
        assert!(matches!(got.network, Network::Registries));

        let none = grants(&[], &[], tmp.path()).unwrap();
        assert!(none.paths.is_empty() && matches!(none.network, Network::None));
        let missing = grants(&[PathBuf::from("absent")], &[], tmp.path()).unwrap_err();
        assert!(missing.to_string().contains("--dir absent: no such directory"), "{missing}");
    }
}
