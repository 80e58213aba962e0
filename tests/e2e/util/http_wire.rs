//! Just enough HTTP/1.1 on raw sockets for the tests' own servers (the token server, the fault
//! proxy, a redirect target): read a request or response head, read a body framed by
//! `Content-Length` or chunked encoding, and write a whole response. Every connection carries
//! one exchange and is then closed (`Connection: close`), so no framing is ever guessed.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Heads larger than this are refused: the tests' peers send a few hundred bytes.
const HEAD_MAX: usize = 64 * 1024;

/// A request line and its headers.
#[derive(Debug, Clone)]
pub struct RequestHead {
    pub method: String,
    /// The request target as sent (`/v2/…?query`).
    pub target: String,
    pub headers: Vec<(String, String)>,
}

/// A status line and its headers.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
}

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Length(u64),
    Chunked,
    /// Until the sender closes (responses only).
    UntilClose,
}

impl RequestHead {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The values of query parameter `name`, percent-decoded, in order.
    pub fn query_values(&self, name: &str) -> Vec<String> {
        let Some((_, query)) = self.target.split_once('?') else {
            return Vec::new();
        };
        query
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| percent_decode(v))
            .collect()
    }

    /// How the request body is delimited (no length and no chunking: no body).
    pub fn framing(&self) -> Framing {
        if self.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
            return Framing::Chunked;
        }
        Framing::Length(self.header("content-length").and_then(|v| v.trim().parse().ok()).unwrap_or(0))
    }
}

impl ResponseHead {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// How the body of this response to a `method` request is delimited.
    pub fn framing(&self, method: &str) -> Framing {
        if method == "HEAD" || self.status == 204 || self.status == 304 || self.status < 200 {
            return Framing::Length(0);
        }
        if self.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
            return Framing::Chunked;
        }
        match self.header("content-length").and_then(|v| v.trim().parse().ok()) {
            Some(n) => Framing::Length(n),
            None => Framing::UntilClose,
        }
    }

    /// The head as bytes, with `Connection: close` in place of any `Connection` header.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason);
        for (name, value) in &self.headers {
            if !name.eq_ignore_ascii_case("connection") {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        out.push_str("Connection: close\r\n\r\n");
        out.into_bytes()
    }
}

/// The first value of header `name` among `headers` (case-insensitive).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Reads a request head; `None` when the peer closed before sending one.
pub fn read_request_head(reader: &mut BufReader<TcpStream>) -> io::Result<Option<RequestHead>> {
    let Some(lines) = read_head_lines(reader)? else {
        return Ok(None);
    };
    let mut parts = lines[0].splitn(3, ' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("bad request line {:?}", lines[0])));
    };
    Ok(Some(RequestHead { method: method.to_owned(), target: target.to_owned(), headers: parse_headers(&lines[1..]) }))
}

/// Reads a response head.
pub fn read_response_head(reader: &mut BufReader<TcpStream>) -> io::Result<ResponseHead> {
    let lines = read_head_lines(reader)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "closed before a response"))?;
    let mut parts = lines[0].splitn(3, ' ');
    let _version = parts.next();
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("bad status line {:?}", lines[0])))?;
    let reason = parts.next().unwrap_or_default().to_owned();
    Ok(ResponseHead { status, reason, headers: parse_headers(&lines[1..]) })
}

fn read_head_lines(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Vec<String>>> {
    let mut lines = Vec::new();
    let mut total = 0;
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        if n == 0 {
            return if lines.is_empty() {
                Ok(None)
            } else {
                Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed inside a head"))
            };
        }
        total += n;
        if total > HEAD_MAX {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too large"));
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            if lines.is_empty() {
                continue; // tolerate a stray CRLF between messages
            }
            return Ok(Some(lines));
        }
        lines.push(line);
    }
}

fn parse_headers(lines: &[String]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter_map(|l| l.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect()
}

/// Reads a whole body with `framing` (chunked bodies are returned decoded).
pub fn read_body(reader: &mut BufReader<TcpStream>, framing: Framing) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    match framing {
        Framing::Length(n) => {
            reader.take(n).read_to_end(&mut body)?;
            if (body.len() as u64) < n {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "body shorter than Content-Length"));
            }
        }
        Framing::UntilClose => {
            reader.read_to_end(&mut body)?;
        }
        Framing::Chunked => loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line)?;
            let size_text = size_line.trim().split(';').next().unwrap_or_default();
            let size = u64::from_str_radix(size_text, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                // Trailers, then the final empty line.
                loop {
                    let mut trailer = String::new();
                    if reader.read_line(&mut trailer)? == 0 || trailer.trim().is_empty() {
                        return Ok(body);
                    }
                }
            }
            let start = body.len();
            reader.take(size).read_to_end(&mut body)?;
            if (body.len() - start) as u64 != size {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short chunk"));
            }
            let mut crlf = String::new();
            reader.read_line(&mut crlf)?;
        },
    }
    Ok(body)
}

/// Writes a complete response with a `Content-Length` body and closes the exchange.
pub fn write_response(
    stream: &mut TcpStream,
    status: u16,
    reason: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> io::Result<()> {
    let mut all: Vec<(String, String)> = headers.iter().map(|(n, v)| ((*n).to_owned(), v.clone())).collect();
    all.push(("Content-Length".to_owned(), body.len().to_string()));
    let head = ResponseHead { status, reason: reason.to_owned(), headers: all };
    stream.write_all(&head.to_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

/// Decodes `%XX` escapes and `+` (as a space) in a query value.
pub fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes everything but unreserved characters as `%XX`, for query values.
pub fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A loopback listener that hands every connection to `handler` on a thread of its own; it
/// stops accepting when dropped.
pub struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

/// How long a test server waits for a peer before giving up on the connection.
pub const IO_TIMEOUT: Duration = Duration::from_secs(60);

impl Server {
    /// Listens on a free `127.0.0.1` port.
    pub fn start(name: &str, handler: Arc<dyn Fn(TcpStream) + Send + Sync>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{name}: bind: {e}"));
        let port = listener.local_addr().expect("local address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let accept = thread::Builder::new()
            .name(format!("{name}-accept"))
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
                    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
                    let handler = Arc::clone(&handler);
                    thread::spawn(move || handler(stream));
                }
            })
            .expect("spawn the accept thread");
        Server { port, stop, accept: Some(accept) }
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}
