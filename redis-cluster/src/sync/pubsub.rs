//! Pub/sub across a cluster: channels and patterns on one node, shard channels on the
//! primary of their slot, following the slot when it moves.
//!
//! `PUBLISH`/`SUBSCRIBE` messages reach every node of a cluster, so channel and pattern
//! subscriptions live on one connection to any primary. A shard channel (`SSUBSCRIBE`,
//! Redis 7) lives on the node serving its slot: [`ClusterPubSub`] keeps one subscribed
//! connection per node it needs, and moves a shard subscription when the map shows its
//! slot served elsewhere (a migration or a failover; the old node ends such a
//! subscription with a `sunsubscribe` push). While it holds shard subscriptions it asks
//! for a map refresh every [`ClusterPubSub::set_follow_interval`] (1 s by default; the
//! client's refresh gate rate-limits and coalesces them with every other trigger), and a
//! node connection that fails is replaced and resubscribed. Messages published while a
//! subscription moves are lost, as pub/sub always loses them for a subscriber that is not
//! there.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_core::{Addr, ClusterErrorKind, Error, Msg, Result, ToArgs};
use redis_sync::PubSub;

use super::client::Shared;

/// How long one node is polled before the next is (when several are subscribed).
const POLL_SLICE: Duration = Duration::from_millis(5);

/// A subscriber for a whole cluster (see the module docs). Made by
/// [`ClusterClient::get_pubsub`](super::ClusterClient::get_pubsub).
pub struct ClusterPubSub {
    shared: Arc<Shared>,
    /// Channels and patterns: one connection to one primary.
    global: Option<PubSub>,
    /// Shard channels: one connection per node serving some of them.
    nodes: HashMap<Addr, PubSub>,
    /// Each shard channel and the node it is subscribed on.
    shard: HashMap<Vec<u8>, Addr>,
    queued: VecDeque<Msg>,
    follow_every: Duration,
    last_follow: Instant,
    next_poll: usize,
}

impl std::fmt::Debug for ClusterPubSub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterPubSub")
            .field("nodes", &self.nodes.keys().collect::<Vec<_>>())
            .field("shard_channels", &self.shard.len())
            .finish_non_exhaustive()
    }
}

impl ClusterPubSub {
    pub(crate) fn new(shared: Arc<Shared>) -> ClusterPubSub {
        ClusterPubSub {
            shared,
            global: None,
            nodes: HashMap::new(),
            shard: HashMap::new(),
            queued: VecDeque::new(),
            follow_every: Duration::from_secs(1),
            last_follow: Instant::now(),
            next_poll: 0,
        }
    }

    /// How often, while shard channels are subscribed, the map is checked for their
    /// slots having moved (default 1 s).
    pub fn set_follow_interval(&mut self, every: Duration) {
        self.follow_every = every;
    }

    fn global(&mut self) -> Result<&mut PubSub> {
        if self.global.is_none() {
            let map = self.shared.snapshot();
            let addr = map
                .all_primaries()
                .next()
                .map(|n| n.addr.clone())
                .ok_or(Error::Cluster(ClusterErrorKind::SlotNotCovered { slot: 0 }))?;
            let ps = self.shared.node_client(&addr, false).get_pubsub()?;
            self.global = Some(ps);
        }
        self.global
            .as_mut()
            .ok_or_else(|| Error::Broken("no pub/sub connection".into()))
    }

    /// Subscribes to channel(s) (messages from `PUBLISH` on any node) and waits for the
    /// confirmations.
    pub fn subscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.global()?.subscribe(channels)
    }

    /// Subscribes to pattern(s) and waits for the confirmations.
    pub fn psubscribe<T: ToArgs>(&mut self, patterns: T) -> Result<()> {
        self.global()?.psubscribe(patterns)
    }

    /// Unsubscribes from channel(s) (all when given an empty list).
    pub fn unsubscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.global()?.unsubscribe(channels)
    }

    /// Unsubscribes from pattern(s) (all when given an empty list).
    pub fn punsubscribe<T: ToArgs>(&mut self, patterns: T) -> Result<()> {
        self.global()?.punsubscribe(patterns)
    }

    /// Subscribes to shard channel(s), each on the primary serving its slot, and waits
    /// for the confirmations.
    pub fn ssubscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        for channel in channels.to_arg_vec() {
            let addr = self.owner(&channel)?;
            self.node(&addr)?.ssubscribe(&channel[..])?;
            self.shard.insert(channel, addr);
        }
        Ok(())
    }

    /// Unsubscribes from shard channel(s).
    pub fn sunsubscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        for channel in channels.to_arg_vec() {
            if let Some(addr) = self.shard.remove(&channel) {
                if let Some(ps) = self.nodes.get_mut(&addr) {
                    match ps.sunsubscribe(&channel[..]) {
                        // The slot moved: the node already ended the subscription.
                        Err(e) if !e.is_redirect() => return Err(e),
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// The primary serving `channel`'s slot, waiting (bounded) for coverage.
    fn owner(&self, channel: &[u8]) -> Result<Addr> {
        let slot = crate::slot(channel);
        let deadline = Instant::now() + self.shared.policy.coverage_wait;
        loop {
            let map = self.shared.snapshot();
            match self.shared.with_env(&map, |env| env.pick(slot, true)) {
                Ok(addr) => return Ok(addr),
                Err(kind) if Instant::now() >= deadline => return Err(Error::Cluster(kind)),
                Err(_) => {
                    let _ = self.shared.refresh(&[], true);
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    fn node(&mut self, addr: &Addr) -> Result<&mut PubSub> {
        if !self.nodes.contains_key(addr) {
            let ps = self.shared.node_client(addr, false).get_pubsub()?;
            self.nodes.insert(addr.clone(), ps);
        }
        self.nodes
            .get_mut(addr)
            .ok_or_else(|| Error::Broken("no pub/sub connection".into()))
    }

    /// Moves shard subscriptions whose slot is now served by another node, and replaces
    /// node connections that failed.
    fn follow(&mut self) -> Result<()> {
        if self.shard.is_empty() {
            return Ok(());
        }
        if self.last_follow.elapsed() >= self.follow_every {
            self.last_follow = Instant::now();
            let _ = self.shared.refresh(&[], false);
        }
        let moved: Vec<(Vec<u8>, Addr)> = self
            .shard
            .iter()
            .filter(|(c, addr)| self.owner_now(c).is_some_and(|now| now != **addr))
            .map(|(c, a)| (c.clone(), a.clone()))
            .collect();
        for (channel, old) in moved {
            // The old node ended the subscription itself (`sunsubscribe` push) when it
            // lost the slot; an SUNSUBSCRIBE now would only be answered with MOVED.
            self.shard.remove(&channel);
            if !self.shard.values().any(|a| *a == old) {
                self.nodes.remove(&old);
            }
            self.ssubscribe(&channel[..])?;
        }
        Ok(())
    }

    fn owner_now(&self, channel: &[u8]) -> Option<Addr> {
        let map = self.shared.snapshot();
        map.primary_for(crate::slot(channel))
            .filter(|n| n.healthy)
            .map(|n| n.addr.clone())
    }

    /// A node connection failed: forget it, and subscribe its shard channels again
    /// where their slots are served now.
    fn replace(&mut self, addr: &Addr) -> Result<()> {
        self.nodes.remove(addr);
        self.shared.node_failed(addr);
        let lost: Vec<Vec<u8>> = self
            .shard
            .iter()
            .filter(|(_, a)| *a == addr)
            .map(|(c, _)| c.clone())
            .collect();
        for channel in lost {
            self.shard.remove(&channel);
            self.ssubscribe(&channel[..])?;
        }
        Ok(())
    }

    /// Waits up to `timeout` for the next message from any subscribed node; `Ok(None)`
    /// when none came.
    pub fn get_message(&mut self, timeout: Duration) -> Result<Option<Msg>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(m) = self.queued.pop_front() {
                return Ok(Some(m));
            }
            self.follow()?;
            let mut addrs: Vec<Option<Addr>> = self.nodes.keys().cloned().map(Some).collect();
            if self.global.is_some() {
                addrs.push(None);
            }
            if addrs.is_empty() {
                return Err(Error::InvalidRequest(
                    "get_message: nothing is subscribed".into(),
                ));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let slice = if addrs.len() == 1 {
                left.min(self.follow_every)
            } else {
                left.min(POLL_SLICE)
            };
            self.next_poll = self.next_poll.wrapping_add(1);
            let which = addrs.swap_remove(self.next_poll % addrs.len());
            let got = match &which {
                Some(addr) => match self.nodes.get_mut(addr) {
                    Some(ps) => ps.get_message(slice),
                    None => Ok(None),
                },
                None => match self.global.as_mut() {
                    Some(ps) => ps.get_message(slice),
                    None => Ok(None),
                },
            };
            match got {
                Ok(Some(m)) => return Ok(Some(m)),
                Ok(None) => {}
                Err(e) if e.is_connection_dropped() => match &which {
                    Some(addr) => self.replace(addr)?,
                    None => return Err(e),
                },
                // A late answer from a node that lost a slot: the subscription has moved.
                Err(e) if e.is_redirect() => {}
                Err(e) => return Err(e),
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }
}
