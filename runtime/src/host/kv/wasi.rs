//! `wasi:keyvalue@0.2.0-draft2` (store, atomics, batch) over the key/value capability.

use super::{CasHandle, KvCtxView, KvError, KvStore, OpenError};
use crate::host::bindings::wasi::keyvalue::{atomics, batch, store as wasi_kv};
use wasmtime::component::Resource;

fn error(e: KvError) -> wasi_kv::Error {
    wasi_kv::Error::Other(e.0)
}

impl wasi_kv::Host for KvCtxView<'_> {
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

impl wasi_kv::HostBucket for KvCtxView<'_> {
    async fn get(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, wasi_kv::Error>> {
        Ok(self.store(&bucket)?.get(key).await.map_err(error))
    }

    async fn set(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), wasi_kv::Error>> {
        Ok(self.store(&bucket)?.set(key, value).await.map_err(error))
    }

    async fn delete(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), wasi_kv::Error>> {
        Ok(self.store(&bucket)?.delete(key).await.map_err(error))
    }

    async fn exists(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, wasi_kv::Error>> {
        Ok(self.store(&bucket)?.exists(key).await.map_err(error))
    }

    /// All keys in one page (the cursor is accepted and ignored, as in Spin).
    async fn list_keys(
        &mut self,
        bucket: Resource<KvStore>,
        _cursor: Option<String>,
    ) -> wasmtime::Result<Result<wasi_kv::KeyResponse, wasi_kv::Error>> {
        Ok(self
            .store(&bucket)?
            .keys()
            .await
            .map(|keys| wasi_kv::KeyResponse { keys, cursor: None })
            .map_err(error))
    }

    async fn drop(&mut self, bucket: Resource<KvStore>) -> wasmtime::Result<()> {
        self.close_store(bucket)
    }
}

impl atomics::Host for KvCtxView<'_> {
    async fn increment(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
        delta: i64,
    ) -> wasmtime::Result<Result<i64, wasi_kv::Error>> {
        Ok(self
            .store(&bucket)?
            .increment(key, delta)
            .await
            .map_err(error))
    }

    async fn swap(
        &mut self,
        cas: Resource<CasHandle>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let handle = self.table.delete(cas)?;
        let swapped = handle
            .store
            .swap(handle.key.clone(), handle.observed.clone(), value)
            .await;
        match swapped {
            Ok(true) => Ok(Ok(())),
            // Hand back a fresh handle that has seen the latest value, ready for a retry.
            Ok(false) => match handle.store.get(handle.key.clone()).await {
                Ok(observed) => {
                    let retry = self.table.push(CasHandle { observed, ..handle })?;
                    Ok(Err(atomics::CasError::CasFailed(retry)))
                }
                Err(e) => Ok(Err(atomics::CasError::StoreError(error(e)))),
            },
            Err(e) => Ok(Err(atomics::CasError::StoreError(error(e)))),
        }
    }
}

impl atomics::HostCas for KvCtxView<'_> {
    async fn new(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<Resource<CasHandle>, wasi_kv::Error>> {
        let store = self.store(&bucket)?;
        Ok(Ok(self.table.push(CasHandle {
            store,
            key,
            observed: None,
        })?))
    }

    async fn current(
        &mut self,
        cas: Resource<CasHandle>,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, wasi_kv::Error>> {
        let (store, key) = {
            let h = self.table.get(&cas)?;
            (h.store.clone(), h.key.clone())
        };
        let value = match store.get(key).await {
            Ok(v) => v,
            Err(e) => return Ok(Err(error(e))),
        };
        self.table.get_mut(&cas)?.observed.clone_from(&value);
        Ok(Ok(value))
    }

    async fn drop(&mut self, cas: Resource<CasHandle>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

impl batch::Host for KvCtxView<'_> {
    async fn get_many(
        &mut self,
        bucket: Resource<KvStore>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<(String, Option<Vec<u8>>)>, wasi_kv::Error>> {
        let store = self.store(&bucket)?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            match store.get(key.clone()).await {
                Ok(v) => out.push((key, v)),
                Err(e) => return Ok(Err(error(e))),
            }
        }
        Ok(Ok(out))
    }

    async fn set_many(
        &mut self,
        bucket: Resource<KvStore>,
        pairs: Vec<(String, Vec<u8>)>,
    ) -> wasmtime::Result<Result<(), wasi_kv::Error>> {
        Ok(self.store(&bucket)?.set_many(pairs).await.map_err(error))
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<KvStore>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<(), wasi_kv::Error>> {
        let store = self.store(&bucket)?;
        for key in keys {
            if let Err(e) = store.delete(key).await {
                return Ok(Err(error(e)));
            }
        }
        Ok(Ok(()))
    }
}
