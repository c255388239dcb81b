//! The unversioned `fermyon:spin` interfaces (Spin 1.x SDKs built with wit-bindgen 0.5+,
//! and Spin 2's Go SDK): `config`, `key-value` and `http` as thin adapters over the
//! variables, key/value and outbound capabilities (`redis`, `postgres`, `mysql` and `sqlite`
//! are with their capabilities, in `v1` modules), and the `inbound-http` export
//! ([`bindings::SpinV1HttpPre`]) the HTTP trigger calls.

use super::buffered::{BufferedRequest, METHODS, SendError, send_buffered};
use super::kv::{Kv, KvCtxView, KvView, LegacyKvError, LegacyOk, LegacyOp};
use super::mysql::{Mysql, MysqlView};
use super::outbound::{Outbound, OutboundView};
use super::postgres::{Pg, PgView};
use super::redis::{Redis, RedisView};
use super::sqlite::{Sqlite, SqliteView};
use super::variables::{LegacyConfigError, Variables, VariablesView, Vars};
use std::future::Future;
use std::sync::Arc;
use wasmtime::component::{HasData, Linker};

/// Generated bindings of `spin-runtime:v1/spin-v1-http`.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "wit-v1",
        world: "spin-runtime:v1/spin-v1-http",
        imports: { default: async | trappable },
        exports: { default: async },
    });
}

use bindings::fermyon::spin::{config, http, http_types, key_value};

/// [`HasData`] for the `http` interface: the component's outbound rules.
struct Out;

impl HasData for Out {
    type Data<'a> = Arc<Outbound>;
}

/// Link the unversioned interfaces for `T`.
pub fn add_to_linker<T>(linker: &mut Linker<T>) -> wasmtime::Result<()>
where
    T: KvView
        + VariablesView
        + OutboundView
        + RedisView
        + PgView
        + MysqlView
        + SqliteView
        + 'static,
{
    use bindings::fermyon::spin::{mysql, postgres, redis, sqlite};
    config::add_to_linker::<T, Vars>(linker, T::variables)?;
    key_value::add_to_linker::<T, Kv>(linker, T::kv)?;
    http::add_to_linker::<T, Out>(linker, |t| t.outbound())?;
    redis::add_to_linker::<T, Redis>(linker, T::redis)?;
    postgres::add_to_linker::<T, Pg>(linker, T::postgres)?;
    mysql::add_to_linker::<T, Mysql>(linker, T::mysql)?;
    sqlite::add_to_linker::<T, Sqlite>(linker, T::sqlite)?;
    Ok(())
}

impl config::Host for &Variables {
    async fn get_config(&mut self, key: String) -> wasmtime::Result<Result<String, config::Error>> {
        Ok(self.legacy_get(&key).map_err(|e| match e {
            LegacyConfigError::InvalidKey(m) => config::Error::InvalidKey(m),
            LegacyConfigError::Provider(m) => config::Error::Provider(m),
        }))
    }
}

fn kv_error(e: LegacyKvError) -> key_value::Error {
    match e {
        LegacyKvError::TableFull => key_value::Error::StoreTableFull,
        LegacyKvError::NoSuchStore => key_value::Error::NoSuchStore,
        LegacyKvError::AccessDenied => key_value::Error::AccessDenied,
        LegacyKvError::InvalidStore => key_value::Error::InvalidStore,
        LegacyKvError::NoSuchKey => key_value::Error::NoSuchKey,
        LegacyKvError::Io(m) => key_value::Error::Io(m),
    }
}

impl KvCtxView<'_> {
    fn v1_call(
        &self,
        store: u32,
        op: LegacyOp,
    ) -> impl Future<Output = Result<LegacyOk, key_value::Error>> + Send + 'static {
        let call = self.legacy_call(store, op);
        async move { call.await.map_err(kv_error) }
    }
}

impl key_value::Host for KvCtxView<'_> {
    async fn open(&mut self, name: String) -> wasmtime::Result<Result<u32, key_value::Error>> {
        Ok(self.legacy_open(&name)?.map_err(kv_error))
    }

    async fn get(
        &mut self,
        store: u32,
        key: String,
    ) -> wasmtime::Result<Result<Vec<u8>, key_value::Error>> {
        Ok(match self.v1_call(store, LegacyOp::Get(key)).await {
            Ok(LegacyOk::Bytes(v)) => Ok(v),
            Ok(_) => unreachable!("get returns bytes"),
            Err(e) => Err(e),
        })
    }

    async fn set(
        &mut self,
        store: u32,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), key_value::Error>> {
        Ok(self
            .v1_call(store, LegacyOp::Set(key, value))
            .await
            .map(drop))
    }

    async fn delete(
        &mut self,
        store: u32,
        key: String,
    ) -> wasmtime::Result<Result<(), key_value::Error>> {
        Ok(self.v1_call(store, LegacyOp::Delete(key)).await.map(drop))
    }

    async fn exists(
        &mut self,
        store: u32,
        key: String,
    ) -> wasmtime::Result<Result<bool, key_value::Error>> {
        Ok(match self.v1_call(store, LegacyOp::Exists(key)).await {
            Ok(LegacyOk::Bool(b)) => Ok(b),
            Ok(_) => unreachable!("exists returns a bool"),
            Err(e) => Err(e),
        })
    }

    async fn get_keys(
        &mut self,
        store: u32,
    ) -> wasmtime::Result<Result<Vec<String>, key_value::Error>> {
        Ok(match self.v1_call(store, LegacyOp::Keys).await {
            Ok(LegacyOk::Keys(keys)) => Ok(keys),
            Ok(_) => unreachable!("get-keys returns keys"),
            Err(e) => Err(e),
        })
    }

    async fn close(&mut self, store: u32) -> wasmtime::Result<()> {
        self.legacy_close(store);
        Ok(())
    }
}

impl http_types::Host for Arc<Outbound> {}

impl http::Host for Arc<Outbound> {
    async fn send_request(
        &mut self,
        req: http_types::Request,
    ) -> wasmtime::Result<Result<http_types::Response, http_types::HttpError>> {
        let request = BufferedRequest {
            method: METHODS[req.method as usize].clone(),
            uri: req.uri,
            headers: req.headers,
            body: req.body,
        };
        Ok(match send_buffered(self, request).await {
            Ok(response) => Ok(http_types::Response {
                status: response.status().as_u16(),
                headers: Some(
                    response
                        .headers()
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.to_string(),
                                String::from_utf8_lossy(v.as_bytes()).into_owned(),
                            )
                        })
                        .collect(),
                ),
                body: Some(response.into_body().to_vec()),
            }),
            Err(e) => Err(match e {
                SendError::DestinationNotAllowed => http_types::HttpError::DestinationNotAllowed,
                SendError::InvalidUrl => http_types::HttpError::InvalidUrl,
                SendError::RequestError => http_types::HttpError::RequestError,
                SendError::RuntimeError => http_types::HttpError::RuntimeError,
            }),
        })
    }
}
