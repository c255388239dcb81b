//! Host capabilities, one module each: key/value, variables, policed outbound HTTP, and
//! trapping stand-ins for the Spin interfaces this runtime does not provide.

pub mod kv;
pub mod outbound;
pub mod unsupported;
mod variables;

use crate::state::RequestState;
use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};
use wasmtime_wasi_http::{WasiHttp, WasiHttpView};

/// Generated bindings for the Spin and WASI interfaces implemented in this crate.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "spin-runtime:host/spin-host",
        imports: { default: async | trappable },
        with: {
            "fermyon:spin/key-value.store": crate::host::kv::KvStore,
            "wasi:keyvalue/store.bucket": crate::host::kv::KvStore,
            "wasi:keyvalue/atomics.cas": crate::host::kv::CasHandle,
        },
    });
}

/// A linker with WASI p2, WASI HTTP types, the policed outgoing handler, key/value,
/// variables and config. Per-component stubs are added on a clone of it.
pub fn base_linker(engine: &Engine) -> wasmtime::Result<Linker<RequestState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    let options = wasmtime_wasi_http::p2::bindings::LinkOptions::default();
    wasmtime_wasi_http::p2::bindings::http::types::add_to_linker::<_, WasiHttp>(
        &mut linker,
        &options.into(),
        <RequestState as WasiHttpView>::http,
    )?;
    outbound::add_to_linker(&mut linker)?;
    bindings::SpinHost::add_to_linker::<_, HasSelf<RequestState>>(&mut linker, |s| s)?;
    Ok(linker)
}
