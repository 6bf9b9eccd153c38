//! [`ClusterConnection`]: a single-threaded connection to a whole cluster, one
//! `redis_sync` connection per node.

use std::collections::HashMap;
use std::sync::Arc;

use redis_core::{Addr, Cmd, Error, FromValue, Pipeline, Result, ToArgs, Value};
use redis_sync::{Connection, ConnectionLike};

use super::client::Shared;
use super::exec::{self, Nodes, Sent};
use super::scan::ClusterScanIter;

/// A connection to the cluster for one thread: one connection per node (opened when
/// first needed, replicas with `READONLY`), commands routed by slot, redirects and
/// refusals handled, multi-key commands split and merged, fan-out commands sent to every
/// primary. It implements [`redis_sync::ConnectionLike`], so the typed
/// [`redis_sync::Commands`] and `cmd(..).query(&mut con)` work on it unchanged.
///
/// Pipelines are grouped per node (one write per node) and their replies merged in the
/// caller's order; an atomic pipeline (MULTI/EXEC) must keep its keys in one slot and
/// runs on that slot's primary. Commands that would change a node connection's state
/// (`SELECT`, `WATCH`, `SUBSCRIBE`, `CLIENT TRACKING`, ...) are refused with
/// [`redis_core::Error::InvalidRequest`]. Split multi-key commands are not atomic.
#[derive(Debug)]
pub struct ClusterConnection {
    shared: Arc<Shared>,
    nodes: HashMap<Addr, Connection>,
    version: u64,
}

impl ClusterConnection {
    pub(crate) fn new(shared: Arc<Shared>) -> ClusterConnection {
        let version = shared.version();
        ClusterConnection {
            shared,
            nodes: HashMap::new(),
            version,
        }
    }

    /// Nodes this connection has a connection to now.
    pub fn connected_nodes(&self) -> Vec<Addr> {
        self.nodes.keys().cloned().collect()
    }

    /// Every key of the cluster: `SCAN` on each primary in turn (see [`ClusterScanIter`]).
    pub fn scan_iter<T: FromValue>(&mut self) -> ClusterScanIter<'_, T> {
        ClusterScanIter::new(self, ())
    }

    /// Keys matching a glob pattern, on every primary (`SCAN ... MATCH pattern`).
    pub fn scan_match_iter<P: ToArgs, T: FromValue>(
        &mut self,
        pattern: P,
    ) -> ClusterScanIter<'_, T> {
        ClusterScanIter::new(self, ("MATCH", pattern))
    }

    /// `SCAN` with any options (`MATCH`, `COUNT`, `TYPE`) on every primary.
    pub fn scan_options_iter<O: ToArgs, T: FromValue>(
        &mut self,
        options: O,
    ) -> ClusterScanIter<'_, T> {
        ClusterScanIter::new(self, options)
    }

    /// Drops connections to nodes the map no longer has, and broken ones.
    fn prune(&mut self) {
        let version = self.shared.version();
        if version != self.version {
            self.version = version;
            let map = self.shared.snapshot();
            self.nodes.retain(|a, _| map.node(a).is_some());
        }
        self.nodes.retain(|_, c| !c.is_broken());
    }
}

impl Nodes for ClusterConnection {
    fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn send(
        &mut self,
        addr: &Addr,
        f: &mut dyn FnMut(&mut dyn ConnectionLike) -> Result<Vec<Value>>,
    ) -> Sent {
        self.prune();
        if !self.nodes.contains_key(addr) {
            let replica = Shared::is_replica(&self.shared.snapshot(), addr);
            match self.shared.node_client(addr, replica).get_connection() {
                Ok(c) => {
                    self.nodes.insert(addr.clone(), c);
                }
                Err(e) => return Sent::NotSent(e),
            }
        }
        let Some(con) = self.nodes.get_mut(addr) else {
            return Sent::NotSent(redis_core::Error::Broken("no connection".into()));
        };
        let result = f(con);
        if con.is_broken() {
            self.nodes.remove(addr);
        }
        Sent::Sent(result)
    }

    /// Several nodes' pipelines at once, one thread per node beyond the first: each node
    /// reads, runs and answers its commands while the others do, instead of waiting for
    /// the previous node's replies (a pipeline across slots costs one round trip, not one
    /// per node).
    fn send_pipelines(&mut self, batches: &[(&Addr, &Pipeline)]) -> Vec<Sent> {
        if batches.len() < 2 {
            return batches
                .iter()
                .map(|(addr, p)| self.send(addr, &mut |con| con.req_pipeline(p)))
                .collect();
        }
        self.prune();
        // Open what is missing, then take each node's connection out for its thread.
        let mut taken: Vec<Result<Connection>> = batches
            .iter()
            .map(|(addr, _)| {
                if let Some(c) = self.nodes.remove(*addr) {
                    return Ok(c);
                }
                let replica = Shared::is_replica(&self.shared.snapshot(), addr);
                self.shared.node_client(addr, replica).get_connection()
            })
            .collect();
        let run = |p: &Pipeline, con: &mut Result<Connection>| match con {
            Ok(con) => Some(con.req_pipeline(p)),
            Err(_) => None,
        };
        let results: Vec<Option<Result<Vec<Value>>>> = std::thread::scope(|scope| {
            let mut work = batches.iter().zip(taken.iter_mut());
            let first = work.next();
            let others: Vec<_> = work
                .map(|((_, p), con)| scope.spawn(move || run(p, con)))
                .collect();
            let mut results = vec![first.and_then(|((_, p), con)| run(p, con))];
            results.extend(others.into_iter().map(|h| {
                h.join()
                    .unwrap_or_else(|_| Some(Err(Error::Broken("pipeline thread panicked".into()))))
            }));
            results
        });
        batches
            .iter()
            .zip(taken)
            .zip(results)
            .map(|(((addr, _), con), result)| match con {
                Err(e) => Sent::NotSent(e),
                Ok(con) => {
                    if !con.is_broken() {
                        self.nodes.insert((*addr).clone(), con);
                    }
                    Sent::Sent(result.unwrap_or_else(|| Err(Error::Broken("no connection".into()))))
                }
            })
            .collect()
    }
}

impl ConnectionLike for ClusterConnection {
    fn req(&mut self, cmd: &Cmd) -> Result<Value> {
        exec::req(self, cmd)
    }

    fn req_pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Value>> {
        exec::pipeline(self, pipe)
    }
}
