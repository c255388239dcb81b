//! Spin 1.x's unversioned `fermyon:spin/sqlite` (also what the pre-component ABI's `sqlite`
//! import calls): connections are numbers, and a number that names no open connection is
//! `invalid-connection`.

use super::{Outcome, SqliteConnection, SqliteCtxView, SqliteError, Value};
use crate::host::spin_v1::bindings::fermyon::spin::sqlite as v1;
use wasmtime::component::Resource;

super::conversions!(v1);

impl SqliteCtxView<'_> {
    /// The open connection `conn` names, if it names one.
    fn numbered(&self, conn: u32) -> Option<Resource<SqliteConnection>> {
        let r = Resource::new_borrow(conn);
        self.table.get(&r).is_ok().then_some(r)
    }
}

impl v1::Host for SqliteCtxView<'_> {
    async fn open(&mut self, database: String) -> wasmtime::Result<Result<u32, v1::Error>> {
        Ok(SqliteCtxView::open(self, &database)?
            .map(|r| r.rep())
            .map_err(error))
    }

    async fn execute(
        &mut self,
        conn: u32,
        statement: String,
        parameters: Vec<v1::Value>,
    ) -> wasmtime::Result<Result<v1::QueryResult, v1::Error>> {
        let Some(conn) = self.numbered(conn) else {
            return Ok(Err(v1::Error::InvalidConnection));
        };
        let params = parameters.into_iter().map(from_guest).collect();
        let outcome = self.run(&conn, statement, params).await?;
        Ok(outcome.map(query_result).map_err(error))
    }

    async fn close(&mut self, conn: u32) -> wasmtime::Result<()> {
        if self.numbered(conn).is_some() {
            SqliteCtxView::close(self, Resource::new_own(conn))?;
        }
        Ok(())
    }
}
