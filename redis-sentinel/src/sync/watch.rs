//! The follower thread of a Sentinel client: sentinel events and the periodic check.
//!
//! One thread per client subscribes to `+switch-master`, `+sdown` and `-sdown` on at least
//! two sentinels (a dead or partitioned sentinel must not hide a switch), hands every event
//! to the client's source, replaces subscriptions that end, and runs the periodic check
//! in case every event was missed. It holds the source only weakly: when the last client
//! handle (and pool) is dropped, it notices within one poll and ends.

use std::sync::{Arc, Weak};
use std::thread;
use std::time::{Duration, Instant};

use redis_core::{Addr, Msg};
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
    fn sentinels(&self) -> &Sentinels;
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

fn run<F: Followed>(weak: Weak<F>) {
    let mut subs: Vec<(Addr, PubSub)> = Vec::new();
    let mut last_try: Option<Instant> = None;
    loop {
        let Some(source) = weak.upgrade() else {
            return;
        };
        let want = source.follow_count();
        if subs.len() < want && last_try.is_none_or(|t| t.elapsed() >= RESUBSCRIBE_EVERY) {
            last_try = Some(Instant::now());
            let have: Vec<Addr> = subs.iter().map(|(a, _)| a.clone()).collect();
            let list = source.sentinels().list();
            let mut added = false;
            for addr in sentinels_to_follow(&list, &have, want) {
                if let Ok(sub) = source.sentinels().subscribe(&addr) {
                    subs.push((addr, sub));
                    added = true;
                }
            }
            if added {
                source.missed();
            }
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
