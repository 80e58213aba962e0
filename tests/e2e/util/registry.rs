//! A real registry per test: Debian's `docker-registry` on a free loopback port with filesystem
//! storage in the test's directory, deletes on, redirects off and its access log captured to a
//! file, so tests can read what was stored and count the requests that reached it. Killed on
//! drop. Reads go over plain HTTP with a user agent of their own, which `requests` leaves out.
//!
//! Open by default; `with_htpasswd` puts it behind Basic auth (a bcrypt htpasswd file made by
//! `htpasswd -Bbn`) and `with_token_auth` behind a [`TokenServer`]. The tests' own reads then
//! authenticate too (Basic, or a token minted with the token server's key).

use std::fs::{self, OpenOptions};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;

use super::token_server::{self, Minter, TokenServer};
use super::{OCI_MANIFEST, TestDir, digest_hex, parse_json};

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";
const HTPASSWD_BIN: &str = "/usr/bin/htpasswd";

/// The user agent of the tests' own reads, told apart from the binary's in the access log.
const HELPER_AGENT: &str = "wasmship-e2e-helper";

/// How long the registry may take to answer its first ping, or to log a request.
const READY_LIMIT: Duration = Duration::from_secs(20);

pub struct Registry {
    child: Child,
    port: u16,
    storage: PathBuf,
    log: PathBuf,
    agent: ureq::Agent,
    syncs: AtomicU32,
    /// How the tests' own reads authenticate.
    helper_auth: HelperAuth,
}

/// How the registry authenticates clients.
enum Auth {
    Open,
    /// `auth.htpasswd` with this file.
    Htpasswd(PathBuf),
    /// `auth.token` pointing at a token server.
    Token {
        realm: String,
        bundle: PathBuf,
    },
    /// Open, and a pull-through mirror of the registry at this URL (`proxy.remoteurl`).
    PullThrough(String),
    /// As `PullThrough`, served over HTTPS with this certificate and key.
    PullThroughTls {
        upstream: String,
        certificate: PathBuf,
        key: PathBuf,
    },
}

/// The credentials of the tests' own reads.
enum HelperAuth {
    None,
    /// A ready `Authorization: Basic …` value.
    Basic(String),
    /// Tokens minted per repository.
    Token(Minter),
}

/// One line of the access log: a request that reached the registry.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// A manifest as the registry serves it.
pub struct Served {
    pub bytes: Vec<u8>,
    pub content_type: String,
    /// `Docker-Content-Digest`.
    pub digest: String,
}

impl Registry {
    /// Starts an open registry storing under `dir`'s root; retries on another port if one was
    /// taken.
    pub fn start(dir: &TestDir) -> Registry {
        Registry::launch(dir, Auth::Open, HelperAuth::None)
    }

    /// Starts a registry that takes Basic auth for `user`/`password` only (a bcrypt htpasswd
    /// file, the only kind docker-registry accepts).
    pub fn with_htpasswd(dir: &TestDir, user: &str, password: &str) -> Registry {
        let out = Command::new(HTPASSWD_BIN)
            .args(["-Bbn", user, password])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {HTPASSWD_BIN} (apache2-utils; run .ci/run to install): {e}"));
        assert!(out.status.success(), "htpasswd failed: {}", String::from_utf8_lossy(&out.stderr));
        let file = dir.root().join("htpasswd");
        fs::write(&file, &out.stdout).expect("write the htpasswd file");
        let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")));
        Registry::launch(dir, Auth::Htpasswd(file), HelperAuth::Basic(basic))
    }

    /// Starts a registry that wants bearer tokens from `tokens` (service
    /// [`token_server::SERVICE`], issuer [`token_server::ISSUER`]).
    pub fn with_token_auth(dir: &TestDir, tokens: &TokenServer) -> Registry {
        let auth = Auth::Token { realm: tokens.realm(), bundle: tokens.cert_bundle().to_path_buf() };
        Registry::launch(dir, auth, HelperAuth::Token(tokens.minter()))
    }

    /// Starts an open pull-through mirror of `upstream` (docker-registry's proxy mode): it
    /// serves what `upstream` holds, fetching and keeping it on first request.
    pub fn pull_through(dir: &TestDir, upstream: &Registry) -> Registry {
        Registry::launch(dir, Auth::PullThrough(format!("http://127.0.0.1:{}", upstream.port)), HelperAuth::None)
    }

    /// As [`pull_through`](Self::pull_through), over HTTPS with `certificate` and `key`
    /// (PEM). The tests' own reads cannot reach it: ask the binary what it served.
    pub fn pull_through_tls(dir: &TestDir, upstream: &Registry, certificate: &Path, key: &Path) -> Registry {
        let auth = Auth::PullThroughTls {
            upstream: format!("http://127.0.0.1:{}", upstream.port),
            certificate: certificate.to_path_buf(),
            key: key.to_path_buf(),
        };
        Registry::launch(dir, auth, HelperAuth::None)
    }

    fn launch(dir: &TestDir, auth: Auth, helper_auth: HelperAuth) -> Registry {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(HELPER_AGENT)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut failures = Vec::new();
        let mut helper_auth = Some(helper_auth);
        let tls = matches!(auth, Auth::PullThroughTls { .. });
        for attempt in 0..5 {
            let base = unique_dir(dir.root(), attempt);
            let storage = base.join("storage");
            fs::create_dir_all(&storage).expect("create registry storage");
            let port = free_port();
            let config = base.join("config.yml");
            fs::write(&config, config_yaml(port, &storage, &auth)).expect("write registry config");
            let log = base.join("registry.log");
            let out = OpenOptions::new().create(true).append(true).open(&log).expect("open registry log");
            let err = out.try_clone().expect("clone log handle");
            let child = Command::new(REGISTRY_BIN)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("start {REGISTRY_BIN} (run .ci/run to install): {e}"));
            let mut registry = Registry {
                child,
                port,
                storage,
                log,
                agent: agent.clone(),
                syncs: AtomicU32::new(0),
                helper_auth: helper_auth.take().expect("helper credentials"),
            };
            let ready = if tls { registry.wait_listening() } else { registry.wait_ready() };
            match ready {
                Ok(()) => return registry,
                Err(why) => {
                    failures.push(why);
                    helper_auth = Some(std::mem::replace(&mut registry.helper_auth, HelperAuth::None));
                }
            }
        }
        panic!("docker-registry did not start: {failures:#?}");
    }

    /// For a registry served over HTTPS: ready once it accepts connections.
    fn wait_listening(&mut self) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("poll registry") {
                return Err(format!("exited with {status}: {}", self.log_text()));
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if started.elapsed() > READY_LIMIT {
                return Err(format!("not listening in time: {}", self.log_text()));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("poll registry") {
                return Err(format!("exited with {status}: {}", self.log_text()));
            }
            // 401 is ready too: the registry wants credentials.
            if let Ok(resp) = self.agent.get(self.url("/v2/")).call()
                && matches!(resp.status().as_u16(), 200 | 401)
            {
                return Ok(());
            }
            if started.elapsed() > READY_LIMIT {
                return Err(format!("no 200 on /v2/ in time: {}", self.log_text()));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The registry's port (for a proxy in front of it).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A reference to `repo_tag` (`repo/path:tag`) in this registry.
    pub fn reference(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.host())
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A GET of `path` with the tests' credentials for `repo` (when the registry wants some).
    fn get(&self, path: &str, repo: &str) -> ureq::RequestBuilder<ureq::typestate::WithoutBody> {
        let request = self.agent.get(self.url(path));
        match &self.helper_auth {
            HelperAuth::None => request,
            HelperAuth::Basic(value) => request.header("Authorization", value),
            HelperAuth::Token(minter) => {
                request.header("Authorization", format!("Bearer {}", minter.mint(repo, &["pull"])))
            }
        }
    }

    /// The status of a GET of `path` sent without any credentials.
    pub fn anonymous_status(&self, path: &str) -> u16 {
        self.agent.get(self.url(path)).call().expect("anonymous GET").status().as_u16()
    }

    /// The manifest `reference` (tag or digest) of `repo`, asking for the OCI types (image
    /// manifest, index); `None` on 404.
    pub fn manifest(&self, repo: &str, reference: &str) -> Option<Served> {
        let mut resp = self
            .get(&format!("/v2/{repo}/manifests/{reference}"), repo)
            // docker-registry answers 404 for an index unless the client accepts indexes.
            .header("Accept", format!("{OCI_MANIFEST}, application/vnd.oci.image.index.v1+json"))
            .call()
            .expect("GET manifest");
        match resp.status().as_u16() {
            404 => None,
            200 => {
                let header =
                    |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                let content_type = header("content-type");
                let digest = header("docker-content-digest");
                let bytes = read_body(&mut resp);
                Some(Served { bytes, content_type, digest })
            }
            other => panic!("GET manifest {repo}:{reference}: status {other}"),
        }
    }

    /// The manifest `reference` of `repo`, parsed; panics when it is missing.
    #[track_caller]
    pub fn manifest_json(&self, repo: &str, reference: &str) -> serde_json::Value {
        let served = self
            .manifest(repo, reference)
            .unwrap_or_else(|| panic!("manifest {repo}:{reference} is not in the registry"));
        parse_json("manifest", &served.bytes)
    }

    /// Stores `bytes` as the manifest `reference` (tag or digest) of `repo`, as an attacker
    /// with push access would (registries without auth only); the status.
    pub fn put_manifest(&self, repo: &str, reference: &str, content_type: &str, bytes: &[u8]) -> u16 {
        assert!(matches!(self.helper_auth, HelperAuth::None), "put_manifest is for registries without auth");
        self.agent
            .put(self.url(&format!("/v2/{repo}/manifests/{reference}")))
            .header("Content-Type", content_type)
            .send(bytes)
            .expect("PUT manifest")
            .status()
            .as_u16()
    }

    /// The blob `digest` of `repo`; `None` on 404.
    pub fn blob(&self, repo: &str, digest: &str) -> Option<Vec<u8>> {
        let mut resp = self.get(&format!("/v2/{repo}/blobs/{digest}"), repo).call().expect("GET blob");
        match resp.status().as_u16() {
            404 => None,
            200 => Some(read_body(&mut resp)),
            other => panic!("GET blob {repo}@{digest}: status {other}"),
        }
    }

    /// The tags of `repo`; `None` when the registry does not know the repository.
    pub fn tags(&self, repo: &str) -> Option<Vec<String>> {
        let mut resp = self.get(&format!("/v2/{repo}/tags/list"), repo).call().expect("GET tags");
        match resp.status().as_u16() {
            404 => None,
            200 => {
                let list = parse_json("tag list", &read_body(&mut resp));
                let mut tags: Vec<String> = list["tags"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default();
                tags.sort();
                Some(tags)
            }
            other => panic!("GET tags of {repo}: status {other}"),
        }
    }

    /// Where the registry keeps the bytes of blob `digest` on disk.
    pub fn blob_data_path(&self, digest: &str) -> PathBuf {
        let hex = digest_hex(digest);
        self.storage.join("docker/registry/v2/blobs/sha256").join(&hex[..2]).join(hex).join("data")
    }

    /// Every request the access log holds so far, except the tests' own reads.
    ///
    /// A marker request is sent first and waited for in the log, so requests answered before
    /// this call are in the list even though the log is written after the response.
    pub fn requests(&self) -> Vec<Request> {
        self.requests_by_agent().into_iter().map(|(request, _)| request).collect()
    }

    /// [`requests`](Self::requests) with the user agent that made each (a pull-through
    /// mirror's own requests to its upstream are told apart by theirs).
    pub fn requests_by_agent(&self) -> Vec<(Request, String)> {
        let n = self.syncs.fetch_add(1, Ordering::SeqCst);
        let marker = format!("/v2/?e2e-sync={n}");
        self.agent.get(self.url(&marker)).call().expect("GET sync marker");
        let started = Instant::now();
        loop {
            let text = self.log_text();
            if text.contains(&format!("{marker} HTTP/")) {
                return text.lines().filter_map(parse_access_line).filter(|(_, agent)| agent != HELPER_AGENT).collect();
            }
            assert!(started.elapsed() < READY_LIMIT, "the registry never logged {marker}; log: {text}");
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Request {
    /// A step of a blob upload: the POST that opens it, a PATCH chunk or the PUT that ends it.
    pub fn is_blob_upload(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PATCH" | "PUT") && self.path.contains("/blobs/uploads/")
    }

    /// A GET of blob `digest` (any repository).
    pub fn is_blob_get(&self, digest: &str) -> bool {
        self.method == "GET" && self.path.split('?').next().unwrap_or_default().ends_with(&format!("/blobs/{digest}"))
    }
}

/// The blob upload steps among `requests`.
pub fn blob_uploads(requests: &[Request]) -> Vec<&Request> {
    requests.iter().filter(|r| r.is_blob_upload()).collect()
}

/// The manifest PUTs among `requests`.
pub fn manifest_puts(requests: &[Request]) -> Vec<&Request> {
    requests.iter().filter(|r| r.method == "PUT" && r.path.contains("/manifests/")).collect()
}

/// Reads a whole response body, however large.
fn read_body(resp: &mut ureq::http::Response<ureq::Body>) -> Vec<u8> {
    resp.body_mut().with_config().limit(u64::MAX).read_to_vec().expect("read response body")
}

/// Parses one access-log line (combined log format):
/// `127.0.0.1 - - [date] "GET /v2/ HTTP/1.1" 200 2 "referer" "user agent"`.
fn parse_access_line(line: &str) -> Option<(Request, String)> {
    let start = line.find("] \"")? + 3;
    let rest = &line[start..];
    let end = rest.find('"')?;
    let mut request = rest[..end].split(' ');
    let method = request.next()?.to_owned();
    let path = request.next()?.to_owned();
    let after = rest[end + 1..].trim_start();
    let status = after.split(' ').next()?.parse().ok()?;
    let agent = after
        .trim_end()
        .strip_suffix('"')
        .and_then(|s| s.rfind('"').map(|i| s[i + 1..].to_owned()))
        .unwrap_or_default();
    Some((Request { method, path, status }, agent))
}

/// A directory of its own for one registry under `root` (several run per test).
fn unique_dir(root: &Path, attempt: u32) -> PathBuf {
    (0..).map(|n| root.join(format!("registry-{attempt}-{n}"))).find(|p| !p.exists()).expect("a free name")
}

/// A port nobody listened on a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind an ephemeral port").port()
}

fn config_yaml(port: u16, storage: &Path, mode: &Auth) -> String {
    let auth = match mode {
        Auth::Open => String::new(),
        Auth::Htpasswd(file) => {
            format!("auth:\n  htpasswd:\n    realm: wasmship-e2e\n    path: {}\n", file.display())
        }
        Auth::Token { realm, bundle } => format!(
            "auth:\n  token:\n    realm: {realm}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
            token_server::SERVICE,
            token_server::ISSUER,
            bundle.display()
        ),
        Auth::PullThrough(url) => format!("proxy:\n  remoteurl: {url}\n"),
        Auth::PullThroughTls { upstream, .. } => format!("proxy:\n  remoteurl: {upstream}\n"),
    };
    let tls = match mode {
        Auth::PullThroughTls { certificate, key, .. } => {
            format!("  tls:\n    certificate: {}\n    key: {}\n", certificate.display(), key.display())
        }
        _ => String::new(),
    };
    format!(
        "version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  redirect:
    disable: true
http:
  addr: 127.0.0.1:{port}
  secret: wasmship-e2e-not-a-secret
{tls}{auth}",
        storage = storage.display()
    )
}
