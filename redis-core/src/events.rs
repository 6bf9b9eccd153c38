//! What a connection tells the code above it about its own life.
//!
//! A topology manager (cluster slot refresh, sentinel re-resolution, a health check) needs
//! to know when a link to a node came up, went down and why, or stopped answering, without
//! sending commands to find out. Shells emit these events from their drivers; subscribers
//! that fall behind lose the oldest events (and are told how many), never slow a driver.

use std::time::Duration;

use crate::config::Addr;

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
}

impl ConnectionEvent {
    /// The server the event is about.
    pub fn addr(&self) -> &Addr {
        match self {
            ConnectionEvent::Connected { addr }
            | ConnectionEvent::Disconnected { addr, .. }
            | ConnectionEvent::Unresponsive { addr, .. } => addr,
        }
    }
}
