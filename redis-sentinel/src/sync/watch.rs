//! The follower thread of a Sentinel client: sentinel events and the periodic check.
//!
//! One thread per client subscribes to `+switch-master`, `+sdown` and `-sdown` on at least
//! two sentinels (a dead or partitioned sentinel must not hide a switch), hands every event
//! to the client's source, replaces subscriptions that end, and runs the periodic check
//! in case every event was missed. It holds the source only weakly: when the last client
//! handle (and pool) is dropped, it notices within one poll and ends. Subscribing is done
//! on short-lived helper threads, so a frozen sentinel (which accepts the connection and
//! never answers) costs its timeout there, not a delay in handling the others' events.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Weak};
use std::thread;
use std::time::{Duration, Instant};

use redis_core::{Addr, Msg, Result};
use redis_sync::PubSub;

use super::asker::Sentinels;
use crate::follow::sentinels_to_follow;

/// How long one round over the subscriptions waits for events: bounds how late the thread
/// notices that the client is gone.
const POLL: Duration = Duration::from_millis(100);

/// How often a missing subscription is tried again.
const RESUBSCRIBE_EVERY: Duration = Duration::from_secs(1);

/// What the follower thread drives.
pub(crate) trait Followed: Send + Sync + 'static {
    /// The sentinels to subscribe to.
    fn sentinels(&self) -> &Arc<Sentinels>;
    /// How many sentinels to follow (at least two when there are two).
    fn follow_count(&self) -> usize;
    /// A frame from a subscription.
    fn on_event(&self, msg: &Msg);
    /// A subscription ended or was (re)made: events may have been missed, check now.
    fn missed(&self);
    /// Called once per poll: runs the periodic check when it is due.
    fn periodic(&self);
}

/// Starts the follower thread of `source`.
pub(crate) fn spawn<F: Followed>(source: &Arc<F>, name: &str) -> std::io::Result<()> {
    let weak = Arc::downgrade(source);
    thread::Builder::new()
        .name(format!("sentinel-follow-{name}"))
        .spawn(move || run(weak))
        .map(|_| ())
}

/// A subscription made (or not) on a helper thread.
type Subscribed = (Addr, Result<PubSub>);

fn run<F: Followed>(weak: Weak<F>) {
    let mut subs: Vec<(Addr, PubSub)> = Vec::new();
    let mut pending: Vec<Addr> = Vec::new();
    let (done_tx, done_rx): (Sender<Subscribed>, Receiver<Subscribed>) = channel();
    let mut last_try: Option<Instant> = None;
    loop {
        let Some(source) = weak.upgrade() else {
            return;
        };
        let want = source.follow_count();
        if subs.len() + pending.len() < want
            && last_try.is_none_or(|t| t.elapsed() >= RESUBSCRIBE_EVERY)
        {
            last_try = Some(Instant::now());
            let have: Vec<Addr> = subs
                .iter()
                .map(|(a, _)| a.clone())
                .chain(pending.iter().cloned())
                .collect();
            let list = source.sentinels().list();
            for addr in sentinels_to_follow(&list, &have, want) {
                let (sentinels, tx) = (source.sentinels().clone(), done_tx.clone());
                pending.push(addr.clone());
                let spawned = thread::Builder::new()
                    .name("sentinel-subscribe".to_owned())
                    .spawn(move || {
                        let sub = sentinels.subscribe(&addr);
                        let _ = tx.send((addr, sub));
                    });
                if spawned.is_err() {
                    pending.pop();
                }
            }
        }
        let mut added = false;
        while let Ok((addr, sub)) = done_rx.try_recv() {
            pending.retain(|a| a != &addr);
            if let Ok(sub) = sub {
                subs.push((addr, sub));
                added = true;
            }
        }
        if added {
            source.missed();
        }
        if subs.is_empty() {
            source.periodic();
            drop(source);
            thread::sleep(POLL);
            continue;
        }
        let each = POLL / subs.len() as u32;
        let before = subs.len();
        subs.retain_mut(|(_, sub)| match sub.get_message(each) {
            Ok(Some(msg)) => {
                source.on_event(&msg);
                true
            }
            Ok(None) => true,
            Err(_) => false,
        });
        if subs.len() < before {
            source.missed();
        }
        source.periodic();
    }
}
