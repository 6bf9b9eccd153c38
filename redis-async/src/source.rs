//! Where the async client's connections come from.
//!
//! [`crate::Client`]'s multiplexed, managed, dedicated and pub/sub connections are all
//! opened through one [`ConnectionSource`]: a standalone client's source is its config, a
//! Sentinel client's asks the sentinels, a cluster client's names a node. The source is
//! asked again for every new connection, told when one fails, and asked whether a managed
//! connection's socket still goes to the right place, so a managed handle moves off a
//! demoted primary without waiting for an error.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use redis_core::abort::AbortHandle;
use redis_core::{Addr, Config, Error, Result, Target};

/// The future [`ConnectionSource::target`] returns.
pub type TargetFuture<'a> = Pin<Box<dyn Future<Output = Result<Target>> + Send + 'a>>;

/// Resolves the target of each new connection (see the module docs).
pub trait ConnectionSource: Send + Sync + fmt::Debug {
    /// The target for the next connection, resolved now (may do I/O, e.g. ask sentinels).
    fn target(&self) -> TargetFuture<'_>;

    /// Whether a connection opened to `addr` may still be used. A managed connection
    /// replaces its socket when this turns false (the default: always true).
    fn is_current(&self, addr: &Addr) -> bool {
        let _ = addr;
        true
    }

    /// Told when opening or using a connection to `addr` failed, so the source can
    /// re-resolve before the next [`target`](Self::target) (the default does nothing).
    fn failed(&self, addr: &Addr, error: &Error) {
        let _ = (addr, error);
    }

    /// Told of each connection the client opened from this source (multiplexed, managed,
    /// dedicated, pub/sub), with a handle that ends it from any task: a source that
    /// learns its node was replaced aborts every connection to it, so no caller keeps
    /// waiting on (or writing to) a demoted primary. Keep handles only while
    /// [`AbortHandle::is_alive`]. The default does nothing.
    fn opened(&self, addr: &Addr, abort: AbortHandle) {
        let _ = (addr, abort);
    }

    /// The oldest request on a multiplexed connection to `addr` has waited `waited` for
    /// its reply: called from the connection's driver about every half
    /// `Config::probe_interval` while the wait lasts longer than the interval. It must
    /// not block (spawn the check: ask the sentinels, refresh the slot map); to end the
    /// connection, use the handle from [`opened`](Self::opened). The default does nothing.
    fn slow(&self, addr: &Addr, waited: Duration) {
        let _ = (addr, waited);
    }
}

/// A fixed address: the config as it is.
impl ConnectionSource for Config {
    fn target(&self) -> TargetFuture<'_> {
        let target = Target::fixed(self.clone());
        Box::pin(async move { Ok(target) })
    }
}

/// A `READONLY` reply means the node is a replica now: a primary this connection's source
/// named was demoted. The source hears of it at once (a Sentinel source re-resolves)
/// instead of at its next periodic check; the caller still gets the error, which proves
/// the command did not run.
pub(crate) fn report_if_replaced(
    source: &dyn ConnectionSource,
    addr: &Addr,
    e: &redis_core::ServerError,
) {
    if *e.kind() == redis_core::ServerErrorKind::ReadOnly {
        source.failed(addr, &Error::Server(e.clone()));
    }
}
