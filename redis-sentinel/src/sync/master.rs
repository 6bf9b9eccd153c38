//! The connection source of a `master_for` client: always the current primary.
//!
//! The source keeps the primary the sentinels named last ([`Follower`]) and hands it out as
//! a `ROLE`-checked target. It re-resolves (asks the sentinels again) when a connection
//! fails, when a request waits past the probe interval, on `READONLY` or a role mismatch,
//! after a missed subscription and periodically; the follower thread applies the
//! sentinels' `+switch-master` as it arrives. A switch aborts every connection to the old
//! primary, and [`is_current`](ConnectionSource::is_current) is false for any address but
//! the current primary, so pools drop what is left and nothing is written there again.
//!
//! Re-discoveries are serialized, and a caller whose trouble began before a check started
//! takes that check's answer instead of asking again, so 64 threads failing at once cost
//! one round of questions to the sentinels.

use std::sync::{Arc, Mutex, TryLockError};
use std::time::{Duration, Instant};

use redis_core::{Addr, Config, ConnectionEvent, Error, Msg, Result, Role, Target};
use redis_sync::{AbortHandle, Client, ConnectionSource};

use super::asker::{lock, Sentinels};
use super::watch::Followed;
use crate::discovery::Discovery;
use crate::follow::{reason_of, Decision, Follower, SLOW_CHECK_GAP};
use crate::registry::Registry;

#[derive(Debug)]
pub(crate) struct MasterSource {
    sentinels: Arc<Sentinels>,
    service: String,
    data: Config,
    follow_count: usize,
    follower: Mutex<Follower>,
    checking: Mutex<()>,
    conns: Registry,
    /// Holds the event callbacks the client made with this source shares: a switch is
    /// reported there (this client opens nothing itself, and holds no reference back to
    /// the source).
    pub(crate) hub: Client,
}

impl MasterSource {
    pub(crate) fn new(
        sentinels: Arc<Sentinels>,
        service: &str,
        data: Config,
        check_interval: Duration,
        follow_count: usize,
    ) -> MasterSource {
        let tls = matches!(data.addr, Addr::Tls { .. });
        MasterSource {
            sentinels,
            service: service.to_owned(),
            follow_count,
            follower: Mutex::new(Follower::new(service, tls).with_check_interval(check_interval)),
            checking: Mutex::new(()),
            conns: Registry::default(),
            hub: Client::with_source(data.clone(), Arc::new(data.clone())),
            data,
        }
    }

    /// Asks the sentinels again unless a check started at or after `seen`. With `wait`,
    /// waits for a check already running (and usually takes its answer); without, leaves
    /// it to that check.
    fn recheck(&self, seen: Instant, wait: bool) -> Result<()> {
        let _running = if wait {
            lock(&self.checking)
        } else {
            match self.checking.try_lock() {
                Ok(g) => g,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => return Ok(()),
            }
        };
        if lock(&self.follower).checked_since(seen) {
            return Ok(());
        }
        let started = Instant::now();
        let mut discovery = Discovery::primary(&self.service, &self.data, self.sentinels.list());
        match self.sentinels.discover(&mut discovery) {
            Ok(target) => {
                let decision = lock(&self.follower).resolved(target.addr().clone(), started);
                self.apply(decision);
                Ok(())
            }
            Err(e) => {
                lock(&self.follower).check_failed(started);
                Err(e)
            }
        }
    }

    /// Acts on a decision: after a switch, every connection to another node than the new
    /// primary is aborted; after an aborted failover, the sentinels are asked again.
    fn apply(&self, decision: Decision) {
        match decision {
            Decision::Switch { old, new } => {
                let cause = format!(
                    "the sentinels are moving the primary of {:?} from {old} to {new}",
                    self.service
                );
                self.conns.abort_unless(|a| a == &new, &cause);
                self.hub.emit_event(ConnectionEvent::PrimarySwitched {
                    addr: new,
                    previous: Some(old),
                });
            }
            Decision::Recheck => {
                let _ = self.recheck(Instant::now(), false);
            }
            Decision::Unchanged | Decision::ReplicasChanged => {}
        }
    }

    /// Keeps the handle of a new connection; ends it at once if the primary moved while
    /// it was being opened.
    fn register(&self, addr: &Addr, abort: AbortHandle) {
        self.conns.add_checked(
            abort,
            || lock(&self.follower).is_current(addr),
            "the sentinels no longer name this node as the primary",
        );
    }

    /// A request has waited past the probe interval: ask the sentinels, unless a check
    /// is running or ran a moment ago. A switch found aborts the waiting request too.
    fn probe(&self) {
        let now = Instant::now();
        let seen = now.checked_sub(SLOW_CHECK_GAP).unwrap_or(now);
        let _ = self.recheck(seen, false);
    }

    fn current(&self) -> Option<Addr> {
        lock(&self.follower).primary().cloned()
    }
}

impl ConnectionSource for MasterSource {
    fn target(&self) -> Result<Target> {
        if let Some(primary) = self.current() {
            return Ok(Target::resolved(&self.data, primary, Role::Primary));
        }
        self.recheck(Instant::now(), true)?;
        match self.current() {
            Some(primary) => Ok(Target::resolved(&self.data, primary, Role::Primary)),
            // Another caller's check failed just before ours would have started.
            None => self.recheck(Instant::now(), true).and_then(|()| {
                self.current()
                    .map(|p| Target::resolved(&self.data, p, Role::Primary))
                    .ok_or_else(|| Error::Broken("no primary resolved".to_owned()))
            }),
        }
    }

    fn is_current(&self, addr: &Addr) -> bool {
        lock(&self.follower).is_current(addr)
    }

    fn failed(&self, addr: &Addr, error: &Error) {
        let _ = addr;
        if reason_of(error).is_some() {
            let _ = self.recheck(Instant::now(), true);
        }
    }

    fn opened(&self, addr: &Addr, abort: AbortHandle) {
        self.register(addr, abort);
    }

    fn slow(&self, addr: &Addr, waited: Duration) {
        let _ = (addr, waited);
        self.probe();
    }
}

impl Followed for MasterSource {
    fn sentinels(&self) -> &Arc<Sentinels> {
        &self.sentinels
    }

    fn follow_count(&self) -> usize {
        self.follow_count
    }

    fn on_event(&self, msg: &Msg) {
        let decision = lock(&self.follower).on_message(msg);
        if let Ok(decision) = decision {
            self.apply(decision);
        }
    }

    fn missed(&self) {
        let _ = self.recheck(Instant::now(), false);
    }

    fn periodic(&self) {
        let now = Instant::now();
        if lock(&self.follower).check_due(now) {
            let _ = self.recheck(now, false);
        }
    }
}
