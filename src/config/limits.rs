//! Limits on what a transfer may write, which the user can change: the largest blob a
//! manifest may name (`WASMSHIP_MAX_BLOB_SIZE`, default 8 GiB — a manifest claiming a
//! terabyte layer is refused before a byte moves), and the free space a write needs, from
//! the figures the runner hands over (`host_contract::FREE_SPACE`; WASI 0.2 cannot ask the
//! file system itself).

use std::path::Path;

use crate::error::{Error, Result};
use crate::oci::Descriptor;

/// Environment variable that sets the largest blob a transfer accepts.
pub const MAX_BLOB_SIZE_VAR: &str = "WASMSHIP_MAX_BLOB_SIZE";
/// The largest blob a transfer accepts by default: far above any component or provider
/// archive (tens of MB), far below what fills a disk by surprise.
pub const DEFAULT_MAX_BLOB_SIZE: u64 = 8 << 30;

/// `123`, `10K`, `20M`, `1G`, `1GiB` (powers of 1024).
pub fn parse_size(text: &str) -> Result<u64> {
    let text = text.trim();
    let wrong = || Error::Usage(format!("size {:?}: use bytes or a K, M or G suffix", crate::error::excerpt(text, 40)));
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let multiplier: u64 = match unit.trim().to_ascii_uppercase().trim_end_matches("IB").trim_end_matches('B') {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return Err(wrong()),
    };
    number.parse::<u64>().ok().and_then(|n| n.checked_mul(multiplier)).ok_or_else(wrong)
}

/// The largest blob a transfer accepts: `WASMSHIP_MAX_BLOB_SIZE`, else the default.
pub fn max_blob_size() -> Result<u64> {
    match crate::config::env::var(MAX_BLOB_SIZE_VAR) {
        Some(text) => parse_size(&text).map_err(|e| Error::Usage(format!("{MAX_BLOB_SIZE_VAR}: {e}"))),
        None => Ok(DEFAULT_MAX_BLOB_SIZE),
    }
}

/// Refuse blobs of `subject` larger than the limit, before anything is transferred.
pub fn check_blobs<'d>(blobs: impl IntoIterator<Item = &'d Descriptor>, subject: &str) -> Result<()> {
    let limit = max_blob_size()?;
    match blobs.into_iter().find(|d| d.size > limit) {
        Some(blob) => Err(Error::SizeLimitExceeded {
            what: format!(
                "blob {} of {subject} ({} bytes; {MAX_BLOB_SIZE_VAR}=SIZE raises the limit)",
                blob.digest, blob.size
            ),
            limit,
        }),
        None => Ok(()),
    }
}

/// Refuse to write `needed` bytes into `dir` when the runner said its file system has
/// less free space than that (nothing is known elsewhere: the write goes ahead).
pub fn ensure_space(dir: &Path, needed: u64, what: &str) -> Result<()> {
    let Some(text) = crate::config::env::var(crate::host_contract::FREE_SPACE) else { return Ok(()) };
    let absolute;
    let dir = match std::env::current_dir() {
        Ok(cwd) if dir.is_relative() => {
            absolute = cwd.join(dir);
            absolute.as_path()
        }
        _ => dir,
    };
    match free_space_in(&text, dir) {
        Some((root, free)) if free < needed => Err(Error::NoSpace { what: what.to_string(), needed, free, dir: root }),
        _ => Ok(()),
    }
}

/// The free bytes the `FREE_SPACE` JSON names for the granted directory holding `dir`.
fn free_space_in(json: &str, dir: &Path) -> Option<(String, u64)> {
    let figures: std::collections::BTreeMap<String, u64> = serde_json::from_str(json).ok()?;
    let dir = crate::plan::normalize(dir);
    figures.into_iter().filter(|(root, _)| dir.starts_with(root)).max_by_key(|(root, _)| root.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("123").unwrap(), 123);
        assert_eq!(parse_size("20M").unwrap(), 20 << 20);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert!(parse_size("12X").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }

    #[test]
    fn free_space_comes_from_the_closest_granted_directory() {
        let json = r#"{"/data": 100, "/data/cache": 5, "/other": 1}"#;
        assert_eq!(free_space_in(json, Path::new("/data/cache/.ingest")), Some(("/data/cache".into(), 5)));
        assert_eq!(free_space_in(json, Path::new("/data/out")), Some(("/data".into(), 100)));
        assert_eq!(free_space_in(json, Path::new("/elsewhere")), None);
        assert_eq!(free_space_in("not json", Path::new("/data")), None);
    }

    #[test]
    fn a_terabyte_layer_is_refused_before_it_moves() {
        let digest = crate::oci::Digest::sha256_of(b"x");
        let huge = Descriptor::new("application/wasm", digest, 1_000_000_000_000);
        let error = check_blobs([&huge], "r/a:1").unwrap_err().to_string();
        assert!(error.contains("1000000000000 bytes") && error.contains(MAX_BLOB_SIZE_VAR), "{error}");
        let small = Descriptor::new("application/wasm", crate::oci::Digest::sha256_of(b"y"), 10);
        check_blobs([&small], "r/a:1").unwrap();
    }
}
