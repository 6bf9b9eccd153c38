//! The connections a Sentinel client opened, so a switch can end them from outside. One
//! registry for both shells: the handle is `redis_core`'s, re-exported by redis-sync and
//! redis-async.
//!
//! Every connection the client opens (a blocking connection, a pooled one, a multiplexed
//! driver, a dedicated one, pub/sub) is registered with its [`AbortHandle`]. When the primary moves, every connection to the
//! old one is aborted at once: idle pooled ones are dropped by the pool, a request in
//! flight fails (`MayHaveExecuted` for what was written) instead of waiting for a frozen
//! node or being acknowledged by a node about to be demoted, and a subscriber sees its
//! connection end and subscribes again through the client. Handles of closed connections
//! are pruned as new ones arrive.

use std::sync::{Mutex, MutexGuard, PoisonError};

use redis_core::abort::AbortHandle;
use redis_core::Addr;

/// The live connections of one client, by address.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    handles: Mutex<Vec<AbortHandle>>,
}

impl Registry {
    /// Keeps `handle` (and forgets the handles of connections that are gone).
    pub(crate) fn add(&self, handle: AbortHandle) {
        let mut handles = lock(&self.handles);
        handles.retain(AbortHandle::is_alive);
        handles.push(handle);
    }

    /// Keeps `handle`, then ends it at once unless `current()` (its node may have been
    /// replaced while the connection was being opened). Checked after registering, so a
    /// concurrent switch either sees the handle or is seen here.
    pub(crate) fn add_checked(
        &self,
        handle: AbortHandle,
        current: impl FnOnce() -> bool,
        cause: &str,
    ) {
        self.add(handle.clone());
        if !current() {
            handle.abort(cause);
        }
    }

    /// Aborts every connection whose address fails `keep`; returns how many.
    pub(crate) fn abort_unless(&self, keep: impl Fn(&Addr) -> bool, cause: &str) -> usize {
        let doomed: Vec<AbortHandle> = {
            let mut handles = lock(&self.handles);
            let (doomed, kept) = handles
                .drain(..)
                .filter(AbortHandle::is_alive)
                .partition(|h| !keep(h.addr()));
            *handles = kept;
            doomed
        };
        // Outside the lock: an abort may wake threads or tasks that register new
        // connections.
        for h in &doomed {
            h.abort(cause);
        }
        doomed.len()
    }
}

/// Locks a mutex, ignoring poisoning: the state behind every lock of this crate stays
/// consistent (each update is a few assignments), and a panicking caller must not disable
/// the client.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
