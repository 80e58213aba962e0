//! `wasmship key generate`: a cosign key pair (`cosign.key` encrypted with
//! `COSIGN_PASSWORD`, `cosign.pub`), in cosign's formats.

use std::path::PathBuf;

use super::{OutputFormat, output};
use crate::config::env::var;
use crate::error::{Error, Result};
use crate::plan::Planner;
use crate::signing::PrivateKey;

#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    /// Generate a cosign key pair: PREFIX.key (encrypted with COSIGN_PASSWORD) and PREFIX.pub.
    Generate(GenerateArgs),
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Path prefix of the two files written (PREFIX.key, PREFIX.pub).
    #[arg(long, value_name = "PREFIX", default_value = "cosign")]
    output_key_prefix: PathBuf,
    /// Encrypt the key with an empty password (when COSIGN_PASSWORD is unset or empty).
    #[arg(long)]
    no_password: bool,
    /// Replace existing key files.
    #[arg(long)]
    force: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

impl KeyCommand {
    pub fn plan(&mut self, planner: &mut Planner) -> Result<&'static str> {
        match self {
            KeyCommand::Generate(args) => {
                let key = planner.private_output_file(&args.key_path(), "private key");
                let public = planner.output_file(&args.public_path(), "public key");
                let prefix = key.to_string_lossy().strip_suffix(".key").map(PathBuf::from);
                args.output_key_prefix = prefix.unwrap_or(public.with_extension(""));
                if !args.no_password {
                    planner.password(PASSWORD_VAR, "Enter password for private key: ", true);
                }
                Ok("key generate")
            }
        }
    }

    pub fn output(&self) -> OutputFormat {
        match self {
            KeyCommand::Generate(args) => args.output,
        }
    }
}

impl GenerateArgs {
    fn key_path(&self) -> PathBuf {
        with_suffix(&self.output_key_prefix, ".key")
    }

    fn public_path(&self) -> PathBuf {
        with_suffix(&self.output_key_prefix, ".pub")
    }
}

fn with_suffix(prefix: &std::path::Path, suffix: &str) -> PathBuf {
    let mut path = prefix.as_os_str().to_owned();
    path.push(suffix);
    PathBuf::from(path)
}

/// The password of a key file: `COSIGN_PASSWORD` (which the runner fills in from the
/// terminal when the plan asked for it); empty only when `allow_empty`.
/// The variable that carries a private key's password, as cosign names it.
pub const PASSWORD_VAR: &str = "COSIGN_PASSWORD";

pub fn password(allow_empty: bool, purpose: &str) -> Result<zeroize::Zeroizing<String>> {
    let password = zeroize::Zeroizing::new(var(PASSWORD_VAR).unwrap_or_default());
    if password.is_empty() && !allow_empty {
        return Err(Error::Usage(format!(
            "{purpose} needs a password: set COSIGN_PASSWORD{}",
            if purpose.starts_with("a new") { " (or pass --no-password for an unprotected key)" } else { "" }
        )));
    }
    Ok(password)
}

pub fn run(command: &KeyCommand) -> Result<()> {
    let KeyCommand::Generate(args) = command;
    let (key_path, public_path) = (args.key_path(), args.public_path());
    if !args.force {
        for path in [&key_path, &public_path] {
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(Error::Policy(format!(
                    "{} exists; pass --force to replace it (its key would be lost), or choose another --output-key-prefix",
                    path.display()
                )));
            }
        }
    }
    let password = password(args.no_password, "a new key")?;
    let key = PrivateKey::generate()?;
    let sealed = key.to_encrypted_pem(password.as_bytes())?;
    let public = key.public_key();
    crate::fsutil::write_atomic(&key_path, sealed.as_bytes())?;
    crate::fsutil::write_atomic(&public_path, public.to_pem().as_bytes())?;
    match args.output {
        OutputFormat::Text => output::print_text(&format!(
            "Private key written to {}\nPublic key written to {}\nFingerprint: {}\n",
            key_path.display(),
            public_path.display(),
            public.fingerprint()
        )),
        OutputFormat::Json => output::print_json(&serde_json::json!({
            "privateKey": key_path.display().to_string(),
            "publicKey": public_path.display().to_string(),
            "fingerprint": public.fingerprint(),
        })),
    }
    Ok(())
}
