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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use redis_async::{AbortHandle, Client, Connection, ConnectionSource, TargetFuture};
use redis_core::routing::NodeStats;
use redis_core::{Addr, Config, Error, Result, Target};
use tokio::sync::mpsc;

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

/// How long a node whose connection failed is skipped by reads (when another node of its
/// shard can serve them).
const UNHEALTHY_FOR: Duration = Duration::from_secs(5);

/// What the client measured of one node, for read routing.
#[derive(Default)]
struct Health {
    /// When opening a connection to it last failed.
    failed_at: Mutex<Option<Instant>>,
    /// The latest round trip in microseconds (0: not measured yet).
    latency_us: AtomicU64,
}

/// The connection source of one node (see the module docs).
struct NodeSource {
    target: Target,
    aborts: Arc<Mutex<Vec<AbortHandle>>>,
    health: Arc<Health>,
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

    fn failed(&self, _addr: &Addr, _error: &Error) {
        *lock(&self.health.failed_at) = Some(Instant::now());
        let _ = self.triggers.send(Trigger::Failed);
    }

    fn opened(&self, _addr: &Addr, abort: AbortHandle) {
        let mut aborts = lock(&self.aborts);
        aborts.retain(AbortHandle::is_alive);
        aborts.push(abort);
    }

    fn slow(&self, addr: &Addr, _waited: Duration) {
        // Called from the connection's driver: only a message, never a wait.
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
    health: Arc<Health>,
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
    read_only: bool,
    triggers: Triggers,
    nodes: Mutex<HashMap<Addr, Arc<Node>>>,
}

impl Nodes {
    /// `base` is the one config for every node (credentials, TLS, timeouts); `read_only`
    /// sends `READONLY` on every connection (reads may go to replicas; harmless on a
    /// primary, and a replica promoted later keeps working).
    pub(crate) fn new(base: Config, read_only: bool, triggers: Triggers) -> Nodes {
        Nodes {
            base,
            read_only,
            triggers,
            nodes: Mutex::new(HashMap::new()),
        }
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
        let health = Arc::new(Health::default());
        let source = NodeSource {
            target: Target::cluster_node(&self.base, addr.clone(), self.read_only),
            aborts: aborts.clone(),
            health: health.clone(),
            triggers: self.triggers.clone(),
        };
        let mut config = self.base.clone();
        config.addr = addr.clone();
        // One attempt per open: the request flow decides what a failure means (refresh,
        // back off, another node), rather than dialling a dead node again and again.
        config.connect_backoff.max_retries = 0;
        let node = Arc::new(Node {
            client: Client::with_source(config, Arc::new(source)),
            con: Mutex::new(None),
            opening: tokio::sync::Mutex::new(()),
            aborts,
            health,
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

    /// What the client measured of the node at `addr`: unhealthy for a few seconds after
    /// a connection to it failed, and its latest round trip.
    pub(crate) fn stats(&self, addr: &Addr) -> NodeStats {
        let Some(node) = lock(&self.nodes).get(addr).cloned() else {
            return NodeStats::default();
        };
        let failed = *lock(&node.health.failed_at);
        let us = node.health.latency_us.load(Ordering::Relaxed);
        NodeStats {
            healthy: failed.is_none_or(|t| t.elapsed() > UNHEALTHY_FOR),
            latency: (us > 0).then(|| Duration::from_micros(us)),
        }
    }

    /// Records a round trip to `addr` that took `took`.
    pub(crate) fn record_latency(&self, addr: &Addr, took: Duration) {
        if let Some(node) = lock(&self.nodes).get(addr) {
            let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
            node.health.latency_us.store(us, Ordering::Relaxed);
        }
    }

    /// A pub/sub connection to `addr`, through the node's source.
    pub(crate) async fn pubsub(
        &self,
        addr: &Addr,
        options: redis_async::PubSubOptions,
    ) -> Result<redis_async::PubSub> {
        self.node(addr).client.get_pubsub_with(options).await
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
