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
