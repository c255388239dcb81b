//! One request to a module of Spin's pre-component ABI: `handle-http-request: func(req:
//! request) -> response`, with Spin's semantics (the request's headers plus the `spin-*`
//! ones, the path and query as `uri`, no `params`, the body always present; 405 for a
//! method the ABI cannot express; 500 for a status outside 100–600).

use super::abi::GuestMemory;
use super::imports::METHODS;
use crate::state::ModuleState;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use wasmtime::{InstancePre, Store};

/// The flattened `request` parameters: method, uri, headers, params, option<body>.
type Params = (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32);

fn status_only(status: StatusCode) -> Response<Bytes> {
    let mut r = Response::new(Bytes::new());
    *r.status_mut() = status;
    r
}

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
    let Some(method) = METHODS.iter().position(|m| m == parts.method) else {
        return Ok(status_only(StatusCode::METHOD_NOT_ALLOWED));
    };
    let instance = pre.instantiate_async(&mut *store).await?;
    initialize(store, &instance).await?;
    let mem = GuestMemory::of(&instance, &mut *store)?;
    let handle = instance.get_typed_func::<Params, i32>(&mut *store, "handle-http-request")?;

    let uri = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.to_string(), |p| p.to_string());
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
        .collect();
    let (up, ul) = mem.put(&mut *store, 1, uri.as_bytes()).await?;
    let (hp, hl) = mem.put_string_pairs(&mut *store, &headers).await?;
    let (pp, _) = mem.put(&mut *store, 4, &[]).await?;
    let (bp, bl) = mem.put(&mut *store, 1, &body).await?;
    let ret = handle
        .call_async(
            &mut *store,
            (method as i32, up, ul, hp, hl, pp, 0, 1, bp, bl),
        )
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
    if !(100..=600).contains(&status) {
        tracing::error!("the module answered with the malformed HTTP status {status}");
        return Ok(status_only(StatusCode::INTERNAL_SERVER_ERROR));
    }
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in headers {
        let (Ok(name), Ok(value)) = (HeaderName::try_from(&k), HeaderValue::try_from(&v)) else {
            tracing::error!("the module answered with an invalid header {k:?}: {v:?}");
            return Ok(status_only(StatusCode::INTERNAL_SERVER_ERROR));
        };
        response.headers_mut().append(name, value);
    }
    Ok(response)
}
