//! Words for the ways a request fails below HTTP: the cases of `wasi:http`'s
//! `error-code`, each said in one line that names the host, with the advice that
//! fits. `http::wasi` maps the host's codes onto [`Failure`]; the words live here,
//! apart from the WASI bindings, so they are tested natively. Values the host
//! passes on (a DNS rcode, a TLS alert, a header name, a message) are echoed
//! through [`excerpt`].

use std::time::Duration;

use super::timeouts::TIMEOUT_VAR;
use crate::error::{MAX_ECHO, excerpt};

/// A request failure, as `wasi:http` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    DnsTimeout,
    DnsError {
        rcode: Option<String>,
    },
    DestinationNotFound,
    DestinationUnavailable,
    DestinationIpProhibited,
    DestinationIpUnroutable,
    ConnectionRefused,
    ConnectionTerminated,
    ConnectionTimeout,
    ConnectionReadTimeout,
    ConnectionWriteTimeout,
    ConnectionLimitReached,
    TlsProtocolError,
    TlsCertificateError,
    TlsAlertReceived {
        alert: Option<String>,
    },
    RequestDenied,
    RequestLengthRequired,
    RequestBodySize,
    RequestMethodInvalid,
    RequestUriInvalid,
    RequestUriTooLong,
    /// The request's header or trailer section, or one field (`field`), is too large.
    RequestHeadersTooLarge {
        field: Option<String>,
    },
    ResponseIncomplete,
    /// The response's header or trailer section, or one field (`field`), is too large.
    ResponseHeadersTooLarge {
        field: Option<String>,
    },
    ResponseBodySize,
    ResponseTransferCoding {
        coding: Option<String>,
    },
    ResponseContentCoding {
        coding: Option<String>,
    },
    ResponseTimeout,
    UpgradeFailed,
    ProtocolError,
    LoopDetected,
    ConfigurationError,
    Internal {
        message: Option<String>,
    },
}

/// How long the request was allowed to take, for the words of a timeout.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub connect: Duration,
    /// How long a registry may send nothing.
    pub stall: Duration,
}

/// `failure` in words, on one line; `host` is the registry's `host[:port]`.
pub fn describe(failure: &Failure, host: &str, limits: Limits) -> String {
    let echo = |value: &Option<String>| value.as_deref().map(|v| format!(" ({})", excerpt(v, MAX_ECHO)));
    let echoed = |value: &Option<String>| echo(value).unwrap_or_default();
    match failure {
        Failure::DnsTimeout => format!("DNS lookup for {host} timed out"),
        Failure::DnsError { rcode } => format!("DNS lookup failed for {host}{}", echoed(rcode)),
        Failure::DestinationNotFound => format!("DNS lookup failed for {host}: no such host"),
        Failure::DestinationUnavailable => format!("{host} is unavailable"),
        Failure::DestinationIpProhibited => {
            format!("the address of {host} is one the host's network policy prohibits")
        }
        Failure::DestinationIpUnroutable => format!("no route to {host}"),
        Failure::ConnectionRefused => {
            format!("connection refused by {host} (is the registry running and the port right?)")
        }
        Failure::ConnectionTerminated => format!("the registry {host} closed the connection"),
        Failure::ConnectionTimeout => format!("no connection to {host} within {} s", limits.connect.as_secs()),
        Failure::ConnectionReadTimeout | Failure::ResponseTimeout => stalled(limits.stall),
        Failure::ConnectionWriteTimeout => format!(
            "the registry {host} took none of the request for {} s; {TIMEOUT_VAR}=SECONDS waits longer",
            limits.stall.as_secs()
        ),
        Failure::ConnectionLimitReached => format!("too many connections open to {host}"),
        Failure::TlsProtocolError => {
            format!("TLS handshake with {host} failed (a plain-HTTP registry? pass --insecure)")
        }
        Failure::TlsAlertReceived { alert } => format!(
            "TLS handshake with {host} failed: it sent an alert{} (a plain-HTTP registry? pass --insecure)",
            echoed(alert)
        ),
        Failure::TlsCertificateError => {
            format!("TLS certificate not valid for {host} (untrusted, expired or issued for another name)")
        }
        Failure::RequestDenied => format!("a request to {host} was denied by the host's outbound policy"),
        Failure::RequestLengthRequired => format!("the registry {host} wants a Content-Length the request lacked"),
        Failure::RequestBodySize => format!("the registry {host} refused the request body as too large"),
        Failure::RequestMethodInvalid => "the request method is not valid".into(),
        Failure::RequestUriInvalid => format!("the request URL for {host} is not valid"),
        Failure::RequestUriTooLong => format!("the request URL for {host} is too long"),
        Failure::RequestHeadersTooLarge { field } => {
            format!("the request's headers are too large for {host}{}", echoed(field))
        }
        Failure::ResponseIncomplete => {
            format!("the registry {host} closed the connection before its response was complete")
        }
        Failure::ResponseHeadersTooLarge { field } => {
            format!("the response headers from {host} are too large{}", echoed(field))
        }
        Failure::ResponseBodySize => format!("the response body from {host} is too large"),
        Failure::ResponseTransferCoding { coding } => {
            format!("the response from {host} uses a transfer coding the host cannot read{}", echoed(coding))
        }
        Failure::ResponseContentCoding { coding } => {
            format!("the response from {host} uses a content coding the host cannot read{}", echoed(coding))
        }
        Failure::UpgradeFailed => format!("the HTTP upgrade with {host} failed"),
        Failure::ProtocolError => {
            format!("the registry {host} closed the connection or broke the HTTP protocol before answering in full")
        }
        Failure::LoopDetected => format!("the request to {host} loops"),
        Failure::ConfigurationError => "the host's HTTP client is misconfigured".into(),
        Failure::Internal { message: Some(message) } => {
            format!("the host's HTTP client failed: {}", excerpt(message, MAX_ECHO))
        }
        Failure::Internal { message: None } => "the host's HTTP client failed".into(),
    }
}

/// The message for a registry that stopped sending.
/// The words for a registry that stopped taking a request body for `stall`.
pub fn stopped_taking(stall: Duration) -> String {
    format!("the registry took nothing more of the body for {} s; {TIMEOUT_VAR}=SECONDS waits longer", stall.as_secs())
}

pub fn stalled(stall: Duration) -> String {
    format!("the registry sent nothing for {} s; {TIMEOUT_VAR}=SECONDS waits longer", stall.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits { connect: Duration::from_secs(30), stall: Duration::from_secs(120) };

    fn words(failure: Failure) -> String {
        describe(&failure, "r.example:5000", LIMITS)
    }

    #[test]
    fn each_failure_is_one_line_of_words_naming_the_host() {
        assert_eq!(
            words(Failure::ProtocolError),
            "the registry r.example:5000 closed the connection or broke the HTTP protocol before answering in full"
        );
        assert_eq!(
            words(Failure::TlsCertificateError),
            "TLS certificate not valid for r.example:5000 (untrusted, expired or issued for another name)"
        );
        assert_eq!(
            words(Failure::DnsError { rcode: Some("NXDOMAIN".into()) }),
            "DNS lookup failed for r.example:5000 (NXDOMAIN)"
        );
        assert_eq!(words(Failure::DnsError { rcode: None }), "DNS lookup failed for r.example:5000");
        assert_eq!(
            words(Failure::ConnectionRefused),
            "connection refused by r.example:5000 (is the registry running and the port right?)"
        );
        assert_eq!(words(Failure::ConnectionTerminated), "the registry r.example:5000 closed the connection");
        assert_eq!(words(Failure::ConnectionTimeout), "no connection to r.example:5000 within 30 s");
        assert!(words(Failure::ResponseTimeout).starts_with("the registry sent nothing for 120 s"));
        let all = [
            Failure::DnsTimeout,
            Failure::DestinationNotFound,
            Failure::DestinationUnavailable,
            Failure::DestinationIpProhibited,
            Failure::DestinationIpUnroutable,
            Failure::ConnectionReadTimeout,
            Failure::ConnectionWriteTimeout,
            Failure::ConnectionLimitReached,
            Failure::TlsProtocolError,
            Failure::TlsAlertReceived { alert: Some("handshake_failure".into()) },
            Failure::RequestDenied,
            Failure::RequestLengthRequired,
            Failure::RequestBodySize,
            Failure::RequestMethodInvalid,
            Failure::RequestUriInvalid,
            Failure::RequestUriTooLong,
            Failure::RequestHeadersTooLarge { field: None },
            Failure::ResponseIncomplete,
            Failure::ResponseHeadersTooLarge { field: Some("x-big".into()) },
            Failure::ResponseBodySize,
            Failure::ResponseTransferCoding { coding: Some("weird".into()) },
            Failure::ResponseContentCoding { coding: None },
            Failure::UpgradeFailed,
            Failure::LoopDetected,
            Failure::ConfigurationError,
            Failure::Internal { message: None },
        ];
        for failure in all {
            let text = words(failure.clone());
            assert!(!text.contains('\n') && !text.contains('{') && !text.contains("Some("), "{failure:?}: {text}");
        }
    }

    #[test]
    fn values_from_the_host_are_cut_to_one_short_line() {
        let message = format!("first\nsecond {}", "x".repeat(5000));
        let text = words(Failure::Internal { message: Some(message) });
        assert!(text.starts_with("the host's HTTP client failed: first second x"), "{text}");
        assert!(!text.contains('\n') && text.len() < 400, "{text}");
    }
}
