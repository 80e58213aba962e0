//! The outbound policy and client against local servers: plain HTTP on the wire, the
//! between-bytes timeout, refusals, realm learning, and TLS trust (CA files and skipped
//! verification) with certificates made by the `openssl` command for each test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use super::*;

/// Runs `future` on a runtime like the runner's.
fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

fn get(uri: &str) -> http::Request<WasiBody> {
    let body = Empty::<Bytes>::new().map_err(|never| match never {}).boxed_unsync();
    http::Request::get(uri).header("host", "test").body(body).unwrap()
}

/// Serves `responses.len()` connections on a local port, one request each: records the
/// request head, then writes the canned response (and sleeps after it if asked).
fn serve(responses: Vec<(&'static str, Duration)>) -> (u16, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        responses
            .into_iter()
            .map(|(response, linger)| {
                let (mut stream, _) = listener.accept().unwrap();
                let head = read_head(&mut stream);
                stream.write_all(response.as_bytes()).unwrap();
                std::thread::sleep(linger);
                head
            })
            .collect()
    });
    (port, thread)
}

fn read_head(stream: &mut impl Read) -> String {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    while reader.read_line(&mut head).unwrap() > 2 {}
    head
}

fn allow_all() -> Tls {
    Tls::new(&[], Vec::new()).unwrap()
}

#[test]
fn plain_http_sends_origin_form_and_streams_the_body() {
    let (port, server) = serve(vec![("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello", Duration::ZERO)]);
    let body = block_on(async {
        let (response, _task) =
            client::send(get(&format!("http://127.0.0.1:{port}/v2/x?n=1")), None, &allow_all(), &pool::Pool::default())
                .await
                .unwrap();
        assert_eq!(response.status(), 200);
        response.into_body().collect().await.unwrap().to_bytes()
    });
    assert_eq!(&body[..], b"hello");
    let heads = server.join().unwrap();
    assert!(heads[0].starts_with("GET /v2/x?n=1 HTTP/1.1\r\n"), "{heads:?}");
}

#[test]
fn a_stalled_body_times_out_between_bytes() {
    let stalled = ("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nab", Duration::from_secs(2));
    let (port, server) = serve(vec![stalled]);
    let options = RequestOptions { between_bytes_timeout: Some(Duration::from_millis(100)), ..Default::default() };
    let error = block_on(async {
        let (response, _task) = client::send(
            get(&format!("http://127.0.0.1:{port}/")),
            Some(options),
            &allow_all(),
            &pool::Pool::default(),
        )
        .await
        .unwrap();
        response.into_body().collect().await.unwrap_err()
    });
    assert!(matches!(error, Error::ConnectionReadTimeout), "{error:?}");
    server.join().unwrap();
}

#[test]
fn refused_hosts_get_request_denied_without_a_connection() {
    let mut policy = OutboundPolicy::new(Some(AllowList::new(&["ghcr.io".to_owned()]).unwrap()), allow_all());
    // Nothing listens on port 9 locally: a connection attempt would fail differently.
    let future = policy.send_request(get("http://127.0.0.1:9/v2/"), None, Box::new(async { Ok(()) }));
    let outcome = block_on(Box::into_pin(future));
    assert!(matches!(outcome, Err(Error::HttpRequestDenied)), "{:?}", outcome.err());
    assert_eq!(allow_value(&Endpoint { host: "ghcr.io".into(), port: 443 }), "ghcr.io");
    assert_eq!(allow_value(&Endpoint { host: "127.0.0.1".into(), port: 5000 }), "127.0.0.1:5000");
}

/// A registry on loopback whose one answer is a `401` naming a token realm (also on
/// loopback, answering once), checked through `policy` built for the registry's
/// `host:port`: the realm is refused before the challenge and allowed after it, as is
/// `other` (a URI of another host) never.
fn check_realm_learning(policy: impl FnOnce(String) -> OutboundPolicy, other: Option<&str>) {
    let (realm_port, realm) = serve(vec![("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", Duration::ZERO)]);
    let challenge = format!(
        "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer realm=\"http://127.0.0.1:{realm_port}/token\"\r\n\
         content-length: 0\r\n\r\n"
    );
    let (registry_port, registry) = serve(vec![(challenge.leak(), Duration::ZERO)]);
    let mut policy = policy(format!("127.0.0.1:{registry_port}"));
    let mut send = |uri: String| {
        let future = policy.send_request(get(&uri), None, Box::new(async { Ok(()) }));
        block_on(async { Box::into_pin(future).await.map(|(response, _)| response.status()) })
    };
    let token_uri = format!("http://127.0.0.1:{realm_port}/token");
    assert!(matches!(send(token_uri.clone()), Err(Error::HttpRequestDenied)), "not allowed before the challenge");
    if let Some(other) = other {
        assert!(matches!(send(other.to_owned()), Err(Error::HttpRequestDenied)), "another host");
    }
    assert_eq!(send(format!("http://127.0.0.1:{registry_port}/v2/")).unwrap(), 401);
    assert_eq!(send(token_uri).unwrap(), 200, "the realm the registry named is learned");
    registry.join().unwrap();
    realm.join().unwrap();
}

#[test]
fn the_plan_restricts_requests_to_its_registries_and_their_realms() {
    let plan = |named: String| OutboundPolicy::new(None, allow_all()).with_plan(Some(&[named])).unwrap();
    check_realm_learning(plan, Some("http://127.0.0.1:9/v2/"));

    let mut none = OutboundPolicy::deny_all();
    let future = none.send_request(get("http://127.0.0.1:9/v2/"), None, Box::new(async { Ok(()) }));
    assert!(matches!(block_on(Box::into_pin(future)), Err(Error::HttpRequestDenied)));
}

#[test]
fn a_realm_named_by_an_allowed_registry_becomes_allowed() {
    check_realm_learning(|named| OutboundPolicy::new(Some(AllowList::new(&[named]).unwrap()), allow_all()), None);
}

// The end-to-end tests' CA and server certificate for `localhost`/`127.0.0.1`, made with
// the `openssl` command (which `.ci/run` installs).
#[path = "../../../tests/e2e/util/certificates.rs"]
mod certificates;
use certificates::make_certificates;

/// Serves HTTPS with the server certificate `made`: `connections` connections, each answered
/// `200 ok` (a failed handshake counts too).
fn serve_tls(made: &certificates::Certificates, connections: usize) -> (u16, JoinHandle<()>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(&made.certificate).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(&made.key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        for _ in 0..connections {
            let (tcp, _) = listener.accept().unwrap();
            let connection = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut stream = rustls::StreamOwned::new(connection, tcp);
            if stream.conn.complete_io(&mut stream.sock).is_err() {
                continue;
            }
            read_head(&mut stream);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
            let _ = stream.flush();
            stream.conn.send_close_notify();
            let _ = stream.conn.complete_io(&mut stream.sock);
        }
    });
    (port, thread)
}

#[test]
fn tls_trusts_extra_cas_and_skips_verification_only_where_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let made = make_certificates(tmp.path());
    let (port, server) = serve_tls(&made, 4);
    let uri = format!("https://localhost:{port}/v2/");
    let status = |tls: Tls| {
        block_on(async {
            client::send(get(&uri), None, &tls, &pool::Pool::default()).await.map(|(response, _)| response.status())
        })
    };

    match status(allow_all()) {
        Err(Error::Tls(error)) => assert!(tls::is_certificate_error(&error), "{error}"),
        other => panic!("a private CA must not be trusted by default: {:?}", other.map_err(|e| e.to_string())),
    }
    assert_eq!(status(Tls::new(std::slice::from_ref(&made.ca), Vec::new()).unwrap()).unwrap(), 200);
    let this_server = Endpoint { host: "localhost".into(), port };
    assert_eq!(status(Tls::new(&[], vec![this_server]).unwrap()).unwrap(), 200);
    let other_port = Endpoint { host: "localhost".into(), port: port.wrapping_add(1) };
    assert!(status(Tls::new(&[], vec![other_port]).unwrap()).is_err(), "skipping is per endpoint");
    server.join().unwrap();
}

#[test]
fn registry_endpoints_for_skipped_verification() {
    assert_eq!(registry_endpoint("ghcr.io"), Some(Endpoint { host: "ghcr.io".into(), port: 443 }));
    assert_eq!(registry_endpoint("reg:5443"), Some(Endpoint { host: "reg".into(), port: 5443 }));
    assert_eq!(registry_endpoint("docker.io"), Some(Endpoint { host: "registry-1.docker.io".into(), port: 443 }));
}

/// Accepts one connection and answers each of `responses` on it in turn (keep-alive), then
/// closes it: returns the request heads it read.
fn serve_on_one_connection(responses: Vec<&'static str>) -> (u16, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        responses
            .into_iter()
            .map(|response| {
                let mut head = String::new();
                while reader.read_line(&mut head).unwrap() > 2 {}
                writer.write_all(response.as_bytes()).unwrap();
                head
            })
            .collect()
    });
    (port, thread)
}

#[test]
fn requests_to_one_endpoint_share_a_kept_connection_and_a_closed_one_is_replaced() {
    let ok = |body: &'static str| -> &'static str {
        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len()).leak()
    };
    let (port, server) = serve_on_one_connection(vec![ok("one"), ok("two")]);
    let pool = pool::Pool::default();
    // Only one connection is accepted: a second one would get no answer within the timeout.
    let twice = |port: u16| {
        let options = || RequestOptions { first_byte_timeout: Some(Duration::from_secs(5)), ..Default::default() };
        block_on(async {
            let mut bodies = Vec::new();
            for _ in 0..2 {
                let uri = format!("http://127.0.0.1:{port}/v2/");
                let (response, _task) = client::send(get(&uri), Some(options()), &allow_all(), &pool).await.unwrap();
                bodies.push(response.into_body().collect().await.unwrap().to_bytes());
            }
            bodies
        })
    };
    assert_eq!(twice(port), [&b"one"[..], &b"two"[..]]);
    assert_eq!(server.join().unwrap().len(), 2, "both requests came on the one connection");

    // A server that closes each connection after one answer: the kept connection is found
    // closed (at once, or when the request fails on it) and the request goes on a new one.
    let (second_port, second) = serve(vec![(ok("three"), Duration::ZERO), (ok("four"), Duration::ZERO)]);
    assert_eq!(twice(second_port), [&b"three"[..], &b"four"[..]]);
    assert_eq!(second.join().unwrap().len(), 2);
}
