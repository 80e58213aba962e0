//! TLS for outgoing HTTPS: which certificates are trusted, and for which endpoints
//! verification is skipped.
//!
//! Trusted: the bundled web PKI roots, plus the PEM CA certificates of `--ca-cert FILE`
//! (repeatable) and `WASMSHIP_CA_CERTS` (`:`-separated files), for private registries.
//! A registry the plan names with CA files of its own (a mirror's `ca` in `hosts.toml`)
//! trusts those too — that endpoint only. `--insecure-skip-tls-verify` (or `skip_verify`)
//! makes the registries named in the command accept any certificate — those endpoints
//! only; their token realms and redirect targets are verified.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::endpoint::Endpoint;

/// Variable naming extra CA files, `:`-separated.
pub const CA_CERTS_VAR: &str = "WASMSHIP_CA_CERTS";

/// The TLS client configurations for outgoing requests.
#[derive(Debug, Clone)]
pub struct Tls {
    verified: Arc<ClientConfig>,
    unverified: Arc<ClientConfig>,
    skip_verify: Vec<Endpoint>,
    /// Endpoints that also trust CAs of their own.
    own_roots: Vec<(Endpoint, Arc<ClientConfig>)>,
}

impl Tls {
    /// Trusts the bundled roots plus the certificates in `ca_files`, and no certificate
    /// at all for `skip_verify`.
    #[cfg(test)]
    pub fn new(ca_files: &[PathBuf], skip_verify: Vec<Endpoint>) -> Result<Self> {
        Self::with_endpoint_cas(ca_files, skip_verify, &[])
    }

    /// As [`new`](Self::new), and each endpoint of `endpoint_cas` also trusts its own CA
    /// files.
    pub fn with_endpoint_cas(
        ca_files: &[PathBuf],
        skip_verify: Vec<Endpoint>,
        endpoint_cas: &[(Endpoint, Vec<PathBuf>)],
    ) -> Result<Self> {
        // ring: the backend wasmtime-wasi-http is built with, so no second one is compiled.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verified = verified_config(&provider, ca_files)?;
        let mut own_roots = Vec::new();
        for (endpoint, files) in endpoint_cas {
            let all: Vec<PathBuf> = ca_files.iter().chain(files).cloned().collect();
            own_roots.push((endpoint.clone(), Arc::new(verified_config(&provider, &all)?)));
        }
        let any = AnyCertificate { algorithms: provider.signature_verification_algorithms };
        let unverified = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(any))
            .with_no_client_auth();
        Ok(Self { verified: Arc::new(verified), unverified: Arc::new(unverified), skip_verify, own_roots })
    }

    /// The configuration for a connection to `endpoint`.
    pub fn config_for(&self, endpoint: &Endpoint) -> Arc<ClientConfig> {
        if self.skip_verify.contains(endpoint) {
            return self.unverified.clone();
        }
        match self.own_roots.iter().find(|(e, _)| e == endpoint) {
            Some((_, config)) => config.clone(),
            None => self.verified.clone(),
        }
    }
}

/// A verifying configuration trusting the bundled roots and the certificates of `ca_files`.
fn verified_config(provider: &Arc<rustls::crypto::CryptoProvider>, ca_files: &[PathBuf]) -> Result<ClientConfig> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    for file in ca_files {
        for cert in read_pem_certificates(file)? {
            roots.add(cert).with_context(|| format!("CA certificate in {} is not usable", file.display()))?;
        }
    }
    Ok(ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The CA files to trust: each `--ca-cert`, then each entry of `WASMSHIP_CA_CERTS`.
pub fn ca_files(flags: &[PathBuf], var: Option<OsString>) -> Vec<PathBuf> {
    let from_var = var.iter().flat_map(std::env::split_paths).filter(|p| !p.as_os_str().is_empty());
    flags.iter().cloned().chain(from_var).collect()
}

/// Every certificate in a PEM file; a file with none is an error (a wrong file, surely).
fn read_pem_certificates(file: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read the CA file {}", file.display()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("the CA file {} is not valid PEM", file.display()))?;
    if certs.is_empty() {
        bail!("the CA file {} holds no PEM certificate (BEGIN CERTIFICATE)", file.display());
    }
    Ok(certs)
}

/// Accepts whatever certificate the server presents (`--insecure-skip-tls-verify`); the
/// handshake signatures are still checked against it, as TLS requires.
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Whether a TLS failure (as the connector reports it) is an untrusted certificate.
pub fn is_certificate_error(error: &std::io::Error) -> bool {
    let rustls_error = error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>());
    matches!(rustls_error, Some(rustls::Error::InvalidCertificate(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_files_from_flags_then_variable() {
        let flags = [PathBuf::from("a.pem")];
        let got = ca_files(&flags, Some(OsString::from("/x/b.pem::/y/c.pem")));
        assert_eq!(got, [PathBuf::from("a.pem"), PathBuf::from("/x/b.pem"), PathBuf::from("/y/c.pem")]);
        assert_eq!(ca_files(&[], None), Vec::<PathBuf>::new());
    }

    #[test]
    fn unreadable_or_empty_ca_files_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("missing.pem");
        let error = Tls::new(&[missing], Vec::new()).unwrap_err();
        assert!(format!("{error:#}").contains("cannot read the CA file"), "{error:#}");
        let empty = tmp.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let error = Tls::new(&[empty], Vec::new()).unwrap_err();
        assert!(format!("{error:#}").contains("holds no PEM certificate"), "{error:#}");
    }

    #[test]
    fn skip_verify_is_per_endpoint() {
        let insecure = Endpoint { host: "reg.internal".into(), port: 443 };
        let tls = Tls::new(&[], vec![insecure.clone()]).unwrap();
        assert!(Arc::ptr_eq(&tls.config_for(&insecure), &tls.unverified));
        let other = Endpoint { host: "reg.internal".into(), port: 8443 };
        assert!(Arc::ptr_eq(&tls.config_for(&other), &tls.verified));
    }
}
