//! `bytes REFERENCE`: pushes a small component made in memory to REFERENCE with the
//! packager's `client.push`, pulls it back with `client.pull`, checks the bytes are the
//! same and prints the manifest's digest on stdout.
//!
//! It needs no filesystem: the content is bytes both ways and the cache is bypassed, so a
//! host grants it no directory at all, only outgoing HTTP. With `REGISTRY_USERNAME` and
//! `REGISTRY_PASSWORD` set it uses exactly that login at REFERENCE's registry; without them,
//! the packager's usual sources (`WASH_REG_USER`/`WASH_REG_PASSWORD`, …).

mod bindings {
    wit_bindgen::generate!({
        path: ["../../../wit", "../wit"],
        world: "wasmship-examples:compose/bytes",
        generate_all,
    });
}

mod sample;

// `packager0_2_0`: the packager's WIT directory also holds `wasmship:packager@0.1.0` (its
// first interface), so the bindings name each version's module.
use bindings::wasmship::packager0_2_0::client::{Client, PullOptions, PushOptions};
use bindings::wasmship::packager0_2_0::types::{
    BasicCredential, CachePolicy, ClientOptions, Credential, Error, RegistryCredential,
};

const USAGE: &str = "usage: bytes REFERENCE

Pushes a component made in memory to REFERENCE (host[:port]/repository:tag), pulls it back,
checks the bytes and prints the manifest's digest. Logs in with REGISTRY_USERNAME and
REGISTRY_PASSWORD when both are set.";

struct Bytes;

impl bindings::exports::wasi::cli::run::Guest for Bytes {
    fn run() -> Result<(), ()> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let [reference] = args.as_slice() else {
            eprintln!("{USAGE}");
            return Err(());
        };
        match round_trip(reference) {
            Ok(digest) => {
                println!("{digest}");
                Ok(())
            }
            Err(message) => {
                eprintln!("bytes: {message}");
                Err(())
            }
        }
    }
}

bindings::export!(Bytes with_types_in bindings);

/// Pushes the sample to `reference` and pulls it back; the manifest's digest.
fn round_trip(reference: &str) -> Result<String, String> {
    let client = Client::new(&ClientOptions {
        insecure: Vec::new(),
        allow_latest: false,
        credentials: credentials(reference),
        // No directory to keep a cache in.
        cache: CachePolicy::Bypass,
        cache_dir: None,
    });
    let content = sample::component();
    let options = PushOptions { annotations: Vec::new(), title: None, chunked: false };
    let pushed = client.push(reference, &content, &options).map_err(|e| describe("push", &e))?;
    eprintln!("pushed {} bytes to {}", content.len(), pushed.reference);

    let options = PullOptions { expected_digest: Some(pushed.digest.clone()), max_size: None };
    let (pulled, layer) = client.pull(reference, &options).map_err(|e| describe("pull", &e))?;
    if layer != content {
        return Err(format!("pulled {} bytes back from {}, not the ones pushed", layer.len(), pulled.reference));
    }
    eprintln!("pulled the same {} bytes back (layer {})", layer.len(), pulled.layer.digest);
    Ok(pushed.digest)
}

/// Exactly the login in `REGISTRY_USERNAME` and `REGISTRY_PASSWORD`, for the registry of
/// `reference`, when both are set; else none (the packager's own sources).
fn credentials(reference: &str) -> Option<Vec<RegistryCredential>> {
    let username = std::env::var("REGISTRY_USERNAME").ok()?;
    let password = std::env::var("REGISTRY_PASSWORD").ok()?;
    let registry = reference.split('/').next().unwrap_or_default().to_owned();
    let credential = Credential::Basic(BasicCredential { username, password });
    Some(vec![RegistryCredential { registry, credential }])
}

/// The packager's error as one line: the operation, its category, then its message.
fn describe(operation: &str, error: &Error) -> String {
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
    format!("{operation}: {category}: {message}")
}
