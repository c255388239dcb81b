//! `fermyon:spin/key-value@2.0.0` over the key/value capability.

use super::{KvCtxView, KvError, KvStore, OpenError};
use crate::host::bindings::fermyon::spin::key_value as spin_kv;
use wasmtime::component::Resource;

fn error(e: KvError) -> spin_kv::Error {
    spin_kv::Error::Other(e.0)
}

impl spin_kv::Host for KvCtxView<'_> {}

impl spin_kv::HostStore for KvCtxView<'_> {
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
        Ok(self.store(&store)?.get(key).await.map_err(error))
    }

    async fn set(
        &mut self,
        store: Resource<KvStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), spin_kv::Error>> {
        Ok(self.store(&store)?.set(key, value).await.map_err(error))
    }

    async fn delete(
        &mut self,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), spin_kv::Error>> {
        Ok(self.store(&store)?.delete(key).await.map_err(error))
    }

    async fn exists(
        &mut self,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, spin_kv::Error>> {
        Ok(self.store(&store)?.exists(key).await.map_err(error))
    }

    async fn get_keys(
        &mut self,
        store: Resource<KvStore>,
    ) -> wasmtime::Result<Result<Vec<String>, spin_kv::Error>> {
        Ok(self.store(&store)?.keys().await.map_err(error))
    }

    async fn drop(&mut self, store: Resource<KvStore>) -> wasmtime::Result<()> {
        self.close_store(store)
    }
}
