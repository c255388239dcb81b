//! Key/value stores: `fermyon:spin/key-value@2.0.0` and `wasi:keyvalue@0.2.0-draft2`
//! (store, atomics, batch) over pluggable backends (built-in SQLite, Redis).
//!
//! Access rules match Spin: a label the component does not list in `key_value_stores`
//! is `access-denied`; a listed label with no configured store is `no-such-store`.

mod redis;
mod sqlite;

use crate::host::bindings::fermyon::spin::key_value as spin_kv;
use crate::host::bindings::wasi::keyvalue::{atomics, batch, store as wasi_kv};
use crate::state::RequestState;
use std::collections::HashMap;
use std::path::Path;
use wasmtime::component::Resource;

pub use self::redis::RedisStore;
pub use self::sqlite::{SqliteDb, SqliteStore};

/// Most store handles one request may hold open at once.
const MAX_OPEN_STORES: usize = 256;

/// Backend-neutral error.
#[derive(Debug, Clone)]
pub enum KvError {
    /// Backend failure, with a message for the guest.
    Other(String),
}

/// One configured store.
#[derive(Clone)]
pub enum Backend {
    /// Built-in SQLite.
    Sqlite(SqliteStore),
    /// Redis.
    Redis(RedisStore),
}

macro_rules! dispatch {
    ($self:ident, $method:ident($($arg:expr),*)) => {
        match $self {
            Backend::Sqlite(s) => s.$method($($arg),*).await,
            Backend::Redis(s) => s.$method($($arg),*).await,
        }
    };
}

impl Backend {
    async fn get(&self, key: String) -> Result<Option<Vec<u8>>, KvError> {
        dispatch!(self, get(key))
    }
    async fn set(&self, key: String, value: Vec<u8>) -> Result<(), KvError> {
        dispatch!(self, set(key, value))
    }
    async fn delete(&self, key: String) -> Result<(), KvError> {
        dispatch!(self, delete(key))
    }
    async fn exists(&self, key: String) -> Result<bool, KvError> {
        dispatch!(self, exists(key))
    }
    async fn keys(&self) -> Result<Vec<String>, KvError> {
        dispatch!(self, keys())
    }
    async fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> Result<(), KvError> {
        dispatch!(self, set_many(pairs))
    }
    async fn increment(&self, key: String, delta: i64) -> Result<i64, KvError> {
        dispatch!(self, increment(key, delta))
    }
    async fn swap(&self, key: String, old: Option<Vec<u8>>, new: Vec<u8>) -> Result<bool, KvError> {
        dispatch!(self, swap(key, old, new))
    }
}

/// Every configured store, by label. Built once at start-up.
#[derive(Clone, Default)]
pub struct StoreManager {
    stores: HashMap<String, Backend>,
    summaries: HashMap<String, String>,
}

impl StoreManager {
    /// Add (or replace) a store under `label`, with a human description for start-up output.
    pub fn insert(&mut self, label: &str, backend: Backend, summary: String) {
        self.stores.insert(label.to_string(), backend);
        self.summaries.insert(label.to_string(), summary);
    }

    /// Open the default SQLite store file at `<state_dir>/sqlite_key_value.db`.
    pub fn with_default(state_dir: &Path) -> anyhow::Result<Self> {
        let path = state_dir.join("sqlite_key_value.db");
        let db = SqliteDb::open(Some(&path))?;
        let mut m = Self::default();
        m.insert(
            "default",
            Backend::Sqlite(db.store("default")),
            format!("{}", path.display()),
        );
        Ok(m)
    }

    /// A store by label.
    pub fn get(&self, label: &str) -> Option<&Backend> {
        self.stores.get(label)
    }

    /// Where each store lives, for the start-up summary.
    pub fn summary(&self, label: &str) -> Option<&str> {
        self.summaries.get(label).map(String::as_str)
    }

    /// Set a value at start-up (`spin up --key-value k=v`).
    pub async fn preset(&self, label: &str, key: &str, value: &str) -> anyhow::Result<()> {
        let store = self
            .get(label)
            .ok_or_else(|| anyhow::anyhow!("no key/value store `{label}` is configured"))?;
        store
            .set(key.to_string(), value.as_bytes().to_vec())
            .await
            .map_err(|KvError::Other(m)| anyhow::anyhow!(m))
    }
}

/// An open store (the `store` resource of `fermyon:spin/key-value`, the `bucket` of
/// `wasi:keyvalue/store`).
pub struct KvStore {
    backend: Backend,
}

/// A compare-and-swap handle (`wasi:keyvalue/atomics.cas`).
pub struct CasHandle {
    backend: Backend,
    key: String,
    /// The value last observed by `current` (what `swap` expects to replace).
    observed: Option<Vec<u8>>,
}

enum OpenError {
    AccessDenied,
    NoSuchStore,
    TableFull,
}

impl RequestState {
    fn open_store(
        &mut self,
        label: &str,
    ) -> wasmtime::Result<Result<Resource<KvStore>, OpenError>> {
        if !self.component.key_value_stores.contains(label) {
            tracing::info!(
                component = %self.component.id,
                "key/value store `{label}` denied: add it to `key_value_stores` of component `{}`",
                self.component.id
            );
            return Ok(Err(OpenError::AccessDenied));
        }
        let Some(backend) = self.stores.get(label) else {
            tracing::info!(
                "key/value store `{label}` is not configured: add [key_value_store.{label}] to the runtime config"
            );
            return Ok(Err(OpenError::NoSuchStore));
        };
        if self.open_stores >= MAX_OPEN_STORES {
            return Ok(Err(OpenError::TableFull));
        }
        self.open_stores += 1;
        let backend = backend.clone();
        Ok(Ok(self.table.push(KvStore { backend })?))
    }

    fn backend(&self, store: &Resource<KvStore>) -> wasmtime::Result<Backend> {
        Ok(self.table.get(store)?.backend.clone())
    }

    fn close_store(&mut self, store: Resource<KvStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        self.open_stores = self.open_stores.saturating_sub(1);
        Ok(())
    }
}

// ------------------------------------------------ fermyon:spin/key-value@2.0.0

fn spin_err(e: KvError) -> spin_kv::Error {
    let KvError::Other(m) = e;
    spin_kv::Error::Other(m)
}

impl spin_kv::Host for RequestState {}

impl spin_kv::HostStore for RequestState {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<KvStore>, spin_kv::Error>> {
        Ok(self.open_store(&label)?.map_err(|e| match e {
            OpenError::AccessDenied => spin_kv::Error::AccessDenied,
            OpenError::NoSuchStore => spin_kv::Error::NoSuchStore,
            OpenError::TableFull => spin_kv::Error::StoreTableFull,
        }))
    }

    async fn get(
        &mut self,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, spin_kv::Error>> {
        Ok(self.backend(&store)?.get(key).await.map_err(spin_err))
    }

    async fn set(
        &mut self,
        store: Resource<KvStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), spin_kv::Error>> {
        Ok(self
            .backend(&store)?
            .set(key, value)
            .await
            .map_err(spin_err))
    }

    async fn delete(
        &mut self,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), spin_kv::Error>> {
        Ok(self.backend(&store)?.delete(key).await.map_err(spin_err))
    }

    async fn exists(
        &mut self,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, spin_kv::Error>> {
        Ok(self.backend(&store)?.exists(key).await.map_err(spin_err))
    }

    async fn get_keys(
        &mut self,
        store: Resource<KvStore>,
    ) -> wasmtime::Result<Result<Vec<String>, spin_kv::Error>> {
        Ok(self.backend(&store)?.keys().await.map_err(spin_err))
    }

    async fn drop(&mut self, store: Resource<KvStore>) -> wasmtime::Result<()> {
        self.close_store(store)
    }
}

// ------------------------------------------------ wasi:keyvalue@0.2.0-draft2

fn wasi_err(e: KvError) -> wasi_kv::Error {
    let KvError::Other(m) = e;
    wasi_kv::Error::Other(m)
}

impl wasi_kv::Host for RequestState {
    async fn open(
        &mut self,
        identifier: String,
    ) -> wasmtime::Result<Result<Resource<KvStore>, wasi_kv::Error>> {
        Ok(self.open_store(&identifier)?.map_err(|e| match e {
            OpenError::AccessDenied => wasi_kv::Error::AccessDenied,
            OpenError::NoSuchStore => wasi_kv::Error::NoSuchStore,
            OpenError::TableFull => wasi_kv::Error::Other("too many open stores".into()),
        }))
    }
}

impl wasi_kv::HostBucket for RequestState {
    async fn get(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, wasi_kv::Error>> {
        Ok(self.backend(&bucket)?.get(key).await.map_err(wasi_err))
    }

    async fn set(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), wasi_kv::Error>> {
        Ok(self
            .backend(&bucket)?
            .set(key, value)
            .await
            .map_err(wasi_err))
    }

    async fn delete(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), wasi_kv::Error>> {
        Ok(self.backend(&bucket)?.delete(key).await.map_err(wasi_err))
    }

    async fn exists(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, wasi_kv::Error>> {
        Ok(self.backend(&bucket)?.exists(key).await.map_err(wasi_err))
    }

    /// All keys in one page (the cursor is accepted and ignored, as in Spin).
    async fn list_keys(
        &mut self,
        bucket: Resource<KvStore>,
        _cursor: Option<String>,
    ) -> wasmtime::Result<Result<wasi_kv::KeyResponse, wasi_kv::Error>> {
        Ok(self
            .backend(&bucket)?
            .keys()
            .await
            .map(|keys| wasi_kv::KeyResponse { keys, cursor: None })
            .map_err(wasi_err))
    }

    async fn drop(&mut self, bucket: Resource<KvStore>) -> wasmtime::Result<()> {
        self.close_store(bucket)
    }
}

impl atomics::Host for RequestState {
    async fn increment(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
        delta: i64,
    ) -> wasmtime::Result<Result<i64, wasi_kv::Error>> {
        Ok(self
            .backend(&bucket)?
            .increment(key, delta)
            .await
            .map_err(wasi_err))
    }

    async fn swap(
        &mut self,
        cas: Resource<CasHandle>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let handle = self.table.delete(cas)?;
        match handle
            .backend
            .swap(handle.key.clone(), handle.observed.clone(), value)
            .await
        {
            Ok(true) => Ok(Ok(())),
            Ok(false) => {
                // Hand back a fresh handle that has seen the latest value, ready for a retry.
                let latest = handle.backend.get(handle.key.clone()).await;
                match latest {
                    Ok(observed) => {
                        let retry = self.table.push(CasHandle { observed, ..handle })?;
                        Ok(Err(atomics::CasError::CasFailed(retry)))
                    }
                    Err(e) => Ok(Err(atomics::CasError::StoreError(wasi_err(e)))),
                }
            }
            Err(e) => Ok(Err(atomics::CasError::StoreError(wasi_err(e)))),
        }
    }
}

impl atomics::HostCas for RequestState {
    async fn new(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<Resource<CasHandle>, wasi_kv::Error>> {
        let backend = self.backend(&bucket)?;
        Ok(Ok(self.table.push(CasHandle {
            backend,
            key,
            observed: None,
        })?))
    }

    async fn current(
        &mut self,
        cas: Resource<CasHandle>,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, wasi_kv::Error>> {
        let (backend, key) = {
            let h = self.table.get(&cas)?;
            (h.backend.clone(), h.key.clone())
        };
        let value = match backend.get(key).await {
            Ok(v) => v,
            Err(e) => return Ok(Err(wasi_err(e))),
        };
        self.table.get_mut(&cas)?.observed.clone_from(&value);
        Ok(Ok(value))
    }

    async fn drop(&mut self, cas: Resource<CasHandle>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

impl batch::Host for RequestState {
    async fn get_many(
        &mut self,
        bucket: Resource<KvStore>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<(String, Option<Vec<u8>>)>, wasi_kv::Error>> {
        let backend = self.backend(&bucket)?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            match backend.get(key.clone()).await {
                Ok(v) => out.push((key, v)),
                Err(e) => return Ok(Err(wasi_err(e))),
            }
        }
        Ok(Ok(out))
    }

    async fn set_many(
        &mut self,
        bucket: Resource<KvStore>,
        pairs: Vec<(String, Vec<u8>)>,
    ) -> wasmtime::Result<Result<(), wasi_kv::Error>> {
        Ok(self
            .backend(&bucket)?
            .set_many(pairs)
            .await
            .map_err(wasi_err))
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<KvStore>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<(), wasi_kv::Error>> {
        let backend = self.backend(&bucket)?;
        for key in keys {
            if let Err(e) = backend.delete(key).await {
                return Ok(Err(wasi_err(e)));
            }
        }
        Ok(Ok(()))
    }
}
