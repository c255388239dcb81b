//! State at its two lifetimes: what one component keeps for all its requests
//! ([`ComponentState`], built at start-up), and what one request owns ([`RequestState`],
//! the `T` of its `Store<T>`), which hands each host capability its context through that
//! capability's view trait.

use crate::host::kv::{ComponentKv, KvCtx, KvCtxView, KvView, StoreManager};
use crate::host::outbound::{Outbound, OutboundView};
use crate::host::variables::{Variables, VariablesView};
use std::path::PathBuf;
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// A component's settings, resolved once at start-up and shared by its requests.
#[derive(Debug)]
pub struct ComponentState {
    /// Component id.
    pub id: String,
    /// Guest environment.
    pub env: Vec<(String, String)>,
    /// Host directory mounted read-only at `/`, if the component has files.
    pub files_dir: Option<PathBuf>,
    /// Which key/value stores it may open.
    pub kv: Arc<ComponentKv>,
    /// Its variables.
    pub variables: Arc<Variables>,
    /// Its outbound rules.
    pub outbound: Arc<Outbound>,
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
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    kv: KvCtx,
    variables: Arc<Variables>,
    outbound: Arc<Outbound>,
    /// The request's memory accounting.
    pub limiter: MemoryLimiter,
}

impl RequestState {
    /// Fresh state for one request of `component`.
    pub fn new(
        component: &ComponentState,
        stores: Arc<StoreManager>,
        memory_limit: usize,
    ) -> std::io::Result<Self> {
        let mut wasi = WasiCtx::builder();
        wasi.envs(&component.env).inherit_stdout().inherit_stderr();
        if let Some(dir) = &component.files_dir {
            wasi.preopened_dir(dir, "/", FsPerms::ReadOnly)
                .map_err(std::io::Error::other)?;
        }
        Ok(Self {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            kv: KvCtx::new(stores, component.kv.clone()),
            variables: component.variables.clone(),
            outbound: component.outbound.clone(),
            limiter: MemoryLimiter::new(memory_limit),
        })
    }
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

impl KvView for RequestState {
    fn kv(&mut self) -> KvCtxView<'_> {
        KvCtxView {
            ctx: &mut self.kv,
            table: &mut self.table,
        }
    }
}

impl VariablesView for RequestState {
    fn variables(&mut self) -> &Variables {
        &self.variables
    }
}

impl OutboundView for RequestState {
    fn outbound(&self) -> Arc<Outbound> {
        self.outbound.clone()
    }
}
