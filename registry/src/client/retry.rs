//! The one retry policy: a bounded number of attempts per operation, exponential backoff
//! with jitter (so clients that failed together do not retry together), `Retry-After`
//! honoured up to the cap, and a budget of retries shared by everything one client does,
//! so a registry that keeps failing cannot stretch a command out indefinitely.

use super::error::RegistryError;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Retry settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per operation, the first included (default 6).
    pub attempts: u32,
    /// Delay before the first retry, before jitter (default 250 ms).
    pub base: Duration,
    /// Longest delay between attempts (default 8 s).
    pub cap: Duration,
    /// Retries one client may spend in total across all its operations (default 40).
    pub budget: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 6,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(8),
            budget: 40,
        }
    }
}

/// A fraction in [0, 1), different per process and call (no RNG dependency needed).
pub fn random_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The shared budget of one client.
#[derive(Debug)]
pub struct Budget(AtomicU32);

impl Budget {
    /// A budget of `n` retries.
    pub fn new(n: u32) -> Self {
        Self(AtomicU32::new(n))
    }

    fn take(&self) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// The state of one operation's attempts.
pub struct Attempts<'a> {
    policy: &'a RetryPolicy,
    budget: &'a Budget,
    attempt: u32,
}

impl<'a> Attempts<'a> {
    /// Start counting.
    pub fn new(policy: &'a RetryPolicy, budget: &'a Budget) -> Self {
        Self {
            policy,
            budget,
            attempt: 1,
        }
    }

    /// The delay before retry number `n` (1-based): half of the exponential step plus a
    /// random part of the other half, at most the cap.
    pub fn delay(policy: &RetryPolicy, n: u32, fraction: f64) -> Duration {
        let step = policy
            .base
            .saturating_mul(1u32 << (n - 1).min(16))
            .min(policy.cap);
        step / 2 + step.mul_f64(fraction.clamp(0.0, 1.0) / 2.0)
    }

    /// Sleep before the next attempt, or give the error back when it is final.
    pub async fn wait_or_fail(
        &mut self,
        what: &str,
        e: RegistryError,
    ) -> Result<(), RegistryError> {
        if !e.retryable() || self.attempt >= self.policy.attempts {
            tracing::debug!("{what} failed for good: {e}");
            return Err(e);
        }
        if !self.budget.take() {
            tracing::warn!("{e} (not retrying: this command has used up its retries)");
            return Err(e);
        }
        let mut delay = Self::delay(self.policy, self.attempt, random_fraction());
        if let RegistryError::RateLimited {
            retry_after: Some(after),
            ..
        } = &e
        {
            delay = delay.max(*after).min(self.policy.cap * 4);
        }
        tracing::warn!(
            "{e} (attempt {} of {}; retrying in {:.1?})",
            self.attempt,
            self.policy.attempts,
            delay
        );
        tokio::time::sleep(delay).await;
        self.attempt += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_with_jitter_and_stop_at_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(Attempts::delay(&p, 1, 0.0), Duration::from_millis(125));
        assert_eq!(Attempts::delay(&p, 1, 1.0), Duration::from_millis(250));
        assert_eq!(Attempts::delay(&p, 3, 0.0), Duration::from_millis(500));
        assert_eq!(Attempts::delay(&p, 30, 1.0), Duration::from_secs(8));
        assert_eq!(Attempts::delay(&p, 30, 0.0), Duration::from_secs(4));
        let f = random_fraction();
        assert!((0.0..1.0).contains(&f));
    }

    #[test]
    fn the_budget_runs_out() {
        let b = Budget::new(2);
        assert!(b.take());
        assert!(b.take());
        assert!(!b.take());
    }
}
