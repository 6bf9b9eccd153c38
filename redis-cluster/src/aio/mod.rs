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
//! use redis_async::{cmd, commands, pipe, transaction, Commands, Query};
//! use redis_cluster::aio::ClusterClient;
//! use redis_core::routing::ReadFrom;
//!
//! # async fn run() -> redis_core::Result<()> {
//! // Any reachable nodes; the first one's settings (password, TLS, timeouts, protocol)
//! // are used for every node.
//! let client = ClusterClient::builder(["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"])?
//!     .read_from(ReadFrom::PreferReplica) // reads on replicas (READONLY is sent for you)
//!     .build()?;
//!
//! // One multiplexed connection per node under it; clone it into every task.
//! let mut con = client.get_connection().await?;
//! con.set::<_, _, ()>("{user1}.name", "Ada").await?;
//! let name: String = con.get("{user1}.name").await?;
//!
//! // Multi-key commands across slots: split per slot, sent at once, merged in key order.
//! let n: usize = cmd("EXISTS").with("a").with("b").with("c").query(&mut con).await?;
//!
//! // Pipelines: one sub-pipeline per node, all nodes at once, replies in your order.
//! let (a, b): (Option<String>, Option<String>) = pipe()
//!     .add(commands::get("a"))
//!     .add(commands::get("b"))
//!     .query(&mut con)
//!     .await?;
//!
//! // WATCH transactions: a connection of your own to the slot's primary.
//! let mut own = client.get_exclusive("{acct}.a").await?;
//! let (moved,): (i64,) = transaction(&mut own, ("{acct}.a", "{acct}.b"), async |c, p| {
//!     let v: i64 = c.get::<_, Option<i64>>("{acct}.a").await?.unwrap_or(0);
//!     p.add(commands::set("{acct}.b", v)).ignore().add(commands::get("{acct}.b"));
//!     p.query(c).await
//! })
//! .await?;
//!
//! // Every key of the cluster, primary by primary.
//! let keys: Vec<String> = con.scan_match_iter("user:*").collect_all().await?;
//! # let _ = (name, n, a, b, moved, keys);
//! # Ok(()) }
//! ```

mod connection;
mod follow;
mod join;
mod manager;
mod nodes;
mod scan;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

use redis_async::{DedicatedConnection, PubSub, PubSubOptions};
use redis_core::command_table;
use redis_core::routing::ReadFrom;
use redis_core::{Addr, ClusterErrorKind, Cmd, Config, ConnectionEvent, Error, IntoConfig, Result};
use tokio::sync::{mpsc, watch};

pub use connection::ClusterConnection;
pub use scan::ClusterScan;

use crate::settings::{Builder, FromSettings, Settings};
use crate::{Env, Node, Request, RequestTarget, SlotMap, Step, Topology};
use follow::Follower;
use nodes::{lock, Nodes, Trigger, Triggers};

pub use crate::settings::Remap;

/// Builds a [`ClusterClient`]; made by [`ClusterClient::builder`] (the settings and their
/// builder are shared with the blocking flavour, see [`crate::settings`]).
pub type ClusterClientBuilder = Builder<ClusterClient>;

impl FromSettings for ClusterClient {
    /// The client state; the manager is started by the first connection (it needs the
    /// tokio runtime).
    fn from_settings(settings: Settings) -> Result<ClusterClient> {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            nodes: Nodes::new(
                settings.config.clone(),
                settings.read_from.uses_replicas(),
                tx.clone(),
            ),
            topology: Mutex::new(Topology::new(
                settings.seeds.clone(),
                settings.refresh.clone(),
            )),
            map: RwLock::new(Arc::new(SlotMap::default())),
            epoch: watch::channel(0).0,
            triggers: tx,
            manager: tokio::sync::Mutex::new(Some(rx)),
            settings,
            followers: Mutex::new(Vec::new()),
            counter: AtomicU64::new(0),
        });
        Ok(ClusterClient { shared })
    }
}

/// A Redis Cluster client (async). Clone it freely: clones share the slot map, the node
/// connections and the topology manager.
#[derive(Clone)]
pub struct ClusterClient {
    shared: Arc<Shared>,
}

impl fmt::Debug for ClusterClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterClient")
            .field("settings", &self.shared.settings)
            .field("covered_slots", &self.shared.map().covered_slots())
            .finish_non_exhaustive()
    }
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

    /// A connection to the cluster: cheap to clone, one multiplexed connection per node
    /// under it. The first call reads the slot map from the seeds (failing with
    /// `ClusterErrorKind::TopologyUnavailable` when none answers) and starts the topology
    /// manager on the current tokio runtime.
    pub async fn get_connection(&self) -> Result<ClusterConnection> {
        self.shared.ensure_started().await?;
        Ok(ClusterConnection::new(self.shared.clone()))
    }

    /// A connection of its own to the primary serving `key`'s slot, for what needs one
    /// socket to itself: `WATCH`/`MULTI`/`EXEC` with [`redis_async::transaction`] (keep
    /// every key in that slot with one hash tag), blocking commands. Redirects are not
    /// followed on it; if the slot moves, open another. It is ended like any connection of
    /// the client when its node is failed over.
    pub async fn get_exclusive(&self, key: impl AsRef<[u8]>) -> Result<DedicatedConnection> {
        self.shared.ensure_started().await?;
        self.shared.exclusive(key.as_ref()).await
    }

    /// A pub/sub connection for `SUBSCRIBE`/`PSUBSCRIBE` on some primary (a cluster
    /// delivers classic pub/sub messages on every node). It always reconnects (whatever
    /// `options.reconnect` says) and moves to another primary if its node is failed over;
    /// the stream then yields a `Resubscribed` notice.
    pub async fn get_pubsub(&self, options: PubSubOptions) -> Result<PubSub> {
        self.shared.ensure_started().await?;
        self.shared
            .following_pubsub(RequestTarget::AnyPrimary, options)
            .await
    }

    /// A pub/sub connection to the primary serving `channel`'s slot, for `SSUBSCRIBE` to
    /// shard channels of that slot (give related channels one hash tag). It follows the
    /// slot: when a refresh shows the slot on another node (migrated, failed over), the
    /// connection moves there and resubscribes, and the stream yields a `Resubscribed`
    /// notice; it always reconnects, whatever `options.reconnect` says.
    pub async fn get_shard_pubsub(
        &self,
        channel: impl AsRef<[u8]>,
        options: PubSubOptions,
    ) -> Result<PubSub> {
        self.shared.ensure_started().await?;
        let target = RequestTarget::Slot(crate::slot(channel.as_ref()));
        self.shared.following_pubsub(target, options).await
    }

    /// The slot map as the client knows it now (empty before the first connection).
    pub fn slot_map(&self) -> Arc<SlotMap> {
        self.shared.map()
    }

    /// Reads the slot map from the cluster now (after a refresh already running and the
    /// refresh rate limit).
    pub async fn refresh(&self) -> Result<()> {
        self.shared.ensure_started().await?;
        self.shared.refreshed().await;
        Ok(())
    }

    /// The settings of every node connection.
    pub fn config(&self) -> &Config {
        self.shared.nodes.base()
    }

    /// The events of every connection of the client (node connections, pub/sub,
    /// exclusive connections, the topology refresh's): connected, handshake done,
    /// disconnected, re-authenticated, ... as [`redis_async::Client::events`] describes,
    /// each naming its node; and [`ConnectionEvent::TopologyChanged`] when a refresh finds
    /// slots on other primaries (a failover, a migration; the first map read counts every
    /// slot). A receiver that falls behind loses the oldest events and is told how many.
    pub fn events(&self) -> tokio::sync::broadcast::Receiver<ConnectionEvent> {
        self.shared.nodes.hub().events()
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
    /// The manager's trigger queue until the manager is started (then `None`).
    manager: tokio::sync::Mutex<Option<mpsc::UnboundedReceiver<Trigger>>>,
    settings: Settings,
    /// The sources of the client's pub/sub connections, to move them after a refresh.
    followers: Mutex<Vec<Weak<Follower>>>,
    /// Grows by one per routed request (round-robin read policies).
    counter: AtomicU64,
}

impl Shared {
    /// Reads the first slot map and starts the manager, once.
    async fn ensure_started(self: &Arc<Self>) -> Result<()> {
        let mut manager = self.manager.lock().await;
        let Some(rx) = manager.take() else {
            return Ok(());
        };
        let _ = lock(&self.topology).trigger(std::time::Instant::now(), 0);
        if let Err(tried) = manager::refresh(self, &[]).await {
            *manager = Some(rx);
            return Err(Error::Cluster(ClusterErrorKind::TopologyUnavailable {
                tried,
            }));
        }
        tokio::spawn(manager::run(Arc::downgrade(self), rx));
        Ok(())
    }

    /// A pub/sub connection on the node the request flow picks for `target`, that follows
    /// it (see [`follow`]).
    async fn following_pubsub(
        self: &Arc<Self>,
        target: RequestTarget,
        options: PubSubOptions,
    ) -> Result<PubSub> {
        let follower = Arc::new(Follower::new(target, Arc::downgrade(self)));
        {
            let mut followers = lock(&self.followers);
            followers.retain(|f| f.strong_count() > 0);
            followers.push(Arc::downgrade(&follower));
        }
        let client = redis_async::Client::with_source(self.settings.config.clone(), follower)
            .with_events_of(self.nodes.hub());
        let options = PubSubOptions {
            reconnect: true,
            ..options
        };
        client.get_pubsub_with(options).await
    }

    /// Moves the pub/sub connections that are no longer on their node (after a refresh).
    fn follow(&self, map: &SlotMap) {
        let followers: Vec<Arc<Follower>> = {
            let mut followers = lock(&self.followers);
            followers.retain(|f| f.strong_count() > 0);
            followers.iter().filter_map(Weak::upgrade).collect()
        };
        for f in followers {
            f.follow(map);
        }
    }

    /// A connection of its own to the primary of `key`'s slot (see
    /// [`ClusterClient::get_exclusive`]).
    pub(crate) async fn exclusive(&self, key: &[u8]) -> Result<DedicatedConnection> {
        let target = RequestTarget::Slot(crate::slot(key));
        self.open_on(target, |addr| {
            Box::pin(async move { self.nodes.dedicated(&addr).await })
        })
        .await
    }

    /// Opens something of its own (`open`) on the node `target` names, found through the
    /// request flow: it waits for an uncovered slot and retries after a failed connect as
    /// for a command that was never sent.
    pub(crate) async fn open_on<'a, T>(
        &self,
        target: RequestTarget,
        open: impl Fn(Addr) -> join::Boxed<'a, Result<T>>,
    ) -> Result<T> {
        let mut req = Request::new(
            target,
            true,
            false,
            &self.settings.policy,
            std::time::Instant::now(),
        );
        let mut step = self.with_env(&self.map(), |env| req.start(env));
        loop {
            step = match step {
                Step::Send { addr, .. } => match open(addr.clone()).await {
                    Ok(opened) => return Ok(opened),
                    Err(e) => self.with_env(&self.map(), |env| req.not_sent(&addr, e, env)),
                },
                Step::Done(result) => {
                    return Err(result.err().unwrap_or_else(|| {
                        Error::Broken("no node to open a connection to".into())
                    }))
                }
                other => self.carry_out(&mut req, other).await,
            }
        }
    }

    /// Carries out a request's step that is not a send (record a `MOVED`, refresh, sleep)
    /// and returns the request's next step; a send or the end is returned as it is, for
    /// the caller.
    pub(crate) async fn carry_out(&self, req: &mut Request, step: Step) -> Step {
        match step {
            Step::Moved { slot, addr } => self.apply_moved(slot, addr),
            Step::Refresh => self.refreshed().await,
            Step::Sleep(d) => tokio::time::sleep(d).await,
            other => return other,
        }
        self.with_env(&self.map(), |env| req.resume(env))
    }

    /// The current slot map.
    pub(crate) fn map(&self) -> Arc<SlotMap> {
        self.map.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Publishes the topology's map to requests.
    fn publish(&self, topology: &Topology) {
        *self.map.write().unwrap_or_else(|p| p.into_inner()) =
            Arc::new(topology.map().routing_copy());
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
        // Bounded by what one refresh may take: the rate limit, then two waves of asks
        // (known nodes, then seeds), each within the refresh timeout.
        let s = &self.settings;
        let limit = s.refresh.min_interval + s.refresh.jitter + s.refresh_timeout * 2;
        let _ = tokio::time::timeout(limit, rx.wait_for(|e| *e > since)).await;
    }

    /// A connection to `addr` failed or timed out while in use: reads skip the node for a
    /// while, and a refresh is due (the node may be gone or failed over).
    pub(crate) fn node_failed(&self, addr: &Addr) {
        self.nodes.health().failed(addr, std::time::Instant::now());
        let _ = self.triggers.send(Trigger::Failed);
    }

    /// Whether the read policy looks at measured round trips (then each request's is
    /// recorded).
    pub(crate) fn measures_latency(&self) -> bool {
        matches!(
            self.settings.read_from,
            ReadFrom::LowestLatency | ReadFrom::Custom(_)
        )
    }

    /// Whether `cmd` may be sent again after it may have run.
    pub(crate) fn retry_safe(&self, cmd: &Cmd) -> bool {
        command_table::is_retry_safe(cmd, self.idempotent_writes())
    }

    /// The config's opt-in to re-sending idempotent writes that may have run.
    pub(crate) fn idempotent_writes(&self) -> bool {
        self.nodes.base().retry_idempotent_writes
    }

    /// What the request flow needs to decide its next step, with `map` (from
    /// [`map`](Self::map)) and what the client measured of each node, handed to `f`.
    pub(crate) fn with_env<R>(&self, map: &SlotMap, f: impl FnOnce(&Env<'_>) -> R) -> R {
        let health = self.nodes.health();
        let (now, with_latency) = (std::time::Instant::now(), self.measures_latency());
        let stats = |n: &Node| health.stats(&n.addr, now, with_latency);
        let counter = self.counter.fetch_add(1, Ordering::Relaxed);
        let env = Env {
            stats: &stats,
            ..self.settings.env_at(map, counter, now)
        };
        f(&env)
    }
}
