//! Spin 1.x's unversioned `fermyon:spin/redis` (Spin 1.x SDKs built with wit-bindgen 0.5+,
//! Spin 2's Go SDK): every call names its server, and the only error is `error` (why is
//! logged; the address, which may hold a password, is not).

use super::{Ops, Param, RedisClients, RedisCtxView, RedisError, Reply};
use crate::host::outbound::Outbound;
use crate::host::spin_v1::bindings::fermyon::spin::{redis as v1, redis_types as types};
use std::sync::Arc;

fn failed(op: &str, e: RedisError) -> types::Error {
    tracing::warn!("fermyon:spin/redis {op} failed: {e:?}");
    types::Error::Error
}

/// Run `op` on the (policed, shared) connection to `address`.
async fn at<T>(
    (outbound, clients): (Arc<Outbound>, Arc<RedisClients>),
    name: &str,
    address: String,
    op: impl AsyncFnOnce(Ops) -> Result<T, RedisError>,
) -> wasmtime::Result<Result<T, types::Error>> {
    let result = match super::open(outbound, clients, address).await {
        Ok(conn) => op(Ops(conn.conn)).await,
        Err(e) => Err(e),
    };
    Ok(result.map_err(|e| failed(name, e)))
}

impl types::Host for RedisCtxView<'_> {}

impl v1::Host for RedisCtxView<'_> {
    async fn publish(
        &mut self,
        address: String,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), types::Error>> {
        at(self.parts(), "publish", address, async |o| {
            o.publish(channel, payload).await
        })
        .await
    }

    async fn get(
        &mut self,
        address: String,
        key: String,
    ) -> wasmtime::Result<Result<Vec<u8>, types::Error>> {
        // As Spin 1: a missing key is an empty payload.
        at(self.parts(), "get", address, async |o| {
            Ok(o.get(key).await?.unwrap_or_default())
        })
        .await
    }

    async fn set(
        &mut self,
        address: String,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), types::Error>> {
        at(self.parts(), "set", address, async |o| {
            o.set(key, value).await
        })
        .await
    }

    async fn incr(
        &mut self,
        address: String,
        key: String,
    ) -> wasmtime::Result<Result<i64, types::Error>> {
        at(self.parts(), "incr", address, async |o| o.incr(key).await).await
    }

    async fn del(
        &mut self,
        address: String,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<i64, types::Error>> {
        at(self.parts(), "del", address, async |o| {
            Ok(o.del(keys).await?.into())
        })
        .await
    }

    async fn sadd(
        &mut self,
        address: String,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<i64, types::Error>> {
        at(self.parts(), "sadd", address, async |o| {
            Ok(o.sadd(key, values).await?.into())
        })
        .await
    }

    async fn smembers(
        &mut self,
        address: String,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, types::Error>> {
        at(self.parts(), "smembers", address, async |o| {
            o.smembers(key).await
        })
        .await
    }

    async fn srem(
        &mut self,
        address: String,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<i64, types::Error>> {
        at(self.parts(), "srem", address, async |o| {
            Ok(o.srem(key, values).await?.into())
        })
        .await
    }

    async fn execute(
        &mut self,
        address: String,
        command: String,
        arguments: Vec<types::RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<types::RedisResult>, types::Error>> {
        let params = arguments
            .into_iter()
            .map(|a| match a {
                types::RedisParameter::Int64(i) => Param::Int(i),
                types::RedisParameter::Binary(b) => Param::Binary(b),
            })
            .collect();
        at(self.parts(), "execute", address, async |o| {
            Ok(o.execute(command, params)
                .await?
                .into_iter()
                .map(|r| match r {
                    Reply::Status(s) => types::RedisResult::Status(s),
                    Reply::Int(i) => types::RedisResult::Int64(i),
                    Reply::Binary(b) => types::RedisResult::Binary(b),
                })
                .collect())
        })
        .await
    }
}
