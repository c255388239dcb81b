//! Running one request's guest: a fresh instance under the request timeout and memory
//! limit, driven on the connection's task until it answers. What happened is an
//! [`Outcome`]; [`respond`] is the one place that turns an outcome into a response and a
//! log line.

use super::abi::{AbiRequest, method_not_allowed, response};
use super::respond::{buffered, text};
use crate::app::{Handler, LoadedApp, LoadedComponent};
use crate::host::spin_v1::bindings::SpinV1HttpPre;
use crate::host::spin_v1::bindings::fermyon::spin::http_types as spin_http;
use crate::module::{ModuleHandler, ModulePre, inbound, wagi};
use crate::state::{Limited, ModuleState, RequestState, wasi_builder};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use wasmtime::{Engine, Store, Trap, UpdateDeadline};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// One guest run: instantiate and call the handler.
type GuestRun = Pin<Box<dyn Future<Output = Result<(), GuestFailure>> + Send>>;

/// Why a guest run failed.
pub struct GuestFailure {
    memory_limit_hit: bool,
    error: wasmtime::Error,
}

/// What became of a request.
pub enum Outcome {
    /// The guest answered. `rest` is the run, when it is still streaming the body.
    Answered {
        /// The response.
        response: Response<HyperOutgoingBody>,
        /// How the run ended, if it has.
        finished: Option<Result<(), GuestFailure>>,
        /// The run, if it has not.
        rest: Option<GuestRun>,
    },
    /// The guest set an error code instead of a response.
    ErrorCode(ErrorCode),
    /// The guest returned without setting a response.
    NoResponse,
    /// The guest failed before answering.
    Failed(GuestFailure),
    /// The guest ran past the request timeout.
    TimedOut,
    /// The request body went past the limit while the guest read it.
    BodyTooLarge,
    /// The request could not be handed to a guest.
    NotStarted {
        /// Status to answer.
        status: StatusCode,
        /// What went wrong (logged).
        reason: String,
    },
}

/// A store for one request: memory accounted, stopped at `deadline` (checked every epoch
/// tick, yielding to the connection's task in between).
fn new_store<T: Limited>(engine: &Engine, state: T, deadline: Instant) -> Store<T> {
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

/// Run `component` for `req` and say what happened.
pub async fn run<B>(
    app: &LoadedApp,
    component: &LoadedComponent,
    req: Request<B>,
    exceeded: &AtomicBool,
) -> Outcome
where
    B: hyper::body::Body<Data = bytes::Bytes, Error = wasmtime_wasi_http::Error>
        + Send
        + Sync
        + 'static,
{
    match &component.handler {
        Handler::Proxy(pre) => run_proxy(app, component, pre, req, exceeded).await,
        Handler::SpinHttp(pre) => run_spin_http(app, component, pre, req, exceeded).await,
        Handler::Module(module) => run_module(app, component, module, req, exceeded).await,
    }
}

fn not_prepared(e: impl std::fmt::Display) -> Outcome {
    Outcome::NotStarted {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        reason: format!("cannot prepare the request: {e}"),
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
    B: hyper::body::Body<Data = bytes::Bytes, Error = wasmtime_wasi_http::Error>
        + Send
        + Sync
        + 'static,
{
    let deadline = Instant::now() + app.limits.request_timeout;
    let state = match RequestState::new(
        &component.state,
        app.stores.clone(),
        app.limits.memory_bytes,
    ) {
        Ok(s) => s,
        Err(e) => return not_prepared(e),
    };
    let mut store = new_store(&app.engine, state, deadline);
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

/// A core module: the whole request body in, the whole response out.
async fn run_module<B>(
    app: &LoadedApp,
    component: &LoadedComponent,
    module: &ModulePre,
    req: Request<B>,
    exceeded: &AtomicBool,
) -> Outcome
where
    B: hyper::body::Body<Data = bytes::Bytes, Error = wasmtime_wasi_http::Error>
        + Send
        + Sync
        + 'static,
{
    let deadline = Instant::now() + app.limits.request_timeout;
    let (parts, body) = req.into_parts();
    let body = match whole_body(body, deadline, exceeded).await {
        Ok(b) => b,
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
    let result = {
        let call = async {
            match (&module.handler, stdout) {
                (ModuleHandler::Wagi(config), Some(stdout)) => {
                    wagi::run(&mut store, &module.pre, config).await?;
                    Ok(wagi::parse_output(&stdout.contents()).unwrap_or_else(|e| {
                        tracing::error!("component `{id}` (WAGI) wrote an unusable response: {e}");
                        http::Response::builder()
                            .status(StatusCode::INTERNAL_SERVER_ERROR)
                            .body(bytes::Bytes::from_static(b"Internal Server Error"))
                            .expect("static response parts are valid")
                    }))
                }
                _ => inbound::serve(&mut store, &module.pre, parts, body).await,
            }
        };
        tokio::select! {
            r = call => Some(r),
            _ = tokio::time::sleep_until(deadline.into()) => None,
        }
    };
    whole_outcome(result, store.data().limiter.hit)
}

/// The request body, read whole under the deadline and the body cap.
async fn whole_body<B>(
    body: B,
    deadline: Instant,
    exceeded: &AtomicBool,
) -> Result<bytes::Bytes, Outcome>
where
    B: hyper::body::Body<Data = bytes::Bytes, Error = wasmtime_wasi_http::Error>,
{
    match tokio::time::timeout_at(deadline.into(), body.collect()).await {
        Err(_) => Err(Outcome::TimedOut),
        Ok(Err(_)) if exceeded.load(Ordering::SeqCst) => Err(Outcome::BodyTooLarge),
        Ok(Err(e)) => Err(Outcome::NotStarted {
            status: StatusCode::BAD_REQUEST,
            reason: format!("reading the request body: {e}"),
        }),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
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
async fn run_spin_http<B>(
    app: &LoadedApp,
    component: &LoadedComponent,
    pre: &SpinV1HttpPre<RequestState>,
    req: Request<B>,
    exceeded: &AtomicBool,
) -> Outcome
where
    B: hyper::body::Body<Data = bytes::Bytes, Error = wasmtime_wasi_http::Error>
        + Send
        + Sync
        + 'static,
{
    let deadline = Instant::now() + app.limits.request_timeout;
    let (parts, body) = req.into_parts();
    let body = match whole_body(body, deadline, exceeded).await {
        Ok(b) => b,
        Err(outcome) => return outcome,
    };
    let Some(req) = AbiRequest::new(&parts, body) else {
        return whole_outcome(Some(Ok(method_not_allowed())), false);
    };
    let state = match RequestState::new(
        &component.state,
        app.stores.clone(),
        app.limits.memory_bytes,
    ) {
        Ok(s) => s,
        Err(e) => return not_prepared(e),
    };
    let mut store = new_store(&app.engine, state, deadline);
    let result = {
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
        tokio::select! {
            r = call => Some(r),
            _ = tokio::time::sleep_until(deadline.into()) => None,
        }
    };
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

fn timed_out(id: &str, limits: &crate::Limits) -> Response<HyperOutgoingBody> {
    tracing::error!(
        "component `{id}` exceeded the request timeout of {:?} and was stopped",
        limits.request_timeout
    );
    text(
        StatusCode::GATEWAY_TIMEOUT,
        "Gateway Timeout: the component took too long",
    )
}

/// The response (and log line) for `outcome` of component `id`.
pub async fn respond(
    limits: &crate::Limits,
    id: &str,
    outcome: Outcome,
) -> Response<HyperOutgoingBody> {
    match outcome {
        Outcome::Answered {
            response,
            finished,
            rest,
        } => {
            match (finished, rest) {
                (Some(Ok(())), _) => return buffered(response).await,
                (Some(Err(f)), _) => {
                    tracing::error!("component `{id}` failed after responding: {:?}", f.error)
                }
                (None, Some(rest)) => {
                    let (id, timeout) = (id.to_string(), limits.request_timeout);
                    let deadline = tokio::time::Instant::now() + timeout;
                    tokio::spawn(async move {
                        match tokio::time::timeout_at(deadline, rest).await {
                            Err(_) => tracing::error!(
                                "component `{id}` exceeded the request timeout of {timeout:?} while streaming its response; stopped"
                            ),
                            Ok(Err(f)) => tracing::error!(
                                "component `{id}` failed after responding: {:?}",
                                f.error
                            ),
                            Ok(Ok(())) => {}
                        }
                    });
                }
                (None, None) => {}
            }
            response.map(|b| b.boxed_unsync())
        }
        Outcome::ErrorCode(code) => {
            tracing::error!("component `{id}` answered with error {code:?}");
            text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
        Outcome::NoResponse => {
            tracing::error!("component `{id}` returned without setting a response");
            text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
        Outcome::TimedOut => timed_out(id, limits),
        Outcome::BodyTooLarge => {
            let limit = limits.max_request_body;
            tracing::warn!("component `{id}`: request body exceeded {limit} bytes (413)");
            text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body larger than {limit} bytes"),
            )
        }
        Outcome::NotStarted { status, reason } => {
            tracing::warn!("component `{id}`: {reason}");
            text(status, status.canonical_reason().unwrap_or("Error"))
        }
        Outcome::Failed(GuestFailure {
            memory_limit_hit,
            error,
        }) => {
            if error
                .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
                .is_some()
            {
                tracing::warn!(
                    "component `{id}`: too many concurrent requests ({error}); answering 503"
                );
                return text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service Unavailable: too many concurrent requests",
                );
            }
            if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
                return timed_out(id, limits);
            }
            if memory_limit_hit {
                tracing::error!(
                    "component `{id}` exceeded the memory limit of {} MiB: {error:?}",
                    limits.memory_bytes >> 20
                );
                return text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal Server Error: memory limit exceeded",
                );
            }
            tracing::error!("component `{id}` trapped: {error:?}");
            text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}
