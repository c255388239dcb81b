//! The pre-component ABI's `sqlite` (Spin 1.4 and 1.5 SDKs): made through Spin 1.x's
//! unversioned `fermyon:spin/sqlite` (the same interface, as components see it).
//!
//! Layouts: `value` is a 16-byte variant (payload at 8); `query-result` is the columns'
//! `list<string>` and the rows' list of `row-result`s, each a `list<value>`; the error
//! variant has its `io` message at 4. `open` and `execute` return `expected<_, error>` with
//! the payload at 4.

use super::abi::{GuestMemory, ReturnArea, Variant, dword, word};
use crate::host::spin_v1::bindings::fermyon::spin::sqlite::{self, Value};
use crate::host::sqlite::SqliteView;
use crate::state::ModuleState;
use wasmtime::{Caller, Linker};

type Result<T> = wasmtime::Result<T>;

const M: &str = "sqlite";

/// The return area for an error.
async fn error(
    mem: &GuestMemory,
    caller: &mut Caller<'_, ModuleState>,
    e: sqlite::Error,
) -> Result<ReturnArea> {
    use sqlite::Error as E;
    let area = ReturnArea::default().u8(0, 1);
    Ok(match e {
        E::NoSuchDatabase => area.u8(4, 0),
        E::AccessDenied => area.u8(4, 1),
        E::InvalidConnection => area.u8(4, 2),
        E::DatabaseFull => area.u8(4, 3),
        E::Io(m) => area
            .u8(4, 4)
            .pair(8, mem.put(&mut *caller, 1, m.as_bytes()).await?),
    })
}

fn value(v: Value) -> Variant {
    match v {
        Value::Integer(i) => Variant::scalar(0, &i.to_le_bytes()),
        Value::Real(f) => Variant::scalar(1, &f.to_le_bytes()),
        Value::Text(s) => Variant::Bytes(2, s.into_bytes()),
        Value::Blob(b) => Variant::Bytes(3, b),
        Value::Null => Variant::empty(4),
    }
}

/// Define `sqlite` on `linker`.
pub fn add_to_linker(linker: &mut Linker<ModuleState>) -> Result<()> {
    linker.func_wrap_async(
        M,
        "open",
        |mut c: Caller<'_, ModuleState>, (p, l, ret): (i32, i32, i32)| {
            Box::new(async move {
                let mem = GuestMemory::of_caller(&mut c)?;
                let name = mem.string(&c, p, l)?;
                let area = match sqlite::Host::open(&mut c.data_mut().sqlite(), name).await? {
                    Ok(conn) => ReturnArea::default().u8(0, 0).i32(4, conn as i32),
                    Err(e) => error(&mem, &mut c, e).await?,
                };
                area.write_at(&mem, &mut c, ret)
            })
        },
    )?;
    linker.func_wrap_async(
        M,
        "execute",
        |mut c: Caller<'_, ModuleState>,
         (conn, sp, sl, pp, pl, ret): (i32, i32, i32, i32, i32, i32)| {
            Box::new(async move {
                let mem = GuestMemory::of_caller(&mut c)?;
                let statement = mem.string(&c, sp, sl)?;
                let params = mem
                    .records(&c, pp, pl, 16)?
                    .iter()
                    .map(|e| {
                        Ok(match e[0] {
                            0 => Value::Integer(i64::from_le_bytes(dword(e, 8))),
                            1 => Value::Real(f64::from_le_bytes(dword(e, 8))),
                            2 => Value::Text(mem.string(&c, word(e, 8), word(e, 12))?),
                            3 => Value::Blob(mem.bytes(&c, word(e, 8), word(e, 12))?),
                            4 => Value::Null,
                            n => wasmtime::bail!(
                                "the module broke Spin's ABI: value case {n} does not exist"
                            ),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let mut view = c.data_mut().sqlite();
                let area =
                    match sqlite::Host::execute(&mut view, conn as u32, statement, params).await? {
                        Ok(result) => {
                            let columns = mem.put_strings(&mut c, &result.columns).await?;
                            let mut rows = Vec::with_capacity(result.rows.len());
                            for row in result.rows {
                                let values = row.values.into_iter().map(value).collect();
                                rows.push(mem.put_variants(&mut c, values).await?);
                            }
                            let rows = mem.put_pairs(&mut c, &rows).await?;
                            ReturnArea::default()
                                .u8(0, 0)
                                .pair(4, columns)
                                .pair(12, rows)
                        }
                        Err(e) => error(&mem, &mut c, e).await?,
                    };
                area.write_at(&mem, &mut c, ret)
            })
        },
    )?;
    linker.func_wrap_async(
        M,
        "close",
        |mut c: Caller<'_, ModuleState>, (conn,): (i32,)| {
            Box::new(
                async move { sqlite::Host::close(&mut c.data_mut().sqlite(), conn as u32).await },
            )
        },
    )?;
    Ok(())
}

/// The signatures defined here: their parameter counts.
pub const SIGNATURES: &[(&str, &str, usize)] =
    &[(M, "open", 3), (M, "execute", 6), (M, "close", 1)];
