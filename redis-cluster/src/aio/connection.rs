//! [`ClusterConnection`]: routes each command to its node and carries out what the pure
//! request flow decides (send, refresh, wait), one command, a split command, a fan-out or
//! a pipeline at a time.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use redis_async::{Connection, ConnectionLike, DedicatedConnection};
use redis_core::{Addr, Cmd, Error, FromValue, Pipeline, Result, ToArgs, Value};

use super::join::{join_all, Boxed};
use super::scan::ClusterScan;
use super::Shared;
use crate::plan::{atomic_refusal, atomic_target};
use crate::route::is_write;
use crate::{
    merge, route_request, Batch, Plan, PlanStep, Request, RequestTarget, ResponsePolicy, Route,
    SlotSplit, Step,
};

/// A connection to the whole cluster (see the [module docs](super)). Cheap to clone;
/// clones share the node connections and the slot map.
#[derive(Clone)]
pub struct ClusterConnection {
    shared: Arc<Shared>,
}

impl fmt::Debug for ClusterConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterConnection")
            .field("covered_slots", &self.shared.map().covered_slots())
            .finish_non_exhaustive()
    }
}

impl ClusterConnection {
    pub(crate) fn new(shared: Arc<Shared>) -> ClusterConnection {
        ClusterConnection { shared }
    }

    /// The slot map as the client sees it now.
    pub fn slot_map(&self) -> Arc<crate::SlotMap> {
        self.shared.map()
    }

    /// A connection of its own to the primary serving `key`'s slot (see
    /// [`ClusterClient::get_exclusive`](super::ClusterClient::get_exclusive)).
    ///
    /// ```no_run
    /// # use redis_async::{transaction, Commands, Query, commands};
    /// # async fn run(cluster: redis_cluster::aio::ClusterConnection) -> redis_core::Result<()> {
    /// let mut con = cluster.get_exclusive("{acct}.a").await?;
    /// let _: () = transaction(&mut con, ("{acct}.a", "{acct}.b"), async |con, pipe| {
    ///     let a: i64 = con.get::<_, Option<i64>>("{acct}.a").await?.unwrap_or(0);
    ///     pipe.add(commands::set("{acct}.b", a)).ignore();
    ///     pipe.query(con).await
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_exclusive(&self, key: impl AsRef<[u8]>) -> Result<DedicatedConnection> {
        self.shared.exclusive(key.as_ref()).await
    }

    /// Every key of the cluster (`SCAN` on each primary in turn, see [`ClusterScan`]).
    /// Same name as `redis_async::Scan::scan_iter`, which a cluster connection cannot use
    /// (its `SCAN` would go to one node).
    pub fn scan_iter<T: FromValue>(&self) -> ClusterScan<T> {
        ClusterScan::new(self.clone(), ())
    }

    /// Keys matching a glob pattern, over the whole cluster (`SCAN ... MATCH pattern`).
    pub fn scan_match_iter<P: ToArgs, T: FromValue>(&self, pattern: P) -> ClusterScan<T> {
        ClusterScan::new(self.clone(), ("MATCH", pattern))
    }

    /// A cluster-wide `SCAN` with any options (`MATCH`, `COUNT`, `TYPE`).
    pub fn scan_options_iter<O: ToArgs, T: FromValue>(&self, options: O) -> ClusterScan<T> {
        ClusterScan::new(self.clone(), options)
    }

    /// Runs one command wherever [`route`] sends it.
    async fn run(&self, cmd: &Cmd) -> Result<Value> {
        let routed = route_request(cmd, self.shared.idempotent_writes())?;
        let safe = routed.retry_safe;
        match routed.route {
            Route::Slot { slot, write } => {
                self.drive(Payload::One(cmd), RequestTarget::Slot(slot), write, safe)
                    .await
            }
            Route::AnyPrimary { write } => {
                self.drive(Payload::One(cmd), RequestTarget::AnyPrimary, write, safe)
                    .await
            }
            Route::Split(split) => self.run_split(&split).await,
            r @ (Route::AllPrimaries(_) | Route::AllNodes(_)) => {
                let (addrs, policy) = r.fan_out(&self.shared.map());
                self.fan_out(cmd, addrs, policy).await
            }
        }
    }

    /// A split multi-key command: every part at once, merged in the caller's key order.
    async fn run_split(&self, split: &SlotSplit) -> Result<Value> {
        let parts: Vec<Boxed<'_, Result<Value>>> = split
            .parts
            .iter()
            .map(|p| {
                Box::pin(self.request(&p.cmd, RequestTarget::Slot(p.slot), split.write))
                    as Boxed<'_, _>
            })
            .collect();
        split.merge(join_all(parts).await)
    }

    /// A command for several nodes: sent to each at once, replies merged by `policy`.
    async fn fan_out(&self, cmd: &Cmd, addrs: Vec<Addr>, policy: ResponsePolicy) -> Result<Value> {
        let write = is_write(cmd);
        let sends: Vec<Boxed<'_, Result<Value>>> = addrs
            .into_iter()
            .map(|addr| {
                Box::pin(self.request(cmd, RequestTarget::Node(addr), write)) as Boxed<'_, _>
            })
            .collect();
        merge(policy, join_all(sends).await)
    }

    /// One command through the shared request flow: this function only carries out the
    /// steps ([`Request`] decides them).
    pub(crate) async fn request(
        &self,
        cmd: &Cmd,
        target: RequestTarget,
        write: bool,
    ) -> Result<Value> {
        let retry_safe = self.shared.retry_safe(cmd);
        self.drive(Payload::One(cmd), target, write, retry_safe)
            .await
    }

    /// Carries out a request's steps for `payload`.
    async fn drive(
        &self,
        payload: Payload<'_>,
        target: RequestTarget,
        write: bool,
        retry_safe: bool,
    ) -> Result<Value> {
        let sh = &self.shared;
        let mut req = Request::new(
            target,
            write,
            retry_safe,
            &sh.settings.policy,
            Instant::now(),
        );
        let mut step = sh.with_env(&sh.map(), |env| req.start(env));
        loop {
            step = match step {
                Step::Send { addr, asking } => match sh.nodes.connection(&addr, write).await {
                    Err(e) => sh.with_env(&sh.map(), |env| req.not_sent(&addr, e, env)),
                    Ok(mut con) => {
                        let sent_at = Instant::now();
                        let outcome = send(&mut con, payload, asking).await;
                        match &outcome {
                            Ok(_) if sh.measures_latency() => {
                                sh.nodes.health().observe(&addr, sent_at.elapsed());
                            }
                            Err(e) if e.is_connection_dropped() => sh.node_failed(&addr),
                            _ => {}
                        }
                        match req.reply_settled(outcome) {
                            Ok(v) => return Ok(v),
                            Err(outcome) => {
                                sh.with_env(&sh.map(), |env| req.reply(&addr, outcome, env))
                            }
                        }
                    }
                },
                Step::Done(result) => return result,
                other => sh.carry_out(&mut req, other).await,
            }
        }
    }

    /// A pipeline through the shared plan: one sub-pipeline per node, all at once.
    async fn pipeline(&self, pipe: &Pipeline) -> Result<Vec<Value>> {
        let sh = &self.shared;
        let mut plan = Plan::new(
            pipe,
            &sh.settings.policy,
            sh.idempotent_writes(),
            Instant::now(),
        )?;
        loop {
            match sh.with_env(&sh.map(), |env| plan.next(env)) {
                PlanStep::Send(batches) => {
                    let sends: Vec<Boxed<'_, _>> = batches
                        .into_iter()
                        .map(|b| {
                            let pipeline = plan.pipeline(&b);
                            Box::pin(self.send_batch(b, pipeline)) as Boxed<'_, _>
                        })
                        .collect();
                    for (batch, outcome, sent) in join_all(sends).await {
                        sh.with_env(&sh.map(), |env| plan.replies(batch, outcome, sent, env));
                    }
                }
                PlanStep::Moved(moved) => {
                    for (slot, addr) in moved {
                        sh.apply_moved(slot, addr);
                    }
                }
                PlanStep::Refresh => sh.refreshed().await,
                PlanStep::Sleep(d) => tokio::time::sleep(d).await,
                PlanStep::Done(result) => return result,
            }
        }
    }

    /// Sends one node's batch (its commands as `pipeline`); the outcome and whether
    /// anything may have been written.
    async fn send_batch(
        &self,
        batch: Batch,
        pipeline: Pipeline,
    ) -> (Batch, Result<Vec<Value>>, bool) {
        let write = batch.is_write();
        match self.shared.nodes.connection(&batch.addr, write).await {
            Err(e) => (batch, Err(e), false),
            Ok(mut con) => {
                let outcome = con.req_pipeline(&pipeline).await;
                if outcome.as_ref().is_err_and(Error::is_connection_dropped) {
                    self.shared.node_failed(&batch.addr);
                }
                let sent = !matches!(outcome, Err(Error::Broken(_)));
                (batch, outcome, sent)
            }
        }
    }

    /// An atomic (`MULTI`/`EXEC`) pipeline: every key in one slot, run whole on that slot's
    /// primary through the request flow ([`atomic_target`]). A refusal answered to a
    /// queued command aborted the transaction, so it is followed like a single command's
    /// ([`atomic_refusal`]).
    async fn atomic(&self, pipe: &Pipeline) -> Result<Vec<Value>> {
        let target = atomic_target(pipe)?;
        match self
            .drive(Payload::Atomic(pipe), target, true, false)
            .await?
        {
            Value::Array(raw) => Ok(raw),
            other => Err(Error::protocol(format!(
                "atomic pipeline answered {}",
                other.describe()
            ))),
        }
    }
}

/// What one request sends.
#[derive(Clone, Copy)]
enum Payload<'a> {
    /// A command.
    One(&'a Cmd),
    /// A whole `MULTI`/`EXEC` pipeline; its raw replies come back as one array.
    Atomic(&'a Pipeline),
}

/// Sends `payload` on `con`, after `ASKING` in the same write when `asking`.
async fn send(con: &mut Connection, payload: Payload<'_>, asking: bool) -> Result<Value> {
    let cmd = match payload {
        Payload::One(cmd) => cmd,
        Payload::Atomic(pipe) => {
            // An ASK is not followed into a transaction (ASKING covers one command); the
            // MOVED that follows the migration is.
            let raw = con.req_pipeline(pipe).await?;
            return Ok(match atomic_refusal(&raw) {
                Some(e) => Value::ServerError(e),
                None => Value::Array(raw),
            });
        }
    };
    if !asking {
        return con.req(cmd).await;
    }
    let mut p = Pipeline::new();
    p.add(crate::asking());
    p.add(cmd.clone());
    let mut replies = con.req_pipeline(&p).await?;
    Ok(replies.pop().unwrap_or(Value::Nil))
}

impl ConnectionLike for ClusterConnection {
    async fn req(&mut self, cmd: &Cmd) -> Result<Value> {
        self.run(cmd).await
    }

    async fn req_pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Value>> {
        if pipe.is_atomic() {
            self.atomic(pipe).await
        } else {
            self.pipeline(pipe).await
        }
    }
}
