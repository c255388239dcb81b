//! Many small blobs (the files of an archive) written to temporary files while their
//! digests are learned, then renamed into the store after one filesystem sync.

use super::{Store, StoreError, io};
use sha2::Digest as _;
use spin_app::Digest;
use std::fs::File;
use std::io::{Read, Write};

/// Blobs staged in temporary files, renamed into the store together.
pub struct Batch<'a> {
    store: &'a Store,
    staged: Vec<(Digest, tempfile::TempPath)>,
}

impl<'a> Batch<'a> {
    pub(super) fn new(store: &'a Store) -> Self {
        Self {
            store,
            staged: Vec::new(),
        }
    }

    /// Stream `reader` into a staged blob, refusing more than `max` bytes; its digest.
    pub fn add(
        &mut self,
        mut reader: impl Read,
        max: u64,
        what: &str,
    ) -> Result<(u64, Digest), StoreError> {
        let dir = self.store.partial_dir();
        let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io(&dir))?;
        let mut hasher = Digest::hasher();
        let mut buf = vec![0u8; 256 << 10];
        let mut len = 0u64;
        loop {
            let n = reader.read(&mut buf).map_err(io(&dir))?;
            if n == 0 {
                break;
            }
            len += n as u64;
            if len > max {
                return Err(StoreError::TooLarge {
                    what: what.to_string(),
                    limit: max,
                    help: String::new(),
                });
            }
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n]).map_err(io(&dir))?;
        }
        let digest = Digest::from_hasher(hasher);
        if self.store.has(&digest) || self.staged.iter().any(|(d, _)| d == &digest) {
            return Ok((len, digest));
        }
        // Keep only the path: thousands of open files would exhaust descriptors.
        self.staged.push((digest.clone(), tmp.into_temp_path()));
        Ok((len, digest))
    }

    /// Sync the filesystem once, then rename every staged blob into place.
    pub fn commit(self) -> Result<(), StoreError> {
        if self.staged.is_empty() {
            return Ok(());
        }
        let dir = self.store.partial_dir();
        let fd = File::open(&dir).map_err(io(&dir))?;
        rustix::fs::syncfs(&fd).map_err(|e| io(&dir)(e.into()))?;
        for (digest, tmp) in self.staged {
            let dest = self.store.blob_path(&digest);
            tmp.persist(&dest).map_err(|e| io(&dest)(e.error))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_streams_with_a_cap() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut batch = store.batch();
        let (len, d) = batch.add(&b"small"[..], 10, "a").unwrap();
        assert_eq!((len, d.clone()), (5, Digest::of_bytes(b"small")));
        let err = batch
            .add(&b"too large for it"[..], 10, "file b")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "file b is larger than the 10 bytes limit; refusing it"
        );
        batch.commit().unwrap();
        assert!(store.has(&d));
    }
}
