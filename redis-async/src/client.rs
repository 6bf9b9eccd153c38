//! The entry point: a cheap, cloneable handle holding the configuration.

use std::future::Future;
use std::sync::Arc;

use redis_core::{Config, ConnectionEvent, IntoConfig, Result};
use tokio::sync::broadcast;

use crate::dedicated::DedicatedConnection;
use crate::events::Hooks;
use crate::managed::ManagedConnection;
use crate::multiplexed::{Connection, Sinks};
use crate::pubsub::{PubSub, PubSubOptions};
use crate::source::ConnectionSource;

/// Opens connections to one server (or to whatever its connection source names). Clone it
/// freely; it holds no socket.
#[derive(Clone, Debug)]
pub struct Client {
    config: Arc<Config>,
    source: Arc<dyn ConnectionSource>,
    queue: usize,
    hooks: Hooks,
}

impl Client {
    /// Validates a URL (`redis://...`, `rediss://...`, `unix:///...`) or takes a
    /// [`Config`]. Nothing is connected yet.
    pub fn open<T: IntoConfig>(config: T) -> Result<Client> {
        let config = Arc::new(config.into_config()?);
        Ok(Client {
            source: config.clone(),
            config,
            queue: 4096,
            hooks: Hooks::new(),
        })
    }

    /// A client whose connections go wherever `source` says (a Sentinel-resolved primary,
    /// a cluster node, ...). `config` gives the settings that are not per target: the
    /// connect backoff and the reconnect budget of managed connections.
    pub fn with_source(config: Config, source: Arc<dyn ConnectionSource>) -> Client {
        Client {
            config: Arc::new(config),
            source,
            queue: 4096,
            hooks: Hooks::new(),
        }
    }

    /// Where this client's connections come from.
    pub fn source(&self) -> &Arc<dyn ConnectionSource> {
        &self.source
    }

    /// Bounds the requests waiting to be written on a multiplexed connection (default
    /// 4096); callers beyond it wait for room (back-pressure), within their timeout.
    pub fn with_queue_capacity(mut self, n: usize) -> Client {
        self.queue = n.max(1);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Subscribes to the life events of the connections this client (and its clones)
    /// opens from now on: handshake done (every connection), connected, disconnected with
    /// the cause and unresponsive (multiplexed connections), re-authenticated and
    /// re-authentication failed after a credentials rotation, credentials provider failed,
    /// pub/sub resubscribed and messages lagged. For a topology manager, a health check or
    /// a log; 256 events are buffered, and a subscriber that falls behind gets
    /// `RecvError::Lagged(n)` with the number it lost.
    pub fn events(&self) -> broadcast::Receiver<ConnectionEvent> {
        self.hooks.subscribe()
    }

    /// This client, its connections reporting to the event stream of `other` (what
    /// either's [`events`](Self::events) returns sees both): a cluster or Sentinel client
    /// that keeps one client per node gives its user one stream for them all.
    pub fn with_events_of(mut self, other: &Client) -> Client {
        self.hooks = other.hooks.clone();
        self
    }

    /// Sends `event` to the subscribers of [`events`](Self::events): for the crates built
    /// on this client (a cluster topology change, a Sentinel primary switch).
    pub fn emit_event(&self, event: ConnectionEvent) {
        self.hooks.emit(event);
    }

    pub(crate) fn hooks(&self) -> &Hooks {
        &self.hooks
    }

    /// Opens a multiplexed connection: clone it to share one socket among many tasks.
    /// Connection-level failures are retried following `config.connect_backoff`.
    pub async fn get_connection(&self) -> Result<Connection> {
        let sinks = self.sinks();
        self.retrying(|| self.get_connection_once(sinks.clone()))
            .await
    }

    /// A new push sink, with this client's event channel and source.
    pub(crate) fn sinks(&self) -> Sinks {
        Sinks::new(
            self.hooks.clone(),
            self.config.probe_interval,
            self.source.clone(),
        )
    }

    /// One attempt at a multiplexed connection (the managed handle does its own retrying
    /// and keeps one push sink across its sockets).
    pub(crate) async fn get_connection_once(&self, sinks: Sinks) -> Result<Connection> {
        let target = self.source.target().await?;
        let span = crate::events::connect_span(target.addr());
        let con = crate::events::in_span(span, Connection::open(&target, self.queue, sinks))
            .await
            .inspect_err(|e| self.source.failed(target.addr(), e))?;
        self.source.opened(con.addr(), con.abort_handle());
        Ok(con)
    }

    /// Opens a connection for one caller at a time (WATCH transactions, blocking
    /// commands such as BLPOP, anything that must not share the socket).
    pub async fn get_dedicated_connection(&self) -> Result<DedicatedConnection> {
        self.retrying(|| async {
            let target = self.source.target().await?;
            let span = crate::events::connect_span(target.addr());
            let open = DedicatedConnection::open(&target, self.hooks.clone());
            let mut con = crate::events::in_span(span, open)
                .await
                .inspect_err(|e| self.source.failed(target.addr(), e))?;
            self.source.opened(con.addr(), con.abort_handle());
            con.set_source(self.source.clone());
            Ok(con)
        })
        .await
    }

    /// Opens a multiplexed connection that replaces its socket in the background when it
    /// fails, and retries a request only when that is safe.
    pub async fn get_managed_connection(&self) -> Result<ManagedConnection> {
        let sinks = self.sinks();
        let first = self
            .retrying(|| self.get_connection_once(sinks.clone()))
            .await?;
        Ok(ManagedConnection::new(self.clone(), first, sinks))
    }

    /// Opens a pub/sub connection with default options (1024-message buffer, lag events
    /// on overflow, no resubscription after a failure).
    pub async fn get_pubsub(&self) -> Result<PubSub> {
        PubSub::open(self.clone(), PubSubOptions::default()).await
    }

    /// Opens a pub/sub connection with the given options (e.g. `reconnect: true` for the
    /// managed form that resubscribes after a reconnect).
    pub async fn get_pubsub_with(&self, options: PubSubOptions) -> Result<PubSub> {
        PubSub::open(self.clone(), options).await
    }

    /// Runs `open` until it succeeds, retrying transient failures with backoff.
    pub(crate) async fn retrying<T, F, Fut>(&self, mut open: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut delays = self.config.connect_backoff.delays();
        loop {
            match open().await {
                Ok(c) => return Ok(c),
                Err(e) if is_transient(&e) => match delays.next() {
                    Some(d) => tokio::time::sleep(d).await,
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }
}

/// Failures that a new attempt may fix (shared with the blocking client).
pub(crate) use redis_core::connect::is_transient;
