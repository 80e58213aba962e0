//! Policy for the guest's outgoing HTTP requests (`wasi:http/outgoing-handler`).
//!
//! For now every request is allowed and sent by wasmtime-wasi-http's default client (rustls
//! with bundled web PKI roots). This is the one place to restrict where the packager may
//! connect: override `WasiHttpHooks::send_request` on [`OutboundPolicy`], look at the
//! request's URI authority, and answer refused hosts with `ErrorCode::HttpRequestDenied`
//! instead of delegating to `wasmtime_wasi_http::default_send_request`.

use wasmtime_wasi_http::WasiHttpHooks;

/// Which outgoing HTTP requests the guest may make: all of them, for now.
#[derive(Debug, Default)]
pub struct OutboundPolicy;

impl WasiHttpHooks for OutboundPolicy {}
