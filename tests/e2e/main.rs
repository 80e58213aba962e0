//! End-to-end tests of the real `wasmship` binary: each test gets its own directory, its own
//! `docker-registry` where it needs one, and runs the binary with a hermetic environment. The
//! assertions read what actually landed: registry contents, layout files, bytes and digests.
//!
//! One test binary, one module per area (see `util` for the fixtures).

mod util;

mod allow_host;
mod app;
mod auth_basic;
mod auth_token;
mod boundary;
mod cache;
mod cache_links;
mod cache_trust;
mod compose;
mod copy;
mod faults;
mod hostile;
mod inspect;
mod layout;
mod limits;
mod manifest;
mod mirrors;
mod node;
mod par;
mod plain_host;
mod policy;
mod push_pull;
mod referrers;
mod secrets;
mod self_hosting;
mod signing;
mod sigstore_interop;
mod skopeo;
mod store_conformance;
mod tags;
mod typed_api;
mod typed_export;
mod wit;
