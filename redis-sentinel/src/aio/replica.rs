//! The connection source of [`Sentinel::replica_for`](super::Sentinel::replica_for): a
//! usable replica of one service for each new connection.
//!
//! The usable replicas, the choice among them and what sentinel events mean for them are
//! the shared [`ReplicaSet`]'s (it never names the primary, whatever the read policy); the
//! shared [`Follower`] tracks the primary, to keep reads off it, and the check schedule. The list is discovered again when it is stale:
//! a replica failed, a replica went down or came back (`+sdown` / `-sdown`), the primary
//! moved, a request waited past the probe interval, or the periodic check is due. After
//! each discovery, connections to a node that is no longer a usable replica (down, cut off
//! from its primary, or promoted) are ended.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use redis_async::{AbortHandle, ConnectionSource, TargetFuture};
use redis_core::routing::ReadFrom;
use redis_core::{Addr, Config, Error, Msg, Result, Role, SentinelErrorKind, Target};

use super::follower::Followed;
use super::source_core::SourceCore;
use super::{Follow, Sentinels};
use crate::discovery::{Discovery, ReplicaChoice};
use crate::follow::{Follower, ReplicaSet, SLOW_CHECK_GAP};
use crate::registry::lock;

/// The source behind a `replica_for` client.
#[derive(Debug)]
pub(crate) struct ReplicaSource {
    /// Itself, for the tasks it spawns (they must not keep it alive).
    me: Weak<ReplicaSource>,
    core: SourceCore,
    read_from: ReadFrom,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The primary, to keep reads off it.
    follower: Follower,
    replicas: ReplicaSet,
}

impl ReplicaSource {
    pub(crate) fn new(
        sentinels: Arc<Sentinels>,
        service: &str,
        base: Config,
        read_from: ReadFrom,
        follow: Follow,
    ) -> Arc<Self> {
        let core = SourceCore::new(sentinels, base, follow);
        let follower = core.follower(service);
        Arc::new_cyclic(|me| ReplicaSource {
            me: me.clone(),
            core,
            read_from,
            state: Mutex::new(State {
                follower,
                replicas: ReplicaSet::new(),
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Asks the sentinels for the primary and the usable replicas, unless the list is
    /// fresh and a discovery started after `seen` already did; then ends the connections
    /// to nodes that are no longer usable replicas.
    async fn refresh(&self, seen: Instant) -> Result<()> {
        let _one_at_a_time = self.core.resolving.lock().await;
        let service = {
            let st = self.state();
            if !st.replicas.is_stale() && st.follower.checked_since(seen) {
                return Ok(());
            }
            st.follower.service().to_owned()
        };
        let started = Instant::now();
        // The default choice reads from the primary: the target is the primary itself,
        // and the usable replicas come along.
        let found = self
            .core
            .discover(|list| {
                Discovery::replica(&service, &self.core.base, list, ReplicaChoice::default())
            })
            .await;
        self.core.follow(&self.me);
        let primary = match found.result {
            Ok(target) => target.addr().clone(),
            Err(e) => {
                self.state().follower.check_failed(started);
                return Err(e);
            }
        };
        {
            let mut st = self.state();
            st.follower.resolved(primary, started);
            st.replicas.set(found.replicas);
        }
        self.end_unusable();
        Ok(())
    }

    /// Ends every connection to a node that is not a usable replica now.
    fn end_unusable(&self) {
        let cause = format!(
            "the sentinels no longer name this node a usable replica of {:?}",
            self.state().follower.service()
        );
        self.core.end(|addr| !self.is_current(addr), &cause);
    }

    /// Refreshes the list in the background, unless it is fresh and a discovery started
    /// after `seen`.
    fn spawn_refresh(&self, seen: Instant) {
        if let Some(me) = self.me.upgrade() {
            tokio::spawn(async move {
                let _ = me.refresh(seen).await;
            });
        }
    }

    /// The replica for the next connection.
    fn choose(&self) -> Result<Target> {
        let mut st = self.state();
        let random = rand::random::<u64>();
        match st.replicas.choose(&self.read_from, random, Instant::now()) {
            Some(addr) => Ok(Target::resolved(&self.core.base, addr, Role::Replica)),
            None => Err(Error::Sentinel(SentinelErrorKind::NoUsableReplica {
                service: st.follower.service().to_owned(),
            })),
        }
    }
}

impl Followed for ReplicaSource {
    fn on_message(&self, msg: &Msg) {
        let (promoted, stale) = {
            let mut guard = self.state();
            let st = &mut *guard;
            let promoted = (st.replicas).on_message(st.follower.service(), self.core.tls(), msg);
            (promoted, st.replicas.is_stale())
        };
        // A promoted replica is the primary now: no more reads there.
        if let Ok(Some(new)) = &promoted {
            let cause = format!("{new} was promoted to primary");
            self.core.end(|addr| addr == new, &cause);
        }
        if stale {
            self.spawn_refresh(Instant::now());
        }
    }

    fn next_check(&self, now: Instant) -> Instant {
        self.state().follower.next_check(now)
    }

    fn tick(self: Arc<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            self.state().replicas.mark_stale();
            let _ = self.refresh(Instant::now()).await;
        })
    }
}

impl ConnectionSource for ReplicaSource {
    fn target(&self) -> TargetFuture<'_> {
        Box::pin(async move {
            let seen = Instant::now();
            if self.state().replicas.is_stale() {
                if let Err(e) = self.refresh(seen).await {
                    // No sentinel answered: the replicas they listed last may still serve
                    // (each is checked with ROLE on connect).
                    return self.choose().map_err(|_| e);
                }
            }
            self.choose()
        })
    }

    fn is_current(&self, addr: &Addr) -> bool {
        let st = self.state();
        st.replicas.is_current(addr) && !st.follower.is_current(addr)
    }

    fn failed(&self, addr: &Addr, error: &Error) {
        let _ = error;
        self.state().replicas.failed(addr, Instant::now());
    }

    fn opened(&self, addr: &Addr, abort: AbortHandle) {
        self.core.opened(abort, || self.is_current(addr));
    }

    fn slow(&self, addr: &Addr, waited: Duration) {
        let _ = (addr, waited);
        let now = Instant::now();
        self.spawn_refresh(now.checked_sub(SLOW_CHECK_GAP).unwrap_or(now));
    }
}
