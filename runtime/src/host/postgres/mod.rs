//! Outbound PostgreSQL, as Spin offers it: Spin 1.x's unversioned `fermyon:spin/postgres`
//! ([`v1`], also behind the pre-component ABI's `outbound-pg`), `fermyon:spin/postgres@2.0.0` ([`v2`]),
//! `spin:postgres@3.0.0` ([`v3`]) and Spin 4's `spin:postgres@4.2.0` ([`v4`], which also
//! serves components importing 4.0.0 and 4.1.0), thin adapters over the operations here.
//!
//! `open` takes a URL (`postgres://user:password@host:port/db?sslmode=…`) or libpq's
//! `key=value` form; every host it names must be allowed by `allowed_outbound_hosts`
//! (`postgres://host:port`), else `connection-failed("address … is not permitted")` and a log
//! line naming the rule to add (never the password). Unix sockets are never reached.
//!
//! TLS follows `sslmode`: `disable` is plain TCP; `prefer` (the default) uses TLS when the
//! server offers it and `require` insists on it. When TLS is used the server's certificate is
//! always verified, against the system's roots (`SSL_CERT_FILE`/`SSL_CERT_DIR` replace
//! them) or only the CA a Spin 4 guest gave with
//! `connection-builder.set-ca-root`; an untrusted certificate fails the connection.
//!
//! Connections are pooled per address: a connection a request drops is rolled back and reset
//! (what `DISCARD ALL` does, but for the client's own prepared statements) before another
//! request gets it. Statements are prepared, so their
//! parameters are encoded for the server's inferred types ([`types::Param`]), and a query's
//! columns are known even when it returns no rows. A result larger than [`MAX_RESULT_BYTES`]
//! is an error, not an allocation.

mod pool;
mod tls;
mod types;
mod v1;
mod v2;
mod v3;
mod v4;
mod wire;

use crate::host::outbound::{Destination, Outbound, Refused};
use futures::StreamExt;
pub use pool::{PgClients, PgConnection};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::config::{Host, SslMode};
use types::{DataType, Param, Value};
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

/// Most connections one request may hold open at once.
const MAX_OPEN: usize = 64;
/// How long connecting (and resetting a pooled connection) may take unless the address
/// says otherwise.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest result set handed to a guest (the sum of its values' sizes).
pub const MAX_RESULT_BYTES: usize = 64 << 20;

/// A structured error from the server.
#[derive(Debug, Clone, PartialEq)]
pub struct DbError {
    /// One line: severity, message, SQLSTATE and detail.
    pub as_text: String,
    pub severity: String,
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    /// The other fields the server sent (hint, table, column, constraint, …).
    pub extras: Vec<(String, String)>,
}

/// Why a statement failed.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryError {
    Text(String),
    /// Boxed: the error values stay small.
    Db(Box<DbError>),
}

impl QueryError {
    fn text(&self) -> String {
        match self {
            QueryError::Text(t) => t.clone(),
            QueryError::Db(e) => e.as_text.clone(),
        }
    }
}

/// Why an operation failed; every version has these cases.
#[derive(Debug, Clone, PartialEq)]
pub enum PgError {
    /// Not allowed, not an address, or the server could not be reached or refused the login.
    ConnectionFailed(String),
    /// A parameter the statement's placeholder cannot take.
    BadParameter(String),
    /// The server's error for the statement.
    QueryFailed(QueryError),
    /// A value that could not be read.
    ValueConversionFailed(String),
    /// Anything else.
    Other(String),
}

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> Self {
        let Some(db) = e.as_db_error() else {
            return PgError::QueryFailed(QueryError::Text(e.to_string()));
        };
        let mut as_text = format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
        if let Some(detail) = db.detail() {
            as_text += &format!(": {detail}");
        }
        let mut extras = Vec::new();
        let mut extra = |name: &str, value: Option<&str>| {
            if let Some(v) = value {
                extras.push((name.to_string(), v.to_string()));
            }
        };
        extra("hint", db.hint());
        extra("schema", db.schema());
        extra("table", db.table());
        extra("column", db.column());
        extra("datatype", db.datatype());
        extra("constraint", db.constraint());
        extra("where", db.where_());
        extra("routine", db.routine());
        PgError::QueryFailed(QueryError::Db(Box::new(DbError {
            as_text,
            severity: db.severity().to_string(),
            code: db.code().code().to_string(),
            message: db.message().to_string(),
            detail: db.detail().map(str::to_string),
            extras,
        })))
    }
}

/// A query's columns (name, type) and rows.
pub type RowSet = (Vec<(String, DataType)>, Vec<Vec<Value>>);

/// `param`, `db_value` and `column` for the `rdbms-types` of `$t` (Spin 2.0's and Spin 1.x's
/// unversioned one have the same cases, but bindgen makes them distinct Rust types): the
/// unsigned parameters widen to `Uint64`; values those types have no case for are
/// `unsupported` of type `other`. `DataType` and `Value` must be in scope.
macro_rules! rdbms_conversions {
    ($t:ident) => {
        fn param(p: $t::ParameterValue) -> Value {
            use $t::ParameterValue as P;
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

        fn db_value(v: Value) -> $t::DbValue {
            use $t::DbValue as D;
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

        fn column((name, t): (String, DataType)) -> $t::Column {
            use $t::DbDataType as T;
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
            $t::Column { name, data_type }
        }

        fn row_set((columns, rows): super::RowSet) -> $t::RowSet {
            $t::RowSet {
                columns: columns.into_iter().map(column).collect(),
                rows: rows
                    .into_iter()
                    .map(|r| r.into_iter().map(db_value).collect())
                    .collect(),
            }
        }
    };
}
use rdbms_conversions;

/// The synchronous `connection` resource of version `$v`, whose types are in `$t`: every
/// version has the same four functions. The version's module supplies `param`, `row_set`
/// and `error`, its conversions from and to the capability's types.
macro_rules! sync_connection {
    ($v:ident, $t:ident) => {
        impl $v::HostConnection for PgCtxView<'_> {
            async fn open(
                &mut self,
                address: String,
            ) -> wasmtime::Result<Result<Resource<PgConnection>, $t::Error>> {
                let (outbound, clients) = self.parts();
                let opened = connect(outbound, clients, address, None).await;
                Ok(self.push(opened)?.map_err(error))
            }

            async fn query(
                &mut self,
                conn: Resource<PgConnection>,
                statement: String,
                params: Vec<$t::ParameterValue>,
            ) -> wasmtime::Result<Result<$t::RowSet, $t::Error>> {
                let params = params.into_iter().map(param).collect();
                let result = self.session(&conn)?.query(statement, params).await;
                Ok(result.map(row_set).map_err(error))
            }

            async fn execute(
                &mut self,
                conn: Resource<PgConnection>,
                statement: String,
                params: Vec<$t::ParameterValue>,
            ) -> wasmtime::Result<Result<u64, $t::Error>> {
                let params = params.into_iter().map(param).collect();
                let result = self.session(&conn)?.execute(statement, params).await;
                Ok(result.map_err(error))
            }

            async fn drop(&mut self, conn: Resource<PgConnection>) -> wasmtime::Result<()> {
                self.close(conn)
            }
        }
    };
}
use sync_connection;

/// Spin 4.1's `connection-builder`: an address and the CA to trust for it.
pub struct PgConnectionBuilder {
    address: String,
    ca: Option<String>,
}

/// The operations every version offers, on one connection.
pub struct Session(Arc<tokio_postgres::Client>);

impl Session {
    /// Prepare `sql` and encode `params` for its placeholders.
    async fn prepare(
        &self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<(tokio_postgres::Statement, Vec<Param>), PgError> {
        let statement = self.0.prepare(sql).await?;
        let wanted = statement.params();
        if wanted.len() != params.len() {
            return Err(PgError::BadParameter(format!(
                "the statement has {} placeholder(s) but {} parameter(s) were given",
                wanted.len(),
                params.len()
            )));
        }
        let params: Vec<Param> = params.into_iter().map(Param).collect();
        let mut scratch = bytes::BytesMut::new();
        for (n, (p, ty)) in params.iter().zip(wanted).enumerate() {
            use tokio_postgres::types::ToSql;
            scratch.clear();
            p.to_sql(ty, &mut scratch)
                .map_err(|e| PgError::BadParameter(format!("parameter ${}: {e}", n + 1)))?;
        }
        Ok((statement, params))
    }

    /// Run a statement that returns rows.
    pub async fn query(self, sql: String, params: Vec<Value>) -> Result<RowSet, PgError> {
        let (statement, params) = self.prepare(&sql, params).await?;
        let columns = statement
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), types::data_type(c.type_())))
            .collect();
        let rows = self.0.query_raw(&statement, params.iter()).await?;
        let mut rows = std::pin::pin!(rows);
        let (mut out, mut size) = (Vec::new(), 0usize);
        while let Some(row) = rows.next().await {
            let row = row?;
            let mut values = Vec::with_capacity(row.len());
            for i in 0..row.len() {
                let v = types::value(&row, i).map_err(|e| {
                    let column = row.columns()[i].name();
                    PgError::ValueConversionFailed(format!("column `{column}`: {e}"))
                })?;
                size += v.size();
                values.push(v);
            }
            if size > MAX_RESULT_BYTES {
                return Err(PgError::Other(format!(
                    "the result is larger than {} MiB; select fewer rows or columns",
                    MAX_RESULT_BYTES >> 20
                )));
            }
            out.push(values);
        }
        Ok((columns, out))
    }

    /// Run a statement for its effect: the number of rows it affected.
    pub async fn execute(self, sql: String, params: Vec<Value>) -> Result<u64, PgError> {
        let (statement, params) = self.prepare(&sql, params).await?;
        Ok(self.0.execute_raw(&statement, params.iter()).await?)
    }
}

/// Check every host `address` names against the rules, and connect (or reuse an idle
/// connection to it).
pub async fn connect(
    outbound: Arc<Outbound>,
    clients: Arc<PgClients>,
    address: String,
    ca: Option<String>,
) -> Result<PgConnection, PgError> {
    let mut config: tokio_postgres::Config = address.parse().map_err(|e| {
        PgError::ConnectionFailed(format!("the address is not a PostgreSQL address: {e}"))
    })?;
    let ports = config.get_ports();
    let port_of = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
    // `hostaddr` is where the connection goes when given (`host` then only names the server
    // for TLS): each must be allowed as well.
    for (i, ip) in config.get_hostaddrs().iter().enumerate() {
        let authority = std::net::SocketAddr::new(*ip, port_of(i)).to_string();
        if !matches!(
            outbound.check("postgres", Some(&authority)),
            Ok(Destination::AsNamed)
        ) {
            return Err(PgError::ConnectionFailed(format!(
                "address postgres://{authority} is not permitted"
            )));
        }
    }
    for (i, host) in config.get_hosts().iter().enumerate() {
        let port = port_of(i);
        let host = match host {
            Host::Tcp(h) if h.contains(':') => format!("[{h}]"),
            Host::Tcp(h) => h.clone(),
            Host::Unix(path) => {
                return Err(PgError::ConnectionFailed(format!(
                    "address {} is a Unix socket, which components cannot reach",
                    path.display()
                )));
            }
        };
        let authority = format!("{host}:{port}");
        match outbound.check("postgres", Some(&authority)) {
            Ok(Destination::AsNamed) => {}
            Ok(_) | Err(Refused::InvalidUri | Refused::Denied) => {
                return Err(PgError::ConnectionFailed(format!(
                    "address postgres://{authority} is not permitted"
                )));
            }
        }
    }
    if config.get_hosts().is_empty() {
        return Err(PgError::ConnectionFailed(
            "the address names no host; write postgres://user:password@host:port/database".into(),
        ));
    }
    let key = match &ca {
        Some(ca) => format!("{address}\n{ca}"),
        None => address.clone(),
    };
    if let Some(client) = clients.take(&key) {
        return Ok(PgConnection {
            client: Some(Arc::new(client)),
            key,
            clients,
        });
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let failed = |e: tokio_postgres::Error| PgError::ConnectionFailed(tls::explain(e));
    let client = if config.get_ssl_mode() == SslMode::Disable {
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(failed)?;
        tokio::spawn(connection);
        client
    } else {
        let tls = tls::MakeRustls::new(ca.as_deref()).map_err(PgError::Other)?;
        let (client, connection) = config.connect(tls).await.map_err(failed)?;
        tokio::spawn(connection);
        client
    };
    Ok(PgConnection {
        client: Some(Arc::new(client)),
        key,
        clients,
    })
}

/// The PostgreSQL context of one request.
pub struct PgCtx {
    outbound: Arc<Outbound>,
    clients: Arc<PgClients>,
    open: usize,
    /// Spin 1.x's connections, by the address its calls name.
    by_address: HashMap<String, PgConnection>,
}

impl PgCtx {
    /// A request's context: the component's rules and the app's idle connections.
    pub fn new(outbound: Arc<Outbound>, clients: Arc<PgClients>) -> Self {
        Self {
            outbound,
            clients,
            open: 0,
            by_address: HashMap::new(),
        }
    }
}

/// The PostgreSQL context and the resource table of a request.
pub struct PgCtxView<'a> {
    /// The context.
    pub ctx: &'a mut PgCtx,
    /// Where open connections live.
    pub table: &'a mut ResourceTable,
}

/// Implemented by a request's state to give the PostgreSQL interfaces their context.
pub trait PgView: Send {
    /// The context, borrowed for one call.
    fn postgres(&mut self) -> PgCtxView<'_>;
}

/// [`HasData`] for the PostgreSQL interfaces.
pub struct Pg;

impl HasData for Pg {
    type Data<'a> = PgCtxView<'a>;
}

/// Link every PostgreSQL interface version for `T`.
pub fn add_to_linker<T: PgView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    use crate::host::bindings::{fermyon, spin};
    fermyon::spin::postgres::add_to_linker::<T, Pg>(linker, T::postgres)?;
    spin::postgres3_0_0::postgres::add_to_linker::<T, Pg>(linker, T::postgres)?;
    spin::postgres4_2_0::postgres::add_to_linker::<T, Pg>(linker, T::postgres)?;
    Ok(())
}

impl PgCtxView<'_> {
    fn parts(&self) -> (Arc<Outbound>, Arc<PgClients>) {
        (self.ctx.outbound.clone(), self.ctx.clients.clone())
    }

    /// Count one more open connection, unless the request holds as many as it may.
    fn admit(&mut self) -> Result<(), PgError> {
        if self.ctx.open >= MAX_OPEN {
            return Err(PgError::ConnectionFailed(
                "too many open connections in this request".into(),
            ));
        }
        self.ctx.open += 1;
        Ok(())
    }

    fn push(
        &mut self,
        opened: Result<PgConnection, PgError>,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, PgError>> {
        let conn = match opened.and_then(|conn| self.admit().map(|()| conn)) {
            Ok(conn) => conn,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(self.table.push(conn)?))
    }

    fn session(&self, conn: &Resource<PgConnection>) -> wasmtime::Result<Session> {
        let client = self.table.get(conn)?.client.clone();
        Ok(Session(client.ok_or_else(|| {
            wasmtime::format_err!("connection already closed")
        })?))
    }

    fn close(&mut self, conn: Resource<PgConnection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        self.ctx.open = self.ctx.open.saturating_sub(1);
        Ok(())
    }
}
