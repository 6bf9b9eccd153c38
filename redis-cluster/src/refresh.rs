//! When to refresh the slot map, and whom to ask.
//!
//! Many events say the map may be stale (a `MOVED`, `READONLY` from a believed primary,
//! `CLUSTERDOWN`, an uncovered slot, a node that failed or stopped answering) and they come
//! in bursts: one failover makes every in-flight request to that shard fail at once. Each
//! event asking the cluster on its own would flood the nodes just when they are busiest,
//! so one [`RefreshGate`] per client coalesces them: a trigger while a refresh runs joins
//! it, and refreshes start at most once per interval, with jitter so that many clients do
//! not refresh in step. A periodic refresh catches what every event missed.
//!
//! A refresh asks a few known nodes ([`nodes_to_ask`]) and then the seed addresses the
//! client started from (a DNS name may point at nodes added since), and keeps the freshest
//! view ([`SlotMap::freshest`](crate::SlotMap::freshest)). All of this is pure: the shells
//! pass the time and a random number in.

use std::time::{Duration, Instant};

use redis_core::Addr;

use crate::slot_map::SlotMap;

/// Knobs of the refresh schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshConfig {
    /// Least time between the starts of two refreshes (default 250 ms: a failover shows in
    /// the map within a few of them, and a burst of triggers costs one).
    pub min_interval: Duration,
    /// Up to this much is added at random to each wait (default 100 ms).
    pub jitter: Duration,
    /// Refresh this long after the last one even without a trigger (default 30 s; `None`
    /// turns it off).
    pub periodic: Option<Duration>,
    /// How many known nodes one refresh asks before the seeds (default 3).
    pub nodes_to_ask: usize,
}

impl Default for RefreshConfig {
    fn default() -> Self {
        RefreshConfig {
            min_interval: Duration::from_millis(250),
            jitter: Duration::from_millis(100),
            periodic: Some(Duration::from_secs(30)),
            nodes_to_ask: 3,
        }
    }
}

/// What to do about one refresh trigger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshStep {
    /// Start a refresh now, and call [`RefreshGate::finished`] when it ends.
    Start,
    /// A refresh is running: wait for its result instead of starting another.
    Join,
    /// Too soon after the last one: one refresh is due at this instant (every trigger
    /// until then gets the same instant, so the shell schedules it once).
    At(Instant),
}

/// Coalesces and rate-limits refreshes (see the module docs). One per client.
#[derive(Clone, Debug)]
pub struct RefreshGate {
    config: RefreshConfig,
    running: bool,
    last_start: Option<Instant>,
    due: Option<Instant>,
}

impl RefreshGate {
    /// A gate that lets the first trigger start at once.
    pub fn new(config: RefreshConfig) -> RefreshGate {
        RefreshGate {
            config,
            running: false,
            last_start: None,
            due: None,
        }
    }

    /// The knobs.
    pub fn config(&self) -> &RefreshConfig {
        &self.config
    }

    /// Something suggests the map is stale, at `now`; `random` is a fresh random number
    /// (for the jitter).
    pub fn trigger(&mut self, now: Instant, random: u64) -> RefreshStep {
        if self.running {
            return RefreshStep::Join;
        }
        let earliest = match (self.due, self.last_start) {
            (Some(due), _) => due,
            (None, None) => now,
            (None, Some(last)) => {
                let jitter_ms = self.config.jitter.as_millis() as u64;
                let jitter = Duration::from_millis(random % jitter_ms.saturating_add(1));
                last + self.config.min_interval + jitter
            }
        };
        if now >= earliest {
            self.running = true;
            self.last_start = Some(now);
            self.due = None;
            RefreshStep::Start
        } else {
            self.due = Some(earliest);
            RefreshStep::At(earliest)
        }
    }

    /// The refresh started by [`RefreshStep::Start`] ended (whatever its outcome).
    pub fn finished(&mut self) {
        self.running = false;
    }

    /// True while a refresh runs.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// When the periodic refresh is due (`None` when turned off, or before the first
    /// refresh: the client refreshes when it starts).
    pub fn next_periodic(&self) -> Option<Instant> {
        Some(self.last_start? + self.config.periodic?)
    }
}

/// Whom one refresh asks, in order: up to `n` nodes of `map` (primaries first, healthy
/// ones first, the starting point rotated by `random` so that refreshes spread over the
/// nodes), then every seed address not already listed.
pub fn nodes_to_ask(map: &SlotMap, seeds: &[Addr], n: usize, random: u64) -> Vec<Addr> {
    let mut known: Vec<(bool, bool, &Addr)> = map
        .all_nodes()
        .map(|node| {
            (
                node.role != crate::NodeRole::Primary,
                !node.healthy,
                &node.addr,
            )
        })
        .collect();
    if !known.is_empty() {
        let k = known.len();
        known.rotate_left((random % k as u64) as usize);
    }
    known.sort_by_key(|&(replica, unhealthy, _)| (unhealthy, replica)); // stable
    let mut out: Vec<Addr> = Vec::new();
    for (_, _, addr) in known {
        if out.len() >= n {
            break;
        }
        if !out.contains(addr) {
            out.push(addr.clone());
        }
    }
    for s in seeds {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slot_map::{Node, NodeRole, Shard};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn triggers_coalesce_and_are_rate_limited() {
        let t0 = Instant::now();
        let mut g = RefreshGate::new(RefreshConfig::default());
        assert_eq!(g.next_periodic(), None);
        assert_eq!(g.trigger(t0, 0), RefreshStep::Start);
        // A burst while it runs joins it.
        for i in 0..5 {
            assert_eq!(g.trigger(t0 + ms(i), i), RefreshStep::Join);
        }
        assert!(g.is_running());
        g.finished();
        assert_eq!(g.next_periodic(), Some(t0 + Duration::from_secs(30)));
        // Too soon: one due instant, the same for every trigger until then.
        let RefreshStep::At(due) = g.trigger(t0 + ms(10), 40) else {
            panic!("not rate-limited");
        };
        assert_eq!(due, t0 + ms(250 + 40));
        assert_eq!(g.trigger(t0 + ms(20), 99), RefreshStep::At(due));
        assert_eq!(g.trigger(due, 0), RefreshStep::Start);
        g.finished();
        // Jitter stays within its bound.
        for r in [0, 100, 101, u64::MAX] {
            let mut g2 = g.clone();
            let RefreshStep::At(d) = g2.trigger(due, r) else {
                panic!()
            };
            assert!(d >= due + ms(250) && d <= due + ms(350), "{r}");
        }
        // Long after: at once.
        assert_eq!(g.trigger(due + ms(400), 0), RefreshStep::Start);
        let off = RefreshGate::new(RefreshConfig {
            periodic: None,
            jitter: Duration::ZERO,
            ..RefreshConfig::default()
        });
        assert_eq!(off.next_periodic(), None);
        assert_eq!(off.config().nodes_to_ask, 3);
    }

    #[test]
    fn asks_known_nodes_then_seeds() {
        let a = |p| Addr::tcp("h", p);
        let node = |p, role, healthy| Node {
            healthy,
            ..Node::new(a(p), role)
        };
        let map = SlotMap::new(vec![
            (
                vec![0..=100],
                Shard {
                    primary: node(1, NodeRole::Primary, true),
                    replicas: vec![node(11, NodeRole::Replica, true)],
                },
            ),
            (
                vec![101..=200],
                Shard {
                    primary: node(2, NodeRole::Primary, false),
                    replicas: vec![node(12, NodeRole::Replica, true)],
                },
            ),
            (
                vec![201..=300],
                Shard {
                    primary: node(3, NodeRole::Primary, true),
                    replicas: vec![],
                },
            ),
        ])
        .unwrap();
        let seeds = [a(1), a(99)];
        let asked = nodes_to_ask(&map, &seeds, 3, 0);
        assert_eq!(asked, [a(1), a(3), a(11), a(99)]);
        // Rotation spreads the load, healthy primaries still first.
        let asked = nodes_to_ask(&map, &seeds, 2, 4);
        assert_eq!(asked, [a(3), a(1), a(99)]);
        assert_eq!(nodes_to_ask(&map, &seeds, 0, 0), [a(1), a(99)]);
        assert_eq!(nodes_to_ask(&SlotMap::default(), &seeds, 3, 7), seeds);
        assert_eq!(nodes_to_ask(&map, &[], 10, 0).len(), 5);
    }
}
