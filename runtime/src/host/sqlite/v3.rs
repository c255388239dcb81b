//! Spin 4's `spin:sqlite/sqlite@3.1.0` over the SQLite capability: the 2.0.0 functions,
//! and `async` variants whose `execute-async` streams the rows.

use super::{Outcome, Sqlite, SqliteConnection, SqliteCtxView, SqliteError, Value, execute};
use crate::host::bindings::spin::sqlite::sqlite as v3;
use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

super::conversions!(v3);

impl v3::Host for SqliteCtxView<'_> {}

impl v3::HostConnection for SqliteCtxView<'_> {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqliteConnection>, v3::Error>> {
        Ok(SqliteCtxView::open(self, &database)?.map_err(error))
    }

    async fn execute(
        &mut self,
        conn: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<v3::Value>,
    ) -> wasmtime::Result<Result<v3::QueryResult, v3::Error>> {
        let params = parameters.into_iter().map(from_guest).collect();
        let outcome = self.run(&conn, statement, params).await?;
        Ok(outcome.map(query_result).map_err(error))
    }

    async fn last_insert_rowid(
        &mut self,
        conn: Resource<SqliteConnection>,
    ) -> wasmtime::Result<i64> {
        Ok(self.counters(&conn)?.0)
    }

    async fn changes(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<u64> {
        Ok(self.counters(&conn)?.1)
    }

    async fn drop(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        self.close(conn)
    }
}

impl<T> v3::HostConnectionWithStore<T> for Sqlite {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqliteConnection>, v3::Error>> {
        Ok(accessor
            .with(|mut a| a.get().open(&database))?
            .map_err(error))
    }

    /// The statement runs to completion first; its rows are then written to the stream.
    async fn execute_async(
        accessor: &Accessor<T, Self>,
        conn: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<v3::Value>,
    ) -> wasmtime::Result<
        Result<
            (
                Vec<String>,
                StreamReader<v3::RowResult>,
                FutureReader<Result<(), v3::Error>>,
            ),
            v3::Error,
        >,
    > {
        let db = accessor.with(|mut a| a.get().database(&conn))?;
        let params = parameters.into_iter().map(from_guest).collect();
        let outcome = match execute(db, statement, params).await {
            Ok(outcome) => outcome,
            Err(e) => return Ok(Err(error(e))),
        };
        accessor.with(|mut a| {
            a.get().record(&conn, &outcome)?;
            let rows: Vec<v3::RowResult> = outcome.rows.into_iter().map(row).collect();
            let rows = StreamReader::new(&mut a, rows)?;
            let done = FutureReader::new(&mut a, async { Ok::<_, wasmtime::Error>(Ok(())) })?;
            Ok(Ok((outcome.columns, rows, done)))
        })
    }

    async fn last_insert_rowid_async(
        accessor: &Accessor<T, Self>,
        conn: Resource<SqliteConnection>,
    ) -> wasmtime::Result<i64> {
        Ok(accessor.with(|mut a| a.get().counters(&conn))?.0)
    }

    async fn changes_async(
        accessor: &Accessor<T, Self>,
        conn: Resource<SqliteConnection>,
    ) -> wasmtime::Result<u64> {
        Ok(accessor.with(|mut a| a.get().counters(&conn))?.1)
    }
}
