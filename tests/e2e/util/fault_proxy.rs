//! A fault-injecting HTTP/1.1 proxy in front of a registry, on a loopback port: requests are
//! forwarded (one upstream connection each, `Host` kept, so the registry's `Location` headers
//! point back at the proxy) unless a scripted fault matches first — a status without
//! forwarding, a redirect, a connection cut partway through a request or response body, a
//! request body no longer read, a slow request body, a rate limit that honours its own
//! `Retry-After`, a 416 carrying the registry's real upload `Range`, an error that echoes the
//! request's `Authorization`, a canned answer (a 200 carrying an error body) or a response
//! relabelled with another `Content-Type`. It can also refuse expired bearer tokens (a registry without leeway) and serve tag lists a page at a
//! time with `Link` headers. Every exchange is recorded: what was asked, whether it carried
//! `Authorization`, what the proxy did and the status the client got.
//!
//! [`ObjectStore`] is a second listener, the target of redirects: it serves fixed bytes to any
//! GET and records the headers it received.

use std::collections::HashMap;
use std::io::{self, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::http_wire::{self, Framing, RequestHead, ResponseHead, Server};

/// Bytes copied per read when forwarding bodies.
const COPY_CHUNK: usize = 64 * 1024;

/// What the proxy does to a request a rule matches.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer `status` (with `headers` and a registry-style error body) without forwarding.
    Status { status: u16, headers: Vec<(String, String)> },
    /// Answer `status` with `Location: location` without forwarding.
    Redirect { status: u16, location: String },
    /// Forward, pass on the response head and the first `after` bytes of its body, then close.
    CutResponseBody { after: u64 },
    /// Forward, pass on the response head and the first `after` bytes of its body, then
    /// send nothing for `secs` seconds before closing (a registry that goes silent).
    StallResponseBody { after: u64, secs: u64 },
    /// Read the first `after` bytes of the request body, then close without an answer.
    CutRequestBody { after: u64 },
    /// Read the first `after` bytes of the request body, then read nothing more for `secs`
    /// seconds before closing without an answer (a registry that stops taking an upload).
    StallRequestBody { after: u64, secs: u64 },
    /// Forward the request body at about `bytes_per_sec`.
    SlowRequestBody { bytes_per_sec: u64 },
    /// Forward, passing the response body on at about `bytes_per_sec`.
    SlowResponseBody { bytes_per_sec: u64 },
    /// Forward, flipping the bits of the response body's byte at offset `at` (a registry or
    /// network that serves wrong bytes under the right digest).
    CorruptResponseBody { at: u64 },
    /// Answer 429 with `Retry-After: secs`, and keep answering 429 to matching requests until
    /// that time has passed (a rate limiter, not a single refusal).
    RateLimit { retry_after_secs: u64 },
    /// For a `PATCH` chunk: answer 416 with the `Range` the registry last reported for this
    /// upload, without forwarding (as if the chunk had been lost).
    RangeNotSatisfiable,
    /// Answer `status` with a registry error whose message repeats the request's
    /// `Authorization` value (a registry that echoes credentials).
    EchoAuthorization { status: u16 },
    /// Answer `status` with `Content-Type: content_type` and `body` without forwarding (a
    /// registry that answers 200 with an error body).
    Serve { status: u16, content_type: String, body: Vec<u8> },
    /// Forward, passing the response on with its `Content-Type` replaced (a registry that
    /// labels a manifest with the wrong media type).
    RelabelResponse { content_type: String },
    /// Wait `millis` before forwarding (a slow registry: shows whether other requests go
    /// out meanwhile).
    DelayResponse { millis: u64 },
}

/// One request the proxy handled.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub target: String,
    /// The `Authorization` value the request carried.
    pub authorization: Option<String>,
    /// What the proxy did instead of (or to) a plain forward; `None` for a plain forward.
    pub fault: Option<String>,
    /// The status the client received; `None` when the connection was cut before an answer.
    pub status: Option<u16>,
    pub started: Instant,
}

impl Exchange {
    /// The request path without its query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

struct Rule {
    matches: Box<dyn Fn(&RequestHead) -> bool + Send>,
    fault: Fault,
    remaining: usize,
    /// For rate limits: matching requests are refused until then.
    limited_until: Option<Instant>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    log: Vec<Exchange>,
    /// Upload path → the `Range` the registry last answered for it.
    upload_ranges: HashMap<String, String>,
    /// Page size when tag lists are paginated by the proxy.
    tags_page: Option<usize>,
    /// The challenge sent with a 401 for an expired bearer token, when such tokens are refused.
    refuse_expired: Option<String>,
}

struct Shared {
    upstream: u16,
    state: Mutex<State>,
}

pub struct FaultProxy {
    server: Server,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// A proxy forwarding to `127.0.0.1:upstream_port`.
    pub fn start(upstream_port: u16) -> FaultProxy {
        let shared = Arc::new(Shared { upstream: upstream_port, state: Mutex::new(State::default()) });
        let handler_state = Arc::clone(&shared);
        let server = Server::start("fault-proxy", Arc::new(move |stream| handle(&handler_state, stream)));
        FaultProxy { server, shared }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.server.port())
    }

    /// A reference to `repo_tag` through the proxy.
    pub fn reference(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.host())
    }

    /// Applies `fault` to the next `times` requests `matches` accepts (a rate limit counts as
    /// one, however many requests it refuses).
    pub fn inject(&self, times: usize, matches: impl Fn(&RequestHead) -> bool + Send + 'static, fault: Fault) {
        self.shared.state.lock().unwrap().rules.push(Rule {
            matches: Box::new(matches),
            fault,
            remaining: times,
            limited_until: None,
        });
    }

    /// Serves `GET …/tags/list` `page_size` tags at a time (sorted, `n` and `last` honoured),
    /// with `Link: <…>; rel="next"` while more remain, from the registry's full list.
    pub fn paginate_tags(&self, page_size: usize) {
        self.shared.state.lock().unwrap().tags_page = Some(page_size);
    }

    /// Answers 401 with `challenge` as `WWW-Authenticate` to any request whose bearer token
    /// (a JWT) has passed its `exp`, as a registry without leeway would.
    pub fn refuse_expired_tokens(&self, challenge: String) {
        self.shared.state.lock().unwrap().refuse_expired = Some(challenge);
    }

    /// Every exchange so far, in the order they finished.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.shared.state.lock().unwrap().log.clone()
    }

    /// The exchanges a fault touched.
    pub fn faulted(&self) -> Vec<Exchange> {
        self.exchanges().into_iter().filter(|e| e.fault.is_some()).collect()
    }
}

/// What to do with one request, decided under the lock.
enum Plan {
    Forward(Forward),
    Answer { status: u16, headers: Vec<(String, String)>, body: Vec<u8>, label: String },
    CutRequest { after: u64, label: String },
    StallRequest { after: u64, secs: u64, label: String },
    Tags { page: usize },
}

/// How to forward a request: at what pace, what to do to the response, and the label of
/// the fault (none for a plain forward).
#[derive(Default)]
struct Forward {
    cut_response_after: Option<u64>,
    bytes_per_sec: Option<u64>,
    response_bytes_per_sec: Option<u64>,
    corrupt_response_at: Option<u64>,
    /// Seconds of silence after the (cut) response, before the connection closes.
    stall_secs: Option<u64>,
    /// The `Content-Type` the response is passed on with.
    content_type: Option<String>,
    /// Milliseconds to wait before forwarding.
    delay_millis: Option<u64>,
    label: Option<String>,
}

fn handle(shared: &Shared, client: TcpStream) {
    let mut reader = BufReader::new(client.try_clone().expect("clone the stream"));
    let Ok(Some(head)) = http_wire::read_request_head(&mut reader) else {
        return;
    };
    let started = Instant::now();
    let plan = plan(shared, &head);
    let mut client = client;
    let (status, label) = match plan {
        Plan::Answer { status, headers, body, label } => {
            let _ = drain(&mut reader, head.framing());
            let headers: Vec<(&str, String)> = headers.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
            let sent = http_wire::write_response(&mut client, status, reason(status), &headers, &body);
            (sent.ok().map(|()| status), Some(label))
        }
        Plan::CutRequest { after, label } => {
            let _ = copy_limited(&mut reader, &mut io::sink(), after, None);
            let _ = client.shutdown(Shutdown::Both);
            (None, Some(label))
        }
        Plan::StallRequest { after, secs, label } => {
            let _ = copy_limited(&mut reader, &mut io::sink(), after, None);
            std::thread::sleep(Duration::from_secs(secs));
            (None, Some(label))
        }
        Plan::Tags { page } => (serve_tags_page(shared, &head, &mut reader, &mut client, page), None),
        Plan::Forward(Forward {
            cut_response_after,
            bytes_per_sec,
            response_bytes_per_sec,
            corrupt_response_at,
            stall_secs,
            content_type,
            delay_millis,
            label,
        }) => {
            if let Some(millis) = delay_millis {
                std::thread::sleep(Duration::from_millis(millis));
            }
            let rates = (bytes_per_sec, response_bytes_per_sec);
            let mut to_client = ByteFlipper { inner: &mut client, flip_at: corrupt_response_at, passed: 0 };
            let response = (cut_response_after, content_type);
            let status = forward(shared, &head, &mut reader, &mut to_client, response, rates);
            if let Some(secs) = stall_secs {
                std::thread::sleep(Duration::from_secs(secs));
            }
            (status, label)
        }
    };
    let _ = client.shutdown(Shutdown::Both);
    shared.state.lock().unwrap().log.push(Exchange {
        method: head.method.clone(),
        target: head.target.clone(),
        authorization: head.header("authorization").map(str::to_owned),
        fault: label,
        status,
        started,
    });
}

fn plan(shared: &Shared, head: &RequestHead) -> Plan {
    let mut state = shared.state.lock().unwrap();
    if let Some(challenge) = &state.refuse_expired
        && bearer_expired(head)
    {
        let body = registry_error("UNAUTHORIZED", "authentication required (token expired)");
        return Plan::Answer {
            status: 401,
            headers: vec![("WWW-Authenticate".into(), challenge.clone()), json_type()],
            body,
            label: "expired token refused".into(),
        };
    }
    let now = Instant::now();
    let mut chosen = None;
    for rule in state.rules.iter_mut() {
        if let Some(until) = rule.limited_until {
            if now < until && (rule.matches)(head) {
                let left = until.saturating_duration_since(now).as_secs_f64().ceil() as u64;
                chosen = Some(Fault::RateLimit { retry_after_secs: left.max(1) });
                break;
            }
            continue;
        }
        if rule.remaining > 0 && (rule.matches)(head) {
            rule.remaining -= 1;
            if let Fault::RateLimit { retry_after_secs } = rule.fault {
                rule.limited_until = Some(now + Duration::from_secs(retry_after_secs));
            }
            chosen = Some(rule.fault.clone());
            break;
        }
    }
    let Some(fault) = chosen else {
        if let Some(page) = state.tags_page
            && head.method == "GET"
            && head.path().ends_with("/tags/list")
        {
            return Plan::Tags { page };
        }
        return Plan::Forward(Forward::default());
    };
    match fault {
        Fault::Status { status, headers } => {
            let mut headers = headers;
            headers.push(json_type());
            let body = registry_error("UNAVAILABLE", &format!("injected {status}"));
            Plan::Answer { status, headers, body, label: format!("status {status}") }
        }
        Fault::Redirect { status, location } => Plan::Answer {
            status,
            headers: vec![("Location".into(), location.clone())],
            body: Vec::new(),
            label: format!("redirect {status} to {location}"),
        },
        Fault::CutResponseBody { after } => Plan::Forward(Forward {
            cut_response_after: Some(after),
            label: Some(format!("response body cut after {after} bytes")),
            ..Forward::default()
        }),
        Fault::StallResponseBody { after, secs } => Plan::Forward(Forward {
            cut_response_after: Some(after),
            stall_secs: Some(secs),
            label: Some(format!("response body stalled after {after} bytes for {secs}s")),
            ..Forward::default()
        }),
        Fault::CutRequestBody { after } => {
            Plan::CutRequest { after, label: format!("request body cut after {after} bytes") }
        }
        Fault::StallRequestBody { after, secs } => {
            Plan::StallRequest { after, secs, label: format!("request body not read after {after} bytes for {secs}s") }
        }
        Fault::SlowRequestBody { bytes_per_sec } => Plan::Forward(Forward {
            bytes_per_sec: Some(bytes_per_sec),
            label: Some(format!("request body slowed to {bytes_per_sec} B/s")),
            ..Forward::default()
        }),
        Fault::SlowResponseBody { bytes_per_sec } => Plan::Forward(Forward {
            response_bytes_per_sec: Some(bytes_per_sec),
            label: Some(format!("response body slowed to {bytes_per_sec} B/s")),
            ..Forward::default()
        }),
        Fault::DelayResponse { millis } => Plan::Forward(Forward {
            delay_millis: Some(millis),
            label: Some(format!("delayed {millis} ms")),
            ..Forward::default()
        }),
        Fault::CorruptResponseBody { at } => Plan::Forward(Forward {
            corrupt_response_at: Some(at),
            label: Some(format!("response body byte {at} flipped")),
            ..Forward::default()
        }),
        Fault::RateLimit { retry_after_secs } => Plan::Answer {
            status: 429,
            headers: vec![("Retry-After".into(), retry_after_secs.to_string()), json_type()],
            body: registry_error("TOOMANYREQUESTS", "rate limited"),
            label: format!("429 retry after {retry_after_secs}s"),
        },
        Fault::RangeNotSatisfiable => {
            let range = state.upload_ranges.get(head.path()).cloned();
            let mut headers = vec![json_type(), ("Location".into(), head.target.clone())];
            if let Some(range) = &range {
                headers.push(("Range".into(), range.clone()));
            }
            Plan::Answer {
                status: 416,
                headers,
                body: registry_error("BLOB_UPLOAD_INVALID", "chunk out of order"),
                label: format!("416 with Range {range:?}"),
            }
        }
        Fault::Serve { status, content_type, body } => Plan::Answer {
            status,
            headers: vec![("Content-Type".into(), content_type.clone())],
            body,
            label: format!("{status} served as {content_type}"),
        },
        Fault::RelabelResponse { content_type } => Plan::Forward(Forward {
            label: Some(format!("response relabelled {content_type}")),
            content_type: Some(content_type),
            ..Forward::default()
        }),
        Fault::EchoAuthorization { status } => {
            let echoed = head.header("authorization").unwrap_or("(none)");
            Plan::Answer {
                status,
                headers: vec![json_type()],
                body: registry_error("DENIED", &format!("credentials {echoed} are not allowed here")),
                label: format!("{status} echoing Authorization"),
            }
        }
    }
}

/// Forwards one request upstream and its response back; the status passed on.
fn forward(
    shared: &Shared,
    head: &RequestHead,
    reader: &mut BufReader<TcpStream>,
    client: &mut ByteFlipper<'_>,
    (cut_response_after, content_type): (Option<u64>, Option<String>),
    (request_rate, response_rate): (Option<u64>, Option<u64>),
) -> Option<u16> {
    let (mut response, mut upstream) = exchange_upstream(shared.upstream, head, reader, request_rate).ok()?;
    if let Some(content_type) = content_type {
        response.headers.retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
        response.headers.push(("Content-Type".into(), content_type));
    }
    if head.method == "PATCH"
        && response.status == 202
        && let Some(range) = response.header("range")
    {
        shared.state.lock().unwrap().upload_ranges.insert(head.path().to_owned(), range.to_owned());
    }
    client.inner.write_all(&response.to_bytes()).ok()?;
    let limit = match (response.framing(&head.method), cut_response_after) {
        (Framing::Length(n), Some(after)) => after.min(n),
        (_, Some(after)) => after,
        (Framing::Length(n), None) => n,
        (_, None) => u64::MAX,
    };
    // The upstream closes after its response (Connection: close), so raw copying until the
    // end or the limit passes chunked bodies on unchanged.
    copy_limited(&mut upstream, client, limit, response_rate).ok()?;
    client.flush().ok()?;
    Some(response.status)
}

/// Sends `head` and its body upstream (`Connection: close`) and reads the response head.
fn exchange_upstream(
    port: u16,
    head: &RequestHead,
    reader: &mut BufReader<TcpStream>,
    bytes_per_sec: Option<u64>,
) -> io::Result<(ResponseHead, BufReader<TcpStream>)> {
    let mut upstream = TcpStream::connect(("127.0.0.1", port))?;
    upstream.set_read_timeout(Some(http_wire::IO_TIMEOUT))?;
    upstream.set_write_timeout(Some(http_wire::IO_TIMEOUT))?;
    let framing = head.framing();
    let decoded = match framing {
        Framing::Chunked => Some(http_wire::read_body(reader, framing)?),
        _ => None,
    };
    let mut out = format!("{} {} HTTP/1.1\r\n", head.method, head.target);
    for (name, value) in &head.headers {
        let skip = ["connection", "transfer-encoding", "content-length", "keep-alive"];
        if !skip.iter().any(|s| name.eq_ignore_ascii_case(s)) {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    let length = match (&decoded, framing) {
        (Some(body), _) => body.len() as u64,
        (None, Framing::Length(n)) => n,
        (None, _) => 0,
    };
    if length > 0 || matches!(head.method.as_str(), "PUT" | "POST" | "PATCH") {
        out.push_str(&format!("Content-Length: {length}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    // A registry may answer before reading the whole body (401 on a PUT): then the rest of
    // the client's body is drained so the client can read the answer.
    let head_sent = upstream.write_all(out.as_bytes()).is_ok();
    match decoded {
        Some(body) => {
            let _ = head_sent && upstream.write_all(&body).is_ok();
        }
        None => {
            let mut sink = FallibleSink { inner: &mut upstream, ok: head_sent };
            copy_limited(reader, &mut sink, length, bytes_per_sec)?;
        }
    }
    let _ = upstream.flush();
    let mut upstream = BufReader::new(upstream);
    let response = http_wire::read_response_head(&mut upstream)?;
    Ok((response, upstream))
}

/// The client's side of a forwarded response body, with one byte's bits flipped if asked.
struct ByteFlipper<'a> {
    inner: &'a mut TcpStream,
    flip_at: Option<u64>,
    passed: u64,
}

impl Write for ByteFlipper<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let start = self.passed;
        let n = match self.flip_at {
            Some(at) if (start..start + buf.len() as u64).contains(&at) => {
                let mut altered = buf.to_vec();
                altered[(at - start) as usize] ^= 0xff;
                self.inner.write(&altered)?
            }
            _ => self.inner.write(buf)?,
        };
        self.passed += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A writer that stops passing bytes on after its first error, but keeps accepting them.
struct FallibleSink<'a> {
    inner: &'a mut TcpStream,
    ok: bool,
}

impl Write for FallibleSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.ok && self.inner.write_all(buf).is_err() {
            self.ok = false;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Copies up to `limit` bytes (fewer if the source ends), at most `bytes_per_sec` if given.
fn copy_limited(from: &mut impl Read, to: &mut impl Write, limit: u64, bytes_per_sec: Option<u64>) -> io::Result<u64> {
    let mut buf = vec![0u8; COPY_CHUNK];
    let mut copied = 0u64;
    let started = Instant::now();
    while copied < limit {
        let want = (limit - copied).min(buf.len() as u64) as usize;
        let want = match bytes_per_sec {
            Some(rate) => want.min((rate / 10).max(1) as usize),
            None => want,
        };
        let n = from.read(&mut buf[..want])?;
        if n == 0 {
            break;
        }
        to.write_all(&buf[..n])?;
        copied += n as u64;
        if let Some(rate) = bytes_per_sec {
            let due = Duration::from_secs_f64(copied as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                thread::sleep(wait);
            }
        }
    }
    Ok(copied)
}

/// Reads and drops a request body.
fn drain(reader: &mut BufReader<TcpStream>, framing: Framing) -> io::Result<()> {
    match framing {
        Framing::Length(n) => copy_limited(reader, &mut io::sink(), n, None).map(drop),
        other => http_wire::read_body(reader, other).map(drop),
    }
}

/// Serves one page of the repository's tags, from the full list the registry gives.
fn serve_tags_page(
    shared: &Shared,
    head: &RequestHead,
    reader: &mut BufReader<TcpStream>,
    client: &mut TcpStream,
    page_size: usize,
) -> Option<u16> {
    let path = head.path().to_owned();
    let full = RequestHead { method: "GET".into(), target: path.clone(), headers: head.headers.clone() };
    let (response, mut upstream) = exchange_upstream(shared.upstream, &full, reader, None).ok()?;
    let body = http_wire::read_body(&mut upstream, response.framing("GET")).ok()?;
    if response.status != 200 {
        let headers: Vec<(&str, String)> = response
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("content-length") && !n.eq_ignore_ascii_case("transfer-encoding"))
            .map(|(n, v)| (n.as_str(), v.clone()))
            .collect();
        http_wire::write_response(client, response.status, &response.reason, &headers, &body).ok()?;
        return Some(response.status);
    }
    let list: serde_json::Value = serde_json::from_slice(&body).ok()?;
    let mut tags: Vec<String> = list["tags"].as_array()?.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect();
    tags.sort();
    let n = head.query_values("n").first().and_then(|n| n.parse().ok()).unwrap_or(page_size).min(page_size).max(1);
    let after = head.query_values("last").into_iter().next();
    let rest: Vec<String> = tags.into_iter().filter(|t| after.as_ref().is_none_or(|last| t > last)).collect();
    let page: Vec<String> = rest.iter().take(n).cloned().collect();
    let mut headers = vec![("Content-Type", "application/json".to_owned())];
    if rest.len() > page.len()
        && let Some(last) = page.last()
    {
        let next = format!("<{path}?n={n}&last={}>; rel=\"next\"", http_wire::percent_encode(last));
        headers.push(("Link", next));
    }
    let page_body = json!({"name": list["name"], "tags": page}).to_string();
    http_wire::write_response(client, 200, "OK", &headers, page_body.as_bytes()).ok()?;
    Some(200)
}

/// Whether the request carries a bearer JWT whose `exp` has passed.
fn bearer_expired(head: &RequestHead) -> bool {
    let Some(token) = head.header("authorization").and_then(|v| v.strip_prefix("Bearer ")) else {
        return false;
    };
    let Some(claims) = token.split('.').nth(1).and_then(|c| URL_SAFE_NO_PAD.decode(c).ok()) else {
        return false;
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&claims) else {
        return false;
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs() as i64;
    claims["exp"].as_i64().is_some_and(|exp| exp < now)
}

fn registry_error(code: &str, message: &str) -> Vec<u8> {
    json!({"errors": [{"code": code, "message": message}]}).to_string().into_bytes()
}

fn json_type() -> (String, String) {
    ("Content-Type".into(), "application/json".into())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A stand-in for object storage: answers every GET with `body` and records each request.
pub struct ObjectStore {
    server: Server,
    seen: Arc<Mutex<Vec<RequestHead>>>,
}

impl ObjectStore {
    /// Serves `body` as `application/octet-stream`.
    pub fn start(body: Vec<u8>) -> ObjectStore {
        ObjectStore::serving(body, "application/octet-stream")
    }

    /// Serves `body` as `content_type`.
    pub fn serving(body: Vec<u8>, content_type: &str) -> ObjectStore {
        let content_type = content_type.to_owned();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let body = Arc::new(body);
        let server = Server::start(
            "object-store",
            Arc::new(move |stream: TcpStream| {
                let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
                let Ok(Some(head)) = http_wire::read_request_head(&mut reader) else {
                    return;
                };
                let _ = drain(&mut reader, head.framing());
                let is_get = head.method == "GET";
                record.lock().unwrap().push(head);
                let mut stream = stream;
                let typed = ("Content-Type", content_type.clone());
                let _ = if is_get {
                    http_wire::write_response(&mut stream, 200, "OK", &[typed], &body)
                } else {
                    http_wire::write_response(&mut stream, 405, "Method Not Allowed", &[], b"")
                };
            }),
        );
        ObjectStore { server, seen }
    }

    /// A URL on this store.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://127.0.0.1:{}{path_and_query}", self.server.port())
    }

    /// Every request it received.
    pub fn requests(&self) -> Vec<RequestHead> {
        self.seen.lock().unwrap().clone()
    }
}
