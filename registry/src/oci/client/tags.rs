//! Small manifests under well-known tags (cosign's `sha256-<hex>.sig`, the referrers tag
//! index), read-modify-written.
//!
//! Registries offer no compare-and-swap on tags, so a writer that read before our write can
//! overwrite it later. [`TagUpdate`] makes the lost update unlikely enough for signing:
//! after writing, an entry counts as kept only once it has been read back on two checks a
//! settling pause apart (longer than another writer's read-then-write), and a missing entry
//! is written again, after a random pause so racing writers spread out.

use super::*;

fn not_found(e: &OciDistributionError) -> bool {
    use OciDistributionError as E;
    match e {
        E::ImageManifestNotFoundError(_) => true,
        E::ServerError { code: 404, .. } => true,
        E::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown
            )
        }),
        _ => false,
    }
}

impl RegistryClient {
    /// The manifest under `tag` in `r`'s repository, or `None` when the tag does not exist.
    pub async fn fetch_tag(
        &self,
        r: &Reference,
        tag: &str,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let auth = self
            .authed(&self.chunked, r, RegistryOperation::Pull)
            .await?;
        let what = format!("fetch {}:{tag}", r.repository_url());
        let accepted = [
            MANIFEST_MEDIA_TYPE,
            INDEX_MEDIA_TYPE,
            DOCKER_MANIFEST_MEDIA_TYPE,
        ];
        self.retry(&what, || async {
            match self
                .chunked
                .pull_manifest_raw(&oci_ref(r, tag), &auth, &accepted)
                .await
            {
                Ok((bytes, _)) if bytes.len() > MAX_MANIFEST_BYTES => Err(RegistryError::new(
                    format!("{what}: over the 4 MiB manifest limit; refusing it"),
                    false,
                )),
                Ok((bytes, _)) => Ok(Some(bytes.to_vec())),
                Err(e) if not_found(&e) => Ok(None),
                Err(e) => Err(explain(r.registry(), &what, e)),
            }
        })
        .await
    }
}

/// Confirms an entry written into a shared tag (see the module documentation).
#[derive(Debug, Default)]
pub struct TagUpdate {
    confirmations: u32,
    attempts: u32,
}

/// How many times an entry is written before giving up.
const MAX_WRITES: u32 = 10;

impl TagUpdate {
    /// Record what the last read showed; `Ok(true)` when the entry is confirmed kept,
    /// `Ok(false)` when the caller must write it (`present` false) or read again.
    pub async fn observe(&mut self, present: bool) -> Result<bool, RegistryError> {
        if present {
            self.confirmations += 1;
            if self.confirmations >= 2 {
                return Ok(true);
            }
            tokio::time::sleep(Duration::from_millis(400) + jitter()).await;
            return Ok(false);
        }
        self.confirmations = 0;
        self.attempts += 1;
        if self.attempts > MAX_WRITES {
            return Err(RegistryError::new(
                "the tag kept changing under concurrent writers; run the command again".to_string(),
                true,
            ));
        }
        if self.attempts > 1 {
            tokio::time::sleep(jitter()).await;
        }
        Ok(false)
    }
}

/// 0–400 ms, different per process and call.
fn jitter() -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    Duration::from_millis(h.finish() % 400)
}
