//! A distributed lock on one server: `SET key token NX PX ttl`, released and extended by
//! compare-and-act Lua scripts (see `redis_core::lock`).
//!
//! The guard owns the connection it was acquired with (a pooled connection works well), so
//! the caller's other connections stay free and the guard can release the lock on drop.

use std::time::{Duration, Instant};

use redis_core::lock::{acquire_cmd, extend_script, new_token, release_script, ttl_millis};
use redis_core::{Backoff, Error, LockErrorKind, Result};

use crate::api::Query;
use crate::connection::ConnectionLike;

/// How to take a named lock.
#[derive(Debug, Clone)]
pub struct Lock {
    key: String,
    ttl: Duration,
    retry: Backoff,
}

impl Lock {
    /// A lock stored at `key` that expires `ttl` after it is taken (or last extended).
    pub fn new(key: impl Into<String>, ttl: Duration) -> Lock {
        Lock {
            key: key.into(),
            ttl,
            retry: Backoff {
                base: Duration::from_millis(2),
                cap: Duration::from_millis(50),
                max_retries: u32::MAX,
            },
        }
    }

    /// The key holding the lock.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Tries once; fails with `Error::Lock(NotAcquired)` when another holder has it.
    pub fn try_acquire<C: ConnectionLike>(&self, mut con: C) -> Result<LockGuard<C>> {
        let token = new_token();
        if self.set_nx(&mut con, &token)? {
            Ok(self.guard(con, token))
        } else {
            Err(Error::Lock(LockErrorKind::NotAcquired))
        }
    }

    /// Waits up to `timeout` for the lock, polling with jittered backoff; fails with
    /// `Error::Lock(NotAcquired)` when the time runs out.
    pub fn acquire<C: ConnectionLike>(
        &self,
        mut con: C,
        timeout: Duration,
    ) -> Result<LockGuard<C>> {
        let deadline = Instant::now() + timeout;
        let token = new_token();
        let mut delays = self.retry.delays();
        loop {
            if self.set_nx(&mut con, &token)? {
                return Ok(self.guard(con, token));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Lock(LockErrorKind::NotAcquired));
            }
            let pause = delays.next().unwrap_or(self.retry.cap);
            std::thread::sleep(pause.min(left));
        }
    }

    fn set_nx<C: ConnectionLike>(&self, con: &mut C, token: &str) -> Result<bool> {
        acquire_cmd(&self.key, token, self.ttl).query(con)
    }

    fn guard<C: ConnectionLike>(&self, con: C, token: String) -> LockGuard<C> {
        LockGuard {
            con,
            key: self.key.clone(),
            token,
            held: true,
        }
    }
}

/// A held lock. Released on [`LockGuard::release`] or, best effort, on drop.
#[derive(Debug)]
pub struct LockGuard<C: ConnectionLike> {
    con: C,
    key: String,
    token: String,
    held: bool,
}

impl<C: ConnectionLike> LockGuard<C> {
    /// The connection the lock was taken with, for work inside the critical section.
    pub fn connection(&mut self) -> &mut C {
        &mut self.con
    }

    /// This holder's random token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Resets the TTL to `ttl` if the lock is still ours; otherwise
    /// `Error::Lock(NotOwned)` and nothing changes.
    pub fn extend(&mut self, ttl: Duration) -> Result<()> {
        let done: i64 = extend_script()
            .key(&self.key)
            .arg(&self.token)
            .arg(ttl_millis(ttl))
            .query(&mut self.con)?;
        if done == 1 {
            Ok(())
        } else {
            Err(Error::Lock(LockErrorKind::NotOwned))
        }
    }

    /// Releases the lock if it is still ours. If it expired (and maybe was taken by
    /// someone else), returns `Error::Lock(NotOwned)` and leaves the key alone.
    pub fn release(mut self) -> Result<()> {
        self.release_inner()
    }

    fn release_inner(&mut self) -> Result<()> {
        self.held = false;
        let deleted: i64 = release_script()
            .key(&self.key)
            .arg(&self.token)
            .query(&mut self.con)?;
        if deleted == 1 {
            Ok(())
        } else {
            Err(Error::Lock(LockErrorKind::NotOwned))
        }
    }
}

impl<C: ConnectionLike> Drop for LockGuard<C> {
    fn drop(&mut self) {
        if self.held {
            let _ = self.release_inner();
        }
    }
}
