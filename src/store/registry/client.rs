//! The registry client: base URL and scheme policy (plain HTTP only for
//! loopback and hosts named insecure), authentication through an
//! [`auth::Session`](crate::auth::Session), retries of replayable requests,
//! redirects without leaking `Authorization` to other hosts, and typed errors
//! for unexpected statuses.

use crate::auth::{Access, Credential, Session};
use crate::error::{Error, Result};
use crate::http::{Method, Request, Response, Scheme, Transport, Upload, Url};
use crate::reference::RegistryReference;

use super::errors;
use super::retry::{Attempts, RetryPolicy, is_retryable_status};

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 5;
/// Error bodies read at most this much.
const ERROR_BODY_MAX: u64 = 64 * 1024;

/// How to reach a registry.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Hosts (`host` or `host:port`) reached over plain HTTP; loopback always is.
    pub insecure: Vec<String>,
    /// What to present when the registry asks.
    pub credential: Option<Credential>,
    /// Where a mirror configuration puts the API (scheme, root, `?ns=`); `None`: as usual.
    pub endpoint: Option<EndpointOptions>,
}

/// How a configured endpoint (a mirror, or an upstream a `hosts.toml` names) is reached.
#[derive(Debug, Clone, Default)]
pub struct EndpointOptions {
    /// The scheme its URL names; `None`: the usual policy (HTTPS unless loopback or insecure).
    pub scheme: Option<Scheme>,
    /// What replaces `/v2` in request paths.
    pub api_root: String,
    /// The original registry, sent as `?ns=` on every request.
    pub namespace: Option<String>,
    /// One attempt per request: a mirror that fails is passed over, the next source is
    /// the retry.
    pub single_attempt: bool,
}

/// Talks to one repository of one registry.
pub struct RegistryClient {
    transport: Box<dyn Transport>,
    registry: String,
    scheme: Scheme,
    api_host: String,
    session: Session,
    retry: RetryPolicy,
    /// `/v2`, or a mirror's API root.
    api_root: Option<String>,
    /// `?ns=` for a mirror.
    namespace: Option<String>,
}

impl RegistryClient {
    /// A client for the repository of `reference`, for `access`.
    pub fn new(
        transport: Box<dyn Transport>,
        reference: &RegistryReference,
        access: Access,
        options: ClientOptions,
    ) -> Self {
        let named_insecure = options
            .insecure
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&reference.registry) || h.eq_ignore_ascii_case(reference.hostname()));
        let mut scheme = if reference.is_loopback() || named_insecure { Scheme::Http } else { Scheme::Https };
        let session =
            Session::new(&reference.registry, &reference.repository, access, options.credential, options.insecure);
        let endpoint = options.endpoint.unwrap_or_default();
        scheme = endpoint.scheme.unwrap_or(scheme);
        let api_root = Some(endpoint.api_root).filter(|root| !root.is_empty() && root != "/v2");
        RegistryClient {
            transport,
            registry: reference.registry.clone(),
            scheme,
            api_host: reference.api_host().to_string(),
            session,
            retry: if endpoint.single_attempt { RetryPolicy::single_attempt() } else { RetryPolicy::default() },
            api_root,
            namespace: endpoint.namespace,
        }
    }

    /// The registry's name (`host[:port]`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// An absolute URL on this registry.
    pub fn url(&self, path_and_query: &str) -> Url {
        let path = match (&self.api_root, path_and_query.strip_prefix("/v2")) {
            (Some(root), Some(rest)) => format!("{root}{rest}"),
            _ => path_and_query.to_string(),
        };
        let url = Url::new(self.scheme, self.api_host.clone(), path);
        match &self.namespace {
            Some(namespace) => url.with_query("ns", &crate::auth::percent_encode(namespace)),
            None => url,
        }
    }

    fn send_raw(&self, request: Request<'_>) -> Result<Response> {
        let target = format!("{} {}", request.method.as_str(), redact_query(&request.url));
        self.transport.send(request).map_err(|e| Error::Transport {
            target: self.registry.clone(),
            detail: if e.0.starts_with(request_prefix(&target)) { e.0 } else { format!("{target}: {}", e.0) },
        })
    }

    /// Send a request that can be rebuilt (no streamed body): with
    /// authorization, re-authenticating once on a 401, and retrying
    /// connection errors, 429 and 5xx with backoff.
    pub fn send<'a>(&self, make: &dyn Fn() -> Request<'a>) -> Result<Response> {
        self.send_retrying(make, true)
    }

    /// [`send`](Self::send), or with `authenticate` off a plain send with
    /// retries and no credentials (for hosts outside the registry).
    fn send_retrying<'a>(&self, make: &dyn Fn() -> Request<'a>, authenticate: bool) -> Result<Response> {
        let mut attempts = Attempts::new(self.retry);
        let mut reauthenticated = false;
        loop {
            let mut request = make();
            if authenticate && let Some(authorization) = self.session.authorization(self.transport.as_ref())? {
                request = request.header("authorization", authorization);
            }
            attempts.begin();
            match self.send_raw(request) {
                Ok(response) if authenticate && response.status == 401 && !reauthenticated => {
                    self.session.on_unauthorized(self.transport.as_ref(), response.header("www-authenticate"))?;
                    reauthenticated = true;
                }
                Ok(response) if authenticate && response.status == 401 => {
                    let target = make();
                    let subject = format!("{} {}", target.method.as_str(), redact_query(&target.url));
                    return Err(self.session.refused_again(&subject));
                }
                Ok(response) if is_retryable_status(response.status) => {
                    if !attempts.wait_for_retry(response.header("retry-after")) {
                        return Ok(response);
                    }
                }
                Ok(response) => return Ok(response),
                Err(e) if matches!(e, Error::Transport { .. }) => {
                    if !attempts.wait_for_retry(None) {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Start a bodiless request that [`send`](Self::send) or
    /// [`send_following_redirects`](Self::send_following_redirects) will make next
    /// (`make` builds it as they do), with the authorization they would present, so that
    /// several travel at once. Without authorization at hand (it would take a token
    /// request) nothing is started.
    pub fn prefetch(&self, make: &dyn Fn() -> Request<'static>) {
        let mut request = make();
        match self.session.authorization_at_hand() {
            Some(Some(authorization)) => request = request.header("authorization", authorization),
            Some(None) => {}
            None => return,
        }
        self.transport.prefetch(request);
    }

    /// The request [`send_following_redirects`](Self::send_following_redirects) sends first.
    pub fn bodiless(method: Method, url: Url, accept: Option<&str>) -> Request<'static> {
        let request = Request::new(method, url);
        match accept {
            Some(accept) => request.header("accept", accept),
            None => request,
        }
    }

    /// Send a request whose body streams (and so cannot be replayed here),
    /// with the current authorization. A 401 renews authorization before the
    /// response is returned, so the caller's retry of the whole operation
    /// will present fresh credentials.
    pub fn send_streaming(&self, mut request: Request<'_>) -> Result<Response> {
        if let Some(authorization) = self.session.authorization(self.transport.as_ref())? {
            request = request.header("authorization", authorization);
        }
        let response = self.send_raw(request)?;
        if response.status == 401 {
            self.session.on_unauthorized(self.transport.as_ref(), response.header("www-authenticate"))?;
        }
        Ok(response)
    }

    /// Send the head of an upload of `length` bytes with the current authorization, its
    /// body to be written without waiting ([`Upload`]); `None` from a transport that cannot.
    pub fn start_upload(&self, mut request: Request<'_>, length: u64) -> Result<Option<Box<dyn Upload>>> {
        if let Some(authorization) = self.session.authorization(self.transport.as_ref())? {
            request = request.header("authorization", authorization);
        }
        let target = format!("{} {}", request.method.as_str(), redact_query(&request.url));
        self.transport.start_upload(request, length).map_err(|e| Error::Transport {
            target: self.registry.clone(),
            detail: if e.0.starts_with(request_prefix(&target)) { e.0 } else { format!("{target}: {}", e.0) },
        })
    }

    /// Send a bodiless request through [`send`](Self::send), then follow
    /// redirects (blob downloads may be sent to object storage). Requests to
    /// another host carry no `Authorization`.
    pub fn send_following_redirects(&self, method: Method, url: Url, accept: Option<&str>) -> Result<Response> {
        let build = |url: &Url| Self::bodiless(method, url.clone(), accept);
        let mut response = self.send(&|| build(&url))?;
        let mut current = url.clone();
        for _ in 0..MAX_REDIRECTS {
            if !matches!(response.status, 301 | 302 | 303 | 307 | 308) {
                return Ok(response);
            }
            let location = response.header("location").ok_or_else(|| Error::Registry {
                registry: self.registry.clone(),
                action: format!("{} {}", method.as_str(), current.path_and_query),
                subject: String::new(),
                status: response.status,
                code: None,
                message: Some("redirect without Location header".into()),
            })?;
            let next = current.join(location).ok_or_else(|| Error::Transport {
                target: self.registry.clone(),
                detail: format!(
                    "unusable redirect location {:?}",
                    crate::error::excerpt(&crate::http::scrub_userinfo(location), crate::error::MAX_ECHO)
                ),
            })?;
            current = next;
            response = if current.authority.eq_ignore_ascii_case(&self.api_host) && current.scheme == self.scheme {
                let target = current.clone();
                self.send(&|| build(&target))?
            } else {
                let target = current.clone();
                self.send_retrying(&|| build(&target), false)?
            };
        }
        if matches!(response.status, 301 | 302 | 303 | 307 | 308) {
            return Err(Error::Transport {
                target: self.registry.clone(),
                detail: format!("more than {MAX_REDIRECTS} redirects"),
            });
        }
        Ok(response)
    }

    /// Turn an unexpected response into an error naming the action and subject.
    pub fn unexpected(&self, mut response: Response, action: &str, subject: &str) -> Error {
        let body = response.read_body(ERROR_BODY_MAX).unwrap_or_default();
        let body = self.scrub(&body);
        errors::from_response(&self.registry, response.status, &body, action, subject)
    }

    /// Registry text with every secret we could have sent replaced by `***`
    /// (some registries echo the `Authorization` header in errors).
    pub(super) fn scrub(&self, body: &[u8]) -> Vec<u8> {
        let mut text = String::from_utf8_lossy(body).into_owned();
        for secret in self.session.secrets() {
            text = text.replace(&secret, "***");
        }
        text.into_bytes()
    }

    /// The retry policy (uploads retry whole sessions with it).
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }
}

fn request_prefix(target: &str) -> &str {
    target.split('?').next().unwrap_or(target)
}

/// A URL for messages: the query may carry upload state or signed storage
/// parameters, so it is left out.
pub fn redact_query(url: &Url) -> String {
    let mut shown = url.clone();
    if let Some((path, _)) = shown.path_and_query.split_once('?') {
        shown.path_and_query = format!("{path}?…");
    }
    shown.to_string()
}
