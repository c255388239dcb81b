//! Whole-body outbound HTTP for Spin's older interfaces (the pre-component
//! `wasi-outbound-http` and the unversioned `fermyon:spin/http`): the same rules as
//! `wasi:http`, local service chaining and self requests included.

use crate::host::outbound::{Destination, Outbound, Refused};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};

/// Largest outbound response body handed to a guest.
const MAX_OUTBOUND_BODY: usize = 64 << 20;

/// Spin's `http-error` enum (same numbering in the pre-component and unversioned WITs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// No rule allows the destination.
    DestinationNotAllowed = 1,
    /// The URL does not parse, or names a scheme other than HTTP(S).
    InvalidUrl = 2,
    /// Sending failed.
    RequestError = 3,
    /// Reading the response failed.
    RuntimeError = 4,
}

/// Spin's `method` enum, in order (both WITs).
pub const METHODS: [http::Method; 7] = [
    http::Method::GET,
    http::Method::POST,
    http::Method::PUT,
    http::Method::DELETE,
    http::Method::PATCH,
    http::Method::HEAD,
    http::Method::OPTIONS,
];

/// A whole request from a guest.
pub struct BufferedRequest {
    /// Method.
    pub method: http::Method,
    /// Absolute URL, or a path (a request to the app itself).
    pub uri: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Option<Vec<u8>>,
}

/// Send `req` under the component's rules (chained and self requests included), and read
/// the whole response (at most 64 MiB of body).
pub async fn send_buffered(
    outbound: &Outbound,
    req: BufferedRequest,
) -> Result<http::Response<Bytes>, SendError> {
    let mut uri: http::Uri = req.uri.parse().map_err(|_| SendError::InvalidUrl)?;
    let scheme = uri.scheme_str().unwrap_or("https").to_string();
    let mut chained = None;
    match outbound.check(&scheme, uri.authority().map(|a| a.as_str())) {
        Ok(Destination::AsNamed) => {}
        Ok(Destination::Component(id)) => chained = Some(id),
        Ok(Destination::App(authority)) => {
            let mut parts = uri.into_parts();
            parts.scheme = Some(http::uri::Scheme::HTTP);
            parts.authority = Some(authority.parse().map_err(|_| SendError::InvalidUrl)?);
            uri = http::Uri::from_parts(parts).map_err(|_| SendError::InvalidUrl)?;
        }
        Err(Refused::InvalidUri) => return Err(SendError::InvalidUrl),
        Err(Refused::Denied) => return Err(SendError::DestinationNotAllowed),
    }
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(SendError::InvalidUrl);
    }
    let mut builder = http::Request::builder().method(req.method).uri(uri);
    for (k, v) in &req.headers {
        builder = builder.header(k, v);
    }
    let body = Full::new(Bytes::from(req.body.unwrap_or_default())).map_err(|e| match e {});
    let request = builder.body(body).map_err(|_| SendError::RequestError)?;
    if let Some(id) = chained {
        let request = request.map(|b| b.boxed_unsync());
        let response = outbound
            .chain
            .dispatch(id, request, outbound.chain_client())
            .await;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, MAX_OUTBOUND_BODY)
            .collect()
            .await
            .map_err(|_| SendError::RuntimeError)?
            .to_bytes();
        return Ok(http::Response::from_parts(parts, body));
    }
    let (response, io) = wasmtime_wasi_http::default_send_request(request, None)
        .await
        .map_err(|e| {
            tracing::warn!(component = %outbound.component, "outbound request failed: {e}");
            SendError::RequestError
        })?;
    let io = tokio::spawn(io);
    let (parts, body) = response.into_parts();
    let collected = Limited::new(body, MAX_OUTBOUND_BODY).collect().await;
    io.abort();
    let body = collected
        .map_err(|e| {
            tracing::warn!(component = %outbound.component, "outbound response body: {e}");
            SendError::RuntimeError
        })?
        .to_bytes();
    Ok(http::Response::from_parts(parts, body))
}
