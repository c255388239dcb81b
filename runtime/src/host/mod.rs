//! Host capabilities, one module each, every one reaching request state through a view
//! trait (as `wasmtime-wasi-http` does with `WasiHttpView`), so a new interface version is
//! an adapter over the same capability: key/value ([`kv`]), variables ([`variables`]),
//! policed outbound HTTP ([`outbound`]), and trapping stand-ins for the Spin interfaces
//! not provided here ([`unsupported`]).

pub mod buffered;
pub mod kv;
pub mod mqtt;
pub mod mysql;
pub mod outbound;
pub mod postgres;
pub mod redis;
pub mod sockets;
pub mod spin_v1;
pub mod sqlite;
pub mod tls;
pub mod unsupported;
pub mod variables;

use wasmtime::Engine;
use wasmtime::component::Linker;
use wasmtime_wasi::WasiView;
use wasmtime_wasi_http::{WasiHttp, WasiHttpView};

/// Generated bindings for the Spin and WASI interfaces implemented in this crate.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "spin-runtime:host/spin-host",
        imports: {
            "spin:key-value/key-value": trappable,
            "spin:variables/variables": trappable,
            "spin:sqlite/sqlite": async | trappable,
            "spin:redis/redis": trappable,
            "spin:mqtt/mqtt": trappable,
            "spin:mysql/mysql": trappable,
            default: async | trappable,
        },
        with: {
            "spin:key-value/key-value.store": crate::host::kv::KvStore,
            "fermyon:spin/sqlite.connection": crate::host::sqlite::SqliteConnection,
            "spin:sqlite/sqlite.connection": crate::host::sqlite::SqliteConnection,
            "fermyon:spin/redis.connection": crate::host::redis::RedisConnection,
            "spin:redis/redis.connection": crate::host::redis::RedisConnection,
            "fermyon:spin/mqtt.connection": crate::host::mqtt::MqttConnection,
            "spin:mqtt/mqtt.connection": crate::host::mqtt::MqttConnection,
            "fermyon:spin/mysql.connection": crate::host::mysql::MysqlConnection,
            "spin:mysql/mysql.connection": crate::host::mysql::MysqlConnection,
            "fermyon:spin/postgres.connection": crate::host::postgres::PgConnection,
            "spin:postgres/postgres@3.0.0.connection": crate::host::postgres::PgConnection,
            "spin:postgres/postgres@4.2.0.connection": crate::host::postgres::PgConnection,
            "spin:postgres/postgres@4.2.0.connection-builder": crate::host::postgres::PgConnectionBuilder,
            "fermyon:spin/key-value.store": crate::host::kv::KvStore,
            "wasi:keyvalue/store.bucket": crate::host::kv::KvStore,
            "wasi:keyvalue/atomics.cas": crate::host::kv::CasHandle,
        },
    });
}

/// Everything a request's state gives the host capabilities.
pub trait HostView:
    WasiView
    + WasiHttpView
    + outbound::OutboundView
    + kv::KvView
    + variables::VariablesView
    + sqlite::SqliteView
    + redis::RedisView
    + mqtt::MqttView
    + mysql::MysqlView
    + postgres::PgView
{
}

impl<T> HostView for T where
    T: WasiView
        + WasiHttpView
        + outbound::OutboundView
        + kv::KvView
        + variables::VariablesView
        + sqlite::SqliteView
        + redis::RedisView
        + mqtt::MqttView
        + mysql::MysqlView
        + postgres::PgView
{
}

/// A linker with WASI p2, WASI HTTP types, the policed outgoing handler, key/value and
/// variables. Per-component stand-ins are added on a clone of it.
pub fn base_linker<T: HostView + 'static>(engine: &Engine) -> wasmtime::Result<Linker<T>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    let options = wasmtime_wasi_http::p2::bindings::LinkOptions::default();
    wasmtime_wasi_http::p2::bindings::http::types::add_to_linker::<_, WasiHttp>(
        &mut linker,
        &options.into(),
        T::http,
    )?;
    // WASI P3 (Spin 4): wasi:cli, clocks, filesystem, random, sockets @0.3.0 and
    // wasi:http@0.3.0, whose client sends through the same policed hooks.
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    outbound::add_to_linker(&mut linker)?;
    sockets::add_to_linker(&mut linker)?;
    kv::add_to_linker(&mut linker)?;
    variables::add_to_linker(&mut linker)?;
    sqlite::add_to_linker(&mut linker)?;
    redis::add_to_linker(&mut linker)?;
    mqtt::add_to_linker(&mut linker)?;
    mysql::add_to_linker(&mut linker)?;
    postgres::add_to_linker(&mut linker)?;
    spin_v1::add_to_linker(&mut linker)?;
    Ok(linker)
}
