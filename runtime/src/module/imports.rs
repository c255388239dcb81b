//! The host side of Spin's pre-component interfaces, over the same capabilities the
//! component interfaces use: `spin-config` (the component's variables), `key-value` (the
//! app's stores, with the same `key_value_stores` permission), `wasi-outbound-http`
//! (policed by the same `allowed_outbound_hosts`), and `outbound-redis`, `outbound-pg`,
//! `outbound-mysql` as stand-ins that return the interface's error.

use super::abi::{GuestMemory, ReturnArea};
use crate::host::buffered::{BufferedRequest, METHODS, send_buffered};
use crate::host::kv::{KvView, OpenError};
use crate::state::ModuleState;
use spin_app::template::is_snake_id;
use wasmtime::{Caller, Linker};

type Result<T> = wasmtime::Result<T>;

/// Define every pre-component Spin import on `linker`.
pub fn add_to_linker(linker: &mut Linker<ModuleState>) -> Result<()> {
    config(linker)?;
    key_value(linker)?;
    outbound_http(linker)
}

/// An `expected` return area whose discriminant (offset 0) says `ok`.
fn ok() -> ReturnArea {
    ReturnArea::default().u8(0, 0)
}

/// An `expected` return area whose discriminant says `err`.
fn err() -> ReturnArea {
    ReturnArea::default().u8(0, 1)
}

/// `spin-config`: `get-config: func(key: string) -> expected<string, error>`, where error
/// is `provider(string) | invalid-key(string) | invalid-schema(string) | other(string)`.
fn config(linker: &mut Linker<ModuleState>) -> Result<()> {
    linker.func_wrap_async(
        "spin-config",
        "get-config",
        |mut caller: Caller<'_, ModuleState>, (ptr, len, ret): (i32, i32, i32)| {
            Box::new(async move {
                let mem = GuestMemory::of_caller(&mut caller)?;
                let key = mem.string(&caller, ptr, len)?;
                let vars = caller.data().variables.clone();
                let result = if !is_snake_id(&key) {
                    Err((
                        1,
                        format!("`{key}` is not a valid config key (lower_snake_case)"),
                    ))
                } else {
                    match vars.values.get(&key) {
                        Some(v) => Ok(v.clone()),
                        None => Err((
                            0,
                            format!("component `{}` has no config key `{key}`", vars.component),
                        )),
                    }
                };
                let area = match result {
                    Ok(value) => {
                        let s = mem.put(&mut caller, 1, value.as_bytes()).await?;
                        ok().pair(4, s)
                    }
                    Err((tag, message)) => {
                        let s = mem.put(&mut caller, 1, message.as_bytes()).await?;
                        err().u8(4, tag).pair(8, s)
                    }
                };
                area.write_at(&mem, &mut caller, ret)
            })
        },
    )?;
    Ok(())
}

/// The old `key-value` error variant: `store-table-full | no-such-store | access-denied |
/// invalid-store | no-such-key | io(string)`, at offset 4 of a 16-byte `expected`.
enum KvErr {
    TableFull,
    NoSuchStore,
    AccessDenied,
    InvalidStore,
    NoSuchKey,
    Io(String),
}

impl From<OpenError> for KvErr {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::AccessDenied => KvErr::AccessDenied,
            OpenError::NoSuchStore => KvErr::NoSuchStore,
            OpenError::TableFull => KvErr::TableFull,
        }
    }
}

/// What a key/value call puts in the `ok` payload.
enum KvOk {
    Unit,
    U32(u32),
    Bool(bool),
    Bytes(Vec<u8>),
    Strings(Vec<String>),
}

async fn kv_return(
    caller: &mut Caller<'_, ModuleState>,
    mem: &GuestMemory,
    ret: i32,
    result: std::result::Result<KvOk, KvErr>,
) -> Result<()> {
    let area = match result {
        Ok(KvOk::Unit) => ok(),
        Ok(KvOk::U32(v)) => ok().i32(4, v as i32),
        Ok(KvOk::Bool(b)) => ok().u8(4, b as u8),
        Ok(KvOk::Bytes(b)) => {
            let s = mem.put(&mut *caller, 1, &b).await?;
            ok().pair(4, s)
        }
        Ok(KvOk::Strings(keys)) => {
            let s = mem.put_strings(&mut *caller, &keys).await?;
            ok().pair(4, s)
        }
        Err(KvErr::Io(message)) => {
            let s = mem.put(&mut *caller, 1, message.as_bytes()).await?;
            err().u8(4, 5).pair(8, s)
        }
        Err(e) => {
            let tag = match e {
                KvErr::TableFull => 0,
                KvErr::NoSuchStore => 1,
                KvErr::AccessDenied => 2,
                KvErr::InvalidStore => 3,
                KvErr::NoSuchKey => 4,
                KvErr::Io(_) => unreachable!("handled above"),
            };
            err().u8(4, tag)
        }
    };
    area.write_at(mem, &mut *caller, ret)
}

/// An open store by handle, or `invalid-store`.
fn numbered(
    caller: &mut Caller<'_, ModuleState>,
    handle: i32,
) -> std::result::Result<std::sync::Arc<dyn crate::host::kv::Store>, KvErr> {
    caller
        .data_mut()
        .kv()
        .numbered(handle as u32)
        .ok_or(KvErr::InvalidStore)
}

fn io(e: crate::host::kv::KvError) -> KvErr {
    KvErr::Io(e.0)
}

/// `key-value`: open, get, set, delete, exists, get-keys, close.
fn key_value(linker: &mut Linker<ModuleState>) -> Result<()> {
    const M: &str = "key-value";
    linker.func_wrap_async(
        M,
        "open",
        |mut caller: Caller<'_, ModuleState>, (ptr, len, ret): (i32, i32, i32)| {
            Box::new(async move {
                let mem = GuestMemory::of_caller(&mut caller)?;
                let label = mem.string(&caller, ptr, len)?;
                let opened = caller.data_mut().kv().open_numbered(&label)?;
                let result = opened.map(KvOk::U32).map_err(KvErr::from);
                kv_return(&mut caller, &mem, ret, result).await
            })
        },
    )?;
    linker.func_wrap_async(
        M,
        "get",
        |mut caller: Caller<'_, ModuleState>, (h, kp, kl, ret): (i32, i32, i32, i32)| {
            Box::new(async move {
                let mem = GuestMemory::of_caller(&mut caller)?;
                let key = mem.string(&caller, kp, kl)?;
                let result = match numbered(&mut caller, h) {
                    Ok(store) => match store.get(key).await {
                        Ok(Some(v)) => Ok(KvOk::Bytes(v)),
                        Ok(None) => Err(KvErr::NoSuchKey),
                        Err(e) => Err(io(e)),
                    },
                    Err(e) => Err(e),
                };
                kv_return(&mut caller, &mem, ret, result).await
            })
        },
    )?;
    linker.func_wrap_async(
        M,
        "set",
        |mut caller: Caller<'_, ModuleState>,
         (h, kp, kl, vp, vl, ret): (i32, i32, i32, i32, i32, i32)| {
            Box::new(async move {
                let mem = GuestMemory::of_caller(&mut caller)?;
                let key = mem.string(&caller, kp, kl)?;
                let value = mem.bytes(&caller, vp, vl)?;
                let result = match numbered(&mut caller, h) {
                    Ok(store) => store.set(key, value).await.map(|()| KvOk::Unit).map_err(io),
                    Err(e) => Err(e),
                };
                kv_return(&mut caller, &mem, ret, result).await
            })
        },
    )?;
    linker.func_wrap_async(
        M,
        "delete",
        |mut caller: Caller<'_, ModuleState>, (h, kp, kl, ret): (i32, i32, i32, i32)| {
            Box::new(async move {
                let mem = GuestMemory::of_caller(&mut caller)?;
                let key = mem.string(&caller, kp, kl)?;
                let result = match numbered(&mut caller, h) {
                    Ok(store) => store.delete(key).await.map(|()| KvOk::Unit).map_err(io),
                    Err(e) => Err(e),
                };
                kv_return(&mut caller, &mem, ret, result).await
            })
        },
    )?;
    linker.func_wrap_async(
        M,
        "exists",
        |mut caller: Caller<'_, ModuleState>, (h, kp, kl, ret): (i32, i32, i32, i32)| {
            Box::new(async move {
                let mem = GuestMemory::of_caller(&mut caller)?;
                let key = mem.string(&caller, kp, kl)?;
                let result = match numbered(&mut caller, h) {
                    Ok(store) => store.exists(key).await.map(KvOk::Bool).map_err(io),
                    Err(e) => Err(e),
                };
                kv_return(&mut caller, &mem, ret, result).await
            })
        },
    )?;
    linker.func_wrap_async(
        M,
        "get-keys",
        |mut caller: Caller<'_, ModuleState>, (h, ret): (i32, i32)| {
            Box::new(async move {
                let mem = GuestMemory::of_caller(&mut caller)?;
                let result = match numbered(&mut caller, h) {
                    Ok(store) => store.keys().await.map(KvOk::Strings).map_err(io),
                    Err(e) => Err(e),
                };
                kv_return(&mut caller, &mem, ret, result).await
            })
        },
    )?;
    linker.func_wrap(M, "close", |mut caller: Caller<'_, ModuleState>, h: i32| {
        caller.data_mut().kv().close_numbered(h as u32);
    })?;
    Ok(())
}

/// `wasi-outbound-http`: `request: func(req: request) -> expected<response, http-error>`.
fn outbound_http(linker: &mut Linker<ModuleState>) -> Result<()> {
    linker.func_wrap_async(
        "wasi-outbound-http",
        "request",
        |mut caller: Caller<'_, ModuleState>,
         (method, up, ul, hp, hl, _pp, _pl, has_body, bp, bl, ret): (
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
        )| {
            Box::new(async move {
                let mem = GuestMemory::of_caller(&mut caller)?;
                let method = METHODS
                    .get(method as usize)
                    .cloned()
                    .ok_or_else(|| wasmtime::Error::msg("invalid HTTP method value"))?;
                let req = BufferedRequest {
                    method,
                    uri: mem.string(&caller, up, ul)?,
                    headers: mem.string_pairs(&caller, hp, hl)?,
                    body: match has_body {
                        0 => None,
                        _ => Some(mem.bytes(&caller, bp, bl)?),
                    },
                };
                let outbound = caller.data().outbound.clone();
                let area = match send_buffered(&outbound, req).await {
                    Ok(response) => {
                        let headers: Vec<(String, String)> = response
                            .headers()
                            .iter()
                            .map(|(k, v)| {
                                (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into())
                            })
                            .collect();
                        let h = mem.put_string_pairs(&mut caller, &headers).await?;
                        let b = mem.put(&mut caller, 1, response.body()).await?;
                        ok().u16(4, response.status().as_u16())
                            .u8(8, 1)
                            .pair(12, h)
                            .u8(20, 1)
                            .pair(24, b)
                    }
                    Err(e) => err().u8(4, e as u8),
                };
                area.write_at(&mem, &mut caller, ret)
            })
        },
    )?;
    Ok(())
}

/// The database interfaces of Spin 1.x, until this runtime implements them: each call
/// returns the interface's error. `(module, function, payload offset, error kind)`.
const STAND_INS: &[(&str, &str, i32, StandIn)] = &[
    ("outbound-redis", "publish", 1, StandIn::RedisError),
    ("outbound-redis", "get", 4, StandIn::RedisError),
    ("outbound-redis", "set", 1, StandIn::RedisError),
    ("outbound-redis", "incr", 8, StandIn::RedisError),
    ("outbound-redis", "del", 8, StandIn::RedisError),
    ("outbound-redis", "sadd", 8, StandIn::RedisError),
    ("outbound-redis", "smembers", 4, StandIn::RedisError),
    ("outbound-redis", "srem", 8, StandIn::RedisError),
    ("outbound-redis", "execute", 4, StandIn::RedisError),
    ("outbound-pg", "query", 4, StandIn::DbOtherError),
    ("outbound-pg", "execute", 8, StandIn::DbOtherError),
    ("outbound-mysql", "query", 4, StandIn::DbOtherError),
    ("outbound-mysql", "execute", 4, StandIn::DbOtherError),
];

#[derive(Clone, Copy)]
enum StandIn {
    /// `enum error { success, error }`: `error`.
    RedisError,
    /// The pg/mysql error variant's `other-error(string)`.
    DbOtherError,
}

/// Define the stand-ins for the imports `module` actually has (their parameter counts vary
/// across Spin 1.x versions; the return area is always the last parameter).
pub fn add_stand_ins_for(
    linker: &mut Linker<ModuleState>,
    module: &wasmtime::Module,
) -> Result<()> {
    for import in module.imports() {
        let Some(&(m, f, offset, kind)) = STAND_INS
            .iter()
            .find(|(m, f, _, _)| *m == import.module() && *f == import.name())
        else {
            continue;
        };
        let Some(ty) = import.ty().func().cloned() else {
            continue;
        };
        if ty.results().len() != 0 || ty.params().len() == 0 {
            continue;
        }
        linker.func_new_async(m, f, ty, move |mut caller, params, _results| {
            Box::new(async move {
                let ret = params
                    .last()
                    .and_then(|v| v.i32())
                    .ok_or_else(|| wasmtime::Error::msg("no return area"))?;
                let mem = GuestMemory::of_caller(&mut caller)?;
                tracing::warn!("{m}::{f} is not supported yet; returning an error to the guest");
                let area = match kind {
                    StandIn::RedisError => err().u8(offset, 1),
                    StandIn::DbOtherError => {
                        let message = format!("{m} is not supported by this runtime yet");
                        let s = mem.put(&mut caller, 1, message.as_bytes()).await?;
                        err().u8(offset, 5).pair(offset + 4, s)
                    }
                };
                area.write_at(&mem, &mut caller, ret)
            })
        })?;
    }
    Ok(())
}
