//! The runner's own command line, read before the guest's: `--component FILE` and the
//! `self` commands. Everything else is passed to the guest untouched.

use std::path::PathBuf;

use anyhow::{Result, bail};

/// What the user asked the runner to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Invocation {
    /// Run the packager (the embedded one, or `component`) with `args`.
    Run { component: Option<PathBuf>, args: Vec<String> },
    /// `wasmship self path`: write out the embedded component and print its path.
    SelfPath,
    /// `wasmship self version`: print the runner, wasmtime and component versions.
    SelfVersion,
}

const SELF_USAGE: &str = "usage: wasmship self path | wasmship self version";

/// Reads the runner's flags and commands from the arguments after `argv[0]`.
/// `self` is recognised only as the first argument, `--component` only before any other.
pub fn parse(mut args: Vec<String>) -> Result<Invocation> {
    match args.first().map(String::as_str) {
        Some("self") => {
            return match args.get(1..).unwrap_or_default() {
                [command] if command == "path" => Ok(Invocation::SelfPath),
                [command] if command == "version" => Ok(Invocation::SelfVersion),
                _ => bail!("{SELF_USAGE}"),
            };
        }
        Some("--component") => {
            if args.len() < 2 {
                bail!("--component needs a FILE: wasmship --component FILE [ARGS...]");
            }
            let rest = args.split_off(2);
            let file = args.swap_remove(1);
            return Ok(Invocation::Run { component: Some(PathBuf::from(file)), args: rest });
        }
        Some(first) => {
            if let Some(file) = first.strip_prefix("--component=") {
                let component = Some(PathBuf::from(file));
                return Ok(Invocation::Run { component, args: args.split_off(1) });
            }
        }
        None => {}
    }
    Ok(Invocation::Run { component: None, args })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Invocation> {
        parse(args.iter().map(|a| a.to_string()).collect())
    }

    fn run(component: Option<&str>, args: &[&str]) -> Invocation {
        Invocation::Run { component: component.map(PathBuf::from), args: args.iter().map(|a| a.to_string()).collect() }
    }

    #[test]
    fn guest_args_pass_through() {
        assert_eq!(parse_strs(&[]).unwrap(), run(None, &[]));
        let args = ["push", "--component", "x", "self"];
        assert_eq!(parse_strs(&args).unwrap(), run(None, &args));
    }

    #[test]
    fn component_flag() {
        assert_eq!(
            parse_strs(&["--component", "dev.wasm", "inspect", "r"]).unwrap(),
            run(Some("dev.wasm"), &["inspect", "r"])
        );
        assert_eq!(parse_strs(&["--component=dev.wasm", "--help"]).unwrap(), run(Some("dev.wasm"), &["--help"]));
        assert!(parse_strs(&["--component"]).is_err());
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
