//! Where the blocking client's connections come from.
//!
//! [`crate::Client`], its pool and its pub/sub all open connections through one
//! [`ConnectionSource`]: a standalone client's source is its config, a Sentinel client's
//! asks the sentinels, a cluster client's names a node. The source is asked again for
//! every new connection, told when one fails, and asked whether a pooled connection still
//! goes to the right place, so a pool never hands out a connection to a demoted primary.

use std::fmt;

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
}

/// A fixed address: the config as it is.
impl ConnectionSource for Config {
    fn target(&self) -> Result<Target> {
        Ok(Target::fixed(self.clone()))
    }
}
