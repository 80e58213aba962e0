//! What a provider archive says about itself, and whether it checks out:
//! the report `inspect` shows for a local `.par`/`.par.gz` or a provider in a
//! store, and the one-pass read (verify + digest) that push and pull use.

use std::io::{self, BufReader, Read};
use std::path::Path;

use crate::error::{Error, Result};
use crate::oci::digest::Algorithm;
use crate::oci::{Digest, DigestWriter};
use crate::provider::archive::GZIP_MAGIC;
use crate::provider::{Check, LoadedArchive, load};

/// A provider archive's claims and the results of its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderReport {
    pub name: Option<String>,
    pub vendor: String,
    pub version: Option<String>,
    pub revision: Option<i32>,
    /// The account that signed the claims (`A…`).
    pub issuer: String,
    /// The provider's service key (`V…`).
    pub service: String,
    pub targets: Vec<String>,
    pub schema: Option<serde_json::Value>,
    /// Whether the archive carries the provider's WIT world.
    pub world: bool,
    pub compressed: bool,
    pub issued_at: u64,
    pub expires: Option<u64>,
    /// Every file against its hash in the claims.
    pub hashes: Check,
    /// The issuer's signature over the claims (and the token's validity period).
    pub signature: Check,
}

impl ProviderReport {
    /// The report of a loaded archive.
    pub fn of(archive: &LoadedArchive, compressed: bool) -> Result<Self> {
        let claims = archive.claims();
        let metadata = claims.metadata()?;
        Ok(ProviderReport {
            name: metadata.name.clone(),
            vendor: metadata.vendor.clone(),
            version: metadata.ver.clone(),
            revision: metadata.rev,
            issuer: claims.iss.clone(),
            service: claims.sub.clone(),
            targets: archive.targets.keys().cloned().collect(),
            schema: metadata.config_schema.clone(),
            world: archive.world.is_some(),
            compressed,
            issued_at: claims.iat,
            expires: claims.exp,
            hashes: archive.hashes.clone(),
            signature: archive.token.signature.clone(),
        })
    }

    /// Fail when a check failed (after the report was shown).
    pub fn require_valid(&self, what: &str) -> Result<()> {
        if let Check::Invalid(reason) = &self.signature {
            return Err(Error::InvalidSignature { what: format!("claims.jwt in {what}"), reason: reason.clone() });
        }
        if let Check::Invalid(reason) = &self.hashes {
            return Err(Error::InvalidArchive { what: what.to_string(), reason: reason.clone() });
        }
        Ok(())
    }
}

/// An archive read in one pass: what it holds, whether it was gzipped, and
/// the digest and size of its bytes (the OCI layer).
pub struct ReadArchive {
    pub archive: LoadedArchive,
    pub compressed: bool,
    pub digest: Digest,
    pub size: u64,
}

/// Read an archive from `source` (not keeping the binaries), hashing every byte.
pub fn read_archive(source: impl Read, what: &str) -> Result<ReadArchive> {
    let mut tee = Tee { inner: source, hasher: DigestWriter::new(io::sink(), Algorithm::Sha256), first: None };
    let archive = load(&mut tee, false, what)?;
    // The tar reader stops at the end-of-archive marker; the rest counts for the digest.
    io::copy(&mut tee, &mut io::sink()).map_err(|e| crate::store::verify::into_error(e, what))?;
    let compressed = tee.first == Some(GZIP_MAGIC);
    let (digest, size, _) = tee.hasher.finish();
    Ok(ReadArchive { archive, compressed, digest, size })
}

/// Inspect a local archive file.
pub fn inspect_file(path: &Path) -> Result<ProviderReport> {
    let file = crate::fsutil::open_regular(path).map_err(|e| Error::io(path.display(), "open", e))?;
    let read = read_archive(BufReader::new(file), &path.display().to_string())?;
    ProviderReport::of(&read.archive, read.compressed)
}

struct Tee<R> {
    inner: R,
    hasher: DigestWriter<io::Sink>,
    first: Option<[u8; 2]>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.first.is_none() && n >= 2 {
            self.first = Some([buf[0], buf[1]]);
        }
        io::Write::write_all(&mut self.hasher, &buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{ArchiveBuilder, KeyPair, KeyRole, ProviderInfo};

    #[test]
    fn one_pass_gives_the_report_and_the_digest_of_every_byte() {
        let issuer = KeyPair::generate(KeyRole::Account).unwrap();
        let subject = KeyPair::generate(KeyRole::Service).unwrap();
        let mut builder =
            ArchiveBuilder::new(ProviderInfo { name: "P".into(), vendor: "V".into(), ..Default::default() });
        builder.add_target("x86_64-linux", vec![7u8; 100_000]).unwrap();
        for compress in [true, false] {
            let mut bytes = Vec::new();
            builder.write(&issuer, &subject, compress, &mut bytes).unwrap();
            let read = read_archive(&bytes[..], "p.par").unwrap();
            assert_eq!(read.digest, Digest::sha256_of(&bytes));
            assert_eq!(read.size, bytes.len() as u64);
            assert_eq!(read.compressed, compress);
            let report = ProviderReport::of(&read.archive, read.compressed).unwrap();
            assert_eq!(report.name.as_deref(), Some("P"));
            assert_eq!(report.service, subject.public_key().to_string());
            assert_eq!(report.targets, ["x86_64-linux"]);
            assert!(report.hashes.is_valid() && report.signature.is_valid());
            report.require_valid("p.par").unwrap();
        }
    }
}
