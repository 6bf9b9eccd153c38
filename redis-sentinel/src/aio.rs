//! The async (tokio) Sentinel client: the same names as the blocking one.
//!
//! [`Sentinel`] holds the sentinels' addresses and their own config (credentials, TLS,
//! timeouts; separate from the data nodes'). [`Sentinel::master_for`] gives a
//! [`redis_async::Client`] whose every connection (multiplexed, managed, dedicated,
//! pub/sub) goes to the service's current primary; [`Sentinel::replica_for`] one whose
//! connections go to a usable replica, chosen by a [`ReadFrom`] policy.
//!
//! Behind each client is a connection source that
//! - resolves with the shared [`Discovery`] step machine (sentinels
//!   asked in turn, each bounded by the sentinel config's `connect_timeout`, the one that
//!   answered moved to the front) and checks `ROLE` on the node before use;
//! - caches the answer, and answers "no longer current" for any other node, so a managed
//!   connection moves off a demoted primary on its next request;
//! - follows the sentinels: subscribed to `+switch-master`, `+sdown` and `-sdown` on at
//!   least two sentinels, plus a periodic check in case every event was missed; on a
//!   switch it ends every connection the client opened to the old primary at once
//!   (requests in flight there fail with `MayHaveExecuted`, or are re-sent by a managed
//!   connection when that is safe; pub/sub resubscribes on the new primary);
//! - re-resolves when a connection fails, when a node refuses its role, and when a request
//!   waits past `Config::probe_interval` (the check runs in a spawned task).
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
//! // The sentinels' own settings; `connect_timeout` bounds one exchange with one sentinel.
//! let mut sentinels = Config::new(Addr::tcp("127.0.0.1", 26379));
//! sentinels.connect_timeout = Duration::from_secs(1);
//! let sentinel = Sentinel::new(
//!     [Addr::tcp("10.0.0.1", 26379), Addr::tcp("10.0.0.2", 26379)],
//!     sentinels,
//! );
//! // The data nodes' settings (the address is replaced by the node's).
//! let data = Config::from_url("redis://:data-password@unused/0")?;
//!
//! let primary = sentinel.master_for("mymaster", data.clone());
//! let mut con = primary.get_managed_connection().await?;
//! con.set::<_, _, ()>("greeting", "hello").await?;
//!
//! let replicas = sentinel.replica_for("mymaster", data, ReadFrom::RoundRobinReplicas);
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

mod conns;
mod discover;
mod follower;
mod primary;
mod replica;
mod source_core;

use std::sync::{Arc, Mutex, MutexGuard};

use redis_async::Client;
use redis_core::routing::ReadFrom;
use redis_core::{Addr, Config, Result, Target};

use crate::discovery::Discovery;
use crate::sentinels::SentinelList;

use discover::Discovered;
use primary::PrimarySource;
use replica::ReplicaSource;

/// A set of sentinels, and how to talk to them. Cheap to clone; every client it makes
/// shares its sentinel list (the order learned by one discovery helps the next).
#[derive(Clone, Debug)]
pub struct Sentinel {
    shared: Arc<Sentinels>,
}

/// What every source of one [`Sentinel`] shares.
#[derive(Debug)]
pub(crate) struct Sentinels {
    /// The sentinels' own config (credentials, TLS, timeouts); its address is replaced by
    /// each sentinel's.
    config: Config,
    list: Mutex<SentinelList>,
}

impl Sentinel {
    /// Sentinels at `addrs`, reached with `config` (its address is ignored: each sentinel's
    /// replaces it). `config.connect_timeout` bounds each exchange with one sentinel
    /// (connect, handshake and command), so keep it short: a dead sentinel costs that long
    /// until another answers.
    pub fn new(addrs: impl IntoIterator<Item = Addr>, config: Config) -> Sentinel {
        Sentinel {
            shared: Arc::new(Sentinels {
                config,
                list: Mutex::new(SentinelList::new(addrs)),
            }),
        }
    }

    /// The sentinels in the order they will be asked next (the last one that answered
    /// first, then those learned from `SENTINEL SENTINELS`).
    pub fn sentinels(&self) -> Vec<Addr> {
        self.shared.list().order().to_vec()
    }

    /// Asks the sentinels for the primary of `service` now, with a `ROLE`-checked target
    /// (not connected). Clients from [`master_for`](Self::master_for) do this themselves.
    pub async fn discover_primary(&self, service: &str, config: &Config) -> Result<Target> {
        self.shared
            .discover(|list| Discovery::primary(service, config, list))
            .await
            .result
    }

    /// A client whose connections always go to the current primary of `service`. `config`
    /// is the data nodes' config (credentials, database, TLS, timeouts, probe interval);
    /// its address is replaced by the primary's. Nothing is connected yet: the first
    /// connection asks the sentinels, and starts following them.
    pub fn master_for(&self, service: &str, config: Config) -> Client {
        let source = PrimarySource::new(self.shared.clone(), service, config.clone());
        Client::with_source(config, source)
    }

    /// A client whose connections go to usable replicas of `service` (see
    /// [`crate::replicas`]), chosen by `read_from` among them for each new connection;
    /// never to the primary, whatever the policy's fallback (with no usable replica, a
    /// connection fails with `SentinelErrorKind::NoUsableReplica`). Connections to a
    /// replica that goes down, loses its primary or is promoted are ended.
    pub fn replica_for(&self, service: &str, config: Config, read_from: ReadFrom) -> Client {
        let source = ReplicaSource::new(self.shared.clone(), service, config.clone(), read_from);
        Client::with_source(config, source)
    }
}

impl Sentinels {
    fn list(&self) -> MutexGuard<'_, SentinelList> {
        // Every critical section is a clone or an assignment: a poisoned lock still holds
        // a whole list.
        self.list.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The sentinel list as it is now.
    fn snapshot(&self) -> SentinelList {
        self.list().clone()
    }

    /// Runs one discovery made by `make` from the current sentinel list, and stores the
    /// list it learned back.
    pub(crate) async fn discover(
        &self,
        make: impl FnOnce(SentinelList) -> Discovery,
    ) -> Discovered {
        let found = discover::drive(make(self.snapshot()), &self.config).await;
        *self.list() = found.sentinels.clone();
        found
    }
}
