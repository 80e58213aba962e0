//! The HTTP transport the registry backend speaks through: plain request and
//! response types, URL handling, and the `wasi:http/outgoing-handler`
//! implementation (the only code that touches those bindings), with bounded
//! waits (`timeouts`) and its failures in words (`failure`). Bodies stream both ways; nothing here buffers a whole
//! blob.

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod failure;
pub mod nonblocking;
pub mod timeouts;
mod url;
#[cfg(target_arch = "wasm32")]
mod wasi;

use std::io::Read;

pub use failure::stalled;
pub use nonblocking::{BodyRead, Upload, Waiter};
pub use url::{Scheme, Url, scrub_userinfo};

/// HTTP methods the distribution API needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
}

impl Method {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
        }
    }
}

/// A request body.
pub enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// Exactly `length` bytes read from `reader`.
    Stream {
        reader: &'a mut dyn Read,
        length: u64,
    },
}

impl Body<'_> {
    /// The body's length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Bytes(b) => b.len() as u64,
            Body::Stream { length, .. } => *length,
        }
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An outgoing request.
pub struct Request<'a> {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Body<'a>,
}

impl<'a> Request<'a> {
    /// A request without body or headers.
    pub fn new(method: Method, url: Url) -> Self {
        Request { method, url, headers: Vec::new(), body: Body::Empty }
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Set the body.
    pub fn body(mut self, body: Body<'a>) -> Self {
        self.body = body;
        self
    }
}

/// A response whose body streams from the connection.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Box<dyn BodyRead>,
}

impl Response {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Read up to `limit` bytes of the body (for small JSON bodies and errors).
    pub fn read_body(&mut self, limit: u64) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        (&mut self.body).take(limit).read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}

/// Why a request got no response.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

/// Something that sends HTTP requests.
pub trait Transport {
    /// Send `request` and return the response head, its body still streaming.
    fn send(&self, request: Request<'_>) -> Result<Response, TransportError>;

    /// A bodiless `GET` or `HEAD` the caller is about to [`send`](Self::send): a transport
    /// may start it now, so that several such requests travel at once, and answer the
    /// identical `send` (method, URL and headers) from it. One that does not only ignores it.
    fn prefetch(&self, _request: Request<'static>) {}

    /// Send the head of `request` (whose own body is ignored) announcing a body of `length`
    /// bytes, which the caller then writes through the returned [`Upload`] without waiting, so
    /// that several uploads overlap. `None` from a transport that cannot: send it instead.
    fn start_upload(&self, _request: Request<'_>, _length: u64) -> Result<Option<Box<dyn Upload>>, TransportError> {
        Ok(None)
    }
}

impl Request<'_> {
    /// What identifies a bodiless request for [`Transport::prefetch`]: method, URL and
    /// headers (in memory only; it may hold credentials). `None` for requests with a body.
    pub fn prefetch_key(&self) -> Option<String> {
        if !matches!(self.method, Method::Get | Method::Head) || !matches!(self.body, Body::Empty) {
            return None;
        }
        let mut headers: Vec<String> =
            self.headers.iter().map(|(n, v)| format!("{}: {v}", n.to_ascii_lowercase())).collect();
        headers.sort();
        Some(format!("{} {}\n{}", self.method.as_str(), self.url, headers.join("\n")))
    }
}

/// The transport of this build: `wasi:http` in the component; natively there
/// is none (native builds only run unit tests).
pub fn default_transport() -> Box<dyn Transport> {
    #[cfg(target_arch = "wasm32")]
    {
        Box::new(wasi::WasiHttp::default())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Box::new(Unavailable)
    }
}

#[cfg(not(target_arch = "wasm32"))]
struct Unavailable;

#[cfg(not(target_arch = "wasm32"))]
impl Transport for Unavailable {
    fn send(&self, request: Request<'_>) -> Result<Response, TransportError> {
        Err(TransportError(format!("{}: HTTP is only available in the wasmship component", request.url)))
    }
}
