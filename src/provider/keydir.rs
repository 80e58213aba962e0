//! Where signing keys come from, as wash does it: a seed given on the command
//! line (or a file holding one), else a `.nk` file in the key directory
//! (`--directory`, `$WASH_KEYS`, else `$HOME/.wash/keys`) named
//! `<name>_<role>.nk` — `$USER_account.nk` for the account, `<binary
//! stem>_service.nk` for the service — generated there when missing.
//!
//! Key files are created exclusively and, natively on Unix, with mode 0600 in
//! a 0700 directory. WASI 0.2 has no file permissions: inside the component
//! the file gets the host's default mode, and the wasmship runner tightens the
//! key directory and the `.nk` files it finds new after the command.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use super::keys::{KeyPair, KeyRole, PublicKey};
use crate::config::env::var;
use crate::error::{Error, Result};

/// The extension of key files.
pub const KEY_FILE_EXTENSION: &str = "nk";

/// The key directory: `$WASH_KEYS`, else `$HOME/.wash/keys`.
pub fn default_dir() -> Option<PathBuf> {
    default_dir_with(&var)
}

/// [`default_dir`] in the environment `var` looks variables up in.
pub fn default_dir_with(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    var("WASH_KEYS").map(PathBuf::from).or_else(|| var("HOME").map(|home| Path::new(&home).join(".wash").join("keys")))
}

/// Whether a key argument is a seed itself rather than the path of a file holding one.
pub fn looks_like_seed(value: &str) -> bool {
    value.len() == 58 && value.starts_with('S') && !value.contains(['/', '.'])
}

/// The account key's default name: `$USER`, else `user` (wash's choice).
pub fn account_name() -> String {
    var("USER").unwrap_or_else(|| "user".to_string())
}

/// The file of a named key in `dir`: `<name>_<role>.nk`.
pub fn key_path(dir: &Path, name: &str, role: KeyRole) -> PathBuf {
    dir.join(format!("{name}_{}.{KEY_FILE_EXTENSION}", role.name()))
}

/// Where a key came from, for the user to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// A seed given as an argument.
    Argument,
    /// Read from this file.
    File(PathBuf),
    /// Generated now and saved to this file.
    Generated(PathBuf),
}

/// A key given as a seed or as the path of a file holding one, of `role`.
pub fn key_from_argument(value: &str, role: KeyRole) -> Result<(KeyPair, KeyOrigin)> {
    let value = value.trim();
    let (pair, origin) = if looks_like_seed(value) {
        (KeyPair::from_seed(value)?, KeyOrigin::Argument)
    } else {
        let path = PathBuf::from(value);
        match read_key_file(&path) {
            Ok(pair) => (pair, KeyOrigin::File(path)),
            Err(Error::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {
                return Err(Error::InvalidInput(format!(
                    "the {role} key is neither a seed (S{}…) nor a readable file: {value}",
                    role_letter(role)
                )));
            }
            Err(e) => return Err(e),
        }
    };
    check_role(&pair, role)?;
    Ok((pair, origin))
}

/// The named key from `dir`, generated and saved there when it does not exist
/// (unless `generate` is false).
pub fn key_from_directory(dir: &Path, name: &str, role: KeyRole, generate: bool) -> Result<(KeyPair, KeyOrigin)> {
    let path = key_path(dir, name, role);
    match read_key_file(&path) {
        Ok(pair) => {
            check_role(&pair, role)?;
            return Ok((pair, KeyOrigin::File(path)));
        }
        Err(Error::Io { source, .. }) if source.kind() == ErrorKind::NotFound && generate => {}
        Err(Error::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {
            return Err(Error::NotFound {
                what: format!("{role} key {}", path.display()),
                location: "the key directory (key generation is disabled; give the key as a flag)".into(),
            });
        }
        Err(e) => return Err(e),
    }
    let pair = KeyPair::generate(role)?;
    save_key(&path, &pair)?;
    Ok((pair, KeyOrigin::Generated(path)))
}

/// The key in `dir` whose public key is `public`, if any (to sign again as
/// the same account or service).
pub fn find_key(dir: &Path, public: &str) -> Result<Option<(KeyPair, PathBuf)>> {
    let wanted = PublicKey::parse(public)?;
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(dir.display(), "list key directory", e)),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == KEY_FILE_EXTENSION))
        .collect();
    paths.sort();
    for path in paths {
        if let Ok(pair) = read_key_file(&path)
            && pair.public_key() == wanted
        {
            return Ok(Some((pair, path)));
        }
    }
    Ok(None)
}

fn read_key_file(path: &Path) -> Result<KeyPair> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path.display(), "read key file", e))?;
    KeyPair::from_seed(&text).map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))
}

fn check_role(pair: &KeyPair, role: KeyRole) -> Result<()> {
    if pair.role() == role {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "expected a {role} key (S{}…), got a {} key ({})",
            role_letter(role),
            pair.role(),
            pair.public_key()
        )))
    }
}

fn role_letter(role: KeyRole) -> char {
    match role {
        KeyRole::Account => 'A',
        KeyRole::Service => 'V',
        KeyRole::Module => 'M',
        KeyRole::Operator => 'O',
        KeyRole::Server => 'N',
        KeyRole::Cluster => 'C',
        KeyRole::User => 'U',
    }
}

/// Write a new key file: the directory created (0700 on Unix), the file
/// created exclusively (0600 on Unix) so an existing key is never overwritten.
pub fn save_key(path: &Path, pair: &KeyPair) -> Result<()> {
    let dir = crate::fsutil::parent_dir(path);
    fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), "create key directory", e))?;
    restrict_dir(dir)?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| Error::io(path.display(), "create key file", e))?;
    file.write_all(pair.seed().as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io(path.display(), "write key file", e))
}

#[cfg(unix)]
fn restrict_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| Error::io(dir.display(), "chmod 700", e))
}

#[cfg(not(unix))]
fn restrict_dir(_dir: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wasmship-keydir-{:x}", crate::fsutil::random_u64()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn generates_once_then_reuses_with_wash_names() {
        let dir = temp_dir().join("keys");
        let (first, origin) = key_from_directory(&dir, "alice", KeyRole::Account, true).unwrap();
        let path = dir.join("alice_account.nk");
        assert_eq!(origin, KeyOrigin::Generated(path.clone()));
        assert_eq!(fs::read_to_string(&path).unwrap(), first.seed());
        let (again, origin) = key_from_directory(&dir, "alice", KeyRole::Account, true).unwrap();
        assert_eq!(origin, KeyOrigin::File(path.clone()));
        assert_eq!(again.public_key(), first.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        }
        let (service, _) = key_from_directory(&dir, "my-provider", KeyRole::Service, true).unwrap();
        assert!(dir.join("my-provider_service.nk").is_file());
        assert_eq!(find_key(&dir, &service.public_key().to_string()).unwrap().unwrap().0.seed(), service.seed());
        fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn no_generation_when_disabled() {
        let dir = temp_dir();
        assert!(matches!(key_from_directory(&dir, "x", KeyRole::Service, false), Err(Error::NotFound { .. })));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn arguments_are_seeds_or_files_of_the_right_role() {
        let dir = temp_dir();
        let account = KeyPair::generate(KeyRole::Account).unwrap();
        let (pair, origin) = key_from_argument(&account.seed(), KeyRole::Account).unwrap();
        assert_eq!((pair.public_key(), origin), (account.public_key(), KeyOrigin::Argument));

        let file = dir.join("issuer.nk");
        fs::write(&file, format!("{}\n", account.seed())).unwrap();
        let (pair, origin) = key_from_argument(file.to_str().unwrap(), KeyRole::Account).unwrap();
        assert_eq!((pair.public_key(), origin), (account.public_key(), KeyOrigin::File(file)));

        let err = key_from_argument(&account.seed(), KeyRole::Service).unwrap_err();
        assert!(err.to_string().contains("expected a service key"), "{err}");
        let err = key_from_argument("/no/such/file.nk", KeyRole::Account).unwrap_err();
        assert!(err.to_string().contains("neither a seed"), "{err}");
        fs::remove_dir_all(dir).unwrap();
    }
}
