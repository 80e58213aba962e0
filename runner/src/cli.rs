//! The runner's own command line, read before the guest's: the `self` commands, and flags
//! given before the packager's command (in any order, each also as `--flag=VALUE`):
//! - `--component FILE`: run another build of the packager;
//! - `--allow-host HOST[:PORT]` (repeatable): restrict outgoing requests to these hosts (plus
//!   the token realms and redirect targets they point to; see `outbound`);
//! - `--ca-cert FILE` (repeatable): trust the PEM CA certificates in FILE for HTTPS;
//! - `--dir DIR` (repeatable): for a component that is not the packager (no plan to ask),
//!   a directory to grant read-write.
//!
//! Everything from the first other argument on is passed to the guest untouched; the
//! runner never reads it (what the command needs comes from the packager's plan).

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};

/// What the user asked the runner to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Invocation {
    /// Run the packager with the runner's flags and the guest's arguments.
    Run(Run),
    /// `wasmship self path`: write out the embedded component and print its path.
    SelfPath,
    /// `wasmship self version`: print the runner, wasmtime and component versions.
    SelfVersion,
}

/// A packager run: the runner's flags and the guest's arguments.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Run {
    /// `--component FILE`: the packager to run instead of the embedded one.
    pub component: Option<PathBuf>,
    /// `--allow-host` values; empty means no restriction.
    pub allow_hosts: Vec<String>,
    /// `--ca-cert` files.
    pub ca_certs: Vec<PathBuf>,
    /// `--dir` directories, for a component without a plan.
    pub dirs: Vec<PathBuf>,
    /// The guest's arguments (without `argv[0]`).
    pub args: Vec<String>,
}

const SELF_USAGE: &str = "usage: wasmship self path | wasmship self version";

/// The runner's flags, all taking a value, and what the value is called.
const FLAGS: &[(&str, &str)] =
    &[("--component", "FILE"), ("--allow-host", "HOST[:PORT]"), ("--ca-cert", "FILE"), ("--dir", "DIR")];

/// Reads the runner's flags and commands from the arguments after `argv[0]`.
/// `self` is recognised only as the first argument, runner flags only before any other.
pub fn parse(args: Vec<String>) -> Result<Invocation> {
    if args.first().is_some_and(|first| first == "self") {
        return match args.get(1..).unwrap_or_default() {
            [command] if command == "path" => Ok(Invocation::SelfPath),
            [command] if command == "version" => Ok(Invocation::SelfVersion),
            _ => bail!("{SELF_USAGE}"),
        };
    }

    let mut run = Run::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        let Some(&(flag, metavar)) = FLAGS.iter().find(|(name, _)| *name == flag) else {
            run.args = std::iter::once(arg).chain(args).collect();
            break;
        };
        let value = match inline {
            Some(value) => value,
            None => {
                args.next().ok_or_else(|| anyhow!("{flag} needs a {metavar}: wasmship {flag} {metavar} COMMAND …"))?
            }
        };
        match flag {
            "--component" if run.component.is_some() => bail!("--component is given twice"),
            "--component" => run.component = Some(PathBuf::from(value)),
            "--allow-host" => run.allow_hosts.push(value),
            "--dir" => run.dirs.push(PathBuf::from(value)),
            _ => run.ca_certs.push(PathBuf::from(value)),
        }
    }
    Ok(Invocation::Run(run))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Invocation> {
        parse(args.iter().map(|a| a.to_string()).collect())
    }

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    fn run(component: Option<&str>, args: &[&str]) -> Invocation {
        Invocation::Run(Run { component: component.map(PathBuf::from), args: strings(args), ..Run::default() })
    }

    #[test]
    fn guest_args_pass_through() {
        assert_eq!(parse_strs(&[]).unwrap(), run(None, &[]));
        let args = ["push", "--component", "x", "self", "--allow-host", "h"];
        assert_eq!(parse_strs(&args).unwrap(), run(None, &args));
        assert_eq!(parse_strs(&["--help"]).unwrap(), run(None, &["--help"]));
    }

    #[test]
    fn component_flag() {
        assert_eq!(
            parse_strs(&["--component", "dev.wasm", "inspect", "r"]).unwrap(),
            run(Some("dev.wasm"), &["inspect", "r"])
        );
        assert_eq!(parse_strs(&["--component=dev.wasm", "--help"]).unwrap(), run(Some("dev.wasm"), &["--help"]));
        assert!(parse_strs(&["--component"]).is_err());
        assert!(parse_strs(&["--component", "a", "--component", "b"]).is_err());
    }

    #[test]
    fn allow_host_ca_cert_and_dir_flags() {
        let got = parse_strs(&[
            "--allow-host",
            "ghcr.io",
            "--ca-cert=corp.pem",
            "--component",
            "dev.wasm",
            "--allow-host=127.0.0.1:5000",
            "--ca-cert",
            "/etc/other.pem",
            "--dir",
            "work",
            "pull",
            "--allow-host",
            "x",
        ])
        .unwrap();
        let expected = Run {
            component: Some(PathBuf::from("dev.wasm")),
            allow_hosts: strings(&["ghcr.io", "127.0.0.1:5000"]),
            ca_certs: vec![PathBuf::from("corp.pem"), PathBuf::from("/etc/other.pem")],
            dirs: vec![PathBuf::from("work")],
            args: strings(&["pull", "--allow-host", "x"]),
        };
        assert_eq!(got, Invocation::Run(expected));
        let error = parse_strs(&["--allow-host"]).unwrap_err();
        assert!(error.to_string().contains("--allow-host needs a HOST[:PORT]"), "{error}");
        assert!(parse_strs(&["--ca-cert"]).is_err());
    }

    #[test]
    fn self_commands() {
        assert_eq!(parse_strs(&["self", "path"]).unwrap(), Invocation::SelfPath);
        assert_eq!(parse_strs(&["self", "version"]).unwrap(), Invocation::SelfVersion);
        assert!(parse_strs(&["self"]).is_err());
        assert!(parse_strs(&["self", "path", "extra"]).is_err());
        assert!(parse_strs(&["self", "update"]).is_err());
    }
}
