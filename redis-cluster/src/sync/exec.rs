//! The blocking drive loops: carry out what a [`Request`] or a [`Plan`] asks, over any
//! set of node connections ([`Nodes`]: one connection per node, or per-node pools).
//!
//! Everything decided here is decided by the pure modules; this file only sends, sleeps,
//! refreshes and fans out.

use std::sync::Arc;
use std::time::Instant;

use redis_core::{Addr, Cmd, Error, Pipeline, Result, Value};
use redis_sync::ConnectionLike;

use crate::plan::{atomic_refusal, atomic_target, Plan, PlanStep};
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

/// A set of node connections the loops send on.
pub(crate) trait Nodes {
    /// The shared client state.
    fn shared(&self) -> &Arc<Shared>;

    /// Runs `f` on a connection to `addr` (opened if needed).
    fn send(
        &mut self,
        addr: &Addr,
        f: &mut dyn FnMut(&mut dyn ConnectionLike) -> Result<Vec<Value>>,
    ) -> Sent;

    /// Sends each pipeline to its node (the nodes are distinct); the outcomes in the same
    /// order. This one sends them one after the other; a set of connections that can use
    /// several at once overrides it so that the nodes work at the same time.
    fn send_pipelines(&mut self, batches: &[(&Addr, &Pipeline)]) -> Vec<Sent> {
        batches
            .iter()
            .map(|(addr, p)| self.send(addr, &mut |con| con.req_pipeline(p)))
            .collect()
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
                let work: Vec<(&Addr, &Pipeline)> =
                    batches.iter().map(|b| (&b.addr, &b.pipeline)).collect();
                let outcomes = nodes.send_pipelines(&work);
                drop(work);
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
