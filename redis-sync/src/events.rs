//! Connection events for blocking code: callbacks registered on the client.
//!
//! Callbacks run on the thread that emits the event (the one using the connection), in
//! the order they were registered, so they must be quick (count, log, send to a channel).
//! With no callback registered, emitting costs one atomic load.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use redis_core::{Addr, ConnectionEvent};

type Callback = Arc<dyn Fn(&ConnectionEvent) + Send + Sync>;

/// The callbacks of one client and its clones.
#[derive(Default)]
pub(crate) struct EventHub {
    any: AtomicBool,
    callbacks: RwLock<Vec<Callback>>,
    /// Provider failures already reported, so each is reported once per client, not once
    /// per connection that notices it.
    failures_seen: AtomicU64,
}

impl std::fmt::Debug for EventHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventHub")
            .field("callbacks", &self.any.load(Ordering::Relaxed))
            .finish()
    }
}

impl EventHub {
    pub(crate) fn add(&self, f: Callback) {
        self.callbacks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(f);
        self.any.store(true, Ordering::Release);
    }

    /// Hands `event` to every callback.
    pub(crate) fn emit(&self, event: ConnectionEvent) {
        #[cfg(feature = "tracing")]
        trace(&event);
        if !self.any.load(Ordering::Acquire) {
            return;
        }
        let callbacks = self.callbacks.read().unwrap_or_else(|p| p.into_inner());
        for f in callbacks.iter() {
            f(&event);
        }
    }

    /// Reports a provider failure once per client.
    pub(crate) fn provider_failed(&self, addr: &Addr, failures: u64, error: String) {
        if self.failures_seen.fetch_max(failures, Ordering::AcqRel) < failures {
            self.emit(ConnectionEvent::CredentialsFailed {
                addr: addr.clone(),
                failures,
                error,
            });
        }
    }
}

/// Shared by a client, its clones and the connections it opens.
pub(crate) type Events = Arc<EventHub>;

/// What a command's span holds: entered for as long as the request runs.
#[cfg(feature = "tracing")]
pub(crate) type Entered = tracing::span::EnteredSpan;
/// Without the `tracing` feature, spans are nothing at all.
#[cfg(not(feature = "tracing"))]
pub(crate) struct Entered;

/// The span of one command: its name only, never its arguments (they may hold secrets
/// or personal data).
#[inline]
pub(crate) fn command_span(cmd: &redis_core::Cmd) -> Entered {
    #[cfg(feature = "tracing")]
    {
        tracing::debug_span!("redis.command", command = %cmd.name()).entered()
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = cmd;
        Entered
    }
}

/// The span of one pipeline: how many commands, nothing else.
#[inline]
pub(crate) fn pipeline_span(pipe: &redis_core::Pipeline) -> Entered {
    #[cfg(feature = "tracing")]
    {
        tracing::debug_span!("redis.pipeline", commands = pipe.len()).entered()
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = pipe;
        Entered
    }
}

/// The span of opening one connection (socket, handshake, checks).
pub(crate) fn connect_span(addr: &Addr) -> Entered {
    #[cfg(feature = "tracing")]
    {
        tracing::info_span!("redis.connect", addr = %addr).entered()
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = addr;
        Entered
    }
}

/// A connection event as a `tracing` event: warnings for what went wrong, info for the
/// rest.
#[cfg(feature = "tracing")]
fn trace(event: &ConnectionEvent) {
    if redis_core::events::is_trouble(event) {
        tracing::warn!(addr = %event.addr(), event = ?event, "redis connection event");
    } else {
        tracing::info!(addr = %event.addr(), event = ?event, "redis connection event");
    }
}
