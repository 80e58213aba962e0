//! Sends one HTTP/1.1 request on a new connection: TCP, TLS for `https` (with the trust of
//! [`Tls`]), hyper's client connection, and the timeouts the guest set in its request
//! options — connect (TCP and TLS handshake), first byte (until the response head), and
//! between bytes (each gap in the response body). Unset timeouts default to 600 s.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::uri::Scheme;
use http::{Request, Response, Uri};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

use super::endpoint::Endpoint;
use super::tls::Tls;

/// A timeout the guest left unset.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// What finishes the connection's work after the response head: wasmtime runs it while the
/// guest reads the body.
pub type ConnectionTask = Box<dyn Future<Output = Result<(), Error>> + Send>;

/// A byte stream a request can be written to: plain TCP or TLS over it.
trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// Sends `request` (an absolute URI; `Host` already set) and returns the response head with
/// its body streaming, and the connection task.
pub async fn send(
    mut request: Request<WasiBody>,
    options: Option<RequestOptions>,
    tls: &Tls,
) -> Result<(Response<WasiBody>, ConnectionTask), Error> {
    let limit =
        |pick: fn(&RequestOptions) -> Option<Duration>| options.as_ref().and_then(pick).unwrap_or(DEFAULT_TIMEOUT);
    let connect_timeout = limit(|o| o.connect_timeout);
    let first_byte_timeout = limit(|o| o.first_byte_timeout);
    let between_bytes_timeout = limit(|o| o.between_bytes_timeout);

    let endpoint = Endpoint::of(request.uri()).ok_or(Error::HttpRequestUriInvalid)?;
    let use_tls = request.uri().scheme() == Some(&Scheme::HTTPS);
    let stream = tokio::time::timeout(connect_timeout, connect(&endpoint, use_tls, tls))
        .await
        .map_err(|_| Error::ConnectionTimeout)??;

    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let connection = wasmtime_wasi::runtime::spawn(connection);

    // On the wire the request line carries only the path (and query).
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    *request.uri_mut() = Uri::try_from(path).map_err(|_| Error::HttpRequestUriInvalid)?;

    let response = tokio::time::timeout(first_byte_timeout, sender.send_request(request))
        .await
        .map_err(|_| Error::ConnectionReadTimeout)??;
    let response = response.map(|body| GapTimeoutBody::new(body, between_bytes_timeout).boxed_unsync());

    let task: ConnectionTask = Box::new(async move {
        connection.await.map_err(|e| if e.is_timeout() { Error::HttpResponseTimeout } else { Error::Hyper(e) })
    });
    Ok((response, task))
}

/// Opens TCP to `endpoint`, with TLS on top when `use_tls`.
async fn connect(endpoint: &Endpoint, use_tls: bool, tls: &Tls) -> Result<Box<dyn Stream>, Error> {
    let tcp = TcpStream::connect((endpoint.bare_host(), endpoint.port)).await.map_err(Error::Connect)?;
    if !use_tls {
        return Ok(Box::new(tcp));
    }
    let server_name = rustls::pki_types::ServerName::try_from(endpoint.bare_host().to_owned())?;
    let connector = tokio_rustls::TlsConnector::from(tls.config_for(endpoint));
    let stream = connector.connect(server_name, tcp).await.map_err(Error::Tls)?;
    Ok(Box::new(stream))
}

/// A response body that fails with `ConnectionReadTimeout` when no data arrives for `gap`.
struct GapTimeoutBody {
    inner: Incoming,
    gap: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl GapTimeoutBody {
    fn new(inner: Incoming, gap: Duration) -> Self {
        Self { inner, gap, deadline: Box::pin(tokio::time::sleep(gap)) }
    }
}

impl Body for GapTimeoutBody {
    type Data = <Incoming as Body>::Data;
    type Error = Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.deadline.as_mut().reset(Instant::now() + this.gap);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                Poll::Ready(Some(Err(if e.is_timeout() { Error::HttpResponseTimeout } else { Error::Hyper(e) })))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Error::ConnectionReadTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
