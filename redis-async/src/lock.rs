//! A distributed lock on one server (see `redis_core::lock` for the protocol): the shared
//! template, with tokio sleeps. Dropping a held guard spawns its release on the current
//! runtime (outside a runtime the lock simply expires after its TTL).

use tokio::time::sleep;

use crate::api::{ConnectionLike, Query};

redis_core::lock_template!(maybe_async::must_be_async(AFIT); + 'static);

impl<C: ConnectionLike + 'static> Drop for LockGuard<C> {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        self.held = false;
        let (Some(mut con), Ok(rt)) = (self.con.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let (key, token) = (
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.token),
        );
        rt.spawn(async move {
            let _ = release_lock(&mut con, &key, &token).await;
        });
    }
}
