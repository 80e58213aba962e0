//! `wasmship plan`'s output: a plan as lines for people, or as JSON for scripts and tests.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{FsAccess, Guard, IfMissing, Network, PathKind, Plan};

fn access(access: FsAccess) -> &'static str {
    match access {
        FsAccess::Read => "read",
        FsAccess::Write => "write",
    }
}

fn kind(kind: PathKind) -> &'static str {
    match kind {
        PathKind::File => "file",
        PathKind::Directory => "directory",
        PathKind::FileOrDirectory => "file-or-directory",
    }
}

fn if_missing(if_missing: IfMissing) -> &'static str {
    match if_missing {
        IfMissing::Fail => "fail",
        IfMissing::Create => "create",
        IfMissing::Skip => "skip",
    }
}

fn guard(guard: Guard) -> &'static str {
    match guard {
        Guard::None => "none",
        Guard::NoSymlink => "no-symlink",
        Guard::OwnerOnly => "owner-only",
        Guard::PrivateFile => "private-file",
    }
}

fn network(network: Network) -> &'static str {
    match network {
        Network::None => "none",
        Network::Registries => "registries",
        Network::Any => "any",
    }
}

/// The plan as JSON: `{"command", "paths": [{path, kind, access, ifMissing, guard,
/// purpose}], "registries": [{name, skipTlsVerify}], "network", "projectCredentials", "passwordPrompt": {env, prompt, confirm}}`.
pub fn to_json(plan: &Plan) -> Value {
    let needs = &plan.needs;
    json!({
        "command": plan.command,
        "paths": needs.paths.iter().map(|g| json!({
            "path": g.path.display().to_string(),
            "kind": kind(g.kind),
            "access": access(g.access),
            "ifMissing": if_missing(g.if_missing),
            "guard": guard(g.guard),
            "purpose": g.purpose,
        })).collect::<Vec<_>>(),
        "registries": needs.registries.iter().map(|r| json!({
            "name": r.name,
            "skipTlsVerify": r.skip_tls_verify,
            "caFiles": r.ca_files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "network": network(needs.network),
        "projectCredentials": needs.project_credentials.as_ref().map(|p| p.display().to_string()),
        "passwordPrompt": needs.password_prompt.as_ref().map(|p| json!({
            "env": p.env,
            "prompt": p.prompt,
            "confirm": p.confirm,
        })),
        "consult": needs.consult.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    })
}

/// The plan as text, one line per path and registry.
pub fn to_text(plan: &Plan) -> String {
    let needs = &plan.needs;
    let mut out = String::new();
    let _ = writeln!(out, "command: {}", plan.command);
    if needs.paths.is_empty() {
        let _ = writeln!(out, "paths: none");
    }
    for g in &needs.paths {
        let mut notes = Vec::new();
        match g.if_missing {
            IfMissing::Create => notes.push("created if missing"),
            IfMissing::Skip => notes.push("skipped if missing"),
            IfMissing::Fail => {}
        }
        match g.guard {
            Guard::None => {}
            Guard::NoSymlink => notes.push("not through a symbolic link"),
            Guard::OwnerOnly => notes.push("owner only"),
            Guard::PrivateFile => notes.push("private to the user"),
        }
        let notes = if notes.is_empty() { String::new() } else { format!(" [{}]", notes.join(", ")) };
        let _ =
            writeln!(out, "{:<5} {:<17} {}{notes}  ({})", access(g.access), kind(g.kind), g.path.display(), g.purpose);
    }
    for r in &needs.registries {
        let tls = if r.skip_tls_verify { " (TLS certificate not verified)" } else { "" };
        let cas: Vec<String> = r.ca_files.iter().map(|f| f.display().to_string()).collect();
        let cas = if cas.is_empty() { String::new() } else { format!(" (also trusting the CA in {})", cas.join(", ")) };
        let _ = writeln!(out, "registry {}{tls}{cas}", r.name);
    }
    let _ = writeln!(
        out,
        "network: {}",
        match needs.network {
            Network::None => "none",
            Network::Registries => "the registries above only",
            Network::Any => "the registries above and those WIT registry discovery finds",
        }
    );
    if let Some(path) = &needs.project_credentials {
        let _ = writeln!(out, "project credentials: {} (handed over as content)", path.display());
    }
    if let Some(prompt) = &needs.password_prompt {
        let _ = writeln!(out, "password: asked on the terminal when there is one ({} is unset)", prompt.env);
    }
    for dir in &needs.consult {
        let _ = writeln!(out, "read while planning: {}", dir.display());
    }
    out
}
