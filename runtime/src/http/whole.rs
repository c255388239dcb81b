//! Guests that take the whole request and give a whole response: core modules (Spin's
//! pre-component ABI, WAGI), components exporting Spin's `fermyon:spin/inbound-http`, and
//! WAGI components.
//! The body is read under the deadline and the body cap before the guest starts.

use super::outcome::{GuestBody, GuestFailure, Outcome, not_prepared, request_store};
use crate::app::{LoadedApp, LoadedComponent};
use crate::host::spin_v1::bindings::SpinV1HttpPre;
use crate::host::spin_v1::bindings::fermyon::spin::http_types as spin_http;
use crate::module::wagi::{self, WagiConfig};
use crate::module::{ModuleHandler, ModulePre, inbound};
use crate::spin_http::{AbiRequest, method_not_allowed, response};
use crate::state::new_store;
use crate::state::{ModuleState, RequestState, wasi_builder};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use wasmtime_wasi::p2::bindings::CommandPre;

/// A core module: the whole request body in, the whole response out.
pub async fn run_module<B>(
    app: &LoadedApp,
    component: &LoadedComponent,
    module: &ModulePre,
    req: Request<B>,
    exceeded: &AtomicBool,
) -> Outcome
where
    B: GuestBody,
{
    let (deadline, parts, body) = match read_whole(app, req, exceeded).await {
        Ok(whole) => whole,
        Err(outcome) => return outcome,
    };
    let wasi = match wasi_builder(&component.state) {
        Ok(w) => w,
        Err(e) => return not_prepared(e),
    };
    let (wasi, stdout) = match &module.handler {
        ModuleHandler::Wagi(config) => {
            // A WAGI response is held whole: at most what the instance's memory may be.
            let max_output = app.limits.memory_bytes;
            let (wasi, stdout) = wagi::wasi(wasi, config, &parts, body.clone(), max_output);
            (wasi, Some(stdout))
        }
        ModuleHandler::SpinAbi => (wasi, None),
    };
    let state = ModuleState::new(
        &component.state,
        wasi,
        app.stores.clone(),
        app.limits.memory_bytes,
    );
    let mut store = new_store(&app.engine, state, deadline);
    let id = &component.state.id;
    let call = async {
        match (&module.handler, stdout) {
            (ModuleHandler::Wagi(config), Some(stdout)) => {
                wagi::run(&mut store, &module.pre, config).await?;
                Ok(wagi::response_of(id, &stdout))
            }
            _ => inbound::serve(&mut store, &module.pre, parts, body).await,
        }
    };
    let result = tokio::time::timeout_at(deadline.into(), call).await.ok();
    whole_outcome(result, store.data().limiter.hit)
}

/// A component under the WAGI executor: `wasi:cli/run` with the request as its
/// environment and stdin, the response from its stdout.
pub async fn run_wagi_component<B>(
    app: &LoadedApp,
    component: &LoadedComponent,
    pre: &CommandPre<RequestState>,
    config: &WagiConfig,
    req: Request<B>,
    exceeded: &AtomicBool,
) -> Outcome
where
    B: GuestBody,
{
    let (deadline, parts, body) = match read_whole(app, req, exceeded).await {
        Ok(whole) => whole,
        Err(outcome) => return outcome,
    };
    let wasi = match wasi_builder(&component.state) {
        Ok(w) => w,
        Err(e) => return not_prepared(e),
    };
    let max_output = app.limits.memory_bytes;
    let (wasi, stdout) = wagi::wasi(wasi, config, &parts, body, max_output);
    let state = RequestState::with_wasi(
        &component.state,
        wasi,
        app.stores.clone(),
        app.limits.memory_bytes,
    );
    let mut store = new_store(&app.engine, state, deadline);
    let id = &component.state.id;
    let call = async {
        wagi::run_command(&mut store, pre).await?;
        Ok(wagi::response_of(id, &stdout))
    };
    let result = tokio::time::timeout_at(deadline.into(), call).await.ok();
    whole_outcome(result, store.data().limiter.hit)
}

/// The request read whole under its deadline and the body cap: the deadline (which the
/// guest's run shares), the head and the body.
async fn read_whole<B: GuestBody>(
    app: &LoadedApp,
    req: Request<B>,
    exceeded: &AtomicBool,
) -> Result<(Instant, http::request::Parts, bytes::Bytes), Outcome> {
    let deadline = Instant::now() + app.limits.request_timeout;
    let (parts, body) = req.into_parts();
    match tokio::time::timeout_at(deadline.into(), body.collect()).await {
        Err(_) => Err(Outcome::TimedOut),
        Ok(Err(_)) if exceeded.load(Ordering::SeqCst) => Err(Outcome::BodyTooLarge),
        Ok(Err(e)) => Err(Outcome::NotStarted {
            status: StatusCode::BAD_REQUEST,
            reason: format!("reading the request body: {e}"),
        }),
        Ok(Ok(collected)) => Ok((deadline, parts, collected.to_bytes())),
    }
}

/// What became of a run that answers with a whole response (`None`: the deadline passed).
fn whole_outcome(
    result: Option<wasmtime::Result<http::Response<bytes::Bytes>>>,
    memory_limit_hit: bool,
) -> Outcome {
    match result {
        None => Outcome::TimedOut,
        Some(Ok(response)) => Outcome::Answered {
            response: response.map(|b| Full::new(b).map_err(|e| match e {}).boxed_unsync()),
            finished: Some(Ok(())),
            rest: None,
        },
        Some(Err(error)) => Outcome::Failed(GuestFailure {
            memory_limit_hit,
            error,
        }),
    }
}

/// A component exporting Spin's `fermyon:spin/inbound-http`: the whole request in, the
/// whole response out.
pub async fn run_spin_http<B>(
    app: &LoadedApp,
    component: &LoadedComponent,
    pre: &SpinV1HttpPre<RequestState>,
    req: Request<B>,
    exceeded: &AtomicBool,
) -> Outcome
where
    B: GuestBody,
{
    let (deadline, parts, body) = match read_whole(app, req, exceeded).await {
        Ok(whole) => whole,
        Err(outcome) => return outcome,
    };
    let Some(req) = AbiRequest::new(&parts, body) else {
        return whole_outcome(Some(Ok(method_not_allowed())), false);
    };
    let mut store = match request_store(app, component, deadline) {
        Ok(s) => s,
        Err(outcome) => return *outcome,
    };
    let call = async {
        let guest = pre.instantiate_async(&mut store).await?;
        let request = spin_http::Request {
            method: SPIN_METHODS[usize::from(req.method)],
            uri: req.uri,
            headers: req.headers,
            params: Vec::new(),
            body: Some(req.body.to_vec()),
        };
        let r = guest
            .fermyon_spin_inbound_http()
            .call_handle_request(&mut store, &request)
            .await?;
        Ok(response(
            r.status,
            r.headers.unwrap_or_default(),
            r.body.unwrap_or_default(),
        ))
    };
    let result = tokio::time::timeout_at(deadline.into(), call).await.ok();
    whole_outcome(result, store.data().limiter.hit)
}

/// Spin's `method` enum as the generated bindings spell it, in the same order as
/// [`crate::host::buffered::METHODS`].
const SPIN_METHODS: [spin_http::Method; 7] = [
    spin_http::Method::Get,
    spin_http::Method::Post,
    spin_http::Method::Put,
    spin_http::Method::Delete,
    spin_http::Method::Patch,
    spin_http::Method::Head,
    spin_http::Method::Options,
];
