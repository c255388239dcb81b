//! The request body cap: a declared `Content-Length` over the limit is refused before the
//! guest runs, and a body that grows past it while streaming (chunked, or lying about its
//! length) fails in the guest with `HTTP-request-body-size` and answers 413.

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

/// A `Content-Length` value: decimal digits only (no sign, no spaces inside), as RFC 9110
/// defines it. `None` for anything else.
pub fn content_length(value: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(value).ok()?.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The request body as the guest sees it.
pub struct LimitedBody {
    inner: Incoming,
    remaining: u64,
    limit: u64,
    exceeded: Arc<AtomicBool>,
}

impl LimitedBody {
    /// `inner` capped at `limit` bytes; `exceeded` is set when the cap is hit.
    pub fn new(inner: Incoming, limit: u64, exceeded: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            remaining: limit,
            limit,
            exceeded,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_is_digits_only() {
        for (value, want) in [
            (&b"5"[..], Some(5)),
            (b" 12 ", Some(12)),
            (b"0", Some(0)),
            (b"+5", None),
            (b"-5", None),
            (b"5 5", None),
            (b"0x10", None),
            (b"", None),
            (b"99999999999999999999999", None),
            (b"\xff", None),
        ] {
            assert_eq!(content_length(value), want, "{value:?}");
        }
    }
}
