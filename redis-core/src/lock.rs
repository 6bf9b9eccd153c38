//! The pieces of the `SET NX` distributed lock that are not I/O.
//!
//! A lock is a key holding a random token, set with `SET key token NX PX ttl`. Releasing
//! and extending compare the stored token first, in Lua, so a holder whose lock expired and
//! was taken by someone else can never delete or extend the new holder's key.

use std::time::Duration;

use rand::RngCore;

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

/// The release script, ready to invoke.
pub fn release_script() -> Script {
    Script::new(RELEASE_SCRIPT)
}

/// The extend script, ready to invoke.
pub fn extend_script() -> Script {
    Script::new(EXTEND_SCRIPT)
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
        /// by its holder (compare-and-act in Lua).
        #[derive(Debug, Clone)]
        pub struct Lock {
            key: String,
            ttl: std::time::Duration,
            retry: $crate::Backoff,
        }

        /// A held lock. Released on [`LockGuard::release`] or, best effort, on drop. Owns
        /// the connection it was taken with (a pooled or cloned one works well).
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
            pub fn new(key: impl Into<String>, ttl: std::time::Duration) -> Lock {
                Lock {
                    key: key.into(),
                    ttl,
                    retry: $crate::Backoff {
                        base: std::time::Duration::from_millis(2),
                        cap: std::time::Duration::from_millis(50),
                        max_retries: u32::MAX,
                    },
                }
            }

            /// The key holding the lock.
            pub fn key(&self) -> &str {
                &self.key
            }

            /// Tries once; `Error::Lock(NotAcquired)` when another holder has it.
            pub async fn try_acquire<C: ConnectionLike $($bound)*>(
                &self,
                mut con: C,
            ) -> $crate::Result<LockGuard<C>> {
                let token = $crate::lock::new_token();
                if self.set_nx(&mut con, &token).await? {
                    Ok(self.guard(con, token))
                } else {
                    Err($crate::Error::Lock($crate::LockErrorKind::NotAcquired))
                }
            }

            /// Waits up to `timeout` for the lock, polling with jittered backoff;
            /// `Error::Lock(NotAcquired)` when the time runs out.
            pub async fn acquire<C: ConnectionLike $($bound)*>(
                &self,
                mut con: C,
                timeout: std::time::Duration,
            ) -> $crate::Result<LockGuard<C>> {
                let deadline = std::time::Instant::now() + timeout;
                let token = $crate::lock::new_token();
                let mut delays = self.retry.delays();
                loop {
                    if self.set_nx(&mut con, &token).await? {
                        return Ok(self.guard(con, token));
                    }
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        return Err($crate::Error::Lock($crate::LockErrorKind::NotAcquired));
                    }
                    let pause = delays.next().unwrap_or(self.retry.cap);
                    sleep(pause.min(left)).await;
                }
            }

            async fn set_nx<C: ConnectionLike>(
                &self,
                con: &mut C,
                token: &str,
            ) -> $crate::Result<bool> {
                $crate::lock::acquire_cmd(&self.key, token, self.ttl)
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
}
