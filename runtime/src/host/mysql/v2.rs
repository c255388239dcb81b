//! `fermyon:spin/mysql@2.0.0` (with `rdbms-types`) over the outbound MySQL capability.

use super::{DataType, MysqlConnection, MysqlCtxView, MysqlError, Value, connect};
use crate::host::bindings::fermyon::spin::{mysql as v2, rdbms_types as types};
use wasmtime::component::Resource;

pub(super) fn error(e: MysqlError) -> types::Error {
    match e {
        MysqlError::ConnectionFailed(m) => types::Error::ConnectionFailed(m),
        MysqlError::QueryFailed(m) => types::Error::QueryFailed(m),
        MysqlError::ValueConversionFailed(m) => types::Error::ValueConversionFailed(m),
        MysqlError::Other(m) => types::Error::Other(m),
    }
}

pub(super) fn param(p: types::ParameterValue) -> Value {
    use types::ParameterValue as P;
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

fn db_value(v: Value) -> types::DbValue {
    use types::DbValue as D;
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

fn data_type(t: DataType) -> types::DbDataType {
    use types::DbDataType as T;
    match t {
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
    }
}

impl types::Host for MysqlCtxView<'_> {}
impl v2::Host for MysqlCtxView<'_> {}

impl v2::HostConnection for MysqlCtxView<'_> {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<MysqlConnection>, types::Error>> {
        let opened = connect(self.outbound(), address).await;
        Ok(self.push(opened)?.map_err(error))
    }

    async fn query(
        &mut self,
        conn: Resource<MysqlConnection>,
        statement: String,
        params: Vec<types::ParameterValue>,
    ) -> wasmtime::Result<Result<types::RowSet, types::Error>> {
        let params = params.into_iter().map(param).collect();
        let result = self.session(&conn)?.query(statement, params).await;
        Ok(result.map_err(error).map(|(columns, rows)| types::RowSet {
            columns: columns
                .into_iter()
                .map(|(name, t)| types::Column {
                    name,
                    data_type: data_type(t),
                })
                .collect(),
            rows: rows
                .into_iter()
                .map(|r| r.into_iter().map(db_value).collect())
                .collect(),
        }))
    }

    async fn execute(
        &mut self,
        conn: Resource<MysqlConnection>,
        statement: String,
        params: Vec<types::ParameterValue>,
    ) -> wasmtime::Result<Result<(), types::Error>> {
        let params = params.into_iter().map(param).collect();
        let result = self.session(&conn)?.execute(statement, params).await;
        Ok(result.map_err(error))
    }

    async fn drop(&mut self, conn: Resource<MysqlConnection>) -> wasmtime::Result<()> {
        self.close(conn)
    }
}
