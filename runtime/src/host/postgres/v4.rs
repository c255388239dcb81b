//! Spin 4's `spin:postgres@4.2.0` over the outbound PostgreSQL capability: every case of
//! [`Value`]; the connection builder (a CA to trust); and the async variants, whose
//! `query-async` writes its rows to a stream once the statement has run. Components
//! importing 4.0.0 or 4.1.0 (subsets of 4.2.0) link to it by semver.

use super::types::{Bound, DataType, Value};
use super::{Pg, PgConnection, PgConnectionBuilder, PgCtxView, PgError, QueryError, connect};
use crate::host::bindings::spin::postgres4_2_0::postgres as v4;
use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

fn error(e: PgError) -> v4::Error {
    match e {
        PgError::ConnectionFailed(m) => v4::Error::ConnectionFailed(m),
        PgError::BadParameter(m) => v4::Error::BadParameter(m),
        PgError::QueryFailed(QueryError::Text(t)) => {
            v4::Error::QueryFailed(v4::QueryError::Text(t))
        }
        PgError::QueryFailed(QueryError::Db(e)) => {
            let e = *e;
            v4::Error::QueryFailed(v4::QueryError::DbError(v4::DbError {
                as_text: e.as_text,
                severity: e.severity,
                code: e.code,
                message: e.message,
                detail: e.detail,
                extras: e.extras,
            }))
        }
        PgError::ValueConversionFailed(m) => v4::Error::ValueConversionFailed(m),
        PgError::Other(m) => v4::Error::Other(m),
    }
}

fn bound_in<T>(b: Option<(T, v4::RangeBoundKind)>) -> Bound<T> {
    b.map(|(v, kind)| (v, kind == v4::RangeBoundKind::Inclusive))
}

fn bound_out<T>(b: Bound<T>) -> Option<(T, v4::RangeBoundKind)> {
    b.map(|(v, inclusive)| {
        let kind = if inclusive {
            v4::RangeBoundKind::Inclusive
        } else {
            v4::RangeBoundKind::Exclusive
        };
        (v, kind)
    })
}

fn param(p: v4::ParameterValue) -> Value {
    use v4::ParameterValue as P;
    match p {
        P::Boolean(b) => Value::Boolean(b),
        P::Int8(i) => Value::Int8(i),
        P::Int16(i) => Value::Int16(i),
        P::Int32(i) => Value::Int32(i),
        P::Int64(i) => Value::Int64(i),
        P::Floating32(f) => Value::Floating32(f),
        P::Floating64(f) => Value::Floating64(f),
        P::Str(s) => Value::Str(s),
        P::Binary(b) => Value::Binary(b),
        P::Date(d) => Value::Date(d),
        P::Time(t) => Value::Time(t),
        P::Datetime(t) => Value::Datetime(t),
        P::Timestamp(t) => Value::Timestamp(t),
        P::Uuid(u) => Value::Uuid(u),
        P::Jsonb(j) => Value::Jsonb(j),
        P::Decimal(d) => Value::Decimal(d),
        P::RangeInt32((lo, hi)) => Value::RangeInt32((bound_in(lo), bound_in(hi))),
        P::RangeInt64((lo, hi)) => Value::RangeInt64((bound_in(lo), bound_in(hi))),
        P::RangeDecimal((lo, hi)) => Value::RangeDecimal((bound_in(lo), bound_in(hi))),
        P::ArrayInt32(a) => Value::ArrayInt32(a),
        P::ArrayInt64(a) => Value::ArrayInt64(a),
        P::ArrayDecimal(a) => Value::ArrayDecimal(a),
        P::ArrayStr(a) => Value::ArrayStr(a),
        P::Interval(i) => Value::Interval {
            micros: i.micros,
            days: i.days,
            months: i.months,
        },
        P::DbNull => Value::Null,
    }
}

fn db_value(v: Value) -> v4::DbValue {
    use v4::DbValue as D;
    match v {
        Value::Boolean(b) => D::Boolean(b),
        Value::Int8(i) => D::Int8(i),
        Value::Int16(i) => D::Int16(i),
        Value::Int32(i) => D::Int32(i),
        Value::Int64(i) => D::Int64(i),
        // Never read from a row (PostgreSQL has no unsigned types); kept whole as text.
        Value::Uint64(u) => D::Decimal(u.to_string()),
        Value::Floating32(f) => D::Floating32(f),
        Value::Floating64(f) => D::Floating64(f),
        Value::Str(s) => D::Str(s),
        Value::Binary(b) => D::Binary(b),
        Value::Date(d) => D::Date(d),
        Value::Time(t) => D::Time(t),
        Value::Datetime(t) => D::Datetime(t),
        Value::Timestamp(t) => D::Timestamp(t),
        Value::Uuid(u) => D::Uuid(u),
        Value::Jsonb(j) => D::Jsonb(j),
        Value::Decimal(d) => D::Decimal(d),
        Value::RangeInt32((lo, hi)) => D::RangeInt32((bound_out(lo), bound_out(hi))),
        Value::RangeInt64((lo, hi)) => D::RangeInt64((bound_out(lo), bound_out(hi))),
        Value::RangeDecimal((lo, hi)) => D::RangeDecimal((bound_out(lo), bound_out(hi))),
        Value::ArrayInt32(a) => D::ArrayInt32(a),
        Value::ArrayInt64(a) => D::ArrayInt64(a),
        Value::ArrayDecimal(a) => D::ArrayDecimal(a),
        Value::ArrayStr(a) => D::ArrayStr(a),
        Value::Interval {
            micros,
            days,
            months,
        } => D::Interval(v4::Interval {
            micros,
            days,
            months,
        }),
        Value::Null => D::DbNull,
        Value::Unsupported(b) => D::Unsupported(b),
    }
}

fn column((name, t): (String, DataType)) -> v4::Column {
    use v4::DbDataType as T;
    let data_type = match t {
        DataType::Boolean => T::Boolean,
        DataType::Int8 => T::Int8,
        DataType::Int16 => T::Int16,
        DataType::Int32 => T::Int32,
        DataType::Int64 => T::Int64,
        DataType::Floating32 => T::Floating32,
        DataType::Floating64 => T::Floating64,
        DataType::Str => T::Str,
        DataType::Binary => T::Binary,
        DataType::Date => T::Date,
        DataType::Time => T::Time,
        DataType::Datetime => T::Datetime,
        DataType::Uuid => T::Uuid,
        DataType::Jsonb => T::Jsonb,
        DataType::Decimal => T::Decimal,
        DataType::RangeInt32 => T::RangeInt32,
        DataType::RangeInt64 => T::RangeInt64,
        DataType::RangeDecimal => T::RangeDecimal,
        DataType::ArrayInt32 => T::ArrayInt32,
        DataType::ArrayInt64 => T::ArrayInt64,
        DataType::ArrayDecimal => T::ArrayDecimal,
        DataType::ArrayStr => T::ArrayStr,
        DataType::Interval => T::Interval,
        DataType::Other(name) => T::Other(name),
    };
    v4::Column { name, data_type }
}

/// For `query-async`: the columns, and the rows to stream.
fn columns_and_rows((columns, rows): super::RowSet) -> (Vec<v4::Column>, Vec<Vec<v4::DbValue>>) {
    (
        columns.into_iter().map(column).collect(),
        rows.into_iter()
            .map(|r| r.into_iter().map(db_value).collect())
            .collect(),
    )
}

fn row_set(set: super::RowSet) -> v4::RowSet {
    let (columns, rows) = columns_and_rows(set);
    v4::RowSet { columns, rows }
}

impl v4::Host for PgCtxView<'_> {}

impl v4::HostConnectionBuilder for PgCtxView<'_> {
    async fn new(&mut self, address: String) -> wasmtime::Result<Resource<PgConnectionBuilder>> {
        Ok(self.table.push(PgConnectionBuilder { address, ca: None })?)
    }

    async fn set_ca_root(
        &mut self,
        builder: Resource<PgConnectionBuilder>,
        certificate: String,
    ) -> wasmtime::Result<Result<(), v4::Error>> {
        if let Err(e) = crate::host::tls::parse_ca(&certificate) {
            return Ok(Err(v4::Error::Other(e)));
        }
        self.table.get_mut(&builder)?.ca = Some(certificate);
        Ok(Ok(()))
    }

    async fn build(
        &mut self,
        builder: Resource<PgConnectionBuilder>,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, v4::Error>> {
        let b = self.table.get(&builder)?;
        let (address, ca) = (b.address.clone(), b.ca.clone());
        let (outbound, clients) = self.parts();
        let opened = connect(outbound, clients, address, ca).await;
        Ok(self.push(opened)?.map_err(error))
    }

    async fn drop(&mut self, builder: Resource<PgConnectionBuilder>) -> wasmtime::Result<()> {
        self.table.delete(builder)?;
        Ok(())
    }
}

super::sync_connection!(v4, v4);

impl<T> v4::HostConnectionBuilderWithStore<T> for Pg {
    async fn build_async(
        accessor: &Accessor<T, Self>,
        builder: Resource<PgConnectionBuilder>,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, v4::Error>> {
        let (address, ca, outbound, clients) = accessor.with(|mut a| {
            let view = a.get();
            let b = view.table.get(&builder)?;
            let (outbound, clients) = view.parts();
            Ok::<_, wasmtime::Error>((b.address.clone(), b.ca.clone(), outbound, clients))
        })?;
        let opened = connect(outbound, clients, address, ca).await;
        Ok(accessor.with(|mut a| a.get().push(opened))?.map_err(error))
    }
}

impl<T> v4::HostConnectionWithStore<T> for Pg {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, v4::Error>> {
        let (outbound, clients) = accessor.with(|mut a| a.get().parts());
        let opened = connect(outbound, clients, address, None).await;
        Ok(accessor.with(|mut a| a.get().push(opened))?.map_err(error))
    }

    /// The statement runs to completion first; its rows are then written to the stream.
    async fn query_async(
        accessor: &Accessor<T, Self>,
        conn: Resource<PgConnection>,
        statement: String,
        params: Vec<v4::ParameterValue>,
    ) -> wasmtime::Result<
        Result<
            (
                Vec<v4::Column>,
                StreamReader<Vec<v4::DbValue>>,
                FutureReader<Result<(), v4::Error>>,
            ),
            v4::Error,
        >,
    > {
        let session = accessor.with(|mut a| a.get().session(&conn))?;
        let params = params.into_iter().map(param).collect();
        let (columns, rows) = match session.query(statement, params).await {
            Ok(set) => columns_and_rows(set),
            Err(e) => return Ok(Err(error(e))),
        };
        accessor.with(|mut a| {
            let rows = StreamReader::new(&mut a, rows)?;
            let done = FutureReader::new(&mut a, async { Ok::<_, wasmtime::Error>(Ok(())) })?;
            Ok(Ok((columns, rows, done)))
        })
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        conn: Resource<PgConnection>,
        statement: String,
        params: Vec<v4::ParameterValue>,
    ) -> wasmtime::Result<Result<u64, v4::Error>> {
        let session = accessor.with(|mut a| a.get().session(&conn))?;
        let params = params.into_iter().map(param).collect();
        Ok(session.execute(statement, params).await.map_err(error))
    }
}
