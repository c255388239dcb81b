//! Key/value as Spin's pre-2.0 interfaces see it (the pre-component `key-value` import and
//! the unversioned `fermyon:spin/key-value`): stores named by number, a missing key is the
//! `no-such-key` error, and one error type both adapters encode.

use super::{KvCtxView, KvError, KvStore, OpenError, Store};
use std::future::Future;
use std::sync::Arc;
use wasmtime::component::Resource;

/// Their error variant, in its order: `store-table-full | no-such-store | access-denied |
/// invalid-store | no-such-key | io(string)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyKvError {
    /// Too many stores open.
    TableFull,
    /// The label is listed but no store is configured for it.
    NoSuchStore,
    /// The label is not in the component's `key_value_stores`.
    AccessDenied,
    /// The handle is not open.
    InvalidStore,
    /// The key is not set.
    NoSuchKey,
    /// The backend failed.
    Io(String),
}

impl From<OpenError> for LegacyKvError {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::AccessDenied => Self::AccessDenied,
            OpenError::NoSuchStore => Self::NoSuchStore,
            OpenError::TableFull => Self::TableFull,
        }
    }
}

impl From<KvError> for LegacyKvError {
    fn from(e: KvError) -> Self {
        Self::Io(e.0)
    }
}

/// An operation on an open store.
pub enum LegacyOp {
    /// `get(key)`.
    Get(String),
    /// `set(key, value)`.
    Set(String, Vec<u8>),
    /// `delete(key)`.
    Delete(String),
    /// `exists(key)`.
    Exists(String),
    /// `get-keys()`.
    Keys,
}

/// What an operation returns.
pub enum LegacyOk {
    /// `set`, `delete`.
    Unit,
    /// `exists`.
    Bool(bool),
    /// `get`.
    Bytes(Vec<u8>),
    /// `get-keys`.
    Keys(Vec<String>),
}

impl KvCtxView<'_> {
    /// Open `label`: its handle number.
    pub(crate) fn legacy_open(
        &mut self,
        label: &str,
    ) -> wasmtime::Result<Result<u32, LegacyKvError>> {
        Ok(self
            .open_store(label)?
            .map(|r| r.rep())
            .map_err(LegacyKvError::from))
    }

    fn numbered(&self, handle: u32) -> Option<Arc<dyn Store>> {
        self.table
            .get(&Resource::<KvStore>::new_borrow(handle))
            .ok()
            .map(|s| s.store.clone())
    }

    /// Run `op` on the store `handle` names (the future holds the store, not this view).
    pub(crate) fn legacy_call(
        &self,
        handle: u32,
        op: LegacyOp,
    ) -> impl Future<Output = Result<LegacyOk, LegacyKvError>> + Send + 'static {
        let store = self.numbered(handle);
        async move {
            let store = store.ok_or(LegacyKvError::InvalidStore)?;
            Ok(match op {
                LegacyOp::Get(key) => {
                    LegacyOk::Bytes(store.get(key).await?.ok_or(LegacyKvError::NoSuchKey)?)
                }
                LegacyOp::Set(key, value) => {
                    store.set(key, value).await.map(|()| LegacyOk::Unit)?
                }
                LegacyOp::Delete(key) => store.delete(key).await.map(|()| LegacyOk::Unit)?,
                LegacyOp::Exists(key) => LegacyOk::Bool(store.exists(key).await?),
                LegacyOp::Keys => LegacyOk::Keys(store.keys().await?),
            })
        }
    }

    /// Close `handle` (nothing if it is not open).
    pub(crate) fn legacy_close(&mut self, handle: u32) {
        if self.numbered(handle).is_some() {
            let _ = self.close_store(Resource::new_own(handle));
        }
    }
}
