//! The built-in store: SQLite with Spin's table layout, so a `.spin/sqlite_key_value.db`
//! written by Spin opens here and the other way round.
//!
//! Writes are as durable as Spin's (a write is answered once it is on disk) but far
//! cheaper: the database is in WAL mode, and one writer thread commits whatever writes are
//! waiting in one transaction, so concurrent writes share an fsync (each write runs under
//! its own savepoint: one that fails leaves no trace and does not fail the others). Reads
//! use a connection of their own and never wait for a write's fsync.

use super::{KvError, KvFuture, Store};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// Most writes committed in one transaction.
const MAX_BATCH: usize = 256;

/// One label's view of a SQLite database (rows are keyed by `(store, key)`).
struct SqliteStore {
    db: SqliteDb,
    label: Arc<str>,
}

/// An open database shared by the labels that point at it.
#[derive(Clone)]
pub struct SqliteDb {
    read: Arc<Mutex<Connection>>,
    writes: mpsc::Sender<Box<dyn Job>>,
}

fn connect(path: Option<&Path>) -> Result<Connection, KvError> {
    let conn = match path {
        Some(p) => Connection::open(p).map_err(err)?,
        None => Connection::open_in_memory().map_err(err)?,
    };
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(err)?;
    Ok(conn)
}

impl SqliteDb {
    /// Open (creating if needed) a database file, or an in-memory one for `None`.
    pub fn open(path: Option<&Path>) -> Result<Self, KvError> {
        if let Some(dir) = path.and_then(Path::parent) {
            std::fs::create_dir_all(dir)
                .map_err(|e| KvError(format!("cannot create {}: {e}", dir.display())))?;
        }
        let write = connect(path)?;
        if path.is_some() {
            // WAL: readers are not blocked by the writer, and a commit is one fsync (of the
            // log), FULL making sure it is done before the write is answered.
            write
                .pragma_update(None, "journal_mode", "WAL")
                .and_then(|()| write.pragma_update(None, "synchronous", "FULL"))
                .map_err(err)?;
        }
        write
            .execute(
                "CREATE TABLE IF NOT EXISTS spin_key_value (
                   store TEXT NOT NULL,
                   key   TEXT NOT NULL,
                   value BLOB NOT NULL,
                   PRIMARY KEY (store, key)
                 )",
                [],
            )
            .map_err(err)?;
        let write = Arc::new(Mutex::new(write));
        // An in-memory database exists only in its one connection.
        let read = match path {
            Some(_) => Arc::new(Mutex::new(connect(path)?)),
            None => write.clone(),
        };
        let (writes, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("kv-sqlite-writer".into())
            .spawn(move || writer(&write, &queue))
            .map_err(err)?;
        Ok(Self { read, writes })
    }

    /// The store for one label.
    pub fn store(&self, label: &str) -> std::sync::Arc<dyn Store> {
        std::sync::Arc::new(SqliteStore {
            db: self.clone(),
            label: label.into(),
        })
    }
}

/// Commit waiting writes in batches until every handle to the database is gone.
fn writer(conn: &Mutex<Connection>, queue: &mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut guard = match conn.lock() {
            Ok(g) => g,
            Err(_) => {
                for job in batch {
                    job.finish(Err(err("connection poisoned")));
                }
                continue;
            }
        };
        let committed = (|| {
            let tx = guard
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err)?;
            for job in &mut batch {
                job.run(&tx);
            }
            tx.commit().map_err(err)
        })();
        drop(guard);
        for job in batch {
            job.finish(committed.clone());
        }
    }
}

/// A write waiting for the writer: run it in the batch's transaction, then answer once the
/// batch is committed (or with the commit's error).
trait Job: Send {
    fn run(&mut self, conn: &Connection);
    fn finish(self: Box<Self>, committed: Result<(), KvError>);
}

struct Pending<F, R> {
    work: Option<(F, Arc<str>)>,
    result: Option<Result<R, KvError>>,
    reply: tokio::sync::oneshot::Sender<Result<R, KvError>>,
}

impl<F, R> Job for Pending<F, R>
where
    F: FnOnce(&Connection, &str) -> Result<R, KvError> + Send,
    R: Send,
{
    fn run(&mut self, conn: &Connection) {
        let Some((work, label)) = self.work.take() else {
            return;
        };
        let result = conn
            .execute_batch("SAVEPOINT kv_write")
            .map_err(err)
            .and_then(|()| work(conn, &label));
        let end = match result {
            Ok(_) => "RELEASE kv_write",
            Err(_) => "ROLLBACK TO kv_write; RELEASE kv_write",
        };
        let ended = conn.execute_batch(end).map_err(err);
        self.result = Some(ended.and(result));
    }

    fn finish(self: Box<Self>, committed: Result<(), KvError>) {
        let result = match (committed, self.result) {
            (Err(e), _) => Err(e),
            (Ok(()), Some(result)) => result,
            (Ok(()), None) => Err(err("the write was not run")),
        };
        let _ = self.reply.send(result);
    }
}

fn err(e: impl std::fmt::Display) -> KvError {
    KvError(format!("sqlite: {e}"))
}

const UPSERT: &str = "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                      ON CONFLICT(store, key) DO UPDATE SET value=excluded.value";

impl SqliteStore {
    /// Run a read on the reader connection, off the async threads.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, &str) -> Result<T, KvError> + Send + 'static,
    ) -> Result<T, KvError> {
        let conn = self.db.read.clone();
        let label = self.label.clone();
        tokio::task::spawn_blocking(move || {
            let guard = conn.lock().map_err(|_| err("connection poisoned"))?;
            f(&guard, &label)
        })
        .await
        .map_err(err)?
    }

    /// Queue a write for the writer and wait until it is committed.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, &str) -> Result<T, KvError> + Send + 'static,
    ) -> Result<T, KvError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Pending {
            work: Some((f, self.label.clone())),
            result: None,
            reply,
        };
        self.db
            .writes
            .send(Box::new(job))
            .map_err(|_| err("the writer has stopped"))?;
        answer.await.map_err(|_| err("the writer has stopped"))?
    }
}

impl Store for SqliteStore {
    fn get(&self, key: String) -> KvFuture<'_, Option<Vec<u8>>> {
        Box::pin(self.read(move |c, store| {
            c.prepare_cached("SELECT value FROM spin_key_value WHERE store=?1 AND key=?2")
                .and_then(|mut s| s.query_row(params![store, key], |r| r.get(0)).optional())
                .map_err(err)
        }))
    }

    fn set(&self, key: String, value: Vec<u8>) -> KvFuture<'_, ()> {
        Box::pin(self.write(move |c, store| {
            c.prepare_cached(UPSERT)
                .and_then(|mut s| s.execute(params![store, key, value]))
                .map(drop)
                .map_err(err)
        }))
    }

    fn delete(&self, key: String) -> KvFuture<'_, ()> {
        Box::pin(self.write(move |c, store| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store=?1 AND key=?2")
                .and_then(|mut s| s.execute(params![store, key]))
                .map(drop)
                .map_err(err)
        }))
    }

    fn exists(&self, key: String) -> KvFuture<'_, bool> {
        Box::pin(self.read(move |c, store| {
            c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store=?1 AND key=?2 LIMIT 1")
                .and_then(|mut s| s.exists(params![store, key]))
                .map_err(err)
        }))
    }

    fn keys(&self) -> KvFuture<'_, Vec<String>> {
        Box::pin(self.read(move |c, store| {
            let mut s = c
                .prepare_cached("SELECT key FROM spin_key_value WHERE store=?1 ORDER BY key")
                .map_err(err)?;
            let rows = s.query_map(params![store], |r| r.get(0)).map_err(err)?;
            rows.collect::<Result<_, _>>().map_err(err)
        }))
    }

    fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> KvFuture<'_, ()> {
        Box::pin(self.write(move |c, store| {
            // All or none: the write's savepoint.
            let mut s = c.prepare_cached(UPSERT).map_err(err)?;
            for (k, v) in pairs {
                s.execute(params![store, k, v]).map_err(err)?;
            }
            Ok(())
        }))
    }

    /// Add `delta` to the little-endian i64 stored at `key` (absent = 0), atomically (the
    /// writer runs one write at a time).
    fn increment(&self, key: String, delta: i64) -> KvFuture<'_, i64> {
        Box::pin(self.write(move |c, store| {
            let current: Option<Vec<u8>> = c
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
            c.prepare_cached(UPSERT)
                .and_then(|mut s| s.execute(params![store, key, new.to_le_bytes().to_vec()]))
                .map_err(err)?;
            Ok(new)
        }))
    }

    /// Replace the value at `key` only if it is still `expected`; true when swapped.
    fn swap(&self, key: String, expected: Option<Vec<u8>>, value: Vec<u8>) -> KvFuture<'_, bool> {
        Box::pin(self.write(move |c, store| {
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
