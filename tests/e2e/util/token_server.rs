//! A Docker/OCI token server for `docker-registry`'s `auth.token` mode, on a loopback port:
//! `GET /token?service=…&scope=…` with Basic credentials answers a JWT signed ES256 with a key
//! made by the `openssl` CLI at start-up. The JWT header carries `x5c` (the DER of a
//! self-signed certificate for that key) and the registry trusts that certificate through its
//! `rootcertbundle`; the claims grant the repositories and actions asked for. Every request is
//! recorded (service, scopes, who asked, the answer) and every issued token kept, so tests can
//! count renewals and look for tokens in the binary's output.

use std::fs;
use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;

use super::TestDir;
use super::http_wire::{self, RequestHead, Server};

/// The `service` the registry names in its challenge and expects as the token's `aud`.
pub const SERVICE: &str = "wasmship-e2e-registry";
/// The token issuer (`iss`) the registry accepts.
pub const ISSUER: &str = "wasmship-e2e-token-issuer";

/// How far in the past a stale token's `exp` lies: beyond docker-registry's 60 s leeway.
const STALE_BY_SECS: i64 = 300;

/// Which field of the JSON answer carries the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenField {
    /// `{"token": …}` (Docker's name).
    Token,
    /// `{"access_token": …}` (OAuth2's name).
    AccessToken,
}

/// One request the token server answered.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub service: Option<String>,
    /// Every `scope` asked for, in order.
    pub scopes: Vec<String>,
    /// The user name of the Basic credentials presented, if any.
    pub user: Option<String>,
    /// The status answered: 200 with a token, 401 for missing or wrong credentials.
    pub status: u16,
    /// When the request arrived (to order it against the proxy's exchanges).
    pub at: Instant,
}

/// What the next tokens look like.
#[derive(Debug, Clone)]
struct Settings {
    expires_in: u64,
    field: TokenField,
    /// After this many more good tokens, …
    good_before_stale: usize,
    /// … this many tokens are signed already expired (past the registry's leeway) although the
    /// answer still announces `expires_in`: the registry will refuse them.
    stale: usize,
}

struct Shared {
    user: String,
    password: String,
    signer: Arc<Signer>,
    settings: Mutex<Settings>,
    log: Mutex<Vec<TokenRequest>>,
    issued: Mutex<Vec<String>>,
}

pub struct TokenServer {
    server: Server,
    shared: Arc<Shared>,
    bundle: PathBuf,
}

impl TokenServer {
    /// Starts a token server that accepts `user`/`password`, with its key and certificate in
    /// `dir`'s root. Tokens live 300 s and come as `token` until told otherwise.
    pub fn start(dir: &TestDir, user: &str, password: &str) -> TokenServer {
        let keys = dir.root().join("token-server");
        fs::create_dir_all(&keys).expect("create the token server's directory");
        let signer = Arc::new(Signer::create(&keys));
        let shared = Arc::new(Shared {
            user: user.to_owned(),
            password: password.to_owned(),
            signer,
            settings: Mutex::new(Settings {
                expires_in: 300,
                field: TokenField::Token,
                good_before_stale: 0,
                stale: 0,
            }),
            log: Mutex::new(Vec::new()),
            issued: Mutex::new(Vec::new()),
        });
        let handler_state = Arc::clone(&shared);
        let server = Server::start("token-server", Arc::new(move |stream| handle(&handler_state, stream)));
        TokenServer { server, shared, bundle: keys.join("cert.pem") }
    }

    /// The realm the registry sends clients to.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.host())
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.server.port())
    }

    /// The PEM certificate the registry must trust (`auth.token.rootcertbundle`).
    pub fn cert_bundle(&self) -> &Path {
        &self.bundle
    }

    /// Tokens issued from now on say (and have a JWT `exp`) `seconds` from their issue.
    pub fn set_expires_in(&self, seconds: u64) {
        self.shared.settings.lock().unwrap().expires_in = seconds;
    }

    /// Answers carry the token in `field`.
    pub fn set_field(&self, field: TokenField) {
        self.shared.settings.lock().unwrap().field = field;
    }

    /// After `good` more good tokens, the next `count` are expired beyond the registry's leeway
    /// when issued, while the answer claims they are good: the registry answers 401 to them.
    pub fn issue_stale(&self, good: usize, count: usize) {
        let mut settings = self.shared.settings.lock().unwrap();
        settings.good_before_stale = good;
        settings.stale = count;
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Every token handed out so far.
    pub fn issued(&self) -> Vec<String> {
        self.shared.issued.lock().unwrap().clone()
    }

    /// Mints tokens for the tests' own reads (not recorded, not counted).
    pub fn minter(&self) -> Minter {
        Minter { signer: Arc::clone(&self.shared.signer) }
    }
}

/// Mints tokens with the token server's key.
#[derive(Clone)]
pub struct Minter {
    signer: Arc<Signer>,
}

impl Minter {
    /// A token valid for an hour granting `actions` (`["pull"]`, …) on `repository`.
    pub fn mint(&self, repository: &str, actions: &[&str]) -> String {
        let access = vec![(repository.to_owned(), actions.iter().map(|a| (*a).to_owned()).collect())];
        self.signer.token("wasmship-e2e-helper", &access, now_secs(), 3600)
    }
}

fn handle(shared: &Shared, stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
    let Ok(Some(head)) = http_wire::read_request_head(&mut reader) else {
        return;
    };
    let _ = http_wire::read_body(&mut reader, head.framing());
    let mut stream = stream;
    let at = Instant::now();
    if head.method != "GET" || head.path() != "/token" {
        let _ = http_wire::write_response(&mut stream, 404, "Not Found", &[], b"not the token endpoint\n");
        return;
    }
    let service = head.query_values("service").into_iter().next();
    let scopes: Vec<String> = head
        .query_values("scope")
        .iter()
        .flat_map(|s| s.split(' '))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let presented = basic_credentials(&head);
    let user = presented.as_ref().map(|(u, _)| u.clone());
    let authenticated = presented.as_ref().is_some_and(|(u, p)| *u == shared.user && *p == shared.password);
    let status = if authenticated { 200 } else { 401 };
    shared.log.lock().unwrap().push(TokenRequest {
        service: service.clone(),
        scopes: scopes.clone(),
        user,
        status,
        at,
    });

    if !authenticated {
        let body = json!({"errors": [{"code": "UNAUTHORIZED", "message": "wrong user name or password"}]});
        let _ = http_wire::write_response(
            &mut stream,
            401,
            "Unauthorized",
            &[
                ("Content-Type", "application/json".to_owned()),
                ("WWW-Authenticate", "Basic realm=\"wasmship-e2e-token\"".to_owned()),
            ],
            body.to_string().as_bytes(),
        );
        return;
    }
    let (settings, stale) = {
        let mut settings = shared.settings.lock().unwrap();
        let stale = settings.good_before_stale == 0 && settings.stale > 0;
        if settings.good_before_stale > 0 {
            settings.good_before_stale -= 1;
        } else {
            settings.stale = settings.stale.saturating_sub(1);
        }
        (settings.clone(), stale)
    };
    let now = now_secs();
    let issued_at = if stale { now - STALE_BY_SECS - settings.expires_in as i64 } else { now };
    let token = shared.signer.token(&shared.user, &granted(&scopes), issued_at, settings.expires_in);
    shared.issued.lock().unwrap().push(token.clone());
    let field = match settings.field {
        TokenField::Token => "token",
        TokenField::AccessToken => "access_token",
    };
    let body = json!({field: token, "expires_in": settings.expires_in, "issued_at": wasmship::artifact::build::rfc3339_utc(now as u64)});
    let _ = http_wire::write_response(
        &mut stream,
        200,
        "OK",
        &[("Content-Type", "application/json".to_owned())],
        body.to_string().as_bytes(),
    );
}

/// The Basic credentials of a request.
fn basic_credentials(head: &RequestHead) -> Option<(String, String)> {
    let value = head.header("authorization")?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Everything the scopes ask for, merged per repository: `repository:NAME:a,b`.
fn granted(scopes: &[String]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for scope in scopes {
        let Some(rest) = scope.strip_prefix("repository:") else { continue };
        let Some((name, actions)) = rest.rsplit_once(':') else { continue };
        let index = match out.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                out.push((name.to_owned(), Vec::new()));
                out.len() - 1
            }
        };
        for action in actions.split(',').filter(|a| !a.is_empty()) {
            if !out[index].1.iter().any(|a| a == action) {
                out[index].1.push(action.to_owned());
            }
        }
    }
    out
}

/// The ES256 key and certificate, made with the `openssl` CLI.
struct Signer {
    key: PathBuf,
    /// Standard base64 of the certificate's DER, for the `x5c` header.
    x5c: String,
    serial: AtomicU64,
}

impl Signer {
    fn create(dir: &Path) -> Signer {
        let key = dir.join("key.pem");
        let cert = dir.join("cert.pem");
        let der = dir.join("cert.der");
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            path_str(&key),
            "-out",
            path_str(&cert),
            "-days",
            "2",
            "-subj",
            "/CN=wasmship-e2e-token-issuer",
            "-batch",
        ]);
        openssl(&["x509", "-in", path_str(&cert), "-outform", "DER", "-out", path_str(&der)]);
        let x5c = STANDARD.encode(fs::read(&der).expect("read the certificate's DER"));
        Signer { key, x5c, serial: AtomicU64::new(0) }
    }

    /// A signed JWT for `subject` granting `access`, issued at `issued_at` (Unix seconds) and
    /// expiring `lifetime` seconds later.
    fn token(&self, subject: &str, access: &[(String, Vec<String>)], issued_at: i64, lifetime: u64) -> String {
        let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [self.x5c]});
        let serial = self.serial.fetch_add(1, Ordering::SeqCst);
        let access: Vec<_> = access
            .iter()
            .map(|(name, actions)| json!({"type": "repository", "name": name, "actions": actions}))
            .collect();
        let claims = json!({
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": issued_at + lifetime as i64,
            "nbf": issued_at - 10,
            "iat": issued_at,
            "jti": format!("wasmship-e2e-{}-{serial}", std::process::id()),
            "access": access,
        });
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = self.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// The JWS ES256 signature of `input`: raw `r || s`, 32 bytes each.
    fn sign(&self, input: &[u8]) -> Vec<u8> {
        let mut child = Command::new("openssl")
            .args(["dgst", "-sha256", "-sign", path_str(&self.key)])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run openssl dgst");
        child.stdin.take().expect("stdin piped").write_all(input).expect("feed openssl dgst");
        let out = child.wait_with_output().expect("wait for openssl dgst");
        assert!(out.status.success(), "openssl dgst failed: {}", String::from_utf8_lossy(&out.stderr));
        der_signature_to_raw(&out.stdout)
    }
}

/// `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (DER) to `r || s`, each left-padded
/// to 32 bytes.
fn der_signature_to_raw(der: &[u8]) -> Vec<u8> {
    fn length(der: &[u8], at: &mut usize) -> usize {
        let first = der[*at];
        *at += 1;
        if first < 0x80 {
            return first as usize;
        }
        let mut n = 0;
        for _ in 0..(first & 0x7f) {
            n = (n << 8) | der[*at] as usize;
            *at += 1;
        }
        n
    }
    assert_eq!(der.first(), Some(&0x30), "not a DER sequence: {der:02x?}");
    let mut at = 1;
    let _sequence_length = length(der, &mut at);
    let mut raw = Vec::with_capacity(64);
    for _ in 0..2 {
        assert_eq!(der[at], 0x02, "not a DER integer: {der:02x?}");
        at += 1;
        let n = length(der, &mut at);
        let mut value = &der[at..at + n];
        at += n;
        while value.len() > 32 && value[0] == 0 {
            value = &value[1..];
        }
        assert!(value.len() <= 32, "integer longer than 32 bytes: {der:02x?}");
        raw.extend(std::iter::repeat_n(0u8, 32 - value.len()));
        raw.extend_from_slice(value);
    }
    raw
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run openssl (is the openssl CLI installed?): {e}"));
    assert!(out.status.success(), "openssl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs() as i64
}
