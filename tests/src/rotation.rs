//! The password rotation the credentials tests drive, and what they count, shared by the
//! standalone (`credentials_rotation.rs`) and cluster/Sentinel (`credentials_ha.rs`) tests.
//!
//! Every [`PERIOD`], the admin adds the next password to the ACL user [`USER`], the
//! provider publishes it, and [`OVERLAP`] later the admin removes the previous one, so a
//! connection that has not re-authenticated by then is refused.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis_core::credentials::{Credentials, RotatingCredentials, Secret};
use redis_core::{Addr, ConnectionEvent};

/// The rotated ACL user.
pub const USER: &str = "rot";
/// One rotation per second for 20 s, as issue 9 asks.
pub const ROTATIONS: usize = 20;
/// Time between rotations.
pub const PERIOD: Duration = Duration::from_millis(1000);
/// How long after publishing a new password the old one is removed.
pub const OVERLAP: Duration = Duration::from_millis(250);
/// Writers under load during a rotation.
pub const WRITERS: usize = 16;

/// A user name and password as a provider hands them out.
pub fn creds(user: &str, password: &str) -> Option<Credentials> {
    Some(Credentials {
        username: Some(user.into()),
        password: Secret::new(password),
    })
}

/// Rotates [`USER`]'s password [`ROTATIONS`] times, one per [`PERIOD`]: `admin` runs one
/// command as the administering user (on every data node, for a cluster or a Sentinel
/// setup), `provider` publishes each new password (`pw1`, `pw2`, ...; the first is `pw0`).
pub fn rotate(admin: &dyn Fn(&[&str]), provider: &RotatingCredentials) {
    for i in 1..=ROTATIONS {
        let started = Instant::now();
        admin(&["ACL", "SETUSER", USER, &format!(">pw{i}")]);
        provider.set_password(&format!("pw{i}"));
        std::thread::sleep(OVERLAP);
        admin(&["ACL", "SETUSER", USER, &format!("<pw{}", i - 1)]);
        std::thread::sleep(PERIOD.saturating_sub(started.elapsed()));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counts connection events by kind, and the nodes that re-authenticated.
#[derive(Default)]
pub struct Tally {
    kinds: Mutex<HashMap<&'static str, u64>>,
    reauthenticated_on: Mutex<HashSet<Addr>>,
}

impl Tally {
    /// Counts `e`.
    pub fn note(&self, e: &ConnectionEvent) {
        let kind = match e {
            ConnectionEvent::Connected { .. } => "connected",
            ConnectionEvent::Disconnected { .. } => "disconnected",
            ConnectionEvent::HandshakeDone { .. } => "handshake_done",
            ConnectionEvent::Reauthenticated { addr } => {
                lock(&self.reauthenticated_on).insert(addr.clone());
                "reauthenticated"
            }
            ConnectionEvent::ReauthFailed { .. } => "reauth_failed",
            ConnectionEvent::CredentialsFailed { .. } => "credentials_failed",
            ConnectionEvent::PubSubResubscribed { .. } => "pubsub_resubscribed",
            ConnectionEvent::MessagesLagged { .. } => "messages_lagged",
            ConnectionEvent::TopologyChanged { .. } => "topology_changed",
            ConnectionEvent::PrimarySwitched { .. } => "primary_switched",
            _ => "other",
        };
        *lock(&self.kinds).entry(kind).or_default() += 1;
    }

    /// How many events of `kind` were counted.
    pub fn get(&self, kind: &str) -> u64 {
        lock(&self.kinds).get(kind).copied().unwrap_or(0)
    }

    /// How many nodes re-authenticated at least once.
    pub fn nodes_reauthenticated(&self) -> usize {
        lock(&self.reauthenticated_on).len()
    }

    /// The counts, sorted by kind, for a printed figure.
    pub fn show(&self) -> String {
        let mut v: Vec<_> = lock(&self.kinds).clone().into_iter().collect();
        v.sort();
        format!("{v:?}")
    }
}

/// What the writers and the subscriber saw during a rotation.
#[derive(Default)]
pub struct Figures {
    /// Requests sent.
    pub requests: AtomicU64,
    /// Every error that reached a caller.
    pub errors: Mutex<Vec<String>>,
    /// Per writer: how many of its messages were published (`w<writer>:<n>`, n from 0).
    pub published: Vec<AtomicU64>,
}

/// Whether a subscriber must see each writer's messages in order (one server), or only
/// see each of them (a cluster: messages published on other nodes reach the subscriber's
/// node over different bus links).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// In order per writer.
    PerWriter,
    /// Each message once, in any order.
    Any,
}

impl Figures {
    /// Figures for [`WRITERS`] writers.
    pub fn new() -> Arc<Figures> {
        Arc::new(Figures {
            published: (0..WRITERS).map(|_| AtomicU64::new(0)).collect(),
            ..Figures::default()
        })
    }

    /// Records an error that reached a caller.
    pub fn error(&self, e: impl std::fmt::Display) {
        lock(&self.errors).push(e.to_string());
    }

    /// A writer's request (SET then PUBLISH) ended with `r`; false when the writer stops.
    pub fn done(&self, w: usize, n: &mut u64, r: Result<(), redis_core::Error>) -> bool {
        self.requests.fetch_add(2, Ordering::SeqCst);
        match r {
            Ok(()) => {
                *n += 1;
                self.published[w].store(*n, Ordering::SeqCst);
                true
            }
            Err(e) => {
                // A PUBLISH that failed may not have run: stop counting here.
                self.error(format!("writer {w}: {e}"));
                false
            }
        }
    }

    /// Checks what a subscriber got (`w<writer>:<n>` payloads) against what was
    /// published, prints the figures, asserts no error reached a caller; returns the
    /// number of messages missed (or out of order, with [`Order::PerWriter`]).
    pub fn report(&self, what: &str, received: &[String], tally: &Tally, order: Order) -> u64 {
        let parsed: Vec<(usize, u64)> = received
            .iter()
            .map(|m| {
                let (w, n) = m[1..].split_once(':').expect("a w<writer>:<n> payload");
                (
                    w.parse().expect("a writer number"),
                    n.parse().expect("a message number"),
                )
            })
            .collect();
        let mut published = 0;
        let mut missed = 0;
        for (w, p) in self.published.iter().enumerate() {
            let p = p.load(Ordering::SeqCst);
            published += p;
            missed += match order {
                Order::Any => {
                    let got: HashSet<u64> = parsed
                        .iter()
                        .filter(|(x, _)| *x == w)
                        .map(|(_, n)| *n)
                        .collect();
                    (0..p).filter(|n| !got.contains(n)).count() as u64
                }
                Order::PerWriter => {
                    let got: Vec<u64> = parsed
                        .iter()
                        .filter(|(x, _)| *x == w)
                        .map(|(_, n)| *n)
                        .collect();
                    let in_order = got.iter().zip(0..).filter(|(n, i)| **n == *i).count() as u64;
                    if in_order == p && got.len() as u64 == p {
                        0
                    } else {
                        p.saturating_sub(in_order).max(1)
                    }
                }
            };
        }
        let errors = lock(&self.errors);
        let auth_errors = errors
            .iter()
            .filter(|e| e.contains("NOAUTH") || e.contains("WRONGPASS"))
            .count();
        println!(
            "{what}: {ROTATIONS} rotations, requests {}, errors {} (NOAUTH/WRONGPASS {auth_errors}), \
             messages published {published}, received {}, missed {missed}; events {}",
            self.requests.load(Ordering::SeqCst),
            errors.len(),
            received.len(),
            tally.show(),
        );
        assert!(
            errors.is_empty(),
            "{what}: errors reached callers: {errors:?}"
        );
        missed
    }
}
