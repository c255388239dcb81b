//! `fermyon:spin/postgres@2.0.0` (with `rdbms-types`) over the outbound PostgreSQL
//! capability. Types this version has no case for are `unsupported` values of type `other`.

use super::types::{DataType, Value};
use super::{PgConnection, PgCtxView, PgError, connect};
use crate::host::bindings::fermyon::spin::{postgres as v2, rdbms_types as types};
use wasmtime::component::Resource;

fn error(e: PgError) -> types::Error {
    match e {
        PgError::ConnectionFailed(m) => types::Error::ConnectionFailed(m),
        PgError::BadParameter(m) => types::Error::BadParameter(m),
        PgError::QueryFailed(q) => types::Error::QueryFailed(q.text()),
        PgError::ValueConversionFailed(m) => types::Error::ValueConversionFailed(m),
        PgError::Other(m) => types::Error::Other(m),
    }
}

fn param(p: types::ParameterValue) -> Value {
    use types::ParameterValue as P;
    match p {
        P::Boolean(b) => Value::Boolean(b),
        P::Int8(i) => Value::Int8(i),
        P::Int16(i) => Value::Int16(i),
        P::Int32(i) => Value::Int32(i),
        P::Int64(i) => Value::Int64(i),
        P::Uint8(u) => Value::Uint64(u.into()),
        P::Uint16(u) => Value::Uint64(u.into()),
        P::Uint32(u) => Value::Uint64(u.into()),
        P::Uint64(u) => Value::Uint64(u),
        P::Floating32(f) => Value::Floating32(f),
        P::Floating64(f) => Value::Floating64(f),
        P::Str(s) => Value::Str(s),
        P::Binary(b) => Value::Binary(b),
        P::DbNull => Value::Null,
    }
}

fn db_value(v: Value) -> types::DbValue {
    use types::DbValue as D;
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
        Value::Null => D::DbNull,
        _ => D::Unsupported,
    }
}

fn column((name, t): (String, DataType)) -> types::Column {
    use types::DbDataType as T;
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
        _ => T::Other,
    };
    types::Column { name, data_type }
}

impl v2::Host for PgCtxView<'_> {}

super::sync_connection!(v2, types);
