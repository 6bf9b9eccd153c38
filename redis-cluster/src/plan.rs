//! A pipeline across a cluster: grouped per node, sent as one sub-pipeline per node,
//! replies merged back in the caller's order, each command's redirect handled on its own.
//!
//! A [`Plan`] turns a caller's [`Pipeline`] into *units*: one per command, or one per slot
//! part of a multi-key command that spans slots (`MGET`, `MSET`, `DEL`, `UNLINK`,
//! `EXISTS`, `TOUCH`, split by [`route()`](crate::route::route)). Each unit is a
//! [`Request`] step machine, so a unit follows `MOVED`/`ASK`,
//! waits out refusals and is retried after a connection failure under exactly the rules a
//! single command follows. The plan gathers what its units ask for and gives the shell
//! one [`PlanStep`] at a time:
//!
//! - [`PlanStep::Send`]: one [`Batch`] per node (a sub-pipeline, `ASKING` in front of the
//!   commands an `ASK` sent there, listed by [`Plan::commands`]); the shell writes each
//!   batch in one write and hands its raw replies (or its connection failure) to
//!   [`Plan::replies`]. The async shell sends batches in parallel; the blocking one writes
//!   every batch before it reads any replies, so the nodes work at the same time.
//! - [`PlanStep::Moved`], [`PlanStep::Refresh`], [`PlanStep::Sleep`]: as for a single
//!   request, for every unit that asked (one refresh for all of them; the longest sleep).
//! - [`PlanStep::Done`]: the raw replies in the caller's order, one per command, as one
//!   server would have given them (error replies in place as [`Value::ServerError`]); a
//!   split command's parts merged ([`SlotSplit::merge`]). If a unit ended with a
//!   connection error rather than a reply, the whole pipeline fails with the first such
//!   error (`MayHaveExecuted` when a write may have run): the caller cannot tell which of
//!   the other commands ran.
//!
//! Not atomic across nodes. An atomic (`MULTI`/`EXEC`) pipeline is refused here: it runs
//! whole on its slot's primary (see the shells' transactions). Commands that fan out to
//! every node (`FLUSHALL`, `DBSIZE`, `KEYS`, ...) are refused in a pipeline too: send them
//! on their own (`PING` excepted: in a pipeline it goes to one primary).

use std::time::{Duration, Instant};

use redis_core::{Addr, Cmd, Error, Pipeline, Result, ServerError, ServerErrorKind, Value};

use crate::request::{Env, Request, RequestPolicy, RequestTarget, Step};
use crate::route::{refuse_connection_state, slot_of, Route, Router, SlotSplit};

/// The next thing the shell does for a pipeline (see the module docs).
#[derive(Debug)]
pub enum PlanStep {
    /// Send each batch to its node, and give each one's outcome to [`Plan::replies`].
    Send(Vec<Batch>),
    /// Record these `MOVED`s in the map, then call [`Plan::next`].
    Moved(Vec<(u16, Addr)>),
    /// Refresh the slot map, then call [`Plan::next`].
    Refresh,
    /// Wait, then call [`Plan::next`].
    Sleep(Duration),
    /// The raw replies in the caller's order, or the error that failed the pipeline.
    Done(Result<Vec<Value>>),
}

/// The commands one node gets in one write. It names them rather than copying them:
/// [`Plan::commands`] lists them (the caller's commands are written from where they are).
#[derive(Debug)]
pub struct Batch {
    /// The node.
    pub addr: Addr,
    /// For each command of the batch that is not an added `ASKING`: its unit, and
    /// whether it is preceded by `ASKING`.
    units: Vec<(usize, bool)>,
    /// Replies the node sends for the batch (one per command, `ASKING`s included).
    replies: usize,
    /// Whether a command of the batch may write.
    write: bool,
}

impl Batch {
    fn new(addr: Addr, capacity: usize) -> Batch {
        Batch {
            addr,
            units: Vec::with_capacity(capacity),
            replies: 0,
            write: false,
        }
    }

    /// Adds unit `i` (after `ASKING` when `asking`).
    fn push(&mut self, i: usize, asking: bool, write: bool) {
        self.replies += 1 + usize::from(asking);
        self.units.push((i, asking));
        self.write |= write;
    }

    /// Whether a command of the batch may write (it then needs a primary's connection,
    /// not a replica's).
    pub fn is_write(&self) -> bool {
        self.write
    }

    /// How many replies the node sends for the batch.
    pub fn expected_replies(&self) -> usize {
        self.replies
    }
}

/// The `ASKING` written before a command that an `ASK` redirected.
static ASKING: std::sync::LazyLock<Cmd> = std::sync::LazyLock::new(crate::asking);

#[derive(Debug)]
enum State {
    /// The unit asked for this; the plan acts on it.
    Asked(Step),
    /// The plan carried out the unit's last step: resume it.
    Resume,
    /// In one of the plan's pending batches, or sent in one; waiting for
    /// [`Plan::replies`].
    InFlight,
    /// Finished with this result.
    Done(Result<Value>),
    /// Finished, result handed out.
    Taken,
}

/// A unit's command: the caller's (borrowed), or a split command's part (boxed: parts are
/// rare, and a unit stays small, as a pipeline has one per command).
#[derive(Debug)]
enum UnitCmd<'p> {
    Caller(&'p Cmd),
    Part(Box<Cmd>),
}

impl UnitCmd<'_> {
    fn get(&self) -> &Cmd {
        match self {
            UnitCmd::Caller(c) => c,
            UnitCmd::Part(c) => c,
        }
    }
}

#[derive(Debug)]
struct Unit<'p> {
    cmd: UnitCmd<'p>,
    /// Its slot, `None` for any primary.
    slot: Option<u16>,
    /// False for a read.
    write: bool,
    /// May be re-sent after it may have run.
    retry_safe: bool,
    /// The unit's request flow, made at its first step other than "sent by the map,
    /// answered": most units of a pipeline never need one (a fresh request would only
    /// route by the map and hand back the reply).
    req: Option<Box<Request>>,
    state: State,
}

impl Unit<'_> {
    /// The unit's request flow, made now if it has none (as of the plan's start).
    fn req(&mut self, how: &Fresh, i: usize) -> &mut Request {
        let (target, write, safe) = (
            self.slot
                .map_or(RequestTarget::AnyPrimary, RequestTarget::Slot),
            self.write,
            self.retry_safe,
        );
        self.req.get_or_insert_with(|| {
            let req = Request::new(target, write, safe, &how.policy, how.now);
            Box::new(match how.seed {
                Some(seed) => req.with_seed(seed.wrapping_add(i as u64)),
                None => req,
            })
        })
    }
}

/// How a unit's request flow is made when it first needs one.
#[derive(Debug)]
struct Fresh {
    policy: RequestPolicy,
    /// When the plan started (every request's time budget starts then).
    now: Instant,
    /// Repeatable backoffs (tests).
    seed: Option<u64>,
}

/// A caller's command that was split. Units follow the caller's order: a command's unit,
/// or a split command's parts one after the other, so the plan needs no record of the
/// others.
#[derive(Debug)]
struct Split {
    /// The caller's command's index in the pipeline.
    at: usize,
    split: SlotSplit,
}

/// A pipeline's progress across the cluster (see the module docs). It borrows the
/// caller's commands rather than copying them.
#[derive(Debug)]
pub struct Plan<'p> {
    units: Vec<Unit<'p>>,
    /// How many commands the caller's pipeline has.
    commands: usize,
    /// The split commands, in the pipeline's order.
    splits: Vec<Split>,
    fresh: Fresh,
    /// The units routed and not yet handed out in a [`PlanStep::Send`], one batch per
    /// node.
    pending: Vec<Batch>,
}

/// The index of `addr`'s batch in `pending`, added (room for `capacity` units) if absent.
fn node_index(pending: &mut Vec<Batch>, addr: &Addr, capacity: usize) -> usize {
    match pending.iter().position(|b| b.addr == *addr) {
        Some(i) => i,
        None => {
            pending.push(Batch::new(addr.clone(), capacity));
            pending.len() - 1
        }
    }
}

impl<'p> Plan<'p> {
    /// Plans `pipe`. `idempotent_writes` is the config's opt-in to re-sending idempotent
    /// writes that may have run (`redis_core::command_table::is_retry_safe`).
    /// Errors before anything is sent: an atomic pipeline, a fan-out or connection-state
    /// command, keys in several slots of a command that cannot be split
    /// ([`Error::CrossSlot`]).
    pub fn new(
        pipe: &'p Pipeline,
        policy: &RequestPolicy,
        idempotent_writes: bool,
        now: Instant,
    ) -> Result<Plan<'p>> {
        if pipe.is_atomic() {
            return Err(Error::InvalidRequest(
                "an atomic (MULTI/EXEC) pipeline runs on one node: use the cluster \
                 connection's transaction support"
                    .into(),
            ));
        }
        let mut plan = Plan {
            units: Vec::with_capacity(pipe.len()),
            commands: pipe.len(),
            splits: Vec::new(),
            fresh: Fresh {
                policy: *policy,
                now,
                seed: None,
            },
            pending: Vec::new(),
        };
        let mut router = Router::new(idempotent_writes);
        for (at, cmd) in pipe.cmds().iter().enumerate() {
            let routed = router.route(cmd)?;
            // A split command's parts have its name, so its retry safety (which depends
            // only on the name for the split commands).
            let unit = |cmd, slot, write| Unit {
                cmd,
                slot,
                write,
                retry_safe: routed.retry_safe,
                req: None,
                state: State::Resume,
            };
            match routed.route {
                Route::Slot { slot, write } => {
                    plan.units
                        .push(unit(UnitCmd::Caller(cmd), Some(slot), write));
                }
                Route::AnyPrimary { write } => {
                    plan.units.push(unit(UnitCmd::Caller(cmd), None, write));
                }
                Route::Split(mut split) => {
                    for part in &mut split.parts {
                        // The part's command moves to its unit; the split keeps the rest.
                        let part_cmd = std::mem::take(&mut part.cmd);
                        plan.units.push(unit(
                            UnitCmd::Part(Box::new(part_cmd)),
                            Some(part.slot),
                            split.write,
                        ));
                    }
                    plan.splits.push(Split { at, split });
                }
                // PING in a pipeline checks the link to the cluster, not every node.
                Route::AllPrimaries(_) | Route::AllNodes(_) if cmd.name() == "PING" => {
                    plan.units.push(unit(UnitCmd::Caller(cmd), None, false));
                }
                Route::AllPrimaries(_) | Route::AllNodes(_) => {
                    return Err(Error::InvalidRequest(format!(
                        "{} goes to every node of the cluster: send it on its own, not in \
                         a pipeline",
                        cmd.name()
                    )))
                }
            }
        }
        Ok(plan)
    }

    /// With repeatable backoffs (tests).
    pub fn with_seed(mut self, seed: u64) -> Plan<'p> {
        self.fresh.seed = Some(seed);
        for (i, u) in self.units.iter_mut().enumerate() {
            if let Some(req) = u.req.take() {
                u.req = Some(Box::new(req.with_seed(seed.wrapping_add(i as u64))));
            }
        }
        self
    }

    /// Number of units (commands, and parts of split commands).
    pub fn units(&self) -> usize {
        self.units.len()
    }

    /// The next step, with the map as it is now. Call it first, and again after each
    /// step was carried out (for [`PlanStep::Send`]: after every batch's
    /// [`replies`](Self::replies)).
    pub fn next(&mut self, env: &Env<'_>) -> PlanStep {
        // Whether a unit asks for a step other than a send by the map (most rounds: none,
        // and the passes below that look for them are skipped).
        let mut asked = false;
        // The map's addresses met in this pass and their node index: the map hands out
        // the same `Addr` for every slot of a node, so most look-ups are a pointer compare.
        let mut met: Vec<(&Addr, usize)> = Vec::new();
        // Room in each new batch for its share of the units and a quarter more (keys
        // spread about evenly over the shards): a batch that grew one unit at a time would
        // be copied again and again.
        let shards = env.map.shards().len().max(1);
        let room = self.units.len() / shards * 5 / 4 + 8;
        for (i, u) in self.units.iter_mut().enumerate() {
            match u.state {
                State::Resume => {}
                State::Asked(_) => {
                    asked = true;
                    continue;
                }
                _ => continue,
            }
            // Most units: straight to their slot's node's batch, its address not copied
            // (what a fresh request's `resume` does, and `route_by_map` for one redirected
            // or retried before).
            let by_map = match (&mut u.req, u.slot) {
                (None, Some(slot)) => env.pick_ref(slot, u.write).ok(),
                (Some(req), _) => req.route_by_map(env),
                (None, None) => None,
            };
            let Some(addr) = by_map else {
                u.state = match u.req(&self.fresh, i).resume(env) {
                    Step::Done(r) => State::Done(r),
                    step => {
                        asked = true;
                        State::Asked(step)
                    }
                };
                continue;
            };
            let node = match met.iter().find(|(a, _)| std::ptr::eq(*a, addr)) {
                Some(&(_, node)) => node,
                None => {
                    let node = node_index(&mut self.pending, addr, room);
                    met.push((addr, node));
                    node
                }
            };
            if let Some(b) = self.pending.get_mut(node) {
                b.push(i, false, u.write);
                u.state = State::InFlight;
            }
        }
        if asked {
            if let Some(step) = self.asked_first() {
                return step;
            }
        }
        if !self.pending.is_empty() {
            return PlanStep::Send(std::mem::take(&mut self.pending));
        }
        let mut sleep: Option<Duration> = None;
        for u in self.units.iter_mut().filter(|_| asked) {
            if let State::Asked(Step::Sleep(d)) = u.state {
                sleep = Some(sleep.map_or(d, |s| s.max(d)));
                u.state = State::Resume;
            }
        }
        if let Some(d) = sleep {
            return PlanStep::Sleep(d);
        }
        PlanStep::Done(self.finish())
    }

    /// The steps units asked for that come before the sends: the `MOVED`s first (the map
    /// must learn them before anything is routed), then one refresh; and the units that
    /// asked to be sent somewhere (an `ASK`, a retry) are routed.
    fn asked_first(&mut self) -> Option<PlanStep> {
        let moved: Vec<(u16, Addr)> = self
            .units
            .iter_mut()
            .filter_map(|u| match &u.state {
                State::Asked(Step::Moved { slot, addr }) => {
                    let m = (*slot, addr.clone());
                    u.state = State::Resume;
                    Some(m)
                }
                _ => None,
            })
            .collect();
        if !moved.is_empty() {
            return Some(PlanStep::Moved(moved));
        }
        let mut refresh = false;
        for u in &mut self.units {
            if let State::Asked(Step::Refresh) = u.state {
                u.state = State::Resume;
                refresh = true;
            }
        }
        if refresh {
            return Some(PlanStep::Refresh);
        }
        for (i, u) in self.units.iter_mut().enumerate() {
            if let State::Asked(Step::Send { addr, asking }) = &u.state {
                let (node, asking) = (node_index(&mut self.pending, addr, 1), *asking);
                if let Some(b) = self.pending.get_mut(node) {
                    b.push(i, asking, u.write);
                    u.state = State::InFlight;
                }
            }
        }
        None
    }

    /// The commands of `batch` in the order they are written, `ASKING` in front of those
    /// an `ASK` sent to its node.
    pub fn commands<'a>(&'a self, batch: &'a Batch) -> impl Iterator<Item = &'a Cmd> + 'a {
        batch.units.iter().flat_map(move |&(i, asking)| {
            let asking = asking.then_some(&*ASKING);
            let cmd = self.units.get(i).map(|u| u.cmd.get());
            asking.into_iter().chain(cmd)
        })
    }

    /// The commands of `batch` as a pipeline of their own (copies them), for a connection
    /// that takes a [`Pipeline`].
    pub fn pipeline(&self, batch: &Batch) -> Pipeline {
        let mut p = Pipeline::with_capacity(batch.replies);
        for cmd in self.commands(batch) {
            p.add(cmd.clone());
        }
        p
    }

    /// The outcome of sending `batch`: its raw replies (`batch.expected_replies()`
    /// of them, error replies in place), or the connection failure. `sent` is false when
    /// nothing was written (no connection could be opened, or it was broken before the
    /// write): the units are then retried as never sent.
    pub fn replies(
        &mut self,
        batch: Batch,
        outcome: Result<Vec<Value>>,
        sent: bool,
        env: &Env<'_>,
    ) {
        let addr = batch.addr;
        let mut replies = match outcome {
            Ok(replies) if replies.len() == batch.replies => replies.into_iter(),
            Ok(replies) => {
                let e = Error::protocol(format!(
                    "pipeline expected {} replies, got {}",
                    batch.replies,
                    replies.len()
                ));
                return self.failed(&addr, &batch.units, e, true, env);
            }
            Err(e) => return self.failed(&addr, &batch.units, e, sent, env),
        };
        for (i, asking) in batch.units {
            if asking {
                // ASKING's own reply (OK, or an error the command's reply repeats).
                let _ = replies.next();
            }
            let reply = replies.next().unwrap_or_else(|| Value::Nil);
            if let Some(u) = self.units.get_mut(i) {
                if u.req.is_none() && !matches!(reply, Value::ServerError(_)) {
                    // What a fresh request's `reply` does with an answer that is not an
                    // error: it is the unit's result.
                    u.state = State::Done(Ok(reply));
                    continue;
                }
            }
            self.set(i, |req| req.reply(&addr, Ok(reply), env));
        }
    }

    fn failed(
        &mut self,
        addr: &Addr,
        units: &[(usize, bool)],
        e: Error,
        sent: bool,
        env: &Env<'_>,
    ) {
        for &(i, _) in units {
            let e = e.replicate();
            if sent {
                self.set(i, |req| req.reply(addr, Err(e), env));
            } else {
                self.set(i, |req| req.not_sent(addr, e, env));
            }
        }
    }

    fn set(&mut self, i: usize, f: impl FnOnce(&mut Request) -> Step) {
        if let Some(u) = self.units.get_mut(i) {
            u.state = match f(u.req(&self.fresh, i)) {
                Step::Done(r) => State::Done(r),
                step => State::Asked(step),
            };
        }
    }

    /// Every unit is done: the caller's replies, in order.
    fn finish(&mut self) -> Result<Vec<Value>> {
        let mut units = self.units.iter_mut();
        let mut take = || -> Result<Value> {
            match units
                .next()
                .map(|u| std::mem::replace(&mut u.state, State::Taken))
            {
                Some(State::Done(r)) => r,
                _ => Err(Error::protocol("cluster pipeline: a command got no reply")),
            }
        };
        let mut out = Vec::with_capacity(self.commands);
        let mut failure: Option<Error> = None;
        let keep = |r: Result<Value>, failure: &mut Option<Error>| match r {
            Ok(v) => v,
            Err(Error::Server(e)) => Value::ServerError(e),
            Err(e) => {
                failure.get_or_insert(e);
                Value::Nil
            }
        };
        let mut splits = self.splits.iter().peekable();
        for at in 0..self.commands {
            let Some(Split { split, .. }) = splits.next_if(|s| s.at == at) else {
                let r = take();
                out.push(keep(r, &mut failure));
                continue;
            };
            let parts: Vec<Result<Value>> = split.parts.iter().map(|_| take()).collect();
            // A connection failure of a part fails the pipeline; a server error is that
            // command's reply.
            let mut merged = None;
            for p in &parts {
                if let Err(e) = p {
                    if !matches!(e, Error::Server(_)) {
                        merged = Some(Err(e.replicate()));
                        break;
                    }
                }
            }
            let r = merged.unwrap_or_else(|| split.merge(parts));
            out.push(keep(r, &mut failure));
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

/// Where an atomic (`MULTI`/`EXEC`) pipeline goes: it runs whole on one node, so every
/// key of every command must be in one slot (its primary; a transaction without keys goes
/// to any primary). Errors before anything is sent: a command that changes connection
/// state, keys in several slots ([`Error::CrossSlot`]).
pub fn atomic_target(pipe: &Pipeline) -> Result<RequestTarget> {
    let mut slot: Option<u16> = None;
    for c in pipe.cmds() {
        refuse_connection_state(c)?;
        if let Some(s) = slot_of(c)? {
            match slot {
                Some(first) if first != s => {
                    return Err(Error::CrossSlot {
                        command: "MULTI".into(),
                        first,
                        other: s,
                    })
                }
                _ => slot = Some(s),
            }
        }
    }
    Ok(slot.map_or(RequestTarget::AnyPrimary, RequestTarget::Slot))
}

/// The cluster's refusal among an atomic pipeline's raw replies, if any: a redirect
/// (`MOVED`, `ASK`) or a brief refusal (`TRYAGAIN`, `CLUSTERDOWN`, ...) answered to
/// `MULTI` or a queued command means the transaction did not run (`EXEC` answers
/// `EXECABORT`), so the request flow follows it as a single command's ([`Request::reply`]
/// with `Err(Error::Server(refusal))`).
pub fn atomic_refusal(raw: &[Value]) -> Option<ServerError> {
    raw.iter().find_map(|v| match v {
        Value::ServerError(e)
            if matches!(
                e.kind(),
                ServerErrorKind::Moved { .. } | ServerErrorKind::Ask { .. }
            ) || (e.kind() != &ServerErrorKind::ExecAbort
                && Error::Server(e.clone()).is_retriable()) =>
        {
            Some(e.clone())
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slot::slot;
    use crate::slot_map::{Node, NodeRole, Shard, SlotMap};
    use redis_core::cmd;

    fn a(p: u16) -> Addr {
        Addr::tcp("127.0.0.1", p)
    }

    /// 0..=8191 on node 1, 8192..=16383 on node 2.
    fn map() -> SlotMap {
        let shard = |p| Shard {
            primary: Node::new(a(p), NodeRole::Primary),
            replicas: vec![],
        };
        SlotMap::new(vec![
            (vec![0..=8191], shard(1)),
            (vec![8192..=16383], shard(2)),
        ])
        .unwrap()
    }

    /// Two keys, one per node.
    fn keys() -> (&'static str, &'static str) {
        let (k1, k2) = ("a", "b");
        assert!(slot(k1.as_bytes()) > 8191 && slot(k2.as_bytes()) <= 8191);
        (k1, k2) // a on node 2, b on node 1
    }

    fn plan(p: &Pipeline) -> Plan<'_> {
        Plan::new(p, &RequestPolicy::default(), false, Instant::now())
            .unwrap()
            .with_seed(3)
    }

    fn batches(step: PlanStep) -> Vec<Batch> {
        match step {
            PlanStep::Send(b) => b,
            other => panic!("expected sends, got {other:?}"),
        }
    }

    fn bulk(s: &'static str) -> Value {
        Value::BulkString(bytes::Bytes::from_static(s.as_bytes()))
    }

    fn server(line: &str) -> Value {
        Value::ServerError(ServerError::parse(line))
    }

    #[test]
    fn groups_per_node_and_merges_in_caller_order() {
        let (ka, kb) = keys();
        let m = map();
        let env = Env::new(&m, Instant::now());
        let mut p = Pipeline::new();
        p.add(cmd("SET").with(ka).with(1))
            .add(cmd("GET").with(kb))
            .add(cmd("MGET").with(kb).with(ka).with(kb))
            .add(cmd("INCR").with(ka))
            .add(cmd("PING"));
        let mut plan = plan(&p);
        assert_eq!(plan.units(), 6);
        let sent = batches(plan.next(&env));
        assert_eq!(sent.len(), 2, "one batch per node");
        for b in sent {
            let replies: Vec<Value> = plan
                .commands(&b)
                .map(|c| match c.name().as_str() {
                    "SET" => Value::Okay,
                    "GET" => bulk("vb"),
                    "MGET" if c.argc() == 2 => Value::Array(vec![bulk("va")]),
                    "MGET" => Value::Array(vec![bulk("vb"), bulk("vb")]),
                    "INCR" => server("WRONGTYPE not a number"),
                    "PING" => Value::SimpleString("PONG".into()),
                    other => panic!("{other}"),
                })
                .collect();
            plan.replies(b, Ok(replies), true, &env);
        }
        let PlanStep::Done(Ok(out)) = plan.next(&env) else {
            panic!("not done")
        };
        assert_eq!(out.len(), 5);
        assert_eq!(out[0], Value::Okay);
        assert_eq!(out[1], bulk("vb"));
        assert_eq!(
            out[2],
            Value::Array(vec![bulk("vb"), bulk("va"), bulk("vb")])
        );
        assert!(
            matches!(out[3], Value::ServerError(_)),
            "error replies stay in place"
        );
        assert_eq!(out[4], Value::SimpleString("PONG".into()));
    }

    #[test]
    fn redirected_entries_are_replanned_on_their_own() {
        let (ka, kb) = keys();
        let m = map();
        let env = Env::new(&m, Instant::now());
        let mut p = Pipeline::new();
        p.add(cmd("SET").with(ka).with(1))
            .add(cmd("SET").with(kb).with(2))
            .add(cmd("GET").with(ka));
        let mut plan = plan(&p);
        let sa = slot(ka.as_bytes());
        for b in batches(plan.next(&env)) {
            let replies = if b.addr == a(2) {
                // SET a moved to node 3; GET a is being migrated to node 4.
                vec![
                    server(&format!("MOVED {sa} 127.0.0.1:3")),
                    server(&format!("ASK {sa} 127.0.0.1:4")),
                ]
            } else {
                vec![Value::Okay]
            };
            plan.replies(b, Ok(replies), true, &env);
        }
        match plan.next(&env) {
            PlanStep::Moved(m) => assert_eq!(m, vec![(sa, a(3))]),
            other => panic!("{other:?}"),
        }
        let mut sent = batches(plan.next(&env));
        sent.sort_by_key(|b| b.addr.to_string());
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].addr, a(3));
        assert_eq!(plan.commands(&sent[0]).count(), 1);
        assert_eq!(sent[1].addr, a(4));
        let asked = plan.pipeline(&sent[1]);
        assert_eq!(asked.cmds()[0], cmd("ASKING"));
        assert_eq!(asked.len(), 2);
        assert_eq!(sent[1].expected_replies(), 2);
        for b in sent {
            let replies = if b.addr == a(3) {
                vec![Value::Okay]
            } else {
                vec![Value::Okay, bulk("1")]
            };
            plan.replies(b, Ok(replies), true, &env);
        }
        let PlanStep::Done(Ok(out)) = plan.next(&env) else {
            panic!("not done")
        };
        assert_eq!(out, vec![Value::Okay, Value::Okay, bulk("1")]);
    }

    #[test]
    fn refusals_refresh_once_and_connection_failures_fail_writes() {
        let (ka, kb) = keys();
        let m = map();
        let env = Env::new(&m, Instant::now());
        let mut p = Pipeline::new();
        p.add(cmd("SET").with(ka).with(1))
            .add(cmd("SET").with(kb).with(2));
        let mut plan = plan(&p);
        for b in batches(plan.next(&env)) {
            let replies = vec![server("CLUSTERDOWN the cluster is down")];
            plan.replies(b, Ok(replies), true, &env);
        }
        assert!(matches!(plan.next(&env), PlanStep::Sleep(_)));
        assert!(
            matches!(plan.next(&env), PlanStep::Refresh),
            "one refresh for both"
        );
        let sent = batches(plan.next(&env));
        assert_eq!(sent.len(), 2);
        for b in sent {
            if b.addr == a(1) {
                plan.replies(b, Ok(vec![Value::Okay]), true, &env);
            } else {
                let reset = Error::Io(std::io::ErrorKind::ConnectionReset.into());
                plan.replies(b, Err(reset), true, &env);
            }
        }
        match plan.next(&env) {
            PlanStep::Done(Err(Error::MayHaveExecuted(_))) => {}
            other => panic!("{other:?}"),
        }
        // Never sent: retried.
        let mut plan = Plan::new(&p, &RequestPolicy::default(), false, Instant::now()).unwrap();
        for b in batches(plan.next(&env)) {
            plan.replies(
                b,
                Err(Error::Io(std::io::ErrorKind::ConnectionRefused.into())),
                false,
                &env,
            );
        }
        assert!(matches!(plan.next(&env), PlanStep::Sleep(_)));
        assert!(matches!(plan.next(&env), PlanStep::Refresh));
        assert_eq!(batches(plan.next(&env)).len(), 2);
    }

    #[test]
    fn refuses_what_cannot_be_pipelined_across_nodes() {
        let policy = RequestPolicy::default();
        let now = Instant::now();
        let refused = |c: Cmd| {
            let mut p = Pipeline::new();
            p.add(c);
            Plan::new(&p, &policy, true, now).unwrap_err()
        };
        assert!(matches!(refused(cmd("FLUSHALL")), Error::InvalidRequest(_)));
        assert!(matches!(
            refused(cmd("WATCH").with("a")),
            Error::InvalidRequest(_)
        ));
        assert!(matches!(
            refused(cmd("SELECT").with(1)),
            Error::InvalidRequest(_)
        ));
        assert!(matches!(
            refused(cmd("RENAME").with("a").with("b")),
            Error::CrossSlot { .. }
        ));
        let mut p = Pipeline::new();
        p.atomic().add(cmd("SET").with("a").with(1));
        assert!(Plan::new(&p, &policy, true, now).is_err());
        // An empty pipeline is done at once.
        let empty = Pipeline::new();
        let mut plan = Plan::new(&empty, &policy, true, now).unwrap();
        let m = map();
        assert!(matches!(
            plan.next(&Env::new(&m, now)),
            PlanStep::Done(Ok(v)) if v.is_empty()
        ));
    }

    #[test]
    fn atomic_pipelines_run_whole_on_their_slot() {
        let mut p = Pipeline::new();
        p.atomic()
            .add(cmd("SET").with("{t}a").with(1))
            .add(cmd("INCR").with("{t}b"));
        assert_eq!(
            atomic_target(&p).unwrap(),
            RequestTarget::Slot(slot(b"{t}a"))
        );
        let mut keyless = Pipeline::new();
        keyless.atomic().add(cmd("PING"));
        assert_eq!(atomic_target(&keyless).unwrap(), RequestTarget::AnyPrimary);
        let mut cross = Pipeline::new();
        cross
            .atomic()
            .add(cmd("GET").with("a"))
            .add(cmd("GET").with("b"));
        assert!(matches!(
            atomic_target(&cross),
            Err(Error::CrossSlot { .. })
        ));
        let mut watch = Pipeline::new();
        watch.atomic().add(cmd("WATCH").with("a"));
        assert!(matches!(
            atomic_target(&watch),
            Err(Error::InvalidRequest(_))
        ));

        let e = |line: &str| Value::ServerError(ServerError::parse(line));
        let ok = || Value::SimpleString("QUEUED".into());
        let moved = [
            Value::Okay,
            e("MOVED 5 h:1"),
            ok(),
            e("EXECABORT Transaction discarded"),
        ];
        assert_eq!(
            atomic_refusal(&moved).map(|e| e.code().to_owned()),
            Some("MOVED".into())
        );
        let down = [e("CLUSTERDOWN The cluster is down"), e("EXECABORT x")];
        assert!(atomic_refusal(&down).is_some());
        // A command's own error inside EXEC's reply is the caller's, not a refusal.
        let ran = [Value::Okay, ok(), Value::Array(vec![e("WRONGTYPE x")])];
        assert_eq!(atomic_refusal(&ran), None);
        assert_eq!(atomic_refusal(&[Value::Okay, e("EXECABORT x")]), None);
    }
}
