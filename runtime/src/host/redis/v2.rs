//! `fermyon:spin/redis@2.0.0` over the outbound Redis capability.

use super::{RedisConnection, RedisCtxView, RedisError, open};
use crate::host::bindings::fermyon::spin::redis as v2;
use wasmtime::component::Resource;

super::conversions!(v2);

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
        let outcome = self.ops(&conn)?.execute(command, params(arguments)).await;
        done(outcome.map(replies))
    }

    async fn drop(&mut self, conn: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.close(conn)
    }
}
