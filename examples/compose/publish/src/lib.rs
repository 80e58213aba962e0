//! `publish DIR REPOSITORY`: publishes the component a project in DIR built to
//! `REPOSITORY:VERSION`, VERSION being the one in the component's metadata, and prints the
//! manifest's digest on stdout. The packager does the publishing, through
//! `wasmship:packager/client`; this component only finds the file and chooses the tag.
//!
//! It reads DIR through `wasi:filesystem` and hands the packager the file's path, so the
//! host grants DIR (the packager, composed in, sees the same directories).

mod bindings {
    wit_bindgen::generate!({
        path: ["../../../wit", "../wit"],
        world: "wasmship-examples:compose/publish",
        generate_all,
    });
}

mod component;

use std::path::{Component, Path, PathBuf};

// `packager0_2_0`: the packager's WIT directory also holds `wasmship:packager@0.1.0` (its
// first interface), so the bindings name each version's module.
use bindings::wasmship::packager0_2_0::client::{Client, PushOptions};
use bindings::wasmship::packager0_2_0::types::{CachePolicy, ClientOptions, Error};

const USAGE: &str = "usage: publish DIR REPOSITORY

Publishes the newest *.wasm of DIR/target/wasm32-wasip2/release (or of DIR, when it has no
such directory) to REPOSITORY:VERSION, VERSION being the `version` in the component's
metadata, and prints the manifest's digest.";

struct Publish;

impl bindings::exports::wasi::cli::run::Guest for Publish {
    fn run() -> Result<(), ()> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let [dir, repository] = args.as_slice() else {
            eprintln!("{USAGE}");
            return Err(());
        };
        match publish(&host_path(dir), repository) {
            Ok(digest) => {
                println!("{digest}");
                Ok(())
            }
            Err(message) => {
                eprintln!("publish: {message}");
                Err(())
            }
        }
    }
}

bindings::export!(Publish with_types_in bindings);

/// `dir` as the host's preopens name it: a relative one joined to `WASMSHIP_CWD` when the
/// host sets it (the `wasmship` runner does, and grants directories under their absolute
/// paths), else as given (`wasmtime run --dir .` preopens `.` itself).
fn host_path(dir: &str) -> PathBuf {
    match std::env::var_os("WASMSHIP_CWD") {
        Some(cwd) if Path::new(dir).is_relative() => {
            Path::new(&cwd).join(dir).components().filter(|c| *c != Component::CurDir).collect()
        }
        _ => PathBuf::from(dir),
    }
}

/// Publishes the component found in `dir` to `repository`; the manifest's digest.
fn publish(dir: &Path, repository: &str) -> Result<String, String> {
    if repository.rsplit('/').next().is_some_and(|last| last.contains([':', '@'])) {
        return Err(format!("{repository}: give the repository alone; the tag is the component's version"));
    }
    let file = component::find(dir)?;
    let version = component::version(&file)?;
    let reference = format!("{repository}:{}", component::tag(&version)?);
    let path = file.to_str().ok_or_else(|| format!("{}: the path is not UTF-8", file.display()))?;

    let client = Client::new(&ClientOptions {
        insecure: Vec::new(),
        allow_latest: false,
        // The command line's sources: `WASH_REG_USER`/`WASH_REG_PASSWORD` and the like.
        credentials: None,
        // A push does not use the cache.
        cache: CachePolicy::Bypass,
        cache_dir: None,
    });
    let options = PushOptions { annotations: Vec::new(), title: None, chunked: false };
    let pushed = client.push_file(&reference, path, &options).map_err(|e| describe(&e))?;
    eprintln!("published {path} (version {version}) to {}", pushed.reference);
    Ok(pushed.digest)
}

/// The packager's error as one line: its category, then its message.
fn describe(error: &Error) -> String {
    let (category, message) = match error {
        Error::InvalidReference(m) => ("invalid reference", m),
        Error::InvalidInput(m) => ("invalid input", m),
        Error::Usage(m) => ("usage", m),
        Error::Config(m) => ("configuration", m),
        Error::InvalidArchive(m) => ("invalid archive", m),
        Error::TooLarge(m) => ("too large", m),
        Error::Policy(m) => ("refused by policy", m),
        Error::Unverified(m) => ("unverified", m),
        Error::NotFound(m) => ("not found", m),
        Error::Unauthorized(m) => ("unauthorized", m),
        Error::DigestMismatch(m) => ("digest mismatch", m),
        Error::UnsupportedMediaType(m) => ("unsupported media type", m),
        Error::Registry(m) => ("registry", m),
        Error::Transport(m) => ("transport", m),
        Error::Io(m) => ("i/o", m),
    };
    format!("{category}: {message}")
}
