//! The blocking cluster client: its settings and the topology manager every connection
//! and pool of the client shares.
//!
//! [`ClusterClient`] holds one [`Topology`] (slot map, refresh gate, seeds) behind a lock,
//! and does the I/O the pure part asks for: refreshing the map from a few nodes, closing
//! the connections of nodes that left, and the failover probe. Node connections are
//! `redis_sync` connections opened through a [`ConnectionSource`] per node, which is how
//! the client hears of each connection (`opened`, with its abort handle) and of each
//! request that waits too long on a node (`slow`, on the waiting thread).
//!
//! The probe: when a request has waited `Config::probe_interval` (1 s by default) on a
//! node, the waiting thread refreshes the map (bounded, asking the slow node last) and,
//! if the map now shows that node failed, gone or demoted
//! ([`Topology::node_failed`]), aborts every connection to it: reads in flight are re-sent
//! by the new map, writes fail with `MayHaveExecuted`, and no reply the demoted node sends
//! later is ever read. Requests to other nodes never wait on it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use redis_core::abort::AbortHandle;
use redis_core::routing::ReadFrom;
use redis_core::{
    Addr, Backoff, ClusterErrorKind, Config, ConnectionEvent, Error, IntoConfig, Result, Target,
};
use redis_sync::{Client, Connection, ConnectionLike, ConnectionSource};

use crate::health::NodeHealth;
use crate::refresh::RefreshStep;
use crate::request::{Env, RequestPolicy};
use crate::settings::{Builder, FromSettings, Settings, ViewStep};
use crate::slot_map::{Node, SlotMap};
use crate::topology::Topology;

use super::connection::ClusterConnection;
use super::pool::ClusterPool;
use super::pubsub::ClusterPubSub;

pub use crate::settings::Remap;

/// Builds a [`ClusterClient`]; made by [`ClusterClient::builder`] (the settings and their
/// builder are shared with the async flavour, see [`crate::settings`]).
pub type ClusterClientBuilder = Builder<ClusterClient>;

impl FromSettings for ClusterClient {
    /// Nothing is connected yet (the first connection reads the map).
    fn from_settings(settings: Settings) -> Result<ClusterClient> {
        let settings_config = settings.config.clone();
        let shared = Arc::new(Shared {
            topology: Mutex::new(State {
                topology: Topology::new(settings.seeds.clone(), settings.refresh.clone()),
                snapshot: Arc::new(SlotMap::default()),
                snapshot_version: 0,
            }),
            refreshed: Condvar::new(),
            registry: Mutex::new(Vec::new()),
            clients: Mutex::new(HashMap::new()),
            refresh_cons: Mutex::new(HashMap::new()),
            config: settings.config.clone(),
            read_from: settings.read_from.clone(),
            policy: settings.policy,
            refresh_timeout: settings.refresh_timeout,
            settings,
            counter: AtomicU64::new(0),
            health: Mutex::new(NodeHealth::new()),
            hub: events_hub(&settings_config),
        });
        spawn_refresh_timer(Arc::downgrade(&shared));
        Ok(ClusterClient { shared })
    }
}

/// How often the refresh timer looks whether a refresh is due without a request to notice
/// it (the periodic refresh, or one that failed and stays due).
const TICK: Duration = Duration::from_millis(500);

/// Starts the thread that refreshes the map in the background when a refresh is due
/// (periodically, 30 s by default; or after a failure no request followed), so an idle
/// client's next request finds a current map. It holds the client's state only while it
/// refreshes, and ends within a tick of the last handle being dropped. Without a thread to
/// be had, requests still refresh when they find one due.
fn spawn_refresh_timer(weak: Weak<Shared>) {
    let _ = std::thread::Builder::new()
        .name("redis-cluster-timer".into())
        .spawn(move || loop {
            std::thread::sleep(TICK);
            let Some(shared) = weak.upgrade() else {
                return;
            };
            shared.refresh_if_due_here();
        });
}

/// A Redis Cluster client (blocking). Clone it freely: clones share the topology.
///
/// ```no_run
/// use redis_cluster::sync::ClusterClient;
/// use redis_sync::Commands;
///
/// let client = ClusterClient::open(["redis://127.0.0.1:7000"])?;
/// let mut con = client.get_connection()?;
/// con.set::<_, _, ()>("{user1}.name", "Ada")?;
/// let name: String = con.get("{user1}.name")?;
/// # Ok::<(), redis_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClusterClient {
    pub(crate) shared: Arc<Shared>,
}

impl ClusterClient {
    /// A builder from seed nodes (URLs or [`Config`]s; the first one's settings are used
    /// for every node unless [`ClusterClientBuilder::config`] says otherwise).
    pub fn builder<I>(seeds: I) -> Result<ClusterClientBuilder>
    where
        I: IntoIterator,
        I::Item: IntoConfig,
    {
        Ok(Builder::new(Settings::from_seeds(seeds)?))
    }

    /// A client with default settings from seed nodes.
    pub fn open<I>(seeds: I) -> Result<ClusterClient>
    where
        I: IntoIterator,
        I::Item: IntoConfig,
    {
        Self::builder(seeds)?.build()
    }

    /// A single-threaded connection: one `redis_sync` connection per node, opened when
    /// first needed. Reads the slot map first if the client has none yet.
    pub fn get_connection(&self) -> Result<ClusterConnection> {
        self.shared.ensure_map()?;
        Ok(ClusterConnection::new(self.shared.clone()))
    }

    /// A connection handle for many threads: per-node r2d2 pools of at most
    /// `per_node` connections each; clone it into every thread.
    pub fn get_pool(&self, per_node: u32) -> Result<ClusterPool> {
        self.shared.ensure_map()?;
        Ok(ClusterPool::new(self.shared.clone(), per_node))
    }

    /// A subscriber: channels and patterns on one node, shard channels (`SSUBSCRIBE`) on
    /// the primary of their slot (see [`ClusterPubSub`]).
    pub fn get_pubsub(&self) -> Result<ClusterPubSub> {
        self.shared.ensure_map()?;
        Ok(ClusterPubSub::new(self.shared.clone()))
    }

    /// A connection of its own to the primary serving `key`'s slot, for what needs one
    /// socket to itself: `WATCH`/`MULTI`/`EXEC` with [`redis_sync::transaction`] (keep
    /// every key in that slot with one hash tag), blocking commands. Redirects are not
    /// followed on it; if the slot moves, open another.
    pub fn get_exclusive(&self, key: impl AsRef<[u8]>) -> Result<Connection> {
        let slot = crate::slot(key.as_ref());
        let shared = &self.shared;
        let deadline = Instant::now() + shared.policy.coverage_wait;
        loop {
            let map = shared.snapshot();
            let picked = shared.with_env(&map, |env| env.pick(slot, true));
            match picked {
                Ok(addr) => return shared.node_client(&addr, false).get_connection(),
                Err(kind) if Instant::now() >= deadline => return Err(Error::Cluster(kind)),
                Err(_) => {
                    let _ = shared.refresh(&[], true);
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    /// The slot map as the client knows it now.
    pub fn slot_map(&self) -> Arc<SlotMap> {
        self.shared.snapshot()
    }

    /// Reads the slot map from the cluster now: waits for a refresh already running and
    /// for the refresh rate limit, then refreshes.
    pub fn refresh(&self) -> Result<()> {
        self.shared.refresh_forced()
    }

    /// The settings of every node connection.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Calls `f` with every event of the client's node connections (those of its
    /// connections, pools, pub/sub and exclusive connections, and of the topology refresh):
    /// connected, handshake done, disconnected, re-authenticated, ... as
    /// [`redis_sync::Client::on_event`] describes, each naming its node; and
    /// [`ConnectionEvent::TopologyChanged`] when a refresh finds slots on other primaries
    /// (a failover, a migration; the first map read counts every slot). `f` runs on the
    /// thread where the event happens: keep it quick.
    pub fn on_event<F>(&self, f: F)
    where
        F: Fn(&ConnectionEvent) + Send + Sync + 'static,
    {
        self.shared.hub.on_event(f);
    }
}

/// The client whose event callbacks every node client of a cluster client shares (it
/// opens nothing itself).
fn events_hub(config: &Config) -> Client {
    Client::with_source(config.clone(), Arc::new(config.clone()))
}

/// One connection registered by a node source, for aborting.
struct Registered {
    addr: Addr,
    as_primary: bool,
    handle: AbortHandle,
}

pub(crate) struct State {
    pub(crate) topology: Topology,
    snapshot: Arc<SlotMap>,
    snapshot_version: u64,
}

/// What every connection and pool of one client shares.
pub(crate) struct Shared {
    topology: Mutex<State>,
    refreshed: Condvar,
    registry: Mutex<Vec<Registered>>,
    /// One `redis_sync::Client` per node and role (replica connections send `READONLY`).
    clients: Mutex<HashMap<(Addr, bool), Client>>,
    /// Connections the refresh reads the map on (one refresh runs at a time).
    refresh_cons: Mutex<HashMap<Addr, Connection>>,
    pub(crate) config: Config,
    pub(crate) read_from: ReadFrom,
    pub(crate) policy: RequestPolicy,
    refresh_timeout: Duration,
    /// Everything the client was built with (the remap hook, TLS, the Env of a step).
    settings: Settings,
    counter: AtomicU64,
    /// Failures and round trips measured per node (read routing, whom a refresh asks).
    health: Mutex<NodeHealth>,
    /// Holds the event callbacks every node client reports to (see
    /// [`ClusterClient::on_event`]).
    hub: Client,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("read_from", &self.read_from)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here is a few assignments or a map update: a panic in
    // one cannot leave the state half-written, so a poisoned lock is still valid.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.topology)
    }

    /// The current map, shared (rebuilt only when the topology changed).
    pub(crate) fn snapshot(&self) -> Arc<SlotMap> {
        let mut st = self.state();
        let version = st.topology.version();
        if st.snapshot_version != version {
            st.snapshot = Arc::new(st.topology.map().routing_copy());
            st.snapshot_version = version;
        }
        st.snapshot.clone()
    }

    /// The topology version (grows with each change of the map).
    pub(crate) fn version(&self) -> u64 {
        self.state().topology.version()
    }

    /// The environment a request step needs, for `map`.
    pub(crate) fn with_env<R>(&self, map: &SlotMap, f: impl FnOnce(&Env<'_>) -> R) -> R {
        // Reads skip nodes whose connection failed lately (writes ignore this); only
        // read policies that use replicas look, so the lock is not taken otherwise.
        let health = if self.read_from.uses_replicas() {
            lock(&self.health).clone()
        } else {
            NodeHealth::new()
        };
        let (now, with_latency) = (Instant::now(), self.measures_latency());
        let stats = |n: &Node| health.stats(&n.addr, now, with_latency);
        let env = Env {
            stats: &stats,
            ..self
                .settings
                .env_at(map, self.counter.fetch_add(1, Ordering::Relaxed), now)
        };
        f(&env)
    }

    /// Reads the map if the client has none yet (the first connection).
    pub(crate) fn ensure_map(&self) -> Result<()> {
        if self.snapshot().shards().is_empty() {
            self.refresh(&[], true)?;
        }
        Ok(())
    }

    /// Starts a refresh on a thread of its own when one is due (a MOVED was seen, a
    /// connection failed, the periodic refresh): called before each request, which goes
    /// on with the map it has. The caller never pays for a refresh its own request does
    /// not need (a request that does need one, e.g. for an uncovered slot, refreshes
    /// inline). Errors are left to the requests, which refresh again if their slot has
    /// no node.
    pub(crate) fn refresh_if_due(self: &Arc<Self>) {
        if self.due_step() == Some(RefreshStep::Start) {
            let shared = self.clone();
            let spawned = std::thread::Builder::new()
                .name("redis-cluster-refresh".into())
                .spawn(move || {
                    let _ = shared.run_refresh(&[]);
                });
            if spawned.is_err() {
                // No thread to be had: refresh here rather than leave the gate running.
                let _ = self.run_refresh(&[]);
            }
        }
    }

    /// [`refresh_if_due`](Self::refresh_if_due) on the calling thread (the refresh timer).
    fn refresh_if_due_here(&self) {
        if self.due_step() == Some(RefreshStep::Start) {
            let _ = self.run_refresh(&[]);
        }
    }

    /// When a refresh is due, asks the gate for one (`None`: none is due).
    fn due_step(&self) -> Option<RefreshStep> {
        let now = Instant::now();
        let mut st = self.state();
        if !st.topology.is_due(now) {
            return None;
        }
        Some(st.topology.trigger(now, rand::random()))
    }

    /// Records a `MOVED`.
    pub(crate) fn apply_moved(&self, slot: u16, addr: Addr) {
        self.state().topology.apply_moved(slot, addr);
    }

    /// Something failed on `addr`'s connection: a refresh is due.
    pub(crate) fn mark_stale(&self) {
        self.state().topology.mark_stale();
    }

    /// Whether round trips are measured (only `ReadFrom::LowestLatency` uses them).
    pub(crate) fn measures_latency(&self) -> bool {
        matches!(self.read_from, ReadFrom::LowestLatency)
    }

    /// A request to `addr` got its reply after `rtt`.
    pub(crate) fn observe(&self, addr: &Addr, rtt: Duration) {
        lock(&self.health).observe(addr, rtt);
    }

    /// Opening or using a connection to `addr` failed: a refresh is due, and reads skip
    /// the node for a while.
    pub(crate) fn node_failed(&self, addr: &Addr) {
        self.mark_stale();
        lock(&self.health).failed(addr, Instant::now());
    }

    /// Refreshes the map through the gate: starts a refresh, joins one that runs
    /// (`wait`: for its end), or does nothing when one ran moments ago. `avoid`: nodes
    /// asked last (a node too slow right now).
    pub(crate) fn refresh(&self, avoid: &[Addr], wait: bool) -> Result<()> {
        let step = self
            .state()
            .topology
            .trigger(Instant::now(), rand::random());
        match step {
            RefreshStep::Start => self.run_refresh(avoid),
            RefreshStep::Join if wait => {
                let budget = self.refresh_timeout * 4;
                let st = self.state();
                let (st, _) = self
                    .refreshed
                    .wait_timeout_while(st, budget, |st| st.topology.is_refreshing())
                    .unwrap_or_else(|p| p.into_inner());
                drop(st);
                Ok(())
            }
            RefreshStep::Join | RefreshStep::At(_) => Ok(()),
        }
    }

    /// A refresh that starts after this call (waiting out one that runs and the rate
    /// limit), bounded by a few refresh timeouts.
    fn refresh_forced(&self) -> Result<()> {
        let give_up = Instant::now() + self.refresh_timeout * 8;
        loop {
            let now = Instant::now();
            let step = self.state().topology.trigger(now, rand::random());
            match step {
                RefreshStep::Start => return self.run_refresh(&[]),
                _ if now >= give_up => {
                    return Err(Error::Timeout {
                        what: "cluster topology refresh",
                        after: self.refresh_timeout * 8,
                    })
                }
                RefreshStep::Join => {
                    let st = self.state();
                    let (st, _) = self
                        .refreshed
                        .wait_timeout_while(st, self.refresh_timeout, |st| {
                            st.topology.is_refreshing()
                        })
                        .unwrap_or_else(|p| p.into_inner());
                    drop(st);
                }
                RefreshStep::At(at) => std::thread::sleep(at.saturating_duration_since(now)),
            }
        }
    }

    fn run_refresh(&self, avoid: &[Addr]) -> Result<()> {
        // Nodes that failed or were slow lately are asked last: a frozen node would
        // hold the refresh (and the caller running it) for the whole refresh timeout.
        let mut avoid = avoid.to_vec();
        avoid.extend(lock(&self.health).suspects(Instant::now()));
        let nodes = self.state().topology.to_ask(rand::random(), &avoid);
        let want = self.state().topology.config().nodes_to_ask.max(1);
        let mut views = Vec::new();
        let mut answered = Vec::new();
        let mut tried = Vec::new();
        for addr in nodes {
            if views.len() >= want {
                break;
            }
            match self.read_map(&addr) {
                Ok(map) => {
                    views.push(map);
                    answered.push(addr);
                }
                Err(e) => tried.push(format!("{addr}: {e}")),
            }
        }
        let applied = {
            let mut st = self.state();
            if views.is_empty() {
                st.topology.refresh_failed();
                None
            } else {
                Some(st.topology.apply_refresh(views))
            }
        };
        self.refreshed.notify_all();
        let Some(applied) = applied else {
            return Err(Error::Cluster(ClusterErrorKind::TopologyUnavailable {
                tried,
            }));
        };
        if applied.moved_slots > 0 {
            if let Some(addr) = applied.from.and_then(|i| answered.get(i)) {
                self.hub.emit_event(ConnectionEvent::TopologyChanged {
                    addr: addr.clone(),
                    moved_slots: applied.moved_slots,
                });
            }
        }
        // Nodes that left the cluster: end their connections.
        if !applied.left.is_empty() {
            let reg = lock(&self.registry);
            for r in reg.iter().filter(|r| applied.left.contains(&r.addr)) {
                r.handle.abort("the node left the cluster");
            }
            drop(reg);
            let mut cons = lock(&self.refresh_cons);
            cons.retain(|a, _| !applied.left.contains(a));
            let mut clients = lock(&self.clients);
            clients.retain(|(a, _), _| !applied.left.contains(a));
        }
        Ok(())
    }

    /// `CLUSTER SHARDS` (or `CLUSTER SLOTS` on servers without it) from one node.
    fn read_map(&self, addr: &Addr) -> Result<SlotMap> {
        let cached = lock(&self.refresh_cons).remove(addr);
        let mut con = match cached {
            Some(c) if !c.is_broken() => c,
            _ => {
                let mut config = Target::cluster_node(&self.config, addr.clone(), false).config;
                config.connect_timeout = self.refresh_timeout;
                config.response_timeout = self.refresh_timeout;
                config.connect_backoff = Backoff::none();
                config.probe_interval = None;
                Client::open(config)?
                    .with_events_of(&self.hub)
                    .get_connection()?
            }
        };
        let mut query = self.settings.view_query(addr);
        let mut next = query.cmd();
        let map = loop {
            match query.reply(con.req(&next)) {
                ViewStep::Ask(c) => next = c,
                ViewStep::Done(view) => break view,
            }
        };
        if !con.is_broken() {
            lock(&self.refresh_cons).insert(addr.clone(), con);
        }
        map
    }

    /// The `redis_sync` client that opens connections to `addr` (a replica's with
    /// `READONLY`).
    pub(crate) fn node_client(self: &Arc<Self>, addr: &Addr, replica: bool) -> Client {
        let mut clients = lock(&self.clients);
        clients
            .entry((addr.clone(), replica))
            .or_insert_with(|| {
                let mut config = self.config.clone();
                // The request loop retries (after a refresh); a connect retry here would
                // only keep the caller waiting on a node that may be gone.
                config.connect_backoff = Backoff::none();
                let source = NodeSource {
                    shared: Arc::downgrade(self),
                    addr: addr.clone(),
                    replica,
                };
                Client::with_source(config, Arc::new(source)).with_events_of(&self.hub)
            })
            .clone()
    }

    /// Whether the map has `addr` as a replica (its connection then sends `READONLY`).
    pub(crate) fn is_replica(map: &SlotMap, addr: &Addr) -> bool {
        map.node(addr)
            .is_some_and(|n| n.role == crate::slot_map::NodeRole::Replica)
    }

    fn register(&self, addr: &Addr, as_primary: bool, handle: AbortHandle) {
        let mut reg = lock(&self.registry);
        reg.retain(|r| r.handle.is_alive());
        reg.push(Registered {
            addr: addr.clone(),
            as_primary,
            handle,
        });
    }

    /// The failover probe (see the module docs), on the waiting thread.
    fn probe(&self, addr: &Addr) {
        // Slow counts as failed for the next refreshes' choice of whom to ask.
        lock(&self.health).failed(addr, Instant::now());
        let _ = self.refresh(std::slice::from_ref(addr), true);
        let st = self.state();
        let reg = lock(&self.registry);
        for r in reg
            .iter()
            .filter(|r| &r.addr == addr && r.handle.is_alive())
        {
            if st.topology.node_failed(addr, r.as_primary) {
                r.handle
                    .abort("the cluster reports the node failed or demoted");
            }
        }
    }
}

/// Where one node's connections come from (see the module docs).
#[derive(Debug)]
struct NodeSource {
    shared: Weak<Shared>,
    addr: Addr,
    replica: bool,
}

impl ConnectionSource for NodeSource {
    fn target(&self) -> Result<Target> {
        let shared = self
            .shared
            .upgrade()
            .ok_or_else(|| Error::Broken("the cluster client was dropped".into()))?;
        Ok(Target::cluster_node(
            &shared.config,
            self.addr.clone(),
            self.replica,
        ))
    }

    fn is_current(&self, addr: &Addr) -> bool {
        self.shared
            .upgrade()
            .is_some_and(|s| s.snapshot().node(addr).is_some())
    }

    fn failed(&self, addr: &Addr, _error: &Error) {
        if let Some(s) = self.shared.upgrade() {
            s.node_failed(addr);
        }
    }

    fn opened(&self, addr: &Addr, abort: AbortHandle) {
        if let Some(s) = self.shared.upgrade() {
            s.register(addr, !self.replica, abort);
        }
    }

    fn slow(&self, addr: &Addr, _waited: Duration) {
        if let Some(s) = self.shared.upgrade() {
            s.probe(addr);
        }
    }
}
