//! State at its two lifetimes: what one component keeps for all its requests
//! ([`ComponentState`], built at start-up), and what one request owns: [`RequestState`],
//! the `T` of a component's `Store<T>`, or [`ModuleState`] for a core module (WASI
//! preview 1 instead of p2 and HTTP resources). Each hands the host capabilities their
//! context through the capability's view trait, so both kinds share one implementation.

use crate::host::kv::{ComponentKv, KvCtx, KvCtxView, KvView, StoreManager};
use crate::host::mqtt::{MqttCtx, MqttCtxView, MqttView};
use crate::host::mysql::{MysqlCtx, MysqlCtxView, MysqlView};
use crate::host::outbound::{ChainingHooks, Outbound, OutboundView};
use crate::host::postgres::{PgClients, PgCtx, PgCtxView, PgView};
use crate::host::redis::{RedisClients, RedisCtx, RedisCtxView, RedisView};
use crate::host::sqlite::{ComponentSqlite, SqliteCtx, SqliteCtxView, SqliteView};
use crate::host::variables::{Variables, VariablesView};
use crate::output::ComponentOutput;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, Trap, UpdateDeadline};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
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
    /// Which SQLite databases it may open.
    pub sqlite: Arc<ComponentSqlite>,
    /// The app's Redis connections.
    pub redis: Arc<RedisClients>,
    /// The app's idle PostgreSQL connections.
    pub postgres: Arc<PgClients>,
    /// Its outbound rules.
    pub outbound: Arc<Outbound>,
    /// Where its stdout and stderr go.
    pub output: ComponentOutput,
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

/// Request state whose instance's memory is accounted by a [`MemoryLimiter`].
pub trait Limited: Send + 'static {
    /// The limiter.
    fn limiter(&mut self) -> &mut MemoryLimiter;
}

/// A store for one request: memory accounted, stopped at `deadline` (checked every epoch
/// tick, yielding to the connection's task in between).
pub fn new_store<T: Limited>(engine: &Engine, state: T, deadline: Instant) -> Store<T> {
    let mut store = Store::new(engine, state);
    store.limiter(|s| s.limiter());
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= deadline {
            Err(Trap::Interrupt.into())
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    store
}

/// The WASI context every guest of `component` starts from: its environment, stdout and
/// stderr, its files read-only at `/`, and the sockets its rules grant.
pub fn wasi_builder(component: &ComponentState) -> std::io::Result<WasiCtxBuilder> {
    let mut wasi = WasiCtx::builder();
    wasi.envs(&component.env)
        .stdout(component.output.stdout.clone())
        .stderr(component.output.stderr.clone());
    if let Some(dir) = &component.files_dir {
        wasi.preopened_dir(dir, "/", FsPerms::ReadOnly)
            .map_err(std::io::Error::other)?;
    }
    crate::host::sockets::grant(&mut wasi, &component.outbound);
    Ok(wasi)
}

/// The `T` of `Store<T>` for one request.
pub struct RequestState {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: ChainingHooks,
    kv: KvCtx,
    variables: Arc<Variables>,
    sqlite: SqliteCtx,
    redis: RedisCtx,
    mqtt: MqttCtx,
    mysql: MysqlCtx,
    postgres: PgCtx,
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
        Ok(Self::with_wasi(
            component,
            wasi_builder(component)?,
            stores,
            memory_limit,
        ))
    }

    /// Fresh state with WASI from `wasi` (a WAGI request's stdin, stdout and environment).
    pub fn with_wasi(
        component: &ComponentState,
        mut wasi: WasiCtxBuilder,
        stores: Arc<StoreManager>,
        memory_limit: usize,
    ) -> Self {
        Self {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            hooks: ChainingHooks {
                outbound: component.outbound.clone(),
            },
            kv: KvCtx::new(stores, component.kv.clone()),
            variables: component.variables.clone(),
            sqlite: SqliteCtx::new(component.sqlite.clone()),
            redis: RedisCtx::new(component.outbound.clone(), component.redis.clone()),
            mqtt: MqttCtx::new(component.outbound.clone()),
            mysql: MysqlCtx::new(component.outbound.clone()),
            postgres: PgCtx::new(component.outbound.clone(), component.postgres.clone()),
            outbound: component.outbound.clone(),
            limiter: MemoryLimiter::new(memory_limit),
        }
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
            hooks: &mut self.hooks,
        }
    }
}

/// The capability views of a request state type whose fields `table` and (each view's)
/// context are named as below.
macro_rules! views {
    ($state:ty: $($view:ident::$f:ident => $ctx:ident),* $(,)?) => {
        $(
            impl $view for $state {
                fn $f(&mut self) -> $ctx<'_> {
                    $ctx {
                        ctx: &mut self.$f,
                        table: &mut self.table,
                    }
                }
            }
        )*
    };
}

views!(RequestState:
    PgView::postgres => PgCtxView,
    MysqlView::mysql => MysqlCtxView,
    MqttView::mqtt => MqttCtxView,
    RedisView::redis => RedisCtxView,
    SqliteView::sqlite => SqliteCtxView,
    KvView::kv => KvCtxView,
);

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

impl Limited for RequestState {
    fn limiter(&mut self) -> &mut MemoryLimiter {
        &mut self.limiter
    }
}

/// The `T` of `Store<T>` for one request of a core module.
pub struct ModuleState {
    /// WASI preview 1.
    pub wasi: WasiP1Ctx,
    /// Open key/value stores and SQLite connections (their handles are the old ABI's
    /// numbers).
    table: ResourceTable,
    kv: KvCtx,
    sqlite: SqliteCtx,
    redis: RedisCtx,
    mysql: MysqlCtx,
    postgres: PgCtx,
    /// The component's variables.
    pub variables: Arc<Variables>,
    /// The component's outbound rules.
    pub outbound: Arc<Outbound>,
    /// The request's memory accounting.
    pub limiter: MemoryLimiter,
}

impl ModuleState {
    /// Fresh state for one request of `component`, with WASI from `wasi`.
    pub fn new(
        component: &ComponentState,
        mut wasi: WasiCtxBuilder,
        stores: Arc<StoreManager>,
        memory_limit: usize,
    ) -> Self {
        Self {
            wasi: wasi.build_p1(),
            table: ResourceTable::new(),
            kv: KvCtx::new(stores, component.kv.clone()),
            sqlite: SqliteCtx::new(component.sqlite.clone()),
            redis: RedisCtx::new(component.outbound.clone(), component.redis.clone()),
            mysql: MysqlCtx::new(component.outbound.clone()),
            postgres: PgCtx::new(component.outbound.clone(), component.postgres.clone()),
            variables: component.variables.clone(),
            outbound: component.outbound.clone(),
            limiter: MemoryLimiter::new(memory_limit),
        }
    }
}

views!(ModuleState:
    PgView::postgres => PgCtxView,
    MysqlView::mysql => MysqlCtxView,
    RedisView::redis => RedisCtxView,
    SqliteView::sqlite => SqliteCtxView,
    KvView::kv => KvCtxView,
);

impl Limited for ModuleState {
    fn limiter(&mut self) -> &mut MemoryLimiter {
        &mut self.limiter
    }
}
