//! One routed request as a sans-IO step machine: where to send it, and what to do with
//! what came back.
//!
//! A cluster request is a loop: pick the node for the slot, send, and then either hand
//! the reply to the caller or follow what the cluster asked (`MOVED`, `ASK`, a brief
//! refusal, a demoted primary), refresh the map, wait for an uncovered slot to be served
//! again, or retry after a connection failure when that is safe. The loop is the same in
//! the blocking and the async client, so it is written once, here, without I/O: a
//! [`Request`] yields [`Step`]s and the shell carries each out and feeds the outcome back.
//!
//! ```text
//! let mut req = Request::new(target, write, retry_safe, &policy, now);
//! let mut step = req.start(&env);
//! loop {
//!     step = match step {
//!         Step::Send { addr, asking } => {          // ASKING first when `asking`
//!             match connection_to(&addr) {
//!                 Ok(con) => req.reply(&addr, con.send(cmd), &env),
//!                 Err(e) => req.not_sent(&addr, e, &env), // connect failed: never sent
//!             }
//!         }
//!         Step::Moved { slot, addr } => { topology.apply_moved(slot, addr); req.resume(&env) }
//!         Step::Refresh => { topology.refresh(); req.resume(&env) }
//!         Step::Sleep(d) => { sleep(d); req.resume(&env) }
//!         Step::Done(result) => return result,
//!     };
//! }
//! ```
//!
//! The rules it keeps (see the design's retry rules):
//!
//! - `MOVED`: the map is wrong for this slot. [`Step::Moved`] (record it, a refresh is due),
//!   then the command is re-sent at once to the new owner.
//! - `ASK`: the slot is migrating; `ASKING` + the command go to the importing node, once,
//!   and the map is left alone.
//! - `TRYAGAIN`, `LOADING`, `CLUSTERDOWN`, `MASTERDOWN`: backoff with full jitter (from
//!   [`RequestPolicy::backoff`]) within the request's deadline, refreshing first for the
//!   last two; `READONLY` from a node believed primary and a redirect to an unknown address:
//!   refresh, then re-send by the new map. Each of these proves the command did not run, so
//!   it is re-sent whatever it is. Redirects of any kind count against
//!   [`RequestPolicy::max_redirects`].
//! - An uncovered slot: refresh, and keep waiting (refresh, short sleep, refresh ...) for at
//!   most [`RequestPolicy::coverage_wait`], then [`ClusterErrorKind::SlotNotCovered`]. The
//!   command is not sent meanwhile.
//! - A connection that failed before the command was written ([`Request::not_sent`], or
//!   [`Error::Broken`]) is retried after a refresh and a backoff. One that failed after the
//!   write (I/O error, timeout, [`Error::MayHaveExecuted`]) is retried only when the command
//!   is safe to run twice (`retry_safe`: reads, and idempotent writes when the config opts
//!   in, see `redis_core::command_table::is_retry_safe`); otherwise the caller gets
//!   [`Error::MayHaveExecuted`] with the cause inside.

use std::time::{Duration, Instant};

use redis_core::backoff::Delays;
use redis_core::routing::{NodeStats, ReadFrom};
use redis_core::{Addr, Backoff, ClusterErrorKind, Error, Result, Value};

use crate::redirect::{decide, Redirect};
use crate::slot_map::{AddrContext, Node, SlotMap};

/// The knobs of one request's loop. Build it once per client from its config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestPolicy {
    /// Most redirects (`MOVED`, `ASK`, stale-map refreshes) one request follows (default 16).
    pub max_redirects: u32,
    /// Delays between retries after a refusal or a connection failure; its `max_retries`
    /// bounds how many (default: 10 ms base, 1 s cap, 20 retries). Every wait also stays
    /// within [`timeout`](Self::timeout).
    pub backoff: Backoff,
    /// How long a request for an uncovered slot waits for a refresh to find it served
    /// (default 2 s) before failing with [`ClusterErrorKind::SlotNotCovered`].
    pub coverage_wait: Duration,
    /// The whole request's budget for waiting between attempts (default 10 s, the default
    /// response timeout): no sleep goes past it.
    pub timeout: Duration,
}

impl Default for RequestPolicy {
    fn default() -> Self {
        RequestPolicy {
            max_redirects: 16,
            backoff: Backoff {
                base: Duration::from_millis(10),
                cap: Duration::from_secs(1),
                max_retries: 20,
            },
            coverage_wait: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Where a request goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestTarget {
    /// To the node serving this slot (by the map, the read policy for reads).
    Slot(u16),
    /// To this node, whatever the map says (one leg of a fan-out, a keyless command sent to
    /// a chosen primary, a node-bound cursor). Redirects do not apply; refusals and
    /// connection failures are retried as for a slot.
    Node(Addr),
    /// To any one primary (a keyless command): chosen at random among the primaries
    /// serving slots.
    AnyPrimary,
}

/// What the shell knows when the request asks where to go next: the current map, the
/// time, and what the read policy needs. Cheap to build for each call.
pub struct Env<'a> {
    /// The current slot map.
    pub map: &'a SlotMap,
    /// Now.
    pub now: Instant,
    /// Where reads go.
    pub read_from: &'a ReadFrom,
    /// What the shell knows about each node (failed recently, latency).
    pub stats: &'a dyn Fn(&Node) -> NodeStats,
    /// Grows by one per request (round robin).
    pub counter: u64,
    /// A fresh random number.
    pub random: u64,
    /// Whether nodes are reached over TLS (redirect addresses then are TLS addresses).
    pub tls: bool,
    /// The address-remap hook (NAT, containers, a test proxy) applied to redirect targets.
    pub remap: &'a dyn Fn(Addr) -> Addr,
}

fn healthy(_: &Node) -> NodeStats {
    NodeStats::default()
}

fn same(a: Addr) -> Addr {
    a
}

impl<'a> Env<'a> {
    /// An environment with reads on primaries, every node healthy, no TLS and no remap
    /// (tests, and shells that do not track node health).
    pub fn new(map: &'a SlotMap, now: Instant) -> Env<'a> {
        static PRIMARY: ReadFrom = ReadFrom::Primary;
        Env {
            map,
            now,
            read_from: &PRIMARY,
            stats: &healthy,
            counter: 0,
            random: 0,
            tls: false,
            remap: &same,
        }
    }

    /// The node for `slot`: `Err` with the typed error when none can serve it.
    ///
    /// A slot whose primary the cluster reports failed (and no replica may serve the
    /// read) counts as not covered: the request waits for the promotion as it waits for
    /// coverage, instead of queueing behind a dead node.
    pub fn pick(&self, slot: u16, write: bool) -> Result<Addr, ClusterErrorKind> {
        self.pick_ref(slot, write).cloned()
    }

    /// [`pick`](Self::pick), the address borrowed from the map.
    pub fn pick_ref(&self, slot: u16, write: bool) -> Result<&'a Addr, ClusterErrorKind> {
        if write {
            // A write goes to the primary whatever the read policy (one look-up).
            return match self.map.primary_for(slot) {
                Some(n) if n.healthy => Ok(&n.addr),
                _ => Err(ClusterErrorKind::SlotNotCovered { slot }),
            };
        }
        if !self.map.is_covered(slot) {
            return Err(ClusterErrorKind::SlotNotCovered { slot });
        }
        match self.map.node_for(
            slot,
            write,
            self.read_from,
            self.stats,
            self.counter,
            self.random,
        ) {
            Some(n) if n.healthy => Ok(&n.addr),
            Some(_) => Err(ClusterErrorKind::SlotNotCovered { slot }),
            None => Err(ClusterErrorKind::NoUsableReplica { slot }),
        }
    }

    /// A primary serving slots, chosen by `random`; `None` with no map yet.
    pub fn any_primary(&self) -> Option<Addr> {
        let primaries: Vec<&Node> = self.map.all_primaries().filter(|n| n.healthy).collect();
        if primaries.is_empty() {
            return None;
        }
        let i = (self.random % primaries.len() as u64) as usize;
        Some(primaries[i].addr.clone())
    }
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("now", &self.now)
            .field("read_from", self.read_from)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// The next thing the shell does for a request.
#[derive(Debug)]
pub enum Step {
    /// Send the command to `addr` (after `ASKING` on the same connection when `asking`),
    /// then give the outcome to [`Request::reply`] (or [`Request::not_sent`] when no
    /// connection to `addr` could be opened).
    Send {
        /// The node.
        addr: Addr,
        /// Send [`asking`](crate::asking) first (an `ASK` redirect).
        asking: bool,
    },
    /// The slot moved to `addr` for good: record it in the map
    /// ([`Topology::apply_moved`](crate::topology::Topology::apply_moved), which also makes a
    /// refresh due), then call [`Request::resume`].
    Moved {
        /// The slot.
        slot: u16,
        /// Its new primary.
        addr: Addr,
    },
    /// Refresh the slot map now (joining a refresh already running; bounded by the
    /// refresh's own timeouts), then call [`Request::resume`] with the new map.
    Refresh,
    /// Wait this long, then call [`Request::resume`].
    Sleep(Duration),
    /// The request is over: this is the caller's result.
    Done(Result<Value>),
}

/// What to do when [`Request::resume`] is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    /// Route by the map (or the pinned node) and send.
    Route,
    /// Refresh first, then route.
    Refresh,
}

/// One routed request's state (see the module docs).
#[derive(Debug)]
pub struct Request {
    target: RequestTarget,
    write: bool,
    retry_safe: bool,
    policy: RequestPolicy,
    deadline: Instant,
    redirects: u32,
    delays: Delays,
    /// Where the next send goes regardless of the map (after `MOVED`/`ASK`), and whether
    /// with `ASKING`.
    pinned: Option<(Addr, bool)>,
    /// When the slot was first found uncovered.
    uncovered_since: Option<Instant>,
    next: Next,
    /// The error of the last failed attempt (returned when the budget runs out).
    last_error: Option<Error>,
    done: bool,
}

impl Request {
    /// A request to `target`; `write` is false for a read (may go to a replica);
    /// `retry_safe` says whether the command may be re-sent after it may have run (see the
    /// module docs).
    pub fn new(
        target: RequestTarget,
        write: bool,
        retry_safe: bool,
        policy: &RequestPolicy,
        now: Instant,
    ) -> Request {
        Request {
            target,
            write,
            retry_safe,
            policy: *policy,
            deadline: now + policy.timeout,
            redirects: 0,
            delays: policy.backoff.delays(),
            pinned: None,
            uncovered_since: None,
            next: Next::Route,
            last_error: None,
            done: false,
        }
    }

    /// The same request with a repeatable backoff (tests).
    pub fn with_seed(mut self, seed: u64) -> Request {
        self.delays = self.policy.backoff.delays_seeded(seed);
        self
    }

    /// Where the request goes.
    pub fn target(&self) -> &RequestTarget {
        &self.target
    }

    /// False for a read.
    pub fn is_write(&self) -> bool {
        self.write
    }

    /// Redirects followed so far.
    pub fn redirects(&self) -> u32 {
        self.redirects
    }

    /// True once a [`Step::Done`] was given.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The first step.
    pub fn start(&mut self, env: &Env<'_>) -> Step {
        self.resume(env)
    }

    /// Continues after [`Step::Moved`], [`Step::Refresh`] or [`Step::Sleep`] was carried
    /// out, with the map as it is now.
    pub fn resume(&mut self, env: &Env<'_>) -> Step {
        if self.done {
            return self.finish(Err(Error::InvalidRequest(
                "cluster request resumed after it ended".into(),
            )));
        }
        if self.next == Next::Refresh {
            self.next = Next::Route;
            return Step::Refresh;
        }
        if let Some((addr, asking)) = self.pinned.take() {
            return Step::Send { addr, asking };
        }
        let picked = match &self.target {
            RequestTarget::Node(addr) => {
                return Step::Send {
                    addr: addr.clone(),
                    asking: false,
                }
            }
            RequestTarget::Slot(slot) => env.pick(*slot, self.write),
            // No primary known yet: wait for a refresh as for an uncovered slot.
            RequestTarget::AnyPrimary => env
                .any_primary()
                .ok_or(ClusterErrorKind::SlotNotCovered { slot: 0 }),
        };
        match picked {
            Ok(addr) => {
                self.uncovered_since = None;
                Step::Send {
                    addr,
                    asking: false,
                }
            }
            Err(kind @ ClusterErrorKind::SlotNotCovered { .. }) => {
                let since = *self.uncovered_since.get_or_insert(env.now);
                let waited = env.now.saturating_duration_since(since);
                if waited >= self.policy.coverage_wait || env.now >= self.deadline {
                    return self.finish(Err(Error::Cluster(kind)));
                }
                // Refresh now, then (if still uncovered) a short sleep before the next
                // refresh, all within the coverage wait.
                if waited.is_zero() {
                    return Step::Refresh;
                }
                let left = self.policy.coverage_wait - waited;
                let pause = self
                    .delays
                    .next()
                    .unwrap_or(self.policy.backoff.cap)
                    .max(Duration::from_millis(1))
                    .min(left);
                self.next = Next::Refresh;
                Step::Sleep(pause)
            }
            Err(kind) => self.finish(Err(Error::Cluster(kind))),
        }
    }

    /// [`reply`](Self::reply) for the outcome that settles a request whatever the map
    /// and the time say: a reply that is not an error reply is the caller's result, and
    /// the request is over (`Ok`). Any other outcome comes back (`Err`) for
    /// [`reply`](Self::reply), with the environment. Lets a shell skip building an
    /// environment for the common case.
    pub fn reply_settled(&mut self, outcome: Result<Value>) -> Result<Value, Result<Value>> {
        match outcome {
            Ok(Value::ServerError(e)) => Err(Ok(Value::ServerError(e))),
            Ok(v) => {
                self.done = true;
                Ok(v)
            }
            Err(e) => Err(Err(e)),
        }
    }

    /// What [`resume`](Self::resume) does when it sends by the map (a request for a slot,
    /// not redirected, not waiting for a refresh, the slot served): the node's address,
    /// borrowed from the map rather than copied into a [`Step::Send`] (a pipeline routes
    /// every command this way). `None` when `resume` has something else to say: call it.
    pub fn route_by_map<'a>(&mut self, env: &Env<'a>) -> Option<&'a Addr> {
        if self.done || self.next != Next::Route || self.pinned.is_some() {
            return None;
        }
        let RequestTarget::Slot(slot) = self.target else {
            return None;
        };
        let addr = env.pick_ref(slot, self.write).ok()?;
        self.uncovered_since = None;
        Some(addr)
    }

    /// The outcome of the [`Step::Send`] to `from`: the reply (an error reply as
    /// `Err(Error::Server)`), or the failure of the connection after the command was handed
    /// to it.
    pub fn reply(&mut self, from: &Addr, outcome: Result<Value>, env: &Env<'_>) -> Step {
        let err = match outcome {
            Ok(Value::ServerError(e)) => Error::Server(e),
            Ok(v) => return self.finish(Ok(v)),
            Err(e) => e,
        };
        if let Error::Server(_) = &err {
            return self.server_error(from, err, env);
        }
        if let Error::Broken(_) = &err {
            // Never written: a connection already broken, or aborted before the write.
            return self.not_sent(from, err, env);
        }
        // The command may have run.
        if self.retry_safe {
            return self.retry_after_failure(err, env);
        }
        let err = match err {
            e @ Error::MayHaveExecuted(_) => e,
            e => Error::MayHaveExecuted(Box::new(e)),
        };
        self.finish(Err(err))
    }

    /// No connection to `from` could be opened (or it was broken before the command was
    /// written): the command did not run and is retried after a refresh and a backoff.
    pub fn not_sent(&mut self, from: &Addr, err: Error, env: &Env<'_>) -> Step {
        let _ = from;
        self.retry_after_failure(err, env)
    }

    fn server_error(&mut self, from: &Addr, err: Error, env: &Env<'_>) -> Step {
        let believed_primary = env.map.is_primary(from);
        let ctx = AddrContext::new(from, env.tls).with_remap(env.remap);
        let redirect = match self.target {
            // A node-bound request is not redirected (its reply is that node's), but it
            // still waits out brief refusals.
            RequestTarget::Node(_) => match decide(&err, &ctx, believed_primary) {
                r @ Redirect::RetryLater { .. } => r,
                _ => Redirect::Return,
            },
            RequestTarget::Slot(_) | RequestTarget::AnyPrimary => {
                decide(&err, &ctx, believed_primary)
            }
        };
        match redirect {
            Redirect::Return => self.finish(Err(err)),
            Redirect::Moved { slot, addr } => {
                if let Some(done) = self.count_redirect() {
                    return done;
                }
                self.pinned = Some((addr.clone(), false));
                Step::Moved { slot, addr }
            }
            Redirect::Ask { addr, .. } => {
                if let Some(done) = self.count_redirect() {
                    return done;
                }
                Step::Send { addr, asking: true }
            }
            Redirect::RefreshAndRetry => {
                if let Some(done) = self.count_redirect() {
                    return done;
                }
                Step::Refresh
            }
            Redirect::RetryLater { refresh } => {
                self.last_error = Some(err);
                match self.backoff(env.now) {
                    Some(d) => {
                        if refresh {
                            self.next = Next::Refresh;
                        }
                        Step::Sleep(d)
                    }
                    None => self.give_up(),
                }
            }
        }
    }

    /// Counts one redirect; the final step when the limit is passed.
    fn count_redirect(&mut self) -> Option<Step> {
        self.redirects += 1;
        if self.redirects > self.policy.max_redirects {
            return Some(
                self.finish(Err(Error::Cluster(ClusterErrorKind::TooManyRedirects {
                    redirects: self.redirects - 1,
                }))),
            );
        }
        None
    }

    /// A connection failure that may be retried: refresh (the node may be gone), back off,
    /// and route again by the new map.
    fn retry_after_failure(&mut self, err: Error, env: &Env<'_>) -> Step {
        self.pinned = None;
        self.last_error = Some(err);
        match self.backoff(env.now) {
            Some(d) => {
                // Then refresh (the shell's gate coalesces it with other triggers).
                self.next = Next::Refresh;
                Step::Sleep(d)
            }
            None => self.give_up(),
        }
    }

    /// The next backoff delay, or `None` when retries or the deadline ran out.
    fn backoff(&mut self, now: Instant) -> Option<Duration> {
        let d = self.delays.next()?;
        (now + d < self.deadline).then_some(d)
    }

    fn give_up(&mut self) -> Step {
        let err = self.last_error.take().unwrap_or(Error::Timeout {
            what: "cluster request retries",
            after: self.policy.timeout,
        });
        // Only errors that are safe to return as they are get here: refusals, failures
        // before the write, and failures after it of commands safe to run twice.
        self.finish(Err(err))
    }

    fn finish(&mut self, result: Result<Value>) -> Step {
        self.done = true;
        Step::Done(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slot_map::{NodeRole, Shard};
    use redis_core::ServerError;

    fn a(p: u16) -> Addr {
        Addr::tcp("127.0.0.1", p)
    }

    fn err(line: &str) -> Result<Value> {
        Err(Error::Server(ServerError::parse(line)))
    }

    /// 0..=8191 on 1 (replica 11), 8192..=16383 on 2; `healthy1`: node 1's health.
    fn map_with(healthy1: bool) -> SlotMap {
        SlotMap::new(vec![
            (
                vec![0..=8191],
                Shard {
                    primary: Node {
                        healthy: healthy1,
                        ..Node::new(a(1), NodeRole::Primary)
                    },
                    replicas: vec![Node::new(a(11), NodeRole::Replica)],
                },
            ),
            (
                vec![8192..=16383],
                Shard {
                    primary: Node::new(a(2), NodeRole::Primary),
                    replicas: vec![],
                },
            ),
        ])
        .unwrap()
    }

    fn map() -> SlotMap {
        map_with(true)
    }

    fn req(slot: u16, write: bool, safe: bool, now: Instant) -> Request {
        Request::new(
            RequestTarget::Slot(slot),
            write,
            safe,
            &RequestPolicy::default(),
            now,
        )
        .with_seed(1)
    }

    fn send(step: Step) -> (Addr, bool) {
        match step {
            Step::Send { addr, asking } => (addr, asking),
            other => panic!("expected a send, got {other:?}"),
        }
    }

    fn done(step: Step) -> Result<Value> {
        match step {
            Step::Done(r) => r,
            other => panic!("expected done, got {other:?}"),
        }
    }

    /// The shortcut the shells take without an environment settles exactly what `reply`
    /// settles: a reply that is not an error reply; everything else goes to `reply`.
    #[test]
    fn reply_settled_is_replys_plain_reply_case() {
        let m = map();
        let now = Instant::now();
        let env = Env::new(&m, now);
        let outcomes = || {
            vec![
                Ok(Value::Okay),
                Ok(Value::Nil),
                Ok(Value::Int(3)),
                Ok(Value::ServerError(ServerError::parse(
                    "MOVED 5 127.0.0.1:2",
                ))),
                err("WRONGTYPE x"),
                err("TRYAGAIN x"),
                Err(Error::Io(std::io::ErrorKind::ConnectionReset.into())),
            ]
        };
        for (outcome, again) in outcomes().into_iter().zip(outcomes()) {
            let mut short = req(5, true, false, now);
            send(short.start(&env));
            let mut full = req(5, true, false, now);
            send(full.start(&env));
            let by_reply = full.reply(&a(1), again, &env);
            match short.reply_settled(outcome) {
                Ok(v) => {
                    assert!(short.is_done());
                    assert_eq!(done(by_reply).ok(), Some(v));
                }
                Err(back) => {
                    assert!(!short.is_done());
                    let step = short.reply(&a(1), back, &env);
                    assert_eq!(format!("{step:?}"), format!("{by_reply:?}"));
                }
            }
        }
    }

    #[test]
    fn routes_by_map_and_returns_the_reply() {
        let m = map();
        let now = Instant::now();
        let env = Env::new(&m, now);
        let mut r = req(100, true, false, now);
        assert_eq!(send(r.start(&env)), (a(1), false));
        let v = done(r.reply(&a(1), Ok(Value::Okay), &env)).unwrap();
        assert_eq!(v, Value::Okay);
        assert!(r.is_done());
        // An error reply that is not a cluster condition is the caller's.
        let mut r = req(9000, false, true, now);
        assert_eq!(send(r.start(&env)), (a(2), false));
        let e = done(r.reply(&a(2), err("WRONGTYPE x"), &env)).unwrap_err();
        assert_eq!(
            e.server_kind(),
            Some(&redis_core::ServerErrorKind::WrongType)
        );
        // Reads may go to a replica by the read policy.
        let prefer = ReadFrom::PreferReplica;
        let env2 = Env {
            read_from: &prefer,
            ..Env::new(&m, now)
        };
        assert_eq!(
            send(req(100, false, true, now).start(&env2)),
            (a(11), false)
        );
        assert_eq!(send(req(100, true, true, now).start(&env2)), (a(1), false));
        // A keyless command goes to some primary.
        let mut any = Request::new(
            RequestTarget::AnyPrimary,
            false,
            true,
            &RequestPolicy::default(),
            now,
        );
        let (addr, _) = send(any.start(&env));
        assert!(addr == a(1) || addr == a(2));
    }

    #[test]
    fn moved_pins_the_new_owner_and_ask_sends_asking_once() {
        let m = map();
        let now = Instant::now();
        let env = Env::new(&m, now);
        let mut r = req(100, true, false, now);
        send(r.start(&env));
        match r.reply(&a(1), err("MOVED 100 127.0.0.1:2"), &env) {
            Step::Moved { slot, addr } => assert_eq!((slot, addr), (100, a(2))),
            other => panic!("{other:?}"),
        }
        // Even if the shell's map did not change, the retry goes to the new owner.
        assert_eq!(send(r.resume(&env)), (a(2), false));
        assert_eq!(
            send(r.reply(&a(2), err("ASK 100 127.0.0.1:3"), &env)),
            (a(3), true)
        );
        assert_eq!(r.redirects(), 2);
        assert_eq!(
            done(r.reply(&a(3), Ok(Value::Int(1)), &env)).unwrap(),
            Value::Int(1)
        );
    }

    #[test]
    fn redirect_loops_end_with_a_typed_error() {
        let m = map();
        let now = Instant::now();
        let env = Env::new(&m, now);
        let policy = RequestPolicy {
            max_redirects: 3,
            ..RequestPolicy::default()
        };
        let mut r = Request::new(RequestTarget::Slot(1), true, false, &policy, now);
        send(r.start(&env));
        let mut last = None;
        for _ in 0..10 {
            let step = r.reply(&a(1), err("ASK 1 127.0.0.1:1"), &env);
            if let Step::Done(res) = step {
                last = Some(res);
                break;
            }
        }
        match last {
            Some(Err(Error::Cluster(ClusterErrorKind::TooManyRedirects { redirects: 3 }))) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refusals_back_off_within_the_deadline() {
        let m = map();
        let now = Instant::now();
        let env = Env::new(&m, now);
        let mut r = req(100, true, false, now);
        send(r.start(&env));
        // TRYAGAIN: sleep, then re-send by the map (no refresh).
        let Step::Sleep(d) = r.reply(&a(1), err("TRYAGAIN x"), &env) else {
            panic!("no backoff")
        };
        assert!(d <= Duration::from_millis(10));
        assert_eq!(send(r.resume(&env)), (a(1), false));
        // CLUSTERDOWN: sleep, refresh, re-send.
        assert!(matches!(
            r.reply(&a(1), err("CLUSTERDOWN down"), &env),
            Step::Sleep(_)
        ));
        assert!(matches!(r.resume(&env), Step::Refresh));
        assert_eq!(send(r.resume(&env)), (a(1), false));
        // READONLY from the believed primary: refresh, re-send.
        assert!(matches!(
            r.reply(&a(1), err("READONLY no"), &env),
            Step::Refresh
        ));
        assert_eq!(send(r.resume(&env)), (a(1), false));
        // Past the deadline: the refusal is the caller's error.
        let late = Env::new(&m, now + Duration::from_secs(11));
        let e = done(r.reply(&a(1), err("LOADING x"), &late)).unwrap_err();
        assert_eq!(e.server_kind(), Some(&redis_core::ServerErrorKind::Loading));
    }

    #[test]
    fn uncovered_slots_wait_a_bounded_time_then_fail_typed() {
        let empty = SlotMap::default();
        let now = Instant::now();
        let mut r = req(7, true, false, now);
        assert!(matches!(r.start(&Env::new(&empty, now)), Step::Refresh));
        let later = now + Duration::from_millis(300);
        let Step::Sleep(d) = r.resume(&Env::new(&empty, later)) else {
            panic!("no wait")
        };
        assert!(d <= Duration::from_millis(1700));
        assert!(matches!(r.resume(&Env::new(&empty, later)), Step::Refresh));
        // Covered again within the wait: served.
        let m = map();
        assert_eq!(send(r.resume(&Env::new(&m, later))), (a(1), false));
        // Never covered: the typed error after the wait.
        let mut r = req(7, true, false, now);
        r.start(&Env::new(&empty, now));
        let e = done(r.resume(&Env::new(&empty, now + Duration::from_secs(2)))).unwrap_err();
        assert!(matches!(
            e,
            Error::Cluster(ClusterErrorKind::SlotNotCovered { slot: 7 })
        ));
        // A primary the cluster reports failed: wait for the promotion the same way.
        let failed = map_with(false);
        let mut r = req(7, true, false, now);
        assert!(matches!(r.start(&Env::new(&failed, now)), Step::Refresh));
        assert_eq!(send(r.resume(&Env::new(&map(), later))), (a(1), false));
        // ...while reads may still go to its healthy replica.
        let prefer = ReadFrom::PreferReplica;
        let env = Env {
            read_from: &prefer,
            ..Env::new(&failed, now)
        };
        assert_eq!(send(req(7, false, true, now).start(&env)), (a(11), false));
        // Replica-only reads with no replica: typed.
        let only = ReadFrom::Replica;
        let env = Env {
            read_from: &only,
            ..Env::new(&m, now)
        };
        let e = done(req(9000, false, true, now).start(&env)).unwrap_err();
        assert!(matches!(
            e,
            Error::Cluster(ClusterErrorKind::NoUsableReplica { slot: 9000 })
        ));
    }

    #[test]
    fn connection_failures_retry_only_what_is_safe() {
        let m = map();
        let now = Instant::now();
        let env = Env::new(&m, now);
        let io = || {
            Error::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "reset",
            ))
        };
        // Never sent (connect failed, or broken before the write): retried, any command.
        let mut w = req(100, true, false, now);
        send(w.start(&env));
        assert!(matches!(w.not_sent(&a(1), io(), &env), Step::Sleep(_)));
        assert!(matches!(w.resume(&env), Step::Refresh));
        assert_eq!(send(w.resume(&env)), (a(1), false));
        assert!(matches!(
            w.reply(&a(1), Err(Error::Broken("aborted".into())), &env),
            Step::Sleep(_)
        ));
        w.resume(&env);
        send(w.resume(&env));
        // A write cut after the write: MayHaveExecuted, with the cause inside.
        let e = done(w.reply(&a(1), Err(io()), &env)).unwrap_err();
        assert!(matches!(&e, Error::MayHaveExecuted(inner) if matches!(**inner, Error::Io(_))));
        let mut w = req(100, true, false, now);
        send(w.start(&env));
        let aborted = Error::MayHaveExecuted(Box::new(Error::Broken("demoted".into())));
        let e = done(w.reply(&a(1), Err(aborted), &env)).unwrap_err();
        assert!(matches!(e, Error::MayHaveExecuted(_)));
        // A read (retry-safe) is re-sent by the new map.
        let mut r = req(100, false, true, now);
        send(r.start(&env));
        let aborted = Error::MayHaveExecuted(Box::new(Error::Broken("demoted".into())));
        assert!(matches!(r.reply(&a(1), Err(aborted), &env), Step::Sleep(_)));
        assert!(matches!(r.resume(&env), Step::Refresh));
        let promoted = map_with(true);
        assert_eq!(send(r.resume(&Env::new(&promoted, now))), (a(1), false));
        // Out of retries: the last error as it is.
        let policy = RequestPolicy {
            backoff: Backoff::none(),
            ..RequestPolicy::default()
        };
        let mut r = Request::new(RequestTarget::Slot(1), false, true, &policy, now);
        send(r.start(&env));
        assert!(matches!(
            done(r.reply(&a(1), Err(io()), &env)),
            Err(Error::Io(_))
        ));
    }

    #[test]
    fn node_targets_are_not_redirected() {
        let m = map();
        let now = Instant::now();
        let env = Env::new(&m, now);
        let mut r = Request::new(
            RequestTarget::Node(a(2)),
            false,
            true,
            &RequestPolicy::default(),
            now,
        );
        assert_eq!(send(r.start(&env)), (a(2), false));
        assert!(done(r.reply(&a(2), err("MOVED 1 127.0.0.1:1"), &env)).is_err());
        let mut r = Request::new(
            RequestTarget::Node(a(2)),
            false,
            true,
            &RequestPolicy::default(),
            now,
        );
        send(r.start(&env));
        assert!(matches!(
            r.reply(&a(2), err("LOADING"), &env),
            Step::Sleep(_)
        ));
        assert_eq!(r.target(), &RequestTarget::Node(a(2)));
        assert!(!r.is_write());
    }
}
