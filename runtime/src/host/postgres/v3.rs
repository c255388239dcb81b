//! `spin:postgres@3.0.0` over the outbound PostgreSQL capability: 2.0.0's cases plus dates
//! and times; types this version has no case for are `unsupported` values of type `other`.

use super::types::{DataType, Value};
use super::{PgConnection, PgCtxView, PgError, connect};
use crate::host::bindings::spin::postgres3_0_0::postgres as v3;
use wasmtime::component::Resource;

fn error(e: PgError) -> v3::Error {
    match e {
        PgError::ConnectionFailed(m) => v3::Error::ConnectionFailed(m),
        PgError::BadParameter(m) => v3::Error::BadParameter(m),
        PgError::QueryFailed(q) => v3::Error::QueryFailed(q.text()),
        PgError::ValueConversionFailed(m) => v3::Error::ValueConversionFailed(m),
        PgError::Other(m) => v3::Error::Other(m),
    }
}

fn param(p: v3::ParameterValue) -> Value {
    use v3::ParameterValue as P;
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
        P::DbNull => Value::Null,
    }
}

fn db_value(v: Value) -> v3::DbValue {
    use v3::DbValue as D;
    match v {
        Value::Boolean(b) => D::Boolean(b),
        Value::Int8(i) => D::Int8(i),
        Value::Int16(i) => D::Int16(i),
        Value::Int32(i) => D::Int32(i),
        Value::Int64(i) => D::Int64(i),
        Value::Floating32(f) => D::Floating32(f),
        Value::Floating64(f) => D::Floating64(f),
        Value::Str(s) => D::Str(s),
        Value::Binary(b) => D::Binary(b),
        Value::Date(d) => D::Date(d),
        Value::Time(t) => D::Time(t),
        Value::Datetime(t) => D::Datetime(t),
        Value::Timestamp(t) => D::Timestamp(t),
        Value::Null => D::DbNull,
        _ => D::Unsupported,
    }
}

fn column((name, t): (String, DataType)) -> v3::Column {
    use v3::DbDataType as T;
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
        _ => T::Other,
    };
    v3::Column { name, data_type }
}

fn row_set((columns, rows): super::RowSet) -> v3::RowSet {
    v3::RowSet {
        columns: columns.into_iter().map(column).collect(),
        rows: rows
            .into_iter()
            .map(|r| r.into_iter().map(db_value).collect())
            .collect(),
    }
}

impl v3::Host for PgCtxView<'_> {}

super::sync_connection!(v3, v3);
