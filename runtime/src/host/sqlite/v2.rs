//! `fermyon:spin/sqlite@2.0.0` over the SQLite capability.

use super::{Outcome, SqliteConnection, SqliteCtxView, SqliteError, Value};
use crate::host::bindings::fermyon::spin::sqlite as v2;
use wasmtime::component::Resource;

super::conversions!(v2);

impl v2::Host for SqliteCtxView<'_> {}

impl v2::HostConnection for SqliteCtxView<'_> {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqliteConnection>, v2::Error>> {
        Ok(SqliteCtxView::open(self, &database)?.map_err(error))
    }

    async fn execute(
        &mut self,
        conn: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<v2::Value>,
    ) -> wasmtime::Result<Result<v2::QueryResult, v2::Error>> {
        let params = parameters.into_iter().map(from_guest).collect();
        let outcome = self.run(&conn, statement, params).await?;
        Ok(outcome.map(query_result).map_err(error))
    }

    async fn drop(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        self.close(conn)
    }
}
