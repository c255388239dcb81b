//! Small manifests under well-known tags (cosign's `sha256-<hex>.sig`, the referrers tag
//! index), read-modify-written.
//!
//! Registries offer no compare-and-swap on tags, so a writer that read before our write can
//! overwrite it later. [`TagUpdate`] makes the lost update unlikely enough for signing:
//! after writing, an entry counts as kept only once it has been read back on two checks a
//! settling pause apart (longer than another writer's read-then-write), and a missing entry
//! is written again, after a random pause so racing writers spread out.

use std::time::Duration;

/// The tag kept changing under concurrent writers.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the tag kept changing under concurrent writers; run the command again")]
pub struct Contention;

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
    pub async fn observe(&mut self, present: bool) -> Result<bool, Contention> {
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
            return Err(Contention);
        }
        if self.attempts > 1 {
            tokio::time::sleep(jitter()).await;
        }
        Ok(false)
    }
}

/// 0–400 ms, different per process and call.
fn jitter() -> Duration {
    Duration::from_millis(400).mul_f64(super::retry::random_fraction())
}
