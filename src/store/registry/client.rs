//! The registry client: base URL and scheme policy (plain HTTP only for
//! loopback and hosts named insecure), sending requests, following redirects
//! without leaking `Authorization` to other hosts, and mapping unexpected
//! statuses to typed errors. Authentication plugs in here.

use crate::error::{Error, Result};
use crate::http::{Method, Request, Response, Scheme, Transport, Url};
use crate::reference::RegistryReference;

use super::errors;

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 5;
/// Error bodies read at most this much.
const ERROR_BODY_MAX: u64 = 64 * 1024;

/// Talks to one registry.
pub struct RegistryClient {
    transport: Box<dyn Transport>,
    registry: String,
    scheme: Scheme,
    api_host: String,
}

impl RegistryClient {
    /// A client for the registry of `reference`. `insecure` lists hosts
    /// (`host` or `host:port`) reached over plain HTTP; loopback always is.
    pub fn new(
        transport: Box<dyn Transport>,
        reference: &RegistryReference,
        insecure: &[String],
    ) -> Self {
        let named_insecure = insecure.iter().any(|h| {
            h.eq_ignore_ascii_case(&reference.registry)
                || h.eq_ignore_ascii_case(reference.hostname())
        });
        let scheme = if reference.is_loopback() || named_insecure {
            Scheme::Http
        } else {
            Scheme::Https
        };
        RegistryClient {
            transport,
            registry: reference.registry.clone(),
            scheme,
            api_host: reference.api_host().to_string(),
        }
    }

    /// The registry's name (`host[:port]`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// An absolute URL on this registry.
    pub fn url(&self, path_and_query: &str) -> Url {
        Url::new(self.scheme, self.api_host.clone(), path_and_query)
    }

    /// Send one request.
    pub fn send(&self, request: Request<'_>) -> Result<Response> {
        let target = format!("{} {}", request.method.as_str(), request.url);
        self.transport.send(request).map_err(|e| Error::Transport {
            target: self.registry.clone(),
            detail: if e.0.starts_with(&target) {
                e.0
            } else {
                format!("{target}: {}", e.0)
            },
        })
    }

    /// Send a bodiless request, following redirects (blob downloads may be
    /// sent to object storage). Headers named `authorization` are dropped when
    /// a redirect leaves the registry's host.
    pub fn send_following_redirects(
        &self,
        method: Method,
        url: Url,
        headers: &[(&str, String)],
    ) -> Result<Response> {
        let mut url = url;
        for _ in 0..=MAX_REDIRECTS {
            let same_host = url.authority.eq_ignore_ascii_case(&self.api_host);
            let mut request = Request::new(method, url.clone());
            for (name, value) in headers {
                if same_host || !name.eq_ignore_ascii_case("authorization") {
                    request = request.header(name, value.clone());
                }
            }
            let response = self.send(request)?;
            if matches!(response.status, 301 | 302 | 303 | 307 | 308) {
                let location = response.header("location").ok_or_else(|| Error::Registry {
                    registry: self.registry.clone(),
                    action: format!("{} {}", method.as_str(), url.path_and_query),
                    subject: String::new(),
                    status: response.status,
                    code: None,
                    message: Some("redirect without Location header".into()),
                })?;
                url = url.join(location).ok_or_else(|| Error::Transport {
                    target: self.registry.clone(),
                    detail: format!("unusable redirect location {location:?}"),
                })?;
                continue;
            }
            return Ok(response);
        }
        Err(Error::Transport {
            target: self.registry.clone(),
            detail: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    /// Turn an unexpected response into an error naming the action and subject.
    pub fn unexpected(&self, mut response: Response, action: &str, subject: &str) -> Error {
        let body = response.read_body(ERROR_BODY_MAX).unwrap_or_default();
        errors::from_response(&self.registry, response.status, &body, action, subject)
    }
}
