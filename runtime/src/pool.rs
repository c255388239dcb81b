//! WASI P3 instance reuse, as Spin 4 offers it: an instance serves up to `total` requests,
//! `concurrent` of them at once, and is dropped after `idle_timeout` without work. Built on
//! `wasmtime-wasi-http`'s `ProxyHandler`, which runs each instance's store on a worker task
//! and hands requests to workers with room.
//!
//! Limits work per request as for P2: each accepted request expires after the request
//! timeout (504), and a worker whose oldest request has expired is dropped even when its
//! guest spins without yielding (the epoch callback yields to the worker every tick). The
//! memory limit is per instance (its store), reported when the worker's store is dropped.

use crate::engine::Limits;
use crate::host::kv::StoreManager;
use crate::state::{ComponentState, RequestState};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use wasmtime::component::GuestTaskId;
use wasmtime::{Engine, Store, StoreContextMut, UpdateDeadline};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, Proxy, ProxyHandler, ShouldAccept, WorkerExpiration, WorkerState,
    WorkerStatus,
};
use wasmtime_wasi_http::p3::bindings::ServicePre;

/// Everything a worker needs to make an instance of one component.
pub struct P3Pool {
    engine: Engine,
    pre: ServicePre<RequestState>,
    component: Arc<ComponentState>,
    stores: Arc<StoreManager>,
    limits: Limits,
}

/// The pool of one P3 component's instances.
pub type P3Handler = ProxyHandler<P3Pool>;

/// A handler for `component`, reusing its instances as `limits.reuse` says.
pub fn handler(
    engine: &Engine,
    pre: ServicePre<RequestState>,
    component: Arc<ComponentState>,
    stores: Arc<StoreManager>,
    limits: &Limits,
) -> P3Handler {
    ProxyHandler::new(P3Pool {
        engine: engine.clone(),
        pre,
        component,
        stores,
        limits: limits.clone(),
    })
}

impl HandlerState for P3Pool {
    type StoreData = RequestState;
    type WorkerExpiration = Expiry;
    type WorkerState = Worker;

    async fn instantiate(&self) -> wasmtime::Result<Instance<RequestState, Expiry, Worker>> {
        let state = RequestState::new(
            &self.component,
            self.stores.clone(),
            self.limits.memory_bytes,
        )?;
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        // Yield at every epoch tick so the worker can expire a guest that never yields.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
        let proxy = Proxy::P3(self.pre.instantiate_async(&mut store).await?);
        Ok(Instance {
            store,
            proxy,
            view: RequestState::http,
            expiration: Expiry::new(&self.limits),
            state: Worker {
                id: self.component.id.clone(),
                limits: self.limits.clone(),
            },
        })
    }
}

/// A worker's accounting.
pub struct Worker {
    id: String,
    limits: Limits,
}

impl WorkerState for Worker {
    type StoreData = RequestState;
    type RequestData = ();

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        let reuse = &self.limits.reuse;
        if total >= reuse.total as usize {
            ShouldAccept::Never
        } else if concurrent >= reuse.concurrent as usize {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        _store: StoreContextMut<'_, RequestState>,
        _data: (),
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + 'static + Send + Sync>> {
        Box::pin(tokio::time::sleep(self.limits.request_timeout))
    }

    fn drop(&self, store: Store<RequestState>, result: wasmtime::Result<()>) {
        if store.data().limiter.hit {
            tracing::error!(
                "component `{}` exceeded the memory limit of {} MiB; its instance was dropped",
                self.id,
                self.limits.memory_bytes >> 20
            );
        } else if let Err(e) = result {
            // wasmtime-wasi-http reports a worker dropped before it finished as "worker
            // panicked"; unless a panic is unwinding, the task was only cancelled (the runtime
            // shutting down with idle instances), which is no error.
            if !std::thread::panicking() && e.to_string() == "worker panicked" {
                tracing::debug!("component `{}`: an idle instance stopped", self.id);
                return;
            }
            tracing::error!(
                "component `{}`: instance dropped after an error: {e:?}",
                self.id
            );
        }
    }
}

/// When a worker is done: idle too long, or its oldest request past the request timeout
/// (and a grace period for work after the response).
pub struct Expiry {
    idle: Duration,
    busy: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
    armed_for: Option<(WorkerStatus, Instant)>,
}

impl Expiry {
    fn new(limits: &Limits) -> Self {
        Self {
            idle: limits.reuse.idle_timeout,
            busy: limits.request_timeout,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            armed_for: None,
        }
    }
}

impl WorkerExpiration for Expiry {
    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        state: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        if self.armed_for != Some((state, start)) {
            let after = match state {
                WorkerStatus::Idle => self.idle,
                WorkerStatus::Requests | WorkerStatus::PostReturn => self.busy,
            };
            let at = tokio::time::Instant::from_std(start + after);
            self.timer.as_mut().reset(at);
            self.armed_for = Some((state, start));
        }
        self.timer.as_mut().poll(cx)
    }
}
