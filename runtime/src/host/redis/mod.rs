//! Outbound Redis, as Spin offers it: Spin 1.x's unversioned `fermyon:spin/redis` ([`v1`]),
//! `fermyon:spin/redis@2.0.0` ([`v2`]) and Spin 4's async `spin:redis/redis@3.0.0` ([`v3`]),
//! thin adapters over the operations here.
//!
//! An address is `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS (the
//! server's certificate verified against the system's roots, which `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` can replace); it must be
//! allowed by the component's `allowed_outbound_hosts` like any outbound request (a denied
//! one is `invalid-address`, with a log line naming the rule that would allow it; the
//! password never appears in logs). Connections are multiplexed and shared by every
//! request of the app per address, made on first use and remade when they break.

mod v1;
mod v2;
mod v3;

use crate::host::outbound::{Destination, Outbound, Refused};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

/// A client for `address` (`redis://` or `rediss://`), for every use of Redis in the runtime.
pub fn client(address: &str) -> redis::RedisResult<redis::Client> {
    // The client builds its own rustls settings for `rediss://`, from the process's provider.
    crate::host::tls::install_provider();
    redis::Client::open(address)
}

/// Most connections one request may hold open at once.
const MAX_OPEN: usize = 256;
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one command may take.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an operation failed; each interface version has the same cases.
#[derive(Debug, Clone, PartialEq)]
pub enum RedisError {
    /// Not a Redis URL, or not allowed.
    InvalidAddress,
    /// Too many connections open in this request.
    TooManyConnections,
    /// The value at a key has another type.
    TypeError,
    /// The server's (or the network's) message.
    Other(String),
}

impl From<redis::RedisError> for RedisError {
    fn from(e: redis::RedisError) -> Self {
        match e.kind() {
            redis::ErrorKind::TypeError => RedisError::TypeError,
            _ => RedisError::Other(e.to_string()),
        }
    }
}

/// A parameter of `execute`.
pub enum Param {
    /// An integer.
    Int(i64),
    /// Bytes.
    Binary(Vec<u8>),
}

/// A value `execute` returns. As Spin does, arrays are flattened and `nil` and `OK`
/// replies are left out (so `SET` answers an empty list).
#[derive(Debug, PartialEq)]
pub enum Reply {
    /// A status line such as `OK`.
    Status(String),
    /// An integer.
    Int(i64),
    /// Bytes.
    Binary(Vec<u8>),
}

fn flatten(value: redis::Value, out: &mut Vec<Reply>) {
    use redis::Value as V;
    match value {
        V::Nil | V::Okay => {}
        V::Int(i) => out.push(Reply::Int(i)),
        V::BulkString(b) => out.push(Reply::Binary(b)),
        V::SimpleString(s) => out.push(Reply::Status(s)),
        V::Boolean(b) => out.push(Reply::Int(b.into())),
        V::Double(d) => out.push(Reply::Binary(d.to_string().into_bytes())),
        V::VerbatimString { text, .. } => out.push(Reply::Binary(text.into_bytes())),
        V::BigNumber(n) => out.push(Reply::Binary(n.to_string().into_bytes())),
        V::Array(items) | V::Set(items) => items.into_iter().for_each(|v| flatten(v, out)),
        V::Map(pairs) => pairs.into_iter().for_each(|(k, v)| {
            flatten(k, out);
            flatten(v, out);
        }),
        V::Attribute { data, .. } => flatten(*data, out),
        V::Push { data, .. } => data.into_iter().for_each(|v| flatten(v, out)),
        V::ServerError(e) => out.push(Reply::Status(format!("{e:?}"))),
    }
}

/// The conversions between [`RedisError`], [`Param`], [`Reply`] and one interface version's
/// generated types, `$t` being the module that has them (2.0.0 and 3.0.0 have the same
/// cases, but bindgen makes them distinct Rust types); `done` maps an operation's result.
macro_rules! conversions {
    ($t:ident) => {
        type Result<T> = wasmtime::Result<std::result::Result<T, $t::Error>>;

        fn error(e: RedisError) -> $t::Error {
            match e {
                RedisError::InvalidAddress => $t::Error::InvalidAddress,
                RedisError::TooManyConnections => $t::Error::TooManyConnections,
                RedisError::TypeError => $t::Error::TypeError,
                RedisError::Other(m) => $t::Error::Other(m),
            }
        }

        fn done<T>(r: std::result::Result<T, RedisError>) -> Result<T> {
            Ok(r.map_err(error))
        }

        fn params(arguments: Vec<$t::RedisParameter>) -> Vec<super::Param> {
            let params = arguments.into_iter().map(|a| match a {
                $t::RedisParameter::Int64(i) => super::Param::Int(i),
                $t::RedisParameter::Binary(b) => super::Param::Binary(b),
            });
            params.collect()
        }

        fn replies(replies: Vec<super::Reply>) -> Vec<$t::RedisResult> {
            let replies = replies.into_iter().map(|r| match r {
                super::Reply::Status(s) => $t::RedisResult::Status(s),
                super::Reply::Int(i) => $t::RedisResult::Int64(i),
                super::Reply::Binary(b) => $t::RedisResult::Binary(b),
            });
            replies.collect()
        }
    };
}
use conversions;

/// An open connection (the `connection` resource of both versions).
pub struct RedisConnection {
    conn: ConnectionManager,
}

/// The app's connections, by address.
#[derive(Default)]
pub struct RedisClients {
    by_address: tokio::sync::Mutex<HashMap<String, ConnectionManager>>,
}

impl std::fmt::Debug for RedisClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisClients")
    }
}

impl RedisClients {
    /// The shared connection to `address`, made if there is none (a broken one is remade
    /// by its manager).
    async fn connect(&self, address: &str) -> Result<ConnectionManager, RedisError> {
        let mut map = self.by_address.lock().await;
        if let Some(conn) = map.get(address) {
            return Ok(conn.clone());
        }
        let client = client(address).map_err(|_| RedisError::InvalidAddress)?;
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT);
        let conn = ConnectionManager::new_with_config(client, config).await?;
        map.insert(address.to_string(), conn.clone());
        Ok(conn)
    }
}

/// The Redis context of one request.
pub struct RedisCtx {
    outbound: Arc<Outbound>,
    clients: Arc<RedisClients>,
    open: usize,
}

impl RedisCtx {
    /// A request's context: the component's rules, the app's connections.
    pub fn new(outbound: Arc<Outbound>, clients: Arc<RedisClients>) -> Self {
        Self {
            outbound,
            clients,
            open: 0,
        }
    }
}

/// The Redis context and the resource table of a request.
pub struct RedisCtxView<'a> {
    /// The context.
    pub ctx: &'a mut RedisCtx,
    /// Where open connections live.
    pub table: &'a mut ResourceTable,
}

/// Implemented by a request's state to give the Redis interfaces their context.
pub trait RedisView: Send {
    /// The context, borrowed for one call.
    fn redis(&mut self) -> RedisCtxView<'_>;
}

/// [`HasData`] for the Redis interfaces.
pub struct Redis;

impl HasData for Redis {
    type Data<'a> = RedisCtxView<'a>;
}

/// Link both outbound Redis interface versions for `T`.
pub fn add_to_linker<T: RedisView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    crate::host::bindings::fermyon::spin::redis::add_to_linker::<T, Redis>(linker, T::redis)?;
    crate::host::bindings::spin::redis::redis::add_to_linker::<T, Redis>(linker, T::redis)?;
    Ok(())
}

/// Check `address` against the rules: the scheme, host and port it names.
fn check(outbound: &Outbound, address: &str) -> Result<(), RedisError> {
    let url = url::Url::parse(address).map_err(|_| RedisError::InvalidAddress)?;
    if !matches!(url.scheme(), "redis" | "rediss") {
        return Err(RedisError::InvalidAddress);
    }
    let host = match url.host() {
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        Some(host) => host.to_string(),
        None => return Err(RedisError::InvalidAddress),
    };
    let authority = format!("{host}:{}", url.port().unwrap_or(6379));
    match outbound.check(url.scheme(), Some(&authority)) {
        Ok(Destination::AsNamed) => Ok(()),
        // Chaining and relative addresses are HTTP's.
        Ok(_) | Err(Refused::InvalidUri | Refused::Denied) => Err(RedisError::InvalidAddress),
    }
}

/// Open a connection for the guest: policed, then shared.
async fn open(
    outbound: Arc<Outbound>,
    clients: Arc<RedisClients>,
    address: String,
) -> Result<RedisConnection, RedisError> {
    check(&outbound, &address)?;
    Ok(RedisConnection {
        conn: clients.connect(&address).await?,
    })
}

impl RedisCtxView<'_> {
    fn parts(&self) -> (Arc<Outbound>, Arc<RedisClients>) {
        (self.ctx.outbound.clone(), self.ctx.clients.clone())
    }

    fn push(
        &mut self,
        opened: Result<RedisConnection, RedisError>,
    ) -> wasmtime::Result<Result<Resource<RedisConnection>, RedisError>> {
        let conn = match opened {
            Ok(conn) => conn,
            Err(e) => return Ok(Err(e)),
        };
        if self.ctx.open >= MAX_OPEN {
            return Ok(Err(RedisError::TooManyConnections));
        }
        self.ctx.open += 1;
        Ok(Ok(self.table.push(conn)?))
    }

    fn ops(&self, conn: &Resource<RedisConnection>) -> wasmtime::Result<Ops> {
        Ok(Ops(self.table.get(conn)?.conn.clone()))
    }

    fn close(&mut self, conn: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        self.ctx.open = self.ctx.open.saturating_sub(1);
        Ok(())
    }
}

/// The operations both interface versions offer, on a shared connection.
pub struct Ops(ConnectionManager);

impl Ops {
    /// `publish(channel, payload)`.
    pub async fn publish(mut self, channel: String, payload: Vec<u8>) -> Result<(), RedisError> {
        Ok(redis::AsyncCommands::publish(&mut self.0, channel, payload).await?)
    }

    /// `get(key)`.
    pub async fn get(mut self, key: String) -> Result<Option<Vec<u8>>, RedisError> {
        Ok(redis::AsyncCommands::get(&mut self.0, key).await?)
    }

    /// `set(key, value)`.
    pub async fn set(mut self, key: String, value: Vec<u8>) -> Result<(), RedisError> {
        Ok(redis::AsyncCommands::set(&mut self.0, key, value).await?)
    }

    /// `incr(key)`.
    pub async fn incr(mut self, key: String) -> Result<i64, RedisError> {
        Ok(redis::AsyncCommands::incr(&mut self.0, key, 1).await?)
    }

    /// `del(keys)`: how many existed.
    pub async fn del(mut self, keys: Vec<String>) -> Result<u32, RedisError> {
        Ok(redis::AsyncCommands::del(&mut self.0, keys).await?)
    }

    /// `sadd(key, values)`: how many were new.
    pub async fn sadd(mut self, key: String, values: Vec<String>) -> Result<u32, RedisError> {
        Ok(redis::AsyncCommands::sadd(&mut self.0, key, values).await?)
    }

    /// `smembers(key)`.
    pub async fn smembers(mut self, key: String) -> Result<Vec<String>, RedisError> {
        Ok(redis::AsyncCommands::smembers(&mut self.0, key).await?)
    }

    /// `srem(key, values)`: how many were there.
    pub async fn srem(mut self, key: String, values: Vec<String>) -> Result<u32, RedisError> {
        Ok(redis::AsyncCommands::srem(&mut self.0, key, values).await?)
    }

    /// `execute(command, arguments)`: the reply, arrays flattened.
    pub async fn execute(
        mut self,
        command: String,
        params: Vec<Param>,
    ) -> Result<Vec<Reply>, RedisError> {
        let mut cmd = redis::cmd(&command);
        for p in params {
            match p {
                Param::Int(i) => cmd.arg(i),
                Param::Binary(b) => cmd.arg(b),
            };
        }
        let value: redis::Value = cmd.query_async(&mut self.0).await?;
        let mut replies = Vec::new();
        flatten(value, &mut replies);
        Ok(replies)
    }
}
