//! A test CA and a server certificate for `127.0.0.1` signed by it, made with the `openssl`
//! command (which `.ci/run` installs).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the PEM files are.
pub struct Certificates {
    pub ca: PathBuf,
    pub certificate: PathBuf,
    pub key: PathBuf,
}

/// Make a CA and a server certificate for `localhost` and `127.0.0.1` in `dir`.
pub fn make_certificates(dir: &Path) -> Certificates {
    std::fs::create_dir_all(dir).expect("create the certificate directory");
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("run openssl (run .ci/run to install): {e}"));
        assert!(out.status.success(), "openssl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &[&["req", "-x509", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=e2e CA"], &ec[..]]
            .concat(),
    );
    openssl(&[&["req", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], &ec[..]].concat());
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
        .expect("write the extension file");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    Certificates { ca: dir.join("ca.pem"), certificate: dir.join("server.pem"), key: dir.join("server.key") }
}
