//! Responses the trigger writes itself: plain text, the `/.well-known/spin/` endpoints,
//! and a finished guest's response re-framed with a `content-length`.

use crate::app::LoadedApp;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Frame;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// A plain-text response.
pub fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<HyperOutgoingBody> {
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

/// `/.well-known/spin/<rest>`: `health` and `info`.
pub fn well_known(app: &LoadedApp, rest: &str) -> Response<HyperOutgoingBody> {
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

/// A response whose guest has already finished has its whole body buffered in the outgoing
/// body channel: send it with a `content-length` in one write instead of chunked.
pub async fn buffered(response: Response<HyperOutgoingBody>) -> Response<HyperOutgoingBody> {
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
