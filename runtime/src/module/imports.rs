//! The host side of Spin's pre-component interfaces, over the same capabilities the
//! component interfaces use: `spin-config` (the component's variables), `key-value` (the
//! app's stores, with the same `key_value_stores` permission), `wasi-outbound-http`
//! (policed by the same `allowed_outbound_hosts`); the database imports are in
//! [`super::redis`], [`super::rdbms`] and [`super::sqlite`].

use super::abi::{GuestMemory, ReturnArea};
use crate::host::buffered::{BufferedRequest, METHODS, send_buffered};
use crate::host::kv::{KvView, LegacyKvError, LegacyOk, LegacyOp};
use crate::host::variables::LegacyConfigError;
use crate::state::ModuleState;
use wasmtime::{Caller, Linker};

type Result<T> = wasmtime::Result<T>;

/// Define every pre-component Spin import on `linker`.
pub fn add_to_linker(linker: &mut Linker<ModuleState>) -> Result<()> {
    config(linker)?;
    key_value(linker)?;
    outbound_http(linker)?;
    super::redis::add_to_linker(linker)?;
    super::rdbms::add_to_linker(linker)?;
    super::sqlite::add_to_linker(linker)
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
                let result = caller
                    .data()
                    .variables
                    .legacy_get(&key)
                    .map_err(|e| match e {
                        LegacyConfigError::Provider(m) => (0, m),
                        LegacyConfigError::InvalidKey(m) => (1, m),
                    });
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

/// Write a key/value result: `expected<T, error>` with the payload at offset 4 and the
/// error variant's `io(string)` payload at offset 8.
async fn kv_return(
    caller: &mut Caller<'_, ModuleState>,
    mem: &GuestMemory,
    ret: i32,
    result: std::result::Result<LegacyOk, LegacyKvError>,
) -> Result<()> {
    let area = match result {
        Ok(LegacyOk::Unit) => ok(),
        Ok(LegacyOk::Bool(b)) => ok().u8(4, b as u8),
        Ok(LegacyOk::Bytes(b)) => {
            let s = mem.put(&mut *caller, 1, &b).await?;
            ok().pair(4, s)
        }
        Ok(LegacyOk::Keys(keys)) => {
            let s = mem.put_strings(&mut *caller, &keys).await?;
            ok().pair(4, s)
        }
        Err(LegacyKvError::Io(message)) => {
            let s = mem.put(&mut *caller, 1, message.as_bytes()).await?;
            err().u8(4, 5).pair(8, s)
        }
        Err(e) => err().u8(4, legacy_tag(&e)),
    };
    area.write_at(mem, &mut *caller, ret)
}

/// The error variant's case number.
fn legacy_tag(e: &LegacyKvError) -> u8 {
    match e {
        LegacyKvError::TableFull => 0,
        LegacyKvError::NoSuchStore => 1,
        LegacyKvError::AccessDenied => 2,
        LegacyKvError::InvalidStore => 3,
        LegacyKvError::NoSuchKey => 4,
        LegacyKvError::Io(_) => 5,
    }
}

/// Run a key/value operation for the guest and write its result at `ret`.
async fn kv_op(
    caller: &mut Caller<'_, ModuleState>,
    mem: &GuestMemory,
    handle: i32,
    op: LegacyOp,
    ret: i32,
) -> Result<()> {
    let result = caller.data_mut().kv().legacy_call(handle as u32, op).await;
    kv_return(caller, mem, ret, result).await
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
                let area = match caller.data_mut().kv().legacy_open(&label)? {
                    Ok(handle) => ok().i32(4, handle as i32),
                    Err(e) => err().u8(4, legacy_tag(&e)),
                };
                area.write_at(&mem, &mut caller, ret)
            })
        },
    )?;
    // get, delete, exists: (store, key, ret)
    for (name, op) in [
        ("get", LegacyOp::Get as fn(String) -> LegacyOp),
        ("delete", LegacyOp::Delete),
        ("exists", LegacyOp::Exists),
    ] {
        linker.func_wrap_async(
            M,
            name,
            move |mut caller: Caller<'_, ModuleState>, (h, kp, kl, ret): (i32, i32, i32, i32)| {
                Box::new(async move {
                    let mem = GuestMemory::of_caller(&mut caller)?;
                    let key = mem.string(&caller, kp, kl)?;
                    kv_op(&mut caller, &mem, h, op(key), ret).await
                })
            },
        )?;
    }
    linker.func_wrap_async(
        M,
        "set",
        |mut caller: Caller<'_, ModuleState>,
         (h, kp, kl, vp, vl, ret): (i32, i32, i32, i32, i32, i32)| {
            Box::new(async move {
                let mem = GuestMemory::of_caller(&mut caller)?;
                let key = mem.string(&caller, kp, kl)?;
                let value = mem.bytes(&caller, vp, vl)?;
                kv_op(&mut caller, &mem, h, LegacyOp::Set(key, value), ret).await
            })
        },
    )?;
    linker.func_wrap_async(
        M,
        "get-keys",
        |mut caller: Caller<'_, ModuleState>, (h, ret): (i32, i32)| {
            Box::new(async move {
                let mem = GuestMemory::of_caller(&mut caller)?;
                kv_op(&mut caller, &mem, h, LegacyOp::Keys, ret).await
            })
        },
    )?;
    linker.func_wrap(M, "close", |mut caller: Caller<'_, ModuleState>, h: i32| {
        caller.data_mut().kv().legacy_close(h as u32);
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

/// Every database function defined for modules: `(module, function, parameter count)`.
fn signatures() -> impl Iterator<Item = &'static (&'static str, &'static str, usize)> {
    super::redis::SIGNATURES
        .iter()
        .chain(super::rdbms::SIGNATURES)
        .chain(super::sqlite::SIGNATURES)
}

/// For each database import of `module` that is not the function defined here (an older
/// SDK's signature, or a function Spin 1.x never had), define one that traps saying so, so
/// the module still loads and only the call fails.
pub fn replace_older_signatures(
    linker: &mut Linker<ModuleState>,
    module: &wasmtime::Module,
) -> Result<()> {
    for import in module.imports() {
        let (m, f) = (import.module(), import.name());
        if !signatures().any(|(sm, _, _)| *sm == m) {
            continue;
        }
        let Some(ty) = import.ty().func().cloned() else {
            continue;
        };
        let fits = signatures().any(|&(sm, sf, n)| {
            sm == m && sf == f && ty.params().len() == n && ty.results().len() == 0
        });
        if fits {
            continue;
        }
        let message = format!(
            "`{m}::{f}` has a signature this runtime does not serve ({} parameters); \
             rebuild the module with Spin SDK 1.5 or later",
            ty.params().len()
        );
        tracing::warn!("{message}");
        linker.func_new(m, f, ty, move |_, _, _| {
            Err(wasmtime::Error::msg(message.clone()))
        })?;
    }
    Ok(())
}
