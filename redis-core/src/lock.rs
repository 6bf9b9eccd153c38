//! The pieces of the `SET NX` distributed lock that are not I/O.
//!
//! A lock is a key holding a random token, set with `SET key token NX PX ttl`. Releasing
//! and extending compare the stored token first, in Lua, so a holder whose lock expired and
//! was taken by someone else can never delete or extend the new holder's key.
//!
//! # Waiting in line
//!
//! Polling `SET NX` with backoff is unfair: a waiter that has backed off long sleeps
//! through every release while fresh waiters poll often, so under contention single waits
//! ran into seconds and timed out while the lock changed hands every millisecond. So
//! waiters queue: [`ACQUIRE_SCRIPT`] takes the lock only for the first waiter in line
//! (by arrival), and tells the others their place, which sets how soon they ask again
//! ([`poll_delay`]: about 1 ms for the head, up to 20 ms further back). The line is two
//! sorted sets next to the lock ([`queue_keys`]): arrival order, and when each waiter last
//! asked. A waiter that stops asking for [`STALE_WAITER`] (it crashed, or gave up without
//! leaving) loses its place, so a dead waiter delays the others by at most that long.
//! `try_acquire` does not queue: it takes the lock only when it is free and no one waits.

use std::time::Duration;

use rand::{Rng, RngCore};

use crate::cmd::{cmd, Cmd};
use crate::script::Script;

/// Deletes the key only if it still holds our token. Returns 1 if deleted, else 0.
pub const RELEASE_SCRIPT: &str = r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
end
return 0
"#;

/// Sets a new TTL (ms, `ARGV[2]`) only if the key still holds our token. Returns 1 or 0.
pub const EXTEND_SCRIPT: &str = r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0
"#;

/// Takes the lock for the first waiter in line. `KEYS`: the lock, the line (token ->
/// arrival ms), the last-asked times (token -> ms). `ARGV`: token, TTL ms, stale ms,
/// `1` to wait in line or `0` to try once. Returns 0 when acquired, else the waiter's
/// place in line (1 = next), or -1 for a single try that failed.
pub const ACQUIRE_SCRIPT: &str = r#"
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local token, stale = ARGV[1], tonumber(ARGV[3])
local waiting = ARGV[4] == "1"
for _, w in ipairs(redis.call("ZRANGEBYSCORE", KEYS[3], "-inf", now - stale)) do
    redis.call("ZREM", KEYS[2], w)
    redis.call("ZREM", KEYS[3], w)
end
if waiting then
    redis.call("ZADD", KEYS[2], "NX", now, token)
    redis.call("ZADD", KEYS[3], now, token)
    redis.call("PEXPIRE", KEYS[2], stale * 2)
    redis.call("PEXPIRE", KEYS[3], stale * 2)
end
local head = redis.call("ZRANGE", KEYS[2], 0, 0)[1]
if redis.call("EXISTS", KEYS[1]) == 0 and (head == nil or head == token) then
    redis.call("SET", KEYS[1], token, "PX", ARGV[2])
    redis.call("ZREM", KEYS[2], token)
    redis.call("ZREM", KEYS[3], token)
    return 0
end
if not waiting then
    return -1
end
return redis.call("ZRANK", KEYS[2], token) + 1
"#;

/// Leaves the line (a waiter that gave up). `KEYS`: the line, the last-asked times.
pub const LEAVE_SCRIPT: &str = r#"
redis.call("ZREM", KEYS[1], ARGV[1])
redis.call("ZREM", KEYS[2], ARGV[1])
return 0
"#;

/// How long a waiter may go without asking before it loses its place in line.
pub const STALE_WAITER: Duration = Duration::from_secs(1);

/// The release script, ready to invoke.
pub fn release_script() -> Script {
    Script::new(RELEASE_SCRIPT)
}

/// The extend script, ready to invoke.
pub fn extend_script() -> Script {
    Script::new(EXTEND_SCRIPT)
}

/// The acquire script (hashed once per process).
pub fn acquire_script() -> &'static Script {
    static S: std::sync::LazyLock<Script> =
        std::sync::LazyLock::new(|| Script::new(ACQUIRE_SCRIPT));
    &S
}

/// The leave script (hashed once per process).
pub fn leave_script() -> &'static Script {
    static S: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| Script::new(LEAVE_SCRIPT));
    &S
}

/// The two keys of the line for lock `key`, in the same cluster slot as `key`: `key`'s
/// own hash tag when it has one, else `{key}` (e.g. `{lock:a}:waiters`, `{lock:a}:asked`).
pub fn queue_keys(key: &str) -> (String, String) {
    let base = if has_hash_tag(key) {
        key.to_string()
    } else {
        format!("{{{key}}}")
    };
    (format!("{base}:waiters"), format!("{base}:asked"))
}

/// True when `key` has a cluster hash tag: a `{` followed later by a `}`, not empty.
fn has_hash_tag(key: &str) -> bool {
    key.find('{')
        .and_then(|open| key[open + 1..].find('}'))
        .is_some_and(|len| len > 0)
}

/// How long a waiter at `place` in line (1 = next) sleeps before asking again: about
/// `place` ms (jittered ±50 %), at most 20 ms, so the next waiter notices a release
/// within about a millisecond and the rest keep their place without flooding the server.
pub fn poll_delay(place: i64) -> Duration {
    let base = u64::try_from(place.clamp(1, 20)).unwrap_or(20) * 1000;
    Duration::from_micros(rand::rng().random_range(base / 2..=base + base / 2))
}

/// A fresh random token (128 bits, hex).
pub fn new_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `SET key token NX PX ttl_ms`: replies OK when acquired, nil when held by another.
pub fn acquire_cmd(key: &str, token: &str, ttl: Duration) -> Cmd {
    cmd("SET")
        .with(key)
        .with(token)
        .with("NX")
        .with("PX")
        .with(ttl_millis(ttl))
}

/// A TTL in whole milliseconds, at least 1.
pub fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Expands the lock flow into a client crate: `Lock`, `LockGuard` and their methods, in
/// async syntax. The expansion site provides `ConnectionLike`, `Query` and a `sleep(Duration)`
/// function (blocking or async), and its own `Drop` for `LockGuard` (blocking clients
/// release inline; async ones spawn the release). `$($bound)*` adds bounds on the guard's
/// connection type (async: `+ 'static`, so the drop can spawn).
#[macro_export]
macro_rules! lock_template {
    ($attr:meta; $($bound:tt)*) => {
        /// How to take a named lock: `SET key token NX PX ttl`, released and extended only
        /// by its holder (compare-and-act in Lua); waiters queue in arrival order.
        #[derive(Debug, Clone)]
        pub struct Lock {
            key: String,
            queue: (String, String),
            ttl: std::time::Duration,
        }

        /// A held lock. Released on [`LockGuard::release`] or, best effort, on drop. Holds
        /// the connection it was taken with: owned or pooled, and in the blocking client
        /// also borrowed (`lock.acquire(&mut con, timeout)`).
        #[derive(Debug)]
        pub struct LockGuard<C: ConnectionLike $($bound)*> {
            con: Option<C>,
            key: String,
            token: String,
            held: bool,
        }

        #[$attr]
        impl Lock {
            /// A lock stored at `key` that expires `ttl` after it is taken (or extended).
            /// Waiters queue in two sorted sets next to it (`redis_core::lock::queue_keys`).
            pub fn new(key: impl Into<String>, ttl: std::time::Duration) -> Lock {
                let key = key.into();
                Lock {
                    queue: $crate::lock::queue_keys(&key),
                    key,
                    ttl,
                }
            }

            /// The key holding the lock.
            pub fn key(&self) -> &str {
                &self.key
            }

            /// Tries once; `Error::Lock(NotAcquired)` when another holder has it or
            /// others are waiting for it.
            pub async fn try_acquire<C: ConnectionLike $($bound)*>(
                &self,
                mut con: C,
            ) -> $crate::Result<LockGuard<C>> {
                let token = $crate::lock::new_token();
                if self.ask(&mut con, &token, false).await? == 0 {
                    Ok(self.guard(con, token))
                } else {
                    Err($crate::Error::Lock($crate::LockErrorKind::NotAcquired))
                }
            }

            /// Waits up to `timeout` for the lock, in line behind earlier waiters;
            /// `Error::Lock(NotAcquired)` when the time runs out.
            pub async fn acquire<C: ConnectionLike $($bound)*>(
                &self,
                mut con: C,
                timeout: std::time::Duration,
            ) -> $crate::Result<LockGuard<C>> {
                let deadline = std::time::Instant::now() + timeout;
                let token = $crate::lock::new_token();
                loop {
                    let place = self.ask(&mut con, &token, true).await?;
                    if place == 0 {
                        return Ok(self.guard(con, token));
                    }
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        // Best effort: a waiter that does not leave loses its place soon.
                        let _: $crate::Result<i64> = $crate::lock::leave_script()
                            .key(&self.queue.0)
                            .key(&self.queue.1)
                            .arg(&token)
                            .query(&mut con)
                            .await;
                        return Err($crate::Error::Lock($crate::LockErrorKind::NotAcquired));
                    }
                    sleep($crate::lock::poll_delay(place).min(left)).await;
                }
            }

            /// Runs the acquire script: 0 = acquired, else the place in line (or -1).
            async fn ask<C: ConnectionLike>(
                &self,
                con: &mut C,
                token: &str,
                wait: bool,
            ) -> $crate::Result<i64> {
                $crate::lock::acquire_script()
                    .key(&self.key)
                    .key(&self.queue.0)
                    .key(&self.queue.1)
                    .arg(token)
                    .arg($crate::lock::ttl_millis(self.ttl))
                    .arg($crate::lock::ttl_millis($crate::lock::STALE_WAITER))
                    .arg(if wait { 1 } else { 0 })
                    .query(con)
                    .await
            }

            fn guard<C: ConnectionLike $($bound)*>(&self, con: C, token: String) -> LockGuard<C> {
                LockGuard {
                    con: Some(con),
                    key: self.key.clone(),
                    token,
                    held: true,
                }
            }
        }

        #[$attr]
        impl<C: ConnectionLike $($bound)*> LockGuard<C> {
            /// The connection the lock was taken with, for work inside the critical section.
            pub fn connection(&mut self) -> &mut C {
                match self.con.as_mut() {
                    Some(c) => c,
                    // The connection is only taken out by drop.
                    None => unreachable!("LockGuard used after drop"),
                }
            }

            /// This holder's random token.
            pub fn token(&self) -> &str {
                &self.token
            }

            /// Resets the TTL to `ttl` if the lock is still ours; otherwise
            /// `Error::Lock(NotOwned)` and nothing changes.
            pub async fn extend(&mut self, ttl: std::time::Duration) -> $crate::Result<()> {
                let done: i64 = $crate::lock::extend_script()
                    .key(&self.key)
                    .arg(&self.token)
                    .arg($crate::lock::ttl_millis(ttl))
                    .query(self.connection())
                    .await?;
                if done == 1 {
                    Ok(())
                } else {
                    Err($crate::Error::Lock($crate::LockErrorKind::NotOwned))
                }
            }

            /// Releases the lock if it is still ours. If it expired (and maybe was taken by
            /// someone else), `Error::Lock(NotOwned)` and the key is left alone.
            pub async fn release(mut self) -> $crate::Result<()> {
                self.held = false;
                let (key, token) = (self.key.clone(), self.token.clone());
                release_lock(self.connection(), &key, &token).await
            }
        }

        /// Deletes the lock key if it still holds `token`.
        #[$attr]
        async fn release_lock<C: ConnectionLike>(
            con: &mut C,
            key: &str,
            token: &str,
        ) -> $crate::Result<()> {
            let deleted: i64 = $crate::lock::release_script()
                .key(key)
                .arg(token)
                .query(con)
                .await?;
            if deleted == 1 {
                Ok(())
            } else {
                Err($crate::Error::Lock($crate::LockErrorKind::NotOwned))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_and_command_shape() {
        let a = new_token();
        assert_eq!(a.len(), 32);
        assert_ne!(a, new_token());
        let c = acquire_cmd("l", &a, Duration::from_micros(10));
        let args: Vec<&[u8]> = c.args().collect();
        assert_eq!(args[3..], [&b"NX"[..], b"PX", b"1"]);
    }

    #[test]
    fn the_line_lives_in_the_locks_slot() {
        assert_eq!(
            queue_keys("lock:a"),
            ("{lock:a}:waiters".to_string(), "{lock:a}:asked".to_string())
        );
        assert_eq!(queue_keys("l{t}x").0, "l{t}x:waiters");
        assert_eq!(queue_keys("l{}x").0, "{l{}x}:waiters");
    }

    #[test]
    fn the_next_waiter_asks_soonest() {
        for _ in 0..100 {
            assert!(poll_delay(1) <= Duration::from_micros(1500));
            assert!(poll_delay(1) >= Duration::from_micros(500));
            assert!(poll_delay(1000) <= Duration::from_millis(30));
            assert!(poll_delay(-5) <= Duration::from_micros(1500));
        }
    }
}
