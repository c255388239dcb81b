//! The local content-addressed store: `blobs/sha256/<hex>` holds only content whose digest
//! was checked; downloads stream into `partial/<hex>` (kept across runs so an interrupted
//! pull resumes) and are renamed into place only after the digest matches.
//!
//! A committed blob is immutable: nothing in this tool opens one for writing again (new
//! content arrives in a temporary file that is renamed over the name, never into the old
//! file), and [`Store::verified_path`] hashes a blob again before it is used to run an app,
//! so a blob changed behind the tool's back is refused by name, not run.

use spin_app::Digest;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod batch;
mod writer;

pub use batch::Batch;
pub use writer::BlobWriter;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Filesystem trouble.
    #[error("store at {}: {source}", path.display())]
    Io {
        /// Path involved.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The bytes do not hash to the expected digest.
    #[error("blob {expected} has digest {actual}; it was discarded")]
    DigestMismatch {
        /// What the manifest promised.
        expected: Digest,
        /// What the bytes hash to.
        actual: Digest,
    },
    /// A committed blob no longer hashes to its name: it was changed after it was stored.
    #[error("blob {digest} in the store at {} now hashes to {actual}: it was modified after it was stored, so it will not be used\n  help: delete it (`rm {}`) and pull the app again", path.display(), path.display())]
    Tampered {
        /// The blob's name.
        digest: Digest,
        /// What its bytes hash to now.
        actual: Digest,
        /// Where it is.
        path: PathBuf,
    },
    /// More items than allowed.
    #[error("{what} is over the limit of {limit}; refusing it{}", help_line(help))]
    TooMany {
        /// What.
        what: String,
        /// The limit.
        limit: u64,
        /// How to raise it, if that is wanted.
        help: String,
    },
    /// A blob the caller needs is not in the store.
    #[error("blob {0} is not in the store")]
    Missing(Digest),
    /// Content larger than allowed.
    #[error("{what} is larger than the {} limit; refusing it{}", crate::media::human_size(*limit), help_line(help))]
    TooLarge {
        /// What.
        what: String,
        /// The limit in bytes.
        limit: u64,
        /// How to raise it, if that is wanted.
        help: String,
    },
}

fn help_line(help: &str) -> String {
    if help.is_empty() {
        String::new()
    } else {
        format!("\n  help: {help}")
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A blob that cannot be opened: missing, or filesystem trouble.
fn missing_or_io(digest: &Digest, path: &Path, e: std::io::Error) -> StoreError {
    match e.kind() {
        std::io::ErrorKind::NotFound => StoreError::Missing(digest.clone()),
        _ => io(path)(e),
    }
}

/// `path`, when the blob stored there as `digest` still hashes to it (`actual`).
fn untampered(digest: &Digest, actual: Digest, path: PathBuf) -> Result<PathBuf, StoreError> {
    if &actual == digest {
        Ok(path)
    } else {
        Err(StoreError::Tampered {
            digest: digest.clone(),
            actual,
            path,
        })
    }
}

/// How long an abandoned temporary file in `partial/` is kept before the store removes it.
const STALE_TEMP: Duration = Duration::from_secs(24 * 3600);

/// Bounds on what goes into the store from a pull or a layout: registries and layouts
/// are untrusted, so disk use is bounded by what the artifact declares and by these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes one artifact's blobs may declare in total (default 4 GiB).
    pub max_artifact_bytes: u64,
    /// Most files one archive layer may hold (default 100,000).
    pub max_archive_entries: u64,
    /// An archive layer may expand to this many times its compressed size (default 32),
    /// or to [`ARCHIVE_FLOOR`], whichever is more.
    pub max_archive_ratio: u64,
}

/// Every archive layer may expand to at least this much (64 MiB), whatever its ratio.
pub const ARCHIVE_FLOOR: u64 = 64 << 20;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_artifact_bytes: 4 << 30,
            max_archive_entries: 100_000,
            max_archive_ratio: 32,
        }
    }
}

impl Limits {
    /// How many bytes an archive layer of `compressed` bytes may expand to.
    pub fn archive_allowance(&self, compressed: u64) -> u64 {
        compressed
            .saturating_mul(self.max_archive_ratio)
            .max(ARCHIVE_FLOOR)
            .min(self.max_artifact_bytes)
    }
}

/// A content-addressed blob store.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    limits: Limits,
}

impl Store {
    /// Open (creating) a store at `root`, removing what interrupted runs left behind:
    /// empty partial downloads and their lock files, and day-old temporary files.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        for dir in ["blobs/sha256", "partial"] {
            let d = root.join(dir);
            std::fs::create_dir_all(&d).map_err(io(&d))?;
        }
        let store = Self {
            root: root.to_path_buf(),
            limits: Limits::default(),
        };
        store.tidy();
        Ok(store)
    }

    /// The same store, accepting content within `limits`.
    pub fn with_limits(self, limits: Limits) -> Self {
        Self { limits, ..self }
    }

    /// What the store accepts.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Where a verified blob lives.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(digest.hex())
    }

    fn partial_dir(&self) -> PathBuf {
        self.root.join("partial")
    }

    /// Whether a verified blob is present.
    pub fn has(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// A blob's bytes, read whole: for small blobs (manifests, configs, locked apps) up to
    /// `max` bytes, checked against the digest.
    pub fn read(&self, digest: &Digest, max: u64) -> Result<Vec<u8>, StoreError> {
        let p = self.blob_path(digest);
        let file = File::open(&p).map_err(|e| missing_or_io(digest, &p, e))?;
        let mut bytes = Vec::new();
        file.take(max + 1).read_to_end(&mut bytes).map_err(io(&p))?;
        if bytes.len() as u64 > max {
            return Err(StoreError::TooLarge {
                what: format!("blob {digest}"),
                limit: max,
                help: "this tool reads manifests, configs and locked apps whole; such a large one is not a Spin app".into(),
            });
        }
        untampered(digest, Digest::of_bytes(&bytes), p)?;
        Ok(bytes)
    }

    /// The path of a blob after hashing it again: what runs an app uses, so a blob that
    /// changed since it was stored is refused by name.
    pub fn verified_path(&self, digest: &Digest) -> Result<PathBuf, StoreError> {
        let p = self.blob_path(digest);
        let actual = Digest::of_file(&p).map_err(|e| missing_or_io(digest, &p, e))?;
        untampered(digest, actual, p)
    }

    /// Add bytes, checking them against `digest`.
    pub fn put(&self, digest: &Digest, bytes: &[u8]) -> Result<(), StoreError> {
        let actual = Digest::of_bytes(bytes);
        if &actual != digest {
            return Err(StoreError::DigestMismatch {
                expected: digest.clone(),
                actual,
            });
        }
        if self.has(digest) {
            return Ok(());
        }
        let dir = self.partial_dir();
        let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io(&dir))?;
        tmp.write_all(bytes).map_err(io(&dir))?;
        tmp.as_file().sync_all().map_err(io(&dir))?;
        let dest = self.blob_path(digest);
        tmp.persist(&dest).map_err(|e| io(&dest)(e.error))?;
        Ok(())
    }

    /// Start adding many small blobs (e.g. files unpacked from an archive) whose digests
    /// are learned while they are written; [`Batch::commit`] syncs once for all of them.
    pub fn batch(&self) -> Batch<'_> {
        Batch::new(self)
    }

    /// Add a local file of `size` bytes (as its descriptor says), checking it against
    /// `digest` while copying; a longer file is refused without copying the excess.
    pub fn import_file(&self, digest: &Digest, size: u64, path: &Path) -> Result<(), StoreError> {
        if self.has(digest) {
            return Ok(());
        }
        let mut writer = self.writer(digest)?;
        writer.restart()?;
        let mut file = File::open(path)
            .map_err(io(path))?
            .take(size.saturating_add(1));
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(io(path))?;
            if n == 0 {
                break;
            }
            if writer.offset() + n as u64 > size {
                writer.restart()?;
                return Err(StoreError::TooLarge {
                    what: format!("{} (blob {digest})", path.display()),
                    limit: size,
                    help: "the layout's manifest declares a smaller size for this blob; the layout is corrupt or crafted".into(),
                });
            }
            writer.write(&buf[..n])?;
        }
        writer.commit()
    }

    /// A writer for `digest` that continues any partial download already on disk.
    /// Holds a lock so two processes never write the same partial file.
    pub fn writer(&self, digest: &Digest) -> Result<BlobWriter, StoreError> {
        BlobWriter::open(
            self.partial_dir().join(digest.hex()),
            self.blob_path(digest),
            digest,
        )
    }

    /// Remove leftovers of interrupted runs. Best effort: a failure here never stops a
    /// command, and anything in use by another process is left alone (its lock is held,
    /// or it is younger than a day).
    fn tidy(&self) {
        let dir = self.partial_dir();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(hex) = name.strip_suffix(".lock") {
                let Ok(lock) = File::open(&path) else {
                    continue;
                };
                if lock.try_lock().is_err() {
                    continue;
                }
                let partial = dir.join(hex);
                let empty = std::fs::metadata(&partial)
                    .map(|m| m.len() == 0)
                    .unwrap_or(true);
                if empty {
                    let _ = std::fs::remove_file(&partial);
                    let _ = std::fs::remove_file(&path);
                }
            } else if name.starts_with(".tmp") && spin_app::fsutil::older_than(&path, STALE_TEMP) {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_changed_after_commit_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let digest = Digest::of_bytes(b"original");
        store.put(&digest, b"original").unwrap();
        assert_eq!(
            store.verified_path(&digest).unwrap(),
            store.blob_path(&digest)
        );
        std::fs::write(store.blob_path(&digest), b"changed").unwrap();
        for err in [
            store.verified_path(&digest).unwrap_err(),
            store.read(&digest, 100).unwrap_err(),
        ] {
            assert!(matches!(err, StoreError::Tampered { .. }), "{err}");
            assert!(err.to_string().contains(&digest.to_string()), "{err}");
        }
    }
}
