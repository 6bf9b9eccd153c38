//! Pub/sub as a `Stream`, on its own connection.
//!
//! One task owns the subscribed connection. The handle sends it (un)subscribe requests and
//! reads messages from a bounded buffer. Subscribing and unsubscribing wait for the
//! server's confirmations (counted by [`redis_core::pubsub::Subscriptions`]), so a message
//! published after `subscribe` returns is never missed and none arrives after
//! `unsubscribe` returns. Both waits are bounded: by the response timeout, plus the
//! reconnect budget when `reconnect` is on; a request whose caller gave up before it was
//! sent is never sent.
//!
//! When the subscriber falls behind and the buffer is full, new messages are dropped and
//! counted, and the count is queued as `Err(Error::Lagged { dropped })` right behind the
//! messages that came before the loss: the reader sees it as soon as it has read those,
//! whether or not anything is published afterwards ([`Overflow::Lag`]); or the stream ends
//! with that error ([`Overflow::Fail`]). Every message is delivered or counted. With
//! `reconnect: true`, a failed connection is replaced with backoff, every subscription is
//! restored, and the stream then yields a [`MsgKind::Resubscribed`] notice (messages
//! published meanwhile are lost); without it, the stream reports the error and ends.
//!
//! When the credentials rotate, the task re-authenticates as soon as no (un)subscribe
//! waits for its confirmation: on RESP3 with `AUTH` on the subscribed link; on RESP2,
//! where a subscribed connection may not send `AUTH`, by a new connection (with the new
//! credentials) that subscribes to everything before the old one leaves (`RESET`), so no
//! message is missed and the ones both received are delivered once
//! ([`redis_core::pubsub::overlap`]).

use std::collections::{BTreeMap, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use redis_core::credentials::Changed;
use redis_core::pubsub::{overlap, Incoming, SubKind, Subscriptions, Ticket};
use redis_core::{cmd, Cmd, ConnectionEvent, Error, Msg, MsgKind, Protocol, Result, ToArgs, Value};
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};

use crate::client::Client;
use crate::dedicated::DedicatedConnection;

/// What happens when the message buffer is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Drop new messages, count them, and report `Error::Lagged` in the stream.
    #[default]
    Lag,
    /// Report `Error::Lagged` and end the stream.
    Fail,
}

/// Options of a pub/sub connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PubSubOptions {
    /// Messages buffered for a slow reader (default 1024).
    pub buffer: usize,
    /// Overflow policy (default: lag events).
    pub overflow: Overflow,
    /// Reconnect and resubscribe after a connection failure (default: no). The stream
    /// then yields a [`MsgKind::Resubscribed`](redis_core::MsgKind::Resubscribed) notice
    /// each time the subscriptions are restored.
    pub reconnect: bool,
}

impl Default for PubSubOptions {
    fn default() -> Self {
        PubSubOptions {
            buffer: 1024,
            overflow: Overflow::Lag,
            reconnect: false,
        }
    }
}

enum Control {
    Subscribe(SubKind, Vec<Vec<u8>>, oneshot::Sender<Result<()>>),
    Unsubscribe(SubKind, Vec<Vec<u8>>, oneshot::Sender<Result<()>>),
}

/// A subscribed connection; also a `Stream` of messages.
#[derive(Debug)]
pub struct PubSub {
    control: mpsc::Sender<Control>,
    messages: mpsc::Receiver<Result<Msg>>,
    /// How long an (un)subscribe waits for its confirmations.
    limit: Duration,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Control")
    }
}

impl PubSub {
    pub(crate) async fn open(client: Client, options: PubSubOptions) -> Result<PubSub> {
        let con = client.get_dedicated_connection().await?;
        let config = client.config();
        let limit = if options.reconnect {
            config
                .response_timeout
                .saturating_add(config.reconnect_budget())
        } else {
            config.response_timeout
        };
        let (control_tx, control_rx) = mpsc::channel(16);
        let (msg_tx, msg_rx) = mpsc::channel(options.buffer.max(1));
        let changed = rotation_of(&con);
        let task = Subscriber {
            changed,
            auth_replies: 0,
            client,
            options,
            con,
            messages: msg_tx,
            outbox: VecDeque::new(),
            subs: Subscriptions::new(),
            acks: BTreeMap::new(),
            restoring: None,
        };
        tokio::spawn(task.run(control_rx));
        Ok(PubSub {
            control: control_tx,
            messages: msg_rx,
            limit,
        })
    }

    async fn control<T: ToArgs>(&self, kind: SubKind, sub: bool, names: T) -> Result<()> {
        let names = names.to_arg_vec();
        if sub && names.is_empty() {
            return Err(Error::InvalidRequest(format!(
                "{} needs at least one name",
                kind.subscribe_command()
            )));
        }
        let (tx, rx) = oneshot::channel();
        let msg = if sub {
            Control::Subscribe(kind, names, tx)
        } else {
            Control::Unsubscribe(kind, names, tx)
        };
        let gone = || Error::Broken("the pub/sub connection is closed".into());
        let exchange = async {
            self.control.send(msg).await.map_err(|_| gone())?;
            rx.await.unwrap_or_else(|_| Err(gone()))
        };
        // Dropping `rx` on timeout tells the task: a request it has not sent yet is skipped.
        tokio::time::timeout(self.limit, exchange)
            .await
            .unwrap_or(Err(Error::Timeout {
                what: "pub/sub confirmation",
                after: self.limit,
            }))
    }

    /// Subscribes to channel(s) and waits until the server confirms each.
    ///
    /// A `Timeout` means the server did not confirm in time; a request already sent may
    /// still take effect (unsubscribe to be sure).
    pub async fn subscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.control(SubKind::Channel, true, channels).await
    }

    /// Subscribes to pattern(s) (`news.*`) and waits for the confirmations.
    pub async fn psubscribe<T: ToArgs>(&mut self, patterns: T) -> Result<()> {
        self.control(SubKind::Pattern, true, patterns).await
    }

    /// Subscribes to shard channel(s) and waits for the confirmations.
    pub async fn ssubscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.control(SubKind::Shard, true, channels).await
    }

    /// Unsubscribes from channel(s) (an empty list means all) and waits until the server
    /// confirms: no message of those channels is published to this connection afterwards.
    pub async fn unsubscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.control(SubKind::Channel, false, channels).await
    }

    /// Unsubscribes from pattern(s) (an empty list means all) and waits for the
    /// confirmations.
    pub async fn punsubscribe<T: ToArgs>(&mut self, patterns: T) -> Result<()> {
        self.control(SubKind::Pattern, false, patterns).await
    }

    /// Unsubscribes from shard channel(s) (an empty list means all) and waits for the
    /// confirmations.
    pub async fn sunsubscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.control(SubKind::Shard, false, channels).await
    }

    /// The next message (or lag report, or resubscription notice), or `None` once the
    /// connection has ended.
    pub async fn next_message(&mut self) -> Option<Result<Msg>> {
        self.messages.recv().await
    }
}

impl futures_core::Stream for PubSub {
    type Item = Result<Msg>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Msg>>> {
        self.get_mut().messages.poll_recv(cx)
    }
}

struct Subscriber {
    client: Client,
    options: PubSubOptions,
    con: DedicatedConnection,
    messages: mpsc::Sender<Result<Msg>>,
    /// Reports that must reach the reader (lag counts, notices, the final error), in
    /// order, ahead of any later message. Holds nothing while the reader keeps up.
    outbox: VecDeque<Result<Msg>>,
    subs: Subscriptions,
    acks: BTreeMap<Ticket, oneshot::Sender<Result<()>>>,
    /// The restore in progress after a reconnect, and how many names it restores.
    restoring: Option<(Ticket, usize)>,
    /// Wakes the task when the credentials rotate (`None`: they never do).
    changed: Option<Changed>,
    /// RESP3 re-authentication `AUTH` replies still to come.
    auth_replies: usize,
}

/// The count of a lag report.
fn lag_of(item: &Result<Msg>) -> Option<u64> {
    match item {
        Err(Error::Lagged { dropped }) => Some(*dropped),
        _ => None,
    }
}

/// The wake-up for the next rotation of `con`'s credentials.
fn rotation_of(con: &DedicatedConnection) -> Option<Changed> {
    con.auth
        .as_ref()
        .map(|a| a.rotation().changed(a.seen_version()))
}

/// Completes when the credentials rotate; never without a rotation to watch.
async fn rotated(changed: &mut Option<Changed>) {
    match changed {
        Some(c) => {
            c.await;
        }
        None => std::future::pending().await,
    }
}

enum Event {
    Control(Option<Control>),
    Frame(Result<Value>),
    /// The reader made room and took the oldest queued report (`false`: it is gone).
    Room(bool),
    /// The credentials rotated.
    Rotated,
}

impl Subscriber {
    async fn run(mut self, mut control: mpsc::Receiver<Control>) {
        loop {
            let outcome = {
                let event = tokio::select! {
                    c = control.recv() => Event::Control(c),
                    f = self.con.read_frame() => Event::Frame(f),
                    p = self.messages.reserve(), if !self.outbox.is_empty() => match p {
                        Ok(permit) => {
                            if let Some(item) = self.outbox.pop_front() {
                                let lagged = lag_of(&item);
                                permit.send(item);
                                self.lagged(lagged);
                            }
                            Event::Room(true)
                        }
                        Err(_) => Event::Room(false),
                    },
                    () = rotated(&mut self.changed), if self.subs.waiting() == 0 => Event::Rotated,
                };
                match event {
                    Event::Control(None) => return, // the handle is gone
                    Event::Control(Some(c)) => self.handle_control(c).await,
                    Event::Frame(Ok(frame)) => self.handle_frame(frame),
                    Event::Frame(Err(e)) => Err(e),
                    Event::Room(true) => {
                        self.flush();
                        Ok(())
                    }
                    Event::Room(false) => return, // the reader is gone
                    Event::Rotated => self.reauthenticate().await,
                }
            };
            if let Err(e) = outcome {
                let lagged = matches!(e, Error::Lagged { .. });
                if lagged || !self.options.reconnect {
                    // A lag failure is already queued as the last report.
                    self.finish((!lagged).then_some(e)).await;
                    return;
                }
                if !self.reconnect().await {
                    return;
                }
            }
        }
    }

    async fn send(&mut self, c: &Cmd) -> Result<()> {
        Ok(self.con.io.write_all(c.packed()).await?)
    }

    async fn handle_control(&mut self, c: Control) -> Result<()> {
        let (kind, sub, names, ack) = match c {
            Control::Subscribe(k, n, a) => (k, true, n, a),
            Control::Unsubscribe(k, n, a) => (k, false, n, a),
        };
        if ack.is_closed() {
            // The caller timed out while the request was queued: never send it.
            return Ok(());
        }
        let (c, ticket) = if sub {
            match self.subs.subscribe(kind, &names) {
                Ok(x) => x,
                Err(e) => {
                    let _ = ack.send(Err(e));
                    return Ok(());
                }
            }
        } else {
            self.subs.unsubscribe(kind, &names)
        };
        self.acks.insert(ticket, ack);
        self.send(&c).await
    }

    /// New credentials (or a provider failure): RESP3 sends `AUTH` on the subscribed
    /// link (its reply becomes an event), RESP2 moves to a new connection.
    async fn reauthenticate(&mut self) -> Result<()> {
        let Some(watch) = &mut self.con.auth else {
            return Ok(());
        };
        let auth = self.client.hooks().take_auth_due(watch, &self.con.addr);
        self.changed = Some(watch.rotation().changed(watch.seen_version()));
        let Some(auth) = auth else {
            return Ok(());
        };
        match self.con.protocol {
            Protocol::Resp3 => {
                self.send(&auth).await?;
                self.auth_replies += 1;
                Ok(())
            }
            Protocol::Resp2 => self.resubscribe().await,
        }
    }

    /// RESP2: moves the subscriptions to a new connection opened with the newest
    /// credentials, without a gap (see the module docs). A new connection that cannot be
    /// opened leaves the old one in place (a `ReauthFailed` event).
    async fn resubscribe(&mut self) -> Result<()> {
        let mut fresh_con = match self.client.get_dedicated_connection().await {
            Ok(c) => c,
            Err(e) => {
                self.client.emit_event(ConnectionEvent::ReauthFailed {
                    addr: self.con.addr.clone(),
                    error: e.to_string(),
                });
                return Ok(());
            }
        };
        if self.subs.is_empty() && self.subs.waiting() == 0 {
            // Nothing subscribed: nothing to carry over.
            self.con = fresh_con;
            self.changed = rotation_of(&self.con);
            self.auth_replies = 0;
            return Ok(());
        }
        let restore = self.subs.restore();
        for c in &restore.commands {
            fresh_con.io.write_all(c.packed()).await?;
        }
        let limit = self.client.config().response_timeout;
        let mut fresh = Vec::new();
        let subs = &mut self.subs;
        let confirmed = tokio::time::timeout(limit, async {
            while subs.is_waiting(restore.ticket) {
                match subs.on_frame(fresh_con.read_frame().await?) {
                    Incoming::Message(m) => fresh.push(m),
                    Incoming::Refused(_, e) => return Err(Error::from(e)),
                    _ => {}
                }
            }
            Ok(())
        })
        .await;
        match confirmed {
            Ok(r) => r?,
            Err(_) => {
                return Err(Error::Timeout {
                    what: "resubscription confirmation",
                    after: limit,
                })
            }
        }
        // Everything the old connection received before it left subscribed mode is
        // ours; `RESET` answers once it has. Gone or silent: what it had is all there is.
        let mut old = Vec::new();
        if self.send(&cmd("RESET")).await.is_ok() {
            let con = &mut self.con;
            let _ = tokio::time::timeout(limit, async {
                while let Ok(frame) = con.read_frame().await {
                    if matches!(&frame, Value::SimpleString(s) if s == "RESET") {
                        break;
                    }
                    if let Some(m) = Msg::from_value(frame).filter(Msg::is_message) {
                        old.push(m);
                    }
                }
            })
            .await;
        }
        // The messages both connections received are on the new one before the answer to
        // a PING sent now (the old one had left by then).
        fresh_con.io.write_all(cmd("PING").packed()).await?;
        let subs = &mut self.subs;
        let ponged = tokio::time::timeout(limit, async {
            loop {
                match subs.on_frame(fresh_con.read_frame().await?) {
                    Incoming::Message(m) => fresh.push(m),
                    Incoming::Other(Some(m)) if m.kind() == &MsgKind::Pong => {
                        return Ok::<(), Error>(())
                    }
                    _ => {}
                }
            }
        })
        .await;
        match ponged {
            Ok(r) => r?,
            Err(_) => {
                return Err(Error::Timeout {
                    what: "PING on the new pub/sub connection",
                    after: limit,
                })
            }
        }
        let skip = overlap(&old, &fresh);
        self.con = fresh_con;
        self.changed = rotation_of(&self.con);
        self.auth_replies = 0;
        self.client.emit_event(ConnectionEvent::PubSubResubscribed {
            addr: self.con.addr.clone(),
            subscriptions: restore.restored,
        });
        for m in old.into_iter().chain(fresh.into_iter().skip(skip)) {
            self.deliver(m)?;
        }
        Ok(())
    }

    fn handle_frame(&mut self, frame: Value) -> Result<()> {
        // RESP3: every pub/sub frame is a push, so anything else answers an AUTH.
        if self.auth_replies > 0 && !matches!(frame, Value::Push(_)) {
            self.auth_replies -= 1;
            self.client.hooks().auth_replied(&self.con.addr, &frame);
            return Ok(());
        }
        match self.subs.on_frame(frame) {
            Incoming::Message(msg) => self.deliver(msg),
            Incoming::Confirmed(done) => {
                for t in done {
                    self.complete(t, Ok(()));
                }
                Ok(())
            }
            Incoming::Refused(failed, e) => {
                for t in failed {
                    self.complete(t, Err(e.clone().into()));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Answers the caller waiting on `t`, or reports the end of a restore in the stream.
    fn complete(&mut self, t: Ticket, r: Result<()>) {
        match self.restoring {
            Some((restore, restored)) if restore == t => {
                self.restoring = None;
                if r.is_ok() {
                    self.client.emit_event(ConnectionEvent::PubSubResubscribed {
                        addr: self.con.addr.clone(),
                        subscriptions: restored,
                    });
                }
                self.outbox
                    .push_back(r.map(|()| Msg::resubscribed(restored)));
                self.flush();
            }
            _ => {
                if let Some(ack) = self.acks.remove(&t) {
                    let _ = ack.send(r);
                }
            }
        }
    }

    /// Moves queued reports into the buffer while it has room.
    fn flush(&mut self) {
        while let Some(item) = self.outbox.pop_front() {
            let lagged = lag_of(&item);
            match self.messages.try_send(item) {
                Ok(()) => self.lagged(lagged),
                Err(mpsc::error::TrySendError::Full(item)) => {
                    self.outbox.push_front(item);
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    self.outbox.clear();
                    return;
                }
            }
        }
    }

    fn deliver(&mut self, msg: Msg) -> Result<()> {
        self.flush();
        if self.outbox.is_empty() {
            match self.messages.try_send(Ok(msg)) {
                Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(_)) => {}
            }
        }
        // Dropped: count it in the lag report at the back of the queue, or start one.
        match self.outbox.back_mut() {
            Some(Err(Error::Lagged { dropped })) => *dropped += 1,
            _ => self.outbox.push_back(Err(Error::Lagged { dropped: 1 })),
        }
        match self.options.overflow {
            Overflow::Lag => Ok(()),
            Overflow::Fail => Err(Error::Lagged { dropped: 1 }),
        }
    }

    /// Ends the stream: fails the waiting callers, then hands the reader every queued
    /// report and `error` (waiting for room: they must not be lost).
    async fn finish(mut self, error: Option<Error>) {
        let why = error.as_ref().map_or_else(
            || "the subscriber fell behind".to_owned(),
            ToString::to_string,
        );
        for (_, ack) in std::mem::take(&mut self.acks) {
            let _ = ack.send(Err(Error::Broken(why.clone())));
        }
        self.outbox.extend(error.map(Err));
        while let Some(item) = self.outbox.pop_front() {
            let lagged = lag_of(&item);
            if self.messages.send(item).await.is_err() {
                return;
            }
            self.lagged(lagged);
        }
    }

    /// A lag report reached the reader: the client's event stream hears of it too.
    fn lagged(&self, dropped: Option<u64>) {
        if let Some(dropped) = dropped {
            self.client.emit_event(ConnectionEvent::MessagesLagged {
                addr: self.con.addr.clone(),
                dropped,
            });
        }
    }

    /// Replaces the connection and restores every subscription. Waiting (un)subscribe
    /// calls are answered, and the `Resubscribed` notice queued, once the server has
    /// confirmed the restore. Retries (with the client's backoff, then pauses of its cap)
    /// until the reader drops the stream; callers are bounded by their own limit.
    async fn reconnect(&mut self) -> bool {
        loop {
            if self.messages.is_closed() {
                return false;
            }
            let con = match self.client.get_dedicated_connection().await {
                Ok(c) => c,
                Err(_) => {
                    tokio::time::sleep(self.client.config().connect_backoff.cap).await;
                    continue;
                }
            };
            self.con = con;
            self.changed = rotation_of(&self.con);
            self.auth_replies = 0;
            let restore = self.subs.restore();
            self.restoring = Some((restore.ticket, restore.restored));
            for t in restore.done_now {
                self.complete(t, Ok(()));
            }
            let mut sent = true;
            for c in &restore.commands {
                if self.send(c).await.is_err() {
                    sent = false;
                    break;
                }
            }
            if sent {
                return true;
            }
        }
    }
}
