//! Where the handshake gets its user name and password.
//!
//! The handshake never reads a password from the config directly; it asks a
//! [`CredentialsProvider`]. A static user/password is the default provider. Rotating tokens
//! (cloud managed identities) are another provider that hands out the newest token, so the
//! handshake and re-authentication need no change when credentials start to rotate.
//!
//! A rotating provider also hands out a [`Rotation`]: a generation counter it bumps when
//! new credentials are in place (and a failure counter for refreshes that failed), which
//! blocking connections read with one atomic load before each request and async ones
//! await as a future. [`AuthWatch`] is one connection's record of what it authenticated
//! with; [`RotatingCredentials`] (set by the application) and [`TokenProvider`] (a
//! background refresh of short-lived tokens) are the two ready-made rotating providers.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::cmd::{cmd, Cmd};
use crate::error::Result;

mod token;
pub use token::{Token, TokenOptions, TokenProvider};

/// A secret string (password, token). Never printed by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A user name (optional: `default` when absent) and a password or token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// ACL user; `None` authenticates the `default` user (`requirepass`).
    pub username: Option<String>,
    /// Password or token.
    pub password: Secret,
}

/// Supplies the credentials the handshake sends.
///
/// Called once per handshake and on each re-authentication. It must return quickly and
/// not block on I/O: a provider that fetches tokens refreshes them in the background
/// ([`TokenProvider`]) and returns the latest one here.
///
/// A provider whose credentials change (rotated passwords, short-lived tokens) also
/// returns a [`Rotation`] from [`rotation`](Self::rotation) and bumps it whenever new
/// credentials are in place (and reports refresh failures on it): every connection opened
/// with it then re-authenticates with `AUTH` at its next safe point, without a reconnect.
/// The default is a static provider: no rotation, nothing watched, no cost.
pub trait CredentialsProvider: Send + Sync + fmt::Debug {
    /// The credentials to use now, or `None` for no authentication.
    fn credentials(&self) -> Result<Option<Credentials>>;

    /// The signal that says when [`credentials`](Self::credentials) changed or a refresh
    /// failed; `None` (the default) for credentials that never change.
    fn rotation(&self) -> Option<Rotation> {
        None
    }
}

/// The default provider: fixed credentials from the URL or config (or none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StaticCredentials(pub Option<Credentials>);

impl CredentialsProvider for StaticCredentials {
    fn credentials(&self) -> Result<Option<Credentials>> {
        Ok(self.0.clone())
    }
}

/// A shared provider, as stored in the connection config.
pub type SharedCredentials = Arc<dyn CredentialsProvider>;

/// A snapshot of a [`Rotation`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RotationState {
    /// How many times new credentials were published (0 = the first ones).
    pub generation: u64,
    /// How many refreshes failed so far.
    pub failures: u64,
    /// The text of the last failure (never a secret), if any.
    pub last_error: Option<String>,
}

#[derive(Default)]
struct RotationInner {
    /// Bumped on every change of `state` (new credentials or a failure): the one atomic
    /// load a connection makes before a request.
    version: AtomicU64,
    state: Mutex<RotationState>,
    /// The futures waiting, by registration number.
    wakers: Mutex<Vec<(u64, Waker)>>,
    /// Hands out registration numbers.
    registrations: AtomicU64,
}

/// A watch that a rotating [`CredentialsProvider`] bumps when its credentials change or
/// a refresh fails. Cheap to clone (all clones are the same watch); no runtime needed.
///
/// Blocking code reads [`version`](Self::version) (one atomic load) and compares it with
/// the last one it saw; async code awaits [`changed`](Self::changed).
///
/// ```
/// use redis_core::credentials::Rotation;
/// let r = Rotation::new();
/// let seen = r.version();
/// r.rotated();
/// assert_ne!(r.version(), seen);
/// assert_eq!(r.state().generation, 1);
/// r.failed("token endpoint said 503");
/// assert_eq!(r.state().failures, 1);
/// ```
#[derive(Clone, Default)]
pub struct Rotation {
    inner: Arc<RotationInner>,
}

impl fmt::Debug for Rotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rotation")
            .field("version", &self.version())
            .finish()
    }
}

impl Rotation {
    /// A new watch at version 0.
    pub fn new() -> Rotation {
        Rotation::default()
    }

    /// Changes with every [`rotated`](Self::rotated) and [`failed`](Self::failed) call.
    #[inline]
    pub fn version(&self) -> u64 {
        self.inner.version.load(Ordering::Acquire)
    }

    /// The generation of the credentials and the failures so far.
    pub fn state(&self) -> RotationState {
        lock(&self.inner.state).clone()
    }

    /// Says that new credentials are in place: every connection re-authenticates.
    pub fn rotated(&self) {
        self.update(|s| s.generation += 1);
    }

    /// Reports a failed refresh (the text must not contain a secret); connections keep
    /// their current credentials and the clients emit a `CredentialsFailed` event.
    pub fn failed(&self, error: impl fmt::Display) {
        let text = error.to_string();
        self.update(|s| {
            s.failures += 1;
            s.last_error = Some(text);
        });
    }

    fn update(&self, f: impl FnOnce(&mut RotationState)) {
        {
            let mut s = lock(&self.inner.state);
            f(&mut s);
            self.inner.version.fetch_add(1, Ordering::AcqRel);
        }
        for (_, w) in std::mem::take(&mut *lock(&self.inner.wakers)) {
            w.wake();
        }
    }

    /// A future that completes once the version differs from `seen` (at once if it
    /// already does). Works on any executor (plain std wakers).
    pub fn changed(&self, seen: u64) -> Changed {
        Changed {
            rotation: self.clone(),
            seen,
            registered: None,
        }
    }
}

/// The future of [`Rotation::changed`]; outputs the new version.
#[derive(Debug)]
pub struct Changed {
    rotation: Rotation,
    seen: u64,
    /// Its registration in the rotation's list and the waker it holds: polling again
    /// from the same task costs one atomic load, no lock (a driver polls this on every
    /// wake-up). The entry leaves the list when the rotation wakes it or this is dropped.
    registered: Option<(u64, Waker)>,
}

impl Future for Changed {
    type Output = u64;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        let v = self.rotation.version();
        if v != self.seen {
            return Poll::Ready(v);
        }
        if self
            .registered
            .as_ref()
            .is_some_and(|(_, w)| w.will_wake(cx.waker()))
        {
            return Poll::Pending;
        }
        let inner = &self.rotation.inner;
        let id = match &self.registered {
            Some((id, _)) => *id,
            None => inner.registrations.fetch_add(1, Ordering::Relaxed),
        };
        let waker = cx.waker().clone();
        {
            let mut wakers = lock(&inner.wakers);
            wakers.retain(|(i, _)| *i != id);
            wakers.push((id, waker.clone()));
        }
        self.registered = Some((id, waker));
        // A change between the first load and the registration woke nobody: look again.
        let v = self.rotation.version();
        if v != self.seen {
            Poll::Ready(v)
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Changed {
    /// Takes its waker out of the rotation's list, so connections that come and go
    /// between two rotations leave nothing behind.
    fn drop(&mut self) {
        if let Some((id, _)) = self.registered.take() {
            lock(&self.rotation.inner.wakers).retain(|(i, _)| *i != id);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section is a few plain assignments: a poisoned lock is still valid.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a connection must do at its next safe point, from [`AuthWatch::due`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AuthDue {
    /// New credentials were published since this connection authenticated: send `AUTH`.
    pub reauth: bool,
    /// Refresh failures seen so far, and the last one's text, when they changed.
    pub failure: Option<(u64, String)>,
}

/// One connection's view of a rotating provider: which credentials it authenticated with.
/// Static providers have none, so connections pay nothing for rotation they do not use.
#[derive(Clone, Debug)]
pub struct AuthWatch {
    provider: SharedCredentials,
    rotation: Rotation,
    seen_version: u64,
    generation: u64,
    failures: u64,
    /// Between `MULTI` and `EXEC`/`DISCARD`: an `AUTH` now would be queued into the
    /// transaction, so re-authentication waits for its end.
    in_multi: bool,
}

impl AuthWatch {
    /// The watch for a connection about to run its handshake with `provider` (made before
    /// the handshake asks for credentials, so a change during it is noticed afterwards);
    /// `None` when the provider does not rotate.
    pub fn new(provider: &SharedCredentials) -> Option<AuthWatch> {
        let rotation = provider.rotation()?;
        let seen_version = rotation.version();
        let s = rotation.state();
        Some(AuthWatch {
            provider: provider.clone(),
            rotation,
            seen_version,
            generation: s.generation,
            failures: s.failures,
            in_multi: false,
        })
    }

    /// True while nothing changed since the last look (one atomic load).
    #[inline]
    pub fn is_current(&self) -> bool {
        self.rotation.version() == self.seen_version
    }

    /// True when the connection should look at [`due`](Self::due) before its next
    /// request: something changed and it is not inside a `MULTI` block.
    #[inline]
    pub fn should_look(&self) -> bool {
        !self.in_multi && !self.is_current()
    }

    /// Follows `MULTI` ... `EXEC`/`DISCARD`/`RESET` in the commands a connection sends
    /// (one call per command written), so no `AUTH` lands inside a transaction.
    pub fn note_sent(&mut self, cmd: &Cmd) {
        let Some(name) = cmd.arg_at(0) else {
            return;
        };
        if name.eq_ignore_ascii_case(b"MULTI") {
            self.in_multi = true;
        } else if [&b"EXEC"[..], b"DISCARD", b"RESET"]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n))
        {
            self.in_multi = false;
        }
    }

    /// What changed since the last look; marks it seen.
    pub fn due(&mut self) -> AuthDue {
        self.seen_version = self.rotation.version();
        let s = self.rotation.state();
        let reauth = s.generation != self.generation;
        self.generation = s.generation;
        let failure =
            (s.failures != self.failures).then(|| (s.failures, s.last_error.unwrap_or_default()));
        self.failures = s.failures;
        AuthDue { reauth, failure }
    }

    /// The rotation version seen at the last look (for [`Rotation::changed`]).
    pub fn seen_version(&self) -> u64 {
        self.seen_version
    }

    /// The rotation watched.
    pub fn rotation(&self) -> &Rotation {
        &self.rotation
    }

    /// The `AUTH` command for the provider's current credentials (`None`: the provider
    /// has none, so there is nothing to send).
    pub fn auth_command(&self) -> Result<Option<Cmd>> {
        Ok(self.provider.credentials()?.as_ref().map(auth_command))
    }
}

/// `AUTH [user] password` for `c` (`AUTH password` for the default user, the only form
/// servers before 6 know).
pub fn auth_command(c: &Credentials) -> Cmd {
    let user = c.username.as_deref().filter(|u| *u != "default");
    let mut auth = cmd("AUTH");
    auth.arg(user).arg(c.password.expose());
    auth
}

/// Credentials the application replaces itself (a rotated ACL password pushed by a
/// secrets manager): [`set`](Self::set) publishes new ones and every connection
/// re-authenticates with them.
///
/// ```
/// use redis_core::credentials::{Credentials, CredentialsProvider, RotatingCredentials, Secret};
/// let p = RotatingCredentials::new(Some(Credentials {
///     username: Some("app".into()),
///     password: Secret::new("v1"),
/// }));
/// let seen = p.rotation().map(|r| r.version());
/// p.set_password("v2");
/// assert_ne!(p.rotation().map(|r| r.version()), seen);
/// assert_eq!(p.credentials()?.unwrap().password.expose(), "v2");
/// # Ok::<(), redis_core::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct RotatingCredentials {
    current: Mutex<Option<Credentials>>,
    rotation: Rotation,
}

impl RotatingCredentials {
    /// Starts with `initial`.
    pub fn new(initial: Option<Credentials>) -> RotatingCredentials {
        RotatingCredentials {
            current: Mutex::new(initial),
            rotation: Rotation::new(),
        }
    }

    /// Publishes new credentials.
    pub fn set(&self, credentials: Option<Credentials>) {
        *lock(&self.current) = credentials;
        self.rotation.rotated();
    }

    /// Publishes a new password for the same user.
    pub fn set_password(&self, password: &str) {
        {
            let mut c = lock(&self.current);
            let username = c.as_ref().and_then(|c| c.username.clone());
            *c = Some(Credentials {
                username,
                password: Secret::new(password),
            });
        }
        self.rotation.rotated();
    }

    /// Reports a failure to obtain new credentials (see [`Rotation::failed`]).
    pub fn report_failure(&self, error: impl fmt::Display) {
        self.rotation.failed(error);
    }
}

impl CredentialsProvider for RotatingCredentials {
    fn credentials(&self) -> Result<Option<Credentials>> {
        Ok(lock(&self.current).clone())
    }

    fn rotation(&self) -> Option<Rotation> {
        Some(self.rotation.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn changed_wakes_once_per_change_and_auth_watch_sees_what_changed() {
        let p: SharedCredentials = Arc::new(RotatingCredentials::new(Some(Credentials {
            username: Some("u".into()),
            password: Secret::new("one"),
        })));
        assert!(
            AuthWatch::new(&(Arc::new(StaticCredentials(None)) as SharedCredentials)).is_none()
        );
        let mut watch = AuthWatch::new(&p).unwrap();
        assert!(watch.is_current());
        let rotation = watch.rotation().clone();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let mut fut = rotation.changed(rotation.version());
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending()); // registered once
        assert_eq!(lock(&rotation.inner.wakers).len(), 1);
        rotation.failed("vault sealed");
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(Pin::new(&mut fut).poll(&mut cx).is_ready());
        assert!(!watch.is_current());
        let mut pending = rotation.changed(rotation.version());
        assert!(Pin::new(&mut pending).poll(&mut cx).is_pending());
        assert_eq!(lock(&rotation.inner.wakers).len(), 1);
        drop(pending);
        assert!(
            lock(&rotation.inner.wakers).is_empty(),
            "a dropped future leaves no waker"
        );
        let due = watch.due();
        assert_eq!(
            due,
            AuthDue {
                reauth: false,
                failure: Some((1, "vault sealed".into()))
            }
        );
        assert!(watch.is_current());
        rotation.rotated();
        assert_eq!(
            watch.due(),
            AuthDue {
                reauth: true,
                failure: None
            }
        );
        let auth = watch.auth_command().unwrap().unwrap();
        let args: Vec<&[u8]> = auth.args().collect();
        assert_eq!(args, [&b"AUTH"[..], b"u", b"one"]);
        rotation.rotated();
        watch.note_sent(&cmd("multi"));
        assert!(!watch.should_look(), "no AUTH inside MULTI");
        watch.note_sent(&cmd("EXEC"));
        assert!(watch.should_look());
    }
}
