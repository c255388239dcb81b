//! Spin 4's `spin:mysql/mysql@3.0.0` (async; `query` streams its rows) over the outbound
//! MySQL capability.

use super::{DataType, Mysql, MysqlConnection, MysqlCtxView, MysqlError, Value, connect};
use crate::host::bindings::spin::mysql::mysql as v3;
use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

fn error(e: MysqlError) -> v3::Error {
    match e {
        MysqlError::ConnectionFailed(m) => v3::Error::ConnectionFailed(m),
        MysqlError::QueryFailed(m) => v3::Error::QueryFailed(m),
        MysqlError::ValueConversionFailed(m) => v3::Error::ValueConversionFailed(m),
        MysqlError::Other(m) => v3::Error::Other(m),
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

fn db_value(v: Value) -> v3::DbValue {
    use v3::DbValue as D;
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

fn data_type(t: DataType) -> v3::DbDataType {
    use v3::DbDataType as T;
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

impl v3::Host for MysqlCtxView<'_> {}

impl v3::HostConnection for MysqlCtxView<'_> {
    fn drop(&mut self, conn: Resource<MysqlConnection>) -> wasmtime::Result<()> {
        self.close(conn)
    }
}

impl<T> v3::HostConnectionWithStore<T> for Mysql {
    async fn open(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> wasmtime::Result<Result<Resource<MysqlConnection>, v3::Error>> {
        let outbound = accessor.with(|mut a| a.get().outbound());
        let opened = connect(outbound, address).await;
        Ok(accessor.with(|mut a| a.get().push(opened))?.map_err(error))
    }

    /// The statement runs to completion first; its rows are then written to the stream.
    async fn query(
        accessor: &Accessor<T, Self>,
        conn: Resource<MysqlConnection>,
        statement: String,
        params: Vec<v3::ParameterValue>,
    ) -> wasmtime::Result<
        Result<
            (
                Vec<v3::Column>,
                StreamReader<Vec<v3::DbValue>>,
                FutureReader<Result<(), v3::Error>>,
            ),
            v3::Error,
        >,
    > {
        let session = accessor.with(|mut a| a.get().session(&conn))?;
        let params = params.into_iter().map(param).collect();
        let (columns, rows) = match session.query(statement, params).await {
            Ok(set) => set,
            Err(e) => return Ok(Err(error(e))),
        };
        let columns = columns
            .into_iter()
            .map(|(name, t)| v3::Column {
                name,
                data_type: data_type(t),
            })
            .collect();
        let rows: Vec<Vec<v3::DbValue>> = rows
            .into_iter()
            .map(|r| r.into_iter().map(db_value).collect())
            .collect();
        accessor.with(|mut a| {
            let rows = StreamReader::new(&mut a, rows)?;
            let done = FutureReader::new(&mut a, async { Ok::<_, wasmtime::Error>(Ok(())) })?;
            Ok(Ok((columns, rows, done)))
        })
    }

    async fn execute(
        accessor: &Accessor<T, Self>,
        conn: Resource<MysqlConnection>,
        statement: String,
        params: Vec<v3::ParameterValue>,
    ) -> wasmtime::Result<Result<(), v3::Error>> {
        let session = accessor.with(|mut a| a.get().session(&conn))?;
        let params = params.into_iter().map(param).collect();
        Ok(session.execute(statement, params).await.map_err(error))
    }
}
