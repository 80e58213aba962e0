//! The credentials file a project's `wasmcloud.toml` names (`[registry] credentials`),
//! handed to the guest as content. A project file is not trusted to pick host paths: the
//! file must lie inside the working directory or the user's home (after following links),
//! it is read with a size limit, and its directory is never granted.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// The most of a credentials file that is read (it holds a few entries).
const MAX_SIZE: u64 = 1 << 20;

/// The content of the credentials file at `path` (absolute, from the plan), if it exists;
/// an error when it lies outside `cwd` and `home`.
pub fn project_credentials(path: &Path, cwd: &Path, home: Option<&Path>) -> Result<Option<String>> {
    let Ok(real) = path.canonicalize() else { return Ok(None) };
    let inside = |base: &Path| base.canonicalize().is_ok_and(|base| real.starts_with(base));
    if !inside(cwd) && !home.is_some_and(inside) {
        bail!(
            "wasmcloud.toml names the credentials file {}, outside the project ({}) and your home directory; \
             it is not handed to the packager: move it into the project or your home directory",
            path.display(),
            cwd.display()
        );
    }
    let meta = real.metadata().with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_file() {
        bail!("the credentials file {} is not a regular file", path.display());
    }
    let mut text = String::new();
    let file = std::fs::File::open(&real).with_context(|| format!("cannot read {}", path.display()))?;
    std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_SIZE + 1), &mut text)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if text.len() as u64 > MAX_SIZE {
        bail!("the credentials file {} is larger than {MAX_SIZE} bytes", path.display());
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_inside_the_project_or_home() {
        let tmp = tempfile::tempdir().unwrap();
        let (cwd, home, other) = (tmp.path().join("proj"), tmp.path().join("home"), tmp.path().join("etc"));
        for dir in [&cwd, &home, &other] {
            std::fs::create_dir(dir).unwrap();
            std::fs::write(dir.join("creds.json"), "{}").unwrap();
        }
        std::os::unix::fs::symlink(other.join("creds.json"), cwd.join("link.json")).unwrap();
        let read = |path: &Path| project_credentials(path, &cwd, Some(&home));
        assert_eq!(read(&cwd.join("creds.json")).unwrap().as_deref(), Some("{}"));
        assert_eq!(read(&home.join("creds.json")).unwrap().as_deref(), Some("{}"));
        assert_eq!(read(&cwd.join("missing.json")).unwrap(), None);
        let error = read(&other.join("creds.json")).unwrap_err().to_string();
        assert!(error.contains("outside the project"), "{error}");
        assert!(read(&cwd.join("link.json")).is_err(), "a link out of the project is followed, then refused");
    }
}
