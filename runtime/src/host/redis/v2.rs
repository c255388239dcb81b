//! `fermyon:spin/redis@2.0.0` over the outbound Redis capability.

use super::{Param, RedisConnection, RedisCtxView, RedisError, Reply, open};
use crate::host::bindings::fermyon::spin::redis as v2;
use wasmtime::component::Resource;

type Result<T> = wasmtime::Result<std::result::Result<T, v2::Error>>;

fn error(e: RedisError) -> v2::Error {
    match e {
        RedisError::InvalidAddress => v2::Error::InvalidAddress,
        RedisError::TooManyConnections => v2::Error::TooManyConnections,
        RedisError::TypeError => v2::Error::TypeError,
        RedisError::Other(m) => v2::Error::Other(m),
    }
}

fn done<T>(r: std::result::Result<T, RedisError>) -> Result<T> {
    Ok(r.map_err(error))
}

impl v2::Host for RedisCtxView<'_> {}

impl v2::HostConnection for RedisCtxView<'_> {
    async fn open(&mut self, address: String) -> Result<Resource<RedisConnection>> {
        let (outbound, clients) = self.parts();
        let opened = open(outbound, clients, address).await;
        Ok(self.push(opened)?.map_err(error))
    }

    async fn publish(
        &mut self,
        conn: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> Result<()> {
        done(self.ops(&conn)?.publish(channel, payload).await)
    }

    async fn get(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
    ) -> Result<Option<Vec<u8>>> {
        done(self.ops(&conn)?.get(key).await)
    }

    async fn set(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> Result<()> {
        done(self.ops(&conn)?.set(key, value).await)
    }

    async fn incr(&mut self, conn: Resource<RedisConnection>, key: String) -> Result<i64> {
        done(self.ops(&conn)?.incr(key).await)
    }

    async fn del(&mut self, conn: Resource<RedisConnection>, keys: Vec<String>) -> Result<u32> {
        done(self.ops(&conn)?.del(keys).await)
    }

    async fn sadd(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> Result<u32> {
        done(self.ops(&conn)?.sadd(key, values).await)
    }

    async fn smembers(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
    ) -> Result<Vec<String>> {
        done(self.ops(&conn)?.smembers(key).await)
    }

    async fn srem(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> Result<u32> {
        done(self.ops(&conn)?.srem(key, values).await)
    }

    async fn execute(
        &mut self,
        conn: Resource<RedisConnection>,
        command: String,
        arguments: Vec<v2::RedisParameter>,
    ) -> Result<Vec<v2::RedisResult>> {
        let params = arguments
            .into_iter()
            .map(|a| match a {
                v2::RedisParameter::Int64(i) => Param::Int(i),
                v2::RedisParameter::Binary(b) => Param::Binary(b),
            })
            .collect();
        let replies = self.ops(&conn)?.execute(command, params).await;
        done(replies.map(|r| {
            r.into_iter()
                .map(|r| match r {
                    Reply::Status(s) => v2::RedisResult::Status(s),
                    Reply::Int(i) => v2::RedisResult::Int64(i),
                    Reply::Binary(b) => v2::RedisResult::Binary(b),
                })
                .collect()
        }))
    }

    async fn drop(&mut self, conn: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.close(conn)
    }
}
