//! A store backed by a Redis server (`runtime-config.toml`: `type = "redis"`, `url`).

use super::{KvError, KvFuture, Store};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

/// A Redis-backed store; keys are used as-is, like Spin's Redis store.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
}

fn err(e: redis::RedisError) -> KvError {
    KvError(format!("redis: {e}"))
}

impl RedisStore {
    /// Connect to `url` (`redis://host:port[/db]`).
    /// Fails within seconds when the server cannot be reached at start-up; later
    /// disconnects are retried by the connection manager.
    pub async fn connect(url: &str) -> Result<Self, KvError> {
        let client = crate::host::redis::client(url).map_err(err)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_max_delay(500)
            .set_connection_timeout(std::time::Duration::from_secs(3))
            .set_response_timeout(std::time::Duration::from_secs(10));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(err)?;
        Ok(Self { conn })
    }
}

impl Store for RedisStore {
    fn get(&self, key: String) -> KvFuture<'_, Option<Vec<u8>>> {
        Box::pin(async move { self.conn.clone().get(key).await.map_err(err) })
    }

    fn set(&self, key: String, value: Vec<u8>) -> KvFuture<'_, ()> {
        Box::pin(async move { self.conn.clone().set(key, value).await.map_err(err) })
    }

    fn delete(&self, key: String) -> KvFuture<'_, ()> {
        Box::pin(async move { self.conn.clone().del(key).await.map_err(err) })
    }

    fn exists(&self, key: String) -> KvFuture<'_, bool> {
        Box::pin(async move { self.conn.clone().exists(key).await.map_err(err) })
    }

    fn keys(&self) -> KvFuture<'_, Vec<String>> {
        Box::pin(async move {
            let mut keys: Vec<String> = self.conn.clone().keys("*").await.map_err(err)?;
            keys.sort();
            Ok(keys)
        })
    }

    fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> KvFuture<'_, ()> {
        Box::pin(async move {
            if pairs.is_empty() {
                return Ok(());
            }
            self.conn.clone().mset(&pairs).await.map_err(err)
        })
    }

    fn increment(&self, key: String, delta: i64) -> KvFuture<'_, i64> {
        Box::pin(async move { self.conn.clone().incr(key, delta).await.map_err(err) })
    }

    /// Compare-and-swap, atomic on the server (a Lua script, safe on a multiplexed connection).
    fn swap(&self, key: String, expected: Option<Vec<u8>>, value: Vec<u8>) -> KvFuture<'_, bool> {
        Box::pin(async move {
            const CAS: &str = r"
            local current = redis.call('GET', KEYS[1])
            local matches
            if ARGV[1] == '1' then matches = (current == ARGV[2]) else matches = (current == false) end
            if matches then redis.call('SET', KEYS[1], ARGV[3]) return 1 end
            return 0";
            let (has_old, old) = match expected {
                Some(v) => ("1", v),
                None => ("0", Vec::new()),
            };
            let swapped: i64 = redis::Script::new(CAS)
                .key(key)
                .arg(has_old)
                .arg(old)
                .arg(value)
                .invoke_async(&mut self.conn.clone())
                .await
                .map_err(err)?;
            Ok(swapped == 1)
        })
    }
}
