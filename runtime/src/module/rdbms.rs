//! The pre-component ABI's `outbound-pg` and `outbound-mysql` (Spin 1.x SDKs): the guest's
//! arguments read out of its memory, the call made through Spin 1.x's unversioned
//! `fermyon:spin/postgres` and `mysql` (the same interfaces, as components see them), and
//! the result written back.
//!
//! Layouts: `parameter-value` and `db-value` are 16-byte variants (payload at 8); a `column`
//! is 12 bytes (name, then the `db-data-type` byte); a `row-set` is two lists; the errors are
//! variants with a string payload at 4. `query` returns `expected<row-set, error>` (payload
//! at 4), pg's `execute` `expected<u64, error>` (payload at 8), mysql's `expected<unit,
//! error>` (payload at 4).

use super::abi::{GuestMemory, ReturnArea, Variant, dword, word};
use crate::host::mysql::MysqlView;
use crate::host::postgres::PgView;
use crate::host::spin_v1::bindings::fermyon::spin::mysql::{self, Host as _};
use crate::host::spin_v1::bindings::fermyon::spin::postgres::{self, Host as _};
use crate::host::spin_v1::bindings::fermyon::spin::rdbms_types::{
    Column, DbValue, ParameterValue, RowSet,
};
use crate::state::ModuleState;
use wasmtime::{Caller, Linker};

type Result<T> = wasmtime::Result<T>;

/// The flat parameters of `query` and `execute`: address, statement and parameters as
/// `(ptr, len)` each, then the return area.
type Args = (i32, i32, i32, i32, i32, i32, i32);

/// Define `outbound-pg` and `outbound-mysql` on `linker`.
pub fn add_to_linker(linker: &mut Linker<ModuleState>) -> Result<()> {
    linker.func_wrap_async(
        "outbound-pg",
        "query",
        |mut caller: Caller<'_, ModuleState>, args: Args| {
            Box::new(async move {
                let (mem, address, statement, params) = read(&mut caller, args)?;
                let mut view = caller.data_mut().postgres();
                let result = view.query(address, statement, params).await?;
                let area = query_answer(&mem, &mut caller, result.map_err(pg_error)).await?;
                area.write_at(&mem, &mut caller, args.6)
            })
        },
    )?;
    linker.func_wrap_async(
        "outbound-pg",
        "execute",
        |mut caller: Caller<'_, ModuleState>, args: Args| {
            Box::new(async move {
                let (mem, address, statement, params) = read(&mut caller, args)?;
                let mut view = caller.data_mut().postgres();
                let area = match view.execute(address, statement, params).await? {
                    Ok(n) => ReturnArea::default()
                        .u8(0, 0)
                        .i32(8, n as u32 as i32)
                        .i32(12, (n >> 32) as u32 as i32),
                    Err(e) => error(&mem, &mut caller, 8, pg_error(e)).await?,
                };
                area.write_at(&mem, &mut caller, args.6)
            })
        },
    )?;
    linker.func_wrap_async(
        "outbound-mysql",
        "query",
        |mut caller: Caller<'_, ModuleState>, args: Args| {
            Box::new(async move {
                let (mem, address, statement, params) = read(&mut caller, args)?;
                let mut view = caller.data_mut().mysql();
                let result = view.query(address, statement, params).await?;
                let area = query_answer(&mem, &mut caller, result.map_err(mysql_error)).await?;
                area.write_at(&mem, &mut caller, args.6)
            })
        },
    )?;
    linker.func_wrap_async(
        "outbound-mysql",
        "execute",
        |mut caller: Caller<'_, ModuleState>, args: Args| {
            Box::new(async move {
                let (mem, address, statement, params) = read(&mut caller, args)?;
                let mut view = caller.data_mut().mysql();
                let area = match view.execute(address, statement, params).await? {
                    Ok(()) => ReturnArea::default().u8(0, 0),
                    Err(e) => error(&mem, &mut caller, 4, mysql_error(e)).await?,
                };
                area.write_at(&mem, &mut caller, args.6)
            })
        },
    )?;
    Ok(())
}

/// The guest's memory, address, statement and parameters.
fn read(
    caller: &mut Caller<'_, ModuleState>,
    (ap, al, sp, sl, pp, pl, _): Args,
) -> Result<(GuestMemory, String, String, Vec<ParameterValue>)> {
    let mem = GuestMemory::of_caller(caller)?;
    let address = mem.string(&*caller, ap, al)?;
    let statement = mem.string(&*caller, sp, sl)?;
    let params = mem
        .records(&*caller, pp, pl, 16)?
        .iter()
        .map(|e| parameter(&mem, &*caller, e))
        .collect::<Result<_>>()?;
    Ok((mem, address, statement, params))
}

/// One `parameter-value` (16 bytes: the case at 0, the payload at 8).
fn parameter(
    mem: &GuestMemory,
    caller: &Caller<'_, ModuleState>,
    e: &[u8],
) -> Result<ParameterValue> {
    use ParameterValue as P;
    let p = dword(e, 8);
    let half = |n: usize| p[..n].to_vec();
    Ok(match e[0] {
        0 => P::Boolean(p[0] != 0),
        1 => P::Int8(p[0] as i8),
        2 => P::Int16(i16::from_le_bytes([p[0], p[1]])),
        3 => P::Int32(word(e, 8)),
        4 => P::Int64(i64::from_le_bytes(p)),
        5 => P::Uint8(p[0]),
        6 => P::Uint16(u16::from_le_bytes([p[0], p[1]])),
        7 => P::Uint32(word(e, 8) as u32),
        8 => P::Uint64(u64::from_le_bytes(p)),
        9 => P::Floating32(f32::from_le_bytes(half(4).try_into().expect("4 bytes"))),
        10 => P::Floating64(f64::from_le_bytes(p)),
        11 => P::Str(mem.string(caller, word(e, 8), word(e, 12))?),
        12 => P::Binary(mem.bytes(caller, word(e, 8), word(e, 12))?),
        13 => P::DbNull,
        n => {
            return Err(wasmtime::format_err!(
                "the module broke Spin's ABI: parameter-value case {n} does not exist"
            ));
        }
    })
}

/// What `query` returns, `expected<row-set, error>` (payload at 4): the row set's two lists,
/// or the error variant.
async fn query_answer(
    mem: &GuestMemory,
    caller: &mut Caller<'_, ModuleState>,
    result: std::result::Result<RowSet, (u8, Option<String>)>,
) -> Result<ReturnArea> {
    match result {
        Ok(set) => {
            let (columns, rows) = put_row_set(mem, caller, set).await?;
            Ok(ReturnArea::default()
                .u8(0, 0)
                .pair(4, columns)
                .pair(12, rows))
        }
        Err(e) => error(mem, caller, 4, e).await,
    }
}

/// `err` with an error variant (its case, its message if it has one) at `offset`.
async fn error(
    mem: &GuestMemory,
    caller: &mut Caller<'_, ModuleState>,
    offset: i32,
    (case, message): (u8, Option<String>),
) -> Result<ReturnArea> {
    let area = ReturnArea::default().u8(0, 1).u8(offset, case);
    Ok(match message {
        Some(m) => area.pair(offset + 4, mem.put(&mut *caller, 1, m.as_bytes()).await?),
        None => area,
    })
}

fn pg_error(e: postgres::PgError) -> (u8, Option<String>) {
    use postgres::PgError as E;
    match e {
        E::Success => (0, None),
        E::ConnectionFailed(m) => (1, Some(m)),
        E::BadParameter(m) => (2, Some(m)),
        E::QueryFailed(m) => (3, Some(m)),
        E::ValueConversionFailed(m) => (4, Some(m)),
        E::OtherError(m) => (5, Some(m)),
    }
}

fn mysql_error(e: mysql::MysqlError) -> (u8, Option<String>) {
    use mysql::MysqlError as E;
    match e {
        E::Success => (0, None),
        E::ConnectionFailed(m) => (1, Some(m)),
        E::BadParameter(m) => (2, Some(m)),
        E::QueryFailed(m) => (3, Some(m)),
        E::ValueConversionFailed(m) => (4, Some(m)),
        E::OtherError(m) => (5, Some(m)),
    }
}

/// A `db-value` as its list element.
fn db_value(v: DbValue) -> Variant {
    use DbValue as D;
    match v {
        D::Boolean(b) => Variant::scalar(0, &[b as u8]),
        D::Int8(i) => Variant::scalar(1, &i.to_le_bytes()),
        D::Int16(i) => Variant::scalar(2, &i.to_le_bytes()),
        D::Int32(i) => Variant::scalar(3, &i.to_le_bytes()),
        D::Int64(i) => Variant::scalar(4, &i.to_le_bytes()),
        D::Uint8(u) => Variant::scalar(5, &u.to_le_bytes()),
        D::Uint16(u) => Variant::scalar(6, &u.to_le_bytes()),
        D::Uint32(u) => Variant::scalar(7, &u.to_le_bytes()),
        D::Uint64(u) => Variant::scalar(8, &u.to_le_bytes()),
        D::Floating32(f) => Variant::scalar(9, &f.to_le_bytes()),
        D::Floating64(f) => Variant::scalar(10, &f.to_le_bytes()),
        D::Str(s) => Variant::Bytes(11, s.into_bytes()),
        D::Binary(b) => Variant::Bytes(12, b),
        D::DbNull => Variant::empty(13),
        D::Unsupported => Variant::empty(14),
    }
}

/// A `row-set` in guest memory: its columns and rows lists.
async fn put_row_set(
    mem: &GuestMemory,
    caller: &mut Caller<'_, ModuleState>,
    set: RowSet,
) -> Result<((i32, i32), (i32, i32))> {
    let mut columns = Vec::with_capacity(set.columns.len() * 12);
    for Column { name, data_type } in &set.columns {
        let (p, l) = mem.put(&mut *caller, 1, name.as_bytes()).await?;
        columns.extend_from_slice(&p.to_le_bytes());
        columns.extend_from_slice(&l.to_le_bytes());
        columns.extend_from_slice(&[*data_type as u8, 0, 0, 0]);
    }
    let (columns_ptr, _) = mem.put(&mut *caller, 4, &columns).await?;
    let mut rows = Vec::with_capacity(set.rows.len());
    for row in set.rows {
        let values = row.into_iter().map(db_value).collect();
        rows.push(mem.put_variants(&mut *caller, values).await?);
    }
    let rows = mem.put_pairs(&mut *caller, &rows).await?;
    Ok(((columns_ptr, set.columns.len() as i32), rows))
}

/// The signatures defined here, by module and function: their parameter counts.
pub const SIGNATURES: &[(&str, &str, usize)] = &[
    ("outbound-pg", "query", 7),
    ("outbound-pg", "execute", 7),
    ("outbound-mysql", "query", 7),
    ("outbound-mysql", "execute", 7),
];
