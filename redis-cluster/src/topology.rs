//! The topology manager's state, shared by both flavours: the current slot map, the
//! refresh gate, the seeds, and what a refresh changed.
//!
//! One [`Topology`] per client (behind a lock in the shell). Events that say the map may be
//! stale go through [`trigger`](Topology::trigger) (coalesced and rate-limited by the
//! [`RefreshGate`]); the shell asks the nodes [`to_ask`](Topology::to_ask) for
//! `CLUSTER SHARDS` (or `CLUSTER SLOTS`) and hands every view it got to
//! [`apply_refresh`](Topology::apply_refresh), which keeps the freshest and says which
//! nodes left the cluster (their connections are to be closed).
//!
//! The failover verdict ([`Topology::node_failed`]): a request waiting on a node longer
//! than the probe interval makes the shell refresh; if the map then shows that node failed,
//! gone, or (for a connection used as a primary) no longer a primary serving slots, the
//! shell aborts that node's connections: in-flight reads are re-sent by the new map, writes
//! fail with `MayHaveExecuted` (their late replies die with the socket), so no caller is
//! told OK for a write the demoted node will throw away when it resyncs.

use std::time::Instant;

use redis_core::Addr;

use std::ops::RangeInclusive;

use crate::refresh::{nodes_to_ask, RefreshConfig, RefreshGate, RefreshStep};
use crate::slot::SLOT_COUNT;
use crate::slot_map::{NodeRole, SlotMap};

/// What [`Topology::apply_refresh`] changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// The map changed (slot owners, roles or health).
    pub changed: bool,
    /// Nodes in the old map that are in no view of the new one: close their connections.
    pub left: Vec<Addr>,
    /// How many slots have another primary than in the map the last refresh read (a slot served now and not before counts, so the first map counts every slot
    /// it serves). Owners learned from `MOVED` in between do not hide a move: what a
    /// shell reports as `ConnectionEvent::TopologyChanged` when not zero.
    pub moved_slots: usize,
    /// Which of the views handed to [`Topology::apply_refresh`] was kept (its index; `None`
    /// when none came in): the shell names that node in the event.
    pub from: Option<usize>,
}

/// How many slots have a different primary in `after` than in `before` (served in one
/// and not in the other counts too). Compared run by run between the ranges' ends, not
/// slot by slot: no per-slot table is built for it.
pub fn moved_slots(before: &[(RangeInclusive<u16>, Addr)], after: &SlotMap) -> usize {
    let mut old: Vec<(RangeInclusive<u16>, &Addr)> =
        before.iter().map(|(r, a)| (r.clone(), a)).collect();
    let mut new = after.assignment();
    old.sort_by_key(|(r, _)| *r.start());
    new.sort_by_key(|(r, _)| *r.start());
    // The owner of `slot` in sorted, disjoint `ranges`.
    fn owner<'a>(ranges: &[(RangeInclusive<u16>, &'a Addr)], slot: u32) -> Option<&'a Addr> {
        let i = ranges
            .partition_point(|(r, _)| u32::from(*r.start()) <= slot)
            .checked_sub(1)?;
        let (r, a) = ranges.get(i)?;
        (u32::from(*r.end()) >= slot).then_some(*a)
    }
    // Every slot where an owner may change: both lists' range starts and ends.
    let mut cuts: Vec<u32> = vec![0, u32::from(SLOT_COUNT)];
    for (r, _) in old.iter().chain(&new) {
        cuts.push(u32::from(*r.start()));
        cuts.push(u32::from(*r.end()) + 1);
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2)
        .filter(|w| w[0] < u32::from(SLOT_COUNT) && owner(&old, w[0]) != owner(&new, w[0]))
        .map(|w| (w[1].min(u32::from(SLOT_COUNT)) - w[0]) as usize)
        .sum()
}

/// The topology manager's pure state (see the module docs).
#[derive(Clone, Debug)]
pub struct Topology {
    map: SlotMap,
    gate: RefreshGate,
    seeds: Vec<Addr>,
    version: u64,
    stale: bool,
    /// The slot owners of the last refreshed map (`MOVED`s not applied), to count the
    /// slots a refresh moved.
    refreshed: Vec<(RangeInclusive<u16>, Addr)>,
}

impl Topology {
    /// No map yet (every slot uncovered until the first refresh), starting from `seeds`.
    pub fn new(seeds: Vec<Addr>, config: RefreshConfig) -> Topology {
        Topology {
            map: SlotMap::default(),
            gate: RefreshGate::new(config),
            seeds,
            version: 0,
            stale: true,
            refreshed: Vec::new(),
        }
    }

    /// The current map.
    pub fn map(&self) -> &SlotMap {
        &self.map
    }

    /// The seed addresses the client started from.
    pub fn seeds(&self) -> &[Addr] {
        &self.seeds
    }

    /// The refresh knobs.
    pub fn config(&self) -> &RefreshConfig {
        self.gate.config()
    }

    /// Grows by one each time the map changes (a shell caching anything derived from the
    /// map compares it).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Records a `MOVED`: the slot is served by `addr` from now on. A refresh becomes due
    /// (other slots probably moved too).
    pub fn apply_moved(&mut self, slot: u16, addr: Addr) {
        if self.map.primary_for(slot).map(|n| &n.addr) != Some(&addr) {
            self.map.apply_moved(slot, addr);
            self.version += 1;
        }
        self.stale = true;
    }

    /// Something suggests the map is stale (a connection failure, `CLUSTERDOWN`, a slow
    /// node, ...): a refresh is due, whatever [`trigger`](Self::trigger) answers now.
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Whether a refresh is due at `now`: the map was marked stale, or the periodic refresh
    /// is due. Shells check this before requests (blocking) or on a timer (async) and then
    /// [`trigger`](Self::trigger).
    pub fn is_due(&self, now: Instant) -> bool {
        self.stale || self.gate.next_periodic().is_some_and(|at| now >= at)
    }

    /// Asks the gate for a refresh at `now` (see [`RefreshStep`]); `random` is a fresh
    /// random number. On [`RefreshStep::Start`], refresh and then call
    /// [`apply_refresh`](Self::apply_refresh) or [`refresh_failed`](Self::refresh_failed).
    pub fn trigger(&mut self, now: Instant, random: u64) -> RefreshStep {
        self.stale = true;
        self.gate.trigger(now, random)
    }

    /// True while a refresh runs.
    pub fn is_refreshing(&self) -> bool {
        self.gate.is_running()
    }

    /// Whom to ask, in order: a few known nodes (healthy primaries first, rotated by
    /// `random`), then the seeds; nodes in `avoid` (the node that is too slow right now)
    /// go last.
    pub fn to_ask(&self, random: u64, avoid: &[Addr]) -> Vec<Addr> {
        let mut nodes = nodes_to_ask(
            &self.map,
            &self.seeds,
            self.gate.config().nodes_to_ask,
            random,
        );
        nodes.sort_by_key(|a| avoid.contains(a)); // stable
        nodes
    }

    /// The refresh started by [`RefreshStep::Start`] got these views (one per node that
    /// answered): keep the freshest ([`SlotMap::freshest`]), and say what changed. With no
    /// view at all, the map is kept and the refresh stays due.
    pub fn apply_refresh(&mut self, views: Vec<SlotMap>) -> Applied {
        self.gate.finished();
        let Some(i) = SlotMap::freshest_index(&views) else {
            self.stale = true;
            return Applied::default();
        };
        let Some(fresh) = views.into_iter().nth(i) else {
            self.stale = true;
            return Applied::default();
        };
        self.stale = false;
        let moved_slots = moved_slots(&self.refreshed, &fresh);
        if moved_slots > 0 {
            self.refreshed = fresh
                .assignment()
                .into_iter()
                .map(|(r, a)| (r, a.clone()))
                .collect();
        }
        if fresh == self.map {
            return Applied {
                moved_slots,
                from: Some(i),
                ..Applied::default()
            };
        }
        let left = self
            .map
            .all_nodes()
            .filter(|n| fresh.node(&n.addr).is_none())
            .map(|n| n.addr.clone())
            .collect();
        self.map = fresh;
        self.version += 1;
        Applied {
            changed: true,
            left,
            moved_slots,
            from: Some(i),
        }
    }

    /// The refresh started by [`RefreshStep::Start`] failed (no node answered): it stays due.
    pub fn refresh_failed(&mut self) {
        self.gate.finished();
        self.stale = true;
    }

    /// The failover verdict for `addr` by the current map (see the module docs): true when
    /// the node is gone from the map, marked failed, or — when `as_primary` (the connection
    /// carries writes) — no longer a primary serving slots. Its connections are then to be
    /// aborted.
    pub fn node_failed(&self, addr: &Addr, as_primary: bool) -> bool {
        match self.map.node(addr) {
            None => !self.map.shards().is_empty(),
            Some(node) if !node.healthy => true,
            Some(node) => {
                as_primary
                    && (node.role != NodeRole::Primary
                        || !self.map.assignment().iter().any(|(_, a)| *a == addr))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `moved_slots` slot by slot, as it was first written (a table per side).
    fn moved_slots_by_slot(before: &[(RangeInclusive<u16>, Addr)], after: &SlotMap) -> usize {
        let owners = |ranges: Vec<(RangeInclusive<u16>, Addr)>| {
            let mut out = vec![None; usize::from(SLOT_COUNT)];
            for (r, a) in ranges {
                for slot in r {
                    out[usize::from(slot)] = Some(a.clone());
                }
            }
            out
        };
        let old = owners(before.to_vec());
        let new = owners(
            after
                .assignment()
                .into_iter()
                .map(|(r, a)| (r, a.clone()))
                .collect(),
        );
        old.iter().zip(&new).filter(|(o, n)| o != n).count()
    }

    #[test]
    fn moved_slots_counts_as_slot_by_slot_does() {
        let mut seed = 7u64;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        // Random cuts of the slot space into runs, each run owned by one of 4 nodes or by
        // none, on both sides; and MOVEDs applied on top of the after side.
        let random_ranges = |next: &mut dyn FnMut(u64) -> u64| {
            let mut at = 0u16;
            let mut out = Vec::new();
            while at < SLOT_COUNT {
                let len = 1 + next(3000) as u16;
                let end = at.saturating_add(len - 1).min(SLOT_COUNT - 1);
                let owner = next(5);
                if owner < 4 {
                    out.push((at..=end, a(owner as u16 + 1)));
                }
                at = end + 1;
            }
            out
        };
        for round in 0..200 {
            let before = random_ranges(&mut next);
            let after_ranges = random_ranges(&mut next);
            let shards: Vec<(Vec<RangeInclusive<u16>>, Shard)> = after_ranges
                .into_iter()
                .map(|(r, addr)| {
                    (
                        vec![r],
                        Shard {
                            primary: Node::new(addr, NodeRole::Primary),
                            replicas: vec![],
                        },
                    )
                })
                .collect();
            let mut after = SlotMap::new(shards).unwrap();
            for _ in 0..next(4) {
                after.apply_moved(next(16384) as u16, a(next(4) as u16 + 1));
            }
            assert_eq!(
                moved_slots(&before, &after),
                moved_slots_by_slot(&before, &after),
                "round {round}"
            );
        }
        assert_eq!(moved_slots(&[], &SlotMap::default()), 0);
    }
    use crate::slot_map::{Node, Shard};
    use std::time::Duration;

    fn a(p: u16) -> Addr {
        Addr::tcp("127.0.0.1", p)
    }

    fn node(p: u16, role: NodeRole, healthy: bool) -> Node {
        Node {
            healthy,
            ..Node::new(a(p), role)
        }
    }

    /// Two shards: 0..=8191 on 1 (replica 11), 8192..=16383 on 2 (replica 12).
    fn map(primary1: Node, replicas1: Vec<Node>) -> SlotMap {
        SlotMap::new(vec![
            (
                vec![0..=8191],
                Shard {
                    primary: primary1,
                    replicas: replicas1,
                },
            ),
            (
                vec![8192..=16383],
                Shard {
                    primary: node(2, NodeRole::Primary, true),
                    replicas: vec![node(12, NodeRole::Replica, true)],
                },
            ),
        ])
        .unwrap()
    }

    fn healthy() -> SlotMap {
        map(
            node(1, NodeRole::Primary, true),
            vec![node(11, NodeRole::Replica, true)],
        )
    }

    #[test]
    fn refresh_keeps_the_freshest_view_and_lists_nodes_that_left() {
        let t0 = Instant::now();
        let mut t = Topology::new(vec![a(1)], RefreshConfig::default());
        assert!(t.is_due(t0));
        assert_eq!(t.map().covered_slots(), 0);
        assert_eq!(t.trigger(t0, 0), RefreshStep::Start);
        assert_eq!(t.trigger(t0, 0), RefreshStep::Join);
        let applied = t.apply_refresh(vec![healthy(), healthy()]);
        assert!(applied.changed && applied.left.is_empty());
        assert_eq!(t.version(), 1);
        assert!(!t.is_due(t0));
        assert!(t.is_due(t0 + Duration::from_secs(31)), "periodic");

        // Node 11 was removed.
        let without_11 = map(node(1, NodeRole::Primary, true), vec![]);
        let RefreshStep::Start = t.trigger(t0 + Duration::from_secs(1), 0) else {
            panic!("not started")
        };
        let applied = t.apply_refresh(vec![without_11.clone(), without_11.clone()]);
        assert_eq!(applied.left, vec![a(11)]);
        assert_eq!(t.map(), &without_11);
        assert_eq!(t.version(), 2);

        // Nothing answered: map kept, still due.
        let RefreshStep::Start = t.trigger(t0 + Duration::from_secs(2), 0) else {
            panic!("not started")
        };
        assert_eq!(t.apply_refresh(vec![]), Applied::default());
        assert!(t.is_due(t0 + Duration::from_secs(2)));
        assert_eq!(t.map(), &without_11);
        t.trigger(t0 + Duration::from_secs(3), 0);
        t.refresh_failed();
        assert!(!t.is_refreshing());

        // The same view again: no change.
        let RefreshStep::Start = t.trigger(t0 + Duration::from_secs(4), 0) else {
            panic!("not started")
        };
        assert!(!t.apply_refresh(vec![without_11]).changed);
        assert_eq!(t.version(), 2);
    }

    #[test]
    fn refresh_counts_the_slots_that_changed_owner() {
        let t0 = Instant::now();
        let mut t = Topology::new(vec![a(1)], RefreshConfig::default());
        t.trigger(t0, 0);
        let first = t.apply_refresh(vec![healthy()]);
        assert_eq!((first.moved_slots, first.from), (16384, Some(0)));

        // The same owners again: nothing moved, whatever else changed (a replica left).
        t.trigger(t0 + Duration::from_secs(1), 0);
        let same = t.apply_refresh(vec![map(node(1, NodeRole::Primary, true), vec![])]);
        assert!(same.changed);
        assert_eq!(same.moved_slots, 0);

        // A failover: the replica serves the primary's 8192 slots. The second view, kept
        // by agreement with the third, names the node.
        let promoted = map(
            node(11, NodeRole::Primary, true),
            vec![node(1, NodeRole::Replica, true)],
        );
        t.trigger(t0 + Duration::from_secs(2), 0);
        let failover = t.apply_refresh(vec![healthy(), promoted.clone(), promoted.clone()]);
        assert_eq!((failover.moved_slots, failover.from), (8192, Some(1)));

        // One slot migrated, seen by a MOVED first: the refresh still counts it.
        let mut migrated = promoted.clone();
        migrated.apply_moved(100, a(2));
        t.apply_moved(100, a(2));
        t.trigger(t0 + Duration::from_secs(3), 0);
        let applied = t.apply_refresh(vec![migrated]);
        assert_eq!(applied.moved_slots, 1);
        assert_eq!(t.map().primary_for(100).map(|n| &n.addr), Some(&a(2)));

        // Nothing answered: nothing moved, no view kept.
        t.trigger(t0 + Duration::from_secs(4), 0);
        assert_eq!(t.apply_refresh(vec![]), Applied::default());
    }

    #[test]
    fn moved_slots_counts_slots_served_in_one_map_only() {
        let m = healthy();
        assert_eq!(moved_slots(&[], &m), 16384);
        let before = vec![(0..=8191, a(1)), (8192..=16383, a(2))];
        assert_eq!(moved_slots(&before, &m), 0);
        let before = vec![(0..=99, a(2)), (100..=8191, a(1))];
        assert_eq!(moved_slots(&before, &m), 100 + 8192);
    }

    #[test]
    fn moved_updates_the_map_and_makes_a_refresh_due() {
        let t0 = Instant::now();
        let mut t = Topology::new(vec![a(1)], RefreshConfig::default());
        t.trigger(t0, 0);
        t.apply_refresh(vec![healthy()]);
        t.apply_moved(5, a(2));
        assert_eq!(t.map().primary_for(5).map(|n| &n.addr), Some(&a(2)));
        assert!(t.is_due(t0));
        let v = t.version();
        t.apply_moved(5, a(2)); // already known: same version
        assert_eq!(t.version(), v);
        t.mark_stale();
        assert!(t.is_due(t0));
    }

    #[test]
    fn failover_verdict() {
        let t0 = Instant::now();
        let mut t = Topology::new(vec![a(1)], RefreshConfig::default());
        assert!(!t.node_failed(&a(1), true), "no map yet: no verdict");
        t.trigger(t0, 0);
        t.apply_refresh(vec![healthy()]);
        // Frozen but not yet failed: keep waiting.
        assert!(!t.node_failed(&a(1), true));
        assert!(!t.node_failed(&a(11), false));
        // Marked failed by the cluster (before the promotion).
        t.trigger(t0 + Duration::from_secs(1), 0);
        t.apply_refresh(vec![map(
            node(1, NodeRole::Primary, false),
            vec![node(11, NodeRole::Replica, true)],
        )]);
        assert!(t.node_failed(&a(1), true));
        assert!(t.node_failed(&a(1), false));
        // Promoted replica: the old primary is a replica now (or gone).
        let promoted = map(
            node(11, NodeRole::Primary, true),
            vec![node(1, NodeRole::Replica, true)],
        );
        t.trigger(t0 + Duration::from_secs(2), 0);
        t.apply_refresh(vec![promoted]);
        assert!(t.node_failed(&a(1), true), "demoted: writes must not wait");
        assert!(
            !t.node_failed(&a(1), false),
            "a healthy replica serves reads"
        );
        assert!(!t.node_failed(&a(11), true));
        assert!(t.node_failed(&a(99), false), "not in the map");
        assert!(!t.node_failed(&a(2), true));
    }

    #[test]
    fn slow_nodes_are_asked_last() {
        let t0 = Instant::now();
        let mut t = Topology::new(vec![a(1), a(7)], RefreshConfig::default());
        assert_eq!(t.to_ask(0, &[]), vec![a(1), a(7)]);
        t.trigger(t0, 0);
        t.apply_refresh(vec![healthy()]);
        let asked = t.to_ask(0, &[a(1)]);
        assert_eq!(asked.last(), Some(&a(1)));
        assert!(asked.contains(&a(7)));
        assert_eq!(t.seeds(), &[a(1), a(7)]);
        assert_eq!(t.config().nodes_to_ask, 3);
    }
}
