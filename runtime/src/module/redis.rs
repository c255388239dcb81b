//! The pre-component ABI's `outbound-redis` (Spin 1.x SDKs): each call's arguments read out
//! of the guest's memory, made through Spin 1.x's unversioned `fermyon:spin/redis` (the same
//! interface, as components see it), and the result written back.
//!
//! Every function returns `expected<T, error>` with `error` the enum `{success, error}`; the
//! payload is at 1 for `unit`, 4 for lists and 8 for `s64`. `redis-parameter` and
//! `redis-result` are 16-byte variants (payload at 8).

use super::abi::{GuestMemory, ReturnArea, Variant, dword, word};
use crate::host::redis::RedisView;
use crate::host::spin_v1::bindings::fermyon::spin::redis::Host as _;
use crate::host::spin_v1::bindings::fermyon::spin::redis_types::{
    Error, RedisParameter, RedisResult,
};
use crate::state::ModuleState;
use wasmtime::{Caller, Linker};

type Result<T> = wasmtime::Result<T>;

const M: &str = "outbound-redis";

/// Three `(ptr, len)` arguments and the return area.
type Args3 = (i32, i32, i32, i32, i32, i32, i32);
/// Two `(ptr, len)` arguments and the return area.
type Args2 = (i32, i32, i32, i32, i32);

/// `err` with the enum's `error` case at `offset`.
fn failed(offset: i32) -> ReturnArea {
    ReturnArea::default()
        .u8(0, 1)
        .u8(offset, Error::Error as u8)
}

fn ok() -> ReturnArea {
    ReturnArea::default().u8(0, 0)
}

/// An `s64` result (payload at 8).
fn int(result: std::result::Result<i64, Error>) -> ReturnArea {
    match result {
        Ok(n) => ok().i32(8, n as i32).i32(12, (n >> 32) as i32),
        Err(_) => failed(8),
    }
}

/// `unit` result (payload at 1).
fn unit(result: std::result::Result<(), Error>) -> ReturnArea {
    match result {
        Ok(()) => ok(),
        Err(_) => failed(1),
    }
}

/// Define `outbound-redis` on `linker`.
pub fn add_to_linker(linker: &mut Linker<ModuleState>) -> Result<()> {
    linker.func_wrap_async(M, "publish", |mut c: Caller<'_, ModuleState>, a: Args3| {
        Box::new(async move {
            let mem = GuestMemory::of_caller(&mut c)?;
            let (address, channel) = (mem.string(&c, a.0, a.1)?, mem.string(&c, a.2, a.3)?);
            let payload = mem.bytes(&c, a.4, a.5)?;
            let result = c
                .data_mut()
                .redis()
                .publish(address, channel, payload)
                .await?;
            unit(result).write_at(&mem, &mut c, a.6)
        })
    })?;
    linker.func_wrap_async(M, "set", |mut c: Caller<'_, ModuleState>, a: Args3| {
        Box::new(async move {
            let mem = GuestMemory::of_caller(&mut c)?;
            let (address, key) = (mem.string(&c, a.0, a.1)?, mem.string(&c, a.2, a.3)?);
            let value = mem.bytes(&c, a.4, a.5)?;
            let result = c.data_mut().redis().set(address, key, value).await?;
            unit(result).write_at(&mem, &mut c, a.6)
        })
    })?;
    linker.func_wrap_async(M, "get", |mut c: Caller<'_, ModuleState>, a: Args2| {
        Box::new(async move {
            let mem = GuestMemory::of_caller(&mut c)?;
            let (address, key) = (mem.string(&c, a.0, a.1)?, mem.string(&c, a.2, a.3)?);
            let area = match c.data_mut().redis().get(address, key).await? {
                Ok(v) => ok().pair(4, mem.put(&mut c, 1, &v).await?),
                Err(_) => failed(4),
            };
            area.write_at(&mem, &mut c, a.4)
        })
    })?;
    linker.func_wrap_async(M, "incr", |mut c: Caller<'_, ModuleState>, a: Args2| {
        Box::new(async move {
            let mem = GuestMemory::of_caller(&mut c)?;
            let (address, key) = (mem.string(&c, a.0, a.1)?, mem.string(&c, a.2, a.3)?);
            let result = c.data_mut().redis().incr(address, key).await?;
            int(result).write_at(&mem, &mut c, a.4)
        })
    })?;
    linker.func_wrap_async(M, "del", |mut c: Caller<'_, ModuleState>, a: Args2| {
        Box::new(async move {
            let mem = GuestMemory::of_caller(&mut c)?;
            let (address, keys) = (mem.string(&c, a.0, a.1)?, mem.strings(&c, a.2, a.3)?);
            let result = c.data_mut().redis().del(address, keys).await?;
            int(result).write_at(&mem, &mut c, a.4)
        })
    })?;
    for (name, add) in [("sadd", true), ("srem", false)] {
        linker.func_wrap_async(M, name, move |mut c: Caller<'_, ModuleState>, a: Args3| {
            Box::new(async move {
                let mem = GuestMemory::of_caller(&mut c)?;
                let (address, key) = (mem.string(&c, a.0, a.1)?, mem.string(&c, a.2, a.3)?);
                let values = mem.strings(&c, a.4, a.5)?;
                let mut redis = c.data_mut().redis();
                let result = match add {
                    true => redis.sadd(address, key, values).await?,
                    false => redis.srem(address, key, values).await?,
                };
                int(result).write_at(&mem, &mut c, a.6)
            })
        })?;
    }
    linker.func_wrap_async(M, "smembers", |mut c: Caller<'_, ModuleState>, a: Args2| {
        Box::new(async move {
            let mem = GuestMemory::of_caller(&mut c)?;
            let (address, key) = (mem.string(&c, a.0, a.1)?, mem.string(&c, a.2, a.3)?);
            let area = match c.data_mut().redis().smembers(address, key).await? {
                Ok(members) => ok().pair(4, mem.put_strings(&mut c, &members).await?),
                Err(_) => failed(4),
            };
            area.write_at(&mem, &mut c, a.4)
        })
    })?;
    linker.func_wrap_async(M, "execute", |mut c: Caller<'_, ModuleState>, a: Args3| {
        Box::new(async move {
            let mem = GuestMemory::of_caller(&mut c)?;
            let (address, command) = (mem.string(&c, a.0, a.1)?, mem.string(&c, a.2, a.3)?);
            let arguments = mem
                .records(&c, a.4, a.5, 16)?
                .iter()
                .map(|e| match e[0] {
                    0 => Ok(RedisParameter::Int64(i64::from_le_bytes(dword(e, 8)))),
                    1 => Ok(RedisParameter::Binary(mem.bytes(
                        &c,
                        word(e, 8),
                        word(e, 12),
                    )?)),
                    n => Err(wasmtime::format_err!(
                        "the module broke Spin's ABI: redis-parameter case {n} does not exist"
                    )),
                })
                .collect::<Result<Vec<_>>>()?;
            let area = match c
                .data_mut()
                .redis()
                .execute(address, command, arguments)
                .await?
            {
                Ok(results) => {
                    let results = results.into_iter().map(redis_result).collect();
                    ok().pair(4, mem.put_variants(&mut c, results).await?)
                }
                Err(_) => failed(4),
            };
            area.write_at(&mem, &mut c, a.6)
        })
    })?;
    Ok(())
}

fn redis_result(r: RedisResult) -> Variant {
    match r {
        RedisResult::Nil => Variant::empty(0),
        RedisResult::Status(s) => Variant::Bytes(1, s.into_bytes()),
        RedisResult::Int64(i) => Variant::scalar(2, &i.to_le_bytes()),
        RedisResult::Binary(b) => Variant::Bytes(3, b),
    }
}

/// The signatures defined here: their parameter counts.
pub const SIGNATURES: &[(&str, &str, usize)] = &[
    (M, "publish", 7),
    (M, "set", 7),
    (M, "get", 5),
    (M, "incr", 5),
    (M, "del", 5),
    (M, "sadd", 7),
    (M, "srem", 7),
    (M, "smembers", 5),
    (M, "execute", 7),
];
