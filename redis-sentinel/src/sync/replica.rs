//! The connection source of a `replica_for` client: a usable replica, never the primary.
//!
//! The source keeps the usable replicas the sentinels listed last ([`ReplicaSet`]) and
//! picks one per new connection by the client's [`ReadFrom`], as a `ROLE`-checked target
//! (a replica that was promoted meanwhile is refused on connect). A replica a connection
//! failed on is skipped for a while, and the list is asked for again when it may be out of
//! date: after a failure, a replica `+sdown`/`-sdown`, a switch, and periodically. A switch
//! promotes a replica: its connections are aborted at once, since they now reach the
//! primary; connections to replicas the sentinels stopped listing are aborted as well.

use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis_core::{Addr, Config, Error, Msg, Result, Role, SentinelErrorKind, Target};
use redis_sync::{AbortHandle, ConnectionSource};

use super::asker::{lock, Sentinels};
use super::watch::Followed;
use crate::discovery::{Discovery, ReplicaChoice};
use crate::follow::ReplicaSet;
use crate::registry::Registry;
use redis_core::routing::ReadFrom;

/// A stale list is asked for again by the follower thread at most this often.
const STALE_RETRY: Duration = Duration::from_millis(250);

#[derive(Debug)]
pub(crate) struct ReplicaSource {
    sentinels: Arc<Sentinels>,
    service: String,
    tls: bool,
    data: Config,
    read_from: ReadFrom,
    check_interval: Duration,
    follow_count: usize,
    set: Mutex<ReplicaSet>,
    last_refresh: Mutex<Option<Instant>>,
    refreshing: Mutex<()>,
    conns: Registry,
}

impl ReplicaSource {
    pub(crate) fn new(
        sentinels: Arc<Sentinels>,
        service: &str,
        data: Config,
        read_from: ReadFrom,
        check_interval: Duration,
        follow_count: usize,
    ) -> ReplicaSource {
        ReplicaSource {
            sentinels,
            service: service.to_owned(),
            tls: matches!(data.addr, Addr::Tls { .. }),
            data,
            read_from,
            check_interval,
            follow_count,
            set: Mutex::new(ReplicaSet::new()),
            last_refresh: Mutex::new(None),
            refreshing: Mutex::new(()),
            conns: Registry::default(),
        }
    }

    /// Asks the sentinels for the usable replicas (unless another caller just did), and
    /// aborts connections to replicas no longer listed.
    fn refresh(&self) -> Result<()> {
        let _running = lock(&self.refreshing);
        if !lock(&self.set).is_stale() {
            return Ok(());
        }
        *lock(&self.last_refresh) = Some(Instant::now());
        let choice = ReplicaChoice {
            read_from: ReadFrom::Replica,
            ..ReplicaChoice::default()
        };
        let mut discovery =
            Discovery::replica(&self.service, &self.data, self.sentinels.list(), choice);
        let result = self.sentinels.discover(&mut discovery);
        let listed = match &result {
            Ok(_) | Err(Error::Sentinel(SentinelErrorKind::NoUsableReplica { .. })) => {
                discovery.replicas().to_vec()
            }
            Err(_) => {
                // Nobody answered: keep the list we had (the next failure or tick asks
                // again), unless there is none.
                let mut set = lock(&self.set);
                if set.replicas().is_empty() {
                    return result.map(|_| ());
                }
                let kept = set.replicas().to_vec();
                set.set(kept);
                return Ok(());
            }
        };
        lock(&self.set).set(listed.clone());
        self.conns.abort_unless(
            |a| listed.contains(a),
            "the sentinels no longer list this node as a usable replica",
        );
        Ok(())
    }
}

impl ReplicaSource {
    /// Keeps the handle of a new connection; ends it at once if the replica left the
    /// list while it was being opened.
    fn register(&self, addr: &Addr, abort: AbortHandle) {
        self.conns.add(abort.clone());
        if !lock(&self.set).is_current(addr) {
            abort.abort("the sentinels no longer list this node as a usable replica");
        }
    }
}

/// A fresh random number for [`ReadFrom::RandomReplica`] (std's per-instance hash keys).
fn random() -> u64 {
    RandomState::new().hash_one(Instant::now())
}

impl ConnectionSource for ReplicaSource {
    fn target(&self) -> Result<Target> {
        if lock(&self.set).is_stale() {
            self.refresh()?;
        }
        let picked = lock(&self.set).choose(&self.read_from, random(), Instant::now());
        match picked {
            Some(addr) => Ok(Target::resolved(&self.data, addr, Role::Replica)),
            None => Err(Error::Sentinel(SentinelErrorKind::NoUsableReplica {
                service: self.service.clone(),
            })),
        }
    }

    fn is_current(&self, addr: &Addr) -> bool {
        lock(&self.set).is_current(addr)
    }

    fn failed(&self, addr: &Addr, error: &Error) {
        let _ = error;
        lock(&self.set).failed(addr, Instant::now());
    }

    fn opened(&self, addr: &Addr, abort: AbortHandle) {
        self.register(addr, abort);
    }
}

impl Followed for ReplicaSource {
    fn sentinels(&self) -> &Arc<Sentinels> {
        &self.sentinels
    }

    fn follow_count(&self) -> usize {
        self.follow_count
    }

    fn on_event(&self, msg: &Msg) {
        let promoted = lock(&self.set).on_message(&self.service, self.tls, msg);
        if let Ok(Some(primary)) = promoted {
            self.conns.abort_unless(
                |a| a != &primary,
                "the sentinels promoted this replica to primary",
            );
        }
    }

    fn missed(&self) {
        lock(&self.set).mark_stale();
        let _ = self.refresh();
    }

    fn periodic(&self) {
        let since = lock(&self.last_refresh).map(|t| t.elapsed());
        let due = since.is_none_or(|d| d >= self.check_interval);
        let stale = lock(&self.set).is_stale() && since.is_none_or(|d| d >= STALE_RETRY);
        if due || stale {
            lock(&self.set).mark_stale();
            let _ = self.refresh();
        }
    }
}
