//! Following a service after discovery: the decisions, without I/O.
//!
//! Discovery answers "where is the primary now"; a client must also notice when that
//! answer changes, and stop writing to a node the sentinels no longer name. A long-lived
//! connection to a primary that was frozen and came back keeps accepting writes until the
//! sentinels demote it (about ten seconds later), and every one of those writes is lost.
//! So a client follows the sentinels:
//!
//! - it subscribes to `+switch-master`, `+sdown` and `-sdown` on at least two sentinels
//!   ([`sentinels_to_follow`]), so one dead or partitioned sentinel does not hide a switch;
//! - a `+switch-master` for its service is a [`Decision::Switch`]: the new primary is used
//!   from now on, and every connection to the old one is closed and never written again;
//! - so is a `+selected-slave` (the leading sentinel picked the replica it promotes next):
//!   once the replica leaves the old primary, everything the old primary acknowledges is
//!   lost, and `+switch-master` only comes about a second later (measured: thousands of
//!   acknowledged writes lost under a graceful failover when following `+switch-master`
//!   alone). The old primary is then *fenced*: a re-discovery that still names it (the
//!   sentinels do until the switch) does not bring it back, until `+switch-master`, a
//!   `-failover-abort-*` ([`Decision::Recheck`]) or the fence timeout;
//! - an `+sdown` / `-sdown` of one of its replicas is [`Decision::ReplicasChanged`];
//! - a sign that the primary may have moved (a `READONLY` reply, a `ROLE` mismatch, a lost
//!   connection, a request outstanding past the probe interval, or the periodic check in
//!   case every event was missed) asks for a re-discovery ([`Reason`]), and the address it
//!   finds goes through [`Follower::resolved`], which again gives a switch or nothing.
//!
//! [`Follower`] holds one service's current primary and when it was last checked; both
//! shells keep one per `master_for` client behind a lock and act on its decisions (the
//! blocking one from a follower thread and the calling threads, the async one from a task).
//! [`ReplicaSet`] does the same for `replica_for`: the usable replicas, the ones that
//! failed recently, and the choice among them, which never falls back to the primary.
//! Time is passed in (`now`), so the tests drive every decision without sleeping.

use std::time::{Duration, Instant};

use redis_core::routing::{Choice, NodeStats, ReadFrom};
use redis_core::{Addr, Error, Msg, Result, ServerErrorKind};

use crate::replies::{parse_message, Event};
use crate::sentinels::SentinelList;

/// How often a follower re-checks with the sentinels when it heard nothing (in case every
/// event was missed): a few seconds.
pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(3);

/// How many sentinels a follower subscribes to, at least (fewer only when fewer exist).
pub const MIN_FOLLOWED_SENTINELS: usize = 2;

/// How long a replica that failed is skipped by [`ReplicaSet::choose`] (unless no other
/// replica is left), so reads do not keep hitting a dead node between two discoveries.
pub const DEFAULT_REPLICA_PENALTY: Duration = Duration::from_secs(5);

/// A request waiting past the probe interval asks the sentinels only if no check started
/// within this long: a frozen node makes every waiting request report, and one question
/// answers them all.
pub const SLOW_CHECK_GAP: Duration = Duration::from_millis(250);

/// How long an old primary stays fenced after `+selected-slave` if neither the switch nor
/// an abort is heard (a failover that died silently): then the sentinels' answer wins again.
pub const DEFAULT_FENCE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a re-discovery is wanted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The node refused a write with `READONLY`: it is a replica now.
    ReadOnly,
    /// A node named as primary reported another role on connect.
    RoleMismatch,
    /// A connection to the node failed (refused, reset, timed out, broken).
    ConnectionLost,
    /// A request has waited past the probe interval (the node may be frozen).
    Slow,
    /// The periodic check is due.
    Tick,
}

/// What a shell does after an event or a re-discovery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing changed for this service.
    Unchanged,
    /// The primary moved: connect to `new` from now on, and close every connection to
    /// `old` (idle, in flight, pub/sub); `old` is never written to again.
    Switch {
        /// The primary before (the one this client used).
        old: Addr,
        /// The primary now.
        new: Addr,
    },
    /// A replica of this service went down or came back: refresh the replica list.
    ReplicasChanged,
    /// A failover was given up: ask the sentinels now (the primary may be the old one
    /// again).
    Recheck,
}

/// The sentinels to subscribe to, in addition to `have` (those already followed): the first
/// ones of `list`'s order not followed yet, so that at least `want` (and at least
/// [`MIN_FOLLOWED_SENTINELS`]) are followed, or every sentinel when fewer exist.
pub fn sentinels_to_follow(list: &SentinelList, have: &[Addr], want: usize) -> Vec<Addr> {
    let want = want.max(MIN_FOLLOWED_SENTINELS);
    let missing = want.saturating_sub(have.len());
    list.order()
        .iter()
        .filter(|a| !have.contains(a))
        .take(missing)
        .cloned()
        .collect()
}

/// The sign an error gives that the primary may have moved, if any: `READONLY` (the node
/// was demoted), a role mismatch on connect, or a lost connection.
pub fn reason_of(error: &Error) -> Option<Reason> {
    match error.cause() {
        e if e.server_kind() == Some(&ServerErrorKind::ReadOnly) => Some(Reason::ReadOnly),
        Error::RoleMismatch { .. } => Some(Reason::RoleMismatch),
        e if e.is_connection_dropped() => Some(Reason::ConnectionLost),
        _ => None,
    }
}

/// One service's primary as the client follows it.
#[derive(Clone, Debug)]
pub struct Follower {
    service: String,
    tls: bool,
    primary: Option<Addr>,
    check_interval: Duration,
    last_check: Option<Instant>,
    fence_timeout: Duration,
    /// A primary being failed over, and until when it stays out of use.
    fence: Option<(Addr, Instant)>,
}

impl Follower {
    /// Follows `service`, whose nodes are reached over TLS when `tls` (as the data config
    /// says; the sentinels' events do not). No primary is known until the first
    /// [`resolved`](Self::resolved).
    pub fn new(service: &str, tls: bool) -> Follower {
        Follower {
            service: service.to_owned(),
            tls,
            primary: None,
            check_interval: DEFAULT_CHECK_INTERVAL,
            last_check: None,
            fence_timeout: DEFAULT_FENCE_TIMEOUT,
            fence: None,
        }
    }

    /// Sets how long a primary being failed over stays fenced without news (default
    /// [`DEFAULT_FENCE_TIMEOUT`]).
    pub fn with_fence_timeout(mut self, timeout: Duration) -> Follower {
        self.fence_timeout = timeout;
        self
    }

    /// The primary being failed over, if one is fenced at `now`: never written to.
    pub fn fenced(&self, now: Instant) -> Option<&Addr> {
        match &self.fence {
            Some((old, until)) if now < *until => Some(old),
            _ => None,
        }
    }

    /// Sets the periodic check interval (default [`DEFAULT_CHECK_INTERVAL`]).
    pub fn with_check_interval(mut self, every: Duration) -> Follower {
        self.check_interval = every;
        self
    }

    /// The service followed.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The periodic check interval.
    pub fn check_interval(&self) -> Duration {
        self.check_interval
    }

    /// The current primary, once known.
    pub fn primary(&self) -> Option<&Addr> {
        self.primary.as_ref()
    }

    /// True only for the current primary: a connection to any other address must not be
    /// used (pools drop it).
    pub fn is_current(&self, addr: &Addr) -> bool {
        self.primary.as_ref() == Some(addr)
    }

    /// A re-discovery started at `started` found `primary` (call it for the first discovery
    /// too). A different primary than before is a [`Decision::Switch`]. The sentinels go
    /// on naming a primary being failed over until the switch: while it is fenced, such an
    /// answer changes nothing.
    pub fn resolved(&mut self, primary: Addr, started: Instant) -> Decision {
        self.last_check = Some(self.last_check.map_or(started, |c| c.max(started)));
        if self.fenced(started) == Some(&primary) {
            return Decision::Unchanged;
        }
        self.fence = None;
        self.adopt(primary)
    }

    /// A re-discovery started at `started` failed (no sentinel answered, ...): the primary
    /// stays what it was; the check counts as done, so the periodic one waits its interval
    /// again rather than hammering unreachable sentinels.
    pub fn check_failed(&mut self, started: Instant) {
        self.last_check = Some(self.last_check.map_or(started, |c| c.max(started)));
    }

    fn adopt(&mut self, primary: Addr) -> Decision {
        match self.primary.replace(primary.clone()) {
            Some(old) if old != primary => Decision::Switch { old, new: primary },
            _ => Decision::Unchanged,
        }
    }

    /// Reads a frame from a sentinel subscription. A `+switch-master` for this service
    /// naming another primary than the current one is a switch (the sentinels agreed on
    /// it; connections to the new one still check `ROLE`); a `+sdown`/`-sdown` of one of its
    /// replicas is [`Decision::ReplicasChanged`]; everything else changes nothing. A
    /// malformed event is an error the shell may log; it changes nothing either.
    ///
    /// A `+selected-slave` for this service's primary is a switch to the replica being
    /// promoted, and fences the old primary (see the module docs); its ROLE check fails
    /// for the few milliseconds until the promotion, and connecting is retried. A
    /// `-failover-abort-*` lifts the fence: [`Decision::Recheck`].
    pub fn on_message(&mut self, msg: &Msg) -> Result<Decision> {
        self.on_message_at(msg, Instant::now())
    }

    /// [`on_message`](Self::on_message) at `now` (for tests).
    pub fn on_message_at(&mut self, msg: &Msg, now: Instant) -> Result<Decision> {
        Ok(match parse_message(msg, self.tls)? {
            Some(Event::SwitchMaster(s)) if s.service == self.service => {
                self.fence = None;
                match &self.primary {
                    Some(_) => self.adopt(s.new),
                    // Nothing used yet: whatever the old one was, no connection goes there.
                    None => {
                        self.primary = Some(s.new);
                        Decision::Unchanged
                    }
                }
            }
            Some(Event::FailoverSelected(e)) if e.is_replica() && e.service() == self.service => {
                let Some(master) = e.master else {
                    return Ok(Decision::Unchanged);
                };
                // Only a failover away from the primary in use (or before any use).
                if self.primary.as_ref().is_some_and(|p| p != &master.addr) {
                    return Ok(Decision::Unchanged);
                }
                self.fence = Some((master.addr, now + self.fence_timeout));
                match &self.primary {
                    Some(_) => self.adopt(e.addr),
                    None => {
                        self.primary = Some(e.addr);
                        Decision::Unchanged
                    }
                }
            }
            Some(Event::FailoverAborted(e)) if e.service() == self.service => {
                if self.fence.take().is_some() {
                    Decision::Recheck
                } else {
                    Decision::Unchanged
                }
            }
            Some(Event::Down(e) | Event::Up(e))
                if e.is_replica() && e.service() == self.service =>
            {
                Decision::ReplicasChanged
            }
            _ => Decision::Unchanged,
        })
    }

    /// True when a check with the sentinels started at or after `seen` (the moment a sign
    /// of trouble was seen): another caller already re-resolved, so this one need not ask
    /// again. Keeps a burst of failing callers from sending a burst of discoveries.
    pub fn checked_since(&self, seen: Instant) -> bool {
        self.last_check.is_some_and(|c| c >= seen)
    }

    /// True when the periodic check is due at `now` (never checked, or the interval
    /// passed since the last check started).
    pub fn check_due(&self, now: Instant) -> bool {
        self.last_check
            .is_none_or(|c| now.saturating_duration_since(c) >= self.check_interval)
    }

    /// When the next periodic check is due (now if never checked).
    pub fn next_check(&self, now: Instant) -> Instant {
        self.last_check.map_or(now, |c| c + self.check_interval)
    }
}

/// The replicas a `replica_for` client reads from, and the choice among them.
///
/// The list comes from discovery (usable replicas only, see [`crate::replicas`]); a replica
/// a connection failed on is skipped for a while ([`DEFAULT_REPLICA_PENALTY`]); the choice
/// follows a [`ReadFrom`] but never returns the primary, whatever the policy's fallback:
/// a replica client that silently wrote load onto the primary would defeat its purpose.
#[derive(Clone, Debug)]
pub struct ReplicaSet {
    replicas: Vec<Addr>,
    failed: Vec<(Addr, Instant)>,
    penalty: Duration,
    counter: u64,
    stale: bool,
}

impl Default for ReplicaSet {
    fn default() -> Self {
        ReplicaSet::new()
    }
}

impl ReplicaSet {
    /// An empty set, stale (discover before choosing).
    pub fn new() -> ReplicaSet {
        ReplicaSet {
            replicas: Vec::new(),
            failed: Vec::new(),
            penalty: DEFAULT_REPLICA_PENALTY,
            counter: 0,
            stale: true,
        }
    }

    /// Sets how long a failed replica is skipped (default [`DEFAULT_REPLICA_PENALTY`]).
    pub fn with_penalty(mut self, penalty: Duration) -> ReplicaSet {
        self.penalty = penalty;
        self
    }

    /// The usable replicas as last discovered.
    pub fn replicas(&self) -> &[Addr] {
        &self.replicas
    }

    /// True when the list should be discovered again before the next choice (never
    /// discovered, or marked with [`mark_stale`](Self::mark_stale)).
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// The list may be out of date (a replica event, a failure, the periodic check).
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Discovery found these usable replicas (in the sentinel's order).
    pub fn set(&mut self, replicas: Vec<Addr>) {
        self.replicas = replicas;
        self.stale = false;
    }

    /// Reads a frame from a sentinel subscription, for a replica client of `service`
    /// (`tls`: nodes are reached over TLS). A `+switch-master` promoted one of the replicas
    /// (a `+selected-slave` is about to): it leaves the set at once and is returned (its
    /// connections must close, since they reach the primary), and the list goes stale; a
    /// replica's `+sdown`/`-sdown` or an aborted failover makes the list stale. A malformed event is an error that changes nothing.
    pub fn on_message(&mut self, service: &str, tls: bool, msg: &Msg) -> Result<Option<Addr>> {
        match parse_message(msg, tls)? {
            Some(Event::SwitchMaster(s)) if s.service == service => {
                self.replicas.retain(|a| a != &s.new);
                self.stale = true;
                Ok(Some(s.new))
            }
            // The replica about to be promoted: it leaves the set now.
            Some(Event::FailoverSelected(e)) if e.is_replica() && e.service() == service => {
                self.replicas.retain(|a| a != &e.addr);
                self.stale = true;
                Ok(Some(e.addr))
            }
            Some(Event::FailoverAborted(e)) if e.service() == service => {
                self.stale = true;
                Ok(None)
            }
            Some(Event::Down(e) | Event::Up(e)) if e.is_replica() && e.service() == service => {
                self.stale = true;
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// A connection to `addr` failed at `now`: skip it for a while, and re-discover.
    pub fn failed(&mut self, addr: &Addr, now: Instant) {
        self.failed.retain(|(a, _)| a != addr);
        self.failed.push((addr.clone(), now));
        self.stale = true;
    }

    /// True when a connection to `addr` may still serve this client's reads: it is one
    /// of the usable replicas discovered last.
    pub fn is_current(&self, addr: &Addr) -> bool {
        self.replicas.contains(addr)
    }

    fn healthy(&self, addr: &Addr, now: Instant) -> bool {
        !self
            .failed
            .iter()
            .any(|(a, at)| a == addr && now.saturating_duration_since(*at) < self.penalty)
    }

    /// The replica for the next connection, by `read_from` (`random`: a fresh random
    /// number). Replicas that failed recently are skipped while another is healthy; if
    /// every one failed recently, they are all tried again rather than none. `None` when
    /// no replica is known, or the policy would pick the primary.
    pub fn choose(&mut self, read_from: &ReadFrom, random: u64, now: Instant) -> Option<Addr> {
        if self.replicas.is_empty() {
            return None;
        }
        let mut stats: Vec<NodeStats> = self
            .replicas
            .iter()
            .map(|a| NodeStats {
                healthy: self.healthy(a, now),
                latency: None,
            })
            .collect();
        if stats.iter().all(|s| !s.healthy) {
            stats.iter_mut().for_each(|s| s.healthy = true);
        }
        let primary = NodeStats {
            healthy: false,
            latency: None,
        };
        let counter = self.counter;
        self.counter = self.counter.wrapping_add(1);
        match read_from.choose(false, &primary, &stats, counter, random) {
            Some(Choice::Replica(i)) => self.replicas.get(i).cloned(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
