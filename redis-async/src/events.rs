//! Where the async client's connections report their life events: one broadcast
//! channel per client ([`crate::Client::events`]), shared by every connection it opens.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use redis_core::{Addr, ConnectionEvent};
use tokio::sync::broadcast;

/// Connection events buffered for a slow subscriber before it lags.
const EVENT_CAPACITY: usize = 256;

/// A client's event channel, cloned into each connection.
#[derive(Clone, Debug)]
pub(crate) struct Hooks {
    /// Made at the first subscription: a broadcast channel allocates (and touches) all of
    /// its slots at once, 24 KiB here, and many clients never subscribe.
    events: Arc<std::sync::OnceLock<broadcast::Sender<ConnectionEvent>>>,
    /// Provider failures already reported, so each is reported once per client, not once
    /// per connection that notices it.
    failures_seen: Arc<AtomicU64>,
}

impl Hooks {
    pub(crate) fn new() -> Hooks {
        Hooks {
            events: Arc::default(),
            failures_seen: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Sends `event` to the subscribers (none is fine).
    pub(crate) fn emit(&self, event: ConnectionEvent) {
        #[cfg(feature = "tracing")]
        trace(&event);
        if let Some(events) = self.events.get() {
            let _ = events.send(event);
        }
    }

    /// A receiver of the events from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<ConnectionEvent> {
        self.events
            .get_or_init(|| broadcast::channel(EVENT_CAPACITY).0)
            .subscribe()
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

    /// The event for the server's answer to a re-authentication `AUTH`.
    pub(crate) fn auth_replied(&self, addr: &Addr, reply: &redis_core::Value) {
        self.emit(match reply {
            redis_core::Value::ServerError(e) => ConnectionEvent::ReauthFailed {
                addr: addr.clone(),
                error: e.to_string(),
            },
            _ => ConnectionEvent::Reauthenticated { addr: addr.clone() },
        });
    }

    /// Looks at a rotation: reports a provider failure, and returns the `AUTH` to send
    /// when new credentials arrived (a provider that cannot give them is a
    /// `ReauthFailed` event, and the connection goes on as it is).
    pub(crate) fn take_auth_due(
        &self,
        auth: &mut redis_core::credentials::AuthWatch,
        addr: &Addr,
    ) -> Option<redis_core::Cmd> {
        let due = auth.due();
        if let Some((failures, error)) = due.failure {
            self.provider_failed(addr, failures, error);
        }
        if !due.reauth {
            return None;
        }
        match auth.auth_command() {
            Ok(cmd) => cmd,
            Err(e) => {
                self.emit(ConnectionEvent::ReauthFailed {
                    addr: addr.clone(),
                    error: e.to_string(),
                });
                None
            }
        }
    }
}

/// A span for `tracing` (with the `tracing` feature; otherwise nothing).
#[cfg(feature = "tracing")]
pub(crate) type Span = tracing::Span;
/// Without the `tracing` feature, spans are nothing at all.
#[cfg(not(feature = "tracing"))]
pub(crate) struct Span;

/// The span of one command: its name only, never its arguments (they may hold secrets
/// or personal data).
#[inline]
pub(crate) fn command_span(cmd: &redis_core::Cmd) -> Span {
    #[cfg(feature = "tracing")]
    {
        tracing::debug_span!("redis.command", command = %cmd.name())
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = cmd;
        Span
    }
}

/// The span of one pipeline: how many commands, nothing else.
#[inline]
pub(crate) fn pipeline_span(pipe: &redis_core::Pipeline) -> Span {
    #[cfg(feature = "tracing")]
    {
        tracing::debug_span!("redis.pipeline", commands = pipe.len())
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = pipe;
        Span
    }
}

/// The span of opening one connection (socket, handshake, checks).
pub(crate) fn connect_span(addr: &Addr) -> Span {
    #[cfg(feature = "tracing")]
    {
        tracing::info_span!("redis.connect", addr = %addr)
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = addr;
        Span
    }
}

/// `fut` inside `span`. A plain function, not an `async fn`: the future it returns is
/// `fut` itself (plus the span with the `tracing` feature), never a second copy of it.
#[cfg(feature = "tracing")]
#[inline]
pub(crate) fn in_span<F: std::future::Future>(
    span: Span,
    fut: F,
) -> tracing::instrument::Instrumented<F> {
    use tracing::Instrument;
    fut.instrument(span)
}

/// `fut` as it is (no `tracing` feature).
#[cfg(not(feature = "tracing"))]
#[inline]
pub(crate) fn in_span<F: std::future::Future>(span: Span, fut: F) -> F {
    let Span = span;
    fut
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
