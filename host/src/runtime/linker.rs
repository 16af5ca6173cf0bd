//! The imports a guest can link against: WASI (with a context that denies by default) and the
//! `qntx:plugin` interfaces, one line each.

use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};

use super::JobCtx;
use super::bindings::{job_context, logging, pulse, store, types};

/// A linker with every import this node offers.
///
/// # Errors
///
/// When wasmtime refuses a definition (a bug, not a runtime condition).
pub(crate) fn new_linker(engine: &Engine) -> wasmtime::Result<Linker<JobCtx>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    types::add_to_linker::<_, HasSelf<_>>(&mut linker, |ctx| ctx)?;
    store::add_to_linker::<_, HasSelf<_>>(&mut linker, |ctx| ctx)?;
    pulse::add_to_linker::<_, HasSelf<_>>(&mut linker, |ctx| ctx)?;
    job_context::add_to_linker::<_, HasSelf<_>>(&mut linker, |ctx| ctx)?;
    logging::add_to_linker::<_, HasSelf<_>>(&mut linker, |ctx| ctx)?;
    Ok(linker)
}
