//! Spin 4's `spin:redis/redis@3.0.0` (every function `async`) over the outbound Redis
//! capability.

use super::{Ops, Redis, RedisConnection, RedisCtxView, RedisError, open};
use crate::host::bindings::spin::redis::redis as v3;
use wasmtime::component::{Accessor, Resource};

super::conversions!(v3);

fn ops<T>(
    accessor: &Accessor<T, Redis>,
    conn: &Resource<RedisConnection>,
) -> wasmtime::Result<Ops> {
    accessor.with(|mut a| a.get().ops(conn))
}

impl v3::Host for RedisCtxView<'_> {}

impl v3::HostConnection for RedisCtxView<'_> {
    fn drop(&mut self, conn: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.close(conn)
    }
}

impl<T> v3::HostConnectionWithStore<T> for Redis {
    async fn open(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> Result<Resource<RedisConnection>> {
        let (outbound, clients) = accessor.with(|mut a| a.get().parts());
        let opened = open(outbound, clients, address).await;
        Ok(accessor.with(|mut a| a.get().push(opened))?.map_err(error))
    }

    async fn publish(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> Result<()> {
        done(ops(accessor, &conn)?.publish(channel, payload).await)
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        key: String,
    ) -> Result<Option<Vec<u8>>> {
        done(ops(accessor, &conn)?.get(key).await)
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> Result<()> {
        done(ops(accessor, &conn)?.set(key, value).await)
    }

    async fn incr(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        key: String,
    ) -> Result<i64> {
        done(ops(accessor, &conn)?.incr(key).await)
    }

    async fn del(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        keys: Vec<String>,
    ) -> Result<u32> {
        done(ops(accessor, &conn)?.del(keys).await)
    }

    async fn sadd(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> Result<u32> {
        done(ops(accessor, &conn)?.sadd(key, values).await)
    }

    async fn smembers(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        key: String,
    ) -> Result<Vec<String>> {
        done(ops(accessor, &conn)?.smembers(key).await)
    }

    async fn srem(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> Result<u32> {
        done(ops(accessor, &conn)?.srem(key, values).await)
    }

    async fn execute(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        command: String,
        arguments: Vec<v3::RedisParameter>,
    ) -> Result<Vec<v3::RedisResult>> {
        let outcome = ops(accessor, &conn)?
            .execute(command, params(arguments))
            .await;
        done(outcome.map(replies))
    }
}
