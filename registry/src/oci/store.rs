//! The local content-addressed store: `blobs/sha256/<hex>` holds only content whose digest
//! was checked; downloads stream into `partial/<hex>` (kept across runs so an interrupted
//! pull resumes) and are renamed into place only after the digest matches.

use crate::digest::Digest;
use sha2::Digest as _;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
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
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A content-addressed blob store.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Open (creating) a store at `root`.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        for dir in ["blobs/sha256", "partial"] {
            let d = root.join(dir);
            std::fs::create_dir_all(&d).map_err(io(&d))?;
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// Where a verified blob lives.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(digest.hex())
    }

    /// Whether a verified blob is present.
    pub fn has(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// A verified blob's bytes.
    pub fn read(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        let p = self.blob_path(digest);
        std::fs::read(&p).map_err(io(&p))
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
        let dir = self.root.join("partial");
        let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io(&dir))?;
        tmp.write_all(bytes).map_err(io(&dir))?;
        tmp.as_file().sync_all().map_err(io(&dir))?;
        let dest = self.blob_path(digest);
        tmp.persist(&dest).map_err(|e| io(&dest)(e.error))?;
        Ok(())
    }

    /// Add many small blobs (e.g. files unpacked from a verified archive) with one
    /// filesystem sync for all of them: each is checked, written to a temporary file, the
    /// filesystem is synced once, and only then are they renamed into place.
    pub fn put_all(&self, blobs: &[(Digest, Vec<u8>)]) -> Result<(), StoreError> {
        let mut seen = std::collections::HashSet::new();
        let mut todo = Vec::new();
        for (digest, bytes) in blobs {
            let actual = Digest::of_bytes(bytes);
            if &actual != digest {
                return Err(StoreError::DigestMismatch {
                    expected: digest.clone(),
                    actual,
                });
            }
            if seen.insert(digest) && !self.has(digest) {
                todo.push((digest, bytes));
            }
        }
        if todo.is_empty() {
            return Ok(());
        }
        let dir = self.root.join("partial");
        let mut staged = Vec::with_capacity(todo.len());
        for (digest, bytes) in todo {
            let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io(&dir))?;
            tmp.write_all(bytes).map_err(io(&dir))?;
            // Keep only the path: thousands of open files would exhaust descriptors.
            staged.push((digest, tmp.into_temp_path()));
        }
        let fd = File::open(&dir).map_err(io(&dir))?;
        rustix::fs::syncfs(&fd).map_err(|e| io(&dir)(e.into()))?;
        for (digest, tmp) in staged {
            let dest = self.blob_path(digest);
            tmp.persist(&dest).map_err(|e| io(&dest)(e.error))?;
        }
        Ok(())
    }

    /// Add a local file, checking it against `digest` while copying.
    pub fn import_file(&self, digest: &Digest, path: &Path) -> Result<(), StoreError> {
        if self.has(digest) {
            return Ok(());
        }
        let mut writer = self.writer(digest)?;
        writer.restart()?;
        let mut file = File::open(path).map_err(io(path))?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(io(path))?;
            if n == 0 {
                break;
            }
            writer.write(&buf[..n])?;
        }
        writer.commit()
    }

    /// A writer for `digest` that continues any partial download already on disk.
    /// Holds a lock so two processes never write the same partial file.
    pub fn writer(&self, digest: &Digest) -> Result<BlobWriter, StoreError> {
        let partial = self.root.join("partial").join(digest.hex());
        let lock_path = partial.with_extension("lock");
        let lock = loop {
            let lock = File::create(&lock_path).map_err(io(&lock_path))?;
            lock.lock().map_err(io(&lock_path))?;
            // A writer that finished while we waited removed the lock file, so ours is a
            // deleted one that no newcomer can see: take the lock again on a fresh file.
            if same_file(&lock, &lock_path) {
                break lock;
            }
        };
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&partial)
            .map_err(io(&partial))?;
        let mut hasher = Digest::hasher();
        let mut buf = vec![0u8; 1 << 20];
        let mut len = 0u64;
        loop {
            let n = file.read(&mut buf).map_err(io(&partial))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            len += n as u64;
        }
        Ok(BlobWriter {
            store: self.clone(),
            digest: digest.clone(),
            partial,
            lock_path,
            file: std::io::BufWriter::with_capacity(1 << 20, file),
            hasher,
            len,
            _lock: lock,
        })
    }
}

/// Whether `path` still names the file `file` has open.
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// An in-progress blob download.
pub struct BlobWriter {
    store: Store,
    digest: Digest,
    partial: PathBuf,
    lock_path: PathBuf,
    file: std::io::BufWriter<File>,
    hasher: sha2::Sha256,
    len: u64,
    _lock: File,
}

impl BlobWriter {
    /// Bytes already on disk (where a resumed download starts).
    pub fn offset(&self) -> u64 {
        self.len
    }

    /// Throw away what is on disk and start from zero.
    pub fn restart(&mut self) -> Result<(), StoreError> {
        self.file.flush().map_err(io(&self.partial))?;
        self.file.get_ref().set_len(0).map_err(io(&self.partial))?;
        self.hasher = Digest::hasher();
        self.len = 0;
        Ok(())
    }

    /// Append bytes.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.file.write_all(bytes).map_err(io(&self.partial))?;
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Check the digest and move the blob into place; on mismatch the partial is deleted.
    /// Either way the lock file goes too (while still held, see [`Store::writer`]).
    pub fn commit(self) -> Result<(), StoreError> {
        let actual = Digest::from_hasher(self.hasher);
        if actual != self.digest {
            let _ = std::fs::remove_file(&self.partial);
            let _ = std::fs::remove_file(&self.lock_path);
            return Err(StoreError::DigestMismatch {
                expected: self.digest,
                actual,
            });
        }
        let file = self
            .file
            .into_inner()
            .map_err(|e| io(&self.partial)(e.into_error()))?;
        file.sync_all().map_err(io(&self.partial))?;
        let dest = self.store.blob_path(&self.digest);
        std::fs::rename(&self.partial, &dest).map_err(io(&dest))?;
        let _ = std::fs::remove_file(&self.lock_path);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resumes_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let data = b"hello, content-addressed world";
        let digest = Digest::of_bytes(data);
        {
            let mut w = store.writer(&digest).unwrap();
            w.write(&data[..10]).unwrap();
            // Dropped without commit: an interrupted download.
        }
        assert!(!store.has(&digest));
        let mut w = store.writer(&digest).unwrap();
        assert_eq!(w.offset(), 10);
        w.write(&data[10..]).unwrap();
        w.commit().unwrap();
        assert_eq!(store.read(&digest).unwrap(), data);
    }

    #[test]
    fn a_waiting_writer_relocks_after_the_holder_finishes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let data = b"written once, by whoever holds the lock";
        let digest = Digest::of_bytes(data);
        let mut first = store.writer(&digest).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let (store, digest) = (store.clone(), digest.clone());
            std::thread::spawn(move || {
                tx.send(()).unwrap();
                let mut w = store.writer(&digest).unwrap();
                // The first writer's lock file is gone; this one holds a fresh, visible one.
                let lock = dir_entry(&store, &format!("{}.lock", digest.hex()));
                let offset = w.offset();
                w.write(data).unwrap();
                w.commit().unwrap();
                (offset, lock)
            })
        };
        rx.recv().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        first.write(data).unwrap();
        first.commit().unwrap();
        let (offset, lock_visible) = waiter.join().unwrap();
        assert_eq!(
            offset, 0,
            "the committed partial is gone; a new one starts empty"
        );
        assert!(lock_visible);
        assert!(store.has(&digest));
        assert!(
            !dir_entry(&store, &format!("{}.lock", digest.hex())),
            "lock file left behind"
        );
    }

    fn dir_entry(store: &Store, name: &str) -> bool {
        store.root.join("partial").join(name).exists()
    }

    #[test]
    fn mismatch_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let digest = Digest::of_bytes(b"expected");
        let mut w = store.writer(&digest).unwrap();
        w.write(b"tampered").unwrap();
        let err = w.commit().unwrap_err().to_string();
        assert!(err.contains("was discarded"), "{err}");
        assert!(!store.has(&digest));
        assert!(!dir.path().join("partial").join(digest.hex()).exists());
        assert!(store.put(&digest, b"tampered").is_err());
    }
}
