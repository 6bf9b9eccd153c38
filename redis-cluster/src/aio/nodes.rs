//! The async client's connections, one multiplexed connection per node.
//!
//! Every node gets a `redis_async::Client` whose [`ConnectionSource`] names that node, so
//! the shell's seams apply to cluster connections as to any other: the source is told of
//! every connection opened to the node (with the handle that ends it from outside), hears
//! when a request waits past the probe interval, and when a connection fails. It turns
//! the last two into triggers for the topology manager and keeps the abort handles, so
//! that when a refresh shows the node failed or demoted, its connections end at once and
//! the requests in flight there stop waiting for a node that will never answer them.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use redis_async::{AbortHandle, Client, Connection, ConnectionSource, TargetFuture};
use redis_core::{Addr, Config, Error, Result, Target};
use tokio::sync::mpsc;

use crate::health::NodeHealth;

/// What the node connections tell the topology manager.
#[derive(Debug)]
pub(crate) enum Trigger {
    /// A request found the map stale (MOVED, READONLY from a primary, CLUSTERDOWN, an
    /// uncovered slot) when the refresh epoch was this: refresh, unless one already ended
    /// since.
    Stale(u64),
    /// A request to this node has waited past the probe interval.
    Slow(Addr),
    /// Opening or using a connection to a node failed.
    Failed,
}

/// Sender of [`Trigger`]s to the manager.
pub(crate) type Triggers = mpsc::UnboundedSender<Trigger>;

/// Locks a std mutex whose critical sections cannot leave it half-written (pushes, pops,
/// swaps), so a poisoned lock is still valid.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the client measured of every node, shared by the node sources and the requests.
type SharedHealth = Arc<Mutex<NodeHealth>>;

/// The connection source of one node (see the module docs).
struct NodeSource {
    target: Target,
    aborts: Arc<Mutex<Vec<AbortHandle>>>,
    health: SharedHealth,
    triggers: Triggers,
}

impl fmt::Debug for NodeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeSource")
            .field("addr", self.target.addr())
            .finish_non_exhaustive()
    }
}

impl ConnectionSource for NodeSource {
    fn target(&self) -> TargetFuture<'_> {
        let target = self.target.clone();
        Box::pin(async move { Ok(target) })
    }

    fn failed(&self, addr: &Addr, _error: &Error) {
        lock(&self.health).failed(addr, Instant::now());
        let _ = self.triggers.send(Trigger::Failed);
    }

    fn opened(&self, _addr: &Addr, abort: AbortHandle) {
        let mut aborts = lock(&self.aborts);
        aborts.retain(AbortHandle::is_alive);
        aborts.push(abort);
    }

    fn slow(&self, addr: &Addr, _waited: Duration) {
        // Called from the connection's driver: a short lock and a message, never a wait.
        lock(&self.health).failed(addr, Instant::now());
        let _ = self.triggers.send(Trigger::Slow(addr.clone()));
    }
}

/// One node: its client, its shared connection and the handles that end its connections.
struct Node {
    client: Client,
    /// The shared connection (a clone per request: the lock is held for that only).
    con: Mutex<Option<Connection>>,
    /// Held while a new connection is being opened, so that one open serves every
    /// request that found none.
    opening: tokio::sync::Mutex<()>,
    aborts: Arc<Mutex<Vec<AbortHandle>>>,
    /// A write was sent to it since its connections were last ended: if it turns out
    /// demoted, a write may be waiting there for an OK the node will throw away.
    wrote: AtomicBool,
}

impl Node {
    /// A clone of the shared connection, if there is one and it is alive.
    fn live(&self) -> Option<Connection> {
        lock(&self.con).as_ref().filter(|c| !c.is_dead()).cloned()
    }
}

/// Every node the client talks to, by address.
pub(crate) struct Nodes {
    base: Config,
    health: SharedHealth,
    read_only: bool,
    triggers: Triggers,
    nodes: Mutex<HashMap<Addr, Arc<Node>>>,
    /// Holds the event stream every node client reports to (opens nothing itself).
    hub: Client,
}

impl Nodes {
    /// `base` is the one config for every node (credentials, TLS, timeouts); `read_only`
    /// sends `READONLY` on every connection (reads may go to replicas; harmless on a
    /// primary, and a replica promoted later keeps working).
    pub(crate) fn new(base: Config, read_only: bool, triggers: Triggers) -> Nodes {
        Nodes {
            health: Arc::new(Mutex::new(NodeHealth::new())),
            read_only,
            triggers,
            nodes: Mutex::new(HashMap::new()),
            hub: Client::with_source(base.clone(), Arc::new(base.clone())),
            base,
        }
    }

    /// The client whose event stream every node connection of the cluster client reports
    /// to (see `ClusterClient::events`).
    pub(crate) fn hub(&self) -> &Client {
        &self.hub
    }

    /// The config every node connection uses.
    pub(crate) fn base(&self) -> &Config {
        &self.base
    }

    fn node(&self, addr: &Addr) -> Arc<Node> {
        let mut nodes = lock(&self.nodes);
        if let Some(n) = nodes.get(addr) {
            return n.clone();
        }
        let aborts = Arc::new(Mutex::new(Vec::new()));
        let source = NodeSource {
            target: Target::cluster_node(&self.base, addr.clone(), self.read_only),
            aborts: aborts.clone(),
            health: self.health.clone(),
            triggers: self.triggers.clone(),
        };
        let mut config = self.base.clone();
        config.addr = addr.clone();
        // One attempt per open: the request flow decides what a failure means (refresh,
        // back off, another node), rather than dialling a dead node again and again.
        config.connect_backoff.max_retries = 0;
        let node = Arc::new(Node {
            client: Client::with_source(config, Arc::new(source)).with_events_of(&self.hub),
            con: Mutex::new(None),
            opening: tokio::sync::Mutex::new(()),
            aborts,
            wrote: AtomicBool::new(false),
        });
        nodes.insert(addr.clone(), node.clone());
        node
    }

    /// The shared connection to `addr`, opened if there is none or the last one died;
    /// `write` when a write goes on it.
    pub(crate) async fn connection(&self, addr: &Addr, write: bool) -> Result<Connection> {
        let node = self.node(addr);
        if write {
            node.wrote.store(true, Ordering::Relaxed);
        }
        if let Some(c) = node.live() {
            return Ok(c);
        }
        let _opening = node.opening.lock().await;
        if let Some(c) = node.live() {
            return Ok(c); // opened while this request waited
        }
        let fresh = node.client.get_connection().await?;
        *lock(&node.con) = Some(fresh.clone());
        Ok(fresh)
    }

    /// A dedicated connection to `addr` (transactions), through the node's source.
    pub(crate) async fn dedicated(&self, addr: &Addr) -> Result<redis_async::DedicatedConnection> {
        self.node(addr).client.get_dedicated_connection().await
    }

    /// What the client measured of every node (failures, slow requests, round trips).
    pub(crate) fn health(&self) -> MutexGuard<'_, NodeHealth> {
        lock(&self.health)
    }

    /// Whether a write was sent to `addr` since its connections were last ended.
    pub(crate) fn wrote(&self, addr: &Addr) -> bool {
        lock(&self.nodes)
            .get(addr)
            .is_some_and(|n| n.wrote.load(Ordering::Relaxed))
    }

    /// Ends every connection to `addr` now (requests in flight fail with
    /// `MayHaveExecuted`, queued ones with `Broken`); the next request opens a new one.
    pub(crate) fn abort(&self, addr: &Addr, cause: &str) {
        let node = lock(&self.nodes).get(addr).cloned();
        if let Some(node) = node {
            node.wrote.store(false, Ordering::Relaxed);
            for h in lock(&node.aborts).drain(..) {
                h.abort(cause);
            }
        }
    }

    /// Forgets the nodes at `addrs`, ending their connections.
    pub(crate) fn close(&self, addrs: &[Addr], cause: &str) {
        let gone: Vec<Arc<Node>> = {
            let mut nodes = lock(&self.nodes);
            addrs.iter().filter_map(|a| nodes.remove(a)).collect()
        };
        for node in gone {
            for h in lock(&node.aborts).drain(..) {
                h.abort(cause);
            }
        }
    }
}
