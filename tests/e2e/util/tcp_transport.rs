//! A native [`Transport`] for driving the packager's registry store from the tests: plain
//! HTTP/1.1 to loopback over `std::net::TcpStream`, one connection per request
//! (`Connection: close`), heads and bodies framed by `http_wire`. It keeps the component
//! transport's rules for request bodies: exactly the announced length is sent, and a source
//! that ends early or goes on past it is an error (unless the registry refused the request,
//! whose answer then says more).

use std::io::{self, BufReader, Read, Write};
use std::net::TcpStream;

use wasmship::http::nonblocking::Blocking;
use wasmship::http::{Body, Method, Request, Response, Scheme, Transport, TransportError, Upload, Waiter};

use super::http_wire::{self, Framing};

/// Bytes copied per read of a request body's source.
const CHUNK: usize = 64 * 1024;

/// Plain HTTP/1.1 to `127.0.0.1` and `localhost`.
pub struct TcpTransport;

impl Transport for TcpTransport {
    fn send(&self, mut request: Request<'_>) -> Result<Response, TransportError> {
        let length = request.body.len();
        let (mut writer, stream, target) = open(&request, length)?;
        let fail = |what: &str, detail: String| TransportError(format!("{target}: {what}: {detail}"));
        let sent = match write_body(&mut writer, &mut request.body) {
            Ok(sent) => sent,
            Err(Unsent(detail)) => {
                // The announced length cannot be met: the request is abandoned.
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return Err(fail("sending body", detail));
            }
        };
        let _ = writer.flush();
        respond(stream, request.method, &target, sent)
    }

    fn start_upload(&self, request: Request<'_>, length: u64) -> Result<Option<Box<dyn Upload>>, TransportError> {
        let (writer, stream, target) = open(&request, length)?;
        Ok(Some(Box::new(TcpUpload { writer, stream, target, method: request.method, left: length, sent: Ok(()) })))
    }
}

/// Connects for `request` and sends its head, announcing `length` body bytes: the writing
/// half, the stream to read the answer from, and `METHOD url` for messages.
fn open(request: &Request<'_>, length: u64) -> Result<(TcpStream, TcpStream, String), TransportError> {
    let url = &request.url;
    let target = format!("{} http://{}{}", request.method.as_str(), url.authority, url.path_and_query);
    let fail = |what: &str, detail: String| TransportError(format!("{target}: {what}: {detail}"));
    let loopback = url.authority.starts_with("127.0.0.1:") || url.authority.starts_with("localhost:");
    if url.scheme != Scheme::Http || !loopback {
        return Err(fail("refused", "the test transport speaks plain HTTP to loopback only".into()));
    }
    let stream = TcpStream::connect(&url.authority).map_err(|e| fail("connect", e.to_string()))?;
    stream.set_read_timeout(Some(http_wire::IO_TIMEOUT)).map_err(|e| fail("connect", e.to_string()))?;
    stream.set_write_timeout(Some(http_wire::IO_TIMEOUT)).map_err(|e| fail("connect", e.to_string()))?;

    let mut head =
        format!("{} {} HTTP/1.1\r\nHost: {}\r\n", request.method.as_str(), url.path_and_query, url.authority);
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if length > 0 || matches!(request.method, Method::Put | Method::Post | Method::Patch) {
        head.push_str(&format!("Content-Length: {length}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut writer = stream.try_clone().map_err(|e| fail("connect", e.to_string()))?;
    writer.write_all(head.as_bytes()).map_err(|e| fail("sending head", e.to_string()))?;
    Ok((writer, stream, target))
}

/// Reads the answer to a request whose body went out as `sent` says.
fn respond(
    stream: TcpStream,
    method: Method,
    target: &str,
    sent: Result<(), String>,
) -> Result<Response, TransportError> {
    let fail = |what: &str, detail: String| TransportError(format!("{target}: {what}: {detail}"));
    let mut reader = BufReader::new(stream);
    let response = http_wire::read_response_head(&mut reader).map_err(|e| match &sent {
        // A peer that stopped reading the body and closed without an answer.
        Err(detail) => fail("sending body", detail.clone()),
        Ok(()) => fail("response head", e.to_string()),
    })?;
    if response.status < 400
        && let Err(detail) = sent
    {
        return Err(fail("sending body", detail));
    }
    let body: Box<dyn Read> = match response.framing(method.as_str()) {
        Framing::Length(n) => Box::new(Exactly { inner: reader.take(n), left: n, target: target.to_string() }),
        Framing::Chunked => {
            let bytes = http_wire::read_body(&mut reader, Framing::Chunked)
                .map_err(|e| fail("response body", e.to_string()))?;
            Box::new(io::Cursor::new(bytes))
        }
        Framing::UntilClose => Box::new(reader),
    };
    Ok(Response { status: response.status, headers: response.headers, body: Box::new(Blocking(body)) })
}

/// An upload written piece by piece: every write goes out at once (a blocking socket is
/// always ready), and a write past the announced length is refused.
struct TcpUpload {
    writer: TcpStream,
    stream: TcpStream,
    target: String,
    method: Method,
    left: u64,
    /// How writing went: the registry's answer may explain a failed write better.
    sent: Result<(), String>,
}

impl Upload for TcpUpload {
    fn write_now(&mut self, bytes: &[u8]) -> Result<usize, TransportError> {
        if bytes.len() as u64 > self.left {
            return Err(TransportError(format!("{}: sending body: more than the announced length", self.target)));
        }
        self.left -= bytes.len() as u64;
        if self.sent.is_ok()
            && let Err(e) = self.writer.write_all(bytes)
        {
            self.sent = Err(e.to_string());
        }
        Ok(bytes.len())
    }

    fn waiter(&self) -> Option<Waiter> {
        None
    }

    fn finish(self: Box<Self>) -> Result<Response, TransportError> {
        let TcpUpload { mut writer, stream, target, method, left, sent } = *self;
        if left > 0 {
            let _ = writer.shutdown(std::net::Shutdown::Both);
            return Err(TransportError(format!("{target}: sending body: {left} bytes short")));
        }
        let _ = writer.flush();
        respond(stream, method, &target, sent)
    }
}

/// The body could not be sent whole: the request is lost.
struct Unsent(String);

/// Sends exactly the announced bytes. The outer error means the source fell short; the inner
/// one, that the connection refused the bytes (the peer may have answered already), or that
/// the source went on past its length or failed at its end (a verifying source checks what it
/// gave when read to its end) — which only matters if the registry took the request.
fn write_body(out: &mut TcpStream, body: &mut Body<'_>) -> Result<Result<(), String>, Unsent> {
    match body {
        Body::Empty => Ok(Ok(())),
        Body::Bytes(bytes) => Ok(out.write_all(bytes).map_err(|e| e.to_string())),
        Body::Stream { reader, length } => {
            let mut left = *length;
            let mut buf = vec![0u8; CHUNK];
            while left > 0 {
                let want = (left as usize).min(buf.len());
                let n = reader.read(&mut buf[..want]).map_err(|e| Unsent(format!("reading source: {e}")))?;
                if n == 0 {
                    return Err(Unsent(format!("source ended {left} bytes early")));
                }
                if let Err(e) = out.write_all(&buf[..n]) {
                    return Ok(Err(e.to_string()));
                }
                left -= n as u64;
            }
            Ok(match reader.read(&mut buf[..1]) {
                Ok(0) => Ok(()),
                Ok(_) => Err(format!("source is longer than the declared {length} bytes")),
                Err(e) => Err(format!("reading source: {e}")),
            })
        }
    }
}

/// A body of a known length that fails, rather than ends, when the connection closes early.
struct Exactly {
    inner: io::Take<BufReader<TcpStream>>,
    left: u64,
    target: String,
}

impl Read for Exactly {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.left > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{}: response body: closed {} bytes early", self.target, self.left),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}
