//! Spin's own HTTP request and response shapes (`handle-http-request` of the pre-component
//! ABI, `fermyon:spin/inbound-http`), with Spin's semantics: the request's headers plus the
//! `spin-*` ones, the path and query as `uri`, no `params`, the body always present; 405
//! for a method the interface cannot express; 500 for a status outside 100–600 or a header
//! that is not valid.

use crate::host::buffered::METHODS;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};

/// A request as those interfaces take it.
pub struct AbiRequest {
    /// Index into Spin's `method` enum.
    pub method: u8,
    /// Path and query.
    pub uri: String,
    /// Every header, `spin-*` included.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Bytes,
}

impl AbiRequest {
    /// The request; `None` when its method has no place in the enum (answer
    /// [`method_not_allowed`]).
    pub fn new(parts: &http::request::Parts, body: Bytes) -> Option<Self> {
        let method = METHODS.iter().position(|m| m == parts.method)?;
        Some(Self {
            method: method as u8,
            uri: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.to_string(), |p| p.to_string()),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                .collect(),
            body,
        })
    }
}

/// The answer to a method Spin's interfaces cannot express, as Spin gives it.
pub fn method_not_allowed() -> Response<Bytes> {
    status_only(StatusCode::METHOD_NOT_ALLOWED)
}

/// An empty response with `status`.
pub fn status_only(status: StatusCode) -> Response<Bytes> {
    let mut r = Response::new(Bytes::new());
    *r.status_mut() = status;
    r
}

/// The HTTP response for what the guest returned.
pub fn response(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Response<Bytes> {
    let Some(status) = (100..=600)
        .contains(&status)
        .then(|| StatusCode::from_u16(status).ok())
        .flatten()
    else {
        tracing::error!("the guest answered with the malformed HTTP status {status}");
        return status_only(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    for (k, v) in headers {
        let (Ok(name), Ok(value)) = (HeaderName::try_from(&k), HeaderValue::try_from(&v)) else {
            tracing::error!("the guest answered with an invalid header {k:?}: {v:?}");
            return status_only(StatusCode::INTERNAL_SERVER_ERROR);
        };
        response.headers_mut().append(name, value);
    }
    response
}
