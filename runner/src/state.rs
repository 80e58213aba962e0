//! The store data of a packager instance: its WASI context, its HTTP context with the
//! outbound policy, and the resource table they share — exposed to wasmtime-wasi and
//! wasmtime-wasi-http through their view traits.

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::outbound::OutboundPolicy;

/// Everything the host keeps for one guest instance.
pub struct Host {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    outbound: OutboundPolicy,
    table: ResourceTable,
}

impl Host {
    /// State for a guest granted the capabilities in `wasi`, its requests governed by
    /// `outbound`.
    pub fn new(wasi: WasiCtx, outbound: OutboundPolicy) -> Self {
        Self { wasi, http: WasiHttpCtx::new(), outbound, table: ResourceTable::new() }
    }
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.outbound }
    }
}
