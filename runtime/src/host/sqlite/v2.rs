//! `fermyon:spin/sqlite@2.0.0` over the SQLite capability.

use super::{SqliteConnection, SqliteCtxView, SqliteError, Value, execute};
use crate::host::bindings::fermyon::spin::sqlite as v2;
use wasmtime::component::Resource;

pub(super) fn error(e: SqliteError) -> v2::Error {
    match e {
        SqliteError::AccessDenied => v2::Error::AccessDenied,
        SqliteError::NoSuchDatabase => v2::Error::NoSuchDatabase,
        SqliteError::TooManyConnections => {
            v2::Error::Io("too many open connections in this request".into())
        }
        SqliteError::Io(m) => v2::Error::Io(m),
    }
}

fn from_guest(v: v2::Value) -> Value {
    match v {
        v2::Value::Integer(i) => Value::Integer(i),
        v2::Value::Real(f) => Value::Real(f),
        v2::Value::Text(s) => Value::Text(s),
        v2::Value::Blob(b) => Value::Blob(b),
        v2::Value::Null => Value::Null,
    }
}

fn to_guest(v: Value) -> v2::Value {
    match v {
        Value::Integer(i) => v2::Value::Integer(i),
        Value::Real(f) => v2::Value::Real(f),
        Value::Text(s) => v2::Value::Text(s),
        Value::Blob(b) => v2::Value::Blob(b),
        Value::Null => v2::Value::Null,
    }
}

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
        let db = self.database(&conn)?;
        let params = parameters.into_iter().map(from_guest).collect();
        let outcome = match execute(db, statement, params).await {
            Ok(outcome) => outcome,
            Err(e) => return Ok(Err(error(e))),
        };
        self.record(&conn, &outcome)?;
        Ok(Ok(v2::QueryResult {
            columns: outcome.columns,
            rows: outcome
                .rows
                .into_iter()
                .map(|row| v2::RowResult {
                    values: row.into_iter().map(to_guest).collect(),
                })
                .collect(),
        }))
    }

    async fn drop(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        self.close(conn)
    }
}
