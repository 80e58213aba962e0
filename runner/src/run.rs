//! Runs the packager as a command: links WASI 0.2 and `wasi:http` ([`linker`]), instantiates
//! the component, calls `wasi:cli/run`, and turns the result into an [`Exit`].

use anyhow::{Context, Result};
use wasmtime::component::{InstancePre, Linker};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::{I32Exit, WasiCtx};

use crate::outbound::OutboundPolicy;
use crate::state::Host;

/// How a run ended.
#[derive(Debug)]
pub enum Exit {
    /// The guest returned (`0` ok, `1` error) or called `exit` with this code.
    Code(i32),
    /// The guest trapped (a panic or a host-side failure): a bug, not a user error.
    Trap(anyhow::Error),
}

/// The imports every packager instance gets: WASI 0.2 and `wasi:http`.
pub fn linker(engine: &Engine) -> Result<Linker<Host>> {
    let mut linker = Linker::<Host>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    Ok(linker)
}

/// Instantiates the linked component `pre` with the capabilities in `wasi` and the
/// outgoing-request policy `outbound`, and runs it to completion.
pub async fn run(pre: &InstancePre<Host>, wasi: WasiCtx, outbound: OutboundPolicy) -> Result<Exit> {
    let mut store = Store::new(pre.engine(), Host::new(wasi, outbound));
    let command = CommandPre::new(pre.clone())
        .map_err(anyhow::Error::from)
        .context("the component does not export wasi:cli/run")?
        .instantiate_async(&mut store)
        .await
        .map_err(anyhow::Error::from)
        .context("cannot instantiate the packager component")?;
    Ok(match command.wasi_cli_run().call_run(&mut store).await {
        Ok(Ok(())) => Exit::Code(0),
        Ok(Err(())) => Exit::Code(1),
        Err(trap) => match trap.downcast_ref::<I32Exit>() {
            Some(&I32Exit(code)) => Exit::Code(code),
            None => Exit::Trap(anyhow::Error::from(trap).context("the packager crashed")),
        },
    })
}
