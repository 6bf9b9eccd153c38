//! Read routing: which node of a primary and its replicas serves a read.
//!
//! Both the cluster client (a shard's primary and replicas) and the Sentinel client (the
//! primary the sentinels name and its replicas) choose where a read goes with the same
//! strategies, so the type lives here, once, and neither crate depends on the other. The
//! choice itself is pure: the caller passes what it knows about each node ([`NodeStats`])
//! plus a counter (for round robin) and a random number, and gets back an index. Writes
//! never ask: they always go to the primary.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What the client knows about one node when it picks where a read goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeStats {
    /// False when the node failed recently (connection refused, timed out, reported as
    /// failed or loading by the topology): it is skipped while others can serve.
    pub healthy: bool,
    /// The latest measured round trip, if any (used by [`ReadFrom::LowestLatency`]).
    pub latency: Option<Duration>,
}

impl Default for NodeStats {
    /// Healthy, latency not measured yet.
    fn default() -> Self {
        NodeStats {
            healthy: true,
            latency: None,
        }
    }
}

/// The node chosen for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Choice {
    /// The primary.
    Primary,
    /// The replica at this index of the list given to [`ReadFrom::choose`].
    Replica(usize),
}

/// A user-supplied read routing policy ([`ReadFrom::Custom`]).
///
/// It gets the same inputs as the built-in strategies. Its answer is checked: a replica
/// index out of range or of an unhealthy replica is replaced by the primary, so a policy
/// cannot send a read to a node the client knows is down.
pub trait ReadPolicy: Send + Sync {
    /// Picks the node for one read. `counter` grows by one per request (round robin);
    /// `random` is a fresh random number.
    fn choose(
        &self,
        primary: &NodeStats,
        replicas: &[NodeStats],
        counter: u64,
        random: u64,
    ) -> Choice;
}

/// Where reads go. Writes always go to the primary, whatever this says.
///
/// The names follow the strategies users know from redis-py (`ReadFrom`/load balancing)
/// and Lettuce. "Healthy" below means [`NodeStats::healthy`].
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum ReadFrom {
    /// Every read goes to the primary (the default: reads see every acknowledged write).
    #[default]
    Primary,
    /// A healthy replica (round robin among them), else the primary.
    PreferReplica,
    /// A healthy replica (round robin among them); no read at all when none is healthy
    /// ([`ReadFrom::choose`] gives `None`): the caller fails the read rather than load
    /// the primary.
    Replica,
    /// Round robin over the primary and the healthy replicas.
    RoundRobin,
    /// Round robin over the healthy replicas, else the primary.
    RoundRobinReplicas,
    /// A random healthy replica, else the primary.
    RandomReplica,
    /// The healthy node (primary included) with the lowest measured latency; nodes not
    /// measured yet come after measured ones (the caller measures them, e.g. with `PING`);
    /// ties go to the primary, then to the first replica listed.
    LowestLatency,
    /// A policy of the caller's own.
    Custom(Arc<dyn ReadPolicy>),
}

impl fmt::Debug for ReadFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReadFrom::Primary => "Primary",
            ReadFrom::PreferReplica => "PreferReplica",
            ReadFrom::Replica => "Replica",
            ReadFrom::RoundRobin => "RoundRobin",
            ReadFrom::RoundRobinReplicas => "RoundRobinReplicas",
            ReadFrom::RandomReplica => "RandomReplica",
            ReadFrom::LowestLatency => "LowestLatency",
            ReadFrom::Custom(_) => "Custom",
        })
    }
}

impl ReadFrom {
    /// True when reads may go to replicas (their connections then need `READONLY` in a
    /// cluster).
    pub fn uses_replicas(&self) -> bool {
        !matches!(self, ReadFrom::Primary)
    }

    /// The node for one request. A write always gets [`Choice::Primary`]. A read follows
    /// the strategy, skipping unhealthy replicas; `None` only for [`ReadFrom::Replica`]
    /// when no replica is healthy. `counter` should grow by one per request; `random` is a
    /// fresh random number (both are inputs so the choice stays pure and testable).
    pub fn choose(
        &self,
        write: bool,
        primary: &NodeStats,
        replicas: &[NodeStats],
        counter: u64,
        random: u64,
    ) -> Option<Choice> {
        if write {
            return Some(Choice::Primary);
        }
        let healthy: Vec<usize> = (0..replicas.len())
            .filter(|&i| replicas[i].healthy)
            .collect();
        let pick = |n: u64| healthy[(n % healthy.len() as u64) as usize];
        match self {
            ReadFrom::Primary => Some(Choice::Primary),
            ReadFrom::Replica if healthy.is_empty() => None,
            ReadFrom::Replica | ReadFrom::PreferReplica | ReadFrom::RoundRobinReplicas => {
                Some(if healthy.is_empty() {
                    Choice::Primary
                } else {
                    Choice::Replica(pick(counter))
                })
            }
            ReadFrom::RandomReplica => Some(if healthy.is_empty() {
                Choice::Primary
            } else {
                Choice::Replica(pick(random))
            }),
            ReadFrom::RoundRobin => {
                let mut all: Vec<Choice> = Vec::with_capacity(healthy.len() + 1);
                if primary.healthy || healthy.is_empty() {
                    all.push(Choice::Primary);
                }
                all.extend(healthy.iter().map(|&i| Choice::Replica(i)));
                Some(all[(counter % all.len() as u64) as usize])
            }
            ReadFrom::LowestLatency => {
                let rank = |s: &NodeStats| (s.latency.is_none(), s.latency);
                let mut best = (Choice::Primary, primary);
                for &i in &healthy {
                    let r = &replicas[i];
                    if !best.1.healthy || rank(r) < rank(best.1) {
                        best = (Choice::Replica(i), r);
                    }
                }
                Some(best.0)
            }
            ReadFrom::Custom(policy) => {
                Some(match policy.choose(primary, replicas, counter, random) {
                    Choice::Replica(i) if replicas.get(i).is_some_and(|r| r.healthy) => {
                        Choice::Replica(i)
                    }
                    _ => Choice::Primary,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up() -> NodeStats {
        NodeStats::default()
    }

    fn down() -> NodeStats {
        NodeStats {
            healthy: false,
            latency: None,
        }
    }

    fn ms(n: u64) -> NodeStats {
        NodeStats {
            healthy: true,
            latency: Some(Duration::from_millis(n)),
        }
    }

    fn picks(rf: &ReadFrom, replicas: &[NodeStats], n: u64) -> Vec<Option<Choice>> {
        (0..n)
            .map(|i| rf.choose(false, &up(), replicas, i, i * 7))
            .collect()
    }

    const P: Option<Choice> = Some(Choice::Primary);
    const R0: Option<Choice> = Some(Choice::Replica(0));
    const R1: Option<Choice> = Some(Choice::Replica(1));
    const R2: Option<Choice> = Some(Choice::Replica(2));

    #[test]
    fn writes_always_go_to_the_primary() {
        struct Always1;
        impl ReadPolicy for Always1 {
            fn choose(&self, _: &NodeStats, _: &[NodeStats], _: u64, _: u64) -> Choice {
                Choice::Replica(1)
            }
        }
        for rf in [
            ReadFrom::Primary,
            ReadFrom::PreferReplica,
            ReadFrom::Replica,
            ReadFrom::RoundRobin,
            ReadFrom::RoundRobinReplicas,
            ReadFrom::RandomReplica,
            ReadFrom::LowestLatency,
            ReadFrom::Custom(Arc::new(Always1)),
        ] {
            for c in 0..4 {
                assert_eq!(rf.choose(true, &up(), &[ms(1), ms(1)], c, c), P, "{rf:?}");
            }
        }
        assert_eq!(format!("{:?}", ReadFrom::default()), "Primary");
        assert!(!ReadFrom::default().uses_replicas());
    }

    #[test]
    fn replica_strategies_skip_failed_replicas() {
        let r = [up(), down(), up()];
        assert_eq!(picks(&ReadFrom::Primary, &r, 3), [P, P, P]);
        assert_eq!(picks(&ReadFrom::PreferReplica, &r, 3), [R0, R2, R0]);
        assert_eq!(picks(&ReadFrom::Replica, &r, 3), [R0, R2, R0]);
        assert_eq!(picks(&ReadFrom::RoundRobinReplicas, &r, 3), [R0, R2, R0]);
        assert_eq!(picks(&ReadFrom::RoundRobin, &r, 4), [P, R0, R2, P]);
        for c in picks(&ReadFrom::RandomReplica, &r, 50) {
            assert!(c == R0 || c == R2, "{c:?}");
        }
        let all = picks(&ReadFrom::RandomReplica, &[up(), up(), up()], 50);
        assert!(all.contains(&R0) && all.contains(&R1) && all.contains(&R2));
    }

    #[test]
    fn no_healthy_replica() {
        for r in [&[][..], &[down(), down()]] {
            assert_eq!(picks(&ReadFrom::Replica, r, 2), [None, None]);
            assert_eq!(picks(&ReadFrom::PreferReplica, r, 2), [P, P]);
            assert_eq!(picks(&ReadFrom::RoundRobinReplicas, r, 2), [P, P]);
            assert_eq!(picks(&ReadFrom::RandomReplica, r, 2), [P, P]);
            assert_eq!(picks(&ReadFrom::RoundRobin, r, 2), [P, P]);
            assert_eq!(picks(&ReadFrom::LowestLatency, r, 2), [P, P]);
        }
        // A failed primary is skipped by round robin while a replica can serve.
        let rr = ReadFrom::RoundRobin;
        assert_eq!(rr.choose(false, &down(), &[up()], 0, 0), R0);
        assert_eq!(rr.choose(false, &down(), &[up()], 1, 0), R0);
        assert_eq!(rr.choose(false, &down(), &[down()], 1, 0), P);
    }

    #[test]
    fn lowest_latency() {
        let ll = ReadFrom::LowestLatency;
        assert_eq!(ll.choose(false, &ms(5), &[ms(3), ms(1)], 0, 0), R1);
        assert_eq!(ll.choose(false, &ms(1), &[ms(3), ms(1)], 0, 0), P);
        // Unmeasured nodes rank after measured ones; failed ones are skipped.
        assert_eq!(ll.choose(false, &up(), &[ms(9), up()], 0, 0), R0);
        let slow_down = NodeStats {
            healthy: false,
            latency: Some(Duration::from_micros(1)),
        };
        assert_eq!(ll.choose(false, &ms(4), &[slow_down, ms(2)], 0, 0), R1);
        assert_eq!(ll.choose(false, &down(), &[ms(9)], 0, 0), R0);
    }

    #[test]
    fn custom_policy_is_checked() {
        struct Fixed(usize);
        impl ReadPolicy for Fixed {
            fn choose(&self, _: &NodeStats, _: &[NodeStats], _: u64, _: u64) -> Choice {
                Choice::Replica(self.0)
            }
        }
        let r = [up(), down()];
        let custom = |i| ReadFrom::Custom(Arc::new(Fixed(i)));
        assert_eq!(custom(0).choose(false, &up(), &r, 0, 0), R0);
        assert_eq!(
            custom(1).choose(false, &up(), &r, 0, 0),
            P,
            "failed replica"
        );
        assert_eq!(custom(9).choose(false, &up(), &r, 0, 0), P, "out of range");
        assert_eq!(format!("{:?}", custom(0)), "Custom");
        assert!(custom(0).uses_replicas());
    }
}
