//! A distributed lock on one server (see `redis_core::lock` for the protocol): the shared
//! template, with blocking sleeps, and a guard that releases inline on drop.

use std::thread::sleep;

use crate::api::Query;
use crate::connection::ConnectionLike;

redis_core::lock_template!(maybe_async::must_be_sync;);

impl<C: ConnectionLike> Drop for LockGuard<C> {
    fn drop(&mut self) {
        if self.held {
            self.held = false;
            if let Some(con) = self.con.as_mut() {
                let _ = release_lock(con, &self.key, &self.token);
            }
        }
    }
}
