//! Per-request store data: WASI and WASI HTTP contexts, the resource table, the
//! component's resolved settings, and the memory limiter.

use crate::host::kv::StoreManager;
use spin_app::allowed_hosts::AllowedHosts;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// A component's settings, resolved once at start-up and shared by its requests.
#[derive(Debug)]
pub struct ComponentCtx {
    /// Component id.
    pub id: String,
    /// Labels listed in `key_value_stores`.
    pub key_value_stores: HashSet<String>,
    /// Component variables with their templates expanded.
    pub variables: BTreeMap<String, String>,
    /// Outbound HTTP rules with templates expanded.
    pub allowed_hosts: AllowedHosts,
    /// Guest environment.
    pub env: Vec<(String, String)>,
    /// Host directory mounted read-only at `/`, if the component has files.
    pub files_dir: Option<PathBuf>,
    /// `host:port` where the app itself answers (for relative-URL requests).
    pub self_authority: String,
}

/// Tracks the total linear memory of one instance against the configured limit.
pub struct MemoryLimiter {
    limit: usize,
    used: usize,
    /// Set when a growth was refused, so a resulting trap can be reported as such.
    pub hit: bool,
}

impl MemoryLimiter {
    /// A limiter allowing `limit` bytes across all of an instance's memories.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            used: 0,
            hit: false,
        }
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.used - current.min(self.used) + desired;
        if total > self.limit {
            self.hit = true;
            return Ok(false);
        }
        self.used = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 10_000_000)
    }
}

/// The `T` of `Store<T>` for one request.
pub struct RequestState {
    pub(crate) table: ResourceTable,
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) component: Arc<ComponentCtx>,
    pub(crate) stores: Arc<StoreManager>,
    pub(crate) open_stores: usize,
    pub(crate) limiter: MemoryLimiter,
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for RequestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: Default::default(),
        }
    }
}
