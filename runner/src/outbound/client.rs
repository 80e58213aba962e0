//! Sends one HTTP/1.1 request on a kept connection ([`Pool`]) or a new one: TCP, TLS for
//! `https` (with the trust of [`Tls`]), hyper's client connection, and the timeouts the guest
//! set in its request options — connect (TCP and TLS handshake), first byte (until the
//! response head), and between bytes (each gap in the response body). Unset timeouts default
//! to 600 s.

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
use super::pool::Pool;
use super::tls::Tls;

/// A timeout the guest left unset.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// What finishes the connection's work after the response head: wasmtime runs it while the
/// guest reads the body.
pub type ConnectionTask = Box<dyn Future<Output = Result<(), Error>> + Send>;

/// A byte stream a request can be written to: plain TCP or TLS over it.
trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// Sends `request` (an absolute URI; `Host` already set) on a connection of `pool` (bodiless
/// requests only), or on a new one kept there afterwards, and returns the response head with
/// its body streaming. A request that finds its kept connection closed by the server goes
/// once more on a new connection.
pub async fn send(
    mut request: Request<WasiBody>,
    options: Option<RequestOptions>,
    tls: &Tls,
    pool: &Pool,
) -> Result<(Response<WasiBody>, ConnectionTask), Error> {
    let limit =
        |pick: fn(&RequestOptions) -> Option<Duration>| options.as_ref().and_then(pick).unwrap_or(DEFAULT_TIMEOUT);
    let connect_timeout = limit(|o| o.connect_timeout);
    let first_byte_timeout = limit(|o| o.first_byte_timeout);
    let between_bytes_timeout = limit(|o| o.between_bytes_timeout);

    let endpoint = Endpoint::of(request.uri()).ok_or(Error::HttpRequestUriInvalid)?;
    let use_tls = request.uri().scheme() == Some(&Scheme::HTTPS);
    // On the wire the request line carries only the path (and query).
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    *request.uri_mut() = Uri::try_from(path).map_err(|_| Error::HttpRequestUriInvalid)?;
    let replay = request.body().is_end_stream().then(|| bodiless_copy(&request));

    let open = || async {
        let stream = tokio::time::timeout(connect_timeout, connect(&endpoint, use_tls, tls))
            .await
            .map_err(|_| Error::ConnectionTimeout)??;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        // The connection lives on its own task as long as it is open (in the pool too).
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok::<_, Error>(sender)
    };
    // Only a bodiless request goes on a kept connection: should the server have closed it
    // meanwhile, such a request can go again on a new one; a body cannot be read twice.
    let kept = if replay.is_some() { pool.take(use_tls, &endpoint) } else { None };
    let (mut sender, reused) = match kept {
        Some(sender) => (sender, true),
        None => (open().await?, false),
    };
    let sent = tokio::time::timeout(first_byte_timeout, sender.try_send_request(request))
        .await
        .map_err(|_| Error::ConnectionReadTimeout)?;
    let response = match sent {
        Ok(response) => response,
        Err(mut failed) if reused => {
            // A kept connection the server had closed: once more on a new one.
            let Some(again) = failed.take_message().or(replay) else { return Err(failed.into_error().into()) };
            sender = open().await?;
            tokio::time::timeout(first_byte_timeout, sender.send_request(again))
                .await
                .map_err(|_| Error::ConnectionReadTimeout)??
        }
        Err(failed) => return Err(failed.into_error().into()),
    };
    pool.keep(use_tls, &endpoint, sender);
    let response = response.map(|body| GapTimeoutBody::new(body, between_bytes_timeout).boxed_unsync());
    // The connection's task is its own (see `open`): nothing is left for wasmtime to run.
    let task: ConnectionTask = Box::new(async { Ok(()) });
    Ok((response, task))
}

/// A request with the method, URI and headers of `request` and no body.
fn bodiless_copy(request: &Request<WasiBody>) -> Request<WasiBody> {
    let body = http_body_util::Empty::new().map_err(|never| match never {}).boxed_unsync();
    let mut copy = Request::new(body);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.headers_mut() = request.headers().clone();
    copy
}

/// Opens TCP to `endpoint`, with TLS on top when `use_tls`.
async fn connect(endpoint: &Endpoint, use_tls: bool, tls: &Tls) -> Result<Box<dyn Stream>, Error> {
    let tcp = TcpStream::connect((endpoint.bare_host(), endpoint.port)).await.map_err(Error::Connect)?;
    // Without it, a request written in more than one piece (TLS records, head then body)
    // waits for the server's delayed ACK: about 40 ms per request.
    tcp.set_nodelay(true).map_err(Error::Connect)?;
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
