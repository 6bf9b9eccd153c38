//! The follower task: listens to the sentinels and runs the periodic check.
//!
//! One task per client, started with its first connection. It keeps pub/sub connections
//! to the sentinels ([`sentinels_to_follow`]: every known one by default, at least two),
//! subscribed to the event channels the client acts on (`+switch-master`,
//! `+selected-slave`, `+sdown`, ...), and hands every frame to the source, which asks the
//! shared [`Follower`](crate::Follower) / [`ReplicaSet`](crate::ReplicaSet) what it means. When
//! nothing arrives before the periodic check is due, it runs the check (a discovery) and
//! waits for it, so checks never pile up.
//!
//! A subscription that ends (sentinel gone, connection cut) is replaced by one to another
//! sentinel, and the sentinels are asked at once (an event may have been lost with it); a
//! sentinel that could not be followed rests for a while before it is tried again. The task holds the source weakly and is aborted when the source is dropped;
//! its subscriptions end with it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use redis_async::Client;
use redis_core::{Addr, Error, Msg};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::Sentinels;
use crate::follow::sentinels_to_follow;
use crate::replies::EVENT_CHANNELS;

/// How long a sentinel that could not be followed is left alone.
const REST: Duration = Duration::from_secs(1);

/// What a source does with what the follower hears.
pub(crate) trait Followed: Send + Sync + 'static {
    /// A frame from a sentinel subscription.
    fn on_message(&self, msg: &Msg);

    /// When the periodic check is due next.
    fn next_check(&self, now: Instant) -> Instant;

    /// Runs the periodic check with the sentinels.
    fn tick(self: Arc<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// Starts the follower task of `source`, subscribed on `followed` sentinels (when that many
/// are known); abort it with the returned handle.
pub(crate) fn start<S: Followed>(
    source: Weak<S>,
    sentinels: Arc<Sentinels>,
    followed: usize,
) -> tokio::task::AbortHandle {
    tokio::spawn(run(source, sentinels, followed)).abort_handle()
}

async fn run<S: Followed>(source: Weak<S>, sentinels: Arc<Sentinels>, followed: usize) {
    let mut subs = Subscriptions::new(sentinels, followed);
    loop {
        subs.top_up();
        let Some(due) = source.upgrade().map(|s| s.next_check(Instant::now())) else {
            return;
        };
        let heard = subs.next(due).await;
        let Some(s) = source.upgrade() else { return };
        match heard {
            Heard::Message(msg) => s.on_message(&msg),
            // A lost subscription may have hidden an event: ask now, as when the check is due.
            Heard::Lost | Heard::Due => s.tick().await,
        }
    }
}

/// What a subscription task reports.
enum Note {
    Message(Msg),
    /// The subscription to this sentinel could not be made (`false`) or ended (`true`).
    Ended(Addr, bool),
}

/// What the follower heard.
enum Heard {
    Message(Msg),
    /// A subscription that worked ended.
    Lost,
    /// Nothing before the check was due.
    Due,
}

/// The sentinel subscriptions of one follower.
struct Subscriptions {
    sentinels: Arc<Sentinels>,
    /// How many sentinels to follow.
    want: usize,
    tx: mpsc::Sender<Note>,
    rx: mpsc::Receiver<Note>,
    followed: Vec<Addr>,
    /// Sentinels that could not be followed, and since when.
    resting: Vec<(Addr, Instant)>,
    /// The subscription tasks; dropping the set aborts them.
    tasks: JoinSet<()>,
}

impl Subscriptions {
    fn new(sentinels: Arc<Sentinels>, want: usize) -> Subscriptions {
        let (tx, rx) = mpsc::channel(64);
        Subscriptions {
            sentinels,
            want,
            tx,
            rx,
            followed: Vec::new(),
            resting: Vec::new(),
            tasks: JoinSet::new(),
        }
    }

    /// Subscribes to more sentinels until enough are followed (resting ones skipped).
    fn top_up(&mut self) {
        while self.tasks.try_join_next().is_some() {}
        let now = Instant::now();
        self.resting
            .retain(|(_, since)| now.saturating_duration_since(*since) < REST);
        let mut skip = self.followed.clone();
        skip.extend(self.resting.iter().map(|(a, _)| a.clone()));
        // Resting sentinels count as followed for the choice, not against the number.
        let want = self.want.saturating_add(self.resting.len());
        let list = self.sentinels.snapshot();
        for addr in sentinels_to_follow(&list, &skip, want) {
            self.followed.push(addr.clone());
            let sentinels = self.sentinels.clone();
            self.tasks
                .spawn(subscribe(sentinels, addr, self.tx.clone()));
        }
    }

    /// The next frame heard, a lost subscription, or `Due` once `due` has passed.
    async fn next(&mut self, due: Instant) -> Heard {
        let due = tokio::time::Instant::from_std(due);
        loop {
            match tokio::time::timeout_at(due, self.rx.recv()).await {
                Ok(Some(Note::Message(msg))) => return Heard::Message(msg),
                Ok(Some(Note::Ended(addr, worked))) => {
                    self.followed.retain(|a| a != &addr);
                    self.resting.push((addr, Instant::now()));
                    self.top_up();
                    if worked {
                        return Heard::Lost;
                    }
                }
                // `self.tx` keeps the channel open; a timeout is the check's turn.
                Ok(None) | Err(_) => return Heard::Due,
            }
        }
    }
}

/// Follows one sentinel: subscribes (bounded by the per-sentinel limit), forwards every
/// frame, and reports when the subscription fails or ends.
async fn subscribe(sentinels: Arc<Sentinels>, addr: Addr, tx: mpsc::Sender<Note>) {
    let opened = tokio::time::timeout(sentinels.timeout, async {
        let client = Client::open(sentinels.config_for(&addr))?;
        let mut pubsub = client.get_pubsub().await?;
        pubsub.subscribe(&EVENT_CHANNELS[..]).await?;
        Ok::<_, Error>(pubsub)
    })
    .await;
    let worked = matches!(opened, Ok(Ok(_)));
    if let Ok(Ok(mut pubsub)) = opened {
        while let Some(item) = pubsub.next_message().await {
            // A lag report is not a frame; the periodic check covers what was dropped.
            if let Ok(msg) = item {
                if tx.send(Note::Message(msg)).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = tx.send(Note::Ended(addr, worked)).await;
}
