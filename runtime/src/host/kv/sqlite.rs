//! The built-in store: SQLite with Spin's table layout, so a `.spin/sqlite_key_value.db`
//! written by Spin opens here and the other way round.

use super::{KvError, KvFuture, Store};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// One label's view of a SQLite database (rows are keyed by `(store, key)`).
struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    label: Arc<str>,
}

/// An open database shared by the labels that point at it.
#[derive(Clone)]
pub struct SqliteDb {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteDb {
    /// Open (creating if needed) a database file, or an in-memory one for `None`.
    pub fn open(path: Option<&Path>) -> Result<Self, KvError> {
        let conn = match path {
            Some(p) => {
                if let Some(dir) = p.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| KvError(format!("cannot create {}: {e}", dir.display())))?;
                }
                Connection::open(p).map_err(err)?
            }
            None => Connection::open_in_memory().map_err(err)?,
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.execute(
            "CREATE TABLE IF NOT EXISTS spin_key_value (
               store TEXT NOT NULL,
               key   TEXT NOT NULL,
               value BLOB NOT NULL,
               PRIMARY KEY (store, key)
             )",
            [],
        )
        .map_err(err)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The store for one label.
    pub fn store(&self, label: &str) -> std::sync::Arc<dyn Store> {
        std::sync::Arc::new(SqliteStore {
            conn: self.conn.clone(),
            label: label.into(),
        })
    }
}

fn err(e: impl std::fmt::Display) -> KvError {
    KvError(format!("sqlite: {e}"))
}

const UPSERT: &str = "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                      ON CONFLICT(store, key) DO UPDATE SET value=excluded.value";

impl SqliteStore {
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection, &str) -> Result<T, KvError> + Send + 'static,
    ) -> Result<T, KvError> {
        let conn = self.conn.clone();
        let label = self.label.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| err("connection poisoned"))?;
            f(&mut guard, &label)
        })
        .await
        .map_err(err)?
    }
}

impl Store for SqliteStore {
    fn get(&self, key: String) -> KvFuture<'_, Option<Vec<u8>>> {
        Box::pin(self.run(move |c, store| {
            c.prepare_cached("SELECT value FROM spin_key_value WHERE store=?1 AND key=?2")
                .and_then(|mut s| s.query_row(params![store, key], |r| r.get(0)).optional())
                .map_err(err)
        }))
    }

    fn set(&self, key: String, value: Vec<u8>) -> KvFuture<'_, ()> {
        Box::pin(self.run(move |c, store| {
            c.prepare_cached(UPSERT)
                .and_then(|mut s| s.execute(params![store, key, value]))
                .map(drop)
                .map_err(err)
        }))
    }

    fn delete(&self, key: String) -> KvFuture<'_, ()> {
        Box::pin(self.run(move |c, store| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store=?1 AND key=?2")
                .and_then(|mut s| s.execute(params![store, key]))
                .map(drop)
                .map_err(err)
        }))
    }

    fn exists(&self, key: String) -> KvFuture<'_, bool> {
        Box::pin(self.run(move |c, store| {
            c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store=?1 AND key=?2 LIMIT 1")
                .and_then(|mut s| s.exists(params![store, key]))
                .map_err(err)
        }))
    }

    fn keys(&self) -> KvFuture<'_, Vec<String>> {
        Box::pin(self.run(move |c, store| {
            let mut s = c
                .prepare_cached("SELECT key FROM spin_key_value WHERE store=?1 ORDER BY key")
                .map_err(err)?;
            let rows = s.query_map(params![store], |r| r.get(0)).map_err(err)?;
            rows.collect::<Result<_, _>>().map_err(err)
        }))
    }

    fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> KvFuture<'_, ()> {
        Box::pin(self.run(move |c, store| {
            let tx = c.transaction().map_err(err)?;
            {
                let mut s = tx.prepare_cached(UPSERT).map_err(err)?;
                for (k, v) in pairs {
                    s.execute(params![store, k, v]).map_err(err)?;
                }
            }
            tx.commit().map_err(err)
        }))
    }

    /// Add `delta` to the little-endian i64 stored at `key` (absent = 0), atomically.
    fn increment(&self, key: String, delta: i64) -> KvFuture<'_, i64> {
        Box::pin(self.run(move |c, store| {
            let tx = c.transaction().map_err(err)?;
            let current: Option<Vec<u8>> = tx
                .prepare_cached("SELECT value FROM spin_key_value WHERE store=?1 AND key=?2")
                .and_then(|mut s| s.query_row(params![store, key], |r| r.get(0)).optional())
                .map_err(err)?;
            let current =
                match current {
                    None => 0,
                    Some(bytes) => i64::from_le_bytes(bytes.try_into().map_err(|_| {
                        KvError(format!("value of `{key}` is not an 8-byte integer"))
                    })?),
                };
            let new = current
                .checked_add(delta)
                .ok_or_else(|| KvError(format!("incrementing `{key}` overflows")))?;
            tx.prepare_cached(UPSERT)
                .and_then(|mut s| s.execute(params![store, key, new.to_le_bytes().to_vec()]))
                .map_err(err)?;
            tx.commit().map_err(err)?;
            Ok(new)
        }))
    }

    /// Replace the value at `key` only if it is still `expected`; true when swapped.
    fn swap(&self, key: String, expected: Option<Vec<u8>>, value: Vec<u8>) -> KvFuture<'_, bool> {
        Box::pin(self.run(move |c, store| {
            let changed = match expected {
                Some(old) => c
                    .prepare_cached(
                        "UPDATE spin_key_value SET value=?4 WHERE store=?1 AND key=?2 AND value=?3",
                    )
                    .and_then(|mut s| s.execute(params![store, key, old, value])),
                None => c
                    .prepare_cached(
                        "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                         ON CONFLICT(store, key) DO NOTHING",
                    )
                    .and_then(|mut s| s.execute(params![store, key, value])),
            }
            .map_err(err)?;
            Ok(changed == 1)
        }))
    }
}
