//! The blocking Sentinel client (feature `sync`, on by default).
//!
//! [`Sentinel`] holds the sentinels' addresses and their own config (auth, TLS), separate
//! from the data nodes'. [`Sentinel::master_for`] gives a [`redis_sync::Client`] whose
//! connections, pools and pub/sub always reach the service's current primary;
//! [`Sentinel::replica_for`] one whose connections reach usable replicas only. Both are
//! ordinary clients: everything that works on a `redis_sync::Client` works on them.
//!
//! Behind each client, a connection source asks the sentinels (in turn, each within
//! [`DEFAULT_SENTINEL_TIMEOUT`]), checks `ROLE` on every new connection, and a follower
//! thread listens to the sentinels' events on every sentinel (at least two); when the primary
//! moves, every connection to the old one is aborted: idle pooled ones, requests in
//! flight (which fail at once instead of waiting or landing on a node about to be
//! demoted), and pub/sub connections (the subscriber subscribes again through the same
//! client). See `docs/sentinel.md` for the whole story; the example there is this one.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use redis_sentinel::sync::Sentinel;
//! use redis_sentinel::{ReadFrom, SentinelErrorKind};
//! use redis_sync::{Addr, Commands, Config, Error};
//!
//! # fn main() -> Result<(), Error> {
//! // The sentinels' own settings (password, TLS, client name), separate from the data nodes'.
//! let sentinels = Config::new(Addr::tcp("unused", 26379)).with_password(None, "sentinel-pw");
//! let sentinel = Sentinel::new(
//!     [
//!         Addr::tcp("10.0.0.1", 26379),
//!         Addr::tcp("10.0.0.2", 26379),
//!         Addr::tcp("10.0.0.3", 26379),
//!     ],
//!     sentinels,
//! )
//! .with_timeout(Duration::from_secs(1)); // per sentinel, then the next one is asked
//!
//! // The data nodes' settings; the address is replaced by the primary's (or a replica's).
//! let data = Config::from_url("redis://:data-pw@unused/0")?;
//!
//! // Writes: every connection, pooled connection and subscriber of this client reaches the
//! // current primary.
//! let primary = sentinel.master_for("mymaster", data.clone())?;
//! match primary.get_connection() {
//!     Ok(mut con) => con.set::<_, _, ()>("greeting", "hello")?,
//!     Err(Error::Sentinel(SentinelErrorKind::UnknownService { service })) => {
//!         eprintln!("no sentinel monitors {service:?}");
//!         return Ok(());
//!     }
//!     Err(e) => return Err(e),
//! }
//! let pool = primary.pool(8)?;
//! let visits: i64 = pool.get()?.incr("visits", 1)?;
//!
//! // Reads from usable replicas only (never the primary).
//! let replicas = sentinel.replica_for("mymaster", data, ReadFrom::RoundRobinReplicas)?;
//! let greeting: Option<String> = replicas.get_connection()?.get("greeting")?;
//!
//! // Pub/sub: a switch ends the subscriber's connection; subscribe again through the client.
//! let mut sub = primary.get_pubsub()?;
//! sub.subscribe("news")?;
//! loop {
//!     match sub.get_message(Duration::from_secs(1)) {
//!         Ok(Some(msg)) => println!("{:?}", msg.payload::<String>()?),
//!         Ok(None) => {}
//!         Err(_) => {
//!             sub = primary.get_pubsub()?;
//!             sub.subscribe("news")?;
//!         }
//!     }
//! #   break;
//! }
//! # let _ = (visits, greeting);
//! # Ok(())
//! # }
//! ```

mod asker;
mod master;
mod replica;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use redis_core::routing::ReadFrom;
use redis_core::{Addr, Config, Error, Result};
use redis_sync::Client;

use crate::follow::{DEFAULT_CHECK_INTERVAL, MIN_FOLLOWED_SENTINELS};
use crate::replicas::check_replica_policy;
use crate::sentinels::SentinelList;
use asker::Sentinels;
use master::MasterSource;
use replica::ReplicaSource;

pub use crate::sentinels::DEFAULT_SENTINEL_TIMEOUT;

/// The sentinels of a deployment, and the clients they lead to. Clone it freely; the
/// clients it makes share its sentinel list (and the order learned from it).
#[derive(Clone, Debug)]
pub struct Sentinel {
    sentinels: Arc<Sentinels>,
    addrs: SentinelList,
    config: Config,
    timeout: Duration,
    check_interval: Duration,
    follow: usize,
}

impl Sentinel {
    /// The sentinels at `addrs`, reached with `config` (its credentials, TLS settings and
    /// client name; its address is replaced by each sentinel's, its database and retry
    /// schedule ignored, and its timeouts replaced by the sentinel timeout). Nothing is
    /// connected yet.
    pub fn new(addrs: impl IntoIterator<Item = Addr>, config: Config) -> Sentinel {
        let addrs = SentinelList::new(addrs);
        Sentinel {
            sentinels: Arc::new(Sentinels::new(
                addrs.clone(),
                config.clone(),
                DEFAULT_SENTINEL_TIMEOUT,
            )),
            addrs,
            config,
            timeout: DEFAULT_SENTINEL_TIMEOUT,
            check_interval: DEFAULT_CHECK_INTERVAL,
            follow: usize::MAX,
        }
    }

    /// How long one sentinel may take (connect + handshake, and each reply) before the
    /// next is asked; default [`DEFAULT_SENTINEL_TIMEOUT`]. A discovery takes at most
    /// about this times the number of sentinels.
    pub fn with_timeout(mut self, timeout: Duration) -> Sentinel {
        self.timeout = timeout;
        self.sentinels = Arc::new(Sentinels::new(
            self.addrs.clone(),
            self.config.clone(),
            timeout,
        ));
        self
    }

    /// How often clients check with the sentinels when they heard nothing (in case every
    /// event was missed); default [`DEFAULT_CHECK_INTERVAL`].
    pub fn with_check_interval(mut self, every: Duration) -> Sentinel {
        self.check_interval = every;
        self
    }

    /// On how many sentinels each client subscribes to events: by default every known
    /// sentinel, since the early sign of a failover (`+selected-slave`) comes only from
    /// the sentinel leading it; at least [`MIN_FOLLOWED_SENTINELS`] (fewer only if fewer
    /// exist).
    pub fn with_followed_sentinels(mut self, n: usize) -> Sentinel {
        self.follow = n.max(MIN_FOLLOWED_SENTINELS);
        self
    }

    /// A client whose connections always reach the current primary of `service`. `data`
    /// is the data nodes' config (credentials, TLS, database, timeouts, probe interval);
    /// its address is replaced by the primary's. The primary is asked for on first use,
    /// so errors (an unknown service, no sentinel reachable, ...) come from the first
    /// `get_connection` / pool checkout, each typed ([`Error::Sentinel`]).
    ///
    /// Starts the client's follower thread; it ends when the last handle of the client
    /// (clones and pools included) is dropped.
    ///
    /// The client's [`on_event`](Client::on_event) callbacks also get
    /// [`ConnectionEvent::PrimarySwitched`](redis_core::ConnectionEvent::PrimarySwitched)
    /// when the client moves to another primary (a failover, or a switch seen late).
    pub fn master_for(&self, service: &str, data: Config) -> Result<Client> {
        let source = Arc::new(MasterSource::new(
            self.sentinels.clone(),
            service,
            data.clone(),
            self.check_interval,
            self.follow,
        ));
        watch::spawn(&source, service).map_err(Error::Io)?;
        let hub = source.hub.clone();
        Ok(Client::with_source(data, source).with_events_of(&hub))
    }

    /// A client whose connections reach usable replicas of `service` only (never the
    /// primary, whatever `read_from`'s fallback), chosen per new connection by
    /// `read_from`; a replica a connection failed on is skipped for a while. When no
    /// replica is usable, connecting fails with
    /// [`SentinelErrorKind::NoUsableReplica`](crate::SentinelErrorKind::NoUsableReplica).
    /// [`ReadFrom::Primary`] is refused ([`Error::InvalidConfig`]).
    pub fn replica_for(&self, service: &str, data: Config, read_from: ReadFrom) -> Result<Client> {
        check_replica_policy(&read_from)?;
        let source = Arc::new(ReplicaSource::new(
            self.sentinels.clone(),
            service,
            data.clone(),
            read_from,
            self.check_interval,
            self.follow,
        ));
        watch::spawn(&source, service).map_err(Error::Io)?;
        Ok(Client::with_source(data, source))
    }

    /// The sentinel timeout in use.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The sentinels in the order they are asked now (the last one that answered first,
    /// sentinels learned from the others included).
    pub fn sentinels(&self) -> Vec<Addr> {
        self.sentinels.list().order().to_vec()
    }
}
