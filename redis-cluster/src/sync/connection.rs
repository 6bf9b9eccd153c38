//! [`ClusterConnection`]: a single-threaded connection to a whole cluster, one
//! `redis_sync` connection per node.

use std::collections::HashMap;
use std::sync::Arc;

use redis_core::{Addr, Cmd, Error, FromValue, Pipeline, Result, ToArgs, Value};
use redis_sync::{Connection, ConnectionLike};

use super::client::Shared;
use super::exec::{self, Held, Nodes, Sent};
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

    fn hold(&mut self, addr: &Addr) -> Result<Held> {
        self.prune();
        if let Some(con) = self.nodes.remove(addr) {
            return Ok(Held::Own(con));
        }
        let replica = Shared::is_replica(&self.shared.snapshot(), addr);
        let con = self.shared.node_client(addr, replica).get_connection()?;
        Ok(Held::Own(con))
    }

    fn release(&mut self, addr: &Addr, held: Held) {
        if let Held::Own(con) = held {
            if !con.is_broken() {
                self.nodes.insert(addr.clone(), con);
            }
        }
    }

    /// In place (no move out of the map and back): the path of every single command.
    fn send(
        &mut self,
        addr: &Addr,
        f: &mut dyn FnMut(&mut Connection) -> Result<Vec<Value>>,
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
            return Sent::NotSent(Error::Broken("no connection".into()));
        };
        let result = f(con);
        if con.is_broken() {
            self.nodes.remove(addr);
        }
        Sent::Sent(result)
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
