//! Local service chaining: a request to `http://<component>.spin.internal/<path>` that
//! `allowed_outbound_hosts` allows goes to that component of the same app in-process
//! (no socket, no listener), as Spin does. The component sees the path as if it were
//! routed by `/...`: `spin-path-info` is the whole path.

use super::guest;
use super::respond::text;
use crate::app::LoadedApp;
use crate::router::{Route, RouteMatch};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock, Weak};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// The app a component's chained requests go to, set once the app is loaded (components
/// are prepared before the app they belong to exists).
#[derive(Debug, Default)]
pub struct AppHandle(OnceLock<Weak<LoadedApp>>);

impl crate::host::outbound::Chain for AppHandle {
    fn dispatch(
        &self,
        component: String,
        request: Request<wasmtime_wasi_http::WasiBody>,
        client: SocketAddr,
    ) -> std::pin::Pin<Box<dyn Future<Output = Response<HyperOutgoingBody>> + Send>> {
        let app = self.get();
        Box::pin(async move { dispatch(app, &component, request, client).await })
    }
}

impl AppHandle {
    /// Point at `app`.
    pub fn set(&self, app: &Arc<LoadedApp>) {
        let _ = self.0.set(Arc::downgrade(app));
    }

    fn get(&self) -> Option<Arc<LoadedApp>> {
        self.0.get().and_then(Weak::upgrade)
    }
}

/// Serve `req` with component `id` of `app` (gone: the app is being replaced or stopped).
async fn dispatch<B>(
    app: Option<Arc<LoadedApp>>,
    id: &str,
    req: Request<B>,
    client: SocketAddr,
) -> Response<HyperOutgoingBody>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<crate::BoxError>,
{
    let Some(app) = app else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "the app is stopping");
    };
    let Some(component) = app.components.get(id).cloned() else {
        tracing::warn!("chained request to `{id}.spin.internal`: the app has no component `{id}`");
        return text(
            StatusCode::NOT_FOUND,
            format!("no component `{id}` in this app"),
        );
    };
    let (mut parts, body) = req.into_parts();
    let limit = app.limits.max_request_body;
    let body = match Limited::new(body, limit as usize).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            tracing::warn!("chained request to `{id}`: reading the body: {e}");
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body larger than {limit} bytes"),
            );
        }
    };
    let route = Route::catch_all(id);
    let m = RouteMatch {
        route: &route,
        params: Vec::new(),
        path_info: parts.uri.path().to_string(),
    };
    super::set_spin_headers(&mut parts, &m, client);
    let req = Request::from_parts(parts, Full::new(body).map_err(|e| match e {}));
    let exceeded = AtomicBool::new(false);
    let outcome = guest::run(&app, &component, req, &exceeded).await;
    super::outcome::respond(&app.limits, id, outcome).await
}
