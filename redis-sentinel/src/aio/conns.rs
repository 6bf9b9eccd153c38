//! The connections a Sentinel client opened, so a failover can end them from outside.
//!
//! The client tells its source about each connection it opens (multiplexed driver,
//! managed connection's socket, dedicated, pub/sub) with an [`AbortHandle`]. When the
//! sentinels move the primary, or a replica stops being usable, the source ends every
//! connection to that node at once: requests in flight there fail (`MayHaveExecuted`,
//! or re-sent by a managed connection when safe), and nothing more is written to it.
//! Handles of connections that closed on their own are dropped as new ones arrive.

use redis_async::AbortHandle;
use redis_core::Addr;

/// The handles of the connections one client opened and that may still be open.
#[derive(Debug, Default)]
pub(crate) struct Conns {
    handles: Vec<AbortHandle>,
}

impl Conns {
    /// Remembers a new connection (and forgets those already closed).
    pub(crate) fn add(&mut self, handle: AbortHandle) {
        self.handles.retain(AbortHandle::is_alive);
        self.handles.push(handle);
    }

    /// Takes the handles of the open connections to nodes `end` selects, for the caller
    /// to abort once it no longer holds its lock.
    pub(crate) fn take(&mut self, end: impl Fn(&Addr) -> bool) -> Vec<AbortHandle> {
        let mut taken = Vec::new();
        self.handles.retain(|h| {
            if !h.is_alive() {
                return false;
            }
            if end(h.addr()) {
                taken.push(h.clone());
                return false;
            }
            true
        });
        taken
    }
}
