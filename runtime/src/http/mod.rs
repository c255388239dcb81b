//! The HTTP trigger: accept connections (hyper) and shut down gracefully ([`Server`]);
//! per request, route, apply the body limit ([`body`]), add Spin's headers ([`headers`]),
//! run the guest ([`guest`]) and answer from its outcome.

mod body;
pub mod chain;
mod guest;
mod headers;
mod outcome;
mod p3;
mod respond;
mod whole;

use crate::Error;
use crate::app::{App, LoadedApp, RuntimeOptions};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use respond::text;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use tokio::net::TcpListener;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

const WELL_KNOWN: &str = "/.well-known/spin/";

/// Load `app`, its chained requests pointed at itself.
async fn load(app: &App, opts: &RuntimeOptions) -> Result<Arc<LoadedApp>, Error> {
    let handle = Arc::new(chain::AppHandle::default());
    let loaded = Arc::new(crate::app::load(app, opts, handle.clone()).await?);
    handle.set(&loaded);
    Ok(loaded)
}

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
    /// Load `app` and serve it from now on; on error the current app keeps serving.
    pub async fn reload(&self, app: &App) -> Result<(), Error> {
        let loaded = load(app, &self.options).await?;
        *self.app.write().unwrap_or_else(|e| e.into_inner()) = loaded;
        Ok(())
    }
}

impl Server {
    /// Bind the listener, then load the app (so self requests know the real port).
    pub async fn start(app: &App, mut opts: RuntimeOptions) -> Result<Self, Error> {
        let listen = |source| Error::Listen {
            addr: opts.listen,
            source,
        };
        let listener = TcpListener::bind(opts.listen).await.map_err(listen)?;
        let local = listener.local_addr().map_err(listen)?;
        opts.listen = local;
        let loaded = load(app, &opts).await?;
        Ok(Self {
            app: Arc::new(std::sync::RwLock::new(loaded)),
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
        // As Spin prints them: each server, then `address/channel: [components]`.
        let mut channels: std::collections::BTreeMap<
            &str,
            std::collections::BTreeMap<&str, Vec<&str>>,
        > = Default::default();
        for (sub, _) in &app.redis {
            channels
                .entry(&sub.address)
                .or_default()
                .entry(&sub.channel)
                .or_default()
                .push(&sub.component);
        }
        for (address, subs) in channels {
            let shown = crate::redis_trigger::shown(address);
            out.push_str(&format!("Active Channels on {shown}:\n"));
            for (channel, components) in subs {
                out.push_str(&format!(
                    "\t{shown}/{channel}: [{}]\n",
                    components.join(",")
                ));
            }
        }
        let mut labels: Vec<&String> = app
            .components
            .values()
            .flat_map(|c| c.state.kv.labels.iter())
            .collect();
        labels.sort();
        labels.dedup();
        for label in labels {
            if let Some(summary) = app.stores.summary(label) {
                out.push_str(&format!("Key/value store `{label}`: {summary}\n"));
            }
        }
        let mut labels: Vec<&String> = app
            .components
            .values()
            .flat_map(|c| c.state.sqlite.labels.iter())
            .collect();
        labels.sort();
        labels.dedup();
        for label in labels {
            if let Some(db) = app
                .components
                .values()
                .find_map(|c| c.state.sqlite.databases.get(label))
            {
                out.push_str(&format!("SQLite database `{label}`: {}\n", db.summary()));
            }
        }
        out
    }

    /// Serve until `shutdown` resolves, then stop accepting and let in-flight requests
    /// finish (bounded by the request timeout).
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        // The Redis trigger runs beside the HTTP one, each message on the current app.
        let subscriptions: Vec<_> = self
            .current()
            .redis
            .iter()
            .map(|(s, _)| s.clone())
            .collect();
        let redis = (!subscriptions.is_empty()).then(|| {
            let slot = self.app.clone();
            tokio::spawn(crate::redis_trigger::run(subscriptions, move || {
                slot.read().unwrap_or_else(|e| e.into_inner()).clone()
            }))
        });
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
        if let Some(redis) = redis {
            redis.abort();
        }
        let grace = self.options.limits.request_timeout + std::time::Duration::from_secs(1);
        tokio::select! {
            _ = graceful.shutdown() => {}
            _ = tokio::time::sleep(grace) => {
                tracing::warn!("in-flight requests did not finish within {grace:?}; stopping anyway");
            }
        }
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
        return respond::well_known(&app, rest);
    }
    let Some(m) = app.router.route(&path) else {
        return text(StatusCode::NOT_FOUND, "Not Found");
    };
    let limit = app.limits.max_request_body;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .map(|v| body::content_length(v.as_bytes()));
    match declared {
        Some(None) => {
            return text(
                StatusCode::BAD_REQUEST,
                "Bad Request: invalid content-length",
            );
        }
        Some(Some(n)) if n > limit => {
            tracing::warn!("request body of {n} bytes refused: the limit is {limit} (413)");
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body larger than {limit} bytes"),
            );
        }
        _ => {}
    }
    let component = app.components[&m.route.component].clone();

    if !req.headers().contains_key(header::HOST)
        && let Ok(v) = HeaderValue::from_str(&local.to_string())
    {
        req.headers_mut().insert(header::HOST, v);
    }
    let (mut parts, body) = req.into_parts();
    set_spin_headers(&mut parts, &m, client);
    let req = Request::from_parts(parts, body);

    let exceeded = Arc::new(AtomicBool::new(false));
    let req = req.map(|b| body::LimitedBody::new(b, limit, exceeded.clone()));
    let outcome = guest::run(&app, &component, req, &exceeded).await;
    outcome::respond(&app.limits, &component.state.id, outcome).await
}

/// Replace any `spin-*` headers the client sent with Spin's, computed from the routing
/// decision (so none can be forged).
pub(crate) fn set_spin_headers(
    parts: &mut http::request::Parts,
    m: &crate::router::RouteMatch<'_>,
    client: SocketAddr,
) {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string());
    let spin = headers::spin_headers(
        m,
        &headers::RequestFacts {
            host: &host,
            path_and_query: &path_and_query,
            client,
        },
    );
    let headers = &mut parts.headers;
    let forged: Vec<HeaderName> = headers
        .keys()
        .filter(|k| k.as_str().starts_with("spin-"))
        .cloned()
        .collect();
    for k in forged {
        headers.remove(k);
    }
    for (name, value) in spin {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(&value)) {
            headers.insert(name, value);
        }
    }
}
