//! Outbound MySQL (and MariaDB), as Spin offers it: Spin 1.x's unversioned
//! `fermyon:spin/mysql` ([`v1`], also behind the pre-component ABI's `outbound-mysql`),
//! `fermyon:spin/mysql@2.0.0` ([`v2`]) and
//! Spin 4's async `spin:mysql@3.0.0` ([`v3`]), thin adapters over the operations here.
//!
//! `open` takes a URL (`mysql://user:password@host:port/database`); the server must be
//! allowed by `allowed_outbound_hosts` (`mysql://host:port`); a denied one is
//! `connection-failed("address … is not permitted")` and a log line naming the rule to add
//! (the password never appears). Statements run as prepared statements with positional `?`
//! parameters. Column types map onto the interface's `db-data-type` by MySQL's column type and
//! its `UNSIGNED` and `BINARY` flags; values that have no case of their own (dates, times,
//! decimals, JSON) come back as text, with data type `other`. A result larger than
//! [`MAX_RESULT_BYTES`] is an error, not an allocation; SQL errors are `query-failed` with
//! the server's message.

mod v1;
mod v2;
mod v3;

use crate::host::outbound::{Destination, Outbound, Refused};
use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::prelude::Queryable;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

/// Most connections one request may hold open at once.
const MAX_OPEN: usize = 64;
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest result set handed to a guest (the sum of its values' sizes).
pub const MAX_RESULT_BYTES: usize = 64 << 20;

/// Why an operation failed; both interface versions have these cases.
#[derive(Debug, Clone, PartialEq)]
pub enum MysqlError {
    /// Not allowed, not a URL, or the server could not be reached or refused the login.
    ConnectionFailed(String),
    /// The server's error for the statement.
    QueryFailed(String),
    /// A value that does not fit its column's type.
    ValueConversionFailed(String),
    /// Anything else.
    Other(String),
}

impl From<mysql_async::Error> for MysqlError {
    fn from(e: mysql_async::Error) -> Self {
        match e {
            mysql_async::Error::Server(e) => MysqlError::QueryFailed(e.to_string()),
            other => MysqlError::Other(other.to_string()),
        }
    }
}

/// A column's type (`db-data-type` of both interfaces).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DataType {
    Boolean,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Floating32,
    Floating64,
    Str,
    Binary,
    Other,
}

/// A value of a row or a parameter (`db-value` and `parameter-value`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Boolean(bool),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Uint8(u8),
    Uint16(u16),
    Uint32(u32),
    Uint64(u64),
    Floating32(f32),
    Floating64(f64),
    Str(String),
    Binary(Vec<u8>),
    Null,
}

/// The conversions between [`MysqlError`], [`Value`], [`DataType`] and one interface
/// version's generated types, `$t` being the module that has them (Spin 1.x's and 2.0.0's
/// `rdbms-types` and 3.0.0's `mysql` have the same cases, but bindgen makes them distinct Rust
/// types).
macro_rules! conversions {
    ($t:ident) => {
        fn error(e: MysqlError) -> $t::Error {
            match e {
                MysqlError::ConnectionFailed(m) => $t::Error::ConnectionFailed(m),
                MysqlError::QueryFailed(m) => $t::Error::QueryFailed(m),
                MysqlError::ValueConversionFailed(m) => $t::Error::ValueConversionFailed(m),
                MysqlError::Other(m) => $t::Error::Other(m),
            }
        }

        super::conversions!(values $t);
    };
    // `RowSet` of the capability as the version's record (2.0.0 and Spin 1.x's).
    (row_set $t:ident) => {
        fn row_set((columns, rows): super::RowSet) -> $t::RowSet {
            $t::RowSet {
                columns: columns.into_iter().map(column).collect(),
                rows: rows
                    .into_iter()
                    .map(|r| r.into_iter().map(db_value).collect())
                    .collect(),
            }
        }
    };
    // Only the values (Spin 1.x's error type has other names).
    (values $t:ident) => {
        fn param(p: $t::ParameterValue) -> Value {
            use $t::ParameterValue as P;
            match p {
                P::Boolean(b) => Value::Boolean(b),
                P::Int8(i) => Value::Int8(i),
                P::Int16(i) => Value::Int16(i),
                P::Int32(i) => Value::Int32(i),
                P::Int64(i) => Value::Int64(i),
                P::Uint8(u) => Value::Uint8(u),
                P::Uint16(u) => Value::Uint16(u),
                P::Uint32(u) => Value::Uint32(u),
                P::Uint64(u) => Value::Uint64(u),
                P::Floating32(f) => Value::Floating32(f),
                P::Floating64(f) => Value::Floating64(f),
                P::Str(s) => Value::Str(s),
                P::Binary(b) => Value::Binary(b),
                P::DbNull => Value::Null,
            }
        }

        fn db_value(v: Value) -> $t::DbValue {
            use $t::DbValue as D;
            match v {
                Value::Boolean(b) => D::Boolean(b),
                Value::Int8(i) => D::Int8(i),
                Value::Int16(i) => D::Int16(i),
                Value::Int32(i) => D::Int32(i),
                Value::Int64(i) => D::Int64(i),
                Value::Uint8(u) => D::Uint8(u),
                Value::Uint16(u) => D::Uint16(u),
                Value::Uint32(u) => D::Uint32(u),
                Value::Uint64(u) => D::Uint64(u),
                Value::Floating32(f) => D::Floating32(f),
                Value::Floating64(f) => D::Floating64(f),
                Value::Str(s) => D::Str(s),
                Value::Binary(b) => D::Binary(b),
                Value::Null => D::DbNull,
            }
        }

        fn column((name, t): (String, DataType)) -> $t::Column {
            use $t::DbDataType as T;
            let data_type = match t {
                DataType::Boolean => T::Boolean,
                DataType::Int8 => T::Int8,
                DataType::Int16 => T::Int16,
                DataType::Int32 => T::Int32,
                DataType::Int64 => T::Int64,
                DataType::Uint8 => T::Uint8,
                DataType::Uint16 => T::Uint16,
                DataType::Uint32 => T::Uint32,
                DataType::Uint64 => T::Uint64,
                DataType::Floating32 => T::Floating32,
                DataType::Floating64 => T::Floating64,
                DataType::Str => T::Str,
                DataType::Binary => T::Binary,
                DataType::Other => T::Other,
            };
            $t::Column { name, data_type }
        }
    };
}
use conversions;

/// A query's columns (name, type) and rows.
pub type RowSet = (Vec<(String, DataType)>, Vec<Vec<Value>>);

fn data_type(c: &mysql_async::Column) -> DataType {
    let unsigned = c.flags().contains(ColumnFlags::UNSIGNED_FLAG);
    let binary = c.flags().contains(ColumnFlags::BINARY_FLAG);
    match (c.column_type(), unsigned) {
        (ColumnType::MYSQL_TYPE_BIT, _) if c.column_length() == 1 => DataType::Boolean,
        (ColumnType::MYSQL_TYPE_TINY, false) => DataType::Int8,
        (ColumnType::MYSQL_TYPE_TINY, true) => DataType::Uint8,
        (ColumnType::MYSQL_TYPE_SHORT | ColumnType::MYSQL_TYPE_YEAR, false) => DataType::Int16,
        (ColumnType::MYSQL_TYPE_SHORT | ColumnType::MYSQL_TYPE_YEAR, true) => DataType::Uint16,
        (ColumnType::MYSQL_TYPE_INT24 | ColumnType::MYSQL_TYPE_LONG, false) => DataType::Int32,
        (ColumnType::MYSQL_TYPE_INT24 | ColumnType::MYSQL_TYPE_LONG, true) => DataType::Uint32,
        (ColumnType::MYSQL_TYPE_LONGLONG, false) => DataType::Int64,
        (ColumnType::MYSQL_TYPE_LONGLONG, true) => DataType::Uint64,
        (ColumnType::MYSQL_TYPE_FLOAT, _) => DataType::Floating32,
        (ColumnType::MYSQL_TYPE_DOUBLE, _) => DataType::Floating64,
        (
            ColumnType::MYSQL_TYPE_VARCHAR
            | ColumnType::MYSQL_TYPE_VAR_STRING
            | ColumnType::MYSQL_TYPE_STRING
            | ColumnType::MYSQL_TYPE_TINY_BLOB
            | ColumnType::MYSQL_TYPE_MEDIUM_BLOB
            | ColumnType::MYSQL_TYPE_LONG_BLOB
            | ColumnType::MYSQL_TYPE_BLOB,
            _,
        ) => {
            // Character set 63 is `binary`: BLOB, BINARY, VARBINARY.
            if binary && c.character_set() == 63 {
                DataType::Binary
            } else {
                DataType::Str
            }
        }
        _ => DataType::Other,
    }
}

/// A value as the column's type says, or why it does not fit.
fn value(v: mysql_async::Value, ty: DataType, column: &str) -> Result<Value, MysqlError> {
    use mysql_async::Value as V;
    let misfit = |v: &dyn std::fmt::Debug| {
        MysqlError::ValueConversionFailed(format!("column `{column}`: {v:?} is not a {ty:?}"))
    };
    let int = |i: i128| -> Result<Value, MysqlError> {
        Ok(match ty {
            DataType::Boolean => Value::Boolean(i != 0),
            DataType::Int8 => Value::Int8(i.try_into().map_err(|_| misfit(&i))?),
            DataType::Int16 => Value::Int16(i.try_into().map_err(|_| misfit(&i))?),
            DataType::Int32 => Value::Int32(i.try_into().map_err(|_| misfit(&i))?),
            DataType::Uint8 => Value::Uint8(i.try_into().map_err(|_| misfit(&i))?),
            DataType::Uint16 => Value::Uint16(i.try_into().map_err(|_| misfit(&i))?),
            DataType::Uint32 => Value::Uint32(i.try_into().map_err(|_| misfit(&i))?),
            DataType::Uint64 => Value::Uint64(i.try_into().map_err(|_| misfit(&i))?),
            _ => Value::Int64(i.try_into().map_err(|_| misfit(&i))?),
        })
    };
    Ok(match v {
        V::NULL => Value::Null,
        V::Int(i) => int(i.into())?,
        V::UInt(u) => int(u.into())?,
        V::Float(f) => Value::Floating32(f),
        V::Double(d) if ty == DataType::Floating32 => Value::Floating32(d as f32),
        V::Double(d) => Value::Floating64(d),
        V::Bytes(b) if ty == DataType::Binary => Value::Binary(b),
        V::Bytes(b) if ty == DataType::Boolean => Value::Boolean(b.iter().any(|x| *x != 0)),
        V::Bytes(b) => match String::from_utf8(b) {
            Ok(s) => Value::Str(s),
            Err(e) => Value::Binary(e.into_bytes()),
        },
        V::Date(y, mo, d, h, mi, s, us) => Value::Str(if (h, mi, s, us) == (0, 0, 0, 0) {
            format!("{y:04}-{mo:02}-{d:02}")
        } else if us == 0 {
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
        } else {
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}")
        }),
        V::Time(neg, days, h, mi, s, us) => {
            let hours = days * 24 + u32::from(h);
            let sign = if neg { "-" } else { "" };
            Value::Str(if us == 0 {
                format!("{sign}{hours:02}:{mi:02}:{s:02}")
            } else {
                format!("{sign}{hours:02}:{mi:02}:{s:02}.{us:06}")
            })
        }
    })
}

fn param(v: Value) -> mysql_async::Value {
    use mysql_async::Value as V;
    match v {
        Value::Boolean(b) => V::Int(b.into()),
        Value::Int8(i) => V::Int(i.into()),
        Value::Int16(i) => V::Int(i.into()),
        Value::Int32(i) => V::Int(i.into()),
        Value::Int64(i) => V::Int(i),
        Value::Uint8(u) => V::UInt(u.into()),
        Value::Uint16(u) => V::UInt(u.into()),
        Value::Uint32(u) => V::UInt(u.into()),
        Value::Uint64(u) => V::UInt(u),
        Value::Floating32(f) => V::Float(f),
        Value::Floating64(f) => V::Double(f),
        Value::Str(s) => V::Bytes(s.into_bytes()),
        Value::Binary(b) => V::Bytes(b),
        Value::Null => V::NULL,
    }
}

/// An open connection (the `connection` resource of both versions).
pub struct MysqlConnection {
    conn: Arc<tokio::sync::Mutex<mysql_async::Conn>>,
}

/// The operations both versions offer, on one connection.
pub struct Session(Arc<tokio::sync::Mutex<mysql_async::Conn>>);

impl Session {
    /// Run a statement that returns rows.
    pub async fn query(self, sql: String, params: Vec<Value>) -> Result<RowSet, MysqlError> {
        let mut conn = self.0.lock().await;
        let params: Vec<mysql_async::Value> = params.into_iter().map(param).collect();
        let mut result = conn.exec_iter(sql, params).await?;
        let columns: Vec<(String, DataType)> = result
            .columns_ref()
            .iter()
            .map(|c| (c.name_str().into_owned(), data_type(c)))
            .collect();
        let (mut rows, mut size) = (Vec::new(), 0usize);
        while let Some(row) = result.next().await? {
            let mut values = Vec::with_capacity(columns.len());
            for (raw, (name, ty)) in row.unwrap().into_iter().zip(&columns) {
                let v = value(raw, *ty, name)?;
                size += match &v {
                    Value::Str(s) => s.len(),
                    Value::Binary(b) => b.len(),
                    _ => 8,
                };
                values.push(v);
            }
            if size > MAX_RESULT_BYTES {
                return Err(MysqlError::Other(format!(
                    "the result is larger than {} MiB; select fewer rows or columns",
                    MAX_RESULT_BYTES >> 20
                )));
            }
            rows.push(values);
        }
        Ok((columns, rows))
    }

    /// Run a statement for its effect.
    pub async fn execute(self, sql: String, params: Vec<Value>) -> Result<(), MysqlError> {
        let mut conn = self.0.lock().await;
        let params: Vec<mysql_async::Value> = params.into_iter().map(param).collect();
        Ok(conn.exec_drop(sql, params).await?)
    }
}

/// Check `address` against the rules and connect.
pub async fn connect(
    outbound: Arc<Outbound>,
    address: String,
) -> Result<MysqlConnection, MysqlError> {
    let invalid = || MysqlError::ConnectionFailed("the address is not a mysql:// URL".into());
    let url = url::Url::parse(&address).map_err(|_| invalid())?;
    if url.scheme() != "mysql" {
        return Err(invalid());
    }
    let host = match url.host() {
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        Some(host) => host.to_string(),
        None => return Err(invalid()),
    };
    let authority = format!("{host}:{}", url.port().unwrap_or(3306));
    match outbound.check("mysql", Some(&authority)) {
        Ok(Destination::AsNamed) => {}
        Ok(_) | Err(Refused::InvalidUri | Refused::Denied) => {
            return Err(MysqlError::ConnectionFailed(format!(
                "address mysql://{authority} is not permitted"
            )));
        }
    }
    let opts = mysql_async::Opts::from_url(&address)
        .map_err(|e| MysqlError::ConnectionFailed(e.to_string()))?;
    // Only the policed TCP address: no `socket=` path, and no switching to the server's own
    // Unix socket once connected.
    if opts.socket().is_some() {
        return Err(MysqlError::ConnectionFailed(
            "connecting through a Unix socket (`socket=`) is not permitted".into(),
        ));
    }
    let opts: mysql_async::Opts = mysql_async::OptsBuilder::from_opts(opts)
        .prefer_socket(false)
        .into();
    let conn = tokio::time::timeout(CONNECT_TIMEOUT, mysql_async::Conn::new(opts))
        .await
        .map_err(|_| {
            MysqlError::ConnectionFailed(format!(
                "connecting took longer than {}s",
                CONNECT_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| MysqlError::ConnectionFailed(e.to_string()))?;
    Ok(MysqlConnection {
        conn: Arc::new(tokio::sync::Mutex::new(conn)),
    })
}

/// The MySQL context of one request.
pub struct MysqlCtx {
    outbound: Arc<Outbound>,
    open: usize,
    /// Spin 1.x's connections, by the address its calls name.
    by_address: std::collections::HashMap<String, MysqlConnection>,
}

impl MysqlCtx {
    /// A request's context: the component's rules.
    pub fn new(outbound: Arc<Outbound>) -> Self {
        Self {
            outbound,
            open: 0,
            by_address: Default::default(),
        }
    }
}

/// The MySQL context and the resource table of a request.
pub struct MysqlCtxView<'a> {
    /// The context.
    pub ctx: &'a mut MysqlCtx,
    /// Where open connections live.
    pub table: &'a mut ResourceTable,
}

/// Implemented by a request's state to give the MySQL interfaces their context.
pub trait MysqlView: Send {
    /// The context, borrowed for one call.
    fn mysql(&mut self) -> MysqlCtxView<'_>;
}

/// [`HasData`] for the MySQL interfaces.
pub struct Mysql;

impl HasData for Mysql {
    type Data<'a> = MysqlCtxView<'a>;
}

/// Link both MySQL interface versions for `T`.
pub fn add_to_linker<T: MysqlView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    crate::host::bindings::fermyon::spin::mysql::add_to_linker::<T, Mysql>(linker, T::mysql)?;
    crate::host::bindings::spin::mysql::mysql::add_to_linker::<T, Mysql>(linker, T::mysql)?;
    Ok(())
}

impl MysqlCtxView<'_> {
    fn outbound(&self) -> Arc<Outbound> {
        self.ctx.outbound.clone()
    }

    /// Count one more open connection, unless the request holds as many as it may.
    fn admit(&mut self) -> Result<(), MysqlError> {
        if self.ctx.open >= MAX_OPEN {
            return Err(MysqlError::ConnectionFailed(
                "too many open connections in this request".into(),
            ));
        }
        self.ctx.open += 1;
        Ok(())
    }

    fn push(
        &mut self,
        opened: Result<MysqlConnection, MysqlError>,
    ) -> wasmtime::Result<Result<Resource<MysqlConnection>, MysqlError>> {
        let conn = match opened.and_then(|conn| self.admit().map(|()| conn)) {
            Ok(conn) => conn,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(self.table.push(conn)?))
    }

    fn session(&self, conn: &Resource<MysqlConnection>) -> wasmtime::Result<Session> {
        Ok(Session(self.table.get(conn)?.conn.clone()))
    }

    fn close(&mut self, conn: Resource<MysqlConnection>) -> wasmtime::Result<()> {
        let conn = self.table.delete(conn)?;
        self.ctx.open = self.ctx.open.saturating_sub(1);
        // Say goodbye to the server off the guest's time.
        tokio::spawn(async move {
            if let Ok(conn) = Arc::try_unwrap(conn.conn) {
                let _ = conn.into_inner().disconnect().await;
            }
        });
        Ok(())
    }
}
