//! What a client measured of each node, for read routing and for whom a refresh asks.
//!
//! The map says what the cluster thinks of a node (`CLUSTER SHARDS` health); the client
//! often knows sooner: a connection to a killed replica fails at once, seconds before the
//! cluster marks it failed, and a frozen node stops answering. [`NodeHealth`] keeps, per
//! node, when opening or using a connection last failed (or a request waited past the
//! probe interval) and the latest round trip, and turns them into the
//! [`NodeStats`] the read policy takes: a node that failed within
//! [`NodeHealth::UNHEALTHY_FOR`] is skipped when another node of its shard can serve the
//! read, and a node not measured yet counts as fastest for
//! [`ReadFrom::LowestLatency`](redis_core::routing::ReadFrom::LowestLatency), so every
//! node gets measured by the first read that may go there. Pure: the shell passes the
//! time in and keeps the value behind its own lock.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use redis_core::routing::NodeStats;
use redis_core::Addr;

/// Per-node failures and round trips (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct NodeHealth {
    failed_at: HashMap<Addr, Instant>,
    latency: HashMap<Addr, Duration>,
}

impl NodeHealth {
    /// How long a node whose connection failed is skipped by reads.
    pub const UNHEALTHY_FOR: Duration = Duration::from_secs(5);

    /// Nothing known yet.
    pub fn new() -> NodeHealth {
        NodeHealth::default()
    }

    /// Opening or using a connection to `addr` failed at `now`, or a request waited on
    /// it past the probe interval.
    pub fn failed(&mut self, addr: &Addr, now: Instant) {
        self.failed_at
            .retain(|_, at| now.saturating_duration_since(*at) < Self::UNHEALTHY_FOR);
        self.failed_at.insert(addr.clone(), now);
    }

    /// A request to `addr` got its reply after `rtt`.
    pub fn observe(&mut self, addr: &Addr, rtt: Duration) {
        self.latency.insert(addr.clone(), rtt);
    }

    /// Whether `addr` failed within [`UNHEALTHY_FOR`](Self::UNHEALTHY_FOR) of `now`.
    pub fn is_suspect(&self, addr: &Addr, now: Instant) -> bool {
        self.failed_at
            .get(addr)
            .is_some_and(|at| now.saturating_duration_since(*at) < Self::UNHEALTHY_FOR)
    }

    /// The nodes that failed lately (a refresh asks them last).
    pub fn suspects(&self, now: Instant) -> Vec<Addr> {
        self.failed_at
            .keys()
            .filter(|a| self.is_suspect(a, now))
            .cloned()
            .collect()
    }

    /// What the read policy gets for `addr` at `now`; `with_latency`: report round trips
    /// (a node not measured yet as zero), else none.
    pub fn stats(&self, addr: &Addr, now: Instant, with_latency: bool) -> NodeStats {
        NodeStats {
            healthy: !self.is_suspect(addr, now),
            latency: with_latency
                .then(|| self.latency.get(addr).copied().unwrap_or(Duration::ZERO)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_expire_and_latency_counts_unmeasured_as_fastest() {
        let t0 = Instant::now();
        let (a, b) = (Addr::tcp("h", 1), Addr::tcp("h", 2));
        let mut h = NodeHealth::new();
        assert!(h.stats(&a, t0, false).healthy);
        assert_eq!(h.stats(&a, t0, false).latency, None);
        assert_eq!(h.stats(&a, t0, true).latency, Some(Duration::ZERO));
        h.failed(&a, t0);
        assert!(!h.stats(&a, t0 + Duration::from_secs(4), false).healthy);
        assert_eq!(h.suspects(t0), vec![a.clone()]);
        assert!(h.stats(&a, t0 + NodeHealth::UNHEALTHY_FOR, false).healthy);
        assert!(h.suspects(t0 + Duration::from_secs(6)).is_empty());
        h.observe(&b, Duration::from_millis(3));
        assert_eq!(
            h.stats(&b, t0, true).latency,
            Some(Duration::from_millis(3))
        );
        // Old failures are dropped as new ones come.
        h.failed(&b, t0 + Duration::from_secs(10));
        assert!(!h.is_suspect(&a, t0 + Duration::from_secs(10)));
        assert_eq!(h.failed_at.len(), 1);
    }
}
