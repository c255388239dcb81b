//! One request to a module of Spin's pre-component ABI: `handle-http-request: func(req:
//! request) -> response`, with the semantics of [`crate::spin_http`].

use super::abi::GuestMemory;
use crate::spin_http::{AbiRequest, method_not_allowed, response};
use crate::state::ModuleState;
use bytes::Bytes;
use http::Response;
use wasmtime::{InstancePre, Store};

/// The flattened `request` parameters: method, uri, headers, params, option<body>.
type Params = (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32);

/// Run the module's initializer: `_initialize` for reactors, or `_start` where a module
/// (TinyGo's) registers its handler from `main`.
pub async fn initialize(
    store: &mut Store<ModuleState>,
    instance: &wasmtime::Instance,
) -> wasmtime::Result<()> {
    for name in ["_initialize", "_start"] {
        if let Ok(init) = instance.get_typed_func::<(), ()>(&mut *store, name) {
            return match init.call_async(&mut *store, ()).await {
                Err(e) if !super::exited_ok(&e) => Err(e),
                _ => Ok(()),
            };
        }
    }
    Ok(())
}

/// Serve one request.
pub async fn serve(
    store: &mut Store<ModuleState>,
    pre: &InstancePre<ModuleState>,
    parts: http::request::Parts,
    body: Bytes,
) -> wasmtime::Result<Response<Bytes>> {
    let Some(req) = AbiRequest::new(&parts, body) else {
        return Ok(method_not_allowed());
    };
    let instance = pre.instantiate_async(&mut *store).await?;
    initialize(store, &instance).await?;
    let mem = GuestMemory::of(&instance, &mut *store)?;
    let handle = instance.get_typed_func::<Params, i32>(&mut *store, "handle-http-request")?;
    let (up, ul) = mem.put(&mut *store, 1, req.uri.as_bytes()).await?;
    let (hp, hl) = mem.put_string_pairs(&mut *store, &req.headers).await?;
    let (pp, _) = mem.put(&mut *store, 4, &[]).await?;
    let (bp, bl) = mem.put(&mut *store, 1, &req.body).await?;
    let method = i32::from(req.method);
    let ret = handle
        .call_async(&mut *store, (method, up, ul, hp, hl, pp, 0, 1, bp, bl))
        .await?;

    // response { status: u16, headers: option<headers>, body: option<body> }
    let status = mem.u16(&*store, ret)?;
    let headers = match mem.u8(&*store, ret + 4)? {
        0 => Vec::new(),
        _ => {
            let (p, l) = (mem.i32(&*store, ret + 8)?, mem.i32(&*store, ret + 12)?);
            mem.string_pairs(&*store, p, l)?
        }
    };
    let body = match mem.u8(&*store, ret + 16)? {
        0 => Vec::new(),
        _ => {
            let (p, l) = (mem.i32(&*store, ret + 20)?, mem.i32(&*store, ret + 24)?);
            mem.bytes(&*store, p, l)?
        }
    };
    Ok(response(status, headers, body))
}
