//! `par create` and `par insert`: read the inputs, find or make the signing
//! keys, build and sign the archive, and write it atomically (temporary file,
//! then rename), so a failed run never leaves half an archive behind.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fsutil::{TempFile, parent_dir};
use crate::provider::archive::{ENTRY_MAX_BYTES, GZIP_MAGIC, Keep};
use crate::provider::keydir::{self, KeyOrigin};
use crate::provider::par::load_keeping;
use crate::provider::{ArchiveBuilder, KeyPair, KeyRole, ProviderInfo};

/// Where the signing keys come from.
#[derive(Debug, Clone, Default)]
pub struct KeyOptions {
    /// The account seed or a file holding it.
    pub issuer: Option<String>,
    /// The service seed or a file holding it.
    pub subject: Option<String>,
    /// The key directory (default `$WASH_KEYS`, else `$HOME/.wash/keys`).
    pub directory: Option<PathBuf>,
    /// Do not generate missing keys.
    pub disable_keygen: bool,
}

/// What to create.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub info: ProviderInfo,
    pub binary: PathBuf,
    pub target: String,
    /// A file with the JSON schema of the provider's link configuration.
    pub schema: Option<PathBuf>,
    /// The provider's world, binary-encoded WIT (`world.wasm`).
    pub world: Option<Vec<u8>>,
    pub keys: KeyOptions,
    /// Default: `<binary stem>.par`, `.par.gz` when compressed.
    pub destination: Option<PathBuf>,
    pub compress: bool,
}

/// What `par create` or `par insert` did.
#[derive(Debug, Clone)]
pub struct ParOutcome {
    pub file: PathBuf,
    pub issuer: String,
    pub subject: String,
    pub targets: Vec<String>,
    /// Key files generated on the way.
    pub generated_keys: Vec<PathBuf>,
    /// Whether `insert` replaced an existing target's binary.
    pub replaced: bool,
}

/// Build, sign and write a new provider archive.
pub fn create(request: &CreateRequest) -> Result<ParOutcome> {
    let mut info = request.info.clone();
    if let Some(schema) = &request.schema {
        let text = crate::fsutil::read_regular_at_most(schema, crate::fsutil::PROJECT_FILE_MAX)
            .map_err(|e| Error::io(schema.display(), "read schema", e))?;
        info.schema = Some(serde_json::from_slice(&text).map_err(|e| {
            Error::InvalidInput(format!("{}: the link configuration schema is not JSON: {e}", schema.display()))
        })?);
    }
    let binary = read_binary(&request.binary)?;
    let mut builder = ArchiveBuilder::new(info);
    builder.add_target(&request.target, binary)?;
    if let Some(world) = &request.world {
        builder.set_world(world.clone());
    }

    let stem = file_stem(&request.binary);
    let mut generated = Vec::new();
    let issuer = resolve_key(&request.keys, KeyRole::Account, &keydir::account_name(), &mut generated)?;
    let subject = resolve_key(&request.keys, KeyRole::Service, &stem, &mut generated)?;

    let destination = create_destination(request.destination.as_deref(), &stem, request.compress);
    write_archive(&builder, &issuer, &subject, request.compress, &destination)?;
    Ok(ParOutcome {
        file: destination,
        issuer: issuer.public_key().to_string(),
        subject: subject.public_key().to_string(),
        targets: builder.targets(),
        generated_keys: generated,
        replaced: false,
    })
}

/// What to insert.
#[derive(Debug, Clone)]
pub struct InsertRequest {
    pub archive: PathBuf,
    pub binary: PathBuf,
    pub target: String,
    pub keys: KeyOptions,
}

/// Add a target to an archive and sign it again, as the same service. The
/// archive must verify first: nothing unverified is ever signed. Its files are
/// streamed into temporary files next to it (within the limits of
/// [`crate::provider::archive`]), not held in memory.
pub fn insert(request: &InsertRequest) -> Result<ParOutcome> {
    let path = &request.archive;
    let what = path.display().to_string();
    let file = crate::fsutil::open_regular(path).map_err(|e| Error::io(&what, "open", e))?;
    let mut source = std::io::BufReader::with_capacity(crate::fsutil::FILE_WRITE_BUFFER, file);
    let head = std::io::BufRead::fill_buf(&mut source).map_err(|e| Error::io(&what, "read", e))?;
    let compressed = head.starts_with(&GZIP_MAGIC);
    let loaded = load_keeping(source, Keep::Spool(parent_dir(path)), &what)?;
    loaded.require_valid()?;
    let (old_issuer, old_subject) = (loaded.claims().iss.clone(), loaded.claims().sub.clone());

    let mut generated = Vec::new();
    let issuer = match &request.keys.issuer {
        Some(_) => resolve_key(&request.keys, KeyRole::Account, &keydir::account_name(), &mut generated)?,
        None => key_in_directory(&request.keys, &old_issuer, "--issuer")?,
    };
    let subject = match &request.keys.subject {
        Some(_) => resolve_key(&request.keys, KeyRole::Service, "", &mut generated)?,
        None => key_in_directory(&request.keys, &old_subject, "--subject")?,
    };
    if subject.public_key().to_string() != old_subject {
        return Err(Error::InvalidInput(format!(
            "{what} is signed for the service {old_subject}, but the subject key given is {}; \
             inserting a target keeps the provider's identity, so sign with its own service key",
            subject.public_key()
        )));
    }

    let mut builder = loaded.into_builder()?;
    let replaced = builder.add_target(&request.target, read_binary(&request.binary)?)?;
    write_archive(&builder, &issuer, &subject, compressed, path)?;
    Ok(ParOutcome {
        file: path.clone(),
        issuer: issuer.public_key().to_string(),
        subject: old_subject,
        targets: builder.targets(),
        generated_keys: generated,
        replaced,
    })
}

/// The bytes of a provider binary, at most [`ENTRY_MAX_BYTES`].
fn read_binary(path: &Path) -> Result<Vec<u8>> {
    crate::fsutil::read_regular_at_most(path, ENTRY_MAX_BYTES).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => {
            Error::SizeLimitExceeded { what: format!("provider binary {}", path.display()), limit: ENTRY_MAX_BYTES }
        }
        _ => Error::io(path.display(), "read provider binary", e),
    })
}

/// The binary's file name without its last extension, as wash names keys and archives.
fn file_stem(path: &Path) -> String {
    path.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "provider".into())
}

/// wash's default: `<binary stem>.par` (`.par.gz` when compressed); a
/// compressed archive's name always ends in `.gz`.
fn create_destination(requested: Option<&Path>, stem: &str, compress: bool) -> PathBuf {
    let default_name = format!("{stem}{}", if compress { ".par.gz" } else { ".par" });
    let path = match requested {
        Some(path) if path.is_dir() => path.join(default_name),
        Some(path) => path.to_path_buf(),
        None => PathBuf::from(default_name),
    };
    if compress && path.extension().is_none_or(|e| e != "gz") {
        let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".gz");
        path.with_file_name(name)
    } else {
        path
    }
}

/// The key given as an argument, else the named key of the key directory
/// (generated when missing, unless disabled).
fn resolve_key(options: &KeyOptions, role: KeyRole, name: &str, generated: &mut Vec<PathBuf>) -> Result<KeyPair> {
    let given = match role {
        KeyRole::Account => options.issuer.as_deref(),
        _ => options.subject.as_deref(),
    };
    let (pair, origin) = match given {
        Some(value) => keydir::key_from_argument(value, role)?,
        None => keydir::key_from_directory(&key_dir(options)?, name, role, !options.disable_keygen)?,
    };
    if let KeyOrigin::Generated(path) = origin {
        generated.push(path);
    }
    Ok(pair)
}

/// The key of the key directory whose public key is `public`.
fn key_in_directory(options: &KeyOptions, public: &str, flag: &str) -> Result<KeyPair> {
    let dir = key_dir(options)?;
    match keydir::find_key(&dir, public)? {
        Some((pair, _)) => Ok(pair),
        None => Err(Error::NotFound {
            what: format!("the seed of {public}, which signed the archive"),
            location: format!("{} (give it with {flag})", dir.display()),
        }),
    }
}

fn key_dir(options: &KeyOptions) -> Result<PathBuf> {
    options
        .directory
        .clone()
        .or_else(keydir::default_dir)
        .ok_or_else(|| Error::Usage("no key directory: set HOME or WASH_KEYS, or give --directory or the keys".into()))
}

fn write_archive(
    builder: &ArchiveBuilder,
    issuer: &KeyPair,
    subject: &KeyPair,
    compress: bool,
    to: &Path,
) -> Result<()> {
    let mut tmp = TempFile::new_in(parent_dir(to), "wasmship-par")?;
    {
        let mut out = std::io::BufWriter::new(tmp.file());
        builder.write(issuer, subject, compress, &mut out)?;
        std::io::Write::flush(&mut out).map_err(|e| Error::io(to.display(), "write", e))?;
    }
    tmp.persist(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::load;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wasmship-par-{:x}", crate::fsutil::random_u64()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn request(dir: &Path) -> CreateRequest {
        std::fs::write(dir.join("my-provider"), b"\x7fELF binary").unwrap();
        std::fs::write(dir.join("schema.json"), br#"{"type":"object"}"#).unwrap();
        CreateRequest {
            info: ProviderInfo { name: "My Provider".into(), vendor: "Acme".into(), ..Default::default() },
            binary: dir.join("my-provider"),
            target: "x86_64-linux".into(),
            schema: Some(dir.join("schema.json")),
            world: None,
            keys: KeyOptions { directory: Some(dir.join("keys")), ..Default::default() },
            destination: Some(dir.to_path_buf()),
            compress: true,
        }
    }

    #[test]
    fn create_generates_keys_once_and_insert_reuses_them() {
        let dir = temp_dir();
        let created = create(&request(&dir)).unwrap();
        assert_eq!(created.file, dir.join("my-provider.par.gz"));
        assert_eq!(created.generated_keys.len(), 2);
        assert!(created.generated_keys.contains(&dir.join("keys/my-provider_service.nk")));
        let bytes = std::fs::read(&created.file).unwrap();
        let loaded = load(&bytes[..], false, "x").unwrap();
        loaded.require_valid().unwrap();
        assert_eq!(loaded.claims().info().unwrap().schema, Some(serde_json::json!({"type": "object"})));

        let again = create(&request(&dir)).unwrap();
        assert!(again.generated_keys.is_empty(), "existing keys are reused");
        assert_eq!(
            (again.issuer.as_str(), again.subject.as_str()),
            (created.issuer.as_str(), created.subject.as_str())
        );

        std::fs::write(dir.join("mac"), b"macho").unwrap();
        let inserted = insert(&InsertRequest {
            archive: created.file.clone(),
            binary: dir.join("mac"),
            target: "aarch64-macos".into(),
            keys: KeyOptions { directory: Some(dir.join("keys")), ..Default::default() },
        })
        .unwrap();
        assert_eq!(inserted.targets, ["aarch64-macos", "x86_64-linux"]);
        let bytes = std::fs::read(&created.file).unwrap();
        assert!(bytes.starts_with(&GZIP_MAGIC), "compression is kept");
        let loaded = load(&bytes[..], false, "x").unwrap();
        loaded.require_valid().unwrap();
        assert_eq!(loaded.claims().sub, created.subject);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn insert_refuses_another_service_key_and_a_tampered_archive() {
        let dir = temp_dir();
        let created = create(&request(&dir)).unwrap();
        let foreign = KeyPair::generate(KeyRole::Service).unwrap();
        let mut insert_request = InsertRequest {
            archive: created.file.clone(),
            binary: dir.join("my-provider"),
            target: "aarch64-linux".into(),
            keys: KeyOptions { directory: Some(dir.join("keys")), subject: Some(foreign.seed()), ..Default::default() },
        };
        let err = insert(&insert_request).unwrap_err();
        assert!(err.to_string().contains("keeps the provider's identity"), "{err}");

        // An uncompressed archive with its binary changed in place.
        let mut plain = request(&dir);
        plain.compress = false;
        let plain = create(&plain).unwrap();
        let mut bytes = std::fs::read(&plain.file).unwrap();
        let at = bytes.windows(6).position(|w| w == b"binary").unwrap();
        bytes[at] = b'B';
        std::fs::write(&plain.file, &bytes).unwrap();
        insert_request.archive = plain.file.clone();
        insert_request.keys.subject = None;
        let err = insert(&insert_request).unwrap_err();
        assert!(err.to_string().contains("does not match its hash"), "{err}");
        assert_eq!(std::fs::read(&plain.file).unwrap(), bytes, "a refused insert leaves the file alone");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn destinations() {
        assert_eq!(create_destination(None, "p", false), PathBuf::from("p.par"));
        assert_eq!(create_destination(None, "p", true), PathBuf::from("p.par.gz"));
        assert_eq!(create_destination(Some(Path::new("out.par")), "p", true), PathBuf::from("out.par.gz"));
        assert_eq!(create_destination(Some(Path::new("x.tar")), "p", false), PathBuf::from("x.tar"));
    }
}
