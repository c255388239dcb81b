//! The key/value capability: stores by label over pluggable backends ([`Store`]: the
//! built-in SQLite, Redis), and the interface versions guests use, each a thin adapter:
//! `fermyon:spin/key-value@2.0.0` ([`spin`]), Spin 4's `spin:key-value@3.0.0` ([`spin3`]),
//! `wasi:keyvalue@0.2.0-draft2` ([`wasi`]) and the pre-2.0 interfaces ([`legacy`]).
//!
//! State is kept at three lifetimes, as Spin's factors do: the [`StoreManager`] is built
//! once per app, the labels a component may open ([`ComponentKv`]) once per component,
//! and the open handles ([`KvCtx`]) per request. Guests reach it through [`KvView`], the
//! way `wasmtime-wasi-http` reaches its context through `WasiHttpView`.
//!
//! Access rules match Spin: a label the component does not list in `key_value_stores` is
//! `access-denied`; a listed label with no configured store is `no-such-store`.

mod legacy;
mod redis;
mod spin;
mod spin3;
mod sqlite;
mod wasi;

pub use self::legacy::{LegacyKvError, LegacyOk, LegacyOp};
pub use self::redis::RedisStore;
pub use self::sqlite::SqliteDb;

use crate::Error;
use crate::host::bindings;
use crate::runtime_config::{KvStoreConfig, RuntimeConfig};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

/// Most store handles one request may hold open at once.
const MAX_OPEN_STORES: usize = 256;

/// A backend failure, with a message for the guest.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct KvError(pub String);

/// What a backend operation returns.
pub type KvFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, KvError>> + Send + 'a>>;

/// A key/value backend: one label's keys. New backends implement this and nothing else.
pub trait Store: Send + Sync {
    /// The value at `key`.
    fn get(&self, key: String) -> KvFuture<'_, Option<Vec<u8>>>;
    /// Set `key`.
    fn set(&self, key: String, value: Vec<u8>) -> KvFuture<'_, ()>;
    /// Remove `key` (absent is fine).
    fn delete(&self, key: String) -> KvFuture<'_, ()>;
    /// Whether `key` is set.
    fn exists(&self, key: String) -> KvFuture<'_, bool>;
    /// Every key, sorted.
    fn keys(&self) -> KvFuture<'_, Vec<String>>;
    /// Set several keys at once.
    fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> KvFuture<'_, ()>;
    /// Add `delta` to the 64-bit integer at `key` (absent counts as 0), atomically.
    fn increment(&self, key: String, delta: i64) -> KvFuture<'_, i64>;
    /// Replace the value at `key` only if it is still `expected`; whether it was replaced.
    fn swap(&self, key: String, expected: Option<Vec<u8>>, value: Vec<u8>) -> KvFuture<'_, bool>;
}

/// Every configured store, by label, with where it lives (for the start-up summary).
/// Built once per app.
#[derive(Clone, Default)]
pub struct StoreManager {
    stores: HashMap<String, (Arc<dyn Store>, String)>,
}

impl StoreManager {
    /// The stores of an app: the `default` store in `<state_dir>/sqlite_key_value.db`
    /// (Spin's file), then those of the runtime config (labels there replace it), then the
    /// `presets` written into `default`.
    pub async fn configure(
        state_dir: &Path,
        runtime_config: Option<&RuntimeConfig>,
        presets: &[(String, String)],
    ) -> Result<Self, Error> {
        let mut stores = Self::default();
        let default = state_dir.join("sqlite_key_value.db");
        let opened = |label: &str, location: String, source: KvError| Error::KeyValue {
            label: label.to_string(),
            action: "opening",
            location,
            source,
        };
        let db = SqliteDb::open(Some(&default))
            .map_err(|e| opened("default", default.display().to_string(), e))?;
        stores.insert(
            "default",
            db.store("default"),
            default.display().to_string(),
        );
        if let Some(config) = runtime_config {
            let mut dbs: HashMap<Option<PathBuf>, SqliteDb> = HashMap::new();
            for (label, store) in config.key_value_stores.iter().cloned() {
                match store {
                    KvStoreConfig::Spin { path } => {
                        let summary = path
                            .as_ref()
                            .map_or("in memory".to_string(), |p| p.display().to_string());
                        let db = match (&path, dbs.get(&path)) {
                            (Some(_), Some(db)) => db.clone(),
                            _ => {
                                let db = SqliteDb::open(path.as_deref())
                                    .map_err(|e| opened(&label, summary.clone(), e))?;
                                dbs.insert(path.clone(), db.clone());
                                db
                            }
                        };
                        stores.insert(&label, db.store(&label), summary);
                    }
                    KvStoreConfig::Redis { url } => {
                        let redis =
                            RedisStore::connect(&url)
                                .await
                                .map_err(|source| Error::KeyValue {
                                    label: label.clone(),
                                    action: "connecting",
                                    location: url.clone(),
                                    source,
                                })?;
                        stores.insert(&label, Arc::new(redis), url);
                    }
                }
            }
        }
        if !presets.is_empty() {
            let store = stores.get("default").expect("configured above");
            for (k, v) in presets {
                store
                    .set(k.clone(), v.as_bytes().to_vec())
                    .await
                    .map_err(|e| opened("default", "its database".into(), e))?;
            }
        }
        Ok(stores)
    }

    /// Add (or replace) the store for `label`.
    pub fn insert(&mut self, label: &str, store: Arc<dyn Store>, summary: String) {
        self.stores.insert(label.to_string(), (store, summary));
    }

    /// The store for `label`.
    pub fn get(&self, label: &str) -> Option<Arc<dyn Store>> {
        self.stores.get(label).map(|(s, _)| s.clone())
    }

    /// Where the store for `label` lives.
    pub fn summary(&self, label: &str) -> Option<&str> {
        self.stores.get(label).map(|(_, s)| s.as_str())
    }
}

/// What one component may open.
#[derive(Debug, Default)]
pub struct ComponentKv {
    /// The component (for log lines).
    pub component: String,
    /// Labels listed in its `key_value_stores`.
    pub labels: HashSet<String>,
}

/// The key/value context of one request.
pub struct KvCtx {
    stores: Arc<StoreManager>,
    component: Arc<ComponentKv>,
    open: usize,
}

impl KvCtx {
    /// A request's context: the app's stores, the component's permissions.
    pub fn new(stores: Arc<StoreManager>, component: Arc<ComponentKv>) -> Self {
        Self {
            stores,
            component,
            open: 0,
        }
    }
}

/// The key/value context and the resource table of a request.
pub struct KvCtxView<'a> {
    /// The context.
    pub ctx: &'a mut KvCtx,
    /// Where open stores live.
    pub table: &'a mut ResourceTable,
}

/// Implemented by a request's state to give the key/value interfaces their context.
pub trait KvView: Send {
    /// The context, borrowed for one call.
    fn kv(&mut self) -> KvCtxView<'_>;
}

/// [`HasData`] for the key/value interfaces.
pub struct Kv;

impl HasData for Kv {
    type Data<'a> = KvCtxView<'a>;
}

/// Link every key/value interface version for `T`.
pub fn add_to_linker<T: KvView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    bindings::fermyon::spin::key_value::add_to_linker::<T, Kv>(linker, T::kv)?;
    bindings::spin::key_value::key_value::add_to_linker::<T, Kv>(linker, T::kv)?;
    bindings::wasi::keyvalue::store::add_to_linker::<T, Kv>(linker, T::kv)?;
    bindings::wasi::keyvalue::atomics::add_to_linker::<T, Kv>(linker, T::kv)?;
    bindings::wasi::keyvalue::batch::add_to_linker::<T, Kv>(linker, T::kv)?;
    Ok(())
}

/// An open store (the `store` resource of `fermyon:spin/key-value`, the `bucket` of
/// `wasi:keyvalue/store`).
pub struct KvStore {
    store: Arc<dyn Store>,
}

/// A compare-and-swap handle (`wasi:keyvalue/atomics.cas`).
pub struct CasHandle {
    store: Arc<dyn Store>,
    key: String,
    /// The value last observed by `current` (what `swap` expects to replace).
    observed: Option<Vec<u8>>,
}

/// Why a store cannot be opened; each interface maps it to its own error.
pub(crate) enum OpenError {
    AccessDenied,
    NoSuchStore,
    TableFull,
}

impl KvCtxView<'_> {
    fn open_store(
        &mut self,
        label: &str,
    ) -> wasmtime::Result<Result<Resource<KvStore>, OpenError>> {
        let id = &self.ctx.component.component;
        if !self.ctx.component.labels.contains(label) {
            tracing::info!(
                component = %id,
                "key/value store `{label}` denied: add it to `key_value_stores` of component `{id}`"
            );
            return Ok(Err(OpenError::AccessDenied));
        }
        let Some(store) = self.ctx.stores.get(label) else {
            tracing::info!(
                "key/value store `{label}` is not configured: add [key_value_store.{label}] to the runtime config"
            );
            return Ok(Err(OpenError::NoSuchStore));
        };
        if self.ctx.open >= MAX_OPEN_STORES {
            return Ok(Err(OpenError::TableFull));
        }
        self.ctx.open += 1;
        Ok(Ok(self.table.push(KvStore { store })?))
    }

    fn store(&self, handle: &Resource<KvStore>) -> wasmtime::Result<Arc<dyn Store>> {
        Ok(self.table.get(handle)?.store.clone())
    }

    fn close_store(&mut self, handle: Resource<KvStore>) -> wasmtime::Result<()> {
        self.table.delete(handle)?;
        self.ctx.open = self.ctx.open.saturating_sub(1);
        Ok(())
    }
}
