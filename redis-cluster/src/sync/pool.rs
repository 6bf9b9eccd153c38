//! [`ClusterPool`]: the cluster for many threads, per-node r2d2 pools.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use redis_core::{Addr, Cmd, FromValue, Pipeline, Result, ToArgs, Value};
use redis_sync::{ConnectionLike, Pool};

use super::client::Shared;
use super::exec::{self, Held, Nodes};
use super::scan::ClusterScanIter;

/// A cluster handle shared by threads: clone it into each. Every request checks a
/// connection out of its node's pool (at most `per_node` connections per node, r2d2),
/// so threads never wait on each other's nodes; the topology is the client's, shared.
/// It implements [`redis_sync::ConnectionLike`] (through `&mut`), like
/// [`ClusterConnection`](super::ClusterConnection).
#[derive(Clone, Debug)]
pub struct ClusterPool {
    shared: Arc<Shared>,
    pools: Arc<Mutex<HashMap<Addr, Pool>>>,
    per_node: u32,
}

impl ClusterPool {
    pub(crate) fn new(shared: Arc<Shared>, per_node: u32) -> ClusterPool {
        ClusterPool {
            shared,
            pools: Arc::new(Mutex::new(HashMap::new())),
            per_node: per_node.max(1),
        }
    }

    /// Every key of the cluster: `SCAN` on each primary in turn
    /// (see [`ClusterScanIter`](super::ClusterScanIter)).
    pub fn scan_iter<T: FromValue>(&mut self) -> ClusterScanIter<'_, T> {
        ClusterScanIter::new(self, ())
    }

    /// `SCAN` with any options (`MATCH`, `COUNT`, `TYPE`) on every primary.
    pub fn scan_options_iter<O: ToArgs, T: FromValue>(
        &mut self,
        options: O,
    ) -> ClusterScanIter<'_, T> {
        ClusterScanIter::new(self, options)
    }

    fn pool(&self, addr: &Addr) -> Result<Pool> {
        let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        let map = self.shared.snapshot();
        // Pools of nodes that left the cluster go (their connections were aborted).
        if !map.shards().is_empty() {
            pools.retain(|a, _| map.node(a).is_some());
        }
        if let Some(p) = pools.get(addr) {
            return Ok(p.clone());
        }
        let replica = Shared::is_replica(&map, addr);
        let client = self.shared.node_client(addr, replica);
        let pool = client
            .pool_builder()
            .max_size(self.per_node)
            .min_idle(Some(0))
            // Broken connections are dropped on return (has_broken); a PING per checkout
            // would double every request's round trips.
            .test_on_check_out(false)
            .build_unchecked(client.clone());
        let pool = Pool::from(pool);
        pools.insert(addr.clone(), pool.clone());
        Ok(pool)
    }
}

impl Nodes for ClusterPool {
    fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn hold(&mut self, addr: &Addr) -> Result<Held> {
        self.pool(addr)?.get().map(Held::Pooled)
    }

    /// The pool takes its connection back when it drops (a broken one is discarded).
    fn release(&mut self, _addr: &Addr, held: Held) {
        drop(held);
    }
}

impl ConnectionLike for ClusterPool {
    fn req(&mut self, cmd: &Cmd) -> Result<Value> {
        exec::req(self, cmd)
    }

    fn req_pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Value>> {
        exec::pipeline(self, pipe)
    }
}
