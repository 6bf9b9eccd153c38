//! Exponential backoff with full jitter.
//!
//! Delay `n` (from 0) is drawn uniformly from `[0, min(cap, base * 2^n)]`, so a fleet that
//! lost its server at the same moment does not come back in lock-step. The schedule is
//! pure; the shells do the sleeping. A seed makes it repeatable in tests.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Upper bound of the first delay.
    pub base: Duration,
    /// No delay is longer than this.
    pub cap: Duration,
    /// Retries after the first try (0 = never retry).
    pub max_retries: u32,
}

impl Default for Backoff {
    /// 3 retries, 50 ms base, 2 s cap.
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(50),
            cap: Duration::from_secs(2),
            max_retries: 3,
        }
    }
}

impl Backoff {
    /// No retries at all.
    pub fn none() -> Backoff {
        Backoff {
            max_retries: 0,
            ..Backoff::default()
        }
    }

    /// The upper bound of delay `attempt` (0-based), before jitter.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The delays to wait before each retry, randomized from the thread's generator.
    ///
    /// Free to create: every request of a cluster or managed connection makes one, and
    /// most never retry, so the generator is seeded at the first delay drawn (from the
    /// thread-local generator, not the OS: one `getrandom` system call per request cost a
    /// third of a blocking cluster round trip).
    pub fn delays(&self) -> Delays {
        Delays::new(*self, None)
    }

    /// The same delays from a fixed seed, for tests.
    pub fn delays_seeded(&self, seed: u64) -> Delays {
        Delays::new(*self, Some(SmallRng::seed_from_u64(seed)))
    }
}

/// Iterator over retry delays; ends after `max_retries`.
#[derive(Debug, Clone)]
pub struct Delays {
    policy: Backoff,
    attempt: u32,
    /// Seeded at the first delay drawn (see [`Backoff::delays`]).
    rng: Option<SmallRng>,
}

impl Delays {
    fn new(policy: Backoff, rng: Option<SmallRng>) -> Delays {
        Delays {
            policy,
            attempt: 0,
            rng,
        }
    }
}

impl Iterator for Delays {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.attempt >= self.policy.max_retries {
            return None;
        }
        let ceiling = self.policy.ceiling(self.attempt);
        self.attempt += 1;
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        let rng = self
            .rng
            .get_or_insert_with(|| SmallRng::from_rng(&mut rand::rng()));
        Some(Duration::from_nanos(rng.random_range(0..=nanos)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_growing_and_repeatable() {
        let b = Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(100),
            max_retries: 8,
        };
        let a: Vec<_> = b.delays_seeded(7).collect();
        assert_eq!(a, b.delays_seeded(7).collect::<Vec<_>>());
        assert_eq!(a.len(), 8);
        for (i, d) in a.iter().enumerate() {
            assert!(*d <= b.ceiling(i as u32));
        }
        assert_eq!(b.ceiling(0), Duration::from_millis(10));
        assert_eq!(b.ceiling(3), Duration::from_millis(80));
        assert_eq!(b.ceiling(40), Duration::from_millis(100));
        assert_ne!(a, b.delays_seeded(8).collect::<Vec<_>>());
        assert_eq!(Backoff::none().delays().count(), 0);
    }
}
