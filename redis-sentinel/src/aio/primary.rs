//! The connection source of [`Sentinel::master_for`](super::Sentinel::master_for): the
//! current primary of one service.
//!
//! It caches the primary the sentinels named, so new connections do not ask them each
//! time, and says any other node is no longer current. The cache is corrected by the
//! follower (events and the periodic check), by a check spawned
//! when a connection to the primary fails or a request there waits too long, and by the
//! next discovery after a node refused its role. A correction that names another node
//! ends every connection the client opened to the old one.

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use redis_async::{ConnectionSource, TargetFuture};
use redis_core::{Addr, Config, Error, Role, Target};

use super::Sentinels;
use crate::discovery::Discovery;

/// The source behind a `master_for` client.
#[derive(Debug)]
pub(crate) struct PrimarySource {
    /// Itself, for the tasks it spawns (they must not keep it alive).
    me: Weak<PrimarySource>,
    sentinels: Arc<Sentinels>,
    service: String,
    base: Config,
    state: Mutex<State>,
    /// One discovery at a time: callers that find the cache empty wait for the first one.
    resolving: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    /// The primary the sentinels named last.
    primary: Option<Addr>,
    /// The next `target()` asks the sentinels again (a connection there failed).
    stale: bool,
    /// A spawned check with the sentinels is running.
    checking: bool,
}

impl PrimarySource {
    pub(crate) fn new(sentinels: Arc<Sentinels>, service: &str, base: Config) -> Arc<Self> {
        Arc::new_cyclic(|me| PrimarySource {
            me: me.clone(),
            sentinels,
            service: service.to_owned(),
            base,
            state: Mutex::new(State::default()),
            resolving: tokio::sync::Mutex::new(()),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every critical section is a few assignments: a poisoned lock is still whole.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached primary, unless it must be asked again.
    fn cached(&self) -> Option<Addr> {
        let st = self.state();
        if st.stale {
            return None;
        }
        st.primary.clone()
    }

    /// Asks the sentinels for the primary now.
    async fn discover(&self) -> redis_core::Result<Target> {
        self.sentinels
            .discover(|list| Discovery::primary(&self.service, &self.base, list))
            .await
    }

    /// The sentinels name `new` as the primary: remember it, and if it is another node
    /// than before, end every connection to the old one.
    fn learned(&self, new: &Addr) {
        let mut st = self.state();
        st.stale = false;
        if st.primary.as_ref() == Some(new) {
            return;
        }
        st.primary = Some(new.clone());
    }

    /// Starts a check with the sentinels in the background, unless one is running.
    pub(crate) fn spawn_check(&self) {
        {
            let mut st = self.state();
            if st.checking {
                return;
            }
            st.checking = true;
        }
        let me = self.me.clone();
        tokio::spawn(async move {
            let Some(source) = me.upgrade() else { return };
            let found = source.discover().await;
            if let Ok(target) = &found {
                source.learned(target.addr());
            }
            source.state().checking = false;
        });
    }
}

impl ConnectionSource for PrimarySource {
    fn target(&self) -> TargetFuture<'_> {
        Box::pin(async move {
            if let Some(addr) = self.cached() {
                return Ok(Target::resolved(&self.base, addr, Role::Primary));
            }
            let _one_at_a_time = self.resolving.lock().await;
            if let Some(addr) = self.cached() {
                return Ok(Target::resolved(&self.base, addr, Role::Primary));
            }
            let target = self.discover().await?;
            self.learned(target.addr());
            Ok(target)
        })
    }

    fn is_current(&self, addr: &Addr) -> bool {
        self.state().primary.as_ref() == Some(addr)
    }

    fn failed(&self, addr: &Addr, error: &Error) {
        let _ = error;
        let ours = {
            let mut st = self.state();
            let ours = st.primary.as_ref() == Some(addr);
            st.stale |= ours;
            ours
        };
        if ours {
            self.spawn_check();
        }
    }
}
