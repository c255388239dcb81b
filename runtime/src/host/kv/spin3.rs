//! `spin:key-value/key-value@3.0.0` (Spin 4, component-model async) over the key/value
//! capability: the same stores and permissions as `fermyon:spin/key-value@2.0.0`, so a P2
//! and a P3 component of one app see the same data.

use super::{Kv, KvCtxView, KvError, KvStore, OpenError};
use crate::host::bindings::spin::key_value::key_value as kv3;
use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

fn error(e: KvError) -> kv3::Error {
    kv3::Error::Other(e.0)
}

impl kv3::Host for KvCtxView<'_> {}

impl kv3::HostStore for KvCtxView<'_> {
    fn drop(&mut self, store: Resource<KvStore>) -> wasmtime::Result<()> {
        self.close_store(store)
    }
}

impl<T> kv3::HostStoreWithStore<T> for Kv {
    async fn open(
        accessor: &Accessor<T, Self>,
        label: String,
    ) -> wasmtime::Result<Result<Resource<KvStore>, kv3::Error>> {
        Ok(accessor
            .with(|mut a| a.get().open_store(&label))?
            .map_err(|e| match e {
                OpenError::AccessDenied => kv3::Error::AccessDenied,
                OpenError::NoSuchStore => kv3::Error::NoSuchStore,
                OpenError::TableFull => kv3::Error::StoreTableFull,
            }))
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, kv3::Error>> {
        let store = accessor.with(|mut a| a.get().store(&store))?;
        Ok(store.get(key).await.map_err(error))
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        store: Resource<KvStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), kv3::Error>> {
        let store = accessor.with(|mut a| a.get().store(&store))?;
        Ok(store.set(key, value).await.map_err(error))
    }

    async fn delete(
        accessor: &Accessor<T, Self>,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), kv3::Error>> {
        let store = accessor.with(|mut a| a.get().store(&store))?;
        Ok(store.delete(key).await.map_err(error))
    }

    async fn exists(
        accessor: &Accessor<T, Self>,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, kv3::Error>> {
        let store = accessor.with(|mut a| a.get().store(&store))?;
        Ok(store.exists(key).await.map_err(error))
    }

    /// The keys are listed by the backend first (as `get-keys` of 2.0.0 does), then
    /// written to the stream; a failed listing is an empty stream and the error in the
    /// future.
    async fn get_keys(
        accessor: &Accessor<T, Self>,
        store: Resource<KvStore>,
    ) -> wasmtime::Result<(StreamReader<String>, FutureReader<Result<(), kv3::Error>>)> {
        let store = accessor.with(|mut a| a.get().store(&store))?;
        let (keys, outcome) = match store.keys().await {
            Ok(keys) => (keys, Ok(())),
            Err(e) => (Vec::new(), Err(error(e))),
        };
        accessor.with(|mut a| {
            let keys = StreamReader::new(&mut a, keys)?;
            let outcome =
                FutureReader::new(&mut a, async move { Ok::<_, wasmtime::Error>(outcome) })?;
            Ok((keys, outcome))
        })
    }
}
