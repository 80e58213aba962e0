//! [`Transport`] over `wasi:http/outgoing-handler`: request bodies stream out
//! through the outgoing body's output stream, response bodies stream in
//! through the incoming body's input stream. Prefetched requests are handed to the
//! host at once and wait, each for its own `send`, so that they travel in parallel.

use std::cell::RefCell;
use std::io::{self, Read};
use std::time::Duration;

use super::failure::{Failure, Limits, stalled, stopped_taking};
use super::nonblocking::{BodyRead, Upload, Waiter, wait_any};
use super::timeouts::Timeouts;
use super::{Body, Method, Request, Response, Scheme, Transport, TransportError};
use crate::error::{MAX_ECHO, excerpt};
use crate::wasi::bindings::wasi::http::outgoing_handler;
use crate::wasi::bindings::wasi::http::types::{
    self as http, ErrorCode, Fields, IncomingBody, OutgoingBody, OutgoingRequest, RequestOptions,
};
use crate::wasi::bindings::wasi::io::streams::{InputStream, OutputStream, StreamError};

/// Size of one read from a response body.
const READ_CHUNK: u64 = 256 * 1024;
/// Size of one read from a request body's source.
const WRITE_CHUNK: usize = 256 * 1024;

/// Requests started ahead of their `send` at most at once.
const MAX_PREFETCHED: usize = 8;

/// The `wasi:http` transport.
#[derive(Default)]
pub struct WasiHttp {
    /// Requests started by [`Transport::prefetch`], by their key, not yet sent.
    prefetched: RefCell<Vec<(String, Started)>>,
}

/// A request handed to the host, its response still to come.
struct Started {
    future: http::FutureIncomingResponse,
    /// `METHOD url`, for messages.
    target: String,
    host: String,
    timeouts: Timeouts,
    /// How writing and finishing the request body went.
    sent: Result<(), String>,
}

impl Transport for WasiHttp {
    fn send(&self, mut request: Request<'_>) -> Result<Response, TransportError> {
        let early = request.prefetch_key().and_then(|key| {
            let mut prefetched = self.prefetched.borrow_mut();
            let at = prefetched.iter().position(|(k, _)| k == &key)?;
            Some(prefetched.swap_remove(at).1)
        });
        let started = match early {
            Some(started) => started,
            None => start(&mut request)?,
        };
        finish(started)
    }

    fn prefetch(&self, mut request: Request<'static>) {
        let Some(key) = request.prefetch_key() else { return };
        if self.prefetched.borrow().len() >= MAX_PREFETCHED || self.prefetched.borrow().iter().any(|(k, _)| k == &key) {
            return;
        }
        // A request that cannot even start is left to its `send`, which reports it.
        if let Ok(started) = start(&mut request) {
            self.prefetched.borrow_mut().push((key, started));
        }
    }

    fn start_upload(&self, request: Request<'_>, length: u64) -> Result<Option<Box<dyn Upload>>, TransportError> {
        Ok(Some(Box::new(start_upload(&request, length)?)))
    }
}

/// Hand `request` to the host and write its body.
fn start(request: &mut Request<'_>) -> Result<Started, TransportError> {
    let (outgoing, target, host) = outgoing_request(request, None)?;
    let fail = |what: &str, detail: String| TransportError(format!("{target}: {what}: {detail}"));

    let timeouts = Timeouts::for_request(request.body.len());
    let body = outgoing.body().map_err(|_| fail("request body", "unavailable".into()))?;
    let future = outgoing_handler::handle(outgoing, Some(request_options(&timeouts)))
        .map_err(|e| fail("request failed", describe(&e, &host, &timeouts)))?;

    let written = write_body(&body, &mut request.body, timeouts.stall());
    let finished = OutgoingBody::finish(body, None).map_err(|e| describe(&e, &host, &timeouts));
    let sent = written.and(finished);
    Ok(Started { future, target, host, timeouts, sent })
}

/// Hand the head of `request` to the host, announcing a body of `length` bytes for the
/// caller to write through the returned upload.
fn start_upload(request: &Request<'_>, length: u64) -> Result<WasiUpload, TransportError> {
    let (outgoing, target, host) = outgoing_request(request, Some(length))?;
    let fail = |what: &str, detail: String| TransportError(format!("{target}: {what}: {detail}"));
    let timeouts = Timeouts::for_request(length);
    let body = outgoing.body().map_err(|_| fail("request body", "unavailable".into()))?;
    let future = outgoing_handler::handle(outgoing, Some(request_options(&timeouts)))
        .map_err(|e| fail("request failed", describe(&e, &host, &timeouts)))?;
    let stream = body.write().map_err(|_| fail("request body", "unavailable".into()))?;
    Ok(WasiUpload { stream: Some(stream), body: Some(body), future: Some(future), target, host, timeouts })
}

/// The host's request for `request`'s head, announcing `length` body bytes (by default the
/// body's own), with `METHOD url` and the host for messages.
fn outgoing_request(
    request: &Request<'_>,
    length: Option<u64>,
) -> Result<(OutgoingRequest, String, String), TransportError> {
    let path = request.url.path_and_query.split('?').next().unwrap_or("/");
    let target =
        format!("{} {}://{}{path}", request.method.as_str(), scheme_name(request.url.scheme), request.url.authority);
    let fail = |what: &str, detail: String| TransportError(format!("{target}: {what}: {detail}"));
    let host = request.url.authority.clone();

    let mut entries: Vec<(String, Vec<u8>)> =
        request.headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.clone().into_bytes())).collect();
    let announced = length.unwrap_or(request.body.len());
    if length.is_some()
        || !matches!(request.body, Body::Empty)
        || matches!(request.method, Method::Put | Method::Post | Method::Patch)
    {
        entries.push(("content-length".to_string(), announced.to_string().into_bytes()));
    }
    let fields = Fields::from_list(&entries).map_err(|e| fail("invalid header", header_error(&e).into()))?;
    let outgoing = OutgoingRequest::new(fields);
    let method = match request.method {
        Method::Get => http::Method::Get,
        Method::Head => http::Method::Head,
        Method::Post => http::Method::Post,
        Method::Put => http::Method::Put,
        Method::Patch => http::Method::Patch,
    };
    let scheme = match request.url.scheme {
        Scheme::Http => http::Scheme::Http,
        Scheme::Https => http::Scheme::Https,
    };
    outgoing
        .set_method(&method)
        .and_then(|_| outgoing.set_scheme(Some(&scheme)))
        .and_then(|_| outgoing.set_authority(Some(&request.url.authority)))
        .and_then(|_| outgoing.set_path_with_query(Some(&request.url.path_and_query)))
        .map_err(|_| fail("invalid request", "method, scheme, authority or path refused".into()))?;
    Ok((outgoing, target, host))
}

/// Wait for the response head of a started request.
fn finish(started: Started) -> Result<Response, TransportError> {
    let Started { future, target, host, timeouts, sent } = started;
    let fail = |what: &str, detail: String| TransportError(format!("{target}: {what}: {detail}"));
    match &sent {
        Ok(()) => future.subscribe().block(),
        // A registry that stopped taking the body may never answer: its answer is waited
        // for as long as any other stall.
        Err(e) => {
            let waiter = Waiter { pollable: future.subscribe() };
            if !wait_any(std::slice::from_ref(&waiter), timeouts.stall()) {
                return Err(fail("sending body", e.clone()));
            }
        }
    }
    let response = match future.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(fail("request failed", describe(&code, &host, &timeouts))),
        Some(Err(())) | None => return Err(fail("request failed", "no response".into())),
    };
    // A registry may answer (e.g. 401, 413) before reading the whole body;
    // then the response explains the failed write better than the write error.
    if response.status() < 400 {
        sent.map_err(|e| fail("sending body", e))?;
    }
    let status = response.status();
    let headers =
        response.headers().entries().into_iter().map(|(n, v)| (n, String::from_utf8_lossy(&v).into_owned())).collect();
    let incoming = response.consume().map_err(|_| fail("response body", "unavailable".into()))?;
    let stream = incoming.stream().map_err(|_| fail("response body", "unavailable".into()))?;
    Ok(Response {
        status,
        headers,
        body: Box::new(BodyReader {
            target,
            host,
            limits: limits(&timeouts),
            stream: Some(stream),
            body: Some(incoming),
            buffer: Vec::new(),
            position: 0,
            done: false,
        }),
    })
}

fn scheme_name(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::Http => "http",
        Scheme::Https => "https",
    }
}

/// The request options carrying `timeouts`; a host that does not support one keeps its own.
fn request_options(timeouts: &Timeouts) -> RequestOptions {
    let nanos = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    let options = RequestOptions::new();
    let _ = options.set_connect_timeout(Some(nanos(timeouts.connect)));
    let _ = options.set_first_byte_timeout(timeouts.first_byte.map(nanos));
    let _ = options.set_between_bytes_timeout(Some(nanos(timeouts.between_bytes)));
    options
}

/// The limits of `timeouts`, for the words of a failure.
fn limits(timeouts: &Timeouts) -> Limits {
    Limits { connect: timeouts.connect, stall: timeouts.stall() }
}

/// What went wrong with a request to `host`, in words on one line.
fn describe(code: &ErrorCode, host: &str, timeouts: &Timeouts) -> String {
    super::failure::describe(&failure(code), host, limits(timeouts))
}

/// The host's error code as a [`Failure`].
fn failure(code: &ErrorCode) -> Failure {
    let field = |payload: &Option<http::FieldSizePayload>| payload.as_ref().and_then(|p| p.field_name.clone());
    match code {
        ErrorCode::DnsTimeout => Failure::DnsTimeout,
        ErrorCode::DnsError(e) => Failure::DnsError { rcode: e.rcode.clone() },
        ErrorCode::DestinationNotFound => Failure::DestinationNotFound,
        ErrorCode::DestinationUnavailable => Failure::DestinationUnavailable,
        ErrorCode::DestinationIpProhibited => Failure::DestinationIpProhibited,
        ErrorCode::DestinationIpUnroutable => Failure::DestinationIpUnroutable,
        ErrorCode::ConnectionRefused => Failure::ConnectionRefused,
        ErrorCode::ConnectionTerminated => Failure::ConnectionTerminated,
        ErrorCode::ConnectionTimeout => Failure::ConnectionTimeout,
        ErrorCode::ConnectionReadTimeout => Failure::ConnectionReadTimeout,
        ErrorCode::ConnectionWriteTimeout => Failure::ConnectionWriteTimeout,
        ErrorCode::ConnectionLimitReached => Failure::ConnectionLimitReached,
        ErrorCode::TlsProtocolError => Failure::TlsProtocolError,
        ErrorCode::TlsCertificateError => Failure::TlsCertificateError,
        ErrorCode::TlsAlertReceived(alert) => Failure::TlsAlertReceived {
            alert: alert.alert_message.clone().or_else(|| alert.alert_id.map(|id| format!("alert {id}"))),
        },
        ErrorCode::HttpRequestDenied => Failure::RequestDenied,
        ErrorCode::HttpRequestLengthRequired => Failure::RequestLengthRequired,
        ErrorCode::HttpRequestBodySize(_) => Failure::RequestBodySize,
        ErrorCode::HttpRequestMethodInvalid => Failure::RequestMethodInvalid,
        ErrorCode::HttpRequestUriInvalid => Failure::RequestUriInvalid,
        ErrorCode::HttpRequestUriTooLong => Failure::RequestUriTooLong,
        ErrorCode::HttpRequestHeaderSectionSize(_) | ErrorCode::HttpRequestTrailerSectionSize(_) => {
            Failure::RequestHeadersTooLarge { field: None }
        }
        ErrorCode::HttpRequestHeaderSize(payload) => Failure::RequestHeadersTooLarge { field: field(payload) },
        ErrorCode::HttpRequestTrailerSize(payload) => {
            Failure::RequestHeadersTooLarge { field: payload.field_name.clone() }
        }
        ErrorCode::HttpResponseIncomplete => Failure::ResponseIncomplete,
        ErrorCode::HttpResponseHeaderSectionSize(_) | ErrorCode::HttpResponseTrailerSectionSize(_) => {
            Failure::ResponseHeadersTooLarge { field: None }
        }
        ErrorCode::HttpResponseHeaderSize(payload) | ErrorCode::HttpResponseTrailerSize(payload) => {
            Failure::ResponseHeadersTooLarge { field: payload.field_name.clone() }
        }
        ErrorCode::HttpResponseBodySize(_) => Failure::ResponseBodySize,
        ErrorCode::HttpResponseTransferCoding(coding) => Failure::ResponseTransferCoding { coding: coding.clone() },
        ErrorCode::HttpResponseContentCoding(coding) => Failure::ResponseContentCoding { coding: coding.clone() },
        ErrorCode::HttpResponseTimeout => Failure::ResponseTimeout,
        ErrorCode::HttpUpgradeFailed => Failure::UpgradeFailed,
        ErrorCode::HttpProtocolError => Failure::ProtocolError,
        ErrorCode::LoopDetected => Failure::LoopDetected,
        ErrorCode::ConfigurationError => Failure::ConfigurationError,
        ErrorCode::InternalError(message) => Failure::Internal { message: message.clone() },
    }
}

/// A header the host refused, in words.
fn header_error(error: &http::HeaderError) -> &'static str {
    match error {
        http::HeaderError::InvalidSyntax => "a header name or value is not valid",
        http::HeaderError::Forbidden => "a header the host forbids",
        http::HeaderError::Immutable => "the headers can no longer be changed",
    }
}

/// Write `source` into `body`; a registry that takes nothing for `stall` fails it.
fn write_body(body: &OutgoingBody, source: &mut Body<'_>, stall: Duration) -> Result<(), String> {
    let length = source.len();
    if length == 0 {
        return Ok(());
    }
    let stream = body.write().map_err(|_| "body stream unavailable".to_string())?;
    match source {
        Body::Empty => {}
        Body::Bytes(bytes) => write_all(&stream, bytes, stall)?,
        Body::Stream { reader, length } => {
            let mut remaining = *length;
            let mut buf = vec![0u8; WRITE_CHUNK];
            while remaining > 0 {
                let want = (remaining as usize).min(buf.len());
                let n = reader.read(&mut buf[..want]).map_err(|e| format!("reading source: {e}"))?;
                if n == 0 {
                    return Err(format!("source ended {remaining} bytes early"));
                }
                write_all(&stream, &buf[..n], stall)?;
                remaining -= n as u64;
            }
            // Read to the end so a verifying source checks what it gave.
            match reader.read(&mut buf[..1]) {
                Ok(0) => {}
                Ok(_) => return Err(format!("source is longer than the declared {length} bytes")),
                Err(e) => return Err(format!("reading source: {e}")),
            }
        }
    }
    flush(&stream, stall)
}

/// Flush `stream`, waiting at most `stall` for the registry to take what is pending. Once
/// the host has taken every announced byte it may close its end, so a flush that finds the
/// stream closed after the last byte is success; the response status tells whether the
/// request worked.
fn flush(stream: &OutputStream, stall: Duration) -> Result<(), String> {
    match stream.flush() {
        Ok(()) => {}
        Err(StreamError::Closed) => return Ok(()),
        Err(e) => return Err(stream_error(e)),
    }
    loop {
        match stream.check_write() {
            Ok(0) => wait_for(stream, stall)?,
            Ok(_) | Err(StreamError::Closed) => return Ok(()),
            Err(e) => return Err(stream_error(e)),
        }
    }
}

fn write_all(stream: &OutputStream, mut data: &[u8], stall: Duration) -> Result<(), String> {
    while !data.is_empty() {
        let permitted = stream.check_write().map_err(stream_error)?;
        if permitted == 0 {
            wait_for(stream, stall)?;
            continue;
        }
        let n = (permitted as usize).min(data.len());
        stream.write(&data[..n]).map_err(stream_error)?;
        data = &data[n..];
    }
    Ok(())
}

/// Wait until `stream` takes bytes again, at most `stall`.
fn wait_for(stream: &OutputStream, stall: Duration) -> Result<(), String> {
    let waiter = Waiter { pollable: stream.subscribe() };
    if wait_any(std::slice::from_ref(&waiter), stall) { Ok(()) } else { Err(stopped_taking(stall)) }
}

fn stream_error(e: StreamError) -> String {
    match e {
        StreamError::Closed => "the registry closed the connection".to_string(),
        StreamError::LastOperationFailed(err) => excerpt(&err.to_debug_string(), MAX_ECHO),
    }
}

/// A response body as [`Read`]. Drops the stream before the body, as
/// `wasi:http` requires.
struct BodyReader {
    /// `METHOD url`, for messages.
    target: String,
    /// The registry's `host[:port]`, for messages.
    host: String,
    limits: Limits,
    stream: Option<InputStream>,
    body: Option<IncomingBody>,
    buffer: Vec<u8>,
    position: usize,
    done: bool,
}

impl BodyReader {
    /// Refill the buffer from the stream, waiting for data when `wait`; `false` when nothing
    /// had arrived (only without `wait`). At the end of the body `done` is set instead.
    fn fill(&mut self, wait: bool) -> io::Result<bool> {
        let stream = self.stream.as_ref().expect("stream open until done");
        let read = if wait { stream.blocking_read(READ_CHUNK) } else { stream.read(READ_CHUNK) };
        match read {
            Ok(bytes) if bytes.is_empty() && !wait => Ok(false),
            Ok(bytes) => {
                self.buffer = bytes;
                self.position = 0;
                Ok(true)
            }
            Err(StreamError::Closed) => {
                self.done = true;
                Ok(true)
            }
            Err(StreamError::LastOperationFailed(e)) => {
                // Hosts report a body timeout as an error code, or (wasmtime) only in
                // the error's text.
                let detail = match http::http_error_code(&e) {
                    Some(code) => super::failure::describe(&failure(&code), &self.host, self.limits),
                    None => {
                        let text = e.to_debug_string();
                        if text.contains("timeout") || text.contains("timed out") {
                            stalled(self.limits.stall)
                        } else {
                            excerpt(&text, MAX_ECHO)
                        }
                    }
                };
                Err(io::Error::other(format!("{}: response body: {detail}", self.target)))
            }
        }
    }

    /// Hand out what the buffer holds.
    fn take(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.buffer.len() - self.position);
        out[..n].copy_from_slice(&self.buffer[self.position..self.position + n]);
        self.position += n;
        n
    }
}

impl Read for BodyReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.position >= self.buffer.len() {
            if self.done {
                return Ok(0);
            }
            self.fill(true)?;
        }
        Ok(self.take(out))
    }
}

impl BodyRead for BodyReader {
    fn read_now(&mut self, out: &mut [u8]) -> io::Result<Option<usize>> {
        while self.position >= self.buffer.len() {
            if self.done {
                return Ok(Some(0));
            }
            if !self.fill(false)? {
                return Ok(None);
            }
        }
        Ok(Some(self.take(out)))
    }

    fn waiter(&self) -> Option<Waiter> {
        self.stream.as_ref().map(|stream| Waiter { pollable: stream.subscribe() })
    }
}

impl Drop for BodyReader {
    fn drop(&mut self) {
        self.stream.take();
        if let Some(body) = self.body.take() {
            drop(IncomingBody::finish(body));
        }
    }
}

/// A request body written piece by piece without waiting ([`Upload`]). Dropped unfinished,
/// the body is abandoned and the request fails.
struct WasiUpload {
    stream: Option<OutputStream>,
    body: Option<OutgoingBody>,
    future: Option<http::FutureIncomingResponse>,
    /// `METHOD url`, for messages.
    target: String,
    host: String,
    timeouts: Timeouts,
}

impl Upload for WasiUpload {
    fn write_now(&mut self, bytes: &[u8]) -> Result<usize, TransportError> {
        let fail = |e| TransportError(format!("{}: sending body: {}", self.target, stream_error(e)));
        let stream = self.stream.as_ref().expect("stream open until finished");
        let permitted = stream.check_write().map_err(fail)?;
        let n = usize::try_from(permitted).unwrap_or(usize::MAX).min(bytes.len());
        if n > 0 {
            stream.write(&bytes[..n]).map_err(fail)?;
        }
        Ok(n)
    }

    fn waiter(&self) -> Option<Waiter> {
        self.stream.as_ref().map(|stream| Waiter { pollable: stream.subscribe() })
    }

    fn finish(mut self: Box<Self>) -> Result<Response, TransportError> {
        let stream = self.stream.take().expect("stream open until finished");
        let flushed = flush(&stream, self.timeouts.stall());
        drop(stream);
        let body = self.body.take().expect("body open until finished");
        let finished = OutgoingBody::finish(body, None).map_err(|e| describe(&e, &self.host, &self.timeouts));
        let future = self.future.take().expect("response pending until finished");
        finish(Started {
            future,
            target: std::mem::take(&mut self.target),
            host: std::mem::take(&mut self.host),
            timeouts: self.timeouts,
            sent: flushed.and(finished),
        })
    }
}

impl Drop for WasiUpload {
    fn drop(&mut self) {
        // The stream goes before its body, and the body before the request's future.
        self.stream.take();
        self.body.take();
        self.future.take();
    }
}
