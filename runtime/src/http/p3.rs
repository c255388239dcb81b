//! WASI P3 components (`wasi:http/handler@0.3.0`, Spin 4's default). With instance reuse
//! (the default) requests go to [`crate::pool`]'s workers ([`run_pooled`]); with a reuse
//! count of 1, [`run`] makes a fresh instance per request whose store runs its event loop
//! on a task of its own, under the request deadline, until the response body has been sent
//! (or dropped), so a guest that streams its body after returning keeps running exactly as
//! long as it is read.

use super::outcome::{GuestBody, GuestFailure, Outcome, request_store};
use crate::app::{LoadedApp, LoadedComponent};
use crate::pool::P3Handler;
use crate::state::RequestState;
use http::Request;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::sync::oneshot;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::handler::ExpirationError;
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::p3::bindings::ServicePre;

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A response body that says when it is finished or dropped.
struct Tracked<B> {
    inner: B,
    done: Option<oneshot::Sender<()>>,
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            self.done.take();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Run `component` (a P3 service) for `req`.
pub async fn run<B>(
    app: &LoadedApp,
    component: &LoadedComponent,
    pre: &ServicePre<RequestState>,
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
    let service = match pre.instantiate_async(&mut store).await {
        Ok(s) => s,
        Err(error) => {
            return Outcome::Failed(GuestFailure {
                memory_limit_hit: store.data().limiter.hit,
                error,
            });
        }
    };
    let (request, request_io) =
        wasmtime_wasi_http::p3::Request::from_http(store.data_mut().http().hooks, req);
    let (tx, rx) = oneshot::channel();
    let (done_tx, done_rx) = oneshot::channel::<()>();
    let id = component.state.id.clone();
    // The store's event loop: until the guest answers, then until its body is read.
    let run = tokio::spawn(async move {
        let result = store
            .run_concurrent(async move |accessor| {
                let response = match service.handle(accessor, request).await {
                    Ok(Ok(response)) => response,
                    Ok(Err(code)) => {
                        let _ = tx.send(Err(code));
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                };
                let response =
                    accessor.with(|mut store| response.into_http(&mut store, request_io))?;
                let (parts, body) = response.into_parts();
                let body = Tracked {
                    inner: body,
                    done: Some(done_tx),
                };
                let body = body.boxed_unsync();
                if tx.send(Ok(http::Response::from_parts(parts, body))).is_ok() {
                    // Closed when the body ends or hyper drops it.
                    let _ = done_rx.await;
                }
                Ok(())
            })
            .await;
        let hit = store.data().limiter.hit;
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) | Err(error) => Err(GuestFailure {
                memory_limit_hit: hit,
                error,
            }),
        }
    });
    let deadline_at = tokio::time::Instant::from_std(deadline);
    // Stops the store's task when the deadline passes or nobody waits for it any more.
    let stop = AbortOnDrop(run.abort_handle());
    let run = async move {
        let _stop = stop;
        match tokio::time::timeout_at(deadline_at, run).await {
            Err(_) => Err(None),
            Ok(Err(join)) => Err(Some(GuestFailure {
                memory_limit_hit: false,
                error: wasmtime::Error::msg(format!("component task failed: {join}")),
            })),
            Ok(Ok(Err(failure))) => Err(Some(failure)),
            Ok(Ok(Ok(()))) => Ok(()),
        }
    };
    let mut run = Box::pin(run);
    let answer = tokio::select! {
        biased;
        answer = rx => answer.ok(),
        finished = &mut run => {
            return match finished {
                Err(None) => Outcome::TimedOut,
                _ if exceeded.load(Ordering::SeqCst) => Outcome::BodyTooLarge,
                Err(Some(failure)) => Outcome::Failed(failure),
                Ok(()) => Outcome::NoResponse,
            };
        }
    };
    match answer {
        Some(Ok(response)) => {
            // The rest of the run (streaming the body) finishes on its own task.
            tokio::spawn(async move {
                match run.await {
                    Err(None) => tracing::error!(
                        "component `{id}` exceeded the request timeout while streaming its response; stopped"
                    ),
                    Err(Some(f)) => {
                        tracing::error!("component `{id}` failed after responding: {:?}", f.error)
                    }
                    Ok(()) => {}
                }
            });
            Outcome::Answered {
                response,
                finished: None,
                rest: None,
            }
        }
        Some(Err(code)) => Outcome::ErrorCode(p2_code(code)),
        None => match run.await {
            Err(None) => Outcome::TimedOut,
            _ if exceeded.load(Ordering::SeqCst) => Outcome::BodyTooLarge,
            Err(Some(failure)) => Outcome::Failed(failure),
            Ok(()) => Outcome::NoResponse,
        },
    }
}

/// The P3 error code a guest answered with, as the trigger reports it.
fn p2_code(code: wasmtime_wasi_http::p3::bindings::http::types::ErrorCode) -> ErrorCode {
    ErrorCode::InternalError(Some(format!("{code:?}")))
}

/// Serve `req` from the pool; the request timeout applies from now.
pub async fn run_pooled<B>(app: &LoadedApp, pool: &P3Handler, req: Request<B>) -> Outcome
where
    B: GuestBody,
{
    let req = req.map(|b| b.boxed_unsync());
    match tokio::time::timeout(app.limits.request_timeout, pool.handle((), req)).await {
        Err(_) => Outcome::TimedOut,
        Ok(Ok(response)) => Outcome::Answered {
            response,
            finished: None,
            rest: None,
        },
        Ok(Err(e)) if e.downcast_ref::<ExpirationError>().is_some() => Outcome::TimedOut,
        Ok(Err(error)) => Outcome::Failed(GuestFailure {
            memory_limit_hit: false,
            error,
        }),
    }
}
