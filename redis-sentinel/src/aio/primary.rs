//! The connection source of [`Sentinel::master_for`](super::Sentinel::master_for): the
//! current primary of one service.
//!
//! The shared [`Follower`] holds the primary the sentinels named last; new connections go
//! there without asking the sentinels again, and every other node is "not current", so a
//! managed connection leaves it on its next request. The follower is corrected by the
//! follower task (events, periodic check), and by a check with the sentinels spawned when
//! a connection to the primary fails, a node refuses its role, or a request there waits
//! past the probe interval. A correction that names another node ends every connection
//! the client opened to the old one.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use redis_async::{AbortHandle, Client, ConnectionSource, TargetFuture};
use redis_core::{Addr, Config, ConnectionEvent, Error, Msg, Result, Role, Target};

use super::follower::Followed;
use super::source_core::SourceCore;
use super::{Follow, Sentinels};
use crate::discovery::Discovery;
use crate::follow::{reason_of, Decision, Follower, SLOW_CHECK_GAP};
use crate::registry::lock;

/// The source behind a `master_for` client.
#[derive(Debug)]
pub(crate) struct PrimarySource {
    /// Itself, for the tasks it spawns (they must not keep it alive).
    me: Weak<PrimarySource>,
    core: SourceCore,
    state: Mutex<State>,
    /// Holds the event stream the client made with this source shares: a switch is
    /// reported there (this client opens nothing itself, and holds no reference back to
    /// the source).
    pub(crate) hub: Client,
}

#[derive(Debug)]
struct State {
    follower: Follower,
    /// A connection to the primary failed in a way that says it may have moved: the next
    /// `target()` asks the sentinels before connecting.
    stale: bool,
}

impl PrimarySource {
    pub(crate) fn new(
        sentinels: Arc<Sentinels>,
        service: &str,
        base: Config,
        follow: Follow,
    ) -> Arc<Self> {
        let hub = Client::with_source(base.clone(), Arc::new(base.clone()));
        let core = SourceCore::new(sentinels, base, follow);
        let follower = core.follower(service);
        Arc::new_cyclic(|me| PrimarySource {
            me: me.clone(),
            core,
            state: Mutex::new(State {
                follower,
                stale: false,
            }),
            hub,
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn target_at(&self, addr: &Addr) -> Target {
        Target::resolved(&self.core.base, addr.clone(), Role::Primary)
    }

    /// The primary to connect to without asking, if known and not in doubt.
    fn known(&self) -> Option<Target> {
        let st = self.state();
        match st.follower.primary() {
            Some(addr) if !st.stale => Some(self.target_at(addr)),
            _ => None,
        }
    }

    /// Asks the sentinels now, unless a discovery that started after `seen` already did,
    /// and acts on what they say. Returns the primary to use: the one the shared
    /// [`Follower`] holds afterwards (while the old primary is fenced, the sentinels still
    /// name it, and that answer is not taken).
    async fn check(&self, seen: Instant) -> Result<Target> {
        let _one_at_a_time = self.core.resolving.lock().await;
        let service = {
            let st = self.state();
            if let (true, Some(addr)) = (st.follower.checked_since(seen), st.follower.primary()) {
                return Ok(self.target_at(addr));
            }
            st.follower.service().to_owned()
        };
        let started = Instant::now();
        let found = self
            .core
            .discover(|list| Discovery::primary(&service, &self.core.base, list))
            .await
            .result;
        let (decision, primary) = {
            let mut st = self.state();
            let decision = match &found {
                Ok(target) => {
                    st.stale = false;
                    st.follower.resolved(target.addr().clone(), started)
                }
                Err(_) => {
                    st.follower.check_failed(started);
                    Decision::Unchanged
                }
            };
            (decision, st.follower.primary().cloned())
        };
        self.act(decision);
        self.core.follow(&self.me);
        found?;
        match primary {
            Some(addr) => Ok(self.target_at(&addr)),
            None => Err(Error::InvalidRequest(
                "sentinel discovery named no primary".to_owned(),
            )),
        }
    }

    /// Starts a check in the background (from callbacks that must not block).
    fn spawn_check(&self, seen: Instant) {
        if let Some(me) = self.me.upgrade() {
            tokio::spawn(async move {
                let _ = me.check(seen).await;
            });
        }
    }

    /// On a switch, ends every connection to a node other than the new primary; on an
    /// aborted failover, asks the sentinels again.
    fn act(&self, decision: Decision) {
        match decision {
            Decision::Switch { old, new } => {
                let cause = format!(
                    "the sentinels moved the primary of {:?} from {old} to {new}",
                    self.state().follower.service()
                );
                self.core.end(|addr| addr != &new, &cause);
                self.hub.emit_event(ConnectionEvent::PrimarySwitched {
                    addr: new,
                    previous: Some(old),
                });
            }
            Decision::Recheck => self.spawn_check(Instant::now()),
            Decision::Unchanged | Decision::ReplicasChanged => {}
        }
    }
}

impl Followed for PrimarySource {
    fn on_message(&self, msg: &Msg) {
        let decision = self.state().follower.on_message(msg);
        if let Ok(decision) = decision {
            self.act(decision);
        }
    }

    fn next_check(&self, now: Instant) -> Instant {
        self.state().follower.next_check(now)
    }

    fn tick(self: Arc<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            let _ = self.check(Instant::now()).await;
        })
    }
}

impl ConnectionSource for PrimarySource {
    fn target(&self) -> TargetFuture<'_> {
        Box::pin(async move {
            if let Some(target) = self.known() {
                return Ok(target);
            }
            match self.check(Instant::now()).await {
                Ok(target) => Ok(target),
                // No sentinel answered: the primary they named last is still the best
                // guess (its ROLE is checked on connect).
                Err(e) => match self.state().follower.primary() {
                    Some(addr) => Ok(self.target_at(addr)),
                    None => Err(e),
                },
            }
        })
    }

    fn is_current(&self, addr: &Addr) -> bool {
        self.state().follower.is_current(addr)
    }

    fn failed(&self, addr: &Addr, error: &Error) {
        if reason_of(error).is_none() {
            return;
        }
        {
            let mut st = self.state();
            if !st.follower.is_current(addr) {
                return;
            }
            st.stale = true;
        }
        self.spawn_check(Instant::now());
    }

    fn opened(&self, addr: &Addr, abort: AbortHandle) {
        self.core.opened(abort, || self.is_current(addr));
    }

    fn slow(&self, addr: &Addr, waited: Duration) {
        let _ = waited;
        if self.state().follower.is_current(addr) {
            let now = Instant::now();
            self.spawn_check(now.checked_sub(SLOW_CHECK_GAP).unwrap_or(now));
        }
    }
}
