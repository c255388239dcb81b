//! Files archive layers (`application/vnd.wasm.content.bundle.v1.tar+gzip`): unpacked into
//! the store one file at a time, each stored under its own digest. An archive is untrusted
//! input, so unpacking streams (memory stays bounded whatever the sizes) and stops at the
//! store's [`Limits`](crate::store::Limits): the number of entries, and the expanded size
//! relative to the compressed size (a gzip bomb is refused, not written out).

use crate::error::PullError;
use crate::store::{Limits, Store, StoreError};
use spin_app::Digest;
use std::io::Read;

/// Counts every decompressed byte, refusing more than `max` (so entries the tar reader
/// skips, and its own metadata, are bounded too).
struct Bounded<R> {
    inner: R,
    read: u64,
    max: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.max {
            return Err(std::io::Error::other(ExpandsTooFar));
        }
        Ok(n)
    }
}

#[derive(Debug)]
struct ExpandsTooFar;

impl std::fmt::Display for ExpandsTooFar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("expands too far")
    }
}

impl std::error::Error for ExpandsTooFar {}

fn too_large(digest: &Digest, allowance: u64, compressed: u64, limits: &Limits) -> PullError {
    PullError::Store {
        context: format!("unpacking files archive {digest}"),
        source: StoreError::TooLarge {
            what: format!(
                "its content (an archive of {compressed} bytes may expand {} times, and always to 64 MiB)",
                limits.max_archive_ratio
            ),
            limit: allowance,
            help: "an archive that expands this far is a decompression bomb or not a Spin app; if it is a real app, raise the limit with --max-archive-expansion".into(),
        },
    }
}

/// Unpack the archive blob `digest` into `store`; the number of files it held.
/// Idempotent: files already in the store are not written again.
pub(crate) fn unpack(store: &Store, digest: &Digest) -> Result<u64, PullError> {
    let limits = store.limits().clone();
    let path = store
        .verified_path(digest)
        .map_err(|source| PullError::Store {
            context: format!("reading files archive {digest}"),
            source,
        })?;
    let compressed = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let allowance = limits.archive_allowance(compressed);
    let file = std::fs::File::open(&path).map_err(|source| PullError::Store {
        context: format!("reading files archive {digest}"),
        source: StoreError::Io {
            path: path.clone(),
            source,
        },
    })?;
    let decoded = Bounded {
        inner: flate2::read::GzDecoder::new(file),
        read: 0,
        // Headers and padding come on top of the content: at most 1 KiB per entry.
        max: allowance.saturating_add(limits.max_archive_entries.saturating_mul(1024)),
    };
    let mut archive = tar::Archive::new(decoded);
    let bad = |e: std::io::Error| {
        if e.get_ref().is_some_and(|inner| inner.is::<ExpandsTooFar>()) {
            too_large(digest, allowance, compressed, &limits)
        } else {
            PullError::Unsupported(format!("files archive {digest} is not a gzipped tar: {e}"))
        }
    };
    let mut batch = store.batch();
    let (mut entries, mut expanded, mut files) = (0u64, 0u64, 0u64);
    for entry in archive.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        entries += 1;
        if entries > limits.max_archive_entries {
            return Err(PullError::Store {
                context: format!("unpacking files archive {digest}"),
                source: StoreError::TooMany {
                    what: "its number of entries".into(),
                    limit: limits.max_archive_entries,
                    help: "raise the limit with --max-archive-entries if this app really has that many files".into(),
                },
            });
        }
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let (len, _) = batch
            .add(entry, allowance - expanded, "archive entry")
            .map_err(|e| match e {
                StoreError::TooLarge { .. } => too_large(digest, allowance, compressed, &limits),
                StoreError::Io { source, .. }
                    if source.get_ref().is_some_and(|i| i.is::<ExpandsTooFar>()) =>
                {
                    too_large(digest, allowance, compressed, &limits)
                }
                other => PullError::Store {
                    context: format!("unpacking files archive {digest}"),
                    source: other,
                },
            })?;
        expanded += len;
        files += 1;
    }
    batch.commit().map_err(|source| PullError::Store {
        context: format!("unpacking files archive {digest}"),
        source,
    })?;
    Ok(files)
}
