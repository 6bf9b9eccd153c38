//! The async (tokio) Sentinel client (feature `async`): the same names as the blocking one.
//!
//! [`Sentinel`] holds the sentinels' addresses and their own config (credentials, TLS;
//! separate from the data nodes'). [`Sentinel::master_for`] gives a
//! [`redis_async::Client`] whose every connection (multiplexed, managed, dedicated,
//! pub/sub) goes to the service's current primary; [`Sentinel::replica_for`] one whose
//! connections go to usable replicas only, chosen by a [`ReadFrom`] policy.
//!
//! Behind each client is a connection source that
//! - resolves with the shared [`Discovery`] step machine (sentinels asked in turn, each
//!   within the sentinel timeout, the one that answered moved to the front) and checks
//!   `ROLE` on the node before use;
//! - caches the answer, and answers "no longer current" for any other node, so a managed
//!   connection moves off a replaced primary on its next request;
//! - follows the sentinels from a task (subscribed on every known sentinel by default, plus
//!   a periodic check in case every event was missed), and acts on the shared
//!   [`Follower`](crate::Follower)'s decisions: on a switch (announced, or the leading
//!   sentinel's `+selected-slave`, which fences the old primary) it ends every connection
//!   the client opened to the old primary at once (requests in flight there fail with
//!   `MayHaveExecuted`, or are re-sent by a managed connection when that is safe; pub/sub
//!   with `reconnect` resubscribes on the new primary);
//! - asks the sentinels again when a connection cannot be opened, a node refuses its role,
//!   or a request waits past `Config::probe_interval` (in a spawned task: the driver that
//!   reports it never waits).
//!
//! The follower task stops once the client and every connection holding it are dropped.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use redis_async::{Addr, Commands, Config, PubSubOptions};
//! use redis_sentinel::aio::Sentinel;
//! use redis_sentinel::ReadFrom;
//!
//! # async fn run() -> redis_async::Result<()> {
//! // The sentinels' own settings (password, TLS); their address is replaced by each
//! // sentinel's, their timeouts by the sentinel timeout.
//! let sentinel = Sentinel::new(
//!     [Addr::tcp("10.0.0.1", 26379), Addr::tcp("10.0.0.2", 26379)],
//!     Config::new(Addr::tcp("unused", 26379)).with_password(None, "sentinel-password"),
//! )
//! .with_timeout(Duration::from_millis(500));
//! // The data nodes' settings (the address is replaced by the node's).
//! let data = Config::from_url("redis://:data-password@unused/0")?;
//!
//! let primary = sentinel.master_for("mymaster", data.clone())?;
//! let mut con = primary.get_managed_connection().await?;
//! con.set::<_, _, ()>("greeting", "hello").await?;
//!
//! let replicas = sentinel.replica_for("mymaster", data, ReadFrom::RoundRobinReplicas)?;
//! let mut reader = replicas.get_managed_connection().await?;
//! let _: Option<String> = reader.get("greeting").await?;
//!
//! let options = PubSubOptions { reconnect: true, ..PubSubOptions::default() };
//! let mut news = primary.get_pubsub_with(options).await?;
//! news.subscribe("news").await?;
//! while let Some(msg) = news.next_message().await {
//!     println!("{:?}", msg?.payload::<String>());
//! }
//! # Ok(()) }
//! ```

mod discover;
mod follower;
mod primary;
mod replica;
mod source_core;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use redis_async::Client;
use redis_core::routing::ReadFrom;
use redis_core::{Addr, Config, Result};

use crate::discovery::Discovery;
use crate::follow::{DEFAULT_CHECK_INTERVAL, MIN_FOLLOWED_SENTINELS};
use crate::registry::lock;
use crate::replicas::check_replica_policy;
use crate::sentinels::{sentinel_config, SentinelList};

use discover::Discovered;
use primary::PrimarySource;
use replica::ReplicaSource;

pub use crate::sentinels::DEFAULT_SENTINEL_TIMEOUT;

/// The sentinels of a deployment, and the clients they lead to. Clone it freely; the
/// clients it makes share its sentinel list (the order learned by one discovery helps the
/// next).
#[derive(Clone, Debug)]
pub struct Sentinel {
    shared: Arc<Sentinels>,
    follow: Follow,
}

/// What every source of one [`Sentinel`] shares.
#[derive(Debug)]
pub(crate) struct Sentinels {
    /// The sentinels' own config (credentials, TLS, client name); its address is replaced
    /// by each sentinel's, its timeouts by `timeout`.
    config: Config,
    /// The limit on one exchange with one sentinel.
    timeout: Duration,
    list: Mutex<SentinelList>,
}

/// How a client follows the sentinels.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Follow {
    /// The periodic check's interval.
    pub(crate) check_interval: Duration,
    /// On how many sentinels to subscribe (at least [`MIN_FOLLOWED_SENTINELS`]).
    pub(crate) sentinels: usize,
}

impl Sentinel {
    /// The sentinels at `addrs`, reached with `config` (its credentials, TLS settings and
    /// client name; its address is replaced by each sentinel's, its retry schedule ignored,
    /// and its timeouts replaced by the sentinel timeout). Nothing is connected yet.
    pub fn new(addrs: impl IntoIterator<Item = Addr>, config: Config) -> Sentinel {
        Sentinel {
            shared: Arc::new(Sentinels {
                config,
                timeout: DEFAULT_SENTINEL_TIMEOUT,
                list: Mutex::new(SentinelList::new(addrs)),
            }),
            follow: Follow {
                check_interval: DEFAULT_CHECK_INTERVAL,
                sentinels: usize::MAX,
            },
        }
    }

    /// How long one sentinel may take (connect, handshake and answer) before the next is
    /// asked; default [`DEFAULT_SENTINEL_TIMEOUT`]. A discovery takes at most about this
    /// times the number of sentinels. Applies to the clients made from now on.
    pub fn with_timeout(mut self, timeout: Duration) -> Sentinel {
        self.shared = Arc::new(Sentinels {
            config: self.shared.config.clone(),
            timeout,
            list: Mutex::new(self.shared.snapshot()),
        });
        self
    }

    /// How often clients check with the sentinels when they heard nothing (in case every
    /// event was missed); default [`DEFAULT_CHECK_INTERVAL`].
    pub fn with_check_interval(mut self, every: Duration) -> Sentinel {
        self.follow.check_interval = every;
        self
    }

    /// On how many sentinels each client subscribes to events: by default every known
    /// sentinel, since the early sign of a failover (`+selected-slave`) comes only from the
    /// sentinel leading it; at least [`MIN_FOLLOWED_SENTINELS`] (fewer only if fewer exist).
    pub fn with_followed_sentinels(mut self, n: usize) -> Sentinel {
        self.follow.sentinels = n.max(MIN_FOLLOWED_SENTINELS);
        self
    }

    /// The sentinel timeout in use.
    pub fn timeout(&self) -> Duration {
        self.shared.timeout
    }

    /// The sentinels in the order they are asked now (the last one that answered first,
    /// sentinels learned from the others included).
    pub fn sentinels(&self) -> Vec<Addr> {
        self.shared.list().order().to_vec()
    }

    /// A client whose connections always reach the current primary of `service`. `data`
    /// is the data nodes' config (credentials, TLS, database, timeouts, probe interval);
    /// its address is replaced by the primary's. The primary is asked for on first use, so
    /// errors (an unknown service, no sentinel reachable, ...) come from the first
    /// connection, each typed ([`Error::Sentinel`](redis_core::Error::Sentinel)).
    ///
    /// The client's follower task starts with its first connection (inside the tokio
    /// runtime) and ends when the client and every connection holding it are dropped.
    ///
    /// The client's [`events`](Client::events) stream also carries
    /// [`ConnectionEvent::PrimarySwitched`](redis_core::ConnectionEvent::PrimarySwitched)
    /// when the client moves to another primary (a failover, or a switch seen late).
    pub fn master_for(&self, service: &str, data: Config) -> Result<Client> {
        let source = PrimarySource::new(self.shared.clone(), service, data.clone(), self.follow);
        let hub = source.hub.clone();
        Ok(Client::with_source(data, source).with_events_of(&hub))
    }

    /// A client whose connections reach usable replicas of `service` only (never the
    /// primary, whatever `read_from`'s fallback), chosen per new connection by
    /// `read_from`; a replica a connection failed on is skipped for a while. When no
    /// replica is usable, connecting fails with
    /// [`SentinelErrorKind::NoUsableReplica`](crate::SentinelErrorKind::NoUsableReplica).
    /// [`ReadFrom::Primary`] is refused ([`Error::InvalidConfig`](redis_core::Error::InvalidConfig)).
    pub fn replica_for(&self, service: &str, data: Config, read_from: ReadFrom) -> Result<Client> {
        check_replica_policy(&read_from)?;
        let source = ReplicaSource::new(
            self.shared.clone(),
            service,
            data.clone(),
            read_from,
            self.follow,
        );
        Ok(Client::with_source(data, source))
    }
}

impl Sentinels {
    fn list(&self) -> MutexGuard<'_, SentinelList> {
        lock(&self.list)
    }

    /// The sentinel list as it is now.
    fn snapshot(&self) -> SentinelList {
        self.list().clone()
    }

    /// The config for the sentinel at `addr` (see [`sentinel_config`]).
    fn config_for(&self, addr: &Addr) -> Config {
        let mut config = sentinel_config(self.config.clone(), self.timeout);
        config.addr = addr.clone();
        config
    }

    /// Runs one discovery made by `make` from the current sentinel list, and stores the
    /// list it learned back.
    pub(crate) async fn discover(
        &self,
        make: impl FnOnce(SentinelList) -> Discovery,
    ) -> Discovered {
        let found = discover::drive(make(self.snapshot()), self).await;
        *self.list() = found.sentinels.clone();
        found
    }
}
