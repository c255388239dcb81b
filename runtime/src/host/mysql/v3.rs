//! Spin 4's `spin:mysql/mysql@3.0.0` (async; `query` streams its rows) over the outbound
//! MySQL capability.

use super::{DataType, Mysql, MysqlConnection, MysqlCtxView, MysqlError, Value, connect};
use crate::host::bindings::spin::mysql::mysql as v3;
use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

super::conversions!(v3);

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
        let columns = columns.into_iter().map(column).collect();
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
