//! What the primary and the replica sources share: the sentinels, the data nodes' base
//! config, the connections the client opened, the follower task, and the lock that keeps
//! discoveries one at a time.

use std::sync::{Arc, Mutex, Weak};

use redis_async::AbortHandle;
use redis_core::{Addr, Config};

use super::discover::Discovered;
use super::follower::{self, Followed};
use super::{Follow, Sentinels};
use crate::discovery::Discovery;
use crate::follow::Follower;
use crate::registry::{lock, Registry};
use crate::sentinels::SentinelList;

/// The shared half of a Sentinel connection source.
#[derive(Debug)]
pub(crate) struct SourceCore {
    sentinels: Arc<Sentinels>,
    /// The data nodes' config; each target swaps its address in.
    pub(crate) base: Config,
    pub(crate) follow: Follow,
    conns: Registry,
    /// The follower task, once started.
    task: Mutex<Option<tokio::task::AbortHandle>>,
    /// One discovery at a time: a caller or check that needs one while another runs waits
    /// for it and then uses its answer.
    pub(crate) resolving: tokio::sync::Mutex<()>,
}

impl SourceCore {
    pub(crate) fn new(sentinels: Arc<Sentinels>, base: Config, follow: Follow) -> SourceCore {
        SourceCore {
            sentinels,
            base,
            follow,
            conns: Registry::default(),
            task: Mutex::new(None),
            resolving: tokio::sync::Mutex::new(()),
        }
    }

    /// A follower of `service`, checking with the sentinels at this client's interval.
    pub(crate) fn follower(&self, service: &str) -> Follower {
        Follower::new(service, self.tls()).with_check_interval(self.follow.check_interval)
    }

    /// True when the data nodes are reached over TLS.
    pub(crate) fn tls(&self) -> bool {
        matches!(self.base.addr, Addr::Tls { .. })
    }

    /// Runs one discovery made by `make` (see [`Sentinels::discover`]).
    pub(crate) async fn discover(
        &self,
        make: impl FnOnce(SentinelList) -> Discovery,
    ) -> Discovered {
        self.sentinels.discover(make).await
    }

    /// Remembers a connection the client opened, and ends it at once unless `current()`
    /// (its node was replaced while it was being opened).
    pub(crate) fn opened(&self, abort: AbortHandle, current: impl FnOnce() -> bool) {
        let cause = "the sentinels no longer name this node for this client";
        self.conns.add_checked(abort, current, cause);
    }

    /// Ends every open connection to a node `end` selects, with `cause`.
    pub(crate) fn end(&self, end: impl Fn(&Addr) -> bool, cause: &str) {
        self.conns.abort_unless(|addr| !end(addr), cause);
    }

    /// Starts the follower task of `source` once (from inside the runtime).
    pub(crate) fn follow<S: Followed>(&self, source: &Weak<S>) {
        let mut task = lock(&self.task);
        if task.is_none() {
            *task = Some(follower::start(
                source.clone(),
                self.sentinels.clone(),
                self.follow.sentinels,
            ));
        }
    }
}

impl Drop for SourceCore {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }
}
