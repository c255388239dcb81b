//! A store backed by a Redis server (`runtime-config.toml`: `type = "redis"`, `url`).

use super::KvError;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

/// A Redis-backed store; keys are used as-is, like Spin's Redis store.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
}

fn err(e: redis::RedisError) -> KvError {
    KvError::Other(format!("redis: {e}"))
}

impl RedisStore {
    /// Connect to `url` (`redis://host:port[/db]`).
    /// Fails within seconds when the server cannot be reached at start-up; later
    /// disconnects are retried by the connection manager.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_max_delay(500)
            .set_connection_timeout(std::time::Duration::from_secs(3))
            .set_response_timeout(std::time::Duration::from_secs(10));
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self { conn })
    }

    pub async fn get(&self, key: String) -> Result<Option<Vec<u8>>, KvError> {
        self.conn.clone().get(key).await.map_err(err)
    }

    pub async fn set(&self, key: String, value: Vec<u8>) -> Result<(), KvError> {
        self.conn.clone().set(key, value).await.map_err(err)
    }

    pub async fn delete(&self, key: String) -> Result<(), KvError> {
        self.conn.clone().del(key).await.map_err(err)
    }

    pub async fn exists(&self, key: String) -> Result<bool, KvError> {
        self.conn.clone().exists(key).await.map_err(err)
    }

    pub async fn keys(&self) -> Result<Vec<String>, KvError> {
        let mut keys: Vec<String> = self.conn.clone().keys("*").await.map_err(err)?;
        keys.sort();
        Ok(keys)
    }

    pub async fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> Result<(), KvError> {
        if pairs.is_empty() {
            return Ok(());
        }
        self.conn.clone().mset(&pairs).await.map_err(err)
    }

    pub async fn increment(&self, key: String, delta: i64) -> Result<i64, KvError> {
        self.conn.clone().incr(key, delta).await.map_err(err)
    }

    /// Compare-and-swap, atomic on the server (a Lua script, safe on a multiplexed connection).
    pub async fn swap(
        &self,
        key: String,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> Result<bool, KvError> {
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
    }
}
