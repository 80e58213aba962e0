//! The library's error type: a category (what kind of failure) plus the subject
//! (which registry, repository, reference, digest or path) and, where useful, what
//! the user can do about it. Messages never contain credentials.

use std::fmt;

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Categories of failure; they map one to one onto the WIT `error` variant and are
/// named in `-o json` errors (`"kind"`, kebab-case: `invalid-reference`, …). The CLI exits
/// with status 1 for every category (WASI hosts carry an exit code, but scripts tell the
/// categories apart by `kind`); a usage error clap reports itself also exits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A reference could not be parsed.
    InvalidReference,
    /// An input file or value is not acceptable (e.g. not WebAssembly, not JSON).
    InvalidInput,
    /// A command-line flag or argument value is wrong; the message says the right form.
    Usage,
    /// A configuration or project file (`wasmship.toml`, wkg's `config.toml`,
    /// `wkg.lock`) is not valid.
    Config,
    /// A provider archive is malformed, or its claims or signature do not check out.
    InvalidArchive,
    /// Content is larger than a limit allows (or than the free space).
    TooLarge,
    /// A policy refused the operation (`:latest` without `--allow-latest`, an existing
    /// version without `--force`, a stale `wkg.lock`).
    Policy,
    /// A manifest, blob, tag, cache entry or key does not exist.
    NotFound,
    /// The registry refused the credentials or asked for some.
    Unauthorized,
    /// Content does not match its digest or size.
    DigestMismatch,
    /// No signature by a trusted key checks out (or a required one is missing).
    Unverified,
    /// The artifact is not of a kind the operation handles.
    UnsupportedMediaType,
    /// The registry answered with an error.
    Registry,
    /// A request did not reach the registry, or the response broke off.
    Transport,
    /// A local file operation failed.
    Io,
}

impl ErrorKind {
    /// The category's name in `-o json` output and the WIT variant: kebab-case.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidReference => "invalid-reference",
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::Usage => "usage",
            ErrorKind::Config => "config",
            ErrorKind::InvalidArchive => "invalid-archive",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::Policy => "policy",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::DigestMismatch => "digest-mismatch",
            ErrorKind::Unverified => "unverified",
            ErrorKind::UnsupportedMediaType => "unsupported-media-type",
            ErrorKind::Registry => "registry",
            ErrorKind::Transport => "transport",
            ErrorKind::Io => "io",
        }
    }
}

/// Everything that can go wrong in the packager.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid reference {reference:?}: {reason}")]
    InvalidReference { reference: String, reason: String },

    #[error("{0}")]
    InvalidInput(String),

    #[error("{0}")]
    Usage(String),

    #[error("{file}: {reason}")]
    Config { file: String, reason: String },

    #[error("{0}")]
    Policy(String),

    #[error("{what} not found in {location}")]
    NotFound { what: String, location: String },

    /// A package a WIT package refers to is in neither `wit/deps`, the cache nor (unless
    /// offline) a registry; `cause` says what was looked for where. Kind `not-found`.
    #[error("package {package} is not in wit/deps{}", unavailable_places(*.offline, .cause))]
    WitPackageUnavailable { package: String, offline: bool, cause: String },

    #[error("{registry}: authentication required or refused ({detail})")]
    Unauthorized { registry: String, detail: String },

    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { what: String, expected: String, actual: String },

    #[error("{what}: size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch { what: String, expected: u64, actual: u64 },

    #[error("{what} is larger than the limit of {limit} bytes")]
    SizeLimitExceeded { what: String, limit: u64 },

    #[error(
        "{what} needs {needed} bytes, but the file system of {dir} has {free} free; free some space or use a directory on another file system"
    )]
    NoSpace { what: String, needed: u64, free: u64, dir: String },

    #[error("unsupported media type {media_type:?} for {context}")]
    UnsupportedMediaType { media_type: String, context: String },

    #[error("{registry}: {action} {subject}: {status}{}", detail_suffix(.code, .message))]
    Registry {
        registry: String,
        action: String,
        subject: String,
        status: u16,
        code: Option<String>,
        message: Option<String>,
    },

    #[error("{what}: not a valid provider archive: {reason}")]
    InvalidArchive { what: String, reason: String },

    #[error("{what}: signature check failed: {reason}")]
    InvalidSignature { what: String, reason: String },

    /// No cosign-format signature of `subject` verified with the keys given.
    #[error("{subject}: not verified: {reason}")]
    Unverified { subject: String, reason: String },

    #[error("{target}: {detail}")]
    Transport { target: String, detail: String },

    #[error("{} of {total} {what} failed:{}", .failures.len(), listed(.failures))]
    Several {
        /// What was attempted (`artifacts`).
        what: String,
        total: usize,
        /// Each failure, under the item it concerns.
        failures: Vec<(String, Box<Error>)>,
    },

    #[error("{path}: {action}: {source}")]
    Io {
        path: String,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// The most characters of a value from outside (a realm, a registry's message) that a
/// message repeats.
pub const MAX_ECHO: usize = 200;

/// `value` as a message may repeat it: on one line (control characters as spaces) and at
/// most `max` characters, the rest counted rather than shown.
pub fn excerpt(value: &str, max: usize) -> String {
    let one_line: String = value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let total = one_line.chars().count();
    if total <= max {
        return one_line;
    }
    let kept: String = one_line.chars().take(max).collect();
    format!("{kept}… ({} more characters)", total - max)
}

fn detail_suffix(code: &Option<String>, message: &Option<String>) -> String {
    match (code, message) {
        (Some(c), Some(m)) if !m.is_empty() => format!(" {c}: {m}"),
        (Some(c), _) => format!(" {c}"),
        (None, Some(m)) if !m.is_empty() => format!(": {m}"),
        _ => String::new(),
    }
}

fn listed(failures: &[(String, Box<Error>)]) -> String {
    failures.iter().map(|(item, error)| format!("\n  {item}: {error}")).collect()
}

fn unavailable_places(offline: bool, cause: &str) -> String {
    if offline {
        format!(
            " or the cache, and offline no registry is asked ({cause}); run `wasmship wit fetch` without \
             --offline to fetch it into the cache, wit/deps and wkg.lock"
        )
    } else {
        format!(
            ", the cache or any configured registry ({cause}); once a registry serves it, `wasmship wit fetch` \
             fetches it into wit/deps and wkg.lock"
        )
    }
}

impl Error {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidReference { .. } => ErrorKind::InvalidReference,
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::Usage(_) => ErrorKind::Usage,
            Error::Config { .. } => ErrorKind::Config,
            Error::Policy(_) => ErrorKind::Policy,
            Error::NotFound { .. } | Error::WitPackageUnavailable { .. } => ErrorKind::NotFound,
            Error::Unauthorized { .. } => ErrorKind::Unauthorized,
            Error::DigestMismatch { .. } | Error::SizeMismatch { .. } => ErrorKind::DigestMismatch,
            Error::SizeLimitExceeded { .. } | Error::NoSpace { .. } => ErrorKind::TooLarge,
            Error::InvalidArchive { .. } | Error::InvalidSignature { .. } => ErrorKind::InvalidArchive,
            Error::UnsupportedMediaType { .. } => ErrorKind::UnsupportedMediaType,
            Error::Unverified { .. } => ErrorKind::Unverified,
            Error::Registry { .. } => ErrorKind::Registry,
            Error::Transport { .. } => ErrorKind::Transport,
            Error::Io { .. } => ErrorKind::Io,
            Error::Several { failures, .. } => failures.first().map_or(ErrorKind::Io, |(_, e)| e.kind()),
        }
    }

    /// An I/O failure on `path` while doing `action`.
    pub fn io(path: impl fmt::Display, action: &'static str, source: std::io::Error) -> Self {
        Error::Io { path: path.to_string(), action, source }
    }

    /// A configuration or project file that is not valid.
    pub fn config(file: impl fmt::Display, reason: impl fmt::Display) -> Self {
        Error::Config { file: file.to_string(), reason: reason.to_string() }
    }

    /// A reference that could not be parsed.
    pub fn invalid_reference(reference: &str, reason: impl Into<String>) -> Self {
        Error::InvalidReference { reference: reference.to_string(), reason: reason.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_values_are_one_short_line() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("two\nlines", 20), "two lines");
        let long = "x".repeat(60_000);
        let shown = excerpt(&long, MAX_ECHO);
        assert!(shown.len() < 300 && shown.ends_with("(59800 more characters)"), "{shown}");
        assert_eq!(excerpt("ééé", 2), "éé… (1 more characters)");
    }

    #[test]
    fn an_unavailable_wit_package_is_named_with_the_command_that_fetches_it() {
        let offline = Error::WitPackageUnavailable {
            package: "acc:types@0.1.0".into(),
            offline: true,
            cause: "acc:types@0.1.0 not in the cache".into(),
        };
        assert_eq!(offline.kind(), ErrorKind::NotFound);
        let text = offline.to_string();
        assert!(text.starts_with("package acc:types@0.1.0 is not in wit/deps or the cache, and offline"), "{text}");
        assert!(text.contains("run `wasmship wit fetch` without --offline"), "{text}");
        assert!(!text.contains('\n'), "{text}");
        let online = Error::WitPackageUnavailable { package: "acc:types".into(), offline: false, cause: "c".into() };
        let text = online.to_string();
        assert!(text.starts_with("package acc:types is not in wit/deps, the cache or any configured registry (c)"));
        assert!(text.contains("`wasmship wit fetch` fetches it"), "{text}");
    }
}
