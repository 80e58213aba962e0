//! `wasmship sign REF --key cosign.key` and `wasmship verify REF --key cosign.pub`: cosign's
//! signatures, made and checked inside the component.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{OutputFormat, RegistryArgs, output, parse_annotations};
use crate::error::{Error, Result};
use crate::fsutil::read_regular_at_most;
use crate::ops::sign::{SignRequest, sign};
use crate::ops::verify::verify;
use crate::plan::{FsAccess, Planner};
use crate::signing::key_file::MAX_KEY_FILE;
use crate::signing::{Format, PrivateKey, PublicKey};

/// The storage formats `--format` names.
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub enum FormatArg {
    /// The `sha256-<hex>.sig` tag (cosign ≤ 2; read by every cosign).
    #[default]
    Sig,
    /// A Sigstore bundle stored as an OCI referrer (cosign 3).
    Bundle,
}

#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// What to sign: host[:port]/repository:tag[@digest] or oci-layout://DIR:TAG. The tag is
    /// resolved to its digest first; the digest is what is signed.
    reference: String,
    /// The private key (cosign's encrypted PEM; its password from COSIGN_PASSWORD).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Annotation key=value signed with it (repeatable); `verify -a` can require it.
    #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    /// Where the signature is stored.
    #[arg(long, value_enum, default_value_t)]
    format: FormatArg,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// What to verify: host[:port]/repository:tag[@digest] or oci-layout://DIR:TAG.
    reference: String,
    /// A public key (PEM `PUBLIC KEY`, e.g. cosign.pub); repeatable: any one of them.
    #[arg(long, value_name = "FILE", required = true)]
    key: Vec<PathBuf>,
    /// Annotation key=value a signature must carry (repeatable).
    #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

impl SignArgs {
    /// Reads the key; writes the signature into the reference's store.
    pub fn plan(&mut self, planner: &mut Planner) -> Result<()> {
        self.reference = self.registry.plan_reference(planner, &self.reference, FsAccess::Write)?;
        self.key = planner.input_file(&self.key, "private key");
        planner.password(super::key::PASSWORD_VAR, "Enter password for private key: ", false);
        Ok(())
    }
}

impl VerifyArgs {
    /// Reads the keys and the reference's store.
    pub fn plan(&mut self, planner: &mut Planner) -> Result<()> {
        self.reference = self.registry.plan_reference(planner, &self.reference, FsAccess::Read)?;
        for key in &mut self.key {
            *key = planner.input_file(key, "public key");
        }
        Ok(())
    }
}

/// A key file's bytes, within the size a key file has.
fn read_key_file(path: &std::path::Path) -> Result<Vec<u8>> {
    read_regular_at_most(path, MAX_KEY_FILE).map_err(|e| Error::io(path.display(), "read key file", e))
}

/// The public keys of `paths`.
pub fn public_keys(paths: &[PathBuf]) -> Result<Vec<PublicKey>> {
    paths.iter().map(|path| PublicKey::from_pem(&read_key_file(path)?, &path.display().to_string())).collect()
}

pub fn run_sign(args: &SignArgs) -> Result<()> {
    let annotations: BTreeMap<String, String> = parse_annotations(&args.annotations)?.into_iter().collect();
    let password = super::key::password(true, "the private key")?;
    let key = PrivateKey::from_pem(&read_key_file(&args.key)?, password.as_bytes(), &args.key.display().to_string())?;
    drop(password);
    let format = match args.format {
        FormatArg::Sig => Format::Sig,
        FormatArg::Bundle => Format::Bundle,
    };
    let outcome = sign(
        &SignRequest { reference: &args.reference, key: &key, annotations, format },
        &args.registry.options(&args.reference, true)?,
    )?;
    match args.output {
        OutputFormat::Text => {
            let place = match &outcome.tag {
                Some(tag) => format!("tag {tag}"),
                None => format!("referrer {}", outcome.signature.digest),
            };
            output::print_text(&format!(
                "Signed {} ({} format, key {}): {place}\n",
                outcome.signed,
                outcome.format.name(),
                outcome.key_fingerprint
            ));
        }
        OutputFormat::Json => output::print_json(&serde_json::json!({
            "signed": outcome.signed,
            "digest": outcome.digest.to_string(),
            "format": outcome.format.name(),
            "signatureManifest": outcome.signature.digest.to_string(),
            "tag": outcome.tag,
            "keyFingerprint": outcome.key_fingerprint,
        })),
    }
    Ok(())
}

pub fn run_verify(args: &VerifyArgs) -> Result<()> {
    let annotations: BTreeMap<String, String> = parse_annotations(&args.annotations)?.into_iter().collect();
    let keys = public_keys(&args.key)?;
    let outcome = verify(&args.reference, &keys, &annotations, &args.registry.options(&args.reference, true)?)?;
    match args.output {
        OutputFormat::Text => {
            let mut text = format!("Verified {}:\n", outcome.verified_reference);
            for signature in &outcome.checked.verified {
                let place = match signature.format {
                    Format::Sig => format!(
                        "tag {} ({})",
                        crate::signing::legacy::signature_tag(&outcome.digest),
                        signature.stored_in
                    ),
                    Format::Bundle => format!("referrer {}", signature.stored_in),
                };
                let annotations: Vec<String> = signature.annotations.iter().map(|(k, v)| format!("{k}={v}")).collect();
                text.push_str(&format!(
                    "  {} signature by key {}{}, in {}\n",
                    signature.format.name(),
                    signature.key_fingerprint,
                    if annotations.is_empty() { String::new() } else { format!(" ({})", annotations.join(", ")) },
                    place
                ));
            }
            output::print_text(&text);
        }
        OutputFormat::Json => output::print_json(&serde_json::json!({
            "reference": outcome.verified_reference,
            "digest": outcome.digest.to_string(),
            "verified": outcome.checked.verified.iter().map(|s| serde_json::json!({
                "format": s.format.name(),
                "keyFingerprint": s.key_fingerprint,
                "annotations": s.annotations,
                "signatureManifest": s.stored_in.to_string(),
            })).collect::<Vec<_>>(),
            "rejected": outcome.checked.rejected,
        })),
    }
    Ok(())
}

/// `--verify-key`: the signatures an artifact must have before a command takes it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct VerifyKeyArgs {
    /// Refuse the artifact unless a cosign signature by this public key verifies
    /// (repeatable: any one of them); checked before anything is fetched or written.
    #[arg(long = "verify-key", value_name = "FILE")]
    verify_key: Vec<PathBuf>,
    /// With --verify-key: an annotation key=value the signature must carry (repeatable).
    #[arg(long = "verify-annotation", value_name = "KEY=VALUE", requires = "verify_key")]
    verify_annotations: Vec<String>,
    /// Where the signature policy is looked for (without --verify-key), as planned.
    #[arg(skip)]
    policy_files: Vec<PathBuf>,
}

impl VerifyKeyArgs {
    /// Reads the key files; without any, the signature policy (the project's
    /// `wasmship-policy.toml`, the user's `~/.config/wasmship/policy.toml` and the keys
    /// beside them) when present.
    pub fn plan(&mut self, planner: &mut Planner) {
        for key in &mut self.verify_key {
            *key = planner.input_file(key, "public key");
        }
        if !self.verify_key.is_empty() {
            return;
        }
        let lookup = planner.env().lookup();
        let user = crate::signing::policy::candidates(Path::new("/"), &lookup).pop();
        let project = Path::new(crate::signing::policy::PROJECT_FILE);
        if planner.is_file(project) {
            self.policy_files.push(planner.input_file(project, "signature policy"));
        }
        if let Some(user) = user.filter(|u| u.is_absolute()) {
            let dir = crate::fsutil::parent_dir(&user).to_path_buf();
            let dir = planner.dir(&dir, FsAccess::Read, crate::plan::IfMissing::Skip, "signature policy and its keys");
            self.policy_files.push(dir.join("policy.toml"));
        }
    }

    /// What the artifacts of the command must have: the keys given, else the policy.
    pub fn verification(&self) -> Result<crate::ops::verify::Verification> {
        use crate::ops::verify::{Requirement, Verification};
        if self.verify_key.is_empty() {
            return Ok(match crate::signing::policy::Policy::load(&self.policy_files)? {
                Some(policy) => Verification::Policy(policy),
                None => Verification::Nothing,
            });
        }
        Ok(Verification::Every(Requirement {
            keys: public_keys(&self.verify_key)?,
            annotations: parse_annotations(&self.verify_annotations)?.into_iter().collect(),
        }))
    }

    /// The requirement for `reference`: the keys given, else the policy's rule for it.
    pub fn requirement(&self, reference: &str) -> Result<Option<crate::ops::verify::Requirement>> {
        let parsed = crate::ops::parse_reference(reference)?;
        Ok(self.verification()?.requirement_for(&parsed).cloned())
    }
}
