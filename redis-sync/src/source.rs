//! Where the blocking client's connections come from.
//!
//! [`crate::Client`], its pool and its pub/sub all open connections through one
//! [`ConnectionSource`]: a standalone client's source is its config, a Sentinel client's
//! asks the sentinels, a cluster client's names a node. The source is asked again for
//! every new connection, told when one fails, and asked whether a pooled connection still
//! goes to the right place, so a pool never hands out a connection to a demoted primary.

use std::fmt;
use std::time::Duration;

use redis_core::abort::AbortHandle;
use redis_core::{Addr, Config, Error, Result, Target};

/// Resolves the target of each new connection (see the module docs).
pub trait ConnectionSource: Send + Sync + fmt::Debug {
    /// The target for the next connection, resolved now (may do I/O, e.g. ask sentinels).
    fn target(&self) -> Result<Target>;

    /// Whether a connection opened to `addr` may still be used. Pools drop connections for
    /// which this turns false (the default: always true).
    fn is_current(&self, addr: &Addr) -> bool {
        let _ = addr;
        true
    }

    /// Told when opening or using a connection to `addr` failed, so the source can
    /// re-resolve before the next [`target`](Self::target) (the default does nothing).
    fn failed(&self, addr: &Addr, error: &Error) {
        let _ = (addr, error);
    }

    /// Told of each connection the client opened from this source (plain, pooled,
    /// pub/sub), with a handle that ends it from any thread: a source that learns its
    /// node was replaced aborts every connection to it, so no caller keeps waiting on
    /// (or writing to) a demoted primary. Keep handles only while
    /// [`AbortHandle::is_alive`]. The default does nothing.
    fn opened(&self, addr: &Addr, abort: AbortHandle) {
        let _ = (addr, abort);
    }

    /// A request on a connection to `addr` has waited `waited` for its reply: called on
    /// the waiting thread each time the wait passes a multiple of
    /// `Config::probe_interval` (blocking commands excepted). The source may check its
    /// node inline, within a bounded time (ask the sentinels, refresh the slot map), and
    /// end the connection with the handle it got from [`opened`](Self::opened); the
    /// request then fails with `Error::MayHaveExecuted`. The default does nothing.
    fn slow(&self, addr: &Addr, waited: Duration) {
        let _ = (addr, waited);
    }
}

/// A fixed address: the config as it is.
impl ConnectionSource for Config {
    fn target(&self) -> Result<Target> {
        Ok(Target::fixed(self.clone()))
    }
}
