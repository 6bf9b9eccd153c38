//! Short-lived tokens (cloud managed identities, OAuth): fetched in the background before
//! they expire, so connections always have a valid one to re-authenticate with.
//!
//! A std thread runs the user's blocking fetch: at `refresh_at` of a token's lifetime it
//! asks for the next one; a failed fetch is reported on the [`Rotation`] and retried with
//! exponential backoff and full jitter ([`Backoff`]) while the old token stays in use until
//! it expires. The thread stops when the provider is dropped.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{lock, Credentials, CredentialsProvider, Rotation};
use crate::backoff::Backoff;
use crate::error::{Error, Result};

/// A token and when it stops being accepted.
#[derive(Clone, Debug)]
pub struct Token {
    /// The user name and the token (as the password).
    pub credentials: Credentials,
    /// When the server stops accepting it.
    pub expires_at: Instant,
}

impl Token {
    /// A token valid for `lifetime` from now.
    pub fn valid_for(credentials: Credentials, lifetime: Duration) -> Token {
        Token {
            credentials,
            expires_at: Instant::now() + lifetime,
        }
    }
}

/// When and how [`TokenProvider`] refreshes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TokenOptions {
    /// The fraction of a token's lifetime after which the next one is fetched (default
    /// 0.75; clamped to 0.05..=0.95).
    pub refresh_at: f64,
    /// Delays between failed fetches (full jitter; `max_retries` is ignored: fetching
    /// goes on until it succeeds or the provider is dropped). Default: 100 ms base, 10 s cap.
    pub backoff: Backoff,
}

impl Default for TokenOptions {
    fn default() -> Self {
        TokenOptions {
            refresh_at: 0.75,
            backoff: Backoff {
                base: Duration::from_millis(100),
                cap: Duration::from_secs(10),
                max_retries: u32::MAX,
            },
        }
    }
}

/// A rotating [`CredentialsProvider`] over a user-supplied blocking token fetch.
///
/// ```
/// use std::time::Duration;
/// use redis_core::credentials::{Credentials, CredentialsProvider, Secret, Token, TokenOptions, TokenProvider};
///
/// let mut n = 0;
/// let provider = TokenProvider::start(TokenOptions::default(), move || {
///     n += 1; // ask the identity service here
///     Ok(Token::valid_for(
///         Credentials { username: Some("app".into()), password: Secret::new(format!("tok{n}")) },
///         Duration::from_secs(3600),
///     ))
/// })?;
/// assert_eq!(provider.credentials()?.unwrap().password.expose(), "tok1");
/// # Ok::<(), redis_core::Error>(())
/// ```
pub struct TokenProvider {
    shared: Arc<Shared>,
}

struct Shared {
    current: Mutex<Token>,
    rotation: Rotation,
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProvider")
            .field("rotation", &self.shared.rotation)
            .finish()
    }
}

impl TokenProvider {
    /// Fetches the first token now (failures are retried with the backoff, up to 3
    /// times; then the error is returned), and starts the refresh thread.
    pub fn start<F>(options: TokenOptions, mut fetch: F) -> Result<TokenProvider>
    where
        F: FnMut() -> std::result::Result<Token, String> + Send + 'static,
    {
        let first = Backoff {
            max_retries: 3,
            ..options.backoff
        };
        let mut delays = first.delays();
        let token = loop {
            match fetch() {
                Ok(t) => break t,
                Err(e) => match delays.next() {
                    Some(d) => std::thread::sleep(d),
                    None => return Err(Error::Credentials(format!("token fetch failed: {e}"))),
                },
            }
        };
        let shared = Arc::new(Shared {
            current: Mutex::new(token),
            rotation: Rotation::new(),
            stopped: Mutex::new(false),
            wake: Condvar::new(),
        });
        let worker = shared.clone();
        std::thread::Builder::new()
            .name("redis-token-refresh".into())
            .spawn(move || worker.refresh_loop(options, &mut fetch))
            .map_err(|e| Error::Credentials(format!("cannot start the refresh thread: {e}")))?;
        Ok(TokenProvider { shared })
    }

    /// When the current token expires.
    pub fn expires_at(&self) -> Instant {
        lock(&self.shared.current).expires_at
    }
}

impl Drop for TokenProvider {
    fn drop(&mut self) {
        *lock(&self.shared.stopped) = true;
        self.shared.wake.notify_all();
    }
}

impl Shared {
    /// Sleeps until `at` or until the provider is dropped (then true).
    fn sleep_until(&self, at: Instant) -> bool {
        let mut stopped = lock(&self.stopped);
        loop {
            if *stopped {
                return true;
            }
            let left = at.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            stopped = match self.wake.wait_timeout(stopped, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    fn refresh_loop(
        &self,
        options: TokenOptions,
        fetch: &mut dyn FnMut() -> std::result::Result<Token, String>,
    ) {
        let fraction = options.refresh_at.clamp(0.05, 0.95);
        let mut obtained = Instant::now();
        loop {
            let expires = lock(&self.current).expires_at;
            let lifetime = expires.saturating_duration_since(obtained);
            let due = obtained + lifetime.mul_f64(fraction).max(Duration::from_millis(10));
            if self.sleep_until(due) {
                return;
            }
            let mut delays = Backoff {
                max_retries: u32::MAX,
                ..options.backoff
            }
            .delays();
            loop {
                // A fetch that panics is a failed fetch, not the end of refreshing.
                let fetched = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&mut *fetch))
                    .unwrap_or_else(|_| Err("the token fetch panicked".into()));
                match fetched {
                    Ok(t) => {
                        obtained = Instant::now();
                        *lock(&self.current) = t;
                        self.rotation.rotated();
                        break;
                    }
                    Err(e) => {
                        self.rotation.failed(format!("token refresh failed: {e}"));
                        let d = delays.next().unwrap_or(options.backoff.cap);
                        if self.sleep_until(Instant::now() + d) {
                            return;
                        }
                    }
                }
            }
        }
    }
}

impl CredentialsProvider for TokenProvider {
    /// The current token while it is valid; after it expired without a successful
    /// refresh, [`Error::Credentials`] with the last failure.
    fn credentials(&self) -> Result<Option<Credentials>> {
        let t = lock(&self.shared.current);
        if Instant::now() < t.expires_at {
            return Ok(Some(t.credentials.clone()));
        }
        let why = self.shared.rotation.state().last_error.unwrap_or_default();
        Err(Error::Credentials(format!(
            "the token expired and no new one was fetched ({why})"
        )))
    }

    fn rotation(&self) -> Option<Rotation> {
        Some(self.shared.rotation.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Secret;

    fn creds(n: u32) -> Credentials {
        Credentials {
            username: None,
            password: Secret::new(format!("t{n}")),
        }
    }

    #[test]
    fn refreshes_early_retries_failures_and_keeps_the_old_token() {
        let mut n = 0;
        let options = TokenOptions {
            refresh_at: 0.5,
            backoff: Backoff {
                base: Duration::from_millis(5),
                cap: Duration::from_millis(20),
                max_retries: 0,
            },
        };
        let p = TokenProvider::start(options, move || {
            n += 1;
            // Fetches 2 and 3 fail, 4 succeeds.
            if n == 2 || n == 3 {
                return Err(format!("endpoint down #{n}"));
            }
            Ok(Token::valid_for(creds(n), Duration::from_millis(400)))
        })
        .unwrap();
        let rotation = p.rotation().unwrap();
        assert_eq!(p.credentials().unwrap().unwrap().password.expose(), "t1");
        let deadline = Instant::now() + Duration::from_secs(10);
        while rotation.state().generation == 0 {
            // The old token is served while the refresh fails (it is still valid).
            assert_eq!(p.credentials().unwrap().unwrap().password.expose(), "t1");
            assert!(Instant::now() < deadline, "no refresh");
            std::thread::sleep(Duration::from_millis(5));
        }
        let s = rotation.state();
        assert_eq!(s.failures, 2);
        assert!(s.last_error.unwrap().contains("endpoint down #3"));
        assert_eq!(p.credentials().unwrap().unwrap().password.expose(), "t4");
        assert!(!format!("{p:?}").contains("t4"));
    }

    #[test]
    fn an_expired_token_is_an_error_and_dropping_stops_the_thread() {
        let mut n = 0;
        let p = TokenProvider::start(TokenOptions::default(), move || {
            n += 1;
            if n > 1 {
                return Err("down".into());
            }
            Ok(Token::valid_for(creds(1), Duration::from_millis(50)))
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(120));
        let e = p.credentials().unwrap_err();
        assert!(matches!(e, Error::Credentials(_)), "{e}");
        assert!(!e.to_string().contains("t1"));
        let weak = Arc::downgrade(&p.shared);
        drop(p);
        let deadline = Instant::now() + Duration::from_secs(15);
        while weak.upgrade().is_some() {
            assert!(Instant::now() < deadline, "the refresh thread kept running");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_fetch_that_panics_is_a_failure_and_refreshing_goes_on() {
        let mut n = 0;
        let options = TokenOptions {
            refresh_at: 0.05,
            backoff: Backoff {
                base: Duration::from_millis(1),
                cap: Duration::from_millis(5),
                max_retries: 0,
            },
        };
        let p = TokenProvider::start(options, move || {
            n += 1;
            assert_ne!(n, 2, "a bug in the user's fetch");
            Ok(Token::valid_for(creds(n), Duration::from_millis(200)))
        })
        .unwrap();
        let rotation = p.rotation().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while rotation.state().generation == 0 {
            assert!(
                Instant::now() < deadline,
                "refreshing stopped after a panic"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(rotation.state().failures, 1);
        // t3 or a later one (refreshing goes on every 10 ms).
        assert_ne!(p.credentials().unwrap().unwrap().password.expose(), "t1");
    }

    #[test]
    fn a_first_fetch_that_keeps_failing_is_an_error() {
        let options = TokenOptions {
            backoff: Backoff {
                base: Duration::from_millis(1),
                cap: Duration::from_millis(2),
                max_retries: 0,
            },
            ..TokenOptions::default()
        };
        let e = TokenProvider::start(options, || Err("no identity".into())).unwrap_err();
        assert!(e.to_string().contains("no identity"));
    }
}
