//! A cluster client's settings and their builder, the same for both flavours.
//!
//! Both clients take the same settings (seeds, one `Config` for every node, read routing,
//! the request flow's knobs, the refresh schedule, the remap hook) and check them the same
//! way, so the settings and the builder are written once here, generic over the client
//! they build ([`FromSettings`]). Each flavour names its builder
//! `ClusterClientBuilder`, a type alias of [`Builder`] for its own client.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_core::routing::ReadFrom;
use redis_core::{
    cmd, Addr, Backoff, Cmd, Config, Error, IntoConfig, Result, ServerErrorKind, Value,
};

use crate::refresh::RefreshConfig;
use crate::request::{Env, RequestPolicy};
use crate::slot_map::{AddrContext, SlotMap};

/// The address-remap hook: every node address the cluster reports (slot map, redirects)
/// goes through it before the client dials it (NAT, containers, a test proxy).
pub type Remap = Arc<dyn Fn(Addr) -> Addr + Send + Sync>;

/// What a cluster client is built from (see the module docs). Made by
/// [`Settings::from_seeds`], changed through a [`Builder`], checked by
/// [`Settings::checked`].
#[derive(Clone)]
pub struct Settings {
    /// Addresses the first refresh asks (and every refresh after the known nodes).
    pub seeds: Vec<Addr>,
    /// Every node connection's settings (its address is ignored).
    pub config: Config,
    /// Where reads go.
    pub read_from: ReadFrom,
    /// The request flow's knobs (`timeout` is the config's response timeout once checked).
    pub policy: RequestPolicy,
    /// The refresh schedule.
    pub refresh: RefreshConfig,
    /// Limit on reading the map from one node during a refresh.
    pub refresh_timeout: Duration,
    /// The remap hook, if any.
    pub remap: Option<Remap>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("seeds", &self.seeds)
            .field("config", &self.config)
            .field("read_from", &self.read_from)
            .field("policy", &self.policy)
            .field("refresh", &self.refresh)
            .field("refresh_timeout", &self.refresh_timeout)
            .finish_non_exhaustive()
    }
}

fn same(a: Addr) -> Addr {
    a
}

impl Settings {
    /// Defaults, from seed nodes (URLs or [`Config`]s): the first one's config serves
    /// every node.
    pub fn from_seeds<I>(seeds: I) -> Result<Settings>
    where
        I: IntoIterator,
        I::Item: IntoConfig,
    {
        let configs: Vec<Config> = seeds
            .into_iter()
            .map(IntoConfig::into_config)
            .collect::<Result<_>>()?;
        let Some(first) = configs.first() else {
            return Err(Error::InvalidConfig("a cluster client needs a seed".into()));
        };
        Ok(Settings {
            config: first.clone(),
            seeds: configs.iter().map(|c| c.addr.clone()).collect(),
            read_from: ReadFrom::Primary,
            policy: RequestPolicy::default(),
            refresh: RefreshConfig::default(),
            refresh_timeout: Duration::from_secs(1),
            remap: None,
        })
    }

    /// Validates the config and ties the limits to it: a request's budget is the response
    /// timeout, a refresh asks one node for no longer than the connect or response timeout.
    pub fn checked(mut self) -> Result<Settings> {
        if self.seeds.is_empty() {
            return Err(Error::InvalidConfig("a cluster client needs a seed".into()));
        }
        self.config.validate()?;
        self.policy.timeout = self.config.response_timeout;
        self.refresh_timeout = self
            .refresh_timeout
            .min(self.config.connect_timeout)
            .min(self.config.response_timeout);
        Ok(self)
    }

    /// Whether nodes are reached over TLS (as the config's address is).
    pub fn tls(&self) -> bool {
        matches!(self.config.addr, Addr::Tls { .. })
    }

    /// The remap hook, or the identity.
    pub fn remap_fn(&self) -> &(dyn Fn(Addr) -> Addr + Send + Sync) {
        match &self.remap {
            Some(r) => &**r,
            None => &same,
        }
    }

    /// Asks `asked` for its view of the slot map (see [`ViewQuery`]).
    pub fn view_query<'a>(&'a self, asked: &'a Addr) -> ViewQuery<'a> {
        ViewQuery {
            settings: self,
            asked,
            shards: true,
        }
    }

    /// The environment of one request step with these settings: `map`, now, a fresh random
    /// number, `counter` (round robin); every node healthy unless the caller sets
    /// [`Env::stats`].
    pub fn env<'a>(&'a self, map: &'a SlotMap, counter: u64) -> Env<'a> {
        self.env_at(map, counter, Instant::now())
    }

    /// [`env`](Self::env) with the time the caller already read (one clock read per
    /// request step rather than two).
    pub fn env_at<'a>(&'a self, map: &'a SlotMap, counter: u64, now: Instant) -> Env<'a> {
        Env {
            read_from: &self.read_from,
            counter,
            random: rand::random(),
            tls: self.tls(),
            remap: self.remap_fn(),
            ..Env::new(map, now)
        }
    }
}

/// Asking one node for its view of the slot map, sans-IO: `CLUSTER SHARDS` (7.0+, host
/// names, TLS ports, node health), or `CLUSTER SLOTS` when the server does not know it.
/// The shell sends [`ViewQuery::cmd`], hands the reply to [`ViewQuery::reply`], and sends
/// again while that says [`ViewStep::Ask`].
#[derive(Debug)]
pub struct ViewQuery<'a> {
    settings: &'a Settings,
    asked: &'a Addr,
    shards: bool,
}

/// What to do after a [`ViewQuery`] reply.
#[derive(Debug)]
pub enum ViewStep {
    /// Send this to the same node and hand its reply over again.
    Ask(Cmd),
    /// The node's view (addresses read relative to it, through the remap hook).
    Done(Result<SlotMap>),
}

impl<'a> ViewQuery<'a> {
    /// The command to send first.
    pub fn cmd(&self) -> Cmd {
        cmd("CLUSTER").with(if self.shards { "SHARDS" } else { "SLOTS" })
    }

    /// The node answered `reply`.
    pub fn reply(&mut self, reply: Result<Value>) -> ViewStep {
        let ctx =
            AddrContext::new(self.asked, self.settings.tls()).with_remap(self.settings.remap_fn());
        match reply {
            Ok(v) if self.shards => ViewStep::Done(SlotMap::from_shards(&v, &ctx)),
            Ok(v) => ViewStep::Done(SlotMap::from_slots(&v, &ctx)),
            // An older server: `ERR unknown subcommand`.
            Err(e) if self.shards && matches!(e.server_kind(), Some(ServerErrorKind::Err)) => {
                self.shards = false;
                ViewStep::Ask(self.cmd())
            }
            Err(e) => ViewStep::Done(Err(e)),
        }
    }
}

/// The client a [`Builder`] builds.
pub trait FromSettings: Sized {
    /// The client, from checked settings.
    fn from_settings(settings: Settings) -> Result<Self>;
}

/// Builds a cluster client `C` (each flavour's `ClusterClientBuilder`); made by its
/// `ClusterClient::builder`.
pub struct Builder<C> {
    settings: Settings,
    client: PhantomData<fn() -> C>,
}

impl<C> fmt::Debug for Builder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterClientBuilder")
            .field("settings", &self.settings)
            .finish()
    }
}

impl<C: FromSettings> Builder<C> {
    /// A builder with these settings.
    pub fn new(settings: Settings) -> Builder<C> {
        Builder {
            settings,
            client: PhantomData,
        }
    }

    /// The settings of every node connection: credentials, TLS, protocol, timeouts,
    /// `probe_interval`, `retry_idempotent_writes` (its address is ignored: nodes come from
    /// the seeds and the slot map). Defaults to the first seed's config.
    pub fn config(mut self, config: Config) -> Self {
        self.settings.config = config;
        self
    }

    /// Where reads go (default [`ReadFrom::Primary`]); replica connections send `READONLY`.
    pub fn read_from(mut self, read_from: ReadFrom) -> Self {
        self.settings.read_from = read_from;
        self
    }

    /// Most redirects one request follows (default 16).
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.settings.policy.max_redirects = n;
        self
    }

    /// How long a request for an uncovered slot waits for coverage (default 2 s).
    pub fn coverage_wait(mut self, wait: Duration) -> Self {
        self.settings.policy.coverage_wait = wait;
        self
    }

    /// Backoff between retries after refusals (`TRYAGAIN`, `CLUSTERDOWN`, ...) and
    /// connection failures.
    pub fn retry_backoff(mut self, backoff: Backoff) -> Self {
        self.settings.policy.backoff = backoff;
        self
    }

    /// The refresh schedule (rate limit, jitter, periodic refresh: 30 s by default).
    pub fn refresh(mut self, refresh: RefreshConfig) -> Self {
        self.settings.refresh = refresh;
        self
    }

    /// Limit on connecting to and reading the map from one node during a refresh
    /// (default 1 s, or the connect/response timeout when shorter).
    pub fn refresh_timeout(mut self, timeout: Duration) -> Self {
        self.settings.refresh_timeout = timeout;
        self
    }

    /// The address-remap hook (see [`Remap`]).
    pub fn remap(mut self, remap: impl Fn(Addr) -> Addr + Send + Sync + 'static) -> Self {
        self.settings.remap = Some(Arc::new(remap));
        self
    }

    /// Checks the settings and builds the client; nothing is connected yet.
    pub fn build(self) -> Result<C> {
        C::from_settings(self.settings.checked()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Client(Settings);

    impl FromSettings for Client {
        fn from_settings(settings: Settings) -> Result<Client> {
            Ok(Client(settings))
        }
    }

    #[test]
    fn builder_ties_limits_to_the_config() {
        let settings =
            Settings::from_seeds(["redis://:pw@10.0.0.1:7000", "redis://10.0.0.2:7001"]).unwrap();
        assert_eq!(settings.seeds.len(), 2);
        let config = settings
            .config
            .clone()
            .with_protocol(redis_core::Protocol::Resp3);
        let Client(s) = Builder::<Client>::new(settings)
            .config(config)
            .max_redirects(3)
            .coverage_wait(Duration::from_millis(10))
            .refresh_timeout(Duration::from_secs(60))
            .remap(|a| match a {
                Addr::Tcp { port, .. } => Addr::tcp("proxy", port + 1),
                other => other,
            })
            .build()
            .unwrap();
        assert_eq!(s.policy.max_redirects, 3);
        assert_eq!(s.policy.timeout, s.config.response_timeout);
        assert!(s.refresh_timeout <= s.config.connect_timeout);
        assert_eq!(s.config.protocol, redis_core::Protocol::Resp3);
        assert_eq!((s.remap_fn())(Addr::tcp("h", 1)), Addr::tcp("proxy", 2));
        assert!(!s.tls());
        let map = SlotMap::default();
        let env = s.env(&map, 7);
        assert_eq!(env.counter, 7);
        assert!(Settings::from_seeds(Vec::<String>::new()).is_err());

        // CLUSTER SHARDS, then SLOTS on a server without it; addresses remapped.
        let asked = Addr::tcp("10.0.0.1", 7000);
        let mut q = s.view_query(&asked);
        assert_eq!(q.cmd(), cmd("CLUSTER").with("SHARDS"));
        let unknown = redis_core::ServerError::parse("ERR unknown subcommand 'SHARDS'");
        let ViewStep::Ask(next) = q.reply(Err(Error::Server(unknown))) else {
            panic!("no fallback to CLUSTER SLOTS");
        };
        assert_eq!(next, cmd("CLUSTER").with("SLOTS"));
        let b = |s: &str| Value::BulkString(s.as_bytes().to_vec().into());
        let slots = Value::Array(vec![Value::Array(vec![
            Value::Int(0),
            Value::Int(16383),
            Value::Array(vec![b("10.0.0.1"), Value::Int(7000), b("id1")]),
        ])]);
        let ViewStep::Done(Ok(map)) = q.reply(Ok(slots)) else {
            panic!("CLUSTER SLOTS reply not read");
        };
        assert_eq!(map.primary_for(0).unwrap().addr, Addr::tcp("proxy", 7001));
        let mut q = s.view_query(&asked);
        assert!(matches!(
            q.reply(Err(Error::protocol("x"))),
            ViewStep::Done(Err(Error::Protocol(_)))
        ));
        assert!(Settings::from_seeds(["not a url"]).is_err());
    }
}
