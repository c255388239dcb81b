//! Running one request's guest: pick the handler by what the component exports, then a
//! fresh instance under the request timeout and memory limit, driven on the connection's
//! task until it answers. A `wasi:http` component is run here; guests that take and give
//! whole messages are in [`super::whole`].

use super::outcome::{GuestBody, GuestFailure, GuestRun, Outcome, request_store};
use super::whole;
use crate::app::{Handler, LoadedApp, LoadedComponent};
use crate::state::RequestState;
use http::{Request, StatusCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;

/// Run `component` for `req` and say what happened.
pub async fn run<B>(
    app: &LoadedApp,
    component: &LoadedComponent,
    req: Request<B>,
    exceeded: &AtomicBool,
) -> Outcome
where
    B: GuestBody,
{
    match &component.handler {
        Handler::Proxy(pre) => run_proxy(app, component, pre, req, exceeded).await,
        Handler::P3(pre) => super::p3::run(app, component, pre, req, exceeded).await,
        Handler::P3Pool(pool) => super::p3::run_pooled(app, pool, req).await,
        Handler::SpinHttp(pre) => whole::run_spin_http(app, component, pre, req, exceeded).await,
        Handler::Module(module) => whole::run_module(app, component, module, req, exceeded).await,
        Handler::WagiComponent(pre, config) => {
            whole::run_wagi_component(app, component, pre, config, req, exceeded).await
        }
    }
}

/// A component exporting `wasi:http/incoming-handler`: it may answer before it finishes.
async fn run_proxy<B>(
    app: &LoadedApp,
    component: &LoadedComponent,
    pre: &ProxyPre<RequestState>,
    req: Request<B>,
    exceeded: &AtomicBool,
) -> Outcome
where
    B: GuestBody,
{
    let deadline = Instant::now() + app.limits.request_timeout;
    let mut store = match request_store(app, component, deadline) {
        Ok(s) => s,
        Err(outcome) => return *outcome,
    };
    let (tx, mut rx) = tokio::sync::oneshot::channel();
    let resources = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, req)
        .and_then(|r| Ok((r, store.data_mut().http().new_response_outparam(tx)?)));
    let (request, outparam) = match resources {
        Ok(r) => r,
        Err(e) => {
            return Outcome::NotStarted {
                status: StatusCode::BAD_REQUEST,
                reason: format!("bad request: {e}"),
            };
        }
    };
    let pre = pre.clone();
    let mut guest: GuestRun = Box::pin(async move {
        let result = async {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, request, outparam)
                .await
        }
        .await;
        result.map_err(|error| GuestFailure {
            memory_limit_hit: store.data().limiter.hit,
            error,
        })
    });

    // Drive the guest on this task until it answers. Most guests finish within their first
    // poll (then no timer is even armed); only a guest still streaming its body after
    // answering is handed back to be finished on a task of its own.
    let (answer, finished) = match futures::poll!(&mut guest) {
        std::task::Poll::Ready(done) => (rx.try_recv().ok(), Some(done)),
        std::task::Poll::Pending => {
            let timeout = tokio::time::sleep_until(deadline.into());
            tokio::pin!(timeout);
            tokio::select! {
                biased;
                done = &mut guest => (rx.try_recv().ok(), Some(done)),
                answer = &mut rx => (answer.ok(), None),
                _ = &mut timeout => return Outcome::TimedOut,
            }
        }
    };
    if exceeded.load(Ordering::SeqCst) {
        return Outcome::BodyTooLarge;
    }
    match answer {
        Some(Ok(response)) => {
            let rest = finished.is_none().then_some(guest);
            Outcome::Answered {
                response,
                finished,
                rest,
            }
        }
        Some(Err(code)) => Outcome::ErrorCode(code),
        None => {
            // No response: the end of the run says why.
            let done = match finished {
                Some(done) => done,
                None => match tokio::time::timeout_at(deadline.into(), guest).await {
                    Ok(done) => done,
                    Err(_) => return Outcome::TimedOut,
                },
            };
            if exceeded.load(Ordering::SeqCst) {
                return Outcome::BodyTooLarge;
            }
            match done {
                Err(failure) => Outcome::Failed(failure),
                Ok(()) => Outcome::NoResponse,
            }
        }
    }
}
