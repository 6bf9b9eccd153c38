//! The blocking drive loops: carry out what a [`Request`] or a [`Plan`] asks, over any
//! set of node connections ([`Nodes`]: one connection per node, or per-node pools).
//!
//! Everything decided here is decided by the pure modules; this file only sends, sleeps,
//! refreshes and fans out.
//!
//! A pipeline across nodes is written to every node before any reply is read: each node
//! reads, runs and answers its commands while the client writes to the next one and reads
//! the first one's replies, so the pipeline costs about one round trip, from one thread.
//! Redis buffers a client's replies without bound while it reads its requests, so writing
//! a whole batch before reading cannot deadlock; the write timeout bounds it anyway.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Instant;

use redis_core::{Addr, Cmd, Error, Pipeline, Result, Value};
use redis_sync::{Connection, ConnectionLike, PooledConnection};

use crate::plan::{atomic_refusal, atomic_target, Batch, Plan, PlanStep};
use crate::request::{Request, RequestTarget, Step};
use crate::route::{is_write, merge, route_request, Route};

use super::client::Shared;

/// How one send went.
pub(crate) enum Sent {
    /// No connection to the node could be had: nothing was written.
    NotSent(Error),
    /// Written (or at least handed to a connection); its replies or its failure.
    Sent(Result<Vec<Value>>),
}

/// A connection to one node, the caller's alone until it is released: a
/// [`ClusterConnection`](super::ClusterConnection)'s own, or one checked out of the node's
/// pool.
pub(crate) enum Held {
    Own(Connection),
    Pooled(PooledConnection),
}

impl Deref for Held {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            Held::Own(c) => c,
            Held::Pooled(c) => c,
        }
    }
}

impl DerefMut for Held {
    fn deref_mut(&mut self) -> &mut Connection {
        match self {
            Held::Own(c) => c,
            Held::Pooled(c) => c,
        }
    }
}

/// A set of node connections the loops send on.
pub(crate) trait Nodes {
    /// The shared client state.
    fn shared(&self) -> &Arc<Shared>;

    /// A connection to `addr` (opened if needed), held until [`release`](Self::release).
    fn hold(&mut self, addr: &Addr) -> Result<Held>;

    /// Gives back what [`hold`](Self::hold) gave (a broken connection is dropped).
    fn release(&mut self, addr: &Addr, held: Held);

    /// Runs `f` on a connection to `addr` (opened if needed).
    fn send(
        &mut self,
        addr: &Addr,
        f: &mut dyn FnMut(&mut Connection) -> Result<Vec<Value>>,
    ) -> Sent {
        match self.hold(addr) {
            Err(e) => Sent::NotSent(e),
            Ok(mut con) => {
                let result = f(&mut con);
                self.release(addr, con);
                Sent::Sent(result)
            }
        }
    }
}

/// One command, routed (split, fanned out or sent to its slot's node).
pub(crate) fn req(nodes: &mut (impl Nodes + ?Sized), cmd: &Cmd) -> Result<Value> {
    let routed = route_request(cmd, nodes.shared().config.retry_idempotent_writes)?;
    nodes.shared().refresh_if_due();
    let safe = routed.retry_safe;
    match routed.route {
        Route::Slot { slot, write } => run(nodes, cmd, RequestTarget::Slot(slot), write, safe),
        Route::AnyPrimary { write } => run(nodes, cmd, RequestTarget::AnyPrimary, write, safe),
        Route::Split(_) => {
            let mut pipe = Pipeline::with_capacity(1);
            pipe.add(cmd.clone());
            let mut replies = pipeline(nodes, &pipe)?;
            replies
                .pop()
                .ok_or_else(|| Error::protocol("split command: no reply"))?
                .into_result()
        }
        r @ (Route::AllPrimaries(_) | Route::AllNodes(_)) => fan_out(nodes, cmd, &r, safe),
    }
}

/// One request to one target, through the request loop. `safe`: whether `cmd` may be
/// re-sent after it may have run ([`redis_core::command_table::is_retry_safe`] with the config's opt-in).
pub(crate) fn run(
    nodes: &mut (impl Nodes + ?Sized),
    cmd: &Cmd,
    target: RequestTarget,
    write: bool,
    safe: bool,
) -> Result<Value> {
    let shared = nodes.shared().clone();
    let mut req = Request::new(target, write, safe, &shared.policy, Instant::now());
    let mut map = shared.snapshot();
    let mut step = shared.with_env(&map, |env| req.start(env));
    loop {
        step = match step {
            Step::Send { addr, asking } => {
                let started = Instant::now();
                // The reply, kept aside (no one-element Vec per request).
                let mut reply = None;
                let sent = nodes.send(&addr, &mut |con| {
                    reply = Some(if asking {
                        let mut p = Pipeline::with_capacity(2);
                        p.add(crate::asking()).add(cmd.clone());
                        let mut replies = con.req_pipeline(&p)?;
                        replies.pop().unwrap_or(Value::Nil)
                    } else {
                        con.req(cmd)?
                    });
                    Ok(Vec::new())
                });
                // A plain reply ends the request without a look at the map (as `reply`
                // would); anything else is handed to `reply`/`not_sent` as before.
                let sent = match sent {
                    Sent::Sent(r) => {
                        let r = r.map(|_| reply.take().unwrap_or(Value::Nil));
                        match req.reply_settled(r) {
                            Ok(v) => {
                                if shared.measures_latency() {
                                    shared.observe(&addr, started.elapsed());
                                }
                                return Ok(v);
                            }
                            Err(r) => Sent::Sent(r.map(|v| vec![v])),
                        }
                    }
                    not_sent => not_sent,
                };
                map = shared.snapshot();
                shared.with_env(&map, |env| match sent {
                    Sent::NotSent(e) => {
                        shared.node_failed(&addr);
                        req.not_sent(&addr, e, env)
                    }
                    Sent::Sent(r) => {
                        if r.as_ref().is_err_and(Error::is_connection_dropped) {
                            shared.node_failed(&addr);
                        } else if shared.measures_latency() {
                            shared.observe(&addr, started.elapsed());
                        }
                        let r = r.map(|mut v| v.pop().unwrap_or(Value::Nil));
                        req.reply(&addr, r, env)
                    }
                })
            }
            step @ (Step::Moved { .. } | Step::Refresh | Step::Sleep(_)) => {
                between_sends(&shared, &mut map, &mut req, step)
            }
            Step::Done(r) => return r,
        };
    }
}

/// A command sent to every primary (or every node), replies merged by its policy.
fn fan_out(
    nodes: &mut (impl Nodes + ?Sized),
    cmd: &Cmd,
    route: &Route,
    safe: bool,
) -> Result<Value> {
    let (addrs, policy) = route.fan_out(&nodes.shared().snapshot());
    let write = is_write(cmd);
    let replies: Vec<Result<Value>> = addrs
        .into_iter()
        .map(|addr| run(nodes, cmd, RequestTarget::Node(addr), write, safe))
        .collect();
    merge(policy, replies)
}

/// A pipeline: atomic ones whole on their slot's primary, others through a [`Plan`].
pub(crate) fn pipeline(nodes: &mut (impl Nodes + ?Sized), pipe: &Pipeline) -> Result<Vec<Value>> {
    nodes.shared().refresh_if_due();
    if pipe.is_atomic() {
        return atomic(nodes, pipe);
    }
    let shared = nodes.shared().clone();
    let writes = shared.config.retry_idempotent_writes;
    let mut plan = Plan::new(pipe, &shared.policy, writes, Instant::now())?;
    loop {
        let map = shared.snapshot();
        let step = shared.with_env(&map, |env| plan.next(env));
        match step {
            PlanStep::Send(batches) => {
                let outcomes = send_batches(nodes, &plan, &batches);
                for (batch, sent) in batches.into_iter().zip(outcomes) {
                    let map = shared.snapshot();
                    shared.with_env(&map, |env| match sent {
                        Sent::NotSent(e) => {
                            shared.node_failed(&batch.addr);
                            plan.replies(batch, Err(e), false, env)
                        }
                        Sent::Sent(r) => {
                            if r.as_ref().is_err_and(Error::is_connection_dropped) {
                                shared.node_failed(&batch.addr);
                            }
                            plan.replies(batch, r, true, env)
                        }
                    });
                }
            }
            PlanStep::Moved(moved) => {
                for (slot, addr) in moved {
                    shared.apply_moved(slot, addr);
                }
            }
            PlanStep::Refresh => {
                let _ = shared.refresh(&[], true);
            }
            PlanStep::Sleep(d) => std::thread::sleep(d),
            PlanStep::Done(r) => return r,
        }
    }
}

/// Writes every batch to its node, then reads every node's replies (see the module
/// docs); the outcomes in the batches' order.
fn send_batches(
    nodes: &mut (impl Nodes + ?Sized),
    plan: &Plan<'_>,
    batches: &[Batch],
) -> Vec<Sent> {
    let held: Vec<(Result<Held>, Result<()>)> = batches
        .iter()
        .map(|b| match nodes.hold(&b.addr) {
            Ok(mut con) => {
                let written = con.write_pipeline(plan.commands(b));
                (Ok(con), written)
            }
            Err(e) => (Err(e), Ok(())),
        })
        .collect();
    batches
        .iter()
        .zip(held)
        .map(|(b, (con, written))| match con {
            Err(e) => Sent::NotSent(e),
            Ok(mut con) => {
                let replies = written.and_then(|()| con.read_pipeline());
                nodes.release(&b.addr, con);
                Sent::Sent(replies)
            }
        })
        .collect()
}

/// A MULTI/EXEC pipeline: every key in one slot, run whole on that slot's primary,
/// following redirects and refusals as one request (a redirect of any queued command
/// means none ran).
fn atomic(nodes: &mut (impl Nodes + ?Sized), pipe: &Pipeline) -> Result<Vec<Value>> {
    let target = atomic_target(pipe)?;
    let shared = nodes.shared().clone();
    let mut req = Request::new(target, true, false, &shared.policy, Instant::now());
    let mut map = shared.snapshot();
    let mut step = shared.with_env(&map, |env| req.start(env));
    let mut raw: Option<Vec<Value>> = None;
    loop {
        step = match step {
            Step::Send { addr, asking } => {
                let sent = nodes.send(&addr, &mut |con| {
                    if asking {
                        con.req(&crate::asking())?;
                    }
                    con.req_pipeline(pipe)
                });
                map = shared.snapshot();
                shared.with_env(&map, |env| match sent {
                    Sent::NotSent(e) => req.not_sent(&addr, e, env),
                    Sent::Sent(Err(e)) => req.reply(&addr, Err(e), env),
                    Sent::Sent(Ok(replies)) => {
                        // A cluster refusal of a queued command: nothing ran.
                        let refusal = atomic_refusal(&replies);
                        match refusal {
                            Some(e) => req.reply(&addr, Err(Error::Server(e)), env),
                            None => {
                                raw = Some(replies);
                                req.reply(&addr, Ok(Value::Nil), env)
                            }
                        }
                    }
                })
            }
            step @ (Step::Moved { .. } | Step::Refresh | Step::Sleep(_)) => {
                between_sends(&shared, &mut map, &mut req, step)
            }
            Step::Done(r) => {
                r?;
                return raw.ok_or_else(|| Error::protocol("transaction: no replies"));
            }
        };
    }
}

/// Carries out a step of the request loop that is neither a send nor the end (record a
/// `MOVED`, refresh the map, back off), then resumes the request by the map as it is now.
fn between_sends(
    shared: &Arc<Shared>,
    map: &mut Arc<crate::SlotMap>,
    req: &mut Request,
    step: Step,
) -> Step {
    match step {
        Step::Moved { slot, addr } => shared.apply_moved(slot, addr),
        Step::Refresh => {
            let _ = shared.refresh(&[], true);
        }
        Step::Sleep(d) => std::thread::sleep(d),
        other => return other,
    }
    *map = shared.snapshot();
    shared.with_env(map, |env| req.resume(env))
}
