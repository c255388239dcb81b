//! The HTTP trigger: accept connections (hyper), route, add Spin's request headers, run a
//! fresh instance per request under the limits, and shut down gracefully.

use crate::app::{LoadedApp, LoadedComponent, RuntimeOptions};
use crate::state::{MemoryLimiter, RequestState};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use spin_app::locked::LockedApp;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::net::TcpListener;
use wasmtime::component::ResourceTable;
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtx};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpView};

const WELL_KNOWN: &str = "/.well-known/spin/";

const FULL_URL: HeaderName = HeaderName::from_static("spin-full-url");
const PATH_INFO: HeaderName = HeaderName::from_static("spin-path-info");
const MATCHED_ROUTE: HeaderName = HeaderName::from_static("spin-matched-route");
const BASE_PATH: HeaderName = HeaderName::from_static("spin-base-path");
const RAW_COMPONENT_ROUTE: HeaderName = HeaderName::from_static("spin-raw-component-route");
const COMPONENT_ROUTE: HeaderName = HeaderName::from_static("spin-component-route");
const CLIENT_ADDR: HeaderName = HeaderName::from_static("spin-client-addr");

/// The app being served; replaced as a whole by [`Reloader::reload`].
type Slot = Arc<std::sync::RwLock<Arc<LoadedApp>>>;

/// A bound, loaded app, ready to serve.
pub struct Server {
    app: Slot,
    listener: TcpListener,
    local: SocketAddr,
    options: RuntimeOptions,
}

/// Replaces the app a running [`Server`] serves; requests already running finish on the
/// old one.
#[derive(Clone)]
pub struct Reloader {
    app: Slot,
    options: RuntimeOptions,
}

impl Reloader {
    /// Load `locked` and serve it from now on; on error the current app keeps serving.
    pub async fn reload(&self, locked: &LockedApp) -> anyhow::Result<()> {
        let app = crate::app::load(locked, &self.options).await?;
        *self.app.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(app);
        Ok(())
    }
}

impl Server {
    /// Bind the listener, then load the app (so self requests know the real port).
    pub async fn start(locked: &LockedApp, mut opts: RuntimeOptions) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(opts.listen).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {}: {e}\n  help: choose another address with --listen",
                opts.listen
            )
        })?;
        let local = listener.local_addr()?;
        opts.listen = local;
        let app = crate::app::load(locked, &opts).await?;
        Ok(Self {
            app: Arc::new(std::sync::RwLock::new(Arc::new(app))),
            listener,
            local,
            options: opts,
        })
    }

    /// A handle for replacing the app while serving.
    pub fn reloader(&self) -> Reloader {
        Reloader {
            app: self.app.clone(),
            options: self.options.clone(),
        }
    }

    fn current(&self) -> Arc<LoadedApp> {
        self.app.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// `Serving http://…` and the route list, as Spin prints them.
    pub fn banner(&self) -> String {
        let app = self.current();
        let base = format!("http://{}", self.local);
        let mut out = format!("Serving {base}\nAvailable Routes:\n");
        for r in app.router.routes() {
            let (path, suffix) = match r.based.strip_suffix("/...") {
                Some(prefix) => (prefix.to_string(), " (wildcard)"),
                None if r.based.is_empty() => ("/".to_string(), ""),
                None => (r.based.clone(), ""),
            };
            out.push_str(&format!("  {}: {base}{path}{suffix}\n", r.component));
        }
        let mut labels: Vec<&String> = app
            .components
            .values()
            .flat_map(|c| c.ctx.key_value_stores.iter())
            .collect();
        labels.sort();
        labels.dedup();
        for label in labels {
            if let Some(summary) = app.stores.summary(label) {
                out.push_str(&format!("Key/value store `{label}`: {summary}\n"));
            }
        }
        out
    }

    /// Serve until `shutdown` resolves, then stop accepting and let in-flight requests
    /// finish (bounded by the request timeout).
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, client) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::warn!("accept failed: {e}");
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let app = self.app.clone();
                    let local = self.local;
                    let service = hyper::service::service_fn(move |req| {
                        let app = app.read().unwrap_or_else(|e| e.into_inner()).clone();
                        async move { Ok::<_, std::convert::Infallible>(handle(app, req, client, local).await) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service);
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!("connection from {client}: {e}");
                        }
                    });
                }
                _ = &mut shutdown => break,
            }
        }
        drop(self.listener);
        let grace = self.options.limits.request_timeout + std::time::Duration::from_secs(1);
        tokio::select! {
            _ = graceful.shutdown() => {}
            _ = tokio::time::sleep(grace) => {
                tracing::warn!("in-flight requests did not finish within {grace:?}; stopping anyway");
            }
        }
        Ok(())
    }
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<HyperOutgoingBody> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(
            Full::new(body.into())
                .map_err(|e| match e {})
                .boxed_unsync(),
        )
        .expect("static response parts are valid")
}

fn well_known(app: &LoadedApp, rest: &str) -> Response<HyperOutgoingBody> {
    match rest {
        "health" => text(StatusCode::OK, "OK"),
        "info" => {
            let mut info = serde_json::Map::new();
            info.insert("name".into(), app.name.clone().into());
            if let Some(v) = &app.version {
                info.insert("version".into(), v.clone().into());
            }
            if let Some(d) = &app.oci_digest {
                info.insert("oci_image_digest".into(), d.clone().into());
            }
            let mut resp = text(
                StatusCode::OK,
                serde_json::to_vec(&info).unwrap_or_default(),
            );
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        _ => text(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn handle(
    app: Arc<LoadedApp>,
    mut req: Request<Incoming>,
    client: SocketAddr,
    local: SocketAddr,
) -> Response<HyperOutgoingBody> {
    let path = req.uri().path().to_string();
    if let Some(rest) = path.strip_prefix(WELL_KNOWN) {
        return well_known(&app, rest);
    }
    let Some(m) = app.router.route(&path) else {
        return text(StatusCode::NOT_FOUND, "Not Found");
    };
    let limit = app.limits.max_request_body;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        tracing::warn!(
            "request body of {} bytes refused: the limit is {limit} (413)",
            declared.unwrap_or_default()
        );
        return text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body larger than {limit} bytes"),
        );
    }
    let component = app.components[&m.route.component].clone();

    // Spin's request headers; client-sent `spin-*` headers are dropped so none can be forged.
    if !req.headers().contains_key(header::HOST)
        && let Ok(v) = HeaderValue::from_str(&local.to_string())
    {
        req.headers_mut().insert(header::HOST, v);
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let headers = req.headers_mut();
    let forged: Vec<HeaderName> = headers
        .keys()
        .filter(|k| k.as_str().starts_with("spin-"))
        .cloned()
        .collect();
    for k in forged {
        headers.remove(k);
    }
    let mut set = |name: HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(FULL_URL, &format!("http://{host}{path_and_query}"));
    set(PATH_INFO, &m.path_info);
    set(MATCHED_ROUTE, &m.route.based);
    set(BASE_PATH, "/");
    set(RAW_COMPONENT_ROUTE, &m.route.raw);
    set(COMPONENT_ROUTE, m.route.raw_prefix());
    set(CLIENT_ADDR, &client.to_string());
    for (name, value) in &m.params {
        let name = format!("spin-path-match-{}", name.to_ascii_lowercase());
        if let Ok(name) = HeaderName::try_from(name) {
            set(name, value);
        }
    }

    let exceeded = Arc::new(AtomicBool::new(false));
    let req = req.map(|body| LimitedBody {
        inner: body,
        remaining: limit,
        limit,
        exceeded: exceeded.clone(),
    });
    run_component(&app, component, req, exceeded).await
}

/// The request body as the guest sees it: fails with `HTTP-request-body-size` past the limit.
struct LimitedBody {
    inner: Incoming,
    remaining: u64,
    limit: u64,
    exceeded: Arc<AtomicBool>,
}

impl Body for LimitedBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, |d| d.len() as u64);
                if len > self.remaining {
                    self.exceeded.store(true, Ordering::SeqCst);
                    return Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpRequestBodySize(
                        Some(self.limit),
                    ))));
                }
                self.remaining -= len;
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            other => other.map(|_| None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn new_store(
    app: &LoadedApp,
    component: &LoadedComponent,
    deadline: Instant,
) -> anyhow::Result<Store<RequestState>> {
    let ctx = &component.ctx;
    let mut wasi = WasiCtx::builder();
    wasi.envs(&ctx.env).inherit_stdout().inherit_stderr();
    if let Some(dir) = &ctx.files_dir {
        wasi.preopened_dir(dir, "/", FsPerms::ReadOnly)?;
    }
    let state = RequestState {
        table: ResourceTable::new(),
        wasi: wasi.build(),
        http: WasiHttpCtx::new(),
        component: ctx.clone(),
        stores: app.stores.clone(),
        open_stores: 0,
        limiter: MemoryLimiter::new(app.limits.memory_bytes),
    };
    let mut store = Store::new(&app.engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= deadline {
            Err(Trap::Interrupt.into())
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    Ok(store)
}

/// A response whose guest has already finished has its whole body buffered in the outgoing
/// body channel: send it with a `content-length` in one write instead of chunked.
async fn buffered(response: Response<HyperOutgoingBody>) -> Response<HyperOutgoingBody> {
    let (mut parts, body) = response.into_parts();
    if parts.headers.contains_key(header::CONTENT_LENGTH) {
        return Response::from_parts(parts, body);
    }
    match body.collect().await {
        Ok(collected) => {
            let trailers = collected.trailers().cloned();
            let bytes = collected.to_bytes();
            if trailers.is_none() {
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
                return Response::from_parts(
                    parts,
                    Full::new(bytes).map_err(|e| match e {}).boxed_unsync(),
                );
            }
            let mut frames = vec![Ok(Frame::data(bytes))];
            frames.extend(trailers.map(|t| Ok(Frame::trailers(t))));
            let body = http_body_util::StreamBody::new(futures::stream::iter(frames));
            Response::from_parts(parts, body.boxed_unsync())
        }
        Err(e) => {
            tracing::error!("reading a finished component's response body failed: {e}");
            text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}

/// One guest run: instantiate and call the handler.
type GuestRun = Pin<Box<dyn Future<Output = Result<(), GuestFailure>> + Send>>;

/// Why a guest produced no response.
struct GuestFailure {
    memory_limit_hit: bool,
    error: wasmtime::Error,
}

fn failure_response(
    app: &LoadedApp,
    id: &str,
    failure: GuestFailure,
) -> Response<HyperOutgoingBody> {
    let GuestFailure {
        memory_limit_hit,
        error,
    } = failure;
    if error
        .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
        .is_some()
    {
        tracing::warn!("component `{id}`: too many concurrent requests ({error}); answering 503");
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable: too many concurrent requests",
        );
    }
    if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
        return timeout_response(app, id);
    }
    if memory_limit_hit {
        tracing::error!(
            "component `{id}` exceeded the memory limit of {} MiB: {error:?}",
            app.limits.memory_bytes >> 20
        );
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error: memory limit exceeded",
        );
    }
    tracing::error!("component `{id}` trapped: {error:?}");
    text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

fn timeout_response(app: &LoadedApp, id: &str) -> Response<HyperOutgoingBody> {
    tracing::error!(
        "component `{id}` exceeded the request timeout of {:?} and was stopped",
        app.limits.request_timeout
    );
    text(
        StatusCode::GATEWAY_TIMEOUT,
        "Gateway Timeout: the component took too long",
    )
}

fn body_too_large(app: &LoadedApp, id: &str) -> Response<HyperOutgoingBody> {
    let limit = app.limits.max_request_body;
    tracing::warn!("component `{id}`: request body exceeded {limit} bytes (413)");
    text(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("request body larger than {limit} bytes"),
    )
}

async fn run_component(
    app: &LoadedApp,
    component: Arc<LoadedComponent>,
    req: Request<LimitedBody>,
    exceeded: Arc<AtomicBool>,
) -> Response<HyperOutgoingBody> {
    let id = component.ctx.id.clone();
    let deadline = Instant::now() + app.limits.request_timeout;
    let mut store = match new_store(app, &component, deadline) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("component `{id}`: cannot prepare the request: {e:?}");
            return text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        }
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let resources = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, req)
        .and_then(|r| Ok((r, store.data_mut().http().new_response_outparam(tx)?)));
    let (request, outparam) = match resources {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("component `{id}`: bad request: {e}");
            return text(StatusCode::BAD_REQUEST, "Bad Request");
        }
    };
    let pre = component.pre.clone();
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
    // answering gets a task of its own.
    let mut rx = rx;
    let (answer, finished) = match futures::poll!(&mut guest) {
        std::task::Poll::Ready(done) => (rx.try_recv().ok(), Some(done)),
        std::task::Poll::Pending => {
            let timeout = tokio::time::sleep_until(deadline.into());
            tokio::pin!(timeout);
            tokio::select! {
                biased;
                done = &mut guest => (rx.try_recv().ok(), Some(done)),
                answer = &mut rx => (answer.ok(), None),
                _ = &mut timeout => return timeout_response(app, &id),
            }
        }
    };
    if exceeded.load(Ordering::SeqCst) {
        return body_too_large(app, &id);
    }
    match (answer, finished) {
        (Some(Ok(response)), finished) => {
            match &finished {
                Some(Err(f)) => {
                    tracing::error!("component `{id}` failed after responding: {:?}", f.error)
                }
                Some(Ok(())) => {}
                None => {
                    let limits = app.limits.clone();
                    tokio::spawn(async move {
                        match tokio::time::timeout_at(deadline.into(), guest).await {
                            Err(_) => tracing::error!(
                                "component `{id}` exceeded the request timeout of {:?} while streaming its response; stopped",
                                limits.request_timeout
                            ),
                            Ok(Err(f)) => tracing::error!(
                                "component `{id}` failed after responding: {:?}",
                                f.error
                            ),
                            Ok(Ok(())) => {}
                        }
                    });
                }
            }
            if matches!(finished, Some(Ok(()))) {
                return buffered(response).await;
            }
            response.map(|b| b.boxed_unsync())
        }
        (Some(Err(code)), _) => {
            tracing::error!("component `{id}` answered with error {code:?}");
            text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
        (None, finished) => {
            // No response: the outcome of the run says why.
            let done = match finished {
                Some(done) => done,
                None => match tokio::time::timeout_at(deadline.into(), guest).await {
                    Ok(done) => done,
                    Err(_) => return timeout_response(app, &id),
                },
            };
            if exceeded.load(Ordering::SeqCst) {
                return body_too_large(app, &id);
            }
            match done {
                Err(failure) => failure_response(app, &id, failure),
                Ok(()) => {
                    tracing::error!("component `{id}` returned without setting a response");
                    text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
                }
            }
        }
    }
}
