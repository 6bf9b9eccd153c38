//! The async (tokio) cluster client (feature `async`).
//!
//! Same names as the blocking flavour: a [`ClusterClient`] built from seed addresses and
//! one [`Config`] for every node (credentials, TLS, timeouts, protocol), and a
//! [`ClusterConnection`] from [`ClusterClient::get_connection`] that is cheap to clone and
//! implements [`redis_async::ConnectionLike`], so the typed [`redis_async::Commands`]
//! work on it unchanged.
//!
//! Under it: one multiplexed connection per node (opened through a per-node connection
//! source, so the shell's probe and abort seams apply), and one topology manager task per
//! client that refreshes the slot map on `MOVED`, `READONLY` from a believed primary,
//! `CLUSTERDOWN`, an uncovered slot, a failed connection, a request outstanding past the
//! probe interval, and periodically. When a refresh shows a node failed over, the
//! connections to it end at once, so callers never wait out a frozen primary. Every
//! routing, redirect and refresh decision is made by the pure modules of this crate; this
//! module only does the I/O.
//!
//! ```no_run
//! use redis_async::Commands;
//! use redis_cluster::aio::ClusterClient;
//!
//! # async fn run() -> redis_core::Result<()> {
//! let client = ClusterClient::builder(["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"])
//!     .build()?;
//! let mut con = client.get_connection().await?;
//! con.set::<_, _, ()>("{user1}.name", "Ada").await?;
//! let name: String = con.get("{user1}.name").await?;
//! # Ok(()) }
//! ```

mod connection;
mod join;
mod manager;
mod nodes;
mod scan;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use redis_core::command_table;
use redis_core::routing::ReadFrom;
use redis_core::{Addr, ClusterErrorKind, Cmd, Config, Error, IntoConfig, Result};
use tokio::sync::{mpsc, watch};

pub use connection::ClusterConnection;
pub use scan::ClusterScan;

use crate::{Env, Node, RefreshConfig, RequestPolicy, SlotMap, Topology};
use nodes::{lock, Nodes, Trigger, Triggers};

/// Default limit on redirects (`MOVED`/`ASK`) followed for one command.
pub const DEFAULT_MAX_REDIRECTS: u32 = 16;

/// Maps every node address the cluster reports (and every redirect target) to the
/// address to dial: NAT, containers, a fault proxy in tests.
pub type Remap = Arc<dyn Fn(Addr) -> Addr + Send + Sync>;

/// Options for a [`ClusterClient`]; made by [`ClusterClient::builder`].
pub struct ClusterClientBuilder {
    seeds: Vec<Result<Config>>,
    config: Option<Config>,
    read_from: ReadFrom,
    max_redirects: u32,
    refresh: RefreshConfig,
    remap: Option<Remap>,
}

impl fmt::Debug for ClusterClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterClientBuilder")
            .field("seeds", &self.seeds.len())
            .field("read_from", &self.read_from)
            .field("max_redirects", &self.max_redirects)
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

impl ClusterClientBuilder {
    /// The config every node connection uses (credentials, TLS, timeouts, protocol,
    /// `probe_interval`); its address is ignored. Default: the first seed's config.
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Where reads go (default [`ReadFrom::Primary`]). With any other choice, every
    /// connection sends `READONLY` so replicas serve reads.
    pub fn read_from(mut self, read_from: ReadFrom) -> Self {
        self.read_from = read_from;
        self
    }

    /// Most `MOVED`/`ASK` redirects followed for one command (default 16).
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.max_redirects = n;
        self
    }

    /// The refresh schedule (rate limit, jitter, periodic refresh, default every 30 s).
    pub fn refresh(mut self, refresh: RefreshConfig) -> Self {
        self.refresh = refresh;
        self
    }

    /// Maps every address the cluster reports to the address to dial.
    pub fn remap(mut self, remap: impl Fn(Addr) -> Addr + Send + Sync + 'static) -> Self {
        self.remap = Some(Arc::new(remap));
        self
    }

    /// Checks the options. Nothing is connected yet.
    pub fn build(self) -> Result<ClusterClient> {
        let seeds: Vec<Config> = self.seeds.into_iter().collect::<Result<_>>()?;
        let Some(first) = seeds.first() else {
            return Err(Error::InvalidConfig(
                "a cluster client needs at least one seed address".into(),
            ));
        };
        let config = self.config.unwrap_or_else(|| first.clone());
        config.validate()?;
        let remap = self.remap;
        let seeds = seeds
            .into_iter()
            .map(|c| match &remap {
                Some(f) => f(c.addr),
                None => c.addr,
            })
            .collect();
        Ok(ClusterClient {
            inner: Arc::new(ClientInner {
                options: Options {
                    seeds,
                    config,
                    read_from: self.read_from,
                    max_redirects: self.max_redirects,
                    refresh: self.refresh,
                    remap,
                },
                shared: tokio::sync::Mutex::new(None),
            }),
        })
    }
}

/// What a client was built with.
struct Options {
    seeds: Vec<Addr>,
    config: Config,
    read_from: ReadFrom,
    max_redirects: u32,
    refresh: RefreshConfig,
    remap: Option<Remap>,
}

struct ClientInner {
    options: Options,
    shared: tokio::sync::Mutex<Option<Arc<Shared>>>,
}

/// A Redis Cluster client (see the module docs). Clone it freely: clones share the slot
/// map, the node connections and the topology manager.
#[derive(Clone)]
pub struct ClusterClient {
    inner: Arc<ClientInner>,
}

impl fmt::Debug for ClusterClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterClient")
            .field("seeds", &self.inner.options.seeds)
            .field("read_from", &self.inner.options.read_from)
            .finish_non_exhaustive()
    }
}

impl ClusterClient {
    /// Options for a client that starts from these seed nodes (URLs or [`Config`]s; one
    /// is enough, a few survive one being down).
    pub fn builder<I, T>(seeds: I) -> ClusterClientBuilder
    where
        I: IntoIterator<Item = T>,
        T: IntoConfig,
    {
        ClusterClientBuilder {
            seeds: seeds.into_iter().map(IntoConfig::into_config).collect(),
            config: None,
            read_from: ReadFrom::Primary,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            refresh: RefreshConfig::default(),
            remap: None,
        }
    }

    /// A client with default options.
    pub fn open<I, T>(seeds: I) -> Result<ClusterClient>
    where
        I: IntoIterator<Item = T>,
        T: IntoConfig,
    {
        ClusterClient::builder(seeds).build()
    }

    /// A connection to the cluster. The first call reads the slot map from the seeds and
    /// starts the topology manager on the current tokio runtime; later calls share them.
    /// Fails with `ClusterErrorKind::TopologyUnavailable` when no seed answers.
    pub async fn get_connection(&self) -> Result<ClusterConnection> {
        let mut slot = self.inner.shared.lock().await;
        if let Some(shared) = &*slot {
            return Ok(ClusterConnection::new(shared.clone()));
        }
        let o = &self.inner.options;
        let (tx, rx) = mpsc::unbounded_channel();
        let policy = RequestPolicy {
            max_redirects: o.max_redirects,
            timeout: o.config.response_timeout,
            ..RequestPolicy::default()
        };
        let shared = Arc::new(Shared {
            nodes: Nodes::new(o.config.clone(), o.read_from.uses_replicas(), tx.clone()),
            topology: Mutex::new(Topology::new(o.seeds.clone(), o.refresh.clone())),
            map: RwLock::new(Arc::new(SlotMap::default())),
            epoch: watch::channel(0).0,
            triggers: tx,
            read_from: o.read_from.clone(),
            policy,
            remap: o.remap.clone(),
            counter: AtomicU64::new(0),
        });
        let _ = lock(&shared.topology).trigger(std::time::Instant::now(), 0);
        if let Err(tried) = manager::refresh(&shared, &[]).await {
            return Err(Error::Cluster(ClusterErrorKind::TopologyUnavailable {
                tried,
            }));
        }
        tokio::spawn(manager::run(Arc::downgrade(&shared), rx));
        *slot = Some(shared.clone());
        Ok(ClusterConnection::new(shared))
    }
}

/// The state a client's connections and its manager share.
pub(crate) struct Shared {
    nodes: Nodes,
    /// The manager's pure state: map, refresh gate, seeds.
    topology: Mutex<Topology>,
    /// A snapshot of the topology's map, for requests (replaced, never changed in place).
    map: RwLock<Arc<SlotMap>>,
    /// Moves after each refresh, so requests waiting for one know it is done.
    epoch: watch::Sender<u64>,
    triggers: Triggers,
    read_from: ReadFrom,
    policy: RequestPolicy,
    remap: Option<Remap>,
    /// Grows by one per routed request (round-robin read policies).
    counter: AtomicU64,
}

/// Longest a request waits for the refresh it asked for (a refresh asks nodes for at most
/// a couple of seconds, and may be rate-limited for a fraction of one).
const REFRESH_WAIT: Duration = Duration::from_secs(3);

impl Shared {
    /// The current slot map.
    pub(crate) fn map(&self) -> Arc<SlotMap> {
        self.map.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Publishes the topology's map to requests.
    fn publish(&self, topology: &Topology) {
        *self.map.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(topology.map().clone());
    }

    /// Applies `MOVED` to the map until the next refresh (which it makes due).
    pub(crate) fn apply_moved(&self, slot: u16, addr: Addr) {
        let mut t = lock(&self.topology);
        let before = t.version();
        t.apply_moved(slot, addr);
        if t.version() != before {
            self.publish(&t);
        }
        drop(t);
        let _ = self.triggers.send(Trigger::Stale(self.epoch()));
    }

    /// The refresh epoch now (grows by one per refresh).
    pub(crate) fn epoch(&self) -> u64 {
        *self.epoch.borrow()
    }

    fn bump_epoch(&self) {
        self.epoch.send_modify(|e| *e += 1);
    }

    /// Asks for a refresh and waits until one that ends after now is done (bounded).
    pub(crate) async fn refreshed(&self) {
        let mut rx = self.epoch.subscribe();
        let since = *rx.borrow_and_update();
        let _ = self.triggers.send(Trigger::Stale(since));
        let _ = tokio::time::timeout(REFRESH_WAIT, rx.wait_for(|e| *e > since)).await;
    }

    fn tls(&self) -> bool {
        matches!(self.nodes.base().addr, Addr::Tls { .. })
    }

    fn remap(&self, a: Addr) -> Addr {
        match &self.remap {
            Some(f) => f(a),
            None => a,
        }
    }

    /// Whether `cmd` may be sent again after it may have run.
    pub(crate) fn retry_safe(&self, cmd: &Cmd) -> bool {
        command_table::is_retry_safe(cmd, self.nodes.base().retry_idempotent_writes)
    }

    /// What the request flow needs to decide its next step, with `map` (from
    /// [`map`](Self::map)), handed to `f`.
    pub(crate) fn with_env<R>(&self, map: &SlotMap, f: impl FnOnce(&Env<'_>) -> R) -> R {
        let remap = |a: Addr| self.remap(a);
        let stats = |n: &Node| self.nodes.stats(&n.addr);
        let env = Env {
            map,
            now: std::time::Instant::now(),
            read_from: &self.read_from,
            stats: &stats,
            counter: self.counter.fetch_add(1, Ordering::Relaxed),
            random: rand::random(),
            tls: self.tls(),
            remap: &remap,
        };
        f(&env)
    }
}
