//! Which registries a command talks to, read from the guest's arguments before it runs: the
//! runner fetches credentials from Docker credential helpers for these hosts only, and
//! `--insecure-skip-tls-verify` relaxes TLS for these hosts only.
//!
//! An argument names a registry when it is a reference, bare or `oci://`, whose first path
//! segment is a host (contains `.` or `:`, or is `localhost`) followed by `/`:
//! `127.0.0.1:5000/demo/a:1`, `ghcr.io/x/y:1`. The reference argument of a registry command
//! (`push`, `pull`, `inspect`, `tags`) without such a host is a short reference, which the
//! packager resolves against the project's `wasmcloud.toml` `[registry] url`, else Docker Hub
//! (`alpine:1` → `docker.io`). The project registry itself always counts.
//!
//! The scan mirrors the packager's command line only as far as it must: which commands take
//! a reference first, and which flags take a value (those values are never references, and
//! `--password`'s is never looked at); tests check both lists against the packager's clap
//! definition, so a new flag cannot be forgotten here. A false positive (a file path such as
//! `out.d/x.wasm`) costs at most a credential-helper call that finds nothing.

/// Docker Hub's registry name, as the packager spells it.
pub const DOCKER_HUB: &str = "docker.io";

/// Packager commands whose first positional argument is a reference.
const REFERENCE_COMMANDS: &[&str] = &["push", "pull", "inspect", "tags"];

/// Packager flags that take a value as the next argument (when not given as `--flag=value`),
/// wherever they appear: a flag that is a switch in some command (`--insecure`) is left out,
/// so it never swallows a reference. A test checks this list against the packager's own
/// command line.
const VALUE_FLAGS: &[&str] = &[
    "--annotation",
    "--arch",
    "--binary",
    "--cache-dir",
    "--chunk-size",
    "--config",
    "--destination",
    "--digest",
    "--directory",
    "--format",
    "--issuer",
    "--link-mode",
    "--max-size",
    "--name",
    "--output",
    "--password",
    "--pull",
    "--registry",
    "--revision",
    "--schema",
    "--subject",
    "--user",
    "--vendor",
    "--version",
    "--wit-dir",
    "-a",
    "-b",
    "-d",
    "-i",
    "-j",
    "-n",
    "-o",
    "-p",
    "-r",
    "-s",
    "-u",
    "-v",
];

const OCI_SCHEME: &str = "oci://";
const LAYOUT_SCHEME: &str = "oci-layout://";

/// The registries (`host[:port]`, lowercased, Docker Hub as `docker.io`) that `args` (the
/// guest's arguments, without `argv[0]`) make the packager talk to, without duplicates, in
/// order of appearance. `project_registry` is the `wasmcloud.toml` `[registry] url`.
pub fn named(args: &[String], project_registry: Option<&str>) -> Vec<String> {
    let mut found = Vec::new();
    let mut add = |host: String| {
        if !found.contains(&host) {
            found.push(host);
        }
    };

    let mut positionals = 0;
    let mut reference_command = false;
    let mut flags_done = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let arg = arg.as_str();
        if !flags_done && arg == "--" {
            flags_done = true;
            continue;
        }
        if !flags_done && arg.starts_with('-') && arg.len() > 1 {
            if VALUE_FLAGS.contains(&arg) {
                args.next();
            } else if let Some((flag, value)) = arg.split_once('=')
                && flag.starts_with("--")
                && !VALUE_FLAGS.contains(&flag)
                && let Some(host) = explicit_host(value)
            {
                add(host);
            }
            continue;
        }
        positionals += 1;
        match positionals {
            1 => reference_command = REFERENCE_COMMANDS.contains(&arg),
            2 if reference_command => {
                if let Some(host) = explicit_host(arg) {
                    add(host);
                } else if !arg.starts_with(LAYOUT_SCHEME) && !arg.is_empty() {
                    add(project_registry.map_or_else(|| DOCKER_HUB.to_owned(), str::to_owned));
                }
            }
            _ => {
                if let Some(host) = explicit_host(arg) {
                    add(host);
                }
            }
        }
    }
    if let Some(project) = project_registry {
        add(project.to_owned());
    }
    found
}

/// Whether `--insecure-skip-tls-verify` is among the arguments (anywhere: the packager
/// accepts it too, and ignores it).
pub fn skip_tls_verify(args: &[String]) -> bool {
    args.iter().any(|arg| arg == "--insecure-skip-tls-verify")
}

/// The registry a reference names explicitly, lowercased, with Docker Hub's aliases unified.
fn explicit_host(reference: &str) -> Option<String> {
    let body = reference.strip_prefix(OCI_SCHEME).unwrap_or(reference);
    let (first, _) = body.split_once('/')?;
    let names_host = first.contains('.') || first.contains(':') || first.eq_ignore_ascii_case("localhost");
    if !names_host || !is_host(first) {
        return None;
    }
    let host = first.to_ascii_lowercase();
    Some(match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_owned(),
        _ => host,
    })
}

/// `name[:port]` or `[ipv6][:port]`, with a name of letters, digits, `.`, `-` and `_` that
/// starts with a letter or digit.
fn is_host(value: &str) -> bool {
    let (name, port, ipv6) = match value.strip_prefix('[') {
        Some(rest) => {
            let Some((ip, after)) = rest.split_once(']') else { return false };
            let port = match after {
                "" => None,
                _ => match after.strip_prefix(':') {
                    Some(port) => Some(port),
                    None => return false,
                },
            };
            (ip, port, true)
        }
        None => match value.rsplit_once(':') {
            Some((name, port)) => (name, Some(port), false),
            None => (value, None, false),
        },
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let name_ok = if ipv6 {
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    };
    port_ok && name_ok
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every flag of `command` and its subcommands, with whether it takes a value there.
    fn flags_of(command: &clap::Command, found: &mut Vec<(String, bool)>) {
        for arg in command.get_arguments().filter(|a| !a.is_positional()) {
            let takes_value = arg.get_action().takes_values();
            found.extend(arg.get_long().map(|long| (format!("--{long}"), takes_value)));
            found.extend(arg.get_short().map(|short| (format!("-{short}"), takes_value)));
        }
        for sub in command.get_subcommands() {
            flags_of(sub, found);
        }
    }

    #[test]
    fn the_scan_knows_every_value_flag_of_the_packager() {
        let mut flags = Vec::new();
        flags_of(&wasmship::cli::command(), &mut flags);
        // A flag that is a switch in some command must not swallow the next argument there,
        // so only flags that take a value wherever they appear count.
        let switches: BTreeSet<&str> = flags.iter().filter(|(_, value)| !value).map(|(f, _)| f.as_str()).collect();
        let packager: BTreeSet<&str> = flags
            .iter()
            .filter(|(f, value)| *value && !switches.contains(f.as_str()))
            .map(|(f, _)| f.as_str())
            .collect();
        let scanned: BTreeSet<&str> = VALUE_FLAGS.iter().copied().collect();
        assert_eq!(scanned, packager, "VALUE_FLAGS must list exactly the packager's value-taking flags");
    }

    #[test]
    fn the_scan_knows_which_commands_take_a_reference_first() {
        let packager = wasmship::cli::command();
        let first_is_reference: Vec<&str> = packager
            .get_subcommands()
            .filter(|sub| sub.get_positionals().next().is_some_and(|p| p.get_id() == "reference"))
            .map(|sub| sub.get_name())
            .collect();
        assert_eq!(first_is_reference, REFERENCE_COMMANDS);
    }

    fn scan(args: &[&str], project: Option<&str>) -> Vec<String> {
        named(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>(), project)
    }

    #[test]
    fn explicit_hosts() {
        assert_eq!(scan(&["push", "127.0.0.1:5000/demo/a:1", "a.wasm"], None), ["127.0.0.1:5000"]);
        assert_eq!(scan(&["pull", "oci://GHCR.io/x/y:1"], None), ["ghcr.io"]);
        assert_eq!(scan(&["inspect", "localhost/x:1"], None), ["localhost"]);
        assert_eq!(scan(&["tags", "[::1]:5000/x"], None), ["[::1]:5000"]);
        assert_eq!(scan(&["pull", "index.docker.io/library/alpine:1"], None), ["docker.io"]);
        assert_eq!(scan(&["pull", "registry-1.docker.io/library/alpine:1"], None), ["docker.io"]);
    }

    #[test]
    fn short_references_mean_docker_hub_or_the_project_registry() {
        assert_eq!(scan(&["pull", "alpine:1"], None), ["docker.io"]);
        assert_eq!(scan(&["pull", "org/app:1"], None), ["docker.io"]);
        assert_eq!(scan(&["pull", "alpine:1"], Some("localhost:5001")), ["localhost:5001"]);
        assert_eq!(scan(&["pull", "-o", "json", "alpine:1"], None), ["docker.io"]);
        assert_eq!(scan(&["pull", "--output=json", "alpine:1"], None), ["docker.io"]);
        assert_eq!(scan(&["-o", "json", "pull", "ghcr.io/x:1"], None), ["ghcr.io"]);
        assert_eq!(scan(&["pull", "--cache-dir", "cache.d/x", "--pull", "always", "alpine:1"], None), ["docker.io"]);
        assert_eq!(scan(&["pull", "--insecure", "a.io/x:1"], None), ["a.io"], "a switch swallows nothing");
    }

    #[test]
    fn project_registry_always_counts() {
        assert_eq!(scan(&["push", "ghcr.io/x/y:1", "a.wasm"], Some("localhost:5001")), ["ghcr.io", "localhost:5001"]);
        assert_eq!(scan(&["--help"], Some("localhost:5001")), ["localhost:5001"]);
    }

    #[test]
    fn non_references_are_ignored() {
        assert!(scan(&[], None).is_empty());
        assert!(scan(&["--help"], None).is_empty());
        assert!(scan(&["help", "push"], None).is_empty());
        assert!(scan(&["push", "oci-layout://out:1", "a.wasm"], None).is_empty());
        assert!(scan(&["push", "oci-layout:///abs/out:1", "/abs/a.wasm"], None).is_empty());
        assert!(scan(&["push", "oci-layout://out:1", "./dir.d/a.wasm", "../x.y/a.wasm"], None).is_empty());
        assert!(scan(&["push", "oci-layout://out:1", "a.wasm", "-a", "org.example/key=v"], None).is_empty());
        assert!(scan(&["pull", "oci-layout://o:1", "-d", "out.d/x.wasm", "--digest", "sha256:ab"], None).is_empty());
    }

    #[test]
    fn credentials_flag_values_are_never_scanned() {
        let args = ["pull", "oci-layout://o:1", "-u", "me.org/x", "-p", "pass.word/x", "--password=p.w/x"];
        assert!(scan(&args, None).is_empty());
    }

    #[test]
    fn other_positions_and_flag_values_with_hosts_count() {
        assert_eq!(scan(&["copy", "a.io/x:1", "b.io:5000/y:1"], None), ["a.io", "b.io:5000"]);
        assert_eq!(scan(&["push", "oci-layout://o:1", "--to=c.io/z:1"], None), ["c.io"]);
        assert_eq!(scan(&["push", "--", "d.io/x:1"], None), ["d.io"]);
        assert_eq!(scan(&["push", "a.io/x:1", "--insecure", "a.io/y:2"], None), ["a.io"]);
    }

    #[test]
    fn host_syntax() {
        assert!(is_host("ghcr.io"));
        assert!(is_host("127.0.0.1:5000"));
        assert!(is_host("[::1]"));
        assert!(is_host("[::1]:5000"));
        assert!(is_host("my_reg.local:1"));
        assert!(!is_host("."));
        assert!(!is_host(".."));
        assert!(!is_host("a.io:"));
        assert!(!is_host("a.io:port"));
        assert!(!is_host("[::1]x"));
        assert!(!is_host("a=b.c"));
        assert!(!is_host("https:"));
    }

    #[test]
    fn skip_tls_verify_anywhere() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(skip_tls_verify(&args(&["pull", "a.io/x:1", "--insecure-skip-tls-verify"])));
        assert!(!skip_tls_verify(&args(&["pull", "a.io/x:1", "--insecure"])));
    }
}
