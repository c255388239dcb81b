//! One blob being downloaded: appended to `partial/<hex>` under a lock (so two processes
//! never write it at once, and an interrupted download resumes), checked against its
//! digest and renamed into place on commit.

use super::{StoreError, io};
use sha2::Digest as _;
use spin_app::Digest;
use std::fs::File;
use std::fs::OpenOptions;
use std::io::Read;
use std::io::Write;
use std::path::{Path, PathBuf};

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
    done: bool,
    digest: Digest,
    dest: PathBuf,
    partial: PathBuf,
    lock_path: PathBuf,
    file: Option<std::io::BufWriter<File>>,
    hasher: sha2::Sha256,
    len: u64,
    _lock: File,
}

impl BlobWriter {
    /// The writer for `digest`, appending to `partial` and committing to `dest`.
    pub(super) fn open(
        partial: PathBuf,
        dest: PathBuf,
        digest: &Digest,
    ) -> Result<Self, StoreError> {
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
        Ok(Self {
            done: false,
            digest: digest.clone(),
            dest,
            partial,
            lock_path,
            file: Some(std::io::BufWriter::with_capacity(1 << 20, file)),
            hasher,
            len,
            _lock: lock,
        })
    }

    /// Bytes already on disk (where a resumed download starts).
    pub fn offset(&self) -> u64 {
        self.len
    }

    fn file(&mut self) -> &mut std::io::BufWriter<File> {
        self.file.as_mut().expect("present until commit")
    }

    /// Throw away what is on disk and start from zero.
    pub fn restart(&mut self) -> Result<(), StoreError> {
        let partial = self.partial.clone();
        self.file().flush().map_err(io(&partial))?;
        self.file().get_ref().set_len(0).map_err(io(&partial))?;
        self.hasher = Digest::hasher();
        self.len = 0;
        Ok(())
    }

    /// Append bytes.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let partial = self.partial.clone();
        self.file().write_all(bytes).map_err(io(&partial))?;
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Check the digest and move the blob into place; on mismatch the partial is deleted.
    /// Either way the lock file goes too (while still held, see [`Store::writer`]).
    pub fn commit(mut self) -> Result<(), StoreError> {
        self.done = true;
        let actual = Digest::from_hasher(std::mem::take(&mut self.hasher));
        let file = self.file.take().expect("present until commit");
        if actual != self.digest {
            drop(file);
            let _ = std::fs::remove_file(&self.partial);
            let _ = std::fs::remove_file(&self.lock_path);
            return Err(StoreError::DigestMismatch {
                expected: self.digest.clone(),
                actual,
            });
        }
        let file = file
            .into_inner()
            .map_err(|e| io(&self.partial)(e.into_error()))?;
        file.sync_all().map_err(io(&self.partial))?;
        std::fs::rename(&self.partial, &self.dest).map_err(io(&self.dest))?;
        let _ = std::fs::remove_file(&self.lock_path);
        Ok(())
    }
}

impl Drop for BlobWriter {
    /// An abandoned download keeps its bytes for the next attempt to resume from; an
    /// abandoned empty one leaves nothing behind.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(mut f) = self.file.take() {
            let _ = f.flush();
        }
        if self.len == 0 {
            let _ = std::fs::remove_file(&self.partial);
            let _ = std::fs::remove_file(&self.lock_path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

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
        assert_eq!(store.read(&digest, 1 << 20).unwrap(), data);
    }

    #[test]
    fn an_abandoned_empty_download_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let digest = Digest::of_bytes(b"never arrives");
        drop(store.writer(&digest).unwrap());
        let left: Vec<_> = std::fs::read_dir(dir.path().join("partial"))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "{left:?}");
        // What a killed process leaves (an empty partial and its lock) goes on the next open.
        std::fs::write(dir.path().join("partial").join(digest.hex()), b"").unwrap();
        std::fs::write(
            dir.path()
                .join("partial")
                .join(format!("{}.lock", digest.hex())),
            b"",
        )
        .unwrap();
        Store::open(dir.path()).unwrap();
        let left: Vec<_> = std::fs::read_dir(dir.path().join("partial"))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "{left:?}");
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
