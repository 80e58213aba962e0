//! Policy for the guest's outgoing HTTP requests (`wasi:http/outgoing-handler`), all in the
//! host's `WasiHttpHooks::send_request` — the one place requests leave the sandbox:
//! - the command's plan names the registries it contacts: a request to any other endpoint
//!   is refused (`HttpRequestDenied`; the packager reports "request denied by the host's
//!   outbound policy"), unless the plan needs registries it finds while running (WIT
//!   registry discovery);
//! - with `--allow-host`, a request to an endpoint off that list ([`allow`]) is refused too,
//!   with one line on stderr saying how to allow it; responses of allowed hosts teach each
//!   list their token realms and redirect targets;
//! - every request is sent by the runner's own client ([`client`]), whose TLS trusts extra
//!   CA certificates and can skip verification for named registries ([`tls`]).

mod allow;
mod client;
mod endpoint;
mod pool;
#[cfg(test)]
mod tests;
mod tls;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

pub use allow::AllowList;
pub use endpoint::Endpoint;
pub use tls::{CA_CERTS_VAR, Tls, ca_files};

/// Docker Hub's registry name and the host that serves its API.
const DOCKER_HUB: (&str, &str) = ("docker.io", "registry-1.docker.io");

/// The future [`WasiHttpHooks::send_request`] returns.
type SendFuture = Box<dyn Future<Output = Result<(http::Response<WasiBody>, client::ConnectionTask), Error>> + Send>;

/// Which outgoing requests the guest may make, and how they are sent.
pub struct OutboundPolicy {
    /// The plan's registries; `None`: the plan does not restrict.
    plan: Option<Arc<Mutex<AllowList>>>,
    /// `None`: every endpoint is allowed (no `--allow-host`).
    allow: Option<Arc<Mutex<AllowList>>>,
    /// `None` only when every request is refused anyway ([`OutboundPolicy::deny_all`]).
    tls: Option<Arc<Tls>>,
    /// Lines already printed on stderr (each refusal or hint is said once).
    said: Arc<Mutex<BTreeSet<String>>>,
    /// Say on stderr which endpoints the allow list learns (`WASMSHIP_DEBUG`).
    debug: bool,
    /// Connections kept for the next request to the same endpoint.
    pool: Arc<pool::Pool>,
}

impl OutboundPolicy {
    /// Requests restricted to `allow` (if any), sent with `tls`.
    pub fn new(allow: Option<AllowList>, tls: Tls) -> Self {
        let allow = allow.map(|a| Arc::new(Mutex::new(a)));
        Self { plan: None, allow, tls: Some(Arc::new(tls)), said: Arc::default(), debug: false, pool: Arc::default() }
    }

    /// No request goes out (planning needs no network).
    pub fn deny_all() -> Self {
        let plan = Some(Arc::new(Mutex::new(AllowList::default())));
        Self { plan, allow: None, tls: None, said: Arc::default(), debug: false, pool: Arc::default() }
    }

    /// Restricts requests to the `registries` the plan names (`host[:port]`), or to none;
    /// `None` leaves them unrestricted by the plan.
    pub fn with_plan(mut self, registries: Option<&[String]>) -> Result<Self> {
        self.plan = match registries {
            Some(names) => Some(Arc::new(Mutex::new(AllowList::new(names)?))),
            None => None,
        };
        Ok(self)
    }

    /// The policy the runner's flags ask for: `--allow-host` values (none: no restriction),
    /// CA files to trust, and the registries (`host[:port]`) whose certificates are not
    /// verified (`--insecure-skip-tls-verify`; a warning on stderr says so). With `debug`,
    /// endpoints the allow list learns are named on stderr.
    pub fn from_flags(
        allow_hosts: &[String],
        ca_files: &[PathBuf],
        skip_verify: &[String],
        registry_cas: &[(String, Vec<PathBuf>)],
        debug: bool,
    ) -> Result<Self> {
        let allow = if allow_hosts.is_empty() { None } else { Some(AllowList::new(allow_hosts)?) };
        let skip_verify: Vec<Endpoint> = skip_verify.iter().filter_map(|r| registry_endpoint(r)).collect();
        let endpoint_cas: Vec<(Endpoint, Vec<PathBuf>)> = registry_cas
            .iter()
            .filter_map(|(registry, files)| Some((registry_endpoint(registry)?, files.clone())))
            .collect();
        let tls = Tls::with_endpoint_cas(ca_files, skip_verify.clone(), &endpoint_cas)?;
        if !skip_verify.is_empty() {
            let names: Vec<String> = skip_verify.iter().map(Endpoint::to_string).collect();
            eprintln!(
                "warning: TLS certificates of {} are not verified (--insecure-skip-tls-verify, or skip_verify in hosts.toml)",
                names.join(", ")
            );
        }
        Ok(Self { debug, ..Self::new(allow, tls) })
    }
}

/// The HTTPS endpoint of a registry name (`docker.io` is served by `registry-1.docker.io`).
fn registry_endpoint(registry: &str) -> Option<Endpoint> {
    let (host, port) = endpoint::parse_host_port(registry)?;
    let host = if host == DOCKER_HUB.0 { DOCKER_HUB.1.to_owned() } else { host };
    Some(Endpoint { host, port: port.unwrap_or(443) })
}

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_done: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        let Some(endpoint) = Endpoint::of(request.uri()) else {
            return Box::new(async { Err(Error::HttpRequestUriInvalid) });
        };
        if let Some(plan) = &self.plan
            && !lock(plan).permits(&endpoint)
        {
            let host = allow_value(&endpoint);
            say_once(
                &self.said,
                format!(
                    "wasmship: refused a request to {endpoint}: the command names no such registry \
                     (it may reach only its registries, their token realms and redirect targets; \
                     a --component without a plan reaches the hosts of `--allow-host {host}`)"
                ),
            );
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        if let Some(allow) = &self.allow
            && !lock(allow).permits(&endpoint)
        {
            let host = allow_value(&endpoint);
            say_once(
                &self.said,
                format!(
                    "wasmship: refused a request to {endpoint}: it is not an allowed host; \
                     to allow it, add `--allow-host {host}` before the command"
                ),
            );
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }

        let lists: Vec<_> = self.plan.iter().chain(&self.allow).cloned().collect();
        let Some(tls) = self.tls.clone() else {
            return Box::new(async { Err(Error::HttpRequestDenied) });
        };
        let said = self.said.clone();
        let debug = self.debug;
        let pool = self.pool.clone();
        Box::new(async move {
            let (response, task) = match client::send(request, options, &tls, &pool).await {
                Ok(sent) => sent,
                Err(Error::Tls(error)) if tls::is_certificate_error(&error) => {
                    say_once(
                        &said,
                        format!(
                            "wasmship: the TLS certificate of {endpoint} is not trusted ({error}); \
                             trust its CA with `--ca-cert FILE`, or pass --insecure-skip-tls-verify"
                        ),
                    );
                    return Err(Error::TlsCertificateError);
                }
                Err(error) => return Err(error),
            };
            for list in lists {
                if let Some(learned) = lock(&list).learn(&endpoint, response.status(), response.headers())
                    && debug
                {
                    eprintln!(
                        "wasmship: allowing {learned}, where {endpoint} sends clients (status {})",
                        response.status()
                    );
                }
            }
            Ok((response, task))
        })
    }
}

/// What to pass to `--allow-host` for `endpoint`: the host alone on its scheme's usual
/// ports, else `host:port`.
fn allow_value(endpoint: &Endpoint) -> String {
    match endpoint.port {
        80 | 443 => endpoint.host.clone(),
        _ => endpoint.to_string(),
    }
}

fn say_once(said: &Mutex<BTreeSet<String>>, line: String) {
    if lock(said).insert(line.clone()) {
        eprintln!("{line}");
    }
}

/// The policy's state stays usable even if a request task panicked while holding it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
