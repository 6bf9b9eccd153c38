//! Pub/sub connections that follow the cluster: a shard subscription stays on the primary
//! of its slot, a classic one on some primary.
//!
//! A `redis_async::PubSub` reconnects through its client's connection source and then
//! restores every subscription. So a cluster pub/sub is a plain `PubSub` (with
//! `reconnect` on) whose source resolves, at each (re)connection, the node the request
//! flow picks for its target (the slot's primary, or any primary), and keeps the handles
//! that end its connections. After each refresh the topology manager asks every such
//! source whether its connection is still on the right node ([`Follower::follow`]); when
//! the slot moved or the node was failed over, the connection is ended, the `PubSub`
//! reconnects to the new node and resubscribes, and the stream yields a `Resubscribed`
//! notice (messages published in between are lost, as pub/sub loses them for any
//! subscriber that is away). A new connection opened while the old one is alive and on a
//! right node (a RESP2 subscriber moving to new credentials) goes to the same node, so the
//! move loses and repeats nothing.

use std::fmt;
use std::sync::{Mutex, Weak};

use redis_async::{AbortHandle, ConnectionSource, TargetFuture};
use redis_core::{Addr, Error, Target};

use super::nodes::{lock, Trigger};
use super::Shared;
use crate::{RequestTarget, SlotMap};

/// The connection source of one cluster pub/sub (see the module docs).
pub(crate) struct Follower {
    target: RequestTarget,
    shared: Weak<Shared>,
    opened: Mutex<Vec<AbortHandle>>,
}

impl fmt::Debug for Follower {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Follower")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Follower {
    /// A source for `target` (a slot, or any primary).
    pub(crate) fn new(target: RequestTarget, shared: Weak<Shared>) -> Follower {
        Follower {
            target,
            shared,
            opened: Mutex::new(Vec::new()),
        }
    }

    /// Ends the connections that are no longer on a node `map` gives this target.
    pub(crate) fn follow(&self, map: &SlotMap) {
        let mut opened = lock(&self.opened);
        opened.retain(AbortHandle::is_alive);
        for h in opened.iter() {
            let right = match &self.target {
                RequestTarget::Slot(slot) => {
                    map.primary_for(*slot).is_some_and(|n| &n.addr == h.addr())
                }
                _ => map.all_primaries().any(|n| &n.addr == h.addr()),
            };
            if !right {
                h.abort("the subscription's slot moved to another node");
            }
        }
    }
}

impl Follower {
    /// For a subscription on any primary, the node of its live connection while that is
    /// still a primary: a new connection opened while the old one lives (a RESP2
    /// subscriber moving to new credentials) goes to the same node, whose order of
    /// messages is what lets the subscriber move without a gap or a duplicate. Messages
    /// published on other nodes reach two nodes in different orders.
    fn staying(&self, map: &SlotMap) -> Option<Addr> {
        if !matches!(self.target, RequestTarget::AnyPrimary) {
            return None; // a slot's primary is one node already
        }
        lock(&self.opened)
            .iter()
            .filter(|h| h.is_alive())
            .map(|h| h.addr())
            .find(|a| map.all_primaries().any(|n| &n.addr == *a))
            .cloned()
    }
}

impl ConnectionSource for Follower {
    fn target(&self) -> TargetFuture<'_> {
        Box::pin(async move {
            let Some(shared) = self.shared.upgrade() else {
                return Err(Error::Broken("the cluster client was dropped".into()));
            };
            if let Some(addr) = self.staying(&shared.map()) {
                return Ok(Target::cluster_node(&shared.settings.config, addr, false));
            }
            let addr = shared
                .open_on(self.target.clone(), |addr| {
                    Box::pin(async move { Ok(addr) })
                })
                .await?;
            Ok(Target::cluster_node(&shared.settings.config, addr, false))
        })
    }

    fn failed(&self, _addr: &Addr, _error: &Error) {
        if let Some(shared) = self.shared.upgrade() {
            let _ = shared.triggers.send(Trigger::Failed);
        }
    }

    fn opened(&self, _addr: &Addr, abort: AbortHandle) {
        let mut opened = lock(&self.opened);
        opened.retain(AbortHandle::is_alive);
        opened.push(abort);
    }
}
