//! [`ClusterConnection`]: routes each command to its node and carries out what the pure
//! request flow decides (send, refresh, wait), one command, a split command, a fan-out or
//! a pipeline at a time.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis_async::{ConnectionLike, DedicatedConnection};
use redis_core::{Addr, Cmd, Pipeline, Result, ToArgs, Value};

use super::join::{join_all, Boxed};
use super::Shared;
use crate::{merge, route, ResponsePolicy, Route, SlotSplit, SLOT_COUNT};

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

    /// An exclusive connection to the primary of `key`'s slot, for a WATCH/MULTI/EXEC
    /// transaction with [`redis_async::transaction`] (every key of a transaction must be
    /// in that slot: give them one hash tag). The connection is the cluster's like any
    /// other: it ends if the node is failed over, and the transaction then fails rather
    /// than run on a demoted node.
    ///
    /// ```no_run
    /// # use redis_async::{transaction, Commands, Query, commands};
    /// # async fn run(cluster: redis_cluster::aio::ClusterConnection) -> redis_core::Result<()> {
    /// let mut con = cluster.dedicated_connection("{acct}.a").await?;
    /// let _: () = transaction(&mut con, ("{acct}.a", "{acct}.b"), async |con, pipe| {
    ///     let a: i64 = con.get::<_, Option<i64>>("{acct}.a").await?.unwrap_or(0);
    ///     pipe.add(commands::set("{acct}.b", a)).ignore();
    ///     pipe.query(con).await
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn dedicated_connection<K: ToArgs>(&self, key: K) -> Result<DedicatedConnection> {
        let probe = Cmd::new("GET").with(key);
        let slot = crate::slot(probe.arg_at(1).unwrap_or_default());
        let addr = match self.shared.map().primary_for(slot) {
            Some(node) => node.addr.clone(),
            None => {
                return Err(redis_core::Error::InvalidRequest(format!(
                    "slot {slot} is not served by any node"
                )))
            }
        };
        self.shared.nodes.dedicated(&addr).await
    }

    /// Runs one command wherever [`route`] sends it.
    async fn run(&self, cmd: &Cmd) -> Result<Value> {
        match route(cmd)? {
            Route::Slot { slot, write } => self.run_slot(cmd, slot, write).await,
            Route::AnyPrimary { write } => {
                let slot = (rand::random::<u16>()) % SLOT_COUNT;
                self.run_slot(cmd, slot, write).await
            }
            Route::Split(split) => self.run_split(&split).await,
            Route::AllPrimaries(policy) => {
                let map = self.shared.map();
                let addrs: Vec<Addr> = map.all_primaries().map(|n| n.addr.clone()).collect();
                self.fan_out(cmd, addrs, policy).await
            }
            Route::AllNodes(policy) => {
                let map = self.shared.map();
                let addrs: Vec<Addr> = map
                    .all_nodes()
                    .filter(|n| n.healthy)
                    .map(|n| n.addr.clone())
                    .collect();
                self.fan_out(cmd, addrs, policy).await
            }
        }
    }

    /// A split multi-key command: every part at once, merged in the caller's key order.
    async fn run_split(&self, split: &SlotSplit) -> Result<Value> {
        let parts: Vec<Boxed<'_, Result<Value>>> = split
            .parts
            .iter()
            .map(|p| Box::pin(self.run_slot(&p.cmd, p.slot, split.write)) as Boxed<'_, _>)
            .collect();
        split.merge(join_all(parts).await)
    }

    /// A command for several nodes: sent to each at once, replies merged by `policy`.
    async fn fan_out(&self, cmd: &Cmd, addrs: Vec<Addr>, policy: ResponsePolicy) -> Result<Value> {
        let sends: Vec<Boxed<'_, Result<Value>>> = addrs
            .into_iter()
            .map(|addr| {
                Box::pin(async move {
                    let mut con = self.shared.nodes.connection(&addr).await?;
                    con.req(cmd).await
                }) as Boxed<'_, _>
            })
            .collect();
        merge(policy, join_all(sends).await)
    }

    /// One command for one slot, through the request flow.
    async fn run_slot(&self, cmd: &Cmd, slot: u16, write: bool) -> Result<Value> {
        // PROVISIONAL until the shared request flow lands.
        use crate::{decide, AddrContext, Redirect};
        use redis_core::routing::NodeStats;
        use redis_core::Error;
        let sh = &self.shared;
        let limit = sh.nodes.base().response_timeout;
        let deadline = tokio::time::Instant::now() + limit;
        let mut asking: Option<Addr> = None;
        let mut redirects = 0;
        let mut attempt = 0u32;
        loop {
            let epoch = sh.epoch();
            let map = sh.map();
            let (addr, asked) = match asking.take() {
                Some(a) => (a, true),
                None => match map.node_for(
                    slot,
                    write,
                    &sh.read_from,
                    |_| NodeStats::default(),
                    sh.next_count(),
                    rand::random(),
                ) {
                    Some(n) => (n.addr.clone(), false),
                    None => {
                        if tokio::time::Instant::now() >= deadline {
                            return Err(Error::Broken(format!("slot {slot} is not served")));
                        }
                        sh.refreshed(epoch, Duration::from_millis(300)).await;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let err = match self.send(&addr, cmd, asked).await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let redirect = {
                let remap = |a: Addr| sh.remap(a);
                let ctx = AddrContext::new(&addr, sh.tls()).with_remap(&remap);
                decide(&err, &ctx, map.is_primary(&addr))
            };
            let late = tokio::time::Instant::now() >= deadline;
            match redirect {
                Redirect::Moved { slot, addr } if redirects < sh.max_redirects => {
                    redirects += 1;
                    sh.apply_moved(slot, addr);
                    sh.trigger();
                }
                Redirect::Ask { addr, .. } if redirects < sh.max_redirects => {
                    redirects += 1;
                    asking = Some(addr);
                }
                Redirect::RetryLater { refresh } if !late => {
                    if refresh {
                        sh.trigger();
                    }
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await;
                }
                Redirect::RefreshAndRetry if !late => {
                    sh.refreshed(epoch, Duration::from_millis(500)).await;
                }
                _ => match err {
                    Error::Broken(_) | Error::Io(_) if !late => {
                        sh.refreshed(epoch, Duration::from_millis(500)).await;
                    }
                    Error::MayHaveExecuted(_)
                        if !late
                            && redis_core::command_table::is_retry_safe(
                                cmd,
                                sh.nodes.base().retry_idempotent_writes,
                            ) =>
                    {
                        sh.refreshed(epoch, Duration::from_millis(500)).await;
                    }
                    other => return Err(other),
                },
            }
        }
    }

    /// Sends `cmd` to `addr` (after `ASKING` on the same connection when `asking`).
    async fn send(&self, addr: &Addr, cmd: &Cmd, asking: bool) -> Result<Value> {
        let mut con = self.shared.nodes.connection(addr).await?;
        if !asking {
            return con.req(cmd).await;
        }
        let mut p = Pipeline::new();
        p.add(crate::asking());
        p.add(cmd.clone());
        let mut replies = con.req_pipeline(&p).await?;
        replies.pop().unwrap_or(Value::Nil).into_result()
    }
}

impl ConnectionLike for ClusterConnection {
    async fn req(&mut self, cmd: &Cmd) -> Result<Value> {
        self.run(cmd).await
    }

    async fn req_pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Value>> {
        // PROVISIONAL until the shared pipeline plan lands: every command on its own, at
        // once (the node connections batch what is waiting into one write).
        if pipe.is_atomic() {
            return Err(redis_core::Error::InvalidRequest(
                "atomic pipelines are not supported on a cluster connection yet".into(),
            ));
        }
        let sends: Vec<Boxed<'_, Result<Value>>> = pipe
            .cmds()
            .iter()
            .map(|c| Box::pin(self.run(c)) as Boxed<'_, _>)
            .collect();
        join_all(sends)
            .await
            .into_iter()
            .map(|r| match r {
                Err(redis_core::Error::Server(e)) => Ok(Value::ServerError(e)),
                other => other,
            })
            .collect()
    }
}
