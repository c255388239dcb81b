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

super::rdbms_conversions!(types);

impl v2::Host for PgCtxView<'_> {}

super::sync_connection!(v2, types);
