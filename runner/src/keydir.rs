//! The signing-key directory of `par create` and `par insert`. The guest cannot set file
//! permissions (WASI 0.2 has none), so the runner does what wash does natively: it creates
//! the key directory (`--directory`/`-d`, else `$WASH_KEYS`, else `$HOME/.wash/keys`) with
//! mode 0700, grants it to the guest, and after the command gives every `.nk` file that
//! appeared during the run mode 0600.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A key directory prepared for one run.
#[derive(Debug)]
pub struct KeyDir {
    dir: PathBuf,
    before: BTreeSet<OsString>,
}

impl KeyDir {
    /// The directory, to preopen.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Restrict the key files written during the run to their owner.
    pub fn finish(self) -> Result<()> {
        for name in key_files(&self.dir).difference(&self.before) {
            restrict(&self.dir.join(name), 0o600)?;
        }
        Ok(())
    }
}

/// The key directory a `par create`/`par insert` run may write to, created if missing;
/// `None` for other commands and when both keys are given (no directory is needed).
pub fn prepare(args: &[String], cwd: &Path, var: impl Fn(&str) -> Option<String>) -> Result<Option<KeyDir>> {
    let Some(dir) = key_dir(args, cwd, var) else { return Ok(None) };
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create the key directory {}", dir.display()))?;
        restrict(&dir, 0o700)?;
    }
    let before = key_files(&dir);
    Ok(Some(KeyDir { dir, before }))
}

/// Where keys are read or generated for this command line, if anywhere.
pub fn key_dir(args: &[String], cwd: &Path, var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if args.first().map(String::as_str) != Some("par")
        || !matches!(args.get(1).map(String::as_str), Some("create" | "insert"))
    {
        return None;
    }
    let var = |name: &str| var(name).filter(|v| !v.is_empty());
    let given = |long: &str, short: &str| crate::cli::flag_value(&args[2..], long, Some(short));
    let issuer = given("--issuer", "-i").or_else(|| var("WASH_ISSUER_KEY"));
    let subject = given("--subject", "-s").or_else(|| var("WASH_SUBJECT_KEY"));
    if issuer.is_some() && subject.is_some() {
        return None;
    }
    let dir = given("--directory", "-d")
        .or_else(|| var("WASH_KEYS"))
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|home| Path::new(&home).join(".wash").join("keys")))?;
    Some(cwd.join(dir))
}

fn key_files(dir: &Path) -> BTreeSet<OsString> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "nk"))
        .map(|entry| entry.file_name())
        .collect()
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set mode {mode:o} on {}", path.display()))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn picks_the_directory_like_wash() {
        let cwd = Path::new("/work");
        let home = vars(&[("HOME", "/home/u")]);
        let create = |extra: &[&str]| {
            let mut a = args(&["par", "create", "--name", "n"]);
            a.extend(args(extra));
            a
        };
        assert_eq!(key_dir(&create(&[]), cwd, &home), Some(PathBuf::from("/home/u/.wash/keys")));
        assert_eq!(key_dir(&create(&["-d", "keys"]), cwd, &home), Some(PathBuf::from("/work/keys")));
        assert_eq!(key_dir(&create(&["--directory=/k"]), cwd, &home), Some(PathBuf::from("/k")));
        let env = vars(&[("HOME", "/home/u"), ("WASH_KEYS", "/wk")]);
        assert_eq!(key_dir(&create(&[]), cwd, &env), Some(PathBuf::from("/wk")));
        assert_eq!(key_dir(&create(&["--issuer", "SA", "--subject", "SV"]), cwd, &home), None);
        assert_eq!(key_dir(&create(&["--issuer", "SA"]), cwd, &home), Some(PathBuf::from("/home/u/.wash/keys")));
        assert_eq!(key_dir(&args(&["pull", "-d", "x"]), cwd, &home), None);
        assert_eq!(key_dir(&args(&["par", "insert", "a.par"]), cwd, vars(&[])), None);
    }

    #[cfg(unix)]
    #[test]
    fn new_key_files_become_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("keys");
        let a = args(&["par", "create", "-d", dir.to_str().unwrap()]);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("old.nk"), "S").unwrap();
        std::fs::set_permissions(dir.join("old.nk"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let prepared = prepare(&a, tmp.path(), vars(&[])).unwrap().unwrap();
        std::fs::write(dir.join("new_service.nk"), "S").unwrap();
        prepared.finish().unwrap();
        let mode = |name: &str| std::fs::metadata(dir.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("new_service.nk"), 0o600);
        assert_eq!(mode("old.nk"), 0o644, "files the run did not create are left alone");

        let fresh = tmp.path().join("fresh/keys");
        let a = args(&["par", "create", "--directory", fresh.to_str().unwrap()]);
        prepare(&a, tmp.path(), vars(&[])).unwrap().unwrap();
        assert_eq!(std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o700);
    }
}
