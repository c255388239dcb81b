//! The SQLite capability, as Spin offers it: a component opens the databases it lists in
//! `sqlite_databases` by label; `default` is `<state-dir>/sqlite_db.db` (Spin's file, created
//! on first use) unless the runtime config's `[sqlite_database.<label>]` says otherwise. A
//! label the component does not list is `access-denied`; a listed label with no database is
//! `no-such-database`. Guests reach it through Spin 1.x's unversioned `fermyon:spin/sqlite`
//! ([`v1`], also behind the pre-component ABI's `sqlite`), `fermyon:spin/sqlite@2.0.0` ([`v2`]) and
//! Spin 4's `spin:sqlite@3.1.0` ([`v3`]), thin adapters over [`Database`].
//!
//! Statements run on a blocking thread, one at a time per database (SQLite's own rule for a
//! connection); a result larger than [`MAX_RESULT_BYTES`] is an error, not an allocation.

mod v1;
mod v2;
mod v3;

use rusqlite::types::{Value as SqlValue, ValueRef};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

/// Most connections one request may hold open at once.
const MAX_OPEN: usize = 256;
/// Largest result set handed to a guest (the sum of its values' sizes).
pub const MAX_RESULT_BYTES: usize = 64 << 20;

/// A value of a row or a parameter (the `value` variant of both interface versions).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A 64-bit integer.
    Integer(i64),
    /// A double.
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
    /// SQL NULL.
    Null,
}

/// What a statement gave back.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, each as many values as columns.
    pub rows: Vec<Vec<Value>>,
    /// Whether the statement may have written (only then do the counters below apply to
    /// the guest's connection: the database's connection is shared).
    pub writes: bool,
    /// `last_insert_rowid()` right after the statement.
    pub last_insert_rowid: i64,
    /// Rows changed by the statement.
    pub changes: u64,
}

/// Why a database cannot be opened or a statement failed; each interface maps it onto its
/// own error.
#[derive(Debug, Clone, PartialEq)]
pub enum SqliteError {
    /// The component does not list the label.
    AccessDenied,
    /// No database is configured for the label.
    NoSuchDatabase,
    /// Too many connections open in this request.
    TooManyConnections,
    /// SQLite's message (or an I/O failure).
    Io(String),
}

/// One database, opened on first use.
#[derive(Debug)]
pub struct Database {
    path: Option<PathBuf>,
    conn: OnceLock<Result<Mutex<rusqlite::Connection>, String>>,
}

impl Database {
    /// A database file (created with its folder on first use), or in memory for `None`.
    pub fn new(path: Option<PathBuf>) -> Self {
        Self {
            path,
            conn: OnceLock::new(),
        }
    }

    /// Where it lives, for the start-up summary.
    pub fn summary(&self) -> String {
        self.path
            .as_ref()
            .map_or("in memory".into(), |p| p.display().to_string())
    }

    fn connection(&self) -> Result<&Mutex<rusqlite::Connection>, SqliteError> {
        let opened = self.conn.get_or_init(|| {
            let conn = match &self.path {
                Some(path) => {
                    if let Some(dir) = path.parent() {
                        std::fs::create_dir_all(dir)
                            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                    }
                    rusqlite::Connection::open(path)
                }
                None => rusqlite::Connection::open_in_memory(),
            }
            .map_err(|e| e.to_string())?;
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .map_err(|e| e.to_string())?;
            Ok(Mutex::new(conn))
        });
        opened.as_ref().map_err(|e| SqliteError::Io(e.clone()))
    }

    /// Run one statement with positional parameters (blocking).
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<Outcome, SqliteError> {
        let conn = self.connection()?;
        let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
        run(&conn, sql, params).map_err(SqliteError::Io)
    }

    /// Run a batch of statements (`spin up --sqlite`), blocking.
    pub fn execute_batch(&self, sql: &str) -> Result<(), SqliteError> {
        let conn = self.connection()?;
        let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
        conn.execute_batch(sql)
            .map_err(|e| SqliteError::Io(e.to_string()))
    }
}

fn run(conn: &rusqlite::Connection, sql: &str, params: &[Value]) -> Result<Outcome, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let writes = !stmt.readonly();
    let params = params.iter().map(|v| match v {
        Value::Integer(i) => SqlValue::Integer(*i),
        Value::Real(f) => SqlValue::Real(*f),
        Value::Text(s) => SqlValue::Text(s.clone()),
        Value::Blob(b) => SqlValue::Blob(b.clone()),
        Value::Null => SqlValue::Null,
    });
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params))
        .map_err(|e| e.to_string())?;
    let (mut out, mut size) = (Vec::new(), 0usize);
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            let value = match row.get_ref(i).map_err(|e| e.to_string())? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Integer(i),
                ValueRef::Real(f) => Value::Real(f),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            };
            size += match &value {
                Value::Text(s) => s.len(),
                Value::Blob(b) => b.len(),
                _ => 8,
            };
            values.push(value);
        }
        if size > MAX_RESULT_BYTES {
            return Err(format!(
                "the result is larger than {} MiB; select fewer rows or columns",
                MAX_RESULT_BYTES >> 20
            ));
        }
        out.push(values);
    }
    drop(rows);
    Ok(Outcome {
        columns,
        rows: out,
        writes,
        last_insert_rowid: conn.last_insert_rowid(),
        changes: conn.changes(),
    })
}

/// The conversions between [`SqliteError`], [`Value`], [`Outcome`] and one interface
/// version's generated types, `$t` being the module that has them (2.0.0 and 3.x have the
/// same cases, but bindgen makes them distinct Rust types).
macro_rules! conversions {
    ($t:ident) => {
        fn error(e: SqliteError) -> $t::Error {
            match e {
                SqliteError::AccessDenied => $t::Error::AccessDenied,
                SqliteError::NoSuchDatabase => $t::Error::NoSuchDatabase,
                SqliteError::TooManyConnections => {
                    $t::Error::Io("too many open connections in this request".into())
                }
                SqliteError::Io(m) => $t::Error::Io(m),
            }
        }

        fn from_guest(v: $t::Value) -> Value {
            match v {
                $t::Value::Integer(i) => Value::Integer(i),
                $t::Value::Real(f) => Value::Real(f),
                $t::Value::Text(s) => Value::Text(s),
                $t::Value::Blob(b) => Value::Blob(b),
                $t::Value::Null => Value::Null,
            }
        }

        fn row(values: Vec<Value>) -> $t::RowResult {
            let values = values.into_iter().map(|v| match v {
                Value::Integer(i) => $t::Value::Integer(i),
                Value::Real(f) => $t::Value::Real(f),
                Value::Text(s) => $t::Value::Text(s),
                Value::Blob(b) => $t::Value::Blob(b),
                Value::Null => $t::Value::Null,
            });
            $t::RowResult {
                values: values.collect(),
            }
        }

        fn query_result(outcome: Outcome) -> $t::QueryResult {
            $t::QueryResult {
                columns: outcome.columns,
                rows: outcome.rows.into_iter().map(row).collect(),
            }
        }
    };
}
use conversions;

/// Every database of an app, by label. Built once per app.
#[derive(Debug, Default)]
pub struct Databases {
    by_label: HashMap<String, Arc<Database>>,
}

impl Databases {
    /// `default` at `<state_dir>/sqlite_db.db`, then the runtime config's databases (a
    /// label there replaces it).
    pub fn configure(state_dir: &Path, configured: &[(String, Option<PathBuf>)]) -> Self {
        let mut by_label = HashMap::new();
        by_label.insert(
            "default".to_string(),
            Arc::new(Database::new(Some(state_dir.join("sqlite_db.db")))),
        );
        for (label, path) in configured {
            by_label.insert(label.clone(), Arc::new(Database::new(path.clone())));
        }
        Self { by_label }
    }

    /// The database for `label`.
    pub fn get(&self, label: &str) -> Option<Arc<Database>> {
        self.by_label.get(label).cloned()
    }
}

/// What one component may open.
#[derive(Debug)]
pub struct ComponentSqlite {
    /// The component (for log lines).
    pub component: String,
    /// Labels listed in its `sqlite_databases`.
    pub labels: HashSet<String>,
    /// The app's databases.
    pub databases: Arc<Databases>,
}

/// The SQLite context of one request.
pub struct SqliteCtx {
    component: Arc<ComponentSqlite>,
    open: usize,
}

impl SqliteCtx {
    /// A request's context for `component`.
    pub fn new(component: Arc<ComponentSqlite>) -> Self {
        Self { component, open: 0 }
    }
}

/// An open connection (the `connection` resource of both interfaces).
pub struct SqliteConnection {
    db: Arc<Database>,
    last_insert_rowid: i64,
    changes: u64,
}

/// The SQLite context and the resource table of a request.
pub struct SqliteCtxView<'a> {
    /// The context.
    pub ctx: &'a mut SqliteCtx,
    /// Where open connections live.
    pub table: &'a mut ResourceTable,
}

/// Implemented by a request's state to give the SQLite interfaces their context.
pub trait SqliteView: Send {
    /// The context, borrowed for one call.
    fn sqlite(&mut self) -> SqliteCtxView<'_>;
}

/// [`HasData`] for the SQLite interfaces.
pub struct Sqlite;

impl HasData for Sqlite {
    type Data<'a> = SqliteCtxView<'a>;
}

/// Link both SQLite interface versions for `T`.
pub fn add_to_linker<T: SqliteView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    crate::host::bindings::fermyon::spin::sqlite::add_to_linker::<T, Sqlite>(linker, T::sqlite)?;
    crate::host::bindings::spin::sqlite::sqlite::add_to_linker::<T, Sqlite>(linker, T::sqlite)?;
    Ok(())
}

impl SqliteCtxView<'_> {
    fn open(
        &mut self,
        label: &str,
    ) -> wasmtime::Result<Result<Resource<SqliteConnection>, SqliteError>> {
        let c = &self.ctx.component;
        if !c.labels.contains(label) {
            tracing::info!(
                component = %c.component,
                "SQLite database `{label}` denied: add it to `sqlite_databases` of component `{}`",
                c.component
            );
            return Ok(Err(SqliteError::AccessDenied));
        }
        let Some(db) = c.databases.get(label) else {
            tracing::info!(
                "SQLite database `{label}` is not configured: add [sqlite_database.{label}] to the runtime config"
            );
            return Ok(Err(SqliteError::NoSuchDatabase));
        };
        if self.ctx.open >= MAX_OPEN {
            return Ok(Err(SqliteError::TooManyConnections));
        }
        self.ctx.open += 1;
        Ok(Ok(self.table.push(SqliteConnection {
            db,
            last_insert_rowid: 0,
            changes: 0,
        })?))
    }

    /// Run a statement on `conn` and record what it wrote.
    async fn run(
        &mut self,
        conn: &Resource<SqliteConnection>,
        statement: String,
        params: Vec<Value>,
    ) -> wasmtime::Result<Result<Outcome, SqliteError>> {
        let db = self.database(conn)?;
        let outcome = execute(db, statement, params).await;
        if let Ok(outcome) = &outcome {
            self.record(conn, outcome)?;
        }
        Ok(outcome)
    }

    fn database(&self, conn: &Resource<SqliteConnection>) -> wasmtime::Result<Arc<Database>> {
        Ok(self.table.get(conn)?.db.clone())
    }

    /// Record what the last writing statement on `conn` did.
    fn record(
        &mut self,
        conn: &Resource<SqliteConnection>,
        outcome: &Outcome,
    ) -> wasmtime::Result<()> {
        let c = self.table.get_mut(conn)?;
        if !outcome.writes {
            return Ok(());
        }
        c.last_insert_rowid = outcome.last_insert_rowid;
        c.changes = outcome.changes;
        Ok(())
    }

    fn counters(&self, conn: &Resource<SqliteConnection>) -> wasmtime::Result<(i64, u64)> {
        let c = self.table.get(conn)?;
        Ok((c.last_insert_rowid, c.changes))
    }

    fn close(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        self.ctx.open = self.ctx.open.saturating_sub(1);
        Ok(())
    }
}

/// Run a statement off the async runtime.
async fn execute(
    db: Arc<Database>,
    sql: String,
    params: Vec<Value>,
) -> Result<Outcome, SqliteError> {
    tokio::task::spawn_blocking(move || db.execute(&sql, &params))
        .await
        .unwrap_or_else(|e| {
            Err(SqliteError::Io(format!(
                "the statement did not finish: {e}"
            )))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_of_every_type_come_back_with_the_counters_of_writes_only() {
        let db = Database::new(None);
        db.execute_batch("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB)")
            .unwrap();
        let params = [
            Value::Integer(-7),
            Value::Real(1.5),
            Value::Text("x".into()),
            Value::Blob(vec![0, 255]),
        ];
        let insert = db
            .execute("INSERT INTO t VALUES (?, ?, ?, ?)", &params)
            .unwrap();
        assert!(insert.writes);
        assert_eq!((insert.last_insert_rowid, insert.changes), (1, 1));
        let rows = db.execute("SELECT *, NULL AS n FROM t", &[]).unwrap();
        assert!(!rows.writes);
        assert_eq!(rows.columns, ["i", "r", "s", "b", "n"]);
        let mut expected = params.to_vec();
        expected.push(Value::Null);
        assert_eq!(rows.rows, [expected]);
    }

    #[test]
    fn sql_errors_are_sqlites_message() {
        let db = Database::new(None);
        let err = db.execute("SELEC 1", &[]).unwrap_err();
        assert!(
            matches!(&err, SqliteError::Io(m) if m.contains("syntax error")),
            "{err:?}"
        );
    }
}
