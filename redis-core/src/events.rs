//! What a connection tells the code above it about its own life.
//!
//! A topology manager (cluster slot refresh, sentinel re-resolution, a health check) needs
//! to know when a link to a node came up, went down and why, or stopped answering, without
//! sending commands to find out; an operator wants to see re-authentications and lost
//! pub/sub messages. One event type serves both clients: the async client hands them out
//! as a broadcast stream (`Client::events`), the blocking one to callbacks
//! (`Client::on_event`). Subscribers that fall behind lose the oldest events (and are told
//! how many), never slow a driver.

use std::time::Duration;

use crate::config::{Addr, Protocol};

/// One event in the life of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionEvent {
    /// A connection to `addr` finished its handshake and is ready for requests.
    Connected {
        /// The server it is connected to.
        addr: Addr,
    },
    /// The connection to `addr` is gone: the socket failed, the peer closed it, or it was
    /// replaced after it stopped answering. Requests in flight got an error.
    Disconnected {
        /// The server it was connected to.
        addr: Addr,
        /// What ended it, as the error's text (the error itself went to the callers).
        cause: String,
    },
    /// The oldest request in flight on `addr` waited `waited` without a reply (or a write
    /// made no progress that long): the link is considered stalled and is being dropped.
    /// A `Disconnected` event follows.
    Unresponsive {
        /// The server it was connected to.
        addr: Addr,
        /// How long the request (or write) had waited.
        waited: Duration,
    },
    /// A new connection (of any kind: shared, dedicated, pooled, pub/sub) to `addr`
    /// finished its handshake (authentication included).
    HandshakeDone {
        /// The server it is connected to.
        addr: Addr,
        /// The protocol negotiated.
        protocol: Protocol,
    },
    /// A live connection to `addr` sent `AUTH` with new credentials from a rotating
    /// provider and the server accepted them.
    Reauthenticated {
        /// The server it is connected to.
        addr: Addr,
    },
    /// A live connection to `addr` could not re-authenticate (the server refused the new
    /// credentials, or the provider had none to give). It keeps acting as the identity it
    /// had until the server refuses that one too.
    ReauthFailed {
        /// The server it is connected to.
        addr: Addr,
        /// Why (the server's error or the provider's; never the secret).
        error: String,
    },
    /// The credentials provider failed to refresh its credentials (`failures` so far);
    /// connections keep the credentials they have. Reported once per client (and clients
    /// sharing its events), by the first connection that notices.
    CredentialsFailed {
        /// The server of the connection that noticed.
        addr: Addr,
        /// Refresh failures so far.
        failures: u64,
        /// The provider's error text.
        error: String,
    },
    /// A cluster client learned a new slot map from `addr`.
    TopologyChanged {
        /// The node whose answer changed the map.
        addr: Addr,
        /// How many slots changed owner.
        moved_slots: usize,
    },
    /// A Sentinel client's primary changed to `addr` (a failover, or a switch seen late).
    PrimarySwitched {
        /// The new primary.
        addr: Addr,
        /// The primary before, if one was known.
        previous: Option<Addr>,
    },
    /// A pub/sub connection to `addr` was replaced and its `subscriptions` restored
    /// (after a failure, or to re-authenticate on RESP2, which cannot `AUTH` while
    /// subscribed).
    PubSubResubscribed {
        /// The server of the new connection.
        addr: Addr,
        /// How many channels, patterns and shard channels were restored.
        subscriptions: usize,
    },
    /// A pub/sub subscriber on `addr` fell behind and `dropped` messages were lost (also
    /// reported in its stream).
    MessagesLagged {
        /// The server of the subscription.
        addr: Addr,
        /// How many messages were dropped.
        dropped: u64,
    },
}

impl ConnectionEvent {
    /// The server the event is about.
    pub fn addr(&self) -> &Addr {
        match self {
            ConnectionEvent::Connected { addr }
            | ConnectionEvent::Disconnected { addr, .. }
            | ConnectionEvent::Unresponsive { addr, .. }
            | ConnectionEvent::HandshakeDone { addr, .. }
            | ConnectionEvent::Reauthenticated { addr }
            | ConnectionEvent::ReauthFailed { addr, .. }
            | ConnectionEvent::CredentialsFailed { addr, .. }
            | ConnectionEvent::TopologyChanged { addr, .. }
            | ConnectionEvent::PrimarySwitched { addr, .. }
            | ConnectionEvent::PubSubResubscribed { addr, .. }
            | ConnectionEvent::MessagesLagged { addr, .. } => addr,
        }
    }
}

/// True for the events that say something went wrong (a link lost or stalled, a
/// re-authentication or a provider refresh that failed, messages lost): what a log shows
/// as a warning.
pub fn is_trouble(event: &ConnectionEvent) -> bool {
    matches!(
        event,
        ConnectionEvent::Disconnected { .. }
            | ConnectionEvent::Unresponsive { .. }
            | ConnectionEvent::ReauthFailed { .. }
            | ConnectionEvent::CredentialsFailed { .. }
            | ConnectionEvent::MessagesLagged { .. }
    )
}
