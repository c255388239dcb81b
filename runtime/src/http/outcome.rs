//! What became of a guest run ([`Outcome`]), and [`respond`], the one place that turns an
//! outcome into a response and a log line; the request store every guest runs in.

use super::respond::{buffered, text};
use crate::app::{LoadedApp, LoadedComponent};
use crate::state::{RequestState, new_store};
use http::{Response, StatusCode};
use http_body_util::BodyExt;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;
use wasmtime::{Store, Trap};
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// One guest run: instantiate and call the handler.
pub type GuestRun = Pin<Box<dyn Future<Output = Result<(), GuestFailure>> + Send>>;

/// Why a guest run failed.
pub struct GuestFailure {
    /// Whether the instance was refused memory (the error then says how it failed).
    pub memory_limit_hit: bool,
    /// The error.
    pub error: wasmtime::Error,
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

/// A request body as the trigger hands it to guests (capped, streaming).
pub trait GuestBody:
    hyper::body::Body<Data = bytes::Bytes, Error = wasmtime_wasi_http::Error> + Send + Sync + 'static
{
}

impl<B> GuestBody for B where
    B: hyper::body::Body<Data = bytes::Bytes, Error = wasmtime_wasi_http::Error>
        + Send
        + Sync
        + 'static
{
}

/// A component's store for one request, with its WASI and host state.
pub(super) fn request_store(
    app: &LoadedApp,
    component: &LoadedComponent,
    deadline: Instant,
) -> Result<Store<RequestState>, Box<Outcome>> {
    let state = RequestState::new(
        &component.state,
        app.stores.clone(),
        app.limits.memory_bytes,
    )
    .map_err(|e| Box::new(not_prepared(e)))?;
    Ok(new_store(&app.engine, state, deadline))
}

pub(super) fn not_prepared(e: impl std::fmt::Display) -> Outcome {
    Outcome::NotStarted {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        reason: format!("cannot prepare the request: {e}"),
    }
}

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
