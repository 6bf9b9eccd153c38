//! The entry point: a cheap, cloneable handle holding the configuration.

use std::sync::Arc;

use redis_core::{Config, ConnectionEvent, Error, IntoConfig, Result};

use crate::connection::Connection;
use crate::events::{EventHub, Events};
use crate::pubsub::PubSub;
use crate::source::ConnectionSource;

/// Opens connections to one server (or to whatever its connection source names). Clone it
/// freely; it holds no socket.
#[derive(Clone, Debug)]
pub struct Client {
    config: Arc<Config>,
    source: Arc<dyn ConnectionSource>,
    events: Events,
}

impl Client {
    /// Validates a URL (`redis://...`, `rediss://...`, `unix:///...`) or takes a
    /// [`Config`]. Nothing is connected yet.
    pub fn open<T: IntoConfig>(config: T) -> Result<Client> {
        let config = Arc::new(config.into_config()?);
        Ok(Client {
            source: config.clone(),
            config,
            events: Arc::new(EventHub::default()),
        })
    }

    /// A client whose connections go wherever `source` says (a Sentinel-resolved primary,
    /// a cluster node, ...). `config` gives the settings that are not per target: the
    /// connect backoff and the pool's checkout timeout.
    pub fn with_source(config: Config, source: Arc<dyn ConnectionSource>) -> Client {
        Client {
            config: Arc::new(config),
            source,
            events: Arc::new(EventHub::default()),
        }
    }

    /// Calls `f` with every life event of the connections this client (and its clones,
    /// its pool and its pub/sub) opens: handshake done, connected, disconnected with the
    /// cause, re-authenticated after a credentials rotation, re-authentication failed,
    /// credentials provider failed, pub/sub resubscribed. `f` runs on the thread that
    /// uses the connection, right when the event happens, so it must be quick (count,
    /// log, or send to a channel) and must not use the connection.
    pub fn on_event<F>(&self, f: F)
    where
        F: Fn(&ConnectionEvent) + Send + Sync + 'static,
    {
        self.events.add(Arc::new(f));
    }

    /// This client, its connections reporting to the callbacks of `other` (those
    /// registered already and later, on either): a cluster or Sentinel client that keeps
    /// one client per node gives its user one place to watch them all.
    pub fn with_events_of(mut self, other: &Client) -> Client {
        self.events = other.events.clone();
        self
    }

    /// Hands `event` to the callbacks of [`on_event`](Self::on_event): for the crates
    /// built on this client (a cluster topology change, a Sentinel primary switch).
    pub fn emit_event(&self, event: ConnectionEvent) {
        self.events.emit(event);
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where this client's connections come from.
    pub fn source(&self) -> &Arc<dyn ConnectionSource> {
        &self.source
    }

    /// Opens a connection and runs the handshake.
    ///
    /// Connection-level failures (refused, reset, timed out) are retried following
    /// `config.connect_backoff` (exponential, full jitter); authentication, TLS and
    /// configuration errors are returned at once, since retrying cannot fix them.
    pub fn get_connection(&self) -> Result<Connection> {
        let mut delays = self.config.connect_backoff.delays();
        loop {
            let target = self.source.target()?;
            let _span = crate::events::connect_span(target.addr());
            match Connection::open(&target, Some(self.events.clone())) {
                Ok(mut c) => {
                    c.set_probe(self.config.probe_interval, self.source.clone());
                    self.source.opened(c.addr(), c.abort_handle());
                    return Ok(c);
                }
                Err(e) => {
                    self.source.failed(target.addr(), &e);
                    match delays.next() {
                        Some(d) if redis_core::connect::is_transient(&e) => std::thread::sleep(d),
                        _ => return Err(e),
                    }
                }
            }
        }
    }

    /// Opens a dedicated connection for pub/sub.
    pub fn get_pubsub(&self) -> Result<PubSub> {
        Ok(PubSub::new(self.get_connection()?, self.clone()))
    }

    /// A pool builder with this crate's defaults (8 connections, checkout timeout =
    /// `connect_timeout`); finish it with `.build(client.clone())` and wrap the result
    /// with `Pool::from`.
    pub fn pool_builder(&self) -> r2d2::Builder<Client> {
        r2d2::Pool::builder()
            .max_size(8)
            .connection_timeout(self.config.connect_timeout)
    }

    /// A pool of at most `max_size` connections.
    ///
    /// One connection is opened first, on the calling thread: a server that refuses this
    /// client (a wrong password, a missing permission, a TLS mismatch) fails here at once
    /// with its typed error, rather than after the pool's `connect_timeout` with the error
    /// as text ([`Error::Pool`]).
    pub fn pool(&self, max_size: u32) -> Result<crate::Pool> {
        drop(self.get_connection()?);
        self.pool_builder()
            .max_size(max_size)
            .build(self.clone())
            .map(crate::Pool::from)
            .map_err(|e| Error::Pool(e.to_string()))
    }
}
