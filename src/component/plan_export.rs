//! The typed export `wasmship:packager/plan`: a command line and an environment in, the
//! command's [`Needs`](crate::plan::Needs) out as WIT records.

use super::Packager;
use super::bindings::exports::wasmship::packager0_2_0::plan::{
    Access, Grants, Guard, Guest, IfMissing, Network, PasswordPrompt, PathGrant, PathKind, RegistryGrant,
};
use super::bindings::exports::wasmship::packager0_2_0::types::Error as WitError;
use crate::plan::{self, HostEnv};

impl Guest for Packager {
    fn capabilities(args: Vec<String>, env: Vec<(String, String)>) -> Result<Grants, WitError> {
        let argv = std::iter::once("wasmship".to_owned()).chain(args);
        let planned = crate::cli::plan_of(argv, &HostEnv::from_pairs(env)).map_err(super::errors::to_wit)?;
        let needs = planned.needs;
        Ok(Grants {
            paths: needs
                .paths
                .into_iter()
                .map(|g| PathGrant {
                    path: g.path.display().to_string(),
                    kind: match g.kind {
                        plan::PathKind::File => PathKind::File,
                        plan::PathKind::Directory => PathKind::Directory,
                        plan::PathKind::FileOrDirectory => PathKind::FileOrDirectory,
                    },
                    access: match g.access {
                        plan::FsAccess::Read => Access::Read,
                        plan::FsAccess::Write => Access::Write,
                    },
                    if_missing: match g.if_missing {
                        plan::IfMissing::Fail => IfMissing::Fail,
                        plan::IfMissing::Create => IfMissing::Create,
                        plan::IfMissing::Skip => IfMissing::Skip,
                    },
                    guard: match g.guard {
                        plan::Guard::None => Guard::None,
                        plan::Guard::NoSymlink => Guard::NoSymlink,
                        plan::Guard::OwnerOnly => Guard::OwnerOnly,
                        plan::Guard::PrivateFile => Guard::PrivateFile,
                    },
                    purpose: g.purpose,
                })
                .collect(),
            registries: needs
                .registries
                .into_iter()
                .map(|r| RegistryGrant {
                    name: r.name,
                    skip_tls_verify: r.skip_tls_verify,
                    ca_files: r.ca_files.iter().map(|f| f.display().to_string()).collect(),
                })
                .collect(),
            network: match needs.network {
                plan::Network::None => Network::None,
                plan::Network::Registries => Network::Registries,
                plan::Network::Any => Network::Any,
            },
            project_credentials: needs.project_credentials.map(|p| p.display().to_string()),
            password_prompt: needs.password_prompt.map(|p| PasswordPrompt {
                env: p.env,
                prompt: p.prompt,
                confirm: p.confirm,
            }),
            consult: needs.consult.iter().map(|p| p.display().to_string()).collect(),
        })
    }
}
