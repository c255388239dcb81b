//! Reading response bodies from an untrusted registry: every body is read as a stream,
//! with a cap checked while it arrives (never after it has all been buffered), and with a
//! deadline that moves with progress: a body must keep arriving (no pause longer than the
//! stall timeout) and on average at no less than a minimum rate once the grace period is
//! over, so neither a stalled nor a drip-feeding registry can hold a command forever.

use super::Op;
use super::error::RegistryError;
use bytes::Bytes;
use futures::StreamExt;
use std::time::{Duration, Instant};

/// How patient the client is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    /// Longest wait for a response, or between two pieces of a body; also the grace period
    /// before the minimum rate applies (default 30 s).
    pub stall: Duration,
    /// The slowest average a body may arrive at, in bytes per second (default 16 KiB/s).
    pub min_rate: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            stall: Duration::from_secs(30),
            min_rate: 16 << 10,
        }
    }
}

/// The progress-based deadline of one body.
pub struct Pace {
    start: Instant,
    bytes: u64,
    timeouts: Timeouts,
}

impl Pace {
    /// Start timing now.
    pub fn new(timeouts: &Timeouts) -> Self {
        Self {
            start: Instant::now(),
            bytes: 0,
            timeouts: timeouts.clone(),
        }
    }

    fn overall(&self) -> Instant {
        let earned =
            Duration::from_secs_f64(self.bytes as f64 / self.timeouts.min_rate.max(1) as f64);
        self.start + self.timeouts.stall + earned
    }

    /// The next piece of `stream`, or a timeout error when it does not come in time.
    pub async fn next<S>(&mut self, stream: &mut S, op: &Op) -> Result<Option<Bytes>, RegistryError>
    where
        S: futures::Stream<Item = reqwest::Result<Bytes>> + Unpin,
    {
        let now = Instant::now();
        let overall = self.overall();
        let rate_bound = self.bytes > 0 && overall < now + self.timeouts.stall;
        let deadline = overall.min(now + self.timeouts.stall);
        match tokio::time::timeout_at(deadline.into(), stream.next()).await {
            Ok(Some(Ok(chunk))) => {
                self.bytes += chunk.len() as u64;
                Ok(Some(chunk))
            }
            Ok(Some(Err(e))) => Err(op.transport(&e, true)),
            Ok(None) => Ok(None),
            Err(_) => {
                let elapsed = self.start.elapsed();
                let detail = if self.bytes == 0 {
                    format!("sent nothing for {elapsed:.0?}; giving up")
                } else if rate_bound {
                    format!(
                        "sent only {} bytes in {elapsed:.0?}, slower than the minimum of {} bytes/s; giving up",
                        self.bytes, self.timeouts.min_rate
                    )
                } else {
                    format!(
                        "stopped sending for {:.0?} after {} bytes; giving up",
                        self.timeouts.stall, self.bytes
                    )
                };
                Err(RegistryError::TimedOut {
                    what: op.what.clone(),
                    registry: op.registry.clone(),
                    detail,
                })
            }
        }
    }
}

/// Refuse bodies a registry has no reason to compress: reading them as they are would
/// fail the digest check with a confusing message, and decompressing them would let a
/// small response expand without bound.
pub fn check_encoding(response: &reqwest::Response, op: &Op) -> Result<(), RegistryError> {
    match response
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase())
    {
        None => Ok(()),
        Some(e) if e.is_empty() || e == "identity" => Ok(()),
        Some(e) => Err(op.protocol(format!(
            "sent a `Content-Encoding: {e}` body, which was not asked for; refusing it"
        ))),
    }
}

/// The whole body, refused as soon as it passes `max` bytes (or declares more).
pub async fn read_capped(
    response: reqwest::Response,
    max: u64,
    kind: &'static str,
    op: &Op,
    timeouts: &Timeouts,
) -> Result<Vec<u8>, RegistryError> {
    check_encoding(&response, op)?;
    let too_large = || RegistryError::TooLarge {
        what: op.what.clone(),
        registry: op.registry.clone(),
        kind,
        limit: max,
    };
    if response.content_length().is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let mut stream = response.bytes_stream();
    let mut pace = Pace::new(timeouts);
    let mut out = Vec::new();
    while let Some(chunk) = pace.next(&mut stream, op).await? {
        if out.len() as u64 + chunk.len() as u64 > max {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// At most `max` bytes of a body, for error messages: whatever arrives within a short
/// time, never an error.
pub async fn read_some(response: reqwest::Response, max: usize) -> Vec<u8> {
    let mut stream = response.bytes_stream();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while out.len() < max {
        match tokio::time::timeout_at(deadline.into(), stream.next()).await {
            Ok(Some(Ok(chunk))) => {
                let room = max - out.len();
                out.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            _ => break,
        }
    }
    out
}
