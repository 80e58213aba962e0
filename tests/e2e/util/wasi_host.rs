//! The packager component in a host built here with wasmtime instead of the `wasmship`
//! runner, as any embedder would run it: the component `build.rs` built, compiled once per
//! test binary, and a store with WASI and WASI HTTP (its default outgoing handler); the
//! bindings of the packager's typed exports.

use std::sync::OnceLock;

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Host bindings of the packager's world (its typed exports), for tests that call them.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "wasmship:packager/packager@0.2.0",
        exports: { default: async },
        with: {
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "wasi:cli": wasmtime_wasi::p2::bindings::cli,
            "wasi:filesystem": wasmtime_wasi::p2::bindings::filesystem,
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        },
    });
}

/// The component `build.rs` built for the `wasmship` binary.
const GUEST_WASM: &str = env!("WASMSHIP_GUEST_WASM");

pub struct Host {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: Default::default() }
    }
}

/// The guest compiled once for all tests.
pub fn compiled() -> &'static (Engine, Component) {
    static COMPILED: OnceLock<(Engine, Component)> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let engine = Engine::new(&Config::new()).expect("engine");
        let component = Component::from_file(&engine, GUEST_WASM).expect("compile the packager component");
        (engine, component)
    })
}

/// A linker with WASI 0.2 and WASI HTTP, and a store holding `wasi`.
pub fn host(wasi: WasiCtx) -> (Linker<Host>, Store<Host>) {
    let (engine, _) = compiled();
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("link WASI");
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).expect("link WASI HTTP");
    let store = Store::new(engine, Host { wasi, http: WasiHttpCtx::new(), table: ResourceTable::new() });
    (linker, store)
}
